"""A benchmark's stdout is its JSON alone (progress and logs go to stderr), so it pipes into a JSON reader."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_tokenize_benchmark_prints_only_json_on_stdout(shared_data: Path) -> None:
    # shared_data: the benchmark reads English text from it (the fixture skips without it, like the other tests)
    # the benchmark runs the tokenize stage itself, whose progress lines used to land on stdout
    out = subprocess.run([sys.executable, "-m", "benchmarks.tokenize", "--lines", "200", "--repeats", "1"], cwd=REPO,
                         capture_output=True, text=True, timeout=300, check=True)
    result = json.loads(out.stdout)
    assert result["benchmark"] and result["sentences"] == 200
    assert "::progress:: tokenize" in out.stderr


def test_precision_benchmark_prints_json() -> None:
    out = subprocess.run([sys.executable, "-m", "benchmarks.precision", "--steps", "1", "--repeats", "1"], cwd=REPO,
                         capture_output=True, text=True, timeout=300, check=True)
    result = json.loads(out.stdout)
    for kind in ("llm", "encoder"):
        assert set(result[kind]["ms_per_step"]) == {"fp32", "bf16", "bf16_fp32_attention"}
        assert all(v > 0 for v in result[kind]["speedup_over_fp32"].values())
