"""Lexicon extraction (CSLS translations), MUSE dictionaries, and P@k evaluation.

Lexicon table (`LEXICON_SCHEMA`, schema_version `LEXICON_SCHEMA_VERSION`), one row per (source word, kept
translation), in the order of the requested source words, then by rank:

    src        string   source (English) word
    tgt        string   target word
    rank       int32    1 = best CSLS translation
    csls       float32  CSLS(Wx, y) = 2 cos - r_S(x) - r_T(y) (null for method "dictionary")
    cosine     float32  cos(Wx, y) (null for method "dictionary")
    mutual_nn  bool     y is x's CSLS nearest neighbour and x is y's (null for method "dictionary")

CSLS neighbourhoods r_S / r_T are computed against the whole vocabularies passed in (truncate them with
`Embeddings.top` to restrict); above `knn.EXACT_PAIR_LIMIT` word pairs they are approximated with an IVF index
(``knn="auto"``), the retrieval itself is always exact.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pyarrow as pa

from .embeddings import Embeddings, _check_pair
from .errors import LexiconError
from .induction import NORMALIZE_DEFAULT, InductionResult, map_unit, normalize_vectors
from .knn import KnnMode, csls_search, knn_ip, limit_threads, mean_topk_sim, unit_rows

LEXICON_SCHEMA_VERSION = "1"
LEXICON_SCHEMA = pa.schema(
    [
        pa.field("src", pa.string(), nullable=False),
        pa.field("tgt", pa.string(), nullable=False),
        pa.field("rank", pa.int32(), nullable=False),
        pa.field("csls", pa.float32()),
        pa.field("cosine", pa.float32()),
        pa.field("mutual_nn", pa.bool_()),
    ],
    metadata={"schema_version": LEXICON_SCHEMA_VERSION, "kind": "lingualift.lexicon"},
)


def load_muse_dictionary(path: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """Read a MUSE-format dictionary: one ``src tgt`` pair per line (space or tab separated), file order kept."""
    path = Path(path)
    if not path.is_file():
        raise LexiconError(f"dictionary file not found: {path}")
    pairs: list[tuple[str, str]] = []
    with open(path, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 2:
                raise LexiconError(f"{path.name}: line {line_no} has {len(parts)} fields, expected 'src tgt'")
            pairs.append((parts[0], parts[1]))
    if not pairs:
        raise LexiconError(f"{path.name}: dictionary is empty")
    return pairs


def _mapping(w: np.ndarray | InductionResult, normalize: str | None, csls_k: int | None) -> tuple[np.ndarray, str, int]:
    if isinstance(w, InductionResult):
        return w.W, w.normalize if normalize is None else normalize, w.csls_k if csls_k is None else csls_k
    return np.asarray(w, dtype=np.float32), NORMALIZE_DEFAULT if normalize is None else normalize, 10 if csls_k is None else csls_k


def _spaces(src: Embeddings, tgt: Embeddings, w: np.ndarray, normalize: str) -> tuple[np.ndarray, np.ndarray]:
    _check_pair(src, tgt)
    if w.shape != (src.dim, src.dim):
        raise LexiconError(f"mapping W has shape {w.shape}, expected ({src.dim}, {src.dim})")
    xs = map_unit(normalize_vectors(src.vectors, normalize), w)
    zt = unit_rows(normalize_vectors(tgt.vectors, normalize))
    return xs, zt


def translate(
    src: Embeddings,
    tgt: Embeddings,
    W: np.ndarray | InductionResult,
    words: Iterable[str],
    *,
    top_k: int = 1,
    threshold: float | None = None,
    mutual_only: bool = False,
    csls_k: int | None = None,
    normalize: str | None = None,
    threads: int | None = None,
    knn: KnnMode = "auto",
) -> pa.Table:
    """Top-`top_k` CSLS translations of `words` (words absent from `src` are skipped) as a lexicon table.

    threshold: keep rows with csls >= threshold (precision over coverage for code-switching);
    mutual_only: keep only mutual nearest neighbours. With an `InductionResult` as `W`, its normalisation and
    csls_k are used unless given.
    """
    w, normalize, csls_k = _mapping(W, normalize, csls_k)
    if top_k < 1:
        raise LexiconError(f"top_k must be >= 1, got {top_k}")
    seen: set[str] = set()
    query_words = [x for x in words if x in src.index and not (x in seen or seen.add(x))]
    if not query_words:
        return LEXICON_SCHEMA.empty_table()
    with limit_threads(threads):
        xs, zt = _spaces(src, tgt, w, normalize)
        q = np.array([src.index[x] for x in query_words], dtype=np.int64)
        r_src = mean_topk_sim(xs, zt, csls_k, knn=knn)
        r_tgt = mean_topk_sim(zt, xs, csls_k, knn=knn)
        scores, idx = csls_search(xs[q], zt, r_tgt, top_k, r_queries=r_src[q])
        top1 = np.unique(idx[:, 0])
        _, back = csls_search(zt[top1], xs, r_src, 1)
        best_src = dict(zip(top1.tolist(), back[:, 0].tolist()))
    k = idx.shape[1]
    cos = np.einsum("ijd,id->ij", zt[idx], xs[q]) if k > 1 else (zt[idx[:, 0]] * xs[q]).sum(1)[:, None]
    mutual = np.zeros_like(idx, dtype=bool)
    mutual[:, 0] = np.array([best_src[t] == s for s, t in zip(q.tolist(), idx[:, 0].tolist())])
    keep = np.ones_like(mutual)
    if threshold is not None:
        keep &= scores >= threshold
    if mutual_only:
        keep &= mutual
    rows, cols = np.nonzero(keep)
    return pa.Table.from_arrays(
        [
            pa.array([query_words[i] for i in rows], type=pa.string()),
            pa.array([tgt.words[j] for j in idx[rows, cols]], type=pa.string()),
            pa.array(cols + 1, type=pa.int32()),
            pa.array(scores[rows, cols], type=pa.float32()),
            pa.array(cos[rows, cols], type=pa.float32()),
            pa.array(mutual[rows, cols], type=pa.bool_()),
        ],
        schema=LEXICON_SCHEMA,
    )


def lexicon_from_dictionary(
    pairs: Sequence[tuple[str, str]], words: Iterable[str] | None = None, *, top_k: int | None = None
) -> pa.Table:
    """Lexicon table straight from dictionary pairs (method "dictionary"): rank = order of the source word's
    translations in the dictionary; csls/cosine/mutual_nn null. `words` restricts and orders the sources."""
    by_src: dict[str, list[str]] = {}
    for s, t in pairs:
        lst = by_src.setdefault(s, [])
        if t not in lst:
            lst.append(t)
    order = list(by_src) if words is None else [x for x in dict.fromkeys(words) if x in by_src]
    src_col, tgt_col, rank_col = [], [], []
    for s in order:
        for r, t in enumerate(by_src[s][:top_k] if top_k else by_src[s], start=1):
            src_col.append(s)
            tgt_col.append(t)
            rank_col.append(r)
    n = len(src_col)
    return pa.Table.from_arrays(
        [
            pa.array(src_col, type=pa.string()),
            pa.array(tgt_col, type=pa.string()),
            pa.array(rank_col, type=pa.int32()),
            pa.nulls(n, pa.float32()),
            pa.nulls(n, pa.float32()),
            pa.nulls(n, pa.bool_()),
        ],
        schema=LEXICON_SCHEMA,
    )


def evaluate_dictionary(
    src: Embeddings,
    tgt: Embeddings,
    W: np.ndarray | InductionResult,
    gold_pairs: Iterable[tuple[str, str]],
    *,
    ks: Sequence[int] = (1, 5, 10),
    retrieval: Sequence[str] = ("nn", "csls"),
    csls_k: int | None = None,
    normalize: str | None = None,
    threads: int | None = None,
    knn: KnnMode = "auto",
) -> dict[str, Any]:
    """Precision@k of word translation, MUSE protocol: gold pairs with both words in the vocabularies; each
    unique source word counts once and is correct when any of its gold targets is in its top k; retrieval
    over the whole target vocabulary by cosine (``nn``) and by CSLS (``csls``).

    Returns ``precision_at_{k}_{nn|csls}`` (for the `retrieval` methods asked for) as fractions in [0, 1]
    (MUSE prints percentages), plus
    ``n_gold_pairs``, ``n_pairs_in_vocab``, ``n_src_words`` (evaluated) and ``n_src_words_gold``.
    """
    w, normalize, csls_k = _mapping(W, normalize, csls_k)
    gold = list(gold_pairs)
    ks = sorted({int(k) for k in ks})
    if not ks or ks[0] < 1:
        raise LexiconError(f"ks must be positive integers, got {ks}")
    if not retrieval or set(retrieval) - {"nn", "csls"}:
        raise LexiconError(f"retrieval must be a non-empty subset of ('nn', 'csls'), got {retrieval}")
    gold_by_src: dict[int, set[int]] = {}
    for s, t in gold:
        if s in src.index and t in tgt.index:
            gold_by_src.setdefault(src.index[s], set()).add(tgt.index[t])
    result: dict[str, Any] = {
        "n_gold_pairs": len(gold),
        "n_pairs_in_vocab": sum(len(v) for v in gold_by_src.values()),
        "n_src_words": len(gold_by_src),
        "n_src_words_gold": len({s for s, _ in gold}),
    }
    if not gold_by_src:
        raise LexiconError(
            f"no gold pair has both words in the vocabularies ({len(gold)} pairs, {len(src)} / {len(tgt)} words)"
        )
    q = np.array(list(gold_by_src), dtype=np.int64)
    kmax = min(max(ks), len(tgt))
    found: dict[str, np.ndarray] = {}
    with limit_threads(threads):
        xs, zt = _spaces(src, tgt, w, normalize)
        if "nn" in retrieval:
            found["nn"] = knn_ip(xs[q], zt, kmax)[1]
        if "csls" in retrieval:
            r_tgt = mean_topk_sim(zt, xs, csls_k, knn=knn)
            found["csls"] = csls_search(xs[q], zt, r_tgt, kmax)[1]
    for name, idx in found.items():
        hits = np.array([[t in gold_by_src[s] for t in row] for s, row in zip(q.tolist(), idx.tolist())])
        for k in ks:
            result[f"precision_at_{k}_{name}"] = float(hits[:, :k].any(1).mean())
    return result
