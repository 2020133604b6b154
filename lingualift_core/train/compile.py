"""Regional `torch.compile` of a model's repeated blocks while it trains.

A tiny model's step on a CPU spends about half its time outside the matrix products: RMS norms, rotary
embeddings, the SwiGLU gate, residual adds, each a separate pass over memory in eager mode. Inductor fuses them.
Compiling the whole Hugging Face model costs ~25-47 s per process; compiling each repeated block (the classes in
the model's `_no_split_modules`, e.g. `LlamaDecoderLayer`) with dynamic shapes reuses one graph for every layer and
every sequence length: ~7 s with a warm inductor cache, ~19 s cold, per process.

Measured on the embedded LLM (4 x 128, one thread per process): 12-20% less time per training step, frozen
(stage 1) or trainable (pre-training, stage 2); `benchmarks/train.py --only compile` compares whole stage-2 runs.
The BERT encoder got slower in the same measurement (86 -> 93 ms a step), so only the LLM is compiled. Fused
kernels round differently from eager ones: a compiled run matches an eager one to float tolerance, not bit for bit.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator

import torch

__all__ = ["compiled_blocks", "repeated_blocks", "check_compiler"]


def repeated_blocks(model: torch.nn.Module) -> list[torch.nn.Module]:
    """The modules of `model` whose class is in its `_no_split_modules` (a transformer's layers), in order."""
    names = set(getattr(model, "_no_split_modules", None) or ())
    if not names:
        raise ValueError(f"{type(model).__name__} names no repeated blocks (`_no_split_modules`): set the "
                         "stage's compile_layers: false")
    blocks = [m for m in model.modules() if type(m).__name__ in names]
    if not blocks:
        raise ValueError(f"{type(model).__name__} holds none of its `_no_split_modules` {sorted(names)}: set the "
                         "stage's compile_layers: false")
    return blocks


def check_compiler(key: str) -> None:
    """Inductor builds C++ kernels on the CPU: refuse early, naming `key`, when no C++ compiler is on PATH."""
    candidates = [os.environ["CXX"]] if os.environ.get("CXX") else ["g++", "c++", "clang++"]
    if not any(shutil.which(c) for c in candidates):
        raise RuntimeError(f"{key}: true needs a C++ compiler for torch.compile (looked for {candidates} on PATH); "
                           f"install one (e.g. apt install g++) or set {key}: false")


@contextlib.contextmanager
def compiled_blocks(model: torch.nn.Module, enabled: bool, *, key: str) -> Iterator[int]:
    """Compiles `model`'s repeated blocks for the `with` body (training), then restores eager execution.

    Yields the number of compiled blocks (0 when not `enabled`). Eager afterwards because evaluation generates
    token by token: every new decode shape would otherwise cost a recompile.
    """
    if not enabled:
        yield 0
        return
    check_compiler(key)
    blocks = repeated_blocks(model)
    for block in blocks:
        block.compile(dynamic=True)
    try:
        yield len(blocks)
    finally:
        for block in blocks:
            # `nn.Module.compile` stores the compiled forward here; None is the eager state (torch 2.13)
            block._compiled_call_impl = None
