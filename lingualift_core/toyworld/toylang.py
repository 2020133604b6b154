"""Toy-language lexicons (seeded) and the frame renderer.

Not a 1:1 cipher of English:
- some content lemmas have two translations (synonyms) picked at random per occurrence;
- some content lemmas are translated by two words (a compound noun/adjective/adverb, or a stem plus the
  language's light verb for verbs: "swim" -> "X do"); inflection goes on the last word;
- some English words have no translation (articles in most languages, the present copula in a zero-copula
  language, English "do"-support, "as" in "as many as", "does" in "than Anna does");
- the toy languages have words with no English counterpart (a yes/no question particle, an object marker);
- nouns inflect for plural, verbs for past and progressive with language-specific suffixes.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass

from .english import CONCEPTS, Concept
from .frames import NP, PP, Clause, Compare, Frame, HowMany
from .specs import PHONOLOGIES, ToyLanguageSpec

__all__ = ["ToyLanguage", "build_toy_language"]

# Concepts every toy language has although English has no word for them.
_TOY_ONLY = ("QP", "OBJ")


@dataclass
class _Entry:
    """Realisations of one concept: per realisation, feature -> tuple of surface words."""

    forms: list[dict[str, tuple[str, ...]]]
    cum: list[float]  # cumulative weights (synonym choice)


class ToyLanguage:
    """A seeded toy language: lexicon, inflection and word order. Render frames with :meth:`render`."""

    def __init__(self, spec: ToyLanguageSpec, entries: dict[str, _Entry]) -> None:
        self.spec = spec
        self._entries = entries
        self._adj_pre = spec.adj_position == "pre"
        self._prep = spec.adposition == "pre"
        self._order = spec.word_order

    # ----------------------------------------------------------------------------------------- lexicon
    def realisations(self, key: str, feature: str = "-") -> list[tuple[str, ...]]:
        """All toy realisations of a concept with a feature (synonyms; multi-word ones as tuples)."""
        entry = self._entries.get(key)
        if entry is None:
            return []
        return [f[feature] for f in entry.forms if f.get(feature)]

    def _w(self, key: str, feature: str, rng: random.Random) -> tuple[str, ...]:
        entry = self._entries[key]
        forms = entry.forms
        if len(forms) == 1:
            return forms[0][feature]
        return forms[bisect.bisect_right(entry.cum, rng.random() * entry.cum[-1])][feature]

    def vocabulary(self) -> list[str]:
        """Every surface word of the language (all synonyms and inflected forms), sorted."""
        words = {w for e in self._entries.values() for f in e.forms for ws in f.values() for w in ws}
        return sorted(words)

    def gold_entries(self) -> list[tuple[str, str, str, str]]:
        """(english form lowercased, toy form, universal POS, concept key) for every translated form."""
        rows: dict[tuple[str, str], tuple[str, str, str, str]] = {}
        for key, concept in CONCEPTS.items():
            entry = self._entries.get(key)
            if entry is None:
                continue
            for feature, en_forms in concept.forms:
                for real in entry.forms:
                    toy = real.get(feature)
                    if not toy:
                        continue
                    for en in en_forms:
                        row = (en.lower(), " ".join(toy), concept.pos, key)
                        rows.setdefault(row[:2], row)
        return list(rows.values())

    # ---------------------------------------------------------------------------------------- rendering
    def _np(self, np: NP, rng: random.Random, acc: bool = False) -> list[str]:
        kind = np.kind
        if kind == "name":
            return [np.head]
        if kind == "pron":
            key = f"PR:{np.head}:acc"
            if not acc or key not in self._entries:
                key = f"PR:{np.head}:nom"
            return list(self._w(key, "-", rng))
        if kind == "coord":
            return self._np(np.parts[0], rng, acc) + list(self._w("C:and", "-", rng)) + self._np(np.parts[1], rng, acc)
        out: list[str] = []
        if np.det is not None:
            out += self._w("D:" + np.det, "-", rng)
        if np.count is not None:
            out.append(str(np.count))
        head = self._w("N:" + np.head, "pl" if np.plural else "sg", rng)
        adjs: list[str] = []
        if np.adjs:
            if np.very:
                adjs += self._w("R:very", "-", rng)
            for adj in np.adjs:
                adjs += self._w("A:" + adj, "-", rng)
        out += (adjs + list(head)) if self._adj_pre else (list(head) + adjs)
        if np.mod is not None:
            mod = self._pp(np.mod, rng)
            out = out + mod if self._prep else mod + out
        return out

    def _pp(self, pp: PP, rng: random.Random) -> list[str]:
        np = self._np(pp.np, rng, acc=True)
        if pp.prep is None:
            return np
        p = list(self._w("P:" + pp.prep, "-", rng))
        return p + np if self._prep else np + p

    def _than(self, std: NP, rng: random.Random) -> list[str]:
        than = list(self._w("CMP:than", "-", rng))
        np = self._np(std, rng)
        return than + np if self._prep else np + than

    def _compare(self, cmp: Compare, rng: random.Random) -> list[str]:
        """"4 more (apples) than Anna" / "3 times as many (apples) as Anna"; postpositional languages put
        the standard's marker after it ("4 more apples Anna than")."""
        w = self._w
        core = [str(cmp.count)] + list(w("CMP:" + cmp.comp, "-", rng))
        if cmp.comp == "times":
            core += list(w("CMP:as", "-", rng)) + list(w("D:many", "-", rng))
        if cmp.item:
            core += w("N:" + cmp.item, "pl", rng)
        if cmp.comp == "times":
            marker = list(w("CMP:as", "-", rng))
            std = self._np(cmp.std, rng)
            return core + (marker + std if self._prep else std + marker)
        return core + self._than(cmp.std, rng)

    def _clause(self, c: Clause, rng: random.Random) -> list[str]:
        w = self._w
        subj = self._np(c.subj, rng)
        obj: list[str] = []
        if c.obj is not None:
            obj = self._compare(c.obj, rng) if isinstance(c.obj, Compare) else self._np(c.obj, rng, acc=True)
            if self.spec.object_marker:
                obj += w("OBJ", "-", rng)
        pps: list[str] = []
        for pp in c.pps:
            pps += self._pp(pp, rng)
        adv = [t for a in c.adv.split() for t in w("R:" + a, "-", rng)] if c.adv else []
        fadv = list(w("R:" + c.fadv, "-", rng)) if c.fadv else []
        neg = list(w("NEG", "-", rng)) if c.neg else []
        aux: list[str] = []
        if c.tense == "fut":
            aux = list(w("X:will", "-", rng))
        elif c.modal:
            aux = list(w("X:" + c.modal, "-", rng))
        if c.verb == "be":
            if c.tense == "past":
                verb = list(w("COP:past", "-", rng))
            elif self.spec.zero_copula and not aux:
                verb = []
            else:
                verb = list(w("COP:pres", "-", rng))
            comp: list[str] = []
            if c.pred:
                if c.very:
                    comp += w("R:very", "-", rng)
                comp += w("A:" + c.pred[0], "-", rng)
                if len(c.pred) > 1:
                    comp += list(w("C:and", "-", rng)) + list(w("A:" + c.pred[1], "-", rng))
            comp += pps
            order = self._order
            if order == "SVO":
                out = subj + aux + verb + neg + fadv + comp + adv
            elif order == "SOV":
                out = subj + fadv + adv + comp + aux + neg + verb
            else:
                out = aux + neg + verb + subj + comp + fadv + adv
        else:
            feature = "past" if c.tense == "past" else ("ing" if c.prog else "base")
            verb = list(w("V:" + c.verb, feature, rng))
            order = self._order
            if order == "SVO":
                out = subj + aux + neg + fadv + verb + obj + pps + adv
            elif order == "SOV":  # object right after the subject, adjuncts, then the verb group
                out = subj + fadv + obj + pps + adv + aux + neg + verb
            else:
                out = aux + neg + verb + subj + obj + pps + fadv + adv
        if c.ask:
            qp = list(w("QP", "-", rng))
            out = out + qp if self._order == "SOV" else qp + out
        return out

    def _howmany(self, q: HowMany, rng: random.Random) -> list[str]:
        w = self._w
        wh = list(w("Q:how", "-", rng)) + list(w("D:many", "-", rng))
        if q.comp:
            wh += w("CMP:" + q.comp, "-", rng)
        wh += w("N:" + q.item, "pl", rng)
        subj = self._np(q.subj, rng)
        verb = list(w("V:have", "base", rng))
        than = self._than(q.std, rng) if q.std is not None else []
        rest: list[str] = []
        for pp in q.pps:
            rest += self._pp(pp, rng)
        if q.adv:
            rest += w("R:" + q.adv, "-", rng)
        if self._order == "SOV":
            return subj + wh + than + rest + verb
        if self._order == "VSO":
            return verb + subj + wh + than + rest
        if self.spec.wh_front:
            return wh + subj + verb + than + rest
        return subj + verb + wh + than + rest

    def render(self, frame: Frame, rng: random.Random) -> str:
        """Toy-language text of a frame; ``rng`` picks among synonyms."""
        if isinstance(frame, HowMany):
            return " ".join(self._howmany(frame, rng)) + "?"
        words = self._clause(frame.first, rng)
        if frame.second is not None:
            if frame.conj in ("but", "so"):
                words[-1] += ","
            words += list(self._w("C:" + (frame.conj or "and"), "-", rng)) + self._clause(frame.second, rng)
        return " ".join(words) + ("?" if frame.first.ask else ".")

    def words(self, frame: Frame, rng: random.Random) -> list[str]:
        """The rendered words of a frame (no punctuation)."""
        return [t.rstrip(",.?") for t in self.render(frame, rng).split()]


# ------------------------------------------------------------------------------------------- building
def _normalise_greek(word: str) -> str:
    word = word.replace("ς", "σ")
    return word[:-1] + "ς" if word.endswith("σ") else word


def build_toy_language(
    spec: ToyLanguageSpec, seed: int, protected: frozenset[str] = frozenset()
) -> ToyLanguage:
    """Builds the lexicon of ``spec`` from ``seed``.

    ``protected`` concept keys (the words the math problems hinge on) get no multi-word translation, so
    the layout of a translated problem does not depend on which verb or comparative it uses.
    """
    rng = random.Random(seed)
    ph = PHONOLOGIES[spec.code]
    norm = _normalise_greek if spec.code == "qaa" else (lambda s: s)
    used: set[str] = set()

    def suffix() -> str:
        while True:
            s = ph.syllable(rng, final=True)
            if s not in used:
                used.add(s)
                return s

    suffixes = {"pl": suffix(), "past": suffix(), "ing": suffix()}

    def inflect(stem: str, feature: str) -> str:
        suf = suffixes.get(feature)
        return norm(stem + suf) if suf else norm(stem)

    def new_stem(syllables: int, features: tuple[str, ...]) -> str:
        for attempt in range(1000):
            stem = ph.word(rng, syllables + (attempt // 200))
            forms = {inflect(stem, f) for f in features}
            if len(forms) == len({f if f in suffixes else "-" for f in features}) and not (forms & used):
                used.update(forms)
                return stem
        raise RuntimeError(f"{spec.code}: could not find a free word")

    def syllables_for(concept: Concept | None) -> int:
        if concept is None or not concept.content:
            return 1 if rng.random() < 0.75 else 2
        if concept.rank < 4:
            return 1 if rng.random() < 0.5 else 2
        return 2 if rng.random() < 0.6 else 3

    if ph.abugida_rows:  # one character per syllable: make words a bit longer
        base_syllables = syllables_for

        def syllables_for(concept: Concept | None) -> int:  # noqa: F811
            return base_syllables(concept) + (1 if concept is not None and concept.content else 0)

    light_verb = new_stem(1, ("base", "past", "ing"))
    entries: dict[str, _Entry] = {}
    dropped = {"D:" + art for art in ("the", "a") if art not in spec.articles}
    if spec.zero_copula:
        dropped.add("COP:pres")

    for key, concept in CONCEPTS.items():
        features = tuple(f for f, _ in concept.forms)
        if key in dropped:
            entries[key] = _Entry([{f: () for f in features}], [1.0])
            continue
        n_real = 2 if concept.content and rng.random() < spec.synonym_rate else 1
        reals: list[dict[str, tuple[str, ...]]] = []
        for _ in range(n_real):
            multi = concept.content and key not in protected and rng.random() < spec.multiword_rate
            if multi and concept.pos == "VERB":
                stems = [new_stem(syllables_for(concept), ("base",)), light_verb]
            elif multi:
                stems = [new_stem(syllables_for(concept), ("-",)), new_stem(syllables_for(concept), features)]
            else:
                stems = [new_stem(syllables_for(concept), features)]
            reals.append({f: tuple(norm(s) for s in stems[:-1]) + (inflect(stems[-1], f),) for f in features})
        first = 0.5 + 0.25 * rng.random()
        cum = [1.0] if n_real == 1 else [first, 1.0]
        entries[key] = _Entry(reals, cum)
    for key in _TOY_ONLY:
        entries[key] = _Entry([{"-": (norm(new_stem(1, ("-",))),)}], [1.0])
    return ToyLanguage(spec, entries)
