"""What the training stages share (`stage1`, `stage2`, `no_stage1`, `mono_sft`, `layout_sft`: `stages/stage1.py`,
`stage2.py`, `sft.py`): records in, a model built and trained with the library's loop, the model folder out.

Which parts train is the `train_encoder / train_alignment / train_llm / lora` flags of each section's `train`
(a `TrainConfig`), so ablations are params changes (`dvc exp run -S stage1.train.train_llm=true`).

Every model folder is `LinguaLIFTModel.save_pretrained` output (+ `run_meta.json` with the trainable parameter
names, `_COMPLETE`). Base models from local folders are copied into the folder (self-contained; the tiny LLM is
a few MB), hub ids are referenced (`save_llm` / `save_encoder` params change that).

Checkpoints go to `data/checkpoints/<stage>/` (not a DVC output). With `resume: true` a run continues from the
newest checkpoint when the checkpoint was made from the same inputs (model files, records) and the same params;
otherwise the old checkpoints are deleted and training starts fresh (logged). They are deleted after a
successful save.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from lingualift_core import artifacts
from lingualift_core.config import ConfigError, Params, section_to_dict
from lingualift_core.stages.base_models import BaseSource, plot_file, write_plot
from lingualift_core.stages.common import Paths, Progress, write_meta, write_metrics

log = logging.getLogger("lingualift.train")

RECORD_COLUMNS = ("instruction", "input", "output")
IDENTITY_FILE = "inputs.json"
# params keys that change nothing learned (a checkpoint stays valid when they change)
_NOT_LEARNED = frozenset({"resume", "threads", "recall_per_lang", "eval_batch_size", "save_llm", "save_encoder"})


def model_dir(paths: Paths, stage: str) -> Path:
    """`data/models/<stage>/`."""
    return paths.data / "models" / stage


def checkpoint_dir(paths: Paths, stage: str) -> Path:
    """`data/checkpoints/<stage>/` (git-ignored, not a DVC output)."""
    return paths.data / "checkpoints" / stage


def read_records(path: Path, extra_columns: Sequence[str] = (), empty_hint: str = "empty training set"
                 ) -> list[dict[str, Any]]:
    """Rows {instruction, input, output, *extra_columns} of a Parquet file (SFT, stage-1 records, ...).

    Fails in one line when the file is missing, lacks a column, or has no rows (`empty_hint` says what then)."""
    path = Path(path)
    if not path.is_file():
        raise artifacts.ArtifactError(f"{path}: artifact not found; run the stage that writes it (`dvc repro`)")
    columns = [*RECORD_COLUMNS, *extra_columns]
    names = pq.read_schema(path).names
    missing = [c for c in columns if c not in names]
    if missing:
        raise artifacts.ArtifactError(f"{path}: missing column {missing[0]!r} (need {', '.join(columns)})")
    rows = pq.read_table(path, columns=columns).to_pylist()
    if not rows:
        raise artifacts.ArtifactError(f"{path}: {empty_hint} (0 records); check the stage that writes it")
    return rows


def folder_fingerprint(folder: Path) -> str:
    """Content hash of a model folder (large files: size + first and last 4 MiB), for checkpoint validity."""
    h = hashlib.sha256()
    for f in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        if f.name in (artifacts.RUN_META, artifacts.COMPLETE_MARKER):
            continue  # timestamps, not content
        size = f.stat().st_size
        h.update(f"{f.relative_to(folder)}:{size}".encode())
        with f.open("rb") as fh:
            if size <= 8 << 20:
                h.update(fh.read())
            else:
                h.update(fh.read(4 << 20))
                fh.seek(-(4 << 20), 2)
                h.update(fh.read())
    return h.hexdigest()


def file_fingerprint(path: Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def source_fingerprint(src: BaseSource) -> str:
    return folder_fingerprint(Path(src.source)) if src.local else f"{src.source}@{src.revision}"


class _StepReporter:
    """`on_step` for `train`: drives a `Progress` bar (created at the first step, when the total is known)."""

    def __init__(self, desc: str) -> None:
        self.desc = desc
        self.bar: Progress | None = None

    def __call__(self, step: int, total: int, metrics: Mapping[str, Any]) -> None:
        if self.bar is None:
            self.bar = Progress(self.desc, total=total).__enter__()
            self.bar.done = step - 1  # a resumed run starts past zero
        self.bar.update(step - self.bar.done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _prepare_checkpoints(folder: Path, identity: Mapping[str, Any], resume: bool, stage: str) -> bool:
    """Keeps the checkpoints in `folder` only if they were made from `identity` and resuming is on.

    Returns whether training should resume from them. Every process decides from the same files; only the main
    process deletes and writes."""
    from lingualift_core.train import latest_checkpoint

    state = _process_state()
    marker = folder / IDENTITY_FILE
    same = marker.is_file() and json.loads(marker.read_text(encoding="utf-8")) == json.loads(json.dumps(identity))
    usable = resume and same and latest_checkpoint(folder) is not None
    state.wait_for_everyone()  # everyone has read before anything is deleted
    if state.is_main_process:
        if folder.exists() and not usable:
            reason = "resume is off" if not resume else "no complete checkpoint" if same else "inputs or params changed"
            log.info("%s: removing old checkpoints in %s (%s)", stage, folder, reason)
            shutil.rmtree(folder)
        folder.mkdir(parents=True, exist_ok=True)
        artifacts.write_json(marker, identity)
        if usable:
            log.info("%s: resuming from %s", stage, latest_checkpoint(folder))
    state.wait_for_everyone()
    return usable


def records_for_steps(records: list[dict[str, Any]], train_cfg: Any) -> list[dict[str, Any]]:
    """With `max_steps` set, at most max_steps x global_batch_size records can be seen: a seeded random subset of
    that size is drawn BEFORE tokenization (which costs seconds per 10k records), in the original order."""
    if train_cfg.max_steps is None:
        return records
    need = train_cfg.max_steps * train_cfg.global_batch_size
    if need >= len(records):
        return records
    keep = sorted(random.Random(train_cfg.seed).sample(range(len(records)), need))
    log.info("%s: max_steps=%d uses %d of %d records (seeded random subset)", train_cfg.stage, train_cfg.max_steps,
             need, len(records))
    return [records[i] for i in keep]


def train_model(
    stage: str,
    build: Callable[[], Any],
    records: Sequence[Mapping[str, Any]],
    train_cfg: Any,
    *,
    ckpt_folder: Path,
    identity: Mapping[str, Any],
    resume: bool,
) -> tuple[Any, Any]:
    """Builds the model and trains it with the shared loop (checkpoints, resume); returns (model, TrainResult)."""
    from lingualift_core.train import ConfigMismatchError, fsdp, train

    state = _process_state()
    kind = state.distributed_type.name  # MULTI_GPU under an FSDP launch too (only AcceleratorState says FSDP)
    if kind in ("DEEPSPEED", "MEGATRON_LM"):
        raise ConfigError(f"{stage}: accelerate launch with {kind} is not supported; use configs/accelerate/fsdp.yaml "
                          "(sharded) or configs/accelerate/ddp.yaml")
    if fsdp.fsdp_requested(kind, state.num_processes):
        try:  # before the models load: one of the refused settings changes how transformers loads them
            fsdp.sharding_plan(bf16=False)
        except ValueError as err:
            raise ConfigError(f"{stage}: {err}") from None
    resume_now = _prepare_checkpoints(ckpt_folder, identity, resume, stage) if train_cfg.checkpoint_every else False
    kwargs = {"checkpoint_dir": ckpt_folder if train_cfg.checkpoint_every else None}
    reporter = _StepReporter(stage)
    model = build()
    try:
        mismatch = None
        try:
            result = train(model, records, train_cfg, resume="latest" if resume_now else None, on_step=reporter,
                           **kwargs)
        except ConfigMismatchError as err:  # e.g. a checkpoint of another library version: start over
            mismatch = str(err)  # not the exception: its traceback would keep the first attempt's model alive
        if mismatch is not None:
            log.warning("%s: %s; training from scratch", stage, mismatch)
            _prepare_checkpoints(ckpt_folder, identity, resume=False, stage=stage)
            reporter.close()
            reporter = _StepReporter(stage)
            model = None
            model = build()
            result = train(model, records, train_cfg, resume=None, on_step=reporter, **kwargs)
    finally:
        reporter.close()
    return model, result


def train_metrics(result: Any, seconds: float, cpu_seconds: float) -> dict[str, Any]:
    """The metrics every training stage reports (keys are stable)."""
    tail = [h["loss"] for h in result.history[-10:]]
    return {
        "final_loss": round(result.final_loss, 5) if result.final_loss is not None else None,
        "final_loss_avg10": round(sum(tail) / len(tail), 5) if tail else None,
        "first_loss": round(result.history[0]["loss"], 5) if result.history else None,
        "steps": result.steps,
        "epochs": round(result.steps / result.steps_per_epoch, 3),
        "trainable_parameters": result.num_trainable_parameters,
        "tokens_per_s": round(result.tokens_per_s, 1),
        "padding_waste": round(result.padding_waste, 4),
        "truncated_records": result.truncated_records,
        "resumed_from_step": result.resumed_from_step,
        "world_size": result.world_size,
        "parallelism": result.parallelism,  # single | host_sum | ddp | fsdp2
        "train_seconds": round(result.train_time_s, 1),
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu_seconds, 1),  # all threads; on a shared machine a steadier cost than wall time
    }


def save_model(
    model: Any, folder: Path, params: Params, stage: str, keys: Iterable[str], result: Any,
    metrics: Mapping[str, Any], *, save_llm: bool | str = "auto", save_encoder: bool | str = "auto",
    extra: Mapping[str, Any] | None = None,
) -> None:
    """`save_pretrained` into `folder` atomically, with run_meta.json (the stage's params `keys`, trainable names,
    base revisions)."""
    cfg = model.config
    meta = {
        "metrics": dict(metrics),
        "trainable_parameters": result.trainable_parameters,
        "train_config": result.config,
        "base_models": {"encoder": cfg.encoder_source, "encoder_revision": cfg.encoder_revision,
                        "llm": cfg.llm_source, "llm_revision": cfg.llm_revision},
        **(dict(extra) if extra else {}),
    }
    with artifacts.atomic_dir(folder) as out:
        model.save_pretrained(out, save_llm=save_llm, save_encoder=save_encoder)
        write_meta(out, stage, params, keys, meta)


SAVE_FLAGS: dict[str, bool | str] = {"auto": "auto", "copy": True, "reference": False}


def _process_state() -> Any:
    """accelerate's process state, created as the training loop's Accelerator creates it: on a machine without
    CUDA a multi-process launch is only recognised with ``cpu=True``."""
    import torch
    from accelerate import PartialState

    from lingualift_core.train.loop import PROCESS_GROUP_TIMEOUT

    return PartialState(cpu=not torch.cuda.is_available(), timeout=PROCESS_GROUP_TIMEOUT)


def is_main_process() -> bool:
    return _process_state().is_main_process


def section_identity(section: Any) -> dict[str, Any]:
    """The params of a section that shape the trained model (bookkeeping keys dropped)."""
    from lingualift_core.train.config import RESUME_IGNORED_KEYS

    d = {k: v for k, v in section_to_dict(section).items() if k not in _NOT_LEARNED}
    d["train"] = {k: v for k, v in d["train"].items() if k not in RESUME_IGNORED_KEYS}
    return d


def finish(stage: str, paths: Paths, result: Any, metrics: Mapping[str, Any], ckpt_folder: Path) -> None:
    write_plot(plot_file(paths, f"{stage}_loss"), result.history)
    write_metrics(paths, stage, dict(metrics))
    if ckpt_folder.exists():
        shutil.rmtree(ckpt_folder)  # the saved model supersedes them
    log.debug("%s: %s", stage, {k: v for k, v in metrics.items() if not isinstance(v, dict)})
    recall = metrics.get("parallel_recall_per_lang")
    log.info("%s: %s steps (%.1f epochs) in %.0f s, final loss %s%s", stage, metrics.get("steps"),
             metrics.get("epochs") or 0.0, metrics.get("seconds") or 0.0, metrics.get("final_loss_avg10"),
             f"; whole-sentence recall {', '.join(f'{k} {v:.2f}' for k, v in recall.items())}" if recall else "")


def load_base(stage: str, src: Mapping[str, BaseSource], params: Params, records: Sequence[Mapping[str, Any]]):
    """Both base models as a stage-1 LinguaLIFT model (alignment + boundaries fresh, from params)."""
    from lingualift_core.model import LinguaLIFTModel, ModelLoadError
    from lingualift_core.train.alignment_init import match_embedding_scale, warm_start_alignment

    cfg = params.stage1
    try:
        model = LinguaLIFTModel.from_base(
            llm=src["llm"].source, encoder=src["encoder"].source, llm_revision=src["llm"].revision,
            encoder_revision=src["encoder"].revision, layout=cfg.layout, alignment=cfg.alignment,
            template=cfg.template, boundary_init_std=cfg.boundary_init_std, seed=params.pipeline.seed,
            local_files_only=params.base_models.hub.local_files_only,
        )
    except ModelLoadError as err:
        raise ConfigError(f"{stage}: {err}") from None
    except ValueError as err:  # dimension checks of the model
        raise ConfigError(f"{stage}: {str(err).splitlines()[0]}") from None
    limit = getattr(model.encoder.config, "max_position_embeddings", None)
    wanted = cfg.max_encoder_tokens or limit or 512
    if limit is not None and wanted > limit:
        raise ConfigError(f"stage1.max_encoder_tokens: got {wanted}, the encoder has only {limit} positions; "
                          f"use at most {limit}")
    model.config = replace(model.config, max_encoder_tokens=int(wanted))
    if cfg.init_start_token or cfg.init_end_token:
        try:
            model.init_boundaries_from_tokens(cfg.init_start_token, cfg.init_end_token)
        except ValueError as err:
            raise ConfigError(f"stage1.init_start_token / init_end_token: {err}; use null for the random "
                              "embedding-scale init") from None
    if cfg.match_embedding_scale and cfg.train.train_alignment:
        log.info("%s: alignment output rescaled by %.4f to the LLM's embedding scale", stage,
                 match_embedding_scale(model, records))
    if cfg.warm_start_steps:
        texts = sorted({str(r["output"]) for r in records})
        texts = random.Random(params.pipeline.seed).sample(texts, min(len(texts), 4096))  # enough pairs, cheap
        try:
            info = warm_start_alignment(model, texts, steps=cfg.warm_start_steps, lr=cfg.warm_start_lr,
                                        seed=params.pipeline.seed, batch_size=cfg.warm_start_batch_size)
        except ValueError as err:
            raise ConfigError(f"stage1.warm_start_steps: {err}; set it to 0") from None
        log.info("%s: alignment warm start on shared tokens: %s", stage, info)
    return model
