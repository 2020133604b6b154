"""Topics: a latent semantic map that gives words distinct, language-independent neighbourhoods.

Within a POS class the grammar's lemmas are interchangeable (any colour fits any thing), so without topics
"red" and "blue" (or "apple" and "pear") have the same contexts and no method can tell them apart by
distribution. Real text has topical co-occurrence, and its topics are related to one another (kitchen is
near food, far from trains). Here that is a map:

- every topical word (nouns, verbs, adjectives, manner and place adverbs, person names; concept keys like
  ``"N:apple"``, ``"V:eat"``, ``"A:red"``, ``"R:quickly"``, ``"NAME:Anna"``) has a point in the unit square.
  Nouns, adverbs and names are placed uniformly; a verb or adjective is placed near one of the nouns it
  selects (object, recipient, goal of motion; modified noun), so that a neighbourhood is coherent: its
  verbs take its nouns and its adjectives modify them;
- a topic is a point of the map too; its affinity to a word is ``exp(-d**2 / (2 * width**2))`` for their
  distance ``d``; topic ``t`` is drawn with weight ``1 / (t + 1) ** zipf`` (some topics are common);
- in a document on topic ``t``, every slot of its sentences (a lemma the selection restrictions allow, or a
  person name) is filled, with probability ``share``, by a candidate drawn with weight Zipf x affinity, else
  by one drawn with its plain Zipf weight (``sampler.FrameSampler``).

Words close on the map share contexts, far ones do not; because the map is one random point cloud (no
symmetry between regions), the neighbourhood structure it induces is the same, and identifiable, in every
language of a world, while the corpora stay independently sampled.

Time and frequency adverbs, function words and numbers have no point: time adverbs go with the tense
("yesterday" with the past), which they would otherwise stop marking. Keys are iterated in lexicon order,
never in set order, so the map does not depend on Python's hash seed.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from .english import ADJECTIVES, ADVERBS, NAMES, NOUNS, VERBS

__all__ = ["Topics", "make_topics", "topical_keys"]

_TOPICAL_ADVERBS = ADVERBS["manner"] + ADVERBS["place"]
_PLACES = tuple(n for n, info in NOUNS.items() if info.cls == "place")  # where motion verbs go


def topical_keys() -> list[str]:
    """Keys of every word that has a point on the map, in lexicon order."""
    keys = ["N:" + n for n in NOUNS] + ["V:" + v for v in VERBS] + ["A:" + a for a in ADJECTIVES]
    keys += ["R:" + a for a in _TOPICAL_ADVERBS] + ["NAME:" + n for n, _ in NAMES]
    return keys


@dataclass(frozen=True)
class Topics:
    """The map: ``positions`` (key -> (x, y)), topic ``centers``, kernel ``width``; ``share`` = probability
    that a slot is filled by topic affinity; ``zipf`` = exponent of the topic frequencies."""

    positions: dict[str, tuple[float, float]]
    centers: tuple[tuple[float, float], ...]
    width: float
    share: float
    zipf: float

    @property
    def n_topics(self) -> int:
        return len(self.centers)

    def affinity(self, topic: int, key: str) -> float:
        """Affinity in (0, 1] of word ``key`` to ``topic``; 0 for words without a point."""
        pos = self.positions.get(key)
        if pos is None:
            return 0.0
        cx, cy = self.centers[topic]
        d2 = (pos[0] - cx) ** 2 + (pos[1] - cy) ** 2
        return math.exp(-d2 / (2.0 * self.width**2))

    def distance(self, a: str, b: str) -> float:
        """Map distance of two words (both must have a point)."""
        (ax, ay), (bx, by) = self.positions[a], self.positions[b]
        return math.hypot(ax - bx, ay - by)


def _clip(x: float) -> float:
    return min(1.0, max(0.0, x))


def make_topics(seed: int, n_topics: int = 64, width: float = 0.1, share: float = 1.0,
                zipf: float = 1.0) -> Topics:
    """A seeded map: word points, ``n_topics`` >= 1 topic centres (uniform in the unit square), kernel
    ``width`` > 0, slot ``share`` in [0, 1] (0 = no topical structure), topic frequency exponent ``zipf`` >= 0.
    """
    if n_topics < 1:
        raise ValueError(f"n_topics must be >= 1, got {n_topics}")
    if width <= 0:
        raise ValueError(f"topic width must be > 0, got {width}")
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"topic share must be in [0, 1], got {share}")
    if zipf < 0:
        raise ValueError(f"topic zipf exponent must be >= 0, got {zipf}")
    rng = random.Random(seed)
    pos: dict[str, tuple[float, float]] = {}
    for noun in NOUNS:
        pos["N:" + noun] = (rng.random(), rng.random())

    def near(key: str, nouns: tuple[str, ...]) -> None:
        if not nouns:
            pos[key] = (rng.random(), rng.random())
            return
        x, y = pos["N:" + rng.choice(nouns)]
        pos[key] = (_clip(x + rng.gauss(0.0, width)), _clip(y + rng.gauss(0.0, width)))

    for verb in VERBS.values():
        near("V:" + verb.lemma, verb.objects + verb.recipients + (_PLACES if verb.motion else ()))
    for adj in ADJECTIVES.values():
        near("A:" + adj.lemma, adj.nouns)
    for adv in _TOPICAL_ADVERBS:
        pos["R:" + adv] = (rng.random(), rng.random())
    for name, _ in NAMES:
        pos["NAME:" + name] = (rng.random(), rng.random())
    centers = tuple((rng.random(), rng.random()) for _ in range(n_topics))
    return Topics(pos, centers, float(width), float(share), float(zipf))
