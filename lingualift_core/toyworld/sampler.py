"""Random frames for the monolingual corpora: one frame distribution shared by every language.

Selection restrictions (who eats what, which adjective goes with which noun, tense-consistent time adverbs)
give the corpora the co-occurrence structure that makes monolingual word embeddings of different languages
alignable. Lemmas are drawn with Zipf-like weights (earlier in the lexicon lists = more frequent).
"""

from __future__ import annotations

import bisect
import random
from dataclasses import replace
from collections.abc import Sequence
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
    GENDER,
)
from .frames import NP, PP, Clause, Compare, Frame, HowMany, Sentence, agreement

__all__ = ["FrameSampler", "Weighted"]

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


def _zipf_nouns(nouns: Sequence[str], zipf: float = 0.6) -> Weighted[str]:
    return Weighted(list(nouns), [1.0 / (NOUNS[n].rank + 2) ** zipf for n in nouns])


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
    """Draws frames (sentences and how-many questions) from the world's frame distribution."""

    def __init__(self) -> None:
        self.person = _zipf_nouns(_cls("person"))
        self.animal = _zipf_nouns(_cls("animal"))
        self.place = _zipf_nouns(_cls("place"))
        self.count_have = _zipf_nouns(
            _cls("animal") + [n for n in _cls("thing") if n != "piece"] + _cls("vehicle")
            + ["brother", "sister", "friend", "apple", "egg", "banana", "orange", "pear", "cookie", "cake"]
        )
        self.items = _zipf_nouns(["apple", "pear", "orange", "egg", "cookie", "book", "pencil", "coin", "card",
                                  "marble", "sticker", "stamp", "shell", "flower", "toy", "ball", "pen", "cup"])
        self.subj_things = _zipf_nouns(
            _cls("thing") + _cls("food") + _cls("drink") + _cls("vehicle") + _cls("place") + _cls("abstract")
        )
        self.adjs_of: dict[str, Weighted[str]] = {}
        by_noun: dict[str, list[str]] = {}
        for adj in ADJECTIVES.values():
            for noun in adj.nouns:
                by_noun.setdefault(noun, []).append(adj.lemma)
        for noun, adjs in by_noun.items():
            self.adjs_of[noun] = Weighted(adjs, [1.0 / (ADJECTIVES[a].rank + 3) ** 0.5 for a in adjs])
        verbs = list(VERBS.values())
        vw = [1.0 / (v.rank + 3) ** 0.5 for v in verbs]
        self.v_trans = Weighted([v for v in verbs if v.objects and v.lemma != "have"],
                                [w for v, w in zip(verbs, vw) if v.objects and v.lemma != "have"])
        self.v_intr = Weighted([v for v in verbs if v.intransitive], [w for v, w in zip(verbs, vw) if v.intransitive])
        self.v_motion = Weighted([v for v in verbs if v.motion], [w for v, w in zip(verbs, vw) if v.motion])
        self.v_give = Weighted([v for v in verbs if v.recipients], [w for v, w in zip(verbs, vw) if v.recipients])
        self.objects_of = {v.lemma: _zipf_nouns(v.objects) for v in verbs if v.objects}
        self.recipients_of = {v.lemma: _zipf_nouns(v.recipients) for v in verbs if v.recipients}
        self.names = Weighted([n for n, _ in NAMES], zipf=0.3)
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
            content = rng.choice(self.contents[noun])
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
            return PP("in", NP("noun", rng.choice(("morning", "evening")), det="the"))
        if r < 0.45:
            return PP("at", NP("noun", rng.choice(("night", "noon"))))
        if r < 0.7:
            return PP("on", NP("noun", rng.choice(DAYS)))
        if r < 0.85:
            return PP("after", NP("noun", rng.choice(("school", "work") + MEALS)))
        if r < 0.87:
            return PP(None, NP("noun", rng.choice(("morning", "evening", "week")), det="this"))
        if r < 0.9:
            if rng.random() < 0.3:
                return PP("by", NP("noun", "noon"))
            return PP("by", NP("noun", rng.choice(("morning", "evening", "week")), det="this"))
        if r < 0.94:
            return PP(None, NP("noun", rng.choice(("day", "week", "morning", "evening")), det="every"))
        if r < 0.97:
            unit = rng.choice(("day", "week", "year"))
            if rng.random() < 0.5:
                return PP("for", NP("noun", unit, det="a"))
            return PP("for", NP("noun", unit, plural=True, count=rng.randint(2, 9)))
        return PP("before", NP("noun", rng.choice(MEALS + ("school", "work"))))

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
        thing = rng.choice(_SURFACE_LIST)
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
            return rng.choice(ADVERBS["manner"])
        if r < 0.85:
            if tense == "pres" and rng.random() < 0.1:
                return "right now"
            return rng.choice(ADVERBS["time_" + tense])
        return rng.choice(ADVERBS["place"])

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
            out["fadv"] = rng.choice(ADVERBS["frequency"] + ADVERBS["other"]) if tense == "pres" else rng.choice(
                ADVERBS["other"])
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
                thing = rng.choice(("book", "key", "phone", "ball", "bag", "cup", "hat", "coat", "toy"))
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
                verb = rng.choice(("give", "sell", "send", "lend", "bring", "show"))
                pps = (PP("to", self.person_np(rng, subject=False)),)
            elif r < 0.65:
                verb = rng.choice(("receive", "get", "take", "borrow", "buy"))
                pps = (PP("from", self.person_np(rng, subject=False)),)
            else:
                verb = rng.choice(("find", "lose", "buy", "sell", "collect", "use", "drop", "win", "keep", "count"))
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


def gender_pronoun(name: str) -> str:
    return "she" if GENDER.get(name) == "f" else "he"
