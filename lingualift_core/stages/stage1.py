"""Stage `stage1` (language alignment): encoder + LLM from `data/models/base/`, a fresh alignment layer and boundary
vectors (layout and alignment type from params); ONLY the alignment layer and the boundaries train, on the
code-switched translation records `data/codeswitch/stage1.parquet`; reconstruction recall on the held-out records
and on whole target-language sentences -> `data/models/stage1/`."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lingualift_core import artifacts
from lingualift_core.config import Params
from lingualift_core.stages.base_models import base_sources
from lingualift_core.stages.common import Paths
from lingualift_core.stages.training import (
    SAVE_FLAGS,
    checkpoint_dir,
    file_fingerprint,
    finish,
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
from lingualift_core.train.evaluation import recall_by_language

log = logging.getLogger("lingualift.train")

# the params keys each stage reads (a section name: all of it): dvc.yaml `params` and run_meta.json's `config`
# list exactly these (tests/test_dvc_deps.py; the end-to-end test audits the reads)
PARAMS: dict[str, tuple[str, ...]] = {
    "stage1": ("pipeline.seed", "pipeline.targets", "base_models.hub.local_files_only", "stage1"),
}


def holdout_recall(model: Any, path: Path, per_lang: int, batch_size: int) -> dict[str, Any]:
    """Reconstruction recall on the first `per_lang` held-out records of each language (micro over languages)."""
    rows = read_records(path, extra_columns=("lang",),
                        empty_hint="no held-out records for the recall check (or set stage1.recall_per_lang: 0)")
    by_lang: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        group = by_lang.setdefault(r["lang"], [])
        if len(group) < per_lang:
            group.append(r)
    out = recall_by_language(model, dict(sorted(by_lang.items())), batch_size=batch_size, n_examples=2)
    return {**out, "token_recall": out["token_recall_micro"]}


def parallel_recall(model: Any, paths: Paths, langs: Sequence[str], per_lang: int, batch_size: int,
                    instructions: Mapping[str, str]) -> dict[str, Any]:
    """Reconstruction recall on whole target-language sentences: the first `per_lang` parallel pairs of each
    language (target side in, English side as the reference), with that language's stage-1 instruction (macro
    over languages).

    The held-out code-switched records are mostly English (only the POS-selected words are switched), so their
    recall mostly measures copying English; the test problems are entirely in the target language."""
    by_lang: dict[str, list[dict[str, Any]]] = {}
    for lang in langs:
        path = paths.parallel(lang)
        pairs = (artifacts.read_table(path, artifacts.PARALLEL).slice(0, per_lang).to_pylist()
                 if path.is_file() else [])
        if not pairs or lang not in instructions:
            log.info("stage1: no whole-sentence recall for %s (%s)", lang,
                     "no held-out record" if pairs else f"no parallel pairs in {path}")
            continue
        by_lang[lang] = [{"instruction": instructions[lang], "input": p["tgt"], "output": p["src"]} for p in pairs]
    out = recall_by_language(model, by_lang, batch_size=batch_size, n_examples=1)
    return {**out, "token_recall": out["token_recall_macro"]}


def run_stage1(params: Params, root: Path) -> dict:
    """Stage 1: trains the alignment layer + boundaries on the code-switched records; returns the metrics."""
    paths, cfg, stage = Paths(root), params.stage1, "stage1"
    t0, c0 = time.perf_counter(), time.process_time()
    src = base_sources(paths)
    records = read_records(paths.stage1_records)
    ckpt = checkpoint_dir(paths, stage)
    identity = {"stage": stage, "params": section_identity(cfg), "seed": params.pipeline.seed,
                "base": {part: source_fingerprint(s) for part, s in src.items()},
                "records": file_fingerprint(paths.stage1_records)}
    log.info("%s: %d records, layout=%s, alignment=%s", stage, len(records), cfg.layout, cfg.alignment)
    with torch_threads(cfg.threads):
        used = records_for_steps(records, cfg.train)
        model, result = train_model(stage, lambda: load_base(stage, src, params, used), used, cfg.train,
                                    ckpt_folder=ckpt, identity=identity, resume=cfg.resume)
        if not is_main_process():
            return {}
        metrics = {"records": len(records), "records_used": len(used), **train_metrics(result, 0.0, 0.0)}
        recall = None
        if cfg.recall_per_lang:
            t1 = time.perf_counter()
            recall = holdout_recall(model, paths.stage1_holdout, cfg.recall_per_lang, cfg.eval_batch_size)
            metrics["reconstruction_recall"] = recall["token_recall"]
            metrics["reconstruction_recall_per_lang"] = recall["per_lang"]
            metrics["recall_records"] = recall["n_records"]
            if cfg.recall_on_parallel:
                instructions = {r["lang"]: r["instruction"] for r in reversed(
                    read_records(paths.stage1_holdout, extra_columns=("lang",)))}
                parallel = parallel_recall(model, paths, params.pipeline.targets, cfg.recall_per_lang,
                                           cfg.eval_batch_size, instructions)
                metrics["parallel_recall"] = parallel["token_recall"]
                metrics["parallel_recall_per_lang"] = parallel["per_lang"]
                recall["parallel_examples"] = parallel["examples"]
            metrics["recall_seconds"] = round(time.perf_counter() - t1, 1)
        metrics["seconds"] = round(time.perf_counter() - t0, 1)
        metrics["cpu_seconds"] = round(time.process_time() - c0, 1)
        save_model(model, model_dir(paths, stage), params, stage, PARAMS[stage], result,
                   metrics, save_llm=SAVE_FLAGS[cfg.save_llm],
                   extra={"recall_examples": recall["examples"] if recall else None,
                          "parallel_recall_examples": recall.get("parallel_examples") if recall else None})
    finish(stage, paths, result, metrics, ckpt)
    return metrics
