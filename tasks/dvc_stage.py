"""Prefect task: run one DVC stage, stream its output into the Prefect log, publish progress and metrics.

DVC decides what is stale; Prefect's own result caching stays off (`cache_policy=NO_CACHE`), so a flow run
does exactly the work `dvc repro` would.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_progress_artifact, create_table_artifact
from prefect.artifacts import update_progress_artifact
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from lingualift_core.stages.common import PROGRESS_ENV, PROGRESS_PREFIX

_PROGRESS = re.compile(rf"^{re.escape(PROGRESS_PREFIX)} (\S+) (\d+)/(\d+)\s*$")


class StageFailedError(RuntimeError):
    """`dvc repro` exited non-zero."""


def artifact_key(stage: str, kind: str) -> str:
    """Prefect artifact keys allow lowercase letters, digits and dashes only."""
    return re.sub(r"[^a-z0-9-]+", "-", f"{stage}-{kind}".lower()).strip("-")


def dvc_command(stage: str, force: bool) -> list[str]:
    """`dvc repro STAGE` brings stale upstream stages along; forcing reruns this stage alone."""
    dvc = str(Path(sys.executable).with_name("dvc"))
    return [dvc, "repro", *(["--force", "--single-item"] if force else []), stage]


def metrics_file(root: Path, stage: str) -> Path:
    """By convention a stage `name@item` writes `data/metrics/name_item.json`."""
    return root / "data" / "metrics" / f"{stage.replace('@', '_')}.json"


def flatten(metrics: Any, prefix: str = "") -> list[dict[str, Any]]:
    """Nested metrics -> table rows {metric, value}."""
    if isinstance(metrics, dict):
        rows: list[dict[str, Any]] = []
        for k, v in metrics.items():
            rows += flatten(v, f"{prefix}.{k}" if prefix else str(k))
        return rows
    return [{"metric": prefix, "value": metrics if not isinstance(metrics, list) else json.dumps(metrics)}]


@task(name="dvc-stage", cache_policy=NO_CACHE, task_run_name="{stage}")
def run_dvc_stage(stage: str, root: str, force: bool = False) -> dict[str, Any]:
    """Runs `dvc repro` for one stage in `root`; returns {stage, ran, metrics}."""
    logger = get_run_logger()
    root_path = Path(root)
    cmd = dvc_command(stage, force)
    logger.info("$ %s", " ".join(cmd))
    # The stage commands (`lingualift ...`) live beside this interpreter, e.g. in .venv/bin.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = {**os.environ, PROGRESS_ENV: "lines", "PYTHONUNBUFFERED": "1", "PATH": path}
    progress_id = create_progress_artifact(0.0, key=artifact_key(stage, "progress"),
                                           description=f"progress of {stage}")
    ran = False
    tail: list[str] = []
    with subprocess.Popen(cmd, cwd=root_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, bufsize=1) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            match = _PROGRESS.match(line)
            if match:
                done, total = int(match.group(2)), int(match.group(3))
                update_progress_artifact(progress_id, 100.0 * done / total if total else 100.0)
                continue
            ran = ran or line.startswith("Running stage")
            tail = (tail + [line])[-20:]
            logger.info(line)
        code = proc.wait()
    if code != 0:
        raise StageFailedError(f"dvc repro {stage} failed with exit code {code}:\n" + "\n".join(tail[-5:]))
    update_progress_artifact(progress_id, 100.0)
    path = metrics_file(root_path, stage)
    metrics = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    if metrics:
        create_table_artifact(flatten(metrics), key=artifact_key(stage, "metrics"),
                              description=f"metrics of {stage} ({path.relative_to(root_path)})")
    status = "ran" if ran else "was up to date (DVC skipped it)"
    summary = [f"### {stage}", "", f"Stage {status}.", ""]
    summary += [f"- **{row['metric']}**: {row['value']}" for row in flatten(metrics)]
    create_markdown_artifact("\n".join(summary), key=artifact_key(stage, "summary"),
                             description=f"summary of {stage}")
    return {"stage": stage, "ran": ran, "metrics": metrics}
