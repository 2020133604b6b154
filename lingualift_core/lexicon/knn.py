"""Nearest-neighbour search on unit vectors with faiss (inner product, float32, batched).

Every nearest-neighbour search of the lexicon package goes through this module:

- `knn_ip`: exact top-k by inner product (`faiss.IndexFlatIP`, queries searched in batches), or an
  approximate inverted-file search (`faiss.IndexIVFFlat`) when asked for;
- `mean_topk_sim`: the CSLS neighbourhood term r(x) = mean cosine of x's k nearest neighbours in the other
  space. With ``knn="auto"`` it is exact up to `EXACT_PAIR_LIMIT` query x base pairs and approximate (an
  inverted-file search, `_ivf_mean_topk`) above that: the mean of the top-10 similarities barely moves when a
  neighbour is missed, and an exact 200k x 200k search costs 5-30 minutes on a 2-core CPU. The inverted file
  is faiss's IVF (k-means lists, each query scans its nearest lists) with the list scan done as one small
  BLAS GEMM per list over all the queries that probe it (faiss's own per-query scan ran at ~2 GFLOP/s in
  this wheel's generic build, ~40% of a 200k x 200k search): 200k x 200k in ~25 s instead of ~35 s with the
  same lists, and 0.0057 instead of 0.0068 mean absolute error;
- `csls_search`: exact top-k retrieval under CSLS, 2 cos(x, y) - r_S(x) - r_T(y), as one inner-product search
  on augmented vectors [2x, -1] . [y, r_T(y)] (always exact, `IndexFlatIP`);
- `csls_mutual`: both neighbourhood terms and the CSLS nearest neighbour in both directions (what refinement
  dictionaries and the robust initialisation need), exact. Up to `DENSE_CSLS_BYTES` of similarities it computes
  the similarity matrix once (one torch GEMM) and reads all four results from it; above, four batched faiss
  searches (each at GEMM speed) so the matrix is never held.

Thread counts: `limit_threads` sets faiss's OpenMP threads, torch's intra-op threads and the BLAS threads of
numpy (threadpoolctl) for a block; float32 everywhere (faiss and the GEMMs), float64 only for means.
Profile (200k x 300 synthetic pair, robust init, 2 shared cores): the refinement and criterion searches run at
~80 GFLOP/s, the GEMM rate of the machine (torch/MKL sgemm: ~95 GFLOP/s); there is no Python loop over words.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Iterator, Literal

import faiss
import numpy as np
import torch
from threadpoolctl import threadpool_limits

from lingualift_core.threads import torch_threads

from .errors import LexiconError

#: Above this many query x base pairs, ``knn="auto"`` computes CSLS neighbourhoods approximately (IVF).
EXACT_PAIR_LIMIT = 2_000_000_000
#: Queries per faiss search call (bounds the temporary distance buffers).
SEARCH_BATCH = 8192
#: `csls_mutual` holds the whole query x base similarity matrix (float32) up to this many bytes (4000 x 4000
#: robust-init profiles: 64 MB, 3x faster than four searches); above, it runs four faiss searches.
DENSE_CSLS_BYTES = 256 << 20

KnnMode = Literal["auto", "exact", "approx"]


@contextmanager
def limit_threads(threads: int | None) -> Iterator[None]:
    """Run a block with `threads` OpenMP threads for faiss and intra-op threads for torch; restore after."""
    if threads is None:
        yield
        return
    if int(threads) < 1:
        raise LexiconError(f"threads must be >= 1, got {threads}")
    old_faiss = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(int(threads))
    try:
        with torch_threads(int(threads)), blas_threads(int(threads)):
            yield
    finally:
        faiss.omp_set_num_threads(old_faiss)


@contextmanager
def blas_threads(threads: int) -> Iterator[None]:
    """numpy's BLAS (and any other loaded BLAS) limited to `threads` for a block. `blas_threads(1)` around small
    LAPACK calls (300 x 300 eigh/SVD): OpenBLAS threads made them 10-20x slower on a shared 2-core CPU."""
    with threadpool_limits(limits=threads, user_api="blas"):
        yield


def as_f32(x: np.ndarray) -> np.ndarray:
    """C-contiguous float32 view or copy (what faiss needs)."""
    return np.ascontiguousarray(x, dtype=np.float32)


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero); returns a new float32 array."""
    x = np.array(x, dtype=np.float32, copy=True)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    np.maximum(norms, 1e-12, out=norms)
    x /= norms
    return x


def knn_ip(
    queries: np.ndarray,
    base: np.ndarray,
    k: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k of `base` rows by inner product for every row of `queries` (`IndexFlatIP`, queries searched
    in batches): (similarities, indices), each (nq, k); k is clamped to len(base). The approximate
    neighbourhood term of CSLS is `_ivf_mean_topk`."""
    queries = as_f32(queries)
    base = as_f32(base)
    if queries.ndim != 2 or base.ndim != 2 or queries.shape[1] != base.shape[1]:
        raise LexiconError(f"knn: shape mismatch {queries.shape} vs {base.shape}")
    k = min(int(k), base.shape[0])
    if k < 1:
        raise LexiconError("knn: empty base or k < 1")
    index = faiss.IndexFlatIP(base.shape[1])
    index.add(base)
    sims = np.empty((queries.shape[0], k), dtype=np.float32)
    idx = np.empty((queries.shape[0], k), dtype=np.int64)
    for start in range(0, queries.shape[0], SEARCH_BATCH):
        stop = min(start + SEARCH_BATCH, queries.shape[0])
        sims[start:stop], idx[start:stop] = index.search(queries[start:stop], k)
    return sims, idx


def mean_topk_sim(
    queries: np.ndarray, base: np.ndarray, k: int, *, knn: KnnMode = "auto", seed: int = 0
) -> np.ndarray:
    """CSLS neighbourhood term: mean similarity of each query to its k nearest `base` rows (float32, (nq,))."""
    if knn not in ("auto", "exact", "approx"):
        raise LexiconError(f"knn must be 'auto', 'exact' or 'approx', got {knn!r}")
    approximate = knn == "approx" or (
        knn == "auto" and queries.shape[0] * base.shape[0] > EXACT_PAIR_LIMIT
    )
    if approximate:
        return _ivf_mean_topk(queries, base, k, seed=seed)
    sims, _ = knn_ip(queries, base, k)
    return sims.mean(1, dtype=np.float64).astype(np.float32)


#: Lists each query scans in the approximate neighbourhood search (of 8 sqrt(n) lists, see `_ivf_mean_topk`).
IVF_NPROBE = 8
#: Rows per block of the query-to-centroid GEMM.
PROBE_BATCH = 16_384


def _ivf_centroids(base: np.ndarray, nlist: int, seed: int) -> np.ndarray:
    """faiss k-means lists for inner-product search, as `IndexIVFFlat.train` makes them: 10 iterations on
    12 sampled points per list, assignment by inner product (an `IndexFlatIP` quantizer)."""
    n, d = base.shape
    rng = np.random.default_rng(seed)
    n_train = min(n, 12 * nlist)
    train = base if n_train == n else base[np.sort(rng.choice(n, n_train, replace=False))]
    cp = faiss.ClusteringParameters()
    cp.niter = 10
    cp.seed = int(seed)
    cp.min_points_per_centroid = 4
    clustering = faiss.Clustering(d, nlist, cp)
    clustering.train(as_f32(train), faiss.IndexFlatIP(d))
    return faiss.vector_to_array(clustering.centroids).reshape(nlist, d).astype(np.float32)


def _nearest_lists(x: np.ndarray, centroids: np.ndarray, nprobe: int) -> np.ndarray:
    """(n, nprobe) ids of the centroids with the largest inner products, best first (torch GEMM in blocks)."""
    c_t = torch.from_numpy(centroids).T.contiguous()
    x_t = torch.from_numpy(x)
    out = np.empty((x.shape[0], nprobe), dtype=np.int64)
    with torch.no_grad():
        for start in range(0, x.shape[0], PROBE_BATCH):
            sims = x_t[start:start + PROBE_BATCH] @ c_t
            best = sims.argmax(1, keepdim=True) if nprobe == 1 else sims.topk(nprobe, dim=1).indices
            out[start:start + PROBE_BATCH] = best.numpy()
    return out


def _ivf_mean_topk(queries: np.ndarray, base: np.ndarray, k: int, *, seed: int = 0) -> np.ndarray:
    """Approximate `mean_topk_sim`: inverted-file search with exact similarities inside the scanned lists.

    Lists: 8 sqrt(n) k-means centroids of `base` (`_ivf_centroids`); each base row goes to its nearest
    centroid, each query scans its `IVF_NPROBE` nearest lists. The scan is grouped by list: one GEMM of all
    queries probing a list against the list's rows, the list's top k per query kept, then the top k of the
    kept candidates averaged (a query whose lists hold fewer than k rows averages what was found). Never
    above the exact value; on the 200k x 300 synthetic pair within 0.006 of it (mean absolute error).
    """
    queries = as_f32(queries)
    base = as_f32(base)
    if queries.ndim != 2 or base.ndim != 2 or queries.shape[1] != base.shape[1]:
        raise LexiconError(f"knn: shape mismatch {queries.shape} vs {base.shape}")
    n, k = base.shape[0], min(int(k), base.shape[0])
    if k < 1:
        raise LexiconError("knn: empty base or k < 1")
    nq = queries.shape[0]
    nlist = max(1, min(n, int(8 * math.sqrt(n))))
    nprobe = min(nlist, IVF_NPROBE)
    centroids = _ivf_centroids(base, nlist, seed)
    base_list = _nearest_lists(base, centroids, 1)[:, 0]
    probes = _nearest_lists(queries, centroids, nprobe)
    order = np.argsort(base_list, kind="stable")
    base_sorted = base[order]
    starts = np.searchsorted(base_list[order], np.arange(nlist + 1))
    flat = probes.reshape(-1)
    by_list = np.argsort(flat, kind="stable")
    probe_starts = np.searchsorted(flat[by_list], np.arange(nlist + 1))
    probe_row, probe_slot = by_list // nprobe, by_list % nprobe
    cand = np.full((nq, nprobe, k), -np.inf, dtype=np.float32)

    def scan(lists: range) -> None:
        # each (query, slot) pair belongs to exactly one list: workers write disjoint cells of `cand`
        for lst in lists:
            p0, p1, b0, b1 = probe_starts[lst], probe_starts[lst + 1], starts[lst], starts[lst + 1]
            if p0 == p1 or b0 == b1:
                continue
            rows = probe_row[p0:p1]
            sims = queries[rows] @ base_sorted[b0:b1].T
            if b1 - b0 > k:
                sims = np.partition(sims, b1 - b0 - k, axis=1)[:, -k:]
            cand[rows, probe_slot[p0:p1], : sims.shape[1]] = sims

    # many small GEMMs: one BLAS thread each, the lists split over `workers` Python threads (numpy releases
    # the GIL); multi-threaded BLAS on 450 x 56 blocks spent its time waking threads on a shared CPU
    workers = max(1, min(torch.get_num_threads(), 8))
    with blas_threads(1):
        if workers == 1:
            scan(range(nlist))
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(scan, [range(i, nlist, workers) for i in range(workers)]))
    flat_cand = cand.reshape(nq, nprobe * k)
    top = np.partition(flat_cand, flat_cand.shape[1] - k, axis=1)[:, -k:]
    finite = np.isfinite(top)
    found = np.where(finite, top, 0.0).sum(1, dtype=np.float64)
    return (found / np.maximum(finite.sum(1), 1)).astype(np.float32)


def csls_search(
    queries: np.ndarray,
    base: np.ndarray,
    r_base: np.ndarray,
    k: int,
    r_queries: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k under CSLS(x, y) = 2 cos(x, y) - r_q(x) - r_b(y) for unit rows; (scores, indices).

    Implemented as one faiss inner-product search on [2x, -1] . [y, r_b(y)]; r_q(x) is a per-query constant
    (it does not change the ranking) and is subtracted afterwards when given.
    """
    queries = as_f32(queries)
    base = as_f32(base)
    q_aug = np.empty((queries.shape[0], queries.shape[1] + 1), dtype=np.float32)
    q_aug[:, :-1] = 2.0 * queries
    q_aug[:, -1] = -1.0
    b_aug = np.empty((base.shape[0], base.shape[1] + 1), dtype=np.float32)
    b_aug[:, :-1] = base
    b_aug[:, -1] = r_base
    scores, idx = knn_ip(q_aug, b_aug, k)
    if r_queries is not None:
        scores = scores - np.asarray(r_queries, dtype=np.float32)[:, None]
    return scores, idx


def csls_mutual(
    xs: np.ndarray, zt: np.ndarray, k: int, *, dense_bytes: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CSLS both ways between unit rows: (s2t, t2s, r_src, r_tgt), all exact.

    s2t[i]: the `zt` row with the best CSLS for ``xs[i]``; t2s[j]: the `xs` row with the best CSLS for
    ``zt[j]``; r_src / r_tgt: mean similarity of each `xs` / `zt` row to its k nearest rows of the other side.
    When ``len(xs) * len(zt) * 4 <= dense_bytes`` (default `DENSE_CSLS_BYTES`) the similarity matrix is
    computed once with torch and all four come from it; otherwise four faiss searches (`mean_topk_sim` twice,
    `csls_search` twice), which never hold the matrix.
    """
    xs = as_f32(xs)
    zt = as_f32(zt)
    limit = DENSE_CSLS_BYTES if dense_bytes is None else int(dense_bytes)
    if xs.shape[0] * zt.shape[0] * 4 > limit:
        r_src = mean_topk_sim(xs, zt, k)
        r_tgt = mean_topk_sim(zt, xs, k)
        _, s2t = csls_search(xs, zt, r_tgt, 1)
        _, t2s = csls_search(zt, xs, r_src, 1)
        return s2t[:, 0], t2s[:, 0], r_src, r_tgt
    if xs.shape[0] < 1 or zt.shape[0] < 1 or k < 1:
        raise LexiconError("knn: empty base or k < 1")
    with torch.no_grad():
        sim = torch.from_numpy(xs) @ torch.from_numpy(zt).T  # (n_src, n_tgt)
        r_src_t = sim.topk(min(int(k), sim.shape[1]), dim=1).values.double().mean(1).float()
        sim_t = sim.T.contiguous()
        r_tgt_t = sim_t.topk(min(int(k), sim_t.shape[1]), dim=1).values.double().mean(1).float()
        # 2 cos - r of the candidate; the query's own r does not change its ranking
        s2t = (2.0 * sim - r_tgt_t).argmax(1)
        t2s = (2.0 * sim_t - r_src_t).argmax(1)
    return s2t.numpy(), t2s.numpy(), r_src_t.numpy(), r_tgt_t.numpy()
