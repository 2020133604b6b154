"""Stages `stage2` and `no_stage1`.

- `stage2` (task transfer): the stage-1 model; the LLM trains (fully, or LoRA with `stage2.train.lora`) on the
  English task data `data/raw/tasks/math_sft.parquet` (the question goes through the encoder); encoder,
  alignment and boundaries frozen -> `data/models/stage2/` (the LLM a standard Hugging Face folder inside).
- `no_stage1` (the control without stage 1): the base models with a fresh alignment layer that trains together
  with the LLM on the same English data -> `data/models/no_stage1/`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from lingualift_core import artifacts
from lingualift_core.config import ConfigError, Params
from lingualift_core.stages.base_models import BaseSource, base_sources
from lingualift_core.stages.common import Paths
from lingualift_core.stages.training import (
    SAVE_FLAGS,
    checkpoint_dir,
    file_fingerprint,
    finish,
    folder_fingerprint,
    is_main_process,
    load_base,
    model_dir,
    read_records,
    records_for_steps,
    save_model,
    section_identity,
    source_fingerprint,
    train_metrics,
    train_model,
)
from lingualift_core.threads import torch_threads

log = logging.getLogger("lingualift.train")

# the params keys each stage reads (a section name: all of it): dvc.yaml `params` and run_meta.json's `config`
# list exactly these (tests/test_dvc_deps.py; the end-to-end test audits the reads)
PARAMS: dict[str, tuple[str, ...]] = {
    "stage2": ("pipeline.seed", "base_models.hub.local_files_only", "stage2"),
    "no_stage1": ("pipeline.seed", "base_models.hub.local_files_only", "stage1", "no_stage1"),
}


def _load_stage1(paths: Paths, params: Params):
    from lingualift_core.model import LinguaLIFTModel, ModelLoadError

    folder = artifacts.require_complete(model_dir(paths, "stage1"))
    try:
        return LinguaLIFTModel.from_pretrained(folder, local_files_only=params.base_models.hub.local_files_only)
    except ModelLoadError as err:
        raise ConfigError(f"stage2: {err}") from None
    except ValueError as err:  # e.g. the referenced LLM no longer matches the alignment layer's width
        raise ConfigError(f"stage2: {str(err).splitlines()[0]}") from None


def run_stage2(params: Params, root: Path) -> dict:
    """Stage 2: trains the LLM of the stage-1 model on the English task data; returns the metrics."""
    paths, cfg, stage = Paths(root), params.stage2, "stage2"
    t0, c0 = time.perf_counter(), time.process_time()
    records = read_records(paths.math_sft)
    ckpt = checkpoint_dir(paths, stage)
    identity = {"stage": stage, "params": section_identity(cfg),
                "stage1": folder_fingerprint(artifacts.require_complete(model_dir(paths, "stage1"))),
                "records": file_fingerprint(paths.math_sft)}
    log.info("%s: %d records, llm=%s", stage, len(records), "lora" if cfg.train.lora else cfg.train.train_llm)
    with torch_threads(cfg.threads):
        used = records_for_steps(records, cfg.train)
        model, result = train_model(stage, lambda: _load_stage1(paths, params), used, cfg.train,
                                    ckpt_folder=ckpt, identity=identity, resume=cfg.resume)
        if not is_main_process():
            return {}
        metrics = {"records": len(records), "records_used": len(used),
                   **train_metrics(result, time.perf_counter() - t0, time.process_time() - c0)}
        save_model(model, model_dir(paths, stage), params, stage, PARAMS[stage], result,
                   metrics, save_llm=True, save_encoder=SAVE_FLAGS[cfg.save_encoder])
    finish(stage, paths, result, metrics, ckpt)
    return metrics


def _load_fresh(stage: str, src: Mapping[str, BaseSource], params: Params, records: Sequence[Mapping[str, Any]]):
    """Both base models with a fresh alignment layer (stage-1 architecture, embedding-scale init, no warm start)."""
    return load_base(stage, src, replace(params, stage1=replace(params.stage1, warm_start_steps=0)), records)


def run_no_stage1(params: Params, root: Path) -> dict:
    """The `no_stage1` control: stage 2 from the base models with a fresh alignment layer that trains together
    with the LLM on the English task data (stage 1 skipped, not shortened); returns the metrics."""
    paths, cfg, stage = Paths(root), params.no_stage1, "no_stage1"
    t0, c0 = time.perf_counter(), time.process_time()
    src = base_sources(paths)
    records = read_records(paths.math_sft)
    train_cfg = replace(cfg.train, stage=stage)
    ckpt = checkpoint_dir(paths, stage)
    identity = {"stage": stage, "params": section_identity(cfg), "stage1": section_identity(params.stage1),
                "seed": params.pipeline.seed, "base": {part: source_fingerprint(s) for part, s in src.items()},
                "records": file_fingerprint(paths.math_sft)}
    log.info("%s: %d records, alignment=%s (fresh), llm=%s", stage, len(records), train_cfg.train_alignment,
             train_cfg.train_llm)
    with torch_threads(cfg.threads):
        used = records_for_steps(records, train_cfg)
        model, result = train_model(stage, lambda: _load_fresh(stage, src, params, used), used, train_cfg,
                                    ckpt_folder=ckpt, identity=identity, resume=cfg.resume)
        if not is_main_process():
            return {}
        metrics = {"records": len(records), "records_used": len(used),
                   **train_metrics(result, time.perf_counter() - t0, time.process_time() - c0)}
        save_model(model, model_dir(paths, stage), params, stage, PARAMS[stage],
                   result, metrics, save_llm=True, save_encoder=SAVE_FLAGS["auto"])
    finish(stage, paths, result, metrics, ckpt)
    return metrics
