"""Counter-based randomness: every draw is a pure function of (seed, sentence id, language, counter).

Nothing depends on batch boundaries, on the order of sentences, or on which other languages are processed. A
sentence's key is ``blake2b(id, key=seed)``; the language is mixed in with SplitMix64; each draw is SplitMix64 of
``key + counter * golden_ratio``. Counters: 0 sentence priority (the per-language cap), 1 instruction template,
``2 + 2*i`` the replacement decision of token ``i``, ``3 + 2*i`` its translation pick. The replacement draw of a token
does not depend on the ratio, POS group or lexicon, so a higher ratio replaces a superset of the tokens a lower
ratio replaces (same seed), which keeps ablations over the ratio comparable.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)

COUNTER_PRIORITY = 0
COUNTER_TEMPLATE = 1
COUNTER_TOKEN_BASE = 2


def splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser, element-wise on a uint64 array (wrapping arithmetic)."""
    x = np.asarray(x, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> _S30)) * _M1
        x = (x ^ (x >> _S27)) * _M2
        return x ^ (x >> _S31)


def _seed_bytes(seed: int) -> bytes:
    return int(seed).to_bytes(16, "little", signed=True)


def sentence_keys(ids: Sequence[str], seed: int) -> np.ndarray:
    """uint64 key per sentence id (language-independent)."""
    key = _seed_bytes(seed)
    out = np.empty(len(ids), dtype=np.uint64)
    blake = hashlib.blake2b
    for i, sid in enumerate(ids):
        out[i] = int.from_bytes(blake(sid.encode("utf-8"), digest_size=8, key=key).digest(), "little")
    return out


def language_salt(lang: str) -> np.uint64:
    """uint64 salt of a language code."""
    return np.uint64(int.from_bytes(hashlib.blake2b(lang.encode("utf-8"), digest_size=8).digest(), "little"))


def language_keys(keys: np.ndarray, lang: str) -> np.ndarray:
    """Per-language sentence keys."""
    return splitmix64(np.asarray(keys, dtype=np.uint64) ^ language_salt(lang))


def draw_u64(keys: np.ndarray, counters: np.ndarray | int) -> np.ndarray:
    """The uint64 draw number ``counters`` of each key (element-wise, broadcasting)."""
    c = np.asarray(counters, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return splitmix64(np.asarray(keys, dtype=np.uint64) + c * _GOLDEN)


def draw_uniform(keys: np.ndarray, counters: np.ndarray | int) -> np.ndarray:
    """Uniform floats in [0, 1) (53 bits), element-wise."""
    return (draw_u64(keys, counters) >> _S11).astype(np.float64) * (1.0 / 9007199254740992.0)
