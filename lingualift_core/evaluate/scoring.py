"""Accuracy per (system, benchmark, lang) and resource-level averages.

The metrics dict (what ``data/metrics/eval.json`` holds) is::

    {system: {benchmark: {<lang>: acc, ..., "avg_low": acc, "avg_medium": acc, "avg_high": acc,
                          "avg_all": acc, "high_includes_en": bool}}}

Accuracies are percentages (0-100, as in the paper's tables), rounded to ``digits``. Averages are macro
averages over the languages of a level that the benchmark has (None when it has none); levels come from a
plain ``{lang: "low"|"medium"|"high"}`` mapping (e.g. ``lingualift_core.languages.levels_mapping``).
``avg_all`` averages every language, English included. Whether English counts in ``avg_high`` is the
``english_in_high`` flag (the paper's MGSM/MSVAMP high averages include it); it is recorded in every
benchmark entry as ``high_includes_en``. A language missing from ``levels`` only counts in ``avg_all``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pyarrow as pa

__all__ = ["LEVEL_ORDER", "AVG_KEYS", "accuracy_rows", "compute_metrics", "language_keys", "level_averages",
           "wilson_interval"]

LEVEL_ORDER: tuple[str, ...] = ("low", "medium", "high")
AVG_KEYS: tuple[str, ...] = ("avg_low", "avg_medium", "avg_high", "avg_all")
_META_KEYS = frozenset(AVG_KEYS) | {"high_includes_en"}


def _records(predictions: pa.Table | Iterable[Mapping[str, Any]] | Iterable[pa.Table]) -> list[Mapping[str, Any]]:
    columns = ["id", "lang", "system", "benchmark", "correct"]
    if isinstance(predictions, pa.Table):
        return predictions.select(columns).to_pylist()
    out: list[Mapping[str, Any]] = []
    for item in predictions:
        if isinstance(item, pa.Table):
            out.extend(item.select(columns).to_pylist())
        else:
            out.append(item)
    return out


def accuracy_rows(predictions: pa.Table | Iterable[Mapping[str, Any]] | Iterable[pa.Table]) -> list[dict[str, Any]]:
    """``[{system, benchmark, lang, n, n_correct, accuracy (0-1)}]`` sorted by system, benchmark, lang.

    Raises ``ValueError`` on a duplicated (system, benchmark, lang, id): scoring a prompt twice is a bug.
    """
    counts: dict[tuple[str, str, str], list[int]] = {}
    seen: set[tuple[str, str, str, str]] = set()
    for row in _records(predictions):
        key = (row["system"], row["benchmark"], row["lang"])
        full = (*key, str(row["id"]))
        if full in seen:
            raise ValueError(f"duplicate prediction for system={key[0]} benchmark={key[1]} lang={key[2]} id={full[3]}")
        seen.add(full)
        tally = counts.setdefault(key, [0, 0])
        tally[0] += bool(row["correct"])
        tally[1] += 1
    return [{"system": s, "benchmark": b, "lang": lang, "n": n, "n_correct": c, "accuracy": c / n}
            for (s, b, lang), (c, n) in sorted(counts.items())]


def wilson_interval(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval (default 95%) of a proportion of ``k`` successes in ``n`` trials, as (low, high)
    in [0, 1]. Unlike the normal approximation it stays inside [0, 1] and is sensible at 0/n and n/n."""
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n > 0, got k={k}, n={n}")
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / denom
    # exact at the ends (rounding would leave 0.9999999999999999 for n/n)
    return (0.0 if k == 0 else max(0.0, centre - half)), (1.0 if k == n else min(1.0, centre + half))


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def level_averages(acc: Mapping[str, float], levels: Mapping[str, str], *,
                   english_in_high: bool = True) -> dict[str, float | None]:
    """``{"avg_low", "avg_medium", "avg_high", "avg_all"}`` (macro means; None for an empty level)."""
    for lang, level in levels.items():
        if level not in LEVEL_ORDER:
            raise ValueError(f"level of {lang!r} must be one of {', '.join(LEVEL_ORDER)}, got {level!r}")
    out: dict[str, float | None] = {}
    for level in LEVEL_ORDER:
        values = [value for lang, value in acc.items()
                  if levels.get(lang) == level and (english_in_high or lang != "en" or level != "high")]
        out[f"avg_{level}"] = _mean(values)
    out["avg_all"] = _mean(list(acc.values()))
    return out


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def compute_metrics(predictions: pa.Table | Iterable[Mapping[str, Any]] | Iterable[pa.Table],
                    levels: Mapping[str, str], *, english_in_high: bool = True, digits: int = 2
                    ) -> dict[str, dict[str, dict[str, Any]]]:
    """The metrics dict (see the module doc) from one or more predictions tables."""
    metrics: dict[str, dict[str, dict[str, Any]]] = {}
    per_lang: dict[tuple[str, str], dict[str, float]] = {}
    for row in accuracy_rows(predictions):
        per_lang.setdefault((row["system"], row["benchmark"]), {})[row["lang"]] = 100.0 * row["accuracy"]
    for (system, benchmark), acc in per_lang.items():
        entry: dict[str, Any] = {lang: _round(value, digits) for lang, value in acc.items()}
        for key, value in level_averages(acc, levels, english_in_high=english_in_high).items():
            entry[key] = _round(value, digits)
        entry["high_includes_en"] = english_in_high
        metrics.setdefault(system, {})[benchmark] = entry
    return metrics


def language_keys(entry: Mapping[str, Any]) -> list[str]:
    """The language keys of one ``metrics[system][benchmark]`` entry (averages and flags left out)."""
    return [key for key in entry if key not in _META_KEYS]
