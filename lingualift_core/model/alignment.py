"""Language alignment layer and the trainable boundary vectors.

The alignment layer maps the multilingual encoder's final hidden states (width ``d_enc``) into the LLM's
input-embedding space (width ``d_llm``):

- ``mlp`` (the paper's choice): ``Linear(d_enc, 2*d_enc) -> GELU -> Linear(2*d_enc, d_llm)``;
- ``linear`` (ablation, appendix E.4): ``Linear(d_enc, d_llm)``.

``<enc_start>`` / ``<enc_end>`` are free vectors of width ``d_llm``. They are initialised at the scale of the
LLM's own input embeddings (normal with the standard deviation of the embedding matrix), not at std 1.0 —
one of the anchor implementation's bugs, which put the boundaries far outside the embedding distribution.
"""

from __future__ import annotations

import torch
from torch import nn

ALIGNMENT_TYPES = ("mlp", "linear")


class AlignmentLayer(nn.Module):
    """Maps encoder hidden states ``[..., d_enc]`` to LLM embeddings ``[..., d_llm]``."""

    def __init__(self, d_enc: int, d_llm: int, kind: str = "mlp") -> None:
        super().__init__()
        if kind not in ALIGNMENT_TYPES:
            raise ValueError(f"unknown alignment layer type {kind!r}; expected one of {ALIGNMENT_TYPES}")
        if d_enc <= 0 or d_llm <= 0:
            raise ValueError(f"alignment layer dims must be positive, got d_enc={d_enc}, d_llm={d_llm}")
        self.kind = kind
        self.d_enc = int(d_enc)
        self.d_llm = int(d_llm)
        if kind == "mlp":
            self.net = nn.Sequential(nn.Linear(d_enc, 2 * d_enc), nn.GELU(), nn.Linear(2 * d_enc, d_llm))
        else:
            self.net = nn.Sequential(nn.Linear(d_enc, d_llm))

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        if hidden.shape[-1] != self.d_enc:
            raise ValueError(
                f"alignment layer expects encoder hidden size {self.d_enc}, got tensors of width {hidden.shape[-1]}"
            )
        weight = self.net[0].weight
        if hidden.dtype != weight.dtype and not torch.is_autocast_enabled(hidden.device.type):
            hidden = hidden.to(weight.dtype)
        return self.net(hidden)


def embedding_std(embedding_weight: torch.Tensor) -> float:
    """Standard deviation of an embedding matrix (fp32 for stability)."""
    return float(embedding_weight.detach().float().std().item())


def init_boundary_vector(d_llm: int, std: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """A boundary vector ``N(0, std^2)`` of width ``d_llm`` (fp32)."""
    if std <= 0 or not torch.isfinite(torch.tensor(std)):
        raise ValueError(f"boundary vector init std must be positive and finite, got {std}")
    return torch.randn(d_llm, generator=generator) * std
