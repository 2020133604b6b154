"""Stages `mono_sft` and `layout_sft`.

- `mono_sft`: the base LLM alone (no encoder), the stage-2 recipe, the English task data -> `data/models/mono_sft/`.
- `layout_sft`: the `mono_sft` section's recipe on `math_sft_layout.parquet` (every word the unknown-word
  placeholder, numbers kept): the layout-only control of the evaluation -> `data/models/layout_sft/`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

from lingualift_core.config import ConfigError, Params
from lingualift_core.stages.base_models import BaseSource, base_sources
from lingualift_core.stages.common import Paths
from lingualift_core.stages.training import (
    checkpoint_dir,
    file_fingerprint,
    finish,
    is_main_process,
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
    "mono_sft": ("pipeline.seed", "base_models.hub.local_files_only", "mono_sft"),
    "layout_sft": ("pipeline.seed", "base_models.hub.local_files_only", "mono_sft"),
}


def _load_llm_only(stage: str, src: BaseSource, params: Params):
    from lingualift_core.model import LinguaLIFTModel, ModelLoadError

    try:
        return LinguaLIFTModel.from_base(llm=src.source, llm_revision=src.revision, template=params.mono_sft.template,
                                         seed=params.pipeline.seed,
                                         local_files_only=params.base_models.hub.local_files_only)
    except ModelLoadError as err:
        raise ConfigError(f"{stage}: {err}") from None


def _run_llm_sft(params: Params, root: Path, stage: str, data: Path) -> dict:
    paths, cfg = Paths(root), params.mono_sft
    t0, c0 = time.perf_counter(), time.process_time()
    src = base_sources(paths)["llm"]
    records = read_records(data)
    train_cfg = replace(cfg.train, stage=stage)
    ckpt = checkpoint_dir(paths, stage)
    identity = {"stage": stage, "params": section_identity(cfg), "llm": source_fingerprint(src),
                "records": file_fingerprint(data)}
    log.info("%s: %d records from %s", stage, len(records), data.name)
    with torch_threads(cfg.threads):
        used = records_for_steps(records, train_cfg)
        model, result = train_model(stage, lambda: _load_llm_only(stage, src, params), used, train_cfg,
                                    ckpt_folder=ckpt, identity=identity, resume=cfg.resume)
        if not is_main_process():
            return {}
        metrics = {"records": len(records), "records_used": len(used),
                   **train_metrics(result, time.perf_counter() - t0, time.process_time() - c0)}
        save_model(model, model_dir(paths, stage), params, stage, PARAMS[stage], result,
                   metrics, save_llm=True)
    finish(stage, paths, result, metrics, ckpt)
    return metrics


def run_mono_sft(params: Params, root: Path) -> dict:
    """The English-only baseline: the base LLM fine-tuned on the English task data; returns the metrics."""
    return _run_llm_sft(params, root, "mono_sft", Paths(root).math_sft)


def run_layout_sft(params: Params, root: Path) -> dict:
    """The layout-only control: the mono-SFT recipe on the placeholder-word task data; returns the metrics."""
    return _run_llm_sft(params, root, "layout_sft", Paths(root).math_sft_layout)
