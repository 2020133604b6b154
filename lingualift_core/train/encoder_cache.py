"""Encoder outputs computed once and reused across epochs (valid while the encoder is frozen).

The cache holds, per tokenized row, the encoder's last hidden states at the row's non-pad encoder positions
(``[len(row["enc"]), d_enc]``, on CPU). A micro-batch then passes ``encoder_states`` (the rows' states
concatenated in row order) instead of ``enc_input_ids``; the model splices them exactly as it would its own
encoder output.
"""

from __future__ import annotations

from typing import Sequence

import torch

from ..model.batching import TokenizedRecord, collate


def estimate_cache_bytes(rows: Sequence[TokenizedRecord], d_enc: int, dtype: torch.dtype) -> int:
    n = sum(len(r["enc"] or []) for r in rows)
    return n * d_enc * torch.empty((), dtype=dtype).element_size()


@torch.no_grad()
def compute_encoder_cache(
    model,
    rows: Sequence[TokenizedRecord],
    *,
    batch_size: int = 32,
    autocast=None,
    max_gb: float | None = None,
) -> list[torch.Tensor]:
    """Encode every row once (frozen encoder, eval mode), batched by encoder length."""
    if not model.has_encoder:
        raise ValueError("cache_encoder_outputs needs a model with an encoder")
    if any(p.requires_grad for p in model.encoder.parameters()):
        raise ValueError("cache_encoder_outputs is only valid with a frozen encoder (train_encoder=False)")
    dtype = next(model.encoder.parameters()).dtype
    if max_gb is not None:
        size = estimate_cache_bytes(rows, model.config.d_enc, dtype)
        if size > max_gb * 2**30:
            raise ValueError(
                f"the encoder-output cache would take {size / 2**30:.1f} GiB (> encoder_cache_max_gb={max_gb}); "
                "raise the limit or set cache_encoder_outputs=False"
            )
    was_training = model.encoder.training
    model.encoder.eval()
    device = next(model.encoder.parameters()).device  # under FSDP only the encoder is placed before sharding
    order = sorted(range(len(rows)), key=lambda i: -len(rows[i]["enc"] or []))
    out: list[torch.Tensor | None] = [None] * len(rows)
    try:
        for s in range(0, len(order), batch_size):
            idx = order[s : s + batch_size]
            batch = collate([rows[i] for i in idx], llm_pad_id=0, enc_pad_id=_enc_pad(model), with_labels=False)
            ids = batch["enc_input_ids"].to(device)
            mask = batch["enc_attention_mask"].to(device)
            ctx = autocast() if autocast is not None else torch.autocast(device.type, enabled=False)
            with ctx:
                hidden = model.encode_padded(ids, mask)
            hidden = hidden.cpu()
            for j, i in enumerate(idx):
                n = len(rows[i]["enc"] or [])
                out[i] = hidden[j, :n].clone()
    finally:
        model.encoder.train(was_training)
    return out  # type: ignore[return-value]


def _enc_pad(model) -> int:
    pad = model.encoder_tokenizer.pad_token_id
    return 0 if pad is None else pad


def batch_encoder_states(cache: Sequence[torch.Tensor], indices: Sequence[int]) -> torch.Tensor:
    """The cached states of ``indices`` concatenated in order (what ``model.encode`` returns for the batch)."""
    return torch.cat([cache[i] for i in indices], dim=0)
