"""Part-of-speech groups whose words are code-switched (paper appendix D.3).

Tags are spaCy's coarse Universal POS tags (``token.pos_``). The paper speaks of a ``CONJ`` class; spaCy (UD v2)
splits it into ``CCONJ`` (and, or, but) and ``SCONJ`` (if, because, that). Here ``CONJ`` always means both.

A group is named by a string, case-insensitive:

* a registered name: ``noun``, ``verb``, ``adp``, ``pron`` (single classes of the paper), ``verb+adv``, ``adj+adv``,
  ``pron+aux+conj`` (syntactic-function combinations), ``subject-verb`` (= ``noun+verb``), ``prepositional-phrase``
  (= ``adp+noun``, the paper's best), ``aux+conj`` (one of the paper's worst), ``content`` (NOUN, VERB, ADJ, ADV);
* or any ``+``-joined combination of replaceable classes and of the names above without ``+`` (``adj+noun``,
  ``content+adp``, ``noun+verb+adj``); the order of the parts does not matter.

Numbers, punctuation, symbols and whitespace (NUM, PUNCT, SYM, SPACE, X) can never be part of a group: they are
never replaced. Named entities are excluded token by token (``ent_iob`` B/I), whatever their POS.
"""

from __future__ import annotations

from types import MappingProxyType

# Classes a group may contain (CONJ is expanded below).
REPLACEABLE_CLASSES: frozenset[str] = frozenset(
    {"NOUN", "VERB", "ADJ", "ADV", "PRON", "ADP", "AUX", "CCONJ", "SCONJ", "DET", "PART", "INTJ", "PROPN"}
)
# Classes that are never replaced, whatever the group says.
NEVER_REPLACED_CLASSES: frozenset[str] = frozenset({"NUM", "PUNCT", "SYM", "SPACE", "X"})

# The paper's CONJ is spaCy's CCONJ + SCONJ.
CLASS_ALIASES: MappingProxyType[str, frozenset[str]] = MappingProxyType(
    {
        "CONJ": frozenset({"CCONJ", "SCONJ"}),
        **{c: frozenset({c}) for c in REPLACEABLE_CLASSES},
    }
)

CONTENT_CLASSES: frozenset[str] = frozenset({"NOUN", "VERB", "ADJ", "ADV"})

# Named groups: the paper's (appendix D.3) plus readable aliases.
POS_GROUPS: MappingProxyType[str, frozenset[str]] = MappingProxyType(
    {
        # single classes
        "noun": frozenset({"NOUN"}),
        "verb": frozenset({"VERB"}),
        "adp": frozenset({"ADP"}),
        "pron": frozenset({"PRON"}),
        "adj": frozenset({"ADJ"}),
        "adv": frozenset({"ADV"}),
        "aux": frozenset({"AUX"}),
        "conj": frozenset({"CCONJ", "SCONJ"}),
        # syntactic-function combinations
        "verb+adv": frozenset({"VERB", "ADV"}),
        "adj+adv": frozenset({"ADJ", "ADV"}),
        "pron+aux+conj": frozenset({"PRON", "AUX", "CCONJ", "SCONJ"}),
        "aux+conj": frozenset({"AUX", "CCONJ", "SCONJ"}),
        # key structures
        "subject-verb": frozenset({"NOUN", "VERB"}),
        "noun+verb": frozenset({"NOUN", "VERB"}),
        "prepositional-phrase": frozenset({"ADP", "NOUN"}),
        "adp+noun": frozenset({"ADP", "NOUN"}),
        # all content words
        "content": CONTENT_CLASSES,
    }
)

# The groups studied in the paper, in the order of its appendix D.3 (for ablation sweeps).
PAPER_GROUPS: tuple[str, ...] = (
    "noun",
    "verb",
    "adp",
    "pron",
    "verb+adv",
    "adj+adv",
    "pron+aux+conj",
    "subject-verb",
    "prepositional-phrase",
    "content",
)


def known_groups_text() -> str:
    """A one-line description of the accepted names, for error messages and CLI help."""
    classes = sorted({c.lower() for c in REPLACEABLE_CLASSES} | {"conj"})
    return (
        f"known groups: {', '.join(sorted(POS_GROUPS))}; "
        f"or any '+'-joined combination of these and of the classes {', '.join(classes)}"
    )


def resolve_pos_group(name: str) -> frozenset[str]:
    """The set of spaCy UPOS tags named by ``name`` (see the module docstring).

    Raises ``ValueError`` naming the known groups when ``name`` is unknown, empty, or asks for a class that is
    never replaced (NUM, PUNCT, ...).
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"empty POS group name {name!r}; {known_groups_text()}")
    key = name.strip().lower().replace(" ", "")
    if key in POS_GROUPS:
        return POS_GROUPS[key]
    tags: set[str] = set()
    for part in key.split("+"):
        upper = part.upper()
        if part in POS_GROUPS:
            tags |= POS_GROUPS[part]
        elif upper in CLASS_ALIASES:
            tags |= CLASS_ALIASES[upper]
        elif upper in NEVER_REPLACED_CLASSES:
            raise ValueError(
                f"POS group {name!r} contains {upper}, a class that is never replaced "
                f"({', '.join(sorted(NEVER_REPLACED_CLASSES))}); {known_groups_text()}"
            )
        else:
            raise ValueError(f"unknown POS group {name!r} (unknown part {part!r}); {known_groups_text()}")
    return frozenset(tags)
