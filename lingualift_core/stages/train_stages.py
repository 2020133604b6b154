"""Stages `stage1`, `stage2`, `mono_sft` and `layout_sft`: build a model, train it with the shared loop, save it.

- `stage1` (language alignment): encoder + LLM from `data/models/base/`, a fresh alignment layer and boundary
  vectors (layout and alignment type from params); ONLY the alignment layer and the boundaries train, on the
  code-switched translation records `data/codeswitch/stage1.parquet`; reconstruction recall on
  `data/codeswitch/holdout.parquet` -> `data/models/stage1/`.
- `stage2` (task transfer): the stage-1 model; the LLM trains (fully, or LoRA with `stage2.train.lora`) on the
  English task data `data/raw/tasks/math_sft.parquet` (the question goes through the encoder); encoder,
  alignment and boundaries frozen -> `data/models/stage2/` (the LLM a standard Hugging Face folder inside).
- `mono_sft`: the base LLM alone (no encoder), the stage-2 recipe, the same English data -> `data/models/mono_sft/`.
- `layout_sft`: the `mono_sft` section's recipe on `math_sft_layout.parquet` (every word a placeholder, numbers
  kept): the layout-only control of the evaluation -> `data/models/layout_sft/`.

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
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from lingualift_core import artifacts
from lingualift_core.config import ConfigError, Params, section_to_dict
from lingualift_core.stages.base_models import BaseSource, base_sources, plot_file, write_plot
from lingualift_core.stages.common import Paths, Progress, write_meta, write_metrics
from lingualift_core.threads import torch_threads

log = logging.getLogger("lingualift.train")

RECORD_COLUMNS = ("instruction", "input", "output")
IDENTITY_FILE = "inputs.json"
# params keys that change nothing learned (a checkpoint stays valid when they change)
_NOT_LEARNED = frozenset({"resume", "threads", "recall_per_lang", "eval_batch_size", "save_llm", "save_encoder"})


# --------------------------------------------------------------------------------------------- paths
def model_dir(paths: Paths, stage: str) -> Path:
    """`data/models/<stage>/`."""
    return paths.data / "models" / stage


def checkpoint_dir(paths: Paths, stage: str) -> Path:
    """`data/checkpoints/<stage>/` (git-ignored, not a DVC output)."""
    return paths.data / "checkpoints" / stage


# --------------------------------------------------------------------------------------------- inputs
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


# --------------------------------------------------------------------------------------------- training
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
        "parallelism": result.parallelism,  # single | ddp | fsdp2
        "train_seconds": round(result.train_time_s, 1),
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu_seconds, 1),  # all threads; on a shared machine a steadier cost than wall time
    }


def save_model(
    model: Any, folder: Path, params: Params, stage: str, sections: Sequence[str], result: Any,
    metrics: Mapping[str, Any], *, save_llm: bool | str = "auto", save_encoder: bool | str = "auto",
    extra: Mapping[str, Any] | None = None,
) -> None:
    """`save_pretrained` into `folder` atomically, with run_meta.json (trainable names, base revisions)."""
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
        write_meta(out, stage, params, sections, meta)


_SAVE_FLAGS: dict[str, bool | str] = {"auto": "auto", "copy": True, "reference": False}


def _process_state() -> Any:
    """accelerate's process state, created as the training loop's Accelerator creates it: on a machine without
    CUDA a multi-process launch is only recognised with ``cpu=True``."""
    import torch
    from accelerate import PartialState

    from lingualift_core.train.loop import PROCESS_GROUP_TIMEOUT

    return PartialState(cpu=not torch.cuda.is_available(), timeout=PROCESS_GROUP_TIMEOUT)


def _is_main_process() -> bool:
    return _process_state().is_main_process


def _section_identity(section: Any) -> dict[str, Any]:
    """The params of a section that shape the trained model (bookkeeping keys dropped)."""
    from lingualift_core.train.config import RESUME_IGNORED_KEYS

    d = {k: v for k, v in section_to_dict(section).items() if k not in _NOT_LEARNED}
    d["train"] = {k: v for k, v in d["train"].items() if k not in RESUME_IGNORED_KEYS}
    return d


def _finish(stage: str, paths: Paths, result: Any, metrics: Mapping[str, Any], ckpt_folder: Path) -> None:
    write_plot(plot_file(paths, f"{stage}_loss"), result.history)
    write_metrics(paths, stage, dict(metrics))
    if ckpt_folder.exists():
        shutil.rmtree(ckpt_folder)  # the saved model supersedes them
    log.debug("%s: %s", stage, {k: v for k, v in metrics.items() if not isinstance(v, dict)})
    recall = metrics.get("parallel_recall_per_lang")
    log.info("%s: %s steps (%.1f epochs) in %.0f s, final loss %s%s", stage, metrics.get("steps"),
             metrics.get("epochs") or 0.0, metrics.get("seconds") or 0.0, metrics.get("final_loss_avg10"),
             f"; whole-sentence recall {', '.join(f'{k} {v:.2f}' for k, v in recall.items())}" if recall else "")


# --------------------------------------------------------------------------------------------- stage 1
def _load_base(stage: str, src: Mapping[str, BaseSource], params: Params, records: Sequence[Mapping[str, Any]]):
    """Both base models as a stage-1 LinguaLIFT model (alignment + boundaries fresh, from params)."""
    from lingualift_core.model import LinguaLIFTModel, ModelLoadError

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
        info = warm_start_alignment(model, texts, steps=cfg.warm_start_steps, lr=cfg.warm_start_lr,
                                    seed=params.pipeline.seed, batch_size=cfg.warm_start_batch_size)
        log.info("%s: alignment warm start on shared tokens: %s", stage, info)
    return model


def match_embedding_scale(model: Any, records: Sequence[Mapping[str, Any]], n: int = 256) -> float:
    """Rescales the alignment layer's last linear map so that its outputs on the first `n` training inputs have
    the mean norm of the LLM's input-embedding rows; returns the factor.

    The default PyTorch init maps unit-variance encoder states to vectors several times longer than token
    embeddings (2.3x on the embedded default). In the residual stream such a vector drowns what the first
    layers write at its position, so a small frozen LLM cannot copy from the soft prefix. Deterministic: no
    random draw."""
    import torch

    rows = model.prompt_builder().tokenize_many(list(records[:n]), with_target=False)
    enc = [r["enc"] for r in rows if r["enc"]]
    width = max(len(e) for e in enc)
    pad = model.prompt_builder().enc_pad_id
    ids = torch.tensor([e + [pad] * (width - len(e)) for e in enc])
    mask = torch.tensor([[1] * len(e) + [0] * (width - len(e)) for e in enc])
    with torch.no_grad():
        aligned = model.alignment(model.encode(ids.to(model.device), mask.to(model.device)))
        target = model.llm.get_input_embeddings().weight.float().norm(dim=-1).mean()
        factor = float(target / aligned.float().norm(dim=-1).mean())
        last = model.alignment.net[-1]
        last.weight.mul_(factor)
        last.bias.mul_(factor)
    return factor


def shared_token_pairs(model: Any) -> dict[int, int]:
    """Encoder token id -> LLM token id for the non-special tokens both vocabularies spell identically."""
    enc_vocab, llm_vocab = model.encoder_tokenizer.get_vocab(), model.llm_tokenizer.get_vocab()
    special = set(model.encoder_tokenizer.all_special_tokens) | set(model.llm_tokenizer.all_special_tokens)
    return {i: llm_vocab[t] for t, i in enc_vocab.items() if t in llm_vocab and t not in special}


def warm_start_alignment(model: Any, texts: Sequence[str], *, steps: int, lr: float, seed: int,
                         batch_size: int = 64) -> dict[str, Any]:
    """Regresses the alignment layer onto the LLM's input embeddings before stage 1 (mean squared error).

    Pairs: encoder states of `texts` (English) at positions whose token both tokenizers spell identically,
    and the LLM embedding of that token. No parallel data: English is the pivot both models read. A small frozen
    LLM copies from its prefix only through sharp induction circuits, which do not fire on the soft vectors of
    a random alignment layer, so stage 1 alone stays at the LM prior; after the warm start the English words of
    a code-switched input are already copyable and stage 1 learns the rest. Returns {pairs, loss_first, loss}."""
    import torch

    pairs = shared_token_pairs(model)
    if not pairs:
        raise ConfigError("stage1.warm_start_steps: the encoder and LLM tokenizers share no token; set it to 0")
    builder = model.prompt_builder()
    states, targets = [], []
    emb = model.llm.get_input_embeddings().weight.detach()
    with torch.no_grad():
        for i in range(0, len(texts), 64):
            enc = [builder._enc_ids(t) for t in texts[i:i + 64]]
            width = max(len(e) for e in enc)
            ids = torch.tensor([e + [builder.enc_pad_id] * (width - len(e)) for e in enc], device=model.device)
            mask = (torch.arange(width)[None, :] < torch.tensor([len(e) for e in enc])[:, None]).to(model.device)
            hidden = model.encode_padded(ids, mask.long())
            keep = mask & torch.isin(ids, torch.tensor(list(pairs), device=model.device))
            states.append(hidden[keep])
            targets.append(emb[torch.tensor([pairs[int(t)] for t in ids[keep]], device=model.device)])
    x, y = torch.cat(states).float(), torch.cat(targets).float()
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.alignment.parameters(), lr=lr, weight_decay=0.0)
    losses = []
    for _ in range(steps):
        idx = torch.randint(len(x), (batch_size,), generator=gen).to(x.device)
        loss = torch.nn.functional.mse_loss(model.alignment(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    opt.zero_grad(set_to_none=True)  # leftover gradients would leak into the first stage-1 step
    return {"pairs": len(x), "shared_tokens": len(pairs), "loss_first": losses[0] if losses else None,
            "loss": sum(losses[-20:]) / len(losses[-20:]) if losses else None}


def holdout_recall(model: Any, path: Path, per_lang: int, batch_size: int) -> dict[str, Any]:
    """Reconstruction recall on the first `per_lang` held-out records of each language (micro, per language)."""
    from lingualift_core.train import reconstruction_recall

    rows = read_records(path, extra_columns=("lang",),
                        empty_hint="no held-out records for the recall check (or set stage1.recall_per_lang: 0)")
    by_lang: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        group = by_lang.setdefault(r["lang"], [])
        if len(group) < per_lang:
            group.append(r)
    out: dict[str, Any] = {"per_lang": {}, "examples": {}}
    matched = total = 0
    for lang in sorted(by_lang):
        res = reconstruction_recall(model, by_lang[lang], batch_size=batch_size, n_examples=2)
        out["per_lang"][lang] = round(res["token_recall"], 4)
        out["examples"][lang] = res["examples"]
        n_ref = sum(len(_words(r["output"])) for r in by_lang[lang])
        matched += res["token_recall"] * n_ref
        total += n_ref
    out["token_recall"] = round(matched / total, 4) if total else None
    out["n_records"] = sum(len(v) for v in by_lang.values())
    return out


def parallel_recall(model: Any, paths: Paths, langs: Sequence[str], per_lang: int, batch_size: int,
                    instructions: Mapping[str, str]) -> dict[str, Any]:
    """Reconstruction recall on whole target-language sentences: the first `per_lang` parallel pairs of each
    language (target side in, English side as the reference), with that language's stage-1 instruction.

    The held-out code-switched records are mostly English (only the POS-selected words are switched), so their
    recall mostly measures copying English; the test problems are entirely in the target language."""
    from lingualift_core.train import reconstruction_recall

    out: dict[str, Any] = {"per_lang": {}, "examples": {}}
    for lang in langs:
        path = paths.parallel(lang)
        pairs = (artifacts.read_table(path, artifacts.PARALLEL).slice(0, per_lang).to_pylist()
                 if path.is_file() else [])
        if not pairs or lang not in instructions:
            log.info("stage1: no whole-sentence recall for %s (%s)", lang,
                     "no held-out record" if pairs else f"no parallel pairs in {path}")
            continue
        rows = [{"instruction": instructions[lang], "input": p["tgt"], "output": p["src"]} for p in pairs]
        res = reconstruction_recall(model, rows, batch_size=batch_size, n_examples=1)
        out["per_lang"][lang] = round(res["token_recall"], 4)
        out["examples"][lang] = res["examples"]
    values = list(out["per_lang"].values())
    out["token_recall"] = round(sum(values) / len(values), 4) if values else None  # macro over languages
    return out


def _words(text: str) -> list[str]:
    from lingualift_core.train.evaluation import bag_of_tokens

    return list(bag_of_tokens(text).elements())


def run_stage1(params: Params, root: Path) -> dict:
    """Stage 1: trains the alignment layer + boundaries on the code-switched records; returns the metrics."""
    paths, cfg, stage = Paths(root), params.stage1, "stage1"
    t0, c0 = time.perf_counter(), time.process_time()
    src = base_sources(paths)
    records = read_records(paths.stage1_records)
    ckpt = checkpoint_dir(paths, stage)
    identity = {"stage": stage, "params": _section_identity(cfg), "seed": params.pipeline.seed,
                "base": {part: source_fingerprint(s) for part, s in src.items()},
                "records": file_fingerprint(paths.stage1_records)}
    log.info("%s: %d records, layout=%s, alignment=%s", stage, len(records), cfg.layout, cfg.alignment)
    with torch_threads(cfg.threads):
        used = records_for_steps(records, cfg.train)
        model, result = train_model(stage, lambda: _load_base(stage, src, params, used), used, cfg.train,
                                    ckpt_folder=ckpt, identity=identity, resume=cfg.resume)
        if not _is_main_process():
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
        save_model(model, model_dir(paths, stage), params, stage, ["pipeline", "base_models", "stage1"], result,
                   metrics, save_llm=_SAVE_FLAGS[cfg.save_llm],
                   extra={"recall_examples": recall["examples"] if recall else None,
                          "parallel_recall_examples": recall.get("parallel_examples") if recall else None})
    _finish(stage, paths, result, metrics, ckpt)
    return metrics


# --------------------------------------------------------------------------------------------- stage 2
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
    identity = {"stage": stage, "params": _section_identity(cfg),
                "stage1": folder_fingerprint(artifacts.require_complete(model_dir(paths, "stage1"))),
                "records": file_fingerprint(paths.math_sft)}
    log.info("%s: %d records, llm=%s", stage, len(records), "lora" if cfg.train.lora else cfg.train.train_llm)
    with torch_threads(cfg.threads):
        used = records_for_steps(records, cfg.train)
        model, result = train_model(stage, lambda: _load_stage1(paths, params), used, cfg.train,
                                    ckpt_folder=ckpt, identity=identity, resume=cfg.resume)
        if not _is_main_process():
            return {}
        metrics = {"records": len(records), "records_used": len(used),
                   **train_metrics(result, time.perf_counter() - t0, time.process_time() - c0)}
        save_model(model, model_dir(paths, stage), params, stage, ["pipeline", "base_models", "stage2"], result,
                   metrics, save_llm=True, save_encoder=_SAVE_FLAGS[cfg.save_encoder])
    _finish(stage, paths, result, metrics, ckpt)
    return metrics


# ------------------------------------------------------------------------------------------- no stage 1
def _load_fresh(stage: str, src: Mapping[str, BaseSource], params: Params, records: Sequence[Mapping[str, Any]]):
    """Both base models with a fresh alignment layer (stage-1 architecture, embedding-scale init, no warm start)."""
    return _load_base(stage, src, replace(params, stage1=replace(params.stage1, warm_start_steps=0)), records)


def run_no_stage1(params: Params, root: Path) -> dict:
    """The `no_stage1` control: stage 2 from the base models with a fresh alignment layer that trains together
    with the LLM on the English task data (stage 1 skipped, not shortened); returns the metrics."""
    paths, cfg, stage = Paths(root), params.no_stage1, "no_stage1"
    t0, c0 = time.perf_counter(), time.process_time()
    src = base_sources(paths)
    records = read_records(paths.math_sft)
    train_cfg = replace(cfg.train, stage=stage)
    ckpt = checkpoint_dir(paths, stage)
    identity = {"stage": stage, "params": _section_identity(cfg), "stage1": _section_identity(params.stage1),
                "seed": params.pipeline.seed, "base": {part: source_fingerprint(s) for part, s in src.items()},
                "records": file_fingerprint(paths.math_sft)}
    log.info("%s: %d records, alignment=%s (fresh), llm=%s", stage, len(records), train_cfg.train_alignment,
             train_cfg.train_llm)
    with torch_threads(cfg.threads):
        used = records_for_steps(records, train_cfg)
        model, result = train_model(stage, lambda: _load_fresh(stage, src, params, used), used, train_cfg,
                                    ckpt_folder=ckpt, identity=identity, resume=cfg.resume)
        if not _is_main_process():
            return {}
        metrics = {"records": len(records), "records_used": len(used),
                   **train_metrics(result, time.perf_counter() - t0, time.process_time() - c0)}
        save_model(model, model_dir(paths, stage), params, stage, ["pipeline", "base_models", "stage1", "no_stage1"],
                   result, metrics, save_llm=True, save_encoder=_SAVE_FLAGS["auto"])
    _finish(stage, paths, result, metrics, ckpt)
    return metrics


# --------------------------------------------------------------------------------------------- mono-SFT
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
    identity = {"stage": stage, "params": _section_identity(cfg), "llm": source_fingerprint(src),
                "records": file_fingerprint(data)}
    log.info("%s: %d records from %s", stage, len(records), data.name)
    with torch_threads(cfg.threads):
        used = records_for_steps(records, train_cfg)
        model, result = train_model(stage, lambda: _load_llm_only(stage, src, params), used, train_cfg,
                                    ckpt_folder=ckpt, identity=identity, resume=cfg.resume)
        if not _is_main_process():
            return {}
        metrics = {"records": len(records), "records_used": len(used),
                   **train_metrics(result, time.perf_counter() - t0, time.process_time() - c0)}
        save_model(model, model_dir(paths, stage), params, stage, ["pipeline", "base_models", "mono_sft"], result,
                   metrics, save_llm=True)
    _finish(stage, paths, result, metrics, ckpt)
    return metrics


def run_mono_sft(params: Params, root: Path) -> dict:
    """The English-only baseline: the base LLM fine-tuned on the English task data; returns the metrics."""
    return _run_llm_sft(params, root, "mono_sft", Paths(root).math_sft)


def run_layout_sft(params: Params, root: Path) -> dict:
    """The layout-only control: the mono-SFT recipe on the placeholder-word task data; returns the metrics."""
    return _run_llm_sft(params, root, "layout_sft", Paths(root).math_sft_layout)
