"""The `lingualift` command: run one pipeline stage (what `dvc.yaml` calls), or serve the Prefect deployment.

    lingualift stage prepare
    lingualift stage tokenize --lang qaa
    lingualift summary                    # the headline table of the last evaluation and the report's path
    lingualift serve                      # serves the Prefect deployment `lingualift/full`
    lingualift flow --stages tokenize     # runs the Prefect flow in-process (no server needed)

Expected failures (bad params, missing or malformed inputs) print one line and exit with status 2; set
LINGUALIFT_DEBUG=1 for the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lingualift_core.config import load_params

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
    "stage1": ("train_stages:run_stage1", False),
    "stage2": ("train_stages:run_stage2", False),
    "no_stage1": ("train_stages:run_no_stage1", False),
    "mono_sft": ("train_stages:run_mono_sft", False),
    "layout_sft": ("train_stages:run_layout_sft", False),
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
    params = load_params(params_file)
    section = TRAINING_SECTIONS.get(name)
    processes = getattr(params, section).processes if section else 1
    if processes > 1 and "LOCAL_RANK" not in os.environ:
        return _relaunch(name, root, params_file, processes)
    return run(params, root, lang) if per_lang else run(params, root)


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
               "--main_process_port", "0", "-m", "lingualift_core.cli", "stage", name, "--root", str(root),
               "--params", str(params_file)]
        done = subprocess.run(cmd, env=env, check=False)
    if done.returncode:
        raise OSError(f"stage {name}: the {processes}-process launch failed (exit {done.returncode}); set "
                      f"{name}.processes: 1 to run in one process")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lingualift", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    st = sub.add_parser("stage", help="run one pipeline stage (called by dvc.yaml)")
    st.add_argument("name", choices=sorted(STAGES))
    st.add_argument("--lang", help="language code for per-language stages")
    st.add_argument("--params", type=Path, default=Path("params.yaml"))
    st.add_argument("--root", type=Path, default=Path("."), help="repository root (artifact paths are relative)")
    sm = sub.add_parser("summary", help="print the evaluation's headline table and the report's path")
    sm.add_argument("--root", type=Path, default=Path("."))
    sm.add_argument("--benchmark", default=None, help="default: the first benchmark")
    sv = sub.add_parser("serve", help="serve the Prefect deployment lingualift/full")
    sv.add_argument("--root", type=Path, default=Path("."))
    fl = sub.add_parser("flow", help="run the Prefect flow in-process")
    fl.add_argument("--stages", nargs="*", default=None, help="DVC stage names (default: all)")
    fl.add_argument("--force", action="store_true", help="rerun even if DVC finds the stage up to date")
    fl.add_argument("--set", dest="overrides", nargs="*", default=[], metavar="KEY=VALUE",
                    help="params overrides written to params.yaml first, e.g. tokenize.batch_size=500")
    fl.add_argument("--root", type=Path, default=Path("."))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from lingualift_core.stages.common import setup_logging

    setup_logging()
    try:
        if args.command == "stage":
            run_stage(args.name, args.root.resolve(), args.params, args.lang)
        elif args.command == "summary":
            from lingualift_core.stages.evaluate import closing_summary

            print(closing_summary(args.root.resolve(), args.benchmark))
        elif args.command == "serve":
            from flows.lingualift import serve

            serve(args.root.resolve())
        elif args.command == "flow":
            from flows.lingualift import lingualift, parse_overrides

            lingualift(stages=args.stages, force=args.force, overrides=parse_overrides(args.overrides),
                       root=str(args.root.resolve()))
    except (ValueError, OSError, ImportError) as err:
        if os.environ.get("LINGUALIFT_DEBUG"):
            raise
        print(f"lingualift: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
