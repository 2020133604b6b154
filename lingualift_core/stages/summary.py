"""`lingualift summary`: the last evaluation's headline table in a terminal (what `make run` ends with); reads
`data/eval/accuracy.csv`, the evaluation's run_meta.json and `data/metrics/evaluate_analysis.json`."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from lingualift_core import artifacts
from lingualift_core.stages.common import Paths


def closing_summary(root: Path, benchmark: str | None = None) -> str:
    """The run's result in a terminal: accuracy per language (rows) and system (columns, the floor first) on
    `benchmark` (default: the first in accuracy.csv), the missed gates, and where the report is."""
    paths = Paths(root)
    table = paths.data / "eval" / "accuracy.csv"
    if not table.is_file():
        raise FileNotFoundError(f"{table}: missing; run `dvc repro evaluate` first")
    with table.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise ValueError(f"{table}: no rows; rerun `dvc repro evaluate`")
    benchmark = benchmark or next((r["benchmark"] for r in rows if ":" not in r["benchmark"]), rows[0]["benchmark"])
    rows = [r for r in rows if r["benchmark"] == benchmark]
    if not rows:
        raise ValueError(f"{table}: no rows for benchmark {benchmark!r}")
    # the floor systems (`evaluate.systems.<name>.floor`) as the evaluation that wrote the table configured them
    meta = json.loads((table.parent / artifacts.RUN_META).read_text(encoding="utf-8"))
    floors = [name for name, spec in meta["config"]["evaluate"]["systems"].items() if spec.get("floor")]
    systems = sorted({r["system"] for r in rows}, key=lambda s: (s not in floors, s != "lingualift", s))
    langs = list(dict.fromkeys((r["lang"], r["level"]) for r in sorted(rows, key=lambda r: (r["lang"] != "en", r["lang"]))))
    cell = {(r["system"], r["lang"]): f"{float(r['accuracy']):.1f}" for r in rows}
    n = max((int(r["n"]) for r in rows), default=0)
    width = max(10, *(len(s) for s in systems))
    floor_note = f"; {', '.join(floors)} {'is the floor' if len(floors) == 1 else 'are floors'}" if floors else ""
    lines = [f"{benchmark}: accuracy in % ({n} problems per language{floor_note})",
             f"{'lang':<6}{'level':<8}" + "".join(f"{s:>{width + 2}}" for s in systems)]
    lines += [f"{lang:<6}{level:<8}" + "".join(f"{cell.get((s, lang), '-'):>{width + 2}}" for s in systems)
              for lang, level in langs]
    analysis = paths.metrics_file("evaluate_analysis")
    if analysis.is_file():
        gates = json.loads(analysis.read_text(encoding="utf-8")).get("gates", [])
        lines += [f"gate missed: {g['gate']} {g['value']:.3f} < {g['threshold']}" for g in gates if g.get("ok") is False]
    report = paths.data / "eval" / "report.md"
    lines.append(f"report: {os.path.relpath(report) if report.is_relative_to(Path.cwd()) else report}")
    return "\n".join(lines)
