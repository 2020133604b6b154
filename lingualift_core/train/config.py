"""Training configuration: one frozen dataclass of plain fields serves stage 1, stage 2 and mono-SFT.

Presets with the paper's settings: :func:`stage1_config`, :func:`stage2_config`, :func:`mono_sft_config`
(keyword overrides allowed, e.g. ``stage1_config(epochs=1)`` for the authors' release).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Mapping

SCHEDULES = ("constant", "cosine", "linear")
PRECISIONS = ("auto", "bf16", "fp32")

# keys that may differ between a checkpoint and the run resuming from it (they change nothing learned)
RESUME_IGNORED_KEYS = frozenset({"checkpoint_every", "keep_checkpoints", "log_every"})


@dataclass(frozen=True)
class TrainConfig:
    """Everything the loop needs besides the model and the records. Plain fields only (JSON round trip)."""

    stage: str = "stage1"  # label for metadata: stage1 | stage2 | mono_sft | anything
    # which parts train
    train_encoder: bool = False
    train_alignment: bool = True
    train_llm: bool = False
    lora: bool = False  # stage 2 option: LoRA adapters instead of full fine-tuning (train_llm must be True)
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
    # optimisation
    learning_rate: float = 6e-4
    lr_schedule: str = "constant"
    warmup_ratio: float = 0.0
    weight_decay: float = 0.0
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_epsilon: float = 1e-8
    max_grad_norm: float | None = 1.0
    # Gaussian noise on the aligned encoder states while training, std = level x each state's RMS with a level per
    # record uniform in [0, aligned_noise] (0: off); drawn per record and step (`aligned_noise_for`), so batching
    # and the process count do not change it
    aligned_noise: float = 0.0
    # batches and length
    global_batch_size: int = 256
    micro_batch_size: int = 8
    epochs: int = 3
    max_steps: int | None = None  # overrides epochs when set
    max_length: int = 2048  # combined LLM sequence (prompt + response); longer rows are truncated
    group_by_length: bool = True  # sort each window of global batches by length before cutting micro-batches
    length_group_window: int = 1  # window size in global batches (1: the global batches stay random samples)
    # runtime
    seed: int = 0
    precision: str = "auto"  # auto: bf16 autocast on GPU and on CPUs with native bf16 units (attention fp32), else fp32
    gradient_checkpointing: bool = False
    compile_layers: bool = False  # torch.compile the LLM's repeated blocks while training (train/compile.py)
    cache_encoder_outputs: bool = False  # frozen encoder: encode the training set once, reuse across epochs
    encoder_cache_max_gb: float = 8.0
    checkpoint_every: int = 0  # optimizer steps; 0 = never
    keep_checkpoints: int = 2
    log_every: int = 10

    def __post_init__(self) -> None:
        if isinstance(self.lora_target_modules, list):
            object.__setattr__(self, "lora_target_modules", tuple(self.lora_target_modules))
        problems = []
        if self.lr_schedule not in SCHEDULES:
            problems.append(f"lr_schedule must be one of {SCHEDULES}, got {self.lr_schedule!r}")
        if self.precision not in PRECISIONS:
            problems.append(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if not 0.0 <= self.warmup_ratio < 1.0:
            problems.append(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        if self.learning_rate <= 0:
            problems.append(f"learning_rate must be positive, got {self.learning_rate}")
        if not 0.0 <= self.aligned_noise < 10.0:
            problems.append(f"aligned_noise must be in [0, 10) (a multiple of each state's RMS), got {self.aligned_noise}")
        if self.weight_decay < 0:
            problems.append(f"weight_decay must be >= 0, got {self.weight_decay}")
        if self.global_batch_size < 1 or self.micro_batch_size < 1:
            problems.append("global_batch_size and micro_batch_size must be >= 1")
        if self.epochs < 1 and self.max_steps is None:
            problems.append(f"epochs must be >= 1 (or set max_steps), got {self.epochs}")
        if self.compile_layers and self.gradient_checkpointing:
            problems.append("compile_layers and gradient_checkpointing together are untested (the checkpointing "
                            "wrapper sits around the compiled layers): set one of them false")
        if self.max_steps is not None and self.max_steps < 1:
            problems.append(f"max_steps must be >= 1 when set, got {self.max_steps}")
        if self.max_length < 4:
            problems.append(f"max_length must be >= 4, got {self.max_length}")
        if self.length_group_window < 1:
            problems.append("length_group_window must be >= 1")
        if self.lora and not self.train_llm:
            problems.append("lora=True needs train_llm=True (LoRA adapters are the LLM's trainable part)")
        if self.max_grad_norm is not None and self.max_grad_norm <= 0:
            problems.append("max_grad_norm must be positive or None")
        if self.checkpoint_every < 0 or self.log_every < 0 or self.keep_checkpoints < 1:
            problems.append("checkpoint_every and log_every must be >= 0, keep_checkpoints >= 1")
        if not (self.train_encoder or self.train_alignment or self.train_llm):
            problems.append("nothing to train: set at least one of train_encoder / train_alignment / train_llm")
        if problems:
            raise ValueError("invalid TrainConfig: " + "; ".join(problems))

    def accumulation_steps(self, world_size: int = 1) -> int:
        """``global = micro * accum * world``; raises a clear error when it does not divide."""
        per_step = self.micro_batch_size * world_size
        if self.global_batch_size % per_step:
            raise ValueError(
                f"global_batch_size {self.global_batch_size} is not divisible by micro_batch_size "
                f"{self.micro_batch_size} x world size {world_size} = {per_step}; pick sizes with "
                "global = micro * accumulation * world"
            )
        return self.global_batch_size // per_step

    def llm_flag(self) -> bool | str:
        if not self.train_llm:
            return False
        return "lora" if self.lora else True

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["lora_target_modules"] = list(self.lora_target_modules)
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown TrainConfig keys: {sorted(unknown)}")
        return cls(**dict(data))


def stage1_config(**overrides: Any) -> TrainConfig:
    """Paper stage 1: alignment layer + boundary vectors only; constant lr 6e-4, global batch 256, 3 epochs."""
    base = TrainConfig(
        stage="stage1",
        train_encoder=False,
        train_alignment=True,
        train_llm=False,
        learning_rate=6e-4,
        lr_schedule="constant",
        warmup_ratio=0.0,
        weight_decay=0.0,
        global_batch_size=256,
        epochs=3,
    )
    return replace(base, **overrides)


def stage2_config(**overrides: Any) -> TrainConfig:
    """Paper stage 2: LLM fully fine-tuned (encoder, alignment, boundaries frozen); lr 2e-5, cosine, warmup 0.05,
    weight decay 0.01, global batch 128, 3 epochs. ``lora=True`` for the LoRA option."""
    base = TrainConfig(
        stage="stage2",
        train_encoder=False,
        train_alignment=False,
        train_llm=True,
        learning_rate=2e-5,
        lr_schedule="cosine",
        warmup_ratio=0.05,
        weight_decay=0.01,
        global_batch_size=128,
        epochs=3,
    )
    return replace(base, **overrides)


def mono_sft_config(**overrides: Any) -> TrainConfig:
    """The English-only baseline: the LLM alone with the stage-2 recipe."""
    return replace(stage2_config(stage="mono_sft"), **overrides)
