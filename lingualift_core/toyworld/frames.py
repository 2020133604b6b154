"""Abstract semantic frames and their English rendering.

A frame says *what* is said (who does what to whom, where, when, with which tense/modality), never *how*:
the English renderer below and the toy-language renderers (``toylang.py``) turn the same frame into text
with their own lexicons, morphology and word order. That is how parallel evaluation data (translated math
problems, Tatoeba-like pairs) and gold lexicons come from the true grammar, while monolingual corpora are
sampled frame by frame per language with independent seeds.

Frames are frozen dataclasses (hashable, comparable), so two corpora can be checked for shared frames.
"""

from __future__ import annotations

from dataclasses import dataclass

from .english import DETERMINERS, PRONOUNS, VERBS, english_plural

__all__ = ["NP", "PP", "Compare", "Clause", "Sentence", "HowMany", "Frame", "render_english", "agreement"]


@dataclass(frozen=True)
class NP:
    """A noun phrase.

    kind: ``"noun"`` (head = noun lemma), ``"name"`` (head = person name), ``"pron"`` (head = pronoun key
    ``"i"``/``"you"``/``"he"``/...), ``"coord"`` (``parts`` joined by "and").
    """

    kind: str
    head: str = ""
    plural: bool = False
    det: str | None = None  # determiner key (see english.DETERMINERS), possessives included
    count: int | None = None  # a numeral (digits in every language)
    adjs: tuple[str, ...] = ()
    very: bool = False  # degree adverb before the (first) adjective
    mod: PP | None = None  # NP-internal PP: "a cup of tea", "a story about a dog"
    parts: tuple[NP, ...] = ()


@dataclass(frozen=True)
class PP:
    """An adpositional phrase; ``prep=None`` is a bare NP adverbial ("this morning")."""

    prep: str | None
    np: NP


@dataclass(frozen=True)
class Compare:
    """Comparative object of "have": "4 more (apples) than Anna (does)", "3 times as many (apples) as Anna"."""

    count: int
    comp: str  # "more" | "fewer" | "times"
    item: str | None
    std: NP
    does: bool = False


@dataclass(frozen=True)
class Clause:
    subj: NP
    verb: str  # verb lemma, or "be" for the copula
    obj: NP | Compare | None = None
    pred: tuple[str, ...] = ()  # copula: adjectives ("hot", or "hot" and "sweet")
    very: bool = False  # copula: "very hot"
    pps: tuple[PP, ...] = ()
    adv: str | None = None  # clause-final adverb (manner, time, place); "right now" = two adverbs
    fadv: str | None = None  # frequency adverb before the main verb
    tense: str = "pres"  # "pres" | "past" | "fut"
    modal: str | None = None  # "can" | "must" | "should"
    neg: bool = False
    prog: bool = False
    ask: bool = False  # yes/no question


@dataclass(frozen=True)
class Sentence:
    first: Clause
    conj: str | None = None
    second: Clause | None = None


@dataclass(frozen=True)
class HowMany:
    """"How many (more|fewer) ITEMs does SUBJ have (than STD) (PPs) (ADV)?" (present tense)."""

    item: str
    subj: NP
    comp: str | None = None
    std: NP | None = None
    pps: tuple[PP, ...] = ()
    adv: str | None = None


Frame = Sentence | HowMany


# ------------------------------------------------------------------------------------------ English
def agreement(np: NP) -> str:
    """Person/number class of a subject NP: ``"1sg"``, ``"3sg"`` or ``"pl"``."""
    if np.kind == "pron":
        return PRONOUNS[np.head][2]
    if np.kind == "coord" or np.plural:
        return "pl"
    return "3sg"


def _an(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _en_np(np: NP, acc: bool = False) -> list[str]:
    kind = np.kind
    if kind == "name":
        return [np.head]
    if kind == "pron":
        nom, accf, _ = PRONOUNS[np.head]
        return [accf if acc else nom]
    if kind == "coord":
        return _en_np(np.parts[0], acc) + ["and"] + _en_np(np.parts[1], acc)
    words: list[str] = []
    if np.count is not None:
        words.append(str(np.count))
    if np.adjs:
        if np.very:
            words.append("very")
        words.extend(np.adjs)
    words.append(english_plural(np.head) if np.plural else np.head)
    if np.det is not None:
        words.insert(0, _an(words[0]) if np.det == "a" else DETERMINERS[np.det][0])
    if np.mod is not None:
        words.extend(_en_pp(np.mod))
    return words


def _en_pp(pp: PP) -> list[str]:
    words = _en_np(pp.np, acc=True)
    return words if pp.prep is None else [pp.prep] + words


def _en_compare(cmp: Compare) -> list[str]:
    std = _en_np(cmp.std)
    item = [english_plural(cmp.item)] if cmp.item else []
    if cmp.comp == "times":
        return [str(cmp.count), "times", "as", "many"] + item + ["as"] + std
    out = [str(cmp.count), cmp.comp] + item + ["than"] + std
    if cmp.does:
        out.append("does" if agreement(cmp.std) == "3sg" else "do")
    return out


_BE = {("pres", "1sg"): "am", ("pres", "3sg"): "is", ("pres", "pl"): "are",
       ("past", "1sg"): "was", ("past", "3sg"): "was", ("past", "pl"): "were"}


def _en_clause(c: Clause) -> list[str]:
    subj = _en_np(c.subj)
    agr = agreement(c.subj)
    tail: list[str] = []
    if c.obj is not None:
        tail += _en_compare(c.obj) if isinstance(c.obj, Compare) else _en_np(c.obj, acc=True)
    if c.pred:
        if c.very:
            tail.append("very")
        tail += c.pred if len(c.pred) == 1 else [c.pred[0], "and", c.pred[1]]
    for pp in c.pps:
        tail += _en_pp(pp)
    if c.adv:
        tail.append(c.adv)
    fadv = [c.fadv] if c.fadv else []
    if c.verb == "be":
        if c.tense == "fut" or c.modal:
            aux, main = ["will" if c.tense == "fut" else c.modal], ["be"]
        else:
            aux, main = [_BE[(c.tense, agr)]], []
    else:
        forms = dict(VERBS[c.verb].forms)
        if c.tense == "fut":
            aux, main = ["will"], [forms["base"]]
        elif c.modal:
            aux, main = [c.modal], [forms["base"]]
        elif c.prog:
            aux, main = [_BE[(c.tense, agr)]], [forms["ing"]]
        elif c.neg or c.ask:
            do = "did" if c.tense == "past" else ("does" if agr == "3sg" else "do")
            aux, main = [do], [forms["base"]]
        else:
            aux = []
            main = [forms["past"] if c.tense == "past" else (forms["3sg"] if agr == "3sg" else forms["base"])]
    neg = ["not"] if c.neg else []
    if c.ask:
        return aux + subj + neg + fadv + main + tail
    return subj + aux + neg + fadv + main + tail


def _finish(words: list[str], end: str) -> str:
    text = " ".join(words)
    return text[:1].upper() + text[1:] + end


def render_english(frame: Frame) -> str:
    """English text of a frame (capitalised, final punctuation)."""
    if isinstance(frame, HowMany):
        subj = _en_np(frame.subj)
        do = "does" if agreement(frame.subj) == "3sg" else "do"
        words = ["how", "many"] + ([frame.comp] if frame.comp else []) + [english_plural(frame.item), do]
        words += subj + ["have"]
        if frame.std is not None:
            words += ["than"] + _en_np(frame.std)
        for pp in frame.pps:
            words += _en_pp(pp)
        if frame.adv:
            words.append(frame.adv)
        return _finish(words, "?")
    words = _en_clause(frame.first)
    if frame.second is not None:
        if frame.conj in ("but", "so"):
            words[-1] += ","
        words += [frame.conj or "and"] + _en_clause(frame.second)
    return _finish(words, "?" if frame.first.ask else ".")
