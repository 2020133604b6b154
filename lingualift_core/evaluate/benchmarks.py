"""Math benchmarks for evaluation: read, validate row by row, select languages, build layout-only copies.

Rows have the columns of the ``math`` artifact (``id, lang, question, answer, solution``). Sources:

- ``artifact``: a ``math`` Parquet file (the synthetic world's ``math_test.parquet``, or what ``prepare`` wrote
  from local / hub data), optionally filtered by an id prefix (``mgsm-``, ``msvamp-``);
- ``mgsm`` / ``msvamp`` / ``mmwp``: the benchmark's own folder, read by :mod:`lingualift_core.sources`.

Malformed rows (empty id / question, a missing or non-finite answer, an unknown language code, a repeated
``(lang, id)``) are counted in a :class:`~lingualift_core.sources.LoadReport`, described, and skipped; a
benchmark left with no valid row raises :class:`~lingualift_core.sources.NoValidRowsError` naming the file.

    result = load_math_benchmark("artifact", "data/raw/benchmarks/math_test.parquet")
    result.rows[0]   # {"id": ..., "lang": "qaa", "question": ..., "answer": 14.0, "solution": ...}
    result.report    # n_ok, n_bad, bad_examples=[(file, row_no, reason)], files
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lingualift_core.sources._common import MAX_BAD_EXAMPLES, LoadReport, LoadResult, NoValidRowsError

__all__ = [
    "Benchmark",
    "BENCHMARK_SOURCES",
    "clean_math_rows",
    "layout_rows",
    "load_math_benchmark",
    "match_rows",
    "read_math_artifact",
]


@dataclass
class Benchmark:
    """One benchmark's valid rows, their layout-only copies (when a floor system needs them) and the reports."""

    name: str
    file: str
    rows: list[dict[str, Any]]
    report: LoadReport
    task: str = "math"  # math | nli | mc
    floor_rows: list[dict[str, Any]] | None = None
    floor_file: str | None = None
    floor_report: LoadReport | None = None


BENCHMARK_SOURCES: tuple[str, ...] = ("artifact", "mgsm", "msvamp", "mmwp")


def _problem(row: Mapping[str, Any], known: set[str]) -> str | None:
    """Why ``row`` is malformed, or None when it is usable."""
    for name in ("id", "lang", "question"):
        value = row.get(name)
        if not isinstance(value, str) or not value.strip():
            return f"missing or empty {name!r}"
    if row["lang"] not in known:
        return f"unknown language code {row['lang']!r}"
    answer = row.get("answer")
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        return f"answer is not a number: {answer!r}"
    if not math.isfinite(float(answer)):
        return f"answer is not finite: {answer!r}"
    return None


def clean_math_rows(rows: Iterable[Mapping[str, Any]], source: str, *, langs: Sequence[str] | None = None,
                    id_prefix: str | None = None, max_per_lang: int | None = None,
                    report: LoadReport | None = None) -> LoadResult:
    """Validates ``rows`` (math columns) and keeps the usable ones.

    Args:
        rows: dicts with ``id, lang, question, answer`` (``solution`` optional).
        source: the file name used in the report and errors.
        langs: keep only these languages (None: every language); rows of other languages are skipped on purpose
            (``n_skipped``), not malformed.
        id_prefix: keep only rows whose id starts with it (also a purposeful skip).
        max_per_lang: keep the first N valid rows of each language (in file order).
        report: an earlier report of the same data (e.g. a loader's) to add to.
    Returns:
        ``LoadResult(rows, report)``; rows are fresh dicts with ``answer`` as float and ``solution`` as str or None.
    Raises:
        NoValidRowsError: nothing usable is left (the message names ``source``).
    """
    from lingualift_core.languages import all_languages

    known = {lang.code for lang in all_languages()}
    wanted = None if langs is None else set(langs)
    out = LoadReport(files=[source]) if report is None else report
    kept: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    per_lang: dict[str, int] = {}
    n_bad_before = out.n_bad
    for row_no, row in enumerate(rows, start=1):
        if id_prefix is not None and not str(row.get("id") or "").startswith(id_prefix):
            out.n_skipped += 1
            continue
        if wanted is not None and row.get("lang") not in wanted:
            out.n_skipped += 1
            continue
        reason = _problem(row, known)
        key = (str(row.get("lang")), str(row.get("id")))
        if reason is None and key in seen:
            reason = f"duplicate id {key[1]!r} for language {key[0]!r}"
        if reason is not None:
            out.n_bad += 1
            if len(out.bad_examples) < MAX_BAD_EXAMPLES:
                out.bad_examples.append((source, row_no, reason))
            continue
        seen.add(key)
        if max_per_lang is not None and per_lang.get(key[0], 0) >= max_per_lang:
            out.n_skipped += 1
            continue
        per_lang[key[0]] = per_lang.get(key[0], 0) + 1
        solution = row.get("solution")
        kept.append({"id": key[1], "lang": key[0], "question": str(row["question"]).strip(),
                     "answer": float(row["answer"]), "solution": solution if isinstance(solution, str) else None})
    if wanted is not None:
        missing = sorted(wanted - set(per_lang))
        if missing and kept:
            # a requested language with no usable row would silently vanish from every average
            raise NoValidRowsError(f"{source}: no valid rows for language(s) {', '.join(missing)} "
                                   f"(have: {', '.join(sorted(per_lang))})")
    if not kept:
        first = next((ex for ex in out.bad_examples if ex[0] == source), None)
        detail = f"; first problem: row {first[1]}: {first[2]}" if first else ""
        raise NoValidRowsError(f"{source}: no valid rows ({out.n_bad - n_bad_before} malformed, "
                               f"{out.n_skipped} skipped){detail}")
    out.n_ok += len(kept)
    return LoadResult(kept, out)


def read_math_artifact(path: str | Path, **kwargs: Any) -> LoadResult:
    """A ``math`` Parquet artifact (schema checked; a missing column fails naming the file), rows cleaned with
    :func:`clean_math_rows` (``kwargs`` go there)."""
    from lingualift_core import artifacts

    table = artifacts.read_table(path, artifacts.MATH)
    return clean_math_rows(table.to_pylist(), str(path), **kwargs)


def load_math_benchmark(source: str, path: str | Path, *, langs: Sequence[str] | None = None,
                        id_prefix: str | None = None, max_per_lang: int | None = None) -> LoadResult:
    """One benchmark from ``source`` (see :data:`BENCHMARK_SOURCES`) at ``path`` (file or folder)."""
    from lingualift_core import sources

    if source == "artifact":
        return read_math_artifact(path, langs=langs, id_prefix=id_prefix, max_per_lang=max_per_lang)
    loaders = {"mgsm": sources.load_mgsm, "msvamp": sources.load_msvamp, "mmwp": sources.load_mmwp}
    if source not in loaders:
        raise ValueError(f"unknown benchmark source {source!r}; expected one of {', '.join(BENCHMARK_SOURCES)}")
    loaded = loaders[source](path, langs=langs)
    # the loaders already counted unparsable lines; re-check what they returned (duplicates, unknown codes)
    return clean_math_rows(loaded.rows, str(path), id_prefix=id_prefix, max_per_lang=max_per_lang,
                           report=loaded.report)


def match_rows(rows: Sequence[Mapping[str, Any]], reference: Sequence[Mapping[str, Any]], source: str
               ) -> list[dict[str, Any]]:
    """The rows of ``rows`` whose ``(lang, id)`` is in ``reference``, in ``reference``'s order.

    Used for the layout-only copy: the floor must be scored on exactly the problems the systems see.
    Raises ``NoValidRowsError`` naming ``source`` when a reference problem has no counterpart.
    """
    by_key = {(str(r["lang"]), str(r["id"])): dict(r) for r in rows}
    missing = [(r["lang"], r["id"]) for r in reference if (str(r["lang"]), str(r["id"])) not in by_key]
    if missing:
        lang, rid = missing[0]
        raise NoValidRowsError(f"{source}: {len(missing)} benchmark problem(s) have no valid layout-only copy "
                               f"(first: lang {lang!r}, id {rid!r}); rebuild it with the benchmark "
                               "(`dvc repro prepare`)")
    return [by_key[(str(r["lang"]), str(r["id"]))] for r in reference]


def layout_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Layout-only copies of ``rows`` (every word one placeholder, numbers and punctuation kept), built in
    memory for benchmarks that come without a ``math_test_layout`` file."""
    from lingualift_core.toyworld import layout_only

    return [{**row, "question": layout_only(str(row["question"]))} for row in rows]


TASK_OF_SOURCE: dict[str, str] = {"artifact": "math", "mgsm": "math", "msvamp": "math", "mmwp": "math",
                                  "xnli": "nli", "xcopa": "mc", "xcsqa": "mc"}
_DEFAULT_SPLIT = {"xnli": "test", "xcopa": "test", "xcsqa": "dev"}


def load_task_benchmark(source: str, path: str | Path, *, split: str | None = None,
                        langs: Sequence[str] | None = None, max_per_lang: int | None = None) -> LoadResult:
    """An NLI (``xnli``) or multiple-choice (``xcopa``, ``xcsqa``) benchmark folder through
    :mod:`lingualift_core.sources`; malformed rows are counted in the report and skipped. Keeps the first
    ``max_per_lang`` rows per language. Raises ``NoValidRowsError`` naming ``path`` when nothing is left."""
    from lingualift_core.sources import load_xcopa, load_xcsqa, load_xnli_folder

    loaders = {"xnli": load_xnli_folder, "xcopa": load_xcopa, "xcsqa": load_xcsqa}
    if source not in loaders:
        raise ValueError(f"unknown task benchmark source {source!r} ({', '.join(loaders)})")
    result = loaders[source](path, split=split or _DEFAULT_SPLIT[source], langs=langs)
    rows, seen = [], Counter()
    for row in result.rows:
        seen[row["lang"]] += 1
        if max_per_lang is None or seen[row["lang"]] <= max_per_lang:
            rows.append(row)
    if not rows:
        raise NoValidRowsError(f"{path}: no valid {source} rows ({result.report.n_bad} malformed)")
    return LoadResult(rows, result.report)
