"""Runs one pipeline stage: the stage table, params loading and the multi-process relaunch (`lingualift stage`).

Every stage's code dependencies in `dvc.yaml` start here and at the stage's module (`tests/test_dvc_deps.py`).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lingualift_core.config import load_params, recorded_reads
from lingualift_core.profiles import check_no_pending_overrides

# a file to append, per stage run, the params keys the stage read (the end-to-end test checks them against the
# stage's declared PARAMS)
AUDIT_ENV = "LINGUALIFT_PARAMS_AUDIT"

# stage name -> ("module:function" under lingualift_core.stages, whether it runs per language)
STAGES: dict[str, tuple[str, bool]] = {
    "inputs": ("inputs:run", False),
    "prepare": ("prepare:run", False),
    "tokenize": ("tokenize:run", True),
    "vocab": ("vocab:run", False),
    "embeddings": ("embeddings:run", True),
    "lexicon": ("lexicon:run", True),
    "lexicon_report": ("lexicon:run_report", False),
    "codeswitch": ("codeswitch:run", False),
    "base_models": ("base_models:run", False),
    "stage1": ("stage1:run_stage1", False),
    "stage2": ("stage2:run_stage2", False),
    "no_stage1": ("stage2:run_no_stage1", False),
    "mono_sft": ("sft:run_mono_sft", False),
    "layout_sft": ("sft:run_layout_sft", False),
    "evaluate": ("evaluate:run", False),
}


# training stages -> the params section whose `processes` says how many data-parallel processes they run on
TRAINING_SECTIONS: dict[str, str] = {"stage1": "stage1", "stage2": "stage2", "no_stage1": "no_stage1",
                                     "mono_sft": "mono_sft", "layout_sft": "mono_sft"}


def stage_runner(name: str) -> tuple[Callable[..., Any], bool]:
    """The `run` function of a stage and whether it takes `lang`."""
    if name not in STAGES:
        raise ValueError(f"unknown stage {name!r}; known stages: {', '.join(STAGES)}")
    target, per_lang = STAGES[name]
    module, function = target.split(":")
    return getattr(importlib.import_module(f"lingualift_core.stages.{module}"), function), per_lang


def run_stage(name: str, root: Path, params_file: Path, lang: str | None = None) -> Any:
    """Loads params and runs one stage in `root`."""
    run, per_lang = stage_runner(name)
    if per_lang and not lang:
        raise ValueError(f"stage {name!r} runs per language: pass --lang CODE")
    if not per_lang and lang:
        raise ValueError(f"stage {name!r} is not per language: drop --lang")
    check_no_pending_overrides(params_file)
    params = load_params(params_file)
    section = TRAINING_SECTIONS.get(name)
    processes = getattr(params, section).processes if section else 1
    if processes > 1 and "LOCAL_RANK" not in os.environ:
        return _relaunch(name, root, params_file, processes)
    audit = os.environ.get(AUDIT_ENV)
    if not audit:
        return run(params, root, lang) if per_lang else run(params, root)
    with recorded_reads(params) as reads:
        result = run(params, root, lang) if per_lang else run(params, root)
    with open(audit, "a", encoding="utf-8") as fh:  # one short line per process: appends do not interleave
        fh.write(json.dumps({"stage": name, "lang": lang, "reads": sorted(reads)}) + "\n")
    return result


def _relaunch(name: str, root: Path, params_file: Path, processes: int) -> None:
    """Runs the stage again under `accelerate launch` with `processes` CPU processes (DDP over gloo, one torch
    thread each): the training loop splits every global batch's micro-batches between them, so the result equals
    the one-process run up to float summation order. Exits with the launch's status on failure."""
    import subprocess
    import tempfile

    import yaml

    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACCELERATE_", "FSDP_"))}
    env["OMP_NUM_THREADS"] = "1"
    # accelerate's CPU data parallelism: the multi-process type with use_cpu (torchrun + gloo); MULTI_CPU would
    # expect mpirun
    config = {"compute_environment": "LOCAL_MACHINE", "distributed_type": "MULTI_GPU", "use_cpu": True,
              "num_machines": 1, "machine_rank": 0, "num_processes": processes, "mixed_precision": "no",
              "rdzv_backend": "static", "same_network": True, "main_training_function": "main"}
    with tempfile.TemporaryDirectory(prefix="lingualift-launch-") as tmp:
        config_file = Path(tmp) / "accelerate.yaml"
        config_file.write_text(yaml.safe_dump(config), encoding="utf-8")
        cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(config_file),
               "--main_process_port", "0", "-m", "flows.cli", "stage", name, "--root", str(root),
               "--params", str(params_file)]
        done = subprocess.run(cmd, env=env, check=False)
    if done.returncode:
        raise OSError(f"stage {name}: the {processes}-process launch failed (exit {done.returncode}); set "
                      f"{name}.processes: 1 to run in one process")
