"""Trains a tiny LinguaLIFT model under `accelerate launch` (tests/test_train_fsdp.py runs it on 2 CPU processes),
plus the helpers the tests use to launch it (or a pipeline stage) with the repo's FSDP config on CPUs.

    python fsdp_worker.py OUT STAGE [--resume] [--checkpoint-every N] [--kill-after STEP]

The main process writes OUT/trained.safetensors (every parameter of the model ``train`` returns) and
OUT/result.json (history, world size, trainable names).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import torch
import yaml
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parents[1]


def cpu_fsdp_config(tmp: Path, **fsdp_overrides) -> Path:
    """configs/accelerate/fsdp.yaml on 2 CPU processes (accelerate exports the FSDP_* settings; the loop shards)."""
    return _cpu_config(tmp, "fsdp", fsdp_config=fsdp_overrides)


def cpu_ddp_config(tmp: Path) -> Path:
    """configs/accelerate/ddp.yaml on 2 CPU processes (torchrun; the Accelerator picks gloo)."""
    return _cpu_config(tmp, "ddp")


def _cpu_config(tmp: Path, name: str, fsdp_config: dict | None = None, **overrides) -> Path:
    cfg = yaml.safe_load((ROOT / f"configs/accelerate/{name}.yaml").read_text())
    cfg.update(num_processes=2, use_cpu=True, mixed_precision="no", **overrides)
    cfg.pop("gpu_ids", None)
    if fsdp_config:
        cfg["fsdp_config"].update(fsdp_config)
    out = tmp / f"{name}_cpu_{len(list(tmp.glob(f'{name}_cpu_*')))}.yaml"
    out.write_text(yaml.safe_dump(cfg))
    return out


def launch(config: Path | None, *args: str, module: bool = False) -> subprocess.CompletedProcess:
    """``args`` (a script path, or a module name with ``module=True``) under `accelerate launch --config_file
    config`, or as one plain process (``config=None``); one torch thread per process."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    for k in [k for k in env if k.startswith(("FSDP_", "ACCELERATE_"))]:
        env.pop(k)
    target = ["-m", *args] if module else list(args)
    if config is None:
        cmd = [sys.executable, *target]
    else:
        cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(config),
               "--main_process_port", "0", *target]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)

from model_builders import tiny_lingualift
from lingualift_core.train import TrainConfig, train


def records(n: int, seed: int) -> list[dict]:
    """Rows of 1-10 toy words (lengths differ, so micro-batches and shards are uneven)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        xs = [rng.randint(0, 60) for _ in range(rng.randint(1, 10))]
        out.append({"instruction": "w1 w2", "input": " ".join(f"x{i}" for i in xs),
                    "output": " ".join(f"w{i}" for i in xs)})
    return out


WORDS = [f"w{i}" for i in range(101)] + [f"x{i}" for i in range(61)]


def config(stage: str, checkpoint_every: int) -> TrainConfig:
    """11 records, global batch 6 (the last one 5 rows: 3 + 2 on two processes), micro 1: 2 steps per epoch, 3
    epochs. Stages: stage1 (alignment, encoder outputs cached), stage2 (full LLM), stage2-lora (LoRA adapters;
    no dropout, as each process draws its own masks), stage2-gc (full LLM with gradient checkpointing)."""
    flags = {"stage1": dict(precision="fp32", train_alignment=True, train_llm=False, cache_encoder_outputs=True),
             "stage2": dict(precision="fp32", train_alignment=False, train_llm=True),
             "stage2-lora": dict(precision="fp32", train_alignment=False, train_llm=True, lora=True, lora_r=4,
                                 lora_dropout=0.0, lora_target_modules=("q_proj", "v_proj", "down_proj")),
             "stage2-gc": dict(precision="fp32", train_alignment=False, train_llm=True, gradient_checkpointing=True),
             "stage2-bf16": dict(train_alignment=False, train_llm=True, precision="bf16")}[stage]
    return TrainConfig(stage=stage, **flags, learning_rate=3e-3, lr_schedule="cosine", warmup_ratio=0.2,
                       weight_decay=0.01, global_batch_size=6, micro_batch_size=1, epochs=3, max_grad_norm=0.5,
                       checkpoint_every=checkpoint_every, keep_checkpoints=5, log_every=0, seed=3)


def model():
    return tiny_lingualift(seed=5, llm_words=WORDS, llm_hidden=32, enc_hidden=24)


def run(out: Path, stage: str, *, resume: bool, checkpoint_every: int, kill_after: int | None = None) -> None:
    torch.set_num_threads(1)
    m = model()

    def kill(step: int, total: int, metrics: dict) -> None:
        if step == kill_after:  # the main process dies; the launcher then stops the others
            raise SystemExit(3)

    res = train(m, records(11, seed=2), config(stage, checkpoint_every),
                checkpoint_dir=out / "ckpt" if checkpoint_every else None, resume="latest" if resume else None,
                on_step=kill)
    from accelerate import PartialState

    if PartialState().is_main_process:
        save_file({n: p.detach().contiguous().cpu() for n, p in m.named_parameters()}, str(out / "trained.safetensors"))
        (out / "result.json").write_text(json.dumps({
            "history": res.history, "world_size": res.world_size, "trainable": res.trainable_parameters,
            "num_trainable": res.num_trainable_parameters, "resumed_from_step": res.resumed_from_step,
            "tokens_seen": res.tokens_seen, "pad_tokens": res.pad_tokens, "parallelism": res.parallelism,
        }))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("stage", choices=["stage1", "stage2", "stage2-lora", "stage2-gc", "stage2-bf16"])
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--checkpoint-every", type=int, default=0)
    ap.add_argument("--kill-after", type=int, default=None)
    ap.add_argument("--gloo-ddp", action="store_true", help="DDP over gloo instead of the shared-memory sum")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    if a.gloo_ddp:
        import lingualift_core.train.loop as loop

        loop.host_sum_available = lambda: False
    run(a.out, a.stage, resume=a.resume, checkpoint_every=a.checkpoint_every, kill_after=a.kill_after)
