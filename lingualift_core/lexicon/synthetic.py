"""Synthetic embedding pairs with known ground truth (tests, benchmarks).

Isotropic Gaussian vectors are rotation-invariant, so no unsupervised method can recover a rotation from
them; these are anisotropic and clustered instead: a Gaussian mixture whose per-dimension scales decay
(s_j = (1 + j)^-decay), the same for cluster centres and within-cluster spread. The target language is the
source rotated by a random orthogonal matrix, plus isotropic noise, with its own frequency order: target
ranks are the source ranks perturbed log-normally (frequent words stay roughly frequent, as across real
languages), so the rows of the two matrices are in different orders.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .embeddings import Embeddings


@dataclass(frozen=True)
class SyntheticPair:
    src: Embeddings
    tgt: Embeddings
    gold: list[tuple[str, str]]  # (src word, tgt word), source frequency order
    rotation: np.ndarray  # tgt ~ src @ rotation.T (before noise)


def random_orthogonal(dim: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
    return (q * np.sign(np.diag(r))).astype(np.float32)


def synthetic_pair(
    n_words: int = 2000,
    dim: int = 50,
    *,
    n_clusters: int | None = None,
    spread: float = 0.6,
    decay: float = 0.5,
    noise: float = 0.05,
    rank_jitter: float = 0.3,
    seed: int = 0,
) -> SyntheticPair:
    """Source/target embeddings of `n_words` x `dim` with a known translation for every word.

    noise: norm of the target noise relative to the mean vector norm; rank_jitter: std of the log-rank
    perturbation that gives the target its own frequency order.
    """
    rng = np.random.default_rng(seed)
    scales = (1.0 + np.arange(dim)) ** (-decay)
    k = n_clusters or max(2, n_words // 40)
    centres = rng.standard_normal((k, dim)) * scales
    assign = rng.integers(0, k, n_words)
    x = (centres[assign] + spread * rng.standard_normal((n_words, dim)) * scales).astype(np.float32)
    q = random_orthogonal(dim, rng)
    rms = float(np.sqrt((x.astype(np.float64) ** 2).sum(1).mean()))
    y = x @ q.T + (noise * rms / np.sqrt(dim)) * rng.standard_normal((n_words, dim)).astype(np.float32)
    order = np.argsort(np.log1p(np.arange(n_words)) + rank_jitter * rng.standard_normal(n_words), kind="stable")
    counts = np.maximum(1, (1e7 / (1.0 + np.arange(n_words)))).astype(np.int64)
    src_words = [f"s{i}" for i in range(n_words)]
    tgt_words = [f"t{j}" for j in range(n_words)]
    pos = np.empty(n_words, dtype=np.int64)
    pos[order] = np.arange(n_words)
    src = Embeddings(src_words, counts, x, name="synthetic-src")
    tgt = Embeddings(tgt_words, counts.copy(), y[order], name="synthetic-tgt")
    gold = [(src_words[i], tgt_words[pos[i]]) for i in range(n_words)]
    return SyntheticPair(src, tgt, gold, q)
