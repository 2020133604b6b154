"""Alignment analyses (paper section 6.3 and appendix E.1/E.2).

- top-1 retrieval accuracy on parallel pairs (Tatoeba) from mean-pooled sentence vectors, cosine, both ways;
- Spearman correlation between retrieval accuracy and task accuracy across languages;
- t-SNE of sentence representations coloured per language (FLORES);
- grouping of per-language results by language family and script (mappings passed in).

Inputs are plain arrays and mappings; computing the representations is the model's business.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "SpearmanResult",
    "correlation_by_level",
    "group_results",
    "group_table",
    "mean_pool",
    "plot_tsne",
    "retrieval_accuracy",
    "spearman_alignment",
    "tsne_coordinates",
]


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Masked mean over the token axis: ``hidden`` (n, t, d), ``mask`` (n, t) of 0/1 -> (n, d).

    A row with an all-zero mask gives a zero vector.
    """
    hidden = np.asarray(hidden, dtype=np.float64)
    mask = np.asarray(mask, dtype=np.float64)
    if hidden.ndim != 3 or mask.shape != hidden.shape[:2]:
        raise ValueError(f"hidden must be (n, t, d) and mask (n, t); got {hidden.shape} and {mask.shape}")
    total = (hidden * mask[..., None]).sum(axis=1)
    count = mask.sum(axis=1, keepdims=True)
    return total / np.maximum(count, 1.0)


def _unit(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norm, 1e-12)


def _top1(queries: np.ndarray, keys: np.ndarray, chunk: int) -> float:
    hits = 0
    for start in range(0, len(queries), chunk):
        sims = queries[start: start + chunk] @ keys.T
        hits += int((sims.argmax(axis=1) == np.arange(start, start + len(sims))).sum())
    return hits / len(queries)


def retrieval_accuracy(src: np.ndarray, tgt: np.ndarray, *, chunk: int = 4096) -> dict[str, float]:
    """Top-1 retrieval accuracy between paired sentence vectors (row i of ``src`` translates row i of ``tgt``).

    Cosine similarity; ``src2tgt``: for each source sentence, is its nearest target the paired one (ties go
    to the lower index); ``tgt2src`` the reverse; ``mean`` their average; ``n`` the number of pairs.
    """
    src = np.asarray(src, dtype=np.float64)
    tgt = np.asarray(tgt, dtype=np.float64)
    if src.ndim != 2 or tgt.ndim != 2 or src.shape != tgt.shape:
        raise ValueError(f"src and tgt must be (n, d) arrays of the same shape; got {src.shape} and {tgt.shape}")
    if len(src) == 0:
        raise ValueError("no pairs")
    if not (np.isfinite(src).all() and np.isfinite(tgt).all()):
        raise ValueError("representations contain NaN or inf")
    s, t = _unit(src), _unit(tgt)
    forward, backward = _top1(s, t, chunk), _top1(t, s, chunk)
    return {"src2tgt": forward, "tgt2src": backward, "mean": (forward + backward) / 2, "n": float(len(src))}


@dataclass(frozen=True)
class SpearmanResult:
    """Spearman's rho between two per-language scores; ``rho``/``pvalue`` are NaN with fewer than 3 languages."""

    rho: float
    pvalue: float
    n: int
    langs: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"rho": None if math.isnan(self.rho) else self.rho,
                "pvalue": None if math.isnan(self.pvalue) else self.pvalue, "n": self.n, "langs": list(self.langs)}


def spearman_alignment(retrieval: Mapping[str, float], accuracy: Mapping[str, float],
                       langs: Sequence[str] | None = None) -> SpearmanResult:
    """Spearman correlation (scipy) between retrieval accuracy and task accuracy over the languages both have
    (or ``langs``). Constant inputs give NaN (scipy's convention)."""
    from scipy.stats import spearmanr

    candidates = langs if langs is not None else sorted(retrieval)
    common = [lang for lang in candidates if lang in retrieval and lang in accuracy]
    if len(common) < 3:
        return SpearmanResult(float("nan"), float("nan"), len(common), tuple(common))
    x = [float(retrieval[lang]) for lang in common]
    y = [float(accuracy[lang]) for lang in common]
    if len(set(x)) == 1 or len(set(y)) == 1:
        return SpearmanResult(float("nan"), float("nan"), len(common), tuple(common))
    result = spearmanr(x, y)
    return SpearmanResult(float(result.statistic), float(result.pvalue), len(common), tuple(common))


def correlation_by_level(retrieval: Mapping[str, float], accuracy: Mapping[str, float],
                         levels: Mapping[str, str]) -> dict[str, SpearmanResult]:
    """:func:`spearman_alignment` per resource level and over all languages (key ``"all"``)."""
    out = {}
    for level in ("low", "medium", "high"):
        out[level] = spearman_alignment(retrieval, accuracy, [lang for lang in sorted(levels) if levels[lang] == level])
    out["all"] = spearman_alignment(retrieval, accuracy)
    return out


def tsne_coordinates(vectors: np.ndarray, *, perplexity: float = 30.0, seed: int = 0,
                     max_iter: int = 1000) -> np.ndarray:
    """2-D t-SNE (sklearn, PCA init, fixed seed); perplexity is capped below the number of points."""
    from sklearn.manifold import TSNE

    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 2 or len(vectors) < 3:
        raise ValueError(f"t-SNE needs an (n, d) array with n >= 3; got shape {vectors.shape}")
    perplexity = float(min(perplexity, max(1.0, (len(vectors) - 1) / 3)))
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed,
                max_iter=max_iter).fit_transform(vectors)


def plot_tsne(vectors: np.ndarray, langs: Sequence[str], path: str | Path, *, perplexity: float = 30.0,
              seed: int = 0, max_per_lang: int | None = None, title: str = "t-SNE of sentence representations",
              max_iter: int = 1000, dpi: int = 120) -> np.ndarray:
    """t-SNE scatter (PNG) of sentence vectors coloured per language; returns the 2-D coordinates of the points
    plotted (after the optional deterministic cap of ``max_per_lang`` points per language: the first ones)."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    vectors = np.asarray(vectors)
    langs = list(langs)
    if len(langs) != len(vectors):
        raise ValueError(f"{len(vectors)} vectors but {len(langs)} language labels")
    if max_per_lang is not None:
        kept, counts = [], {}
        for i, lang in enumerate(langs):
            counts[lang] = counts.get(lang, 0) + 1
            if counts[lang] <= max_per_lang:
                kept.append(i)
        vectors, langs = vectors[kept], [langs[i] for i in kept]
    coords = tsne_coordinates(vectors, perplexity=perplexity, seed=seed, max_iter=max_iter)
    fig = Figure(figsize=(7, 6))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(111)
    order = list(dict.fromkeys(langs))
    cmap = matplotlib.colormaps["tab20" if len(order) > 10 else "tab10"]
    labels = np.array(langs)
    for k, lang in enumerate(order):
        pts = coords[labels == lang]
        ax.scatter(pts[:, 0], pts[:, 1], s=6, alpha=0.7, color=cmap(k % cmap.N), label=lang)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(fontsize=7, markerscale=2, ncol=2 if len(order) > 12 else 1, loc="best")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=dpi, format="png")
    tmp.replace(path)
    return coords


def group_results(values: Mapping[str, float], groups: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Mean of per-language ``values`` per group (family or script): ``{group: {"mean", "n", "langs"}}``.

    Languages missing from ``groups`` go to the group ``"unknown"``.
    """
    buckets: dict[str, list[str]] = {}
    for lang in sorted(values):
        buckets.setdefault(groups.get(lang, "unknown"), []).append(lang)
    return {group: {"mean": sum(values[lang] for lang in members) / len(members), "n": len(members),
                    "langs": members} for group, members in sorted(buckets.items())}


def group_table(values: Mapping[str, Mapping[str, float]], groups: Mapping[str, str], *, kind: str = "family") -> str:
    """Markdown table: a row per group, a column per system (``values`` = ``{system: {lang: acc}}``)."""
    systems = list(values)
    grouped = {system: group_results(values[system], groups) for system in systems}
    names = sorted({g for per in grouped.values() for g in per})
    lines = [f"| {kind} | langs | " + " | ".join(systems) + " |", "|---|---|" + "---:|" * len(systems)]
    for name in names:
        langs = sorted({lang for per in grouped.values() if name in per for lang in per[name]["langs"]})
        cells = [f"{grouped[s][name]['mean']:.1f}" if name in grouped[s] else "–" for s in systems]
        lines.append(f"| {name} | {' '.join(langs)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
