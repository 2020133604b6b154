"""bf16 autocast for pre-training the tiny base models, with attention kept in fp32.

On a CPU with native bf16 matrix units (Intel AMX or AVX512-BF16) autocast makes the matrix products ~3x faster,
but the CPU's bf16 flash-attention backward is ~5x slower than its fp32 one. Measured on the embedded LLM
(4 x 128, 16 x 96 tokens a step, one thread, eager, a Xeon with AMX): fp32 162 ms a step; bf16 autocast 161 ms;
bf16 autocast with fp32 attention 110 ms. So `bf16` here means: matrix products in bf16, attention, norms,
losses, weights and optimizer states in fp32 (autocast lowers only the inputs of the ops on its list).

`auto` picks bf16 on CUDA and on CPUs with native bf16 units, fp32 elsewhere (emulated bf16 is slower than fp32);
the stage records which one ran.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from transformers import AttentionInterface, PreTrainedModel
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

__all__ = ["PRECISIONS", "FP32_ATTENTION", "native_bf16", "resolve_precision", "fp32_attention", "bf16_autocast"]

PRECISIONS = ("auto", "fp32", "bf16")
FP32_ATTENTION = "lingualift_sdpa_fp32"


def _sdpa_fp32(module: torch.nn.Module, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
               attention_mask: torch.Tensor | None, **kwargs: Any) -> tuple[torch.Tensor, Any]:
    """PyTorch SDPA on fp32 inputs with autocast off: q, k, v (batch, heads, seq, head_dim) -> (batch, seq, heads,
    head_dim) in fp32; the next projection casts back under autocast."""
    if attention_mask is not None and attention_mask.is_floating_point():
        attention_mask = attention_mask.float()
    with torch.autocast(query.device.type, enabled=False):
        return sdpa_attention_forward(module, query.float(), key.float(), value.float(), attention_mask, **kwargs)


AttentionInterface.register(FP32_ATTENTION, _sdpa_fp32)
AttentionMaskInterface.register(FP32_ATTENTION, sdpa_mask)  # the masks SDPA gets (padded rows included)


def native_bf16() -> bool:
    """True when this CPU multiplies bf16 matrices natively (AMX tiles or AVX512-BF16)."""
    return bool(torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported())


def resolve_precision(precision: str, device: torch.device | str, *, key: str) -> str:
    """`auto` -> `bf16` on CUDA or a CPU with native bf16 units, else `fp32`; `fp32` / `bf16` as given."""
    if precision not in PRECISIONS:
        raise ValueError(f"{key}: precision must be one of {PRECISIONS}, got {precision!r}")
    if precision != "auto":
        return precision
    return "bf16" if torch.device(device).type == "cuda" or native_bf16() else "fp32"


@contextlib.contextmanager
def fp32_attention(model: PreTrainedModel) -> Iterator[None]:
    """For the `with` body: `model` attends through fp32 SDPA (under bf16 autocast); its attention implementation
    is restored afterwards (generation and saving see the one it had)."""
    old = model.config._attn_implementation
    model.set_attn_implementation(FP32_ATTENTION)
    try:
        yield
    finally:
        model.set_attn_implementation(old)


@contextlib.contextmanager
def bf16_autocast(model: PreTrainedModel, enabled: bool) -> Iterator[Any]:
    """For the `with` body: `model` attends through fp32 SDPA; yields a factory of autocast contexts (bf16 when
    `enabled`, else a no-op) to wrap each forward pass in."""
    if not enabled:
        yield contextlib.nullcontext
        return
    device_type = next(model.parameters()).device.type
    with fp32_attention(model):
        yield lambda: torch.autocast(device_type, dtype=torch.bfloat16)
