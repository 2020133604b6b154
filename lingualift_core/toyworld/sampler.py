"""Random frames for the monolingual corpora: one frame distribution shared by every language.

Three things give the corpora the distributional structure that makes monolingual word embeddings of
different languages alignable (as in real comparable corpora):

- selection restrictions: who eats what, which adjective goes with which noun, tense-consistent time
  adverbs;
- Zipfian lemma frequencies within each class: weight ``1 / (rank + 1) ** zipf`` with the rank of the lemma
  in its lexicon list (``english.py``; earlier = more frequent), so words of one class differ in frequency
  the same way in every language;
- topics (``topics.py``): a corpus is a sequence of short documents, each on one topic (a point of a latent
  semantic map), and in a document a slot (noun, verb, adjective, adverb, person name) is filled with
  probability ``share`` by a candidate weighted by its affinity to the topic, so that words get distinct
  neighbourhoods ("red" and "blue" no longer share all their contexts).

:class:`FrameSampler` draws frames with one fixed set of weights (one topic); :class:`CorpusSampler` draws
documents, one topic each, and keeps one ``FrameSampler`` per topic.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Generic, TypeVar

from .english import (
    ADJECTIVES,
    ADVERBS,
    BARE_PLACES,
    DAYS,
    MEALS,
    NAMES,
    NOUNS,
    VERBS,
    Verb,
)
from .frames import NP, PP, Clause, Compare, Frame, HowMany, Sentence, agreement
from .topics import Topics

__all__ = ["CorpusSampler", "FrameSampler", "Weighted", "rank_weight"]

T = TypeVar("T")


class Weighted(Generic[T]):
    """Items with weights; ``pick`` draws one with a single ``rng.random()`` call."""

    def __init__(self, items: Sequence[T], weights: Sequence[float] | None = None, zipf: float = 0.0) -> None:
        if not items:
            raise ValueError("empty choice")
        self.items = list(items)
        if weights is None:
            weights = [1.0 / (i + 2) ** zipf for i in range(len(items))]
        cum, total = [], 0.0
        for w in weights:
            total += w
            cum.append(total)
        self.cum = cum
        self.total = total

    def pick(self, rng: random.Random) -> T:
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]


def rank_weight(rank: int, zipf: float) -> float:
    """Zipf weight of the lemma at 0-based frequency ``rank`` of its class: ``1 / (rank + 1) ** zipf``."""
    return 1.0 / (rank + 1) ** zipf


_PRONOUN_SUBJ = Weighted(["i", "you", "he", "she", "we", "they"], [3, 2, 3, 3, 2, 2])
_PRONOUN_PERSON_OBJ = Weighted(["him", "her", "them", "me", "us", "you"], [3, 3, 2, 2, 1, 1])
_POSS = Weighted(["my", "your", "his", "her", "our", "their", "its"], [3, 2, 3, 3, 1, 2, 0.3])
_CONJ = Weighted(["and", "but", "because", "so", "when", "while", "if", "or"], [30, 20, 15, 10, 10, 5, 5, 5])
# place -> the adposition it takes for "where" (besides "near", used for all of them)
_PLACE_PREP = {
    "house": "in", "school": "at", "park": "in", "garden": "in", "shop": "in", "market": "at", "library": "in",
    "kitchen": "in", "farm": "on", "river": "near", "forest": "in", "city": "in", "village": "in", "beach": "on",
    "street": "on", "office": "in", "hospital": "in", "station": "at", "lake": "at", "mountain": "on",
    "field": "in", "room": "in", "bridge": "on", "road": "on", "zoo": "at", "town": "in", "home": "at", "work": "at",
}
_BEHIND_OK = ("house", "school", "shop", "library", "hospital", "station", "office")
# thing -> adpositions for "where" relative to it
_SURFACES = {
    "table": ("on", "under", "near"), "chair": ("on", "under", "near", "behind"), "bed": ("on", "under"),
    "box": ("in", "near"), "bag": ("in",), "basket": ("in",), "car": ("in", "behind", "near"),
    "boat": ("in", "near"), "door": ("near", "behind"), "window": ("near",),
}
_SURFACE_LIST = tuple(_SURFACES)
_INTO = ("room", "kitchen", "forest", "house", "shop", "library", "garden", "park", "river", "lake")
_ACROSS = ("street", "river", "bridge", "field", "road", "lake", "park")
_RELATIONAL = ("friend", "mother", "father", "brother", "sister", "baby", "uncle", "aunt", "teacher", "neighbor",
               "doctor", "child")
_OBJ_PRON_OF = {"him": "he", "her": "she", "them": "they", "me": "i", "us": "we", "you": "you"}


def _cls(cls: str) -> list[str]:
    return [n for n, info in NOUNS.items() if info.cls == cls]


class FrameSampler:
    """Draws frames (sentences and how-many questions) from the world's frame distribution.

    Every slot draws from a list of candidates (the lemmas the selection restrictions allow) with Zipf
    weights ``rank_weight(rank, zipf)``. With a topic (``affinity``: concept key -> weight >= 0, keys like
    ``"N:apple"`` or ``"NAME:Anna"`` for person names), the draw is a mixture: with probability
    ``topic_share`` with weights Zipf x affinity, else with the Zipf weights; a slot whose candidates all
    have affinity 0 (function words) ignores the topic.
    """

    def __init__(self, zipf: float = 1.0, affinity: Callable[[str], float] | None = None,
                 topic_share: float = 0.0) -> None:
        if zipf < 0:
            raise ValueError(f"zipf exponent must be >= 0, got {zipf}")
        if not 0.0 <= topic_share <= 1.0:
            raise ValueError(f"topic_share must be in [0, 1], got {topic_share}")
        self.zipf = zipf
        self._affinity = affinity
        self.topic_share = topic_share if affinity is not None else 0.0
        self._noun_lists: dict[tuple[str, ...], Weighted[str]] = {}
        self.person = self.nouns(_cls("person"))
        self.animal = self.nouns(_cls("animal"))
        self.place = self.nouns(_cls("place"))
        self.count_have = self.nouns(
            _cls("animal") + [n for n in _cls("thing") if n != "piece"] + _cls("vehicle")
            + ["brother", "sister", "friend", "apple", "egg", "banana", "orange", "pear", "cookie", "cake"]
        )
        self.items = self.nouns(["apple", "pear", "orange", "egg", "cookie", "book", "pencil", "coin", "card",
                                  "marble", "sticker", "stamp", "shell", "flower", "toy", "ball", "pen", "cup"])
        self.subj_things = self.nouns(
            _cls("thing") + _cls("food") + _cls("drink") + _cls("vehicle") + _cls("place") + _cls("abstract")
        )
        self.adjs_of: dict[str, Weighted[str]] = {}
        by_noun: dict[str, list[str]] = {}
        for adj in ADJECTIVES.values():
            for noun in adj.nouns:
                by_noun.setdefault(noun, []).append(adj.lemma)
        for noun, adjs in by_noun.items():
            self.adjs_of[noun] = Weighted(adjs, self._weights(["A:" + a for a in adjs],
                                                              [ADJECTIVES[a].rank for a in adjs]))
        verbs = list(VERBS.values())

        def verb_choice(vs: list[Verb]) -> Weighted[Verb]:
            return Weighted(vs, self._weights(["V:" + v.lemma for v in vs], [v.rank for v in vs]))

        self.v_trans = verb_choice([v for v in verbs if v.objects and v.lemma != "have"])
        self.v_intr = verb_choice([v for v in verbs if v.intransitive])
        self.v_motion = verb_choice([v for v in verbs if v.motion])
        self.v_give = verb_choice([v for v in verbs if v.recipients])
        self.objects_of = {v.lemma: self.nouns(v.objects) for v in verbs if v.objects}
        self.recipients_of = {v.lemma: self.nouns(v.recipients) for v in verbs if v.recipients}
        self._verb_lists: dict[tuple[str, ...], Weighted[str]] = {}
        names = [n for n, _ in NAMES]
        self.names = Weighted(names, self._weights(["NAME:" + n for n in names], range(len(names)), 0.3))
        # adverb groups; the rank is the position in the group (english.ADVERBS lists them by frequency)
        groups = dict(ADVERBS, fadv_pres=ADVERBS["frequency"] + ADVERBS["other"])
        self.adverbs = {
            kind: Weighted(list(advs), self._weights(["R:" + a for a in advs], range(len(advs))))
            for kind, advs in groups.items()
        }
        self.contents = {
            "cup": ("tea", "coffee", "milk", "water", "juice"),
            "glass": ("milk", "water", "juice"),
            "bottle": ("water", "milk", "juice"),
            "box": ("cookie", "apple", "toy", "pencil", "egg"),
            "bag": ("apple", "orange", "potato", "bread", "rice", "coin"),
            "basket": ("apple", "egg", "pear", "flower", "bread"),
            "plate": ("rice", "soup", "meat", "cookie", "sandwich"),
            "piece": ("cake", "bread", "cheese", "pie", "meat"),
        }
        self.frames = Weighted(
            ["trans", "intr", "give", "motion", "cop_adj", "cop_loc", "have_num", "num_event", "compare", "howmany"],
            [30, 14, 7, 8, 12, 5, 6, 6, 4, 3],
        )

    # ------------------------------------------------------------------------------------------ weights
    def _weights(self, keys: Sequence[str], ranks: Sequence[int], zipf: float | None = None) -> list[float]:
        """Weights of candidates ``keys`` (concept keys) with class frequency ranks ``ranks``: the Zipf
        weights, mixed with the topic's share of them (see the class docstring); they sum to 1 with a topic."""
        z = [rank_weight(r, self.zipf if zipf is None else zipf) for r in ranks]
        if not self.topic_share or self._affinity is None:
            return z
        affinity = self._affinity
        inside = [zi * affinity(k) for k, zi in zip(keys, z)]
        s_in = sum(inside)
        if s_in == 0.0:
            return z
        s, share = sum(z), self.topic_share
        return [(1.0 - share) * zi / s + share * ii / s_in for zi, ii in zip(z, inside)]

    def nouns(self, nouns: Sequence[str]) -> Weighted[str]:
        """A weighted choice among noun lemmas (Zipf rank in the noun's class x topic), cached per list."""
        key = tuple(nouns)
        w = self._noun_lists.get(key)
        if w is None:
            w = Weighted(list(key), self._weights(["N:" + n for n in key], [NOUNS[n].rank for n in key]))
            self._noun_lists[key] = w
        return w

    def verbs(self, lemmas: Sequence[str]) -> Weighted[str]:
        """A weighted choice among verb lemmas (Zipf rank among all verbs x topic), cached per list."""
        key = tuple(lemmas)
        w = self._verb_lists.get(key)
        if w is None:
            w = Weighted(list(key), self._weights(["V:" + v for v in key], [VERBS[v].rank for v in key]))
            self._verb_lists[key] = w
        return w

    # ------------------------------------------------------------------------------------- noun phrases
    def name(self, rng: random.Random) -> NP:
        return NP("name", self.names.pick(rng))

    def adjectives(self, rng: random.Random, noun: str, p1: float = 0.3) -> tuple[tuple[str, ...], bool]:
        adjs = self.adjs_of.get(noun)
        if adjs is None or rng.random() >= p1:
            return (), False
        first = adjs.pick(rng)
        if rng.random() < 0.12:
            second = adjs.pick(rng)
            if second != first:
                return (first, second), False
        return (first,), rng.random() < 0.15

    def noun_np(self, rng: random.Random, noun: str, subject: bool = False, plural_p: float = 0.3) -> NP:
        info = NOUNS[noun]
        poss_ok = info.cls != "person" or noun in _RELATIONAL
        adjs, very = self.adjectives(rng, noun)
        if info.cls == "day":
            return NP("noun", noun)
        if info.mass:
            r = rng.random()
            if r < 0.4:
                det: str | None = "the"
            elif r < 0.65:
                det = None
            elif r < 0.8:
                det = "some"
            else:
                det = _POSS.pick(rng) if r < 0.95 else "this"
            return NP("noun", noun, det=det, adjs=adjs, very=very)
        mod = None
        if noun in self.contents and rng.random() < 0.35:
            content = self.nouns(self.contents[noun]).pick(rng)
            mod = PP("of", NP("noun", content, plural=not NOUNS[content].mass))
        elif noun in ("story", "book", "song", "picture") and rng.random() < 0.2:
            about = self.animal.pick(rng) if rng.random() < 0.6 else self.person.pick(rng)
            mod = PP("about", NP("noun", about, plural=rng.random() < 0.5, det="a" if rng.random() < 0.5 else None))
            if not mod.np.plural and mod.np.det is None:
                mod = PP("about", NP("noun", about, det="the"))
        if rng.random() < plural_p:
            r = rng.random()
            if r < 0.3:
                det = "the"
            elif r < 0.45:
                det = None
            elif r < 0.55:
                det = "some"
            elif r < 0.6:
                det = "many"
            elif r < 0.62:
                det = "no"
            elif r < 0.65:
                det = "few" if not subject else "many"
            elif r < 0.7:
                det = "these"
            elif r < 0.73:
                det = "those"
            elif r < 0.9:
                det = _POSS.pick(rng) if poss_ok else "the"
            elif subject:
                det = "the"
            else:
                return NP("noun", noun, plural=True, count=rng.randint(2, 12), adjs=adjs, very=very, mod=mod)
            return NP("noun", noun, plural=True, det=det, adjs=adjs, very=very, mod=mod)
        r = rng.random()
        if r < 0.42:
            det = "the"
        elif r < 0.72:
            det = "a"
        elif r < 0.92:
            det = _POSS.pick(rng) if poss_ok else "a"
        elif r < 0.96:
            det = "this"
        elif r < 0.98:
            det = "that"
        else:
            det = "every" if subject else "each"
        return NP("noun", noun, det=det, adjs=adjs, very=very, mod=mod)

    def person_np(self, rng: random.Random, subject: bool = True) -> NP:
        r = rng.random()
        if r < 0.3:
            return self.name(rng)
        if r < 0.55:
            if subject:
                return NP("pron", _PRONOUN_SUBJ.pick(rng))
            return NP("pron", _OBJ_PRON_OF[_PRONOUN_PERSON_OBJ.pick(rng)])
        if r < 0.6:
            a, b = self.name(rng), self.name(rng)
            if a != b:
                return NP("coord", parts=(a, b))
        noun = self.person.pick(rng)
        if noun in _RELATIONAL and rng.random() < 0.4:  # "his mother", "my friend"
            return NP("noun", noun, det=_POSS.pick(rng), plural=noun != "baby" and rng.random() < 0.15)
        return self.noun_np(rng, noun, subject=subject, plural_p=0.2)

    def subject(self, rng: random.Random, subj: str) -> NP:
        if subj == "a":  # flying
            return self.noun_np(rng, rng.choice(("bird", "bird", "duck")), subject=True, plural_p=0.3)
        if subj == "pa" and rng.random() < 0.2:
            return self.noun_np(rng, self.animal.pick(rng), subject=True, plural_p=0.3)
        return self.person_np(rng)

    def place_np(self, rng: random.Random) -> NP:
        place = self.place.pick(rng)
        if place in BARE_PLACES:
            return NP("noun", place)
        if place in ("house", "garden", "room", "office", "farm") and rng.random() < 0.3:
            return NP("noun", place, det=_POSS.pick(rng))
        return NP("noun", place, det="the", adjs=self.adjectives(rng, place, 0.15)[0])

    # --------------------------------------------------------------------------------------- adverbials
    def time_pp(self, rng: random.Random) -> PP:
        r = rng.random()
        if r < 0.3:
            return PP("in", NP("noun", self.nouns(("morning", "evening")).pick(rng), det="the"))
        if r < 0.45:
            return PP("at", NP("noun", self.nouns(("night", "noon")).pick(rng)))
        if r < 0.7:
            return PP("on", NP("noun", self.nouns(DAYS).pick(rng)))
        if r < 0.85:
            return PP("after", NP("noun", self.nouns(("school", "work") + MEALS).pick(rng)))
        if r < 0.87:
            return PP(None, NP("noun", self.nouns(("morning", "evening", "week")).pick(rng), det="this"))
        if r < 0.9:
            if rng.random() < 0.3:
                return PP("by", NP("noun", "noon"))
            return PP("by", NP("noun", self.nouns(("morning", "evening", "week")).pick(rng), det="this"))
        if r < 0.94:
            return PP(None, NP("noun", self.nouns(("day", "week", "morning", "evening")).pick(rng), det="every"))
        if r < 0.97:
            unit = self.nouns(("day", "week", "year")).pick(rng)
            if rng.random() < 0.5:
                return PP("for", NP("noun", unit, det="a"))
            return PP("for", NP("noun", unit, plural=True, count=rng.randint(2, 9)))
        return PP("before", NP("noun", self.nouns(MEALS + ("school", "work")).pick(rng)))

    def location_pp(self, rng: random.Random) -> PP:
        if rng.random() < 0.75:
            np = self.place_np(rng)
            prep = _PLACE_PREP[np.head]
            if np.head not in BARE_PLACES:
                r = rng.random()
                if r < 0.12:
                    prep = "near"
                elif r < 0.17 and np.head in _BEHIND_OK:
                    prep = "behind"
            return PP(prep, np)
        thing = self.nouns(_SURFACE_LIST).pick(rng)
        return PP(rng.choice(_SURFACES[thing]), NP("noun", thing, det="the" if rng.random() < 0.7 else _POSS.pick(rng)))

    def extra_pps(self, rng: random.Random, p: float) -> tuple[PP, ...]:
        if rng.random() >= p:
            return ()
        r = rng.random()
        if r < 0.45:
            return (self.location_pp(rng),)
        if r < 0.75:
            return (self.time_pp(rng),)
        if r < 0.9:
            return (PP("with", self.person_np(rng, subject=False)),)
        if r < 0.95:
            return (self.location_pp(rng), self.time_pp(rng))
        return (PP("for", self.person_np(rng, subject=False)),)

    def adverb(self, rng: random.Random, tense: str, p: float, plural: bool = False) -> str | None:
        if rng.random() >= p:
            return None
        r = rng.random()
        if r < 0.45:
            if plural and rng.random() < 0.25:
                return "together"
            return self.adverbs["manner"].pick(rng)
        if r < 0.85:
            if tense == "pres" and rng.random() < 0.1:
                return "right now"
            return self.adverbs["time_" + tense].pick(rng)
        return self.adverbs["place"].pick(rng)

    # ------------------------------------------------------------------------------------------ clauses
    def _tam(self, rng: random.Random, stative: bool = False) -> dict[str, object]:
        r = rng.random()
        tense = "pres" if r < 0.6 else "past" if r < 0.85 else "fut"
        out: dict[str, object] = {"tense": tense}
        if tense == "pres" and rng.random() < 0.08:
            out["modal"] = rng.choice(("can", "must", "should"))
        elif not stative and tense != "fut" and rng.random() < 0.12:
            out["prog"] = True
        if rng.random() < 0.1:
            out["neg"] = True
        elif not out.get("prog") and not out.get("modal") and rng.random() < (0.15 if tense == "pres" else 0.04):
            out["fadv"] = self.adverbs["fadv_pres" if tense == "pres" else "other"].pick(rng)
        return out

    def clause(self, rng: random.Random, kind: str | None = None) -> Clause:
        kind = kind or self.frames.pick(rng)
        if kind == "trans":
            verb = self.v_trans.pick(rng)
            subj = self.subject(rng, verb.subj)
            noun = self.objects_of[verb.lemma].pick(rng)
            if NOUNS[noun].cls not in ("person", "place") and rng.random() < 0.08:
                obj = NP("pron", "it" if rng.random() < 0.6 else "they")
            elif NOUNS[noun].cls == "person" and rng.random() < 0.35:
                obj = NP("pron", _OBJ_PRON_OF[_PRONOUN_PERSON_OBJ.pick(rng)])
            elif NOUNS[noun].cls == "person":
                obj = self.person_np(rng, subject=False)
            else:
                obj = self.noun_np(rng, noun)
            tam = self._tam(rng, stative=verb.lemma in ("like", "love", "want", "need", "know", "have", "see"))
            pps = self.extra_pps(rng, 0.35)
            if verb.lemma in ("receive", "borrow", "get", "take", "buy") and rng.random() < 0.4:
                pps = (PP("from", self.person_np(rng, subject=False)),) + pps
            return Clause(subj, verb.lemma, obj, pps=pps, adv=self.adverb(rng, str(tam["tense"]), 0.25), **tam)
        if kind == "intr":
            verb = self.v_intr.pick(rng)
            subj = self.subject(rng, verb.subj)
            tam = self._tam(rng)
            adv = self.adverb(rng, str(tam["tense"]), 0.35, agreement(subj) == "pl")
            return Clause(subj, verb.lemma, pps=self.extra_pps(rng, 0.6), adv=adv, **tam)
        if kind == "give":
            verb = self.v_give.pick(rng)
            subj = self.person_np(rng)
            obj = self.noun_np(rng, self.recipients_of[verb.lemma].pick(rng))
            tam = self._tam(rng)
            pps = (PP("to", self.person_np(rng, subject=False)),) + self.extra_pps(rng, 0.25)
            return Clause(subj, verb.lemma, obj, pps=pps, adv=self.adverb(rng, str(tam["tense"]), 0.15), **tam)
        if kind == "motion":
            verb = self.v_motion.pick(rng)
            subj = self.subject(rng, verb.subj)
            np = self.place_np(rng)
            r = rng.random()
            if np.head == "home":
                prep = None  # "walks home"
            elif np.head in BARE_PLACES or r < 0.65:
                prep = "to"
            elif r < 0.75 and np.head in _INTO:
                prep = "into"
            elif r < 0.9:
                prep = "from"
            else:
                prep = "across" if np.head in _ACROSS else "to"
            tam = self._tam(rng)
            pps = (PP(prep, np),) + self.extra_pps(rng, 0.3)
            adv = self.adverb(rng, str(tam["tense"]), 0.25, agreement(subj) == "pl")
            return Clause(subj, verb.lemma, pps=pps, adv=adv, **tam)
        if kind == "cop_adj":
            if rng.random() < 0.45:
                subj = self.person_np(rng)
                head = subj.head if subj.kind == "noun" else "man"
            elif rng.random() < 0.3:
                head = self.animal.pick(rng)
                subj = self.noun_np(rng, head, subject=True)
            else:
                head = self.subj_things.pick(rng)
                subj = self.noun_np(rng, head, subject=True)
                if rng.random() < 0.1:
                    subj = NP("pron", "it")
            if subj.kind == "pron" or subj.kind == "name" or subj.kind == "coord":
                head = "man"
            adjs = self.adjs_of.get(head) or self.adjs_of["man"]
            first = adjs.pick(rng)
            pred: tuple[str, ...] = (first,)
            if rng.random() < 0.12:
                second = adjs.pick(rng)
                if second != first:
                    pred = (first, second)
            subj = NP(subj.kind, subj.head, subj.plural, subj.det, subj.count, (), False, subj.mod, subj.parts)
            tam = self._tam(rng, stative=True)
            tam.pop("prog", None)
            return Clause(subj, "be", pred=pred, very=len(pred) == 1 and rng.random() < 0.25,
                          adv=self.adverb(rng, str(tam["tense"]), 0.1) if not tam.get("fadv") else None, **tam)
        if kind == "cop_loc":
            r = rng.random()
            if r < 0.5:
                subj = self.person_np(rng)
            elif r < 0.8:
                subj = self.noun_np(rng, self.animal.pick(rng), subject=True)
            else:
                thing = self.nouns(("book", "key", "phone", "ball", "bag", "cup", "hat", "coat", "toy")).pick(rng)
                subj = self.noun_np(rng, thing, subject=True)
            tam = self._tam(rng, stative=True)
            tam.pop("prog", None)
            tam.pop("fadv", None)
            return Clause(subj, "be", pps=(self.location_pp(rng),), **tam)
        if kind == "have_num":
            subj = self.person_np(rng)
            noun = self.count_have.pick(rng)
            obj = NP("noun", noun, plural=True, count=rng.randint(2, 20), adjs=self.adjectives(rng, noun, 0.2)[0])
            tam = self._tam(rng, stative=True)
            tam.pop("prog", None)
            return Clause(subj, "have", obj, pps=self.extra_pps(rng, 0.3), **tam)
        if kind == "num_event":
            subj = self.name(rng) if rng.random() < 0.6 else self.person_np(rng)
            item = self.items.pick(rng)
            obj = NP("noun", item, plural=True, count=rng.randint(2, 12))
            r = rng.random()
            tam = {"tense": "pres" if rng.random() < 0.7 else "past"}
            if r < 0.35:
                verb = self.verbs(("give", "sell", "send", "lend", "bring", "show")).pick(rng)
                pps = (PP("to", self.person_np(rng, subject=False)),)
            elif r < 0.65:
                verb = self.verbs(("receive", "get", "take", "borrow", "buy")).pick(rng)
                pps = (PP("from", self.person_np(rng, subject=False)),)
            else:
                verb = self.verbs(("find", "lose", "buy", "sell", "collect", "use", "drop", "win", "keep",
                                   "count")).pick(rng)
                pps = (self.location_pp(rng),) if rng.random() < 0.6 else ()
            return Clause(subj, verb, obj, pps=pps + self.extra_pps(rng, 0.2), **tam)
        if kind == "compare":
            subj = self.name(rng) if rng.random() < 0.6 else self.person_np(rng)
            std = self.name(rng) if rng.random() < 0.6 else self.person_np(rng, subject=True)
            comp = rng.choice(("more", "more", "fewer", "times"))
            item = self.items.pick(rng) if rng.random() < 0.7 else None
            count = rng.randint(2, 4) if comp == "times" else rng.randint(2, 12)
            does = comp != "times" and item is not None and rng.random() < 0.3
            tam = {"tense": "pres" if rng.random() < 0.8 else "past"}
            if tam["tense"] == "past":
                does = False
            return Clause(subj, "have", Compare(count, comp, item, std, does), pps=self.extra_pps(rng, 0.15), **tam)
        raise ValueError(kind)

    def sentence(self, rng: random.Random) -> Frame:
        kind = self.frames.pick(rng)
        if kind == "howmany":
            item = self.items.pick(rng) if rng.random() < 0.5 else self.count_have.pick(rng)
            subj = self.person_np(rng) if rng.random() < 0.6 else self.name(rng)
            if rng.random() < 0.3:
                std = self.name(rng)
                return HowMany(item, subj, rng.choice(("more", "fewer")), std)
            pps: tuple[PP, ...] = ()
            adv = None
            r = rng.random()
            if r < 0.3:
                pps = (self.location_pp(rng),)
            elif r < 0.4:
                pps = (PP("at", NP("noun", "end", det="the")),)
            elif r < 0.45:
                pps = (PP("by", NP("noun", "evening", det="this")),)
            elif r < 0.55:
                adv = rng.choice(("now", "today", "together"))
            return HowMany(item, subj, pps=pps, adv=adv)
        first = self.clause(rng, kind)
        if rng.random() < 0.08 and not first.neg and first.fadv != "never":
            return Sentence(replace(first, ask=True))
        if rng.random() < 0.15:
            kind2 = self.frames.pick(rng)
            second = self.clause(rng, kind2 if kind2 != "howmany" else "intr")
            tense = first.tense
            conj = _CONJ.pick(rng)
            fixed = {"tense": tense}
            if tense == "fut" and conj in ("if", "when"):
                fixed = {"tense": "pres"}
            if tense != "pres":
                fixed.update(modal=None, fadv=None)
            if fixed["tense"] == "fut":
                fixed["prog"] = False
            second = replace(second, **fixed)
            return Sentence(first, conj, second)
        return Sentence(first)


class CorpusSampler:
    """Corpora as sequences of short documents of ``doc_sentences[0]`` to ``doc_sentences[1]`` sentences
    (uniform), each on one topic; topic ``t`` is drawn with weight ``rank_weight(t, topics.zipf)`` (some
    topics are more common than others, as in real text). ``topics=None``: no topical structure."""

    def __init__(self, zipf: float = 1.0, topics: Topics | None = None,
                 doc_sentences: tuple[int, int] = (1, 6)) -> None:
        if not 1 <= doc_sentences[0] <= doc_sentences[1]:
            raise ValueError(f"doc_sentences must be (min, max) with 1 <= min <= max, got {doc_sentences}")
        self.zipf = zipf
        self.topics = topics
        self.doc_sentences = doc_sentences
        n = 1 if topics is None else topics.n_topics
        self._topic_choice = Weighted(list(range(n)), [rank_weight(t, 0.0 if topics is None else topics.zipf)
                                                       for t in range(n)])
        # built on first use: a world's corpora need them all, a test of one sentence does not
        self._samplers: list[FrameSampler | None] = [None] * n
        if topics is None:
            self._samplers[0] = FrameSampler(zipf)

    def sampler(self, topic: int) -> FrameSampler:
        """The frame sampler of documents on ``topic`` (0 when there are no topics)."""
        s = self._samplers[topic]
        if s is None:
            assert self.topics is not None
            topics = self.topics
            affinity = {key: topics.affinity(topic, key) for key in topics.positions}  # once per topic
            s = FrameSampler(self.zipf, lambda key: affinity.get(key, 0.0), topics.share)
            self._samplers[topic] = s
        return s

    def documents(self, rng: random.Random, n: int) -> list[tuple[int, list[Frame]]]:
        """(topic, frames) documents with ``n`` frames in all (the last document may be cut short)."""
        out: list[tuple[int, list[Frame]]] = []
        total = 0
        lo, hi = self.doc_sentences
        while total < n:
            topic = self._topic_choice.pick(rng)
            length = min(rng.randint(lo, hi), n - total)
            sentence = self.sampler(topic).sentence
            out.append((topic, [sentence(rng) for _ in range(length)]))
            total += length
        return out

    def frames(self, rng: random.Random, n: int) -> list[Frame]:
        """``n`` frames: the documents of :meth:`documents`, concatenated."""
        return [f for _, doc in self.documents(rng, n) for f in doc]
