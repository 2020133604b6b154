"""The Prefect flow `lingualift`: one task per DVC stage, in pipeline order, and the deployment `full`.

    lingualift serve                                   # serves lingualift/full (concurrency limit 1)
    prefect deployment run lingualift/full --watch --watch-timeout 3600
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from prefect import flow
from prefect.logging import get_run_logger

from lingualift_core.config import load_params
from lingualift_core.profiles import overridden_params
from tasks.dvc_stage import run_dvc_stage

DEPLOYMENT = "full"


def parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    """['tokenize.batch_size=500', ...] -> {'tokenize.batch_size': 500} (values parsed as YAML)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"override {item!r}: expected KEY=VALUE, e.g. tokenize.batch_size=500")
        out[key] = yaml.safe_load(value)
    return out


def pipeline_stages(root: Path) -> list[str]:
    """Expanded DVC stage names (foreach items included), in dvc.yaml order (which is topological)."""
    dvc = str(Path(sys.executable).with_name("dvc"))
    out = subprocess.run([dvc, "stage", "list", "--name-only"], cwd=root, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"dvc stage list failed in {root}: {out.stderr.strip()}")
    return [line.strip() for line in out.stdout.splitlines() if line.strip()]


def select_stages(all_stages: Sequence[str], wanted: Sequence[str] | None) -> list[str]:
    """Keeps the stages named in `wanted` (a group name like 'tokenize' selects every tokenize@item)."""
    if not wanted:
        return list(all_stages)
    chosen = [s for s in all_stages if s in wanted or s.split("@")[0] in wanted]
    unknown = [w for w in wanted if not any(s == w or s.split("@")[0] == w for s in all_stages)]
    if unknown:
        raise ValueError(f"unknown stage {unknown[0]!r}; stages: {', '.join(all_stages)}")
    return chosen


@flow(name="lingualift", log_prints=True)
def lingualift(stages: list[str] | None = None, force: bool = False,
               overrides: dict[str, Any] | None = None, root: str = ".") -> list[dict[str, Any]]:
    """Runs the pipeline's DVC stages in order (all by default), one Prefect task each."""
    logger = get_run_logger()
    root_path = Path(root).resolve()
    params = root_path / "params.yaml"
    results = []
    # overrides hold for this run only: params.yaml is back as it was afterwards (also on failure or cancel), so
    # the next `dvc repro` reruns what they changed with the file's own values
    with overridden_params(params, overrides or {}):
        # a forced single stage skips DVC's `inputs` check: validate here, before any task removes an output
        load_params(params)
        chosen = select_stages(pipeline_stages(root_path), stages)
        logger.info("stages: %s%s", ", ".join(chosen), f"; overrides {overrides}" if overrides else "")
        for stage in chosen:
            results.append(run_dvc_stage(stage, str(root_path), force))
    ran = [r["stage"] for r in results if r["ran"]]
    logger.info("done: %d stages ran, %d up to date", len(ran), len(results) - len(ran))
    return results


def serve(root: Path) -> None:
    """Serves the deployment `lingualift/full` from this process (one run at a time: DVC locks the repo).

    On SIGTERM Prefect's runner shuts down without pausing the deployment's schedules (it has none, and pausing
    is an API call that hangs when the Prefect server is already gone). A stage that was running keeps its
    previous outputs: every artifact is replaced atomically."""
    lingualift.serve(name=DEPLOYMENT, limit=1, parameters={"root": str(root)}, pause_on_shutdown=False)
