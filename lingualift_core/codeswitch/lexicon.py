"""A bilingual lexicon prepared once for fast code-switching lookups.

Input: a pyarrow Table with columns ``src`` (lowercased English word), ``tgt`` (translation, may contain spaces),
``rank`` (0 = best) and ``score`` (higher is better, e.g. CSLS). Each source word keeps its ``top_k`` translations
ordered by score (descending), then rank, then text; duplicate (src, tgt) pairs keep their best entry.

Selection of one translation among the kept ones:

* ``top1``: always the best (``top_k`` is then irrelevant);
* ``uniform``: uniformly among the top-k;
* ``proportional``: proportionally to the score, negative or missing scores weigh 0 (all zero: uniform);
* ``softmax``: proportionally to ``exp(score / temperature)``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .settings import SELECTIONS
LEXICON_COLUMNS: tuple[str, ...] = ("src", "tgt", "rank", "score")

_SPACES = re.compile(r"\s+")


def _weights(scores: list[float], selection: str, temperature: float) -> list[float]:
    n = len(scores)
    if selection == "top1":
        return [1.0] + [0.0] * (n - 1)
    if selection == "uniform":
        return [1.0] * n
    finite = [s if (s is not None and math.isfinite(s)) else None for s in scores]
    if selection == "proportional":
        w = [max(s, 0.0) if s is not None else 0.0 for s in finite]
    else:  # softmax
        present = [s for s in finite if s is not None]
        if not present:
            return [1.0] * n
        top = max(present)
        w = [math.exp((s - top) / temperature) if s is not None else 0.0 for s in finite]
    return w if sum(w) > 0 else [1.0] * n


@dataclass(frozen=True)
class CodeSwitchLexicon:
    """Lookup structure: ``index`` maps a lowercased English word to its group; ``targets`` holds the kept
    translations of all groups back to back (group ``g`` at ``starts[g]:starts[g+1]``, best first); ``cum[g, j]``
    is the cumulative selection probability of entry ``j`` of group ``g`` (padded with 1.0)."""

    index: dict[str, int]
    targets: pa.StringArray
    starts: np.ndarray
    cum: np.ndarray
    selection: str
    top_k: int
    n_input_rows: int

    @classmethod
    def from_table(
        cls,
        table: pa.Table | None,
        *,
        top_k: int = 1,
        selection: str = "top1",
        temperature: float = 1.0,
    ) -> CodeSwitchLexicon:
        if selection not in SELECTIONS:
            raise ValueError(f"unknown translation selection {selection!r}; known: {', '.join(SELECTIONS)}")
        if int(top_k) < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        k = 1 if selection == "top1" else int(top_k)
        if table is None or table.num_rows == 0:
            return cls({}, pa.array([], pa.string()), np.zeros(1, np.int64), np.ones((0, 1)), selection, k,
                       0 if table is None else table.num_rows)
        missing = [c for c in ("src", "tgt") if c not in table.column_names]
        if missing:
            raise ValueError(f"lexicon table lacks column(s) {missing}; expected {list(LEXICON_COLUMNS)}")
        n = table.num_rows
        src = pc.utf8_lower(pc.utf8_trim_whitespace(table.column("src").cast(pa.string()))).to_pylist()
        tgt = table.column("tgt").cast(pa.string()).to_pylist()
        rank = (table.column("rank").cast(pa.int64()).to_pylist() if "rank" in table.column_names else [0] * n)
        score = (table.column("score").cast(pa.float64()).to_pylist() if "score" in table.column_names
                 else [0.0] * n)
        rows = []
        for s, t, r, sc in zip(src, tgt, rank, score):
            if not s or t is None:
                continue
            t = _SPACES.sub(" ", t).strip()
            if not t:
                continue
            key_score = sc if (sc is not None and math.isfinite(sc)) else -math.inf
            rows.append((s, -key_score, r if r is not None else 2**62, t, sc))
        rows.sort()
        index: dict[str, int] = {}
        targets: list[str] = []
        starts: list[int] = [0]
        cum_rows: list[list[float]] = []
        i = 0
        while i < len(rows):
            s = rows[i][0]
            seen: set[str] = set()
            kept: list[tuple[str, float]] = []
            while i < len(rows) and rows[i][0] == s:
                t = rows[i][3]
                if t not in seen and len(kept) < k:
                    seen.add(t)
                    kept.append((t, rows[i][4]))
                i += 1
            w = _weights([sc for _, sc in kept], selection, temperature)
            total = sum(w)
            c, acc = [], 0.0
            for x in w:
                acc += x / total
                c.append(acc)
            c[-1] = 1.0
            index[s] = len(cum_rows)
            cum_rows.append(c)
            targets.extend(t for t, _ in kept)
            starts.append(len(targets))
        width = max(len(c) for c in cum_rows)
        cum = np.ones((len(cum_rows), width), dtype=np.float64)
        for g, c in enumerate(cum_rows):
            cum[g, : len(c)] = c
        return cls(index, pa.array(targets, pa.string()), np.asarray(starts, np.int64), cum, selection, k, n)

    def __len__(self) -> int:
        return len(self.index)

    @property
    def is_empty(self) -> bool:
        return not self.index

    def lookup(self, words: list[str]) -> np.ndarray:
        """Group id of each lowercased word, -1 where the word has no translation."""
        get = self.index.get
        return np.fromiter((get(w, -1) for w in words), dtype=np.int64, count=len(words))

    def pick(self, groups: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Flat index into ``targets`` of the translation chosen for each group given uniform draws ``u``."""
        groups = np.asarray(groups, dtype=np.int64)
        if self.cum.shape[1] == 1 or self.selection == "top1":
            return self.starts[groups]
        j = (self.cum[groups] <= np.asarray(u)[:, None]).sum(axis=1)
        size = self.starts[groups + 1] - self.starts[groups]
        return self.starts[groups] + np.minimum(j, size - 1)

    def translations(self, word: str) -> list[tuple[str, float]]:
        """The kept translations of ``word`` (lowercased) with their selection probabilities (for inspection)."""
        g = self.index.get(word.lower())
        if g is None:
            return []
        lo, hi = int(self.starts[g]), int(self.starts[g + 1])
        prev, out = 0.0, []
        for j, t in enumerate(self.targets[lo:hi].to_pylist()):
            out.append((t, float(self.cum[g, j] - prev)))
            prev = float(self.cum[g, j])
        return out
