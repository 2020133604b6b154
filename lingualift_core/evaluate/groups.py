"""Language groupings for the per-group tables of the evaluation report (paper appendix E.2 and the toy world).

``language_groups(codes, kind)`` maps each language code to its group from the language registry:

- ``family``: language family (``toy`` for every toy language, so it says nothing in the embedded world);
- ``script``: writing system (every toy language has its own);
- ``level``: resource level (low / medium / high);
- ``word_order``: basic word order of toy languages (SVO / SOV / VSO); real languages are ``real``;
- ``paper_group``: the paper's grouping of its low-resource set (Germanic, Slavic, ...; others ``-``);
- ``order_level``: word order and resource level together (``SOV/low``): in the toy world the two properties
  that decide transfer (a verb-final low-resource language is the hardest case).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["GROUP_KINDS", "default_group_kinds", "language_groups"]

GROUP_KINDS: tuple[str, ...] = ("family", "script", "level", "word_order", "paper_group", "order_level")


def language_groups(codes: Iterable[str], kind: str) -> dict[str, str]:
    """``{code: group}`` for ``kind`` (see the module doc); unknown codes raise ``UnknownLanguageError``."""
    from lingualift_core.languages import get_language

    if kind not in GROUP_KINDS:
        raise ValueError(f"unknown grouping {kind!r}; expected one of {', '.join(GROUP_KINDS)}")
    out = {}
    for code in codes:
        lang = get_language(code)
        order = lang.word_order or "real"
        out[code] = {
            "family": lang.family,
            "script": lang.script,
            "level": lang.level,
            "word_order": order,
            "paper_group": lang.paper_group or "-",
            "order_level": f"{order}/{lang.level}",
        }[kind]
    return out


def default_group_kinds(codes: Iterable[str]) -> tuple[str, ...]:
    """The groupings worth reporting for ``codes``: word order and resource level when toy languages are among
    them (their family is always ``toy``), family / script / paper grouping for real languages."""
    from lingualift_core.languages import get_language

    langs = [get_language(code) for code in codes]
    kinds: list[str] = ["level"]
    if any(lang.is_toy for lang in langs):
        kinds += ["word_order", "order_level"]
    if any(not lang.is_toy for lang in langs if lang.code != "en"):
        kinds += ["family", "script", "paper_group"]
    return tuple(kinds)
