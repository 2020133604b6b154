"""Tokenize stage throughput against raw spaCy `nlp.pipe` with the same components, on the same text.

    python benchmarks/tokenize.py [--lines 3000] [--repeats 2]

Prints JSON: tokens/s of both and their ratio (target >= 0.9: the stage adds little over spaCy).
Text: English newstest lines from the public data folder (LINGUALIFT_SHARED_DATA, default ../shared/data).
"""

from __future__ import annotations

import sys

# This file is named like the stdlib module `tokenize`; keep its folder off the import path.
sys.path = [p for p in sys.path if not p.endswith("benchmarks")]

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lingualift_core import artifacts  # noqa: E402
from lingualift_core.config import parse_params  # noqa: E402
from lingualift_core.stages import tokenize as tokenize_stage  # noqa: E402
from lingualift_core.stages.common import Paths  # noqa: E402
from lingualift_core.text.tokenize import load_english  # noqa: E402


def english_lines(n: int) -> list[str]:
    root = Path(os.environ.get("LINGUALIFT_SHARED_DATA", REPO.parent / "shared" / "data")) / "monolingual" / "en"
    if not root.is_dir():
        sys.exit(f"benchmark needs English text at {root} (set LINGUALIFT_SHARED_DATA)")
    lines: list[str] = []
    for path in sorted(root.glob("*.eng")):
        lines += [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    return lines[:n]


def raw_spacy(texts: list[str], batch_size: int) -> tuple[int, float]:
    nlp = load_english().nlp
    t0 = time.perf_counter()
    n = sum(len(doc) for doc in nlp.pipe(texts, batch_size=batch_size))
    return n, time.perf_counter() - t0


def stage(texts: list[str], batch_size: int) -> tuple[int, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rows = [{"id": f"en-{i}", "lang": "en", "text": t} for i, t in enumerate(texts)]
        artifacts.write_rows(Paths(root).corpus("en"), rows, artifacts.CORPUS)
        params = parse_params({"tokenize": {"batch_size": batch_size}})
        os.environ["LINGUALIFT_PROGRESS"] = "lines"
        t0 = time.perf_counter()
        metrics = tokenize_stage.run(params, root, "en")
        return metrics["tokens"], time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=3000)
    ap.add_argument("--batch-size", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    texts = english_lines(args.lines)
    stage(texts[:50], args.batch_size)  # warm-up: model load and first-call costs
    raw_runs, stage_runs = [], []
    for _ in range(args.repeats):  # interleaved so machine noise hits both alike
        raw_runs.append(raw_spacy(texts, args.batch_size))
        stage_runs.append(stage(texts, args.batch_size))
    raw_tps = max(n / s for n, s in raw_runs)
    stage_tps = max(n / s for n, s in stage_runs)
    print(json.dumps({
        "benchmark": "tokenize", "sentences": len(texts), "tokens": raw_runs[0][0],
        "raw_nlp_pipe_tokens_per_s": round(raw_tps), "stage_tokens_per_s": round(stage_tps),
        "ratio_stage_over_raw": round(stage_tps / raw_tps, 3), "target_ratio": 0.9,
        "note": "best of repeats; the stage time includes reading the corpus and writing Parquet",
    }, indent=2))


if __name__ == "__main__":
    main()
