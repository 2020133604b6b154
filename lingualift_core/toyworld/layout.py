"""How much of a math benchmark can be solved without reading a single word.

``layout_only(text)`` keeps what a reader who does not know the language still sees: the numbers, the
punctuation and how many words stand where (every word becomes one placeholder token).

``layout_floor(problems)`` is the accuracy of the best possible guesser that sees only that layout. It
groups the problems by their layout with the numbers blanked out (so "A has 7 x." and "A has 9 x." share a
group), and within a group it counts, for every candidate formula over the numbers of the question, how
many problems it answers correctly; the oracle answers each group with its best formula. Candidate
formulas (numbers n1..nk in the order they appear):

- one number, ``ni``;
- ``ni op nj`` for any i, j (repetition allowed), op in {+, -, *};
- ``(ni op nj) op nl`` and ``nl op (ni op nj)`` for any i, j, l;
- left folds over four numbers in order, ``((ni op nj) op nl) op np`` with i < j < l < p.

Because the oracle is fitted on the very problems it is scored on, the floor is optimistic (an upper
bound for any layout-only model) when groups are small; the embedded world keeps the number of layouts
small so that the groups are large.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

import numpy as np

__all__ = ["WORD", "layout_only", "layout_floor", "layout_report"]

# The tokenizers' unknown-word token: one token for the tiny word-level LLM and for Llama-2 (a placeholder such
# as `<w>` is three, `<`, `w`, `>`, which made the layout-only records 1.7x longer than the English ones), and what
# an English-only reader sees for a word it does not know.
WORD = "<unk>"
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[^\W\d_]+(?:['\u2019][^\W\d_]+)*|[^\w\s]")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_OPS = (np.add, np.subtract, np.multiply)


def layout_only(text: str) -> str:
    """Every word replaced by ``WORD``; numbers and punctuation kept; tokens separated by one space."""
    out = []
    for tok in _TOKEN.findall(text):
        if _NUMBER.fullmatch(tok) or not (tok[0].isalpha()):
            out.append(tok)
        else:
            out.append(WORD)
    return " ".join(out)


def _shape(text: str) -> tuple[str, list[float]]:
    toks = layout_only(text).split(" ")
    numbers = [float(t) for t in toks if _NUMBER.fullmatch(t)]
    key = " ".join("<n>" if _NUMBER.fullmatch(t) else t for t in toks)
    return key, numbers


def _formula_hits(values: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """For every candidate formula, how many rows it answers correctly."""
    m, k = values.shape
    g = gold[:, None]
    hits: list[np.ndarray] = []

    def add(block: np.ndarray) -> None:
        hits.append((np.abs(block - g) < 1e-6).sum(axis=0))

    add(values)
    pairs = [op(values[:, :, None], values[:, None, :]).reshape(m, k * k) for op in _OPS]
    for pair in pairs:
        add(pair)
    for pair in pairs:
        for op in _OPS:
            add(op(pair[:, :, None], values[:, None, :]).reshape(m, -1))
            add(op(values[:, :, None], pair[:, None, :]).reshape(m, -1))
    for combo in itertools.combinations(range(k), 4):
        cur = [values[:, combo[0]]]
        for idx in combo[1:]:
            cur = [op(c, values[:, idx]) for c in cur for op in _OPS]
        add(np.stack(cur, axis=1))
    return np.concatenate(hits)


def layout_report(problems: Sequence[tuple[str, float]]) -> dict[str, float]:
    """``floor`` (see :func:`layout_floor`), ``n``, ``layouts`` (distinct layouts), ``largest_group``."""
    groups: dict[str, tuple[list[list[float]], list[float]]] = {}
    for question, answer in problems:
        key, numbers = _shape(question)
        rows, golds = groups.setdefault(key, ([], []))
        rows.append(numbers)
        golds.append(float(answer))
    correct = 0
    for rows, golds in groups.values():
        if not rows[0]:
            continue
        hits = _formula_hits(np.asarray(rows, dtype=np.float64), np.asarray(golds, dtype=np.float64))
        correct += int(hits.max())
    n = len(problems)
    return {
        "floor": correct / n if n else 0.0,
        "n": float(n),
        "layouts": float(len(groups)),
        "largest_group": float(max((len(g[0]) for g in groups.values()), default=0)),
    }


def layout_floor(problems: Sequence[tuple[str, float]]) -> float:
    """Accuracy of the best layout-only guesser on ``problems`` = (question, answer) pairs."""
    return layout_report(problems)["floor"]
