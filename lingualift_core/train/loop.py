"""One training loop (accelerate) for stage 1, stage 2 and mono-SFT; the stages differ by :class:`TrainConfig`.

``train(model, records, config, checkpoint_dir=..., resume=..., on_step=...) -> TrainResult``

- the trainable parameter set implied by the config is applied and asserted before the first step, and returned;
- global batch = micro batch x accumulation x world size (validated); the loss of a step is the token mean over
  the WHOLE global batch (each micro-batch's summed loss is divided by the global batch's target-token count,
  known up front from the deterministic plan), so accumulation and length grouping do not change the gradient;
- bf16 autocast on GPU and, outside FSDP, on a CPU with native bf16 units (attention in fp32 there: the CPU's
  bf16 attention backward is slow), fp32 elsewhere (``precision``); optional gradient checkpointing; length-grouped
  micro-batches; the frozen encoder's outputs optionally cached once for all epochs;
- checkpoints every N steps with exact resume (trainable params, optimizer, scheduler, RNG states, data position);
  resuming with a different config fails naming the key;
- accelerate's own gradient accumulation (``accelerate launch --gradient_accumulation_steps N``) is refused: it
  would divide the token-normalised loss a second time (:func:`refuse_accelerate_accumulation`);
- ``on_step(step, total, metrics)`` after every optimizer step (metrics: loss, lr, grad_norm, epoch, tokens/s).

Multi-GPU: run under ``accelerate launch``; each process builds the same plan and takes its share of every
global batch's micro-batches. DDP (configs/accelerate/ddp.yaml) replicates the model (CPU processes of one
machine skip the DDP wrapper and sum gradients, loss and counts once per step in shared memory, bit for bit
DDP's result: :mod:`.host_sum`); FSDP2
(configs/accelerate/fsdp.yaml, see :mod:`.fsdp`) shards parameters, gradients and optimizer state, gathers full
tensors for checkpoints (which therefore resume at any world size) and leaves the trained weights in the main
process's ``model``. DeepSpeed is not supported.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import logging
import math
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import torch

from ..model.lingualift import LinguaLIFTModel
from . import checkpoint as ckpt
from . import fsdp
from .compile import compiled_blocks
from .config import TrainConfig
from .data import epoch_global_batches, micro_batches, steps_per_epoch
from .encoder_cache import batch_encoder_states, compute_encoder_cache
from .host_sum import HostSum, host_sum_available, sum_gradients_

log = logging.getLogger(__name__)

OnStep = Callable[[int, int, Mapping[str, Any]], None]


@dataclass
class TrainResult:
    """What a run returns (and what a stage writes as metrics / plots / run metadata)."""

    stage: str
    steps: int
    total_steps: int
    steps_per_epoch: int
    accumulation_steps: int
    world_size: int
    trainable_parameters: list[str]
    num_trainable_parameters: int
    # one entry per optimizer step: step, epoch, loss, lr, grad_norm (None without clipping), tokens, target_tokens
    history: list[dict[str, Any]] = field(default_factory=list)
    tokens_seen: int = 0  # non-pad LLM tokens processed (this process x world size)
    target_tokens: int = 0
    pad_tokens: int = 0
    padding_waste: float = 0.0  # pad tokens / total LLM tokens over all micro-batches
    train_time_s: float = 0.0  # optimisation loop only
    encoder_cache_time_s: float = 0.0
    tokens_per_s: float = 0.0
    resumed_from_step: int | None = None
    truncated_records: int = 0
    parallelism: str = "single"  # single | host_sum | ddp | fsdp2
    config: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def final_loss(self) -> float | None:
        return self.history[-1]["loss"] if self.history else None


def lr_lambda_factory(schedule: str, total_steps: int, warmup_steps: int) -> Callable[[int], float]:
    """LR multiplier per step (Hugging Face formulas: linear warmup from 0, then constant / cosine / linear)."""

    def fn(step: int) -> float:
        if warmup_steps > 0 and step < warmup_steps:
            return step / warmup_steps
        if schedule == "constant":
            return 1.0
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        progress = min(max(progress, 0.0), 1.0)
        if schedule == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * progress))
        return max(0.0, 1.0 - progress)

    return fn


def dataset_fingerprint(rows: Sequence[Mapping[str, Any]]) -> str:
    h = hashlib.sha256()
    for r in rows:
        h.update(json.dumps([r["prefix"], r["enc"], r["suffix"], r["target"]], separators=(",", ":")).encode())
    return h.hexdigest()[:32]


# processes wait at a barrier while the main one writes a checkpoint (a 7B model with AdamW moments: ~80 GB);
# NCCL's default of 10 minutes is too short for that
PROCESS_GROUP_TIMEOUT = timedelta(minutes=60)


def _bf16(cfg: TrainConfig) -> bool:
    """bf16 autocast: `bf16`, or `auto` on CUDA or, outside FSDP, on a CPU with native bf16 units (there the
    attention stays fp32: `_cpu_attention_fp32`)."""
    from .precision import native_bf16

    if cfg.precision != "auto":
        return cfg.precision == "bf16"
    return torch.cuda.is_available() or (native_bf16() and not fsdp.fsdp_launch())


@contextlib.contextmanager
def _cpu_attention_fp32(model: LinguaLIFTModel, enabled: bool) -> Iterator[None]:
    """bf16 on a CPU: the encoder and the LLM attend in fp32 for the `with` body (the CPU's bf16 attention
    backward is slower than its fp32 one: train/precision.py); their attention implementations are restored
    afterwards."""
    from .precision import fp32_attention

    with contextlib.ExitStack() as stack:
        if enabled:
            for part in (model.encoder, model._causal_lm()):
                if part is not None:
                    stack.enter_context(fp32_attention(part))
        yield


#: The variable ``accelerate launch --gradient_accumulation_steps N`` (or ``gradient_accumulation_steps`` in an
#: accelerate config file) exports; ``Accelerator()`` reads it.
ACCELERATE_ACCUMULATION_ENV = "ACCELERATE_GRADIENT_ACCUMULATION_STEPS"


def refuse_accelerate_accumulation(cfg: TrainConfig, accelerator: Any = None) -> None:
    """Raises ValueError when accelerate's own gradient accumulation is set to anything but 1.

    ``Accelerator.backward`` divides the loss by its ``gradient_accumulation_steps``; this loop already
    normalises every micro-batch's loss by the global batch's target-token count and accumulates itself (from
    ``global_batch_size`` / ``micro_batch_size``), so a second division would silently shrink every gradient by
    N. Checked on the launch's environment (before an Accelerator is built) and on ``accelerator`` when given.
    """
    sources = []
    raw = os.environ.get(ACCELERATE_ACCUMULATION_ENV)
    if raw is not None and raw.strip().lstrip("+").lstrip("0") != "1":
        sources.append(f"{ACCELERATE_ACCUMULATION_ENV}={raw!r}")
    steps = getattr(accelerator, "gradient_accumulation_steps", 1) if accelerator is not None else 1
    if steps != 1:
        sources.append(f"Accelerator(gradient_accumulation_steps={steps})")
    if sources:
        raise ValueError(
            f"{cfg.stage}: accelerate gradient accumulation is set ({', '.join(sources)}, from accelerate launch "
            "--gradient_accumulation_steps or its config file), which would divide the loss a second time on top "
            "of the loop's token normalisation; launch without it (leave it at 1) and set "
            f"{cfg.stage}.train.global_batch_size / {cfg.stage}.train.micro_batch_size instead (accumulation = "
            "global / (micro x processes))"
        )


def _make_accelerator(cfg: TrainConfig):
    from accelerate import Accelerator
    from accelerate.utils import DistributedDataParallelKwargs, InitProcessGroupKwargs

    if fsdp.fsdp_launch():
        fsdp.sharding_plan(_bf16(cfg))  # refuses unsupported FSDP settings before accelerate acts on them
    cuda = torch.cuda.is_available()
    mixed_precision = "bf16" if _bf16(cfg) else "no"
    _release_accelerator_state(mixed_precision)
    return Accelerator(mixed_precision=mixed_precision, cpu=not cuda,
                       # the models' buffers (rotary frequencies, position ids) never change: broadcasting them
                       # before every forward only adds a message and a wait
                       kwargs_handlers=[InitProcessGroupKwargs(timeout=PROCESS_GROUP_TIMEOUT),
                                        DistributedDataParallelKwargs(broadcast_buffers=False)])


def _release_accelerator_state(mixed_precision: str) -> None:
    """accelerate keeps one mixed-precision setting per process and refuses another; a run at another precision
    in the same process (a notebook, a test session, a benchmark: `precision: auto` is bf16 on a CPU with native
    bf16 units) rebuilds the accelerator part of its state. The process group lives in PartialState and stays."""
    from accelerate.state import AcceleratorState

    if AcceleratorState._shared_state.get("_mixed_precision", mixed_precision) != mixed_precision:
        AcceleratorState._reset_state()


def _param_groups(model: LinguaLIFTModel, cfg: TrainConfig) -> tuple[list[dict[str, Any]], dict[str, torch.nn.Parameter]]:
    decay, no_decay, by_name = [], [], {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        by_name[name] = p
        (no_decay if p.ndim < 2 else decay).append(p)  # biases, norms, boundary vectors: no weight decay
    groups = []
    if decay:
        groups.append({"params": decay, "weight_decay": cfg.weight_decay})
    if no_decay:
        groups.append({"params": no_decay, "weight_decay": 0.0})
    return groups, by_name


def apply_trainable(model: LinguaLIFTModel, cfg: TrainConfig) -> list[str]:
    """Apply the config's trainable parts (LoRA adapters added if asked) and assert the resulting set."""
    if cfg.lora and not hasattr(model.llm, "peft_config"):
        model.apply_lora(cfg.lora_r, cfg.lora_alpha, cfg.lora_dropout, cfg.lora_target_modules)
    flags = dict(encoder=cfg.train_encoder, alignment=cfg.train_alignment, llm=cfg.llm_flag())
    if not model.has_encoder and (cfg.train_encoder or cfg.train_alignment):
        raise ValueError(
            f"stage {cfg.stage!r} trains the encoder / alignment layer, but the model has no encoder (mono-SFT "
            "model): use train_encoder=False, train_alignment=False"
        )
    model.set_trainable(**flags)
    expected = model.expected_trainable_names(**flags)
    actual = model.trainable_parameter_names()
    if expected != actual or not actual:
        extra, missing = sorted(actual - expected), sorted(expected - actual)
        raise RuntimeError(
            f"trainable parameter set differs from the {cfg.stage} config: unexpected {extra[:5]}, missing "
            f"{missing[:5]}{' (empty set)' if not actual else ''}"
        )
    if not cfg.train_llm:
        head = model._causal_lm().get_output_embeddings()
        emb = model.llm.get_input_embeddings()
        if head.weight.requires_grad or emb.weight.requires_grad:
            raise RuntimeError("the LLM is frozen by config but its lm_head / input embeddings still train")
    return sorted(actual)


@dataclass
class _Run:
    """The state of one `train` call between setup and teardown."""

    cfg: TrainConfig
    acc: Any
    world: int
    rank: int
    builder: Any
    rows: list[Any]
    lengths: list[int]
    target_len: list[int]
    fingerprint: str
    spe: int
    total: int
    result: TrainResult
    sharded: bool
    work: Any = None
    cache: Any = None
    optimizer: Any = None
    scheduler: Any = None
    params_by_name: dict[str, torch.nn.Parameter] = field(default_factory=dict)
    names_by_param: dict[Any, str] = field(default_factory=dict)
    prepared_model: Any = None
    summer: HostSum | None = None  # CPU processes of one machine: one shared-memory sum per step instead of DDP
    start: int = 0
    tokens_run: int = 0
    t_start: float = 0.0
    plan_cache: dict[int, list[list[int]]] = field(default_factory=dict)

    def global_batch(self, step: int) -> list[int]:
        """Row indices of global batch `step` (the epoch's deterministic plan, built once per epoch)."""
        epoch = step // self.spe
        if epoch not in self.plan_cache:
            self.plan_cache.clear()
            self.plan_cache[epoch] = epoch_global_batches(
                self.lengths, epoch, global_batch_size=self.cfg.global_batch_size, seed=self.cfg.seed,
                group_by_length=self.cfg.group_by_length, length_group_window=self.cfg.length_group_window,
            )
        return self.plan_cache[epoch][step % self.spe]


def train(
    model: LinguaLIFTModel,
    records: Sequence[Mapping[str, Any]],
    config: TrainConfig,
    *,
    checkpoint_dir: str | Path | None = None,
    resume: str | Path | None = None,
    on_step: OnStep | None = None,
    accelerator: Any = None,
) -> TrainResult:
    """Train ``model`` in place on ``records`` (dicts with instruction / input / output).

    ``resume``: None (fresh run), ``"latest"`` (newest complete checkpoint in ``checkpoint_dir`` if any, else
    fresh) or a checkpoint folder. Checkpoints go to ``checkpoint_dir`` every ``config.checkpoint_every`` steps.
    """
    run = _setup(model, records, config, checkpoint_dir, accelerator)
    _place_and_cache(model, run)
    _build_optimizer(run)
    _resume(run, checkpoint_dir, resume)
    run.prepared_model.train()
    run.t_start = time.perf_counter()
    with _cpu_attention_fp32(run.work, _bf16(config) and run.acc.device.type == "cpu" and not run.sharded), \
            compiled_blocks(run.work._causal_lm(), config.compile_layers, key=f"{config.stage}.train.compile_layers"):
        for step in range(run.start, run.total):
            entry = _train_step(run, step)
            _after_step(run, step, entry, on_step, checkpoint_dir)
    return _teardown(model, run)


def _setup(model: LinguaLIFTModel, records: Sequence[Mapping[str, Any]], cfg: TrainConfig,
           checkpoint_dir: str | Path | None, accelerator: Any) -> _Run:
    """Validates the run, seeds, applies the trainable set and tokenizes the records (the plan's lengths)."""
    if not records:
        raise ValueError(f"empty training set: no records to train {cfg.stage} on")
    if cfg.checkpoint_every and checkpoint_dir is None:
        raise ValueError("checkpoint_every is set but no checkpoint_dir was given")
    refuse_accelerate_accumulation(cfg, accelerator)
    acc = accelerator or _make_accelerator(cfg)
    refuse_accelerate_accumulation(cfg, acc)
    world, rank = acc.num_processes, acc.process_index
    accum = cfg.accumulation_steps(world)

    from accelerate.utils import set_seed

    set_seed(cfg.seed)
    if cfg.aligned_noise and not model.has_encoder:
        raise ValueError(f"{cfg.stage}.train.aligned_noise={cfg.aligned_noise} needs a model with an encoder (it "
                         "perturbs the aligned encoder states); set it to 0")
    trainable = apply_trainable(model, cfg)
    if cfg.gradient_checkpointing:
        model.enable_gradient_checkpointing()

    builder = model.prompt_builder(max_length=cfg.max_length)
    rows = builder.tokenize_many(records, with_target=True)
    from ..model.batching import row_length

    lengths = [row_length(r) for r in rows]
    target_len = [len(r["target"]) for r in rows]
    if sum(target_len) == 0:
        raise ValueError("no training targets: every record's response was empty or truncated away")
    spe = steps_per_epoch(len(rows), cfg.global_batch_size)
    total = cfg.max_steps if cfg.max_steps is not None else cfg.epochs * spe
    result = TrainResult(
        stage=cfg.stage,
        steps=0,
        total_steps=total,
        steps_per_epoch=spe,
        accumulation_steps=accum,
        world_size=world,
        trainable_parameters=trainable,
        num_trainable_parameters=0,  # counted on the (possibly sharded) model below
        truncated_records=builder.truncated_targets + builder.truncated_prompts,
        config=cfg.to_dict(),
    )
    sharded = fsdp.fsdp_requested(acc.distributed_type.name, world)
    if sharded and cfg.compile_layers:
        raise ValueError(f"{cfg.stage}: compile_layers is untested under FSDP (the sharded layers are wrapped); "
                         f"set {cfg.stage}.train.compile_layers: false (configs/paper.yaml does)")
    result.parallelism = "fsdp2" if sharded else ("ddp" if world > 1 else "single")
    return _Run(cfg=cfg, acc=acc, world=world, rank=rank, builder=builder, rows=rows, lengths=lengths,
                target_len=target_len, fingerprint=dataset_fingerprint(rows), spe=spe, total=total, result=result,
                sharded=sharded)


def _place_and_cache(model: LinguaLIFTModel, run: _Run) -> None:
    """Moves the model to the device (FSDP: a sharded working copy) and caches the frozen encoder's outputs."""
    cfg, acc = run.cfg, run.acc
    plan = fsdp.sharding_plan(_bf16(cfg)) if run.sharded else None
    # FSDP: the main process trains a sharded copy and gets the trained weights back into ``model`` at the end
    run.work = copy.deepcopy(model) if run.sharded and acc.is_main_process else model
    if not run.sharded:
        run.work.to(acc.device)
    elif cfg.cache_encoder_outputs:
        run.work.encoder.to(acc.device)  # the rest moves to the device shard by shard in fully_shard
    # the encoder cache comes before sharding: the frozen encoder runs outside the model's forward
    if cfg.cache_encoder_outputs:
        t0 = time.perf_counter()
        run.cache = compute_encoder_cache(
            run.work, run.rows, batch_size=max(8, cfg.micro_batch_size * 4), autocast=acc.autocast,
            max_gb=cfg.encoder_cache_max_gb,
        )
        run.result.encoder_cache_time_s = time.perf_counter() - t0
    if run.sharded:
        # the encoder is a unit of its own: only its forward uses its embeddings (mT5's: 250k x d), so they are
        # gathered for that forward only, and never when its outputs are cached
        work = run.work
        units = fsdp.shard_model(work, plan, acc.device, own_units=[work.encoder] if work.has_encoder else [])
        if acc.is_main_process:
            log.info("%s: FSDP2 over %d processes, %d units", cfg.stage, run.world, len(units))


def _build_optimizer(run: _Run) -> None:
    """AdamW over the trainable parameters (decay groups) and the LR schedule."""
    cfg = run.cfg
    groups, run.params_by_name = _param_groups(run.work, cfg)
    run.optimizer = torch.optim.AdamW(
        groups, lr=cfg.learning_rate, betas=(cfg.adam_beta1, cfg.adam_beta2), eps=cfg.adam_epsilon
    )
    warmup = math.ceil(cfg.warmup_ratio * run.total)
    run.scheduler = torch.optim.lr_scheduler.LambdaLR(run.optimizer,
                                                      lr_lambda_factory(cfg.lr_schedule, run.total, warmup))
    run.names_by_param = {p: n for n, p in run.params_by_name.items()}
    run.result.num_trainable_parameters = sum(p.numel() for p in run.params_by_name.values())  # DTensor: full


def _resume(run: _Run, checkpoint_dir: str | Path | None, resume: str | Path | None) -> None:
    """Loads the checkpoint `resume` names (if any), then hands model and optimizer to accelerate."""
    folder: Path | None = None
    if resume is not None:
        if str(resume) == "latest":
            if checkpoint_dir is None:
                raise ValueError("resume='latest' needs checkpoint_dir")
            folder = ckpt.latest_checkpoint(checkpoint_dir)
        else:
            folder = Path(resume)
    if folder is not None:
        run.start = _load_checkpoint(
            folder, run.optimizer, run.scheduler, run.params_by_name, run.cfg, run.fingerprint,
            run.result.trainable_parameters, run.result, run.rank, run.world
        )
        run.result.resumed_from_step = run.start
        run.result.steps = run.start
    if run.sharded:
        run.prepared_model = run.work
    elif run.world > 1 and _host_sum_fits(run):
        # no DDP wrapper: _train_step sums gradients, loss and counts in one step (host_sum.py says why)
        run.summer = HostSum(sum(p.numel() for p in run.params_by_name.values()) + 3)
        run.result.parallelism = "host_sum"
        run.prepared_model, run.optimizer = run.work, run.acc.prepare(run.optimizer)
    else:
        run.prepared_model, run.optimizer = run.acc.prepare(run.work, run.optimizer)


def _host_sum_fits(run: _Run) -> bool:
    """Data parallel on CPU processes of one machine with float32 trainable parameters (collective)."""
    fp32 = all(p.dtype == torch.float32 for p in run.params_by_name.values())
    return host_sum_available() and fp32


def _train_step(run: _Run, step: int) -> dict[str, Any]:
    """One optimizer step on global batch `step` (this process's micro-batches); returns its history entry."""
    cfg, acc, world = run.cfg, run.acc, run.world
    gb = run.global_batch(step)
    num_items = sum(run.target_len[i] for i in gb)
    mbs = micro_batches(
        gb, run.lengths, micro_batch_size=cfg.micro_batch_size, group_by_length=cfg.group_by_length,
        world_size=world, rank=run.rank,
    )
    # every process must run as many forward/backward passes as the busiest one (DDP: at least one; FSDP:
    # each pass gathers and reduces across processes): the missing ones run a row with zero weight
    n_passes = _passes_per_step(gb, run.lengths, cfg, world) if run.sharded else max(1, len(mbs))
    real = len(mbs)
    mbs = mbs + [[gb[0]]] * (n_passes - real)
    loss_sum = torch.zeros((), device=acc.device)
    step_tokens = step_pads = 0
    lr = run.scheduler.get_last_lr()[0]
    for j, mb in enumerate(mbs):
        batch = run.builder.collate([run.rows[i] for i in mb], with_labels=True)
        is_real = j < real
        if is_real:
            n_real = int(batch["attention_mask"].sum())
            step_tokens += n_real
            step_pads += batch["attention_mask"].numel() - n_real
        if cfg.aligned_noise:
            batch["aligned_noise"] = aligned_noise_for([len(run.rows[i]["enc"] or []) for i in mb], mb, step, cfg.seed,
                                                       run.work.config.d_llm, cfg.aligned_noise)
        if run.cache is not None:
            batch.pop("enc_input_ids", None)
            batch.pop("enc_attention_mask", None)
            batch["encoder_states"] = batch_encoder_states(run.cache, mb)
        batch = {k: v.to(acc.device) for k, v in batch.items()}
        # FSDP reduce-scatters after every pass (accumulating unsharded gradients would undo the sharding)
        sync = run.sharded or j == len(mbs) - 1
        ddp_wait = not sync and world > 1 and run.summer is None
        ctx = acc.no_sync(run.prepared_model) if ddp_wait else contextlib.nullcontext()
        with ctx, acc.autocast():
            out = run.prepared_model(**batch, num_items_in_batch=num_items)
            # DDP and FSDP average the processes' gradients, the host sum adds them up
            loss = out.loss * ((1.0 if run.summer is not None else float(world)) if is_real else 0.0)
            acc.backward(loss)
        if is_real:
            loss_sum += out.loss_sum.float()
    grad_norm = None
    trainable_params = list(run.params_by_name.values())
    if run.summer is not None:
        total_loss, step_tokens, step_pads = sum_gradients_(run.summer, trainable_params,
                                                            [float(loss_sum), step_tokens, step_pads])
        loss_sum, step_tokens, step_pads = torch.tensor(total_loss), int(step_tokens), int(step_pads)
    if cfg.max_grad_norm is not None:
        if run.sharded:
            grad_norm = fsdp.clip_grad_norm_(trainable_params, cfg.max_grad_norm)
        else:
            grad_norm = acc.clip_grad_norm_(trainable_params, cfg.max_grad_norm)
    run.optimizer.step()
    run.scheduler.step()
    run.optimizer.zero_grad(set_to_none=True)

    if world > 1 and run.summer is None:
        loss_sum = acc.reduce(loss_sum, reduction="sum")
        counts = acc.reduce(torch.tensor([step_tokens, step_pads], device=acc.device), reduction="sum")
        step_tokens, step_pads = int(counts[0]), int(counts[1])
    run.tokens_run += step_tokens
    run.result.tokens_seen += step_tokens
    run.result.pad_tokens += step_pads
    run.result.target_tokens += num_items
    return {
        "step": step + 1,
        "epoch": (step + 1) / run.spe,
        "loss": float(loss_sum) / max(1, num_items),
        "lr": lr,
        "grad_norm": float(grad_norm) if grad_norm is not None else None,
        "tokens": step_tokens,
        "target_tokens": num_items,
    }


def aligned_noise_for(enc_lengths: Sequence[int], indices: Sequence[int], step: int, seed: int, dim: int,
                      scale: float) -> torch.Tensor:
    """Gaussian noise for the encoder slots of records ``indices`` at optimizer step ``step``:
    ``[sum(enc_lengths), dim]``, record by record in order (as the model splices the slots). Each record gets
    its own level, uniform in ``[0, scale]``, so the LLM sees inputs from clean to very noisy. Each record's
    block comes from its own generator (seed, step, record index): the noise is the same however the records are
    batched or split between processes."""
    blocks = []
    for n, i in zip(enc_lengths, indices, strict=True):
        g = torch.Generator().manual_seed(((seed * 1_000_003 + step) * 1_000_033 + int(i)) % 2**63)
        level = float(torch.rand((), generator=g)) * scale
        blocks.append(torch.randn(n, dim, generator=g) * level)
    return torch.cat(blocks) if blocks else torch.zeros(0, dim)


def _after_step(run: _Run, step: int, entry: dict[str, Any], on_step: OnStep | None,
                checkpoint_dir: str | Path | None) -> None:
    """Records the step, logs it, calls `on_step` and writes a checkpoint when one is due."""
    cfg, acc = run.cfg, run.acc
    run.result.history.append(entry)
    run.result.steps = step + 1
    elapsed = time.perf_counter() - run.t_start
    metrics = dict(entry, tokens_per_s=run.tokens_run / elapsed if elapsed > 0 else 0.0)
    if cfg.log_every and ((step + 1) % cfg.log_every == 0 or step + 1 == run.total) and acc.is_main_process:
        log.info(
            "%s step %d/%d loss %.4f lr %.3g tokens/s %.0f", cfg.stage, step + 1, run.total, entry["loss"],
            entry["lr"], metrics["tokens_per_s"],
        )
    if on_step is not None and acc.is_main_process:
        on_step(step + 1, run.total, metrics)
    if cfg.checkpoint_every and (step + 1) % cfg.checkpoint_every == 0:
        _save_checkpoint(
            Path(checkpoint_dir), step + 1, run.optimizer, run.scheduler, run.names_by_param, run.params_by_name,
            cfg, run.fingerprint, run.result, acc,
        )


def _teardown(model: LinguaLIFTModel, run: _Run) -> TrainResult:
    """Throughput and padding figures; the trained weights back in `model` (FSDP: gathered on the main process)."""
    result, acc = run.result, run.acc
    result.train_time_s = time.perf_counter() - run.t_start
    result.tokens_per_s = run.tokens_run / result.train_time_s if result.train_time_s > 0 else 0.0
    total_tok = result.tokens_seen + result.pad_tokens
    result.padding_waste = result.pad_tokens / total_tok if total_tok else 0.0
    acc.wait_for_everyone()
    if run.sharded:
        _gather_trained(model, run.params_by_name, main=acc.is_main_process)
        if acc.is_main_process:
            # free the shards and optimizer state before the full model moves to the device
            run.work = run.prepared_model = run.optimizer = run.scheduler = None
            run.params_by_name, run.names_by_param = {}, {}
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            model.to(acc.device)
    else:
        acc.unwrap_model(run.prepared_model, keep_fp32_wrapper=False)  # drops accelerate's autocast forward wrapper
    model.eval()
    return result


def _passes_per_step(gb: Sequence[int], lengths: Sequence[int], cfg: TrainConfig, world: int) -> int:
    """The most micro-batches any process gets from global batch ``gb``."""
    return max(
        1, *(len(micro_batches(gb, lengths, micro_batch_size=cfg.micro_batch_size,
                               group_by_length=cfg.group_by_length, world_size=world, rank=r)) for r in range(world))
    )


@torch.no_grad()
def _gather_trained(model: LinguaLIFTModel, sharded_params: Mapping[str, torch.nn.Parameter], *, main: bool) -> None:
    """Copies the trained (sharded) parameters into the main process's unsharded ``model`` (a collective)."""
    own = dict(model.named_parameters()) if main else {}
    for name, p in sharded_params.items():
        full = fsdp.full_tensor(p.detach())
        if main:
            own[name].copy_(full.to(own[name].device, own[name].dtype))


def _torch_optimizer(optimizer):
    return getattr(optimizer, "optimizer", optimizer)


def _save_checkpoint(
    root: Path, step: int, optimizer, scheduler, names_by_param, params_by_name, cfg, fingerprint,
    result: TrainResult, acc,
) -> None:
    root.mkdir(parents=True, exist_ok=True)
    final = root / ckpt.checkpoint_name(step)
    tmp = root / (ckpt.checkpoint_name(step) + ".tmp")
    if acc.is_main_process:
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
    acc.wait_for_everyone()
    ckpt.write_rank_rng(tmp, acc.process_index)
    # FSDP: every process takes part in gathering the full tensors, only the main process keeps (and writes) them
    main = acc.is_main_process
    opt = _torch_optimizer(optimizer)
    opt_tensors, opt_scalars = ckpt.optimizer_tensors(opt, names_by_param, gather=fsdp.full_tensor, keep=main)
    trainable = {}
    for n, p in params_by_name.items():
        full = fsdp.full_tensor(p.detach())
        if main:
            trainable[n] = full.cpu()
    del full
    if main:
        groups = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
        state = {
            "format_version": ckpt.CKPT_FORMAT_VERSION,
            "step": step,
            "config": cfg.to_dict(),
            "dataset_fingerprint": fingerprint,
            "trainable_parameters": result.trainable_parameters,
            "world_size": acc.num_processes,
            "optimizer_param_groups": groups,
            "optimizer_scalars": opt_scalars,
            "scheduler": scheduler.state_dict(),
            "history": result.history,
            "counters": {
                "tokens_seen": result.tokens_seen, "pad_tokens": result.pad_tokens,
                "target_tokens": result.target_tokens,
            },
        }
        ckpt.write_main_files(tmp, trainable=trainable, opt_tensors=opt_tensors, state=state)
    del trainable, opt_tensors
    acc.wait_for_everyone()
    if acc.is_main_process:
        ckpt.finalize(tmp, final, cfg.keep_checkpoints)
    acc.wait_for_everyone()


def _load_checkpoint(
    folder: Path, optimizer, scheduler, params_by_name, cfg: TrainConfig, fingerprint: str,
    trainable: list[str], result: TrainResult, rank: int, world: int,
) -> int:
    state, params, opt_tensors = ckpt.read_checkpoint(folder)
    ckpt.compare_configs(state["config"], cfg.to_dict(), str(folder))
    if state["dataset_fingerprint"] != fingerprint:
        raise ckpt.ConfigMismatchError(
            f"cannot resume from {folder}: key 'dataset' differs (the training records or their tokenization changed)"
        )
    if sorted(state["trainable_parameters"]) != trainable:
        raise ckpt.ConfigMismatchError(f"cannot resume from {folder}: key 'trainable_parameters' differs")
    if set(params) != set(params_by_name):
        raise ckpt.ConfigMismatchError(f"cannot resume from {folder}: its parameter names differ from the model's")
    with torch.no_grad():
        for name, value in params.items():
            p = params_by_name[name]
            if p.shape != value.shape:
                raise ckpt.ConfigMismatchError(f"cannot resume from {folder}: parameter '{name}' has another shape")
            fsdp.copy_full_(p, value)
    ckpt.load_optimizer_state(
        optimizer, params_by_name, opt_tensors, state.get("optimizer_scalars", {}), state["optimizer_param_groups"],
        layout=fsdp.like_param,
    )
    scheduler.load_state_dict(state["scheduler"])
    for group, lr in zip(optimizer.param_groups, scheduler.get_last_lr()):
        group["lr"] = lr
    if state.get("world_size") != world:
        log.warning("resuming with world size %s (checkpoint: %s): not bitwise exact", world, state.get("world_size"))
    if not ckpt.restore_rng(folder, rank):
        log.warning("checkpoint %s has no RNG state for process %d", folder, rank)
    result.history = list(state["history"])
    c = state["counters"]
    result.tokens_seen, result.pad_tokens, result.target_tokens = c["tokens_seen"], c["pad_tokens"], c["target_tokens"]
    return int(state["step"])
