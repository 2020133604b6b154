"""Sentence representations of a LinguaLIFT model for the alignment analyses (retrieval, t-SNE).

Kinds (all mean-pooled over the tokens of one sentence, padding left out):

- ``aligned``: what the LLM receives for the sentence: the alignment layer applied to the encoder's final
  hidden states (encoder special tokens included, as in the model's input), width ``d_llm``;
- ``encoder``: the encoder's final hidden states before the alignment layer, width ``d_enc``;
- ``llm_embeddings``: the LLM's own input embeddings of the sentence's LLM tokens (no special tokens), width
  ``d_llm``: how far the LLM alone gets with text in a language it was not trained on (the baseline).

    vecs = sentence_vectors(model, ["a sentence", ...], kind="aligned", batch_size=64)   # (n, d) float64
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lingualift_core.evaluate.alignment import mean_pool

__all__ = ["REPRESENTATION_KINDS", "sentence_vectors"]

REPRESENTATION_KINDS: tuple[str, ...] = ("aligned", "encoder", "llm_embeddings")


def _right_padded(ids: Sequence[Sequence[int]], pad: int, device: Any) -> tuple[Any, Any]:
    """Right-padded ``(input_ids, mask)``, as the model's collator pads encoder inputs (absolute position
    embeddings then see the same positions as in training)."""
    import torch

    width = max(1, max((len(x) for x in ids), default=1))
    input_ids = torch.full((len(ids), width), pad, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for i, row in enumerate(ids):
        if row:
            input_ids[i, : len(row)] = torch.tensor(list(row), dtype=torch.long)
            mask[i, : len(row)] = 1
    return input_ids.to(device), mask.to(device)


def _encoder_batch(model: Any, texts: Sequence[str]) -> tuple[Any, Any]:
    tok = model.encoder_tokenizer
    ids = tok(list(texts), add_special_tokens=True, truncation=True,
              max_length=model.config.max_encoder_tokens)["input_ids"]
    return _right_padded(ids, tok.pad_token_id if tok.pad_token_id is not None else 0, model.device)


def _llm_batch(model: Any, texts: Sequence[str]) -> tuple[Any, Any]:
    tok = model.llm_tokenizer
    ids = tok(list(texts), add_special_tokens=False)["input_ids"]
    return _right_padded(ids, tok.pad_token_id if tok.pad_token_id is not None else 0, model.device)


def sentence_vectors(model: Any, texts: Sequence[str], *, kind: str, batch_size: int = 64) -> np.ndarray:
    """Mean-pooled vectors ``(len(texts), d)`` of ``kind`` (see the module doc) in float64."""
    import torch

    if kind not in REPRESENTATION_KINDS:
        raise ValueError(f"unknown representation kind {kind!r}; expected one of {', '.join(REPRESENTATION_KINDS)}")
    if kind != "llm_embeddings" and not model.has_encoder:
        raise ValueError(f"representation {kind!r} needs a model with an encoder (a stage-1 or stage-2 LinguaLIFT "
                         "folder), got an LLM-only model")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    out: list[np.ndarray] = []
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for start in range(0, len(texts), batch_size):
                chunk = list(texts[start: start + batch_size])
                if kind == "llm_embeddings":
                    ids, mask = _llm_batch(model, chunk)
                    hidden = model.llm.get_input_embeddings()(ids)
                else:
                    ids, mask = _encoder_batch(model, chunk)
                    hidden = model.encode_padded(ids, mask)
                    if kind == "aligned":
                        hidden = model.alignment(hidden)
                out.append(mean_pool(hidden.float().cpu().numpy(), mask.cpu().numpy()))
    finally:
        model.train(was_training)
    if not out:
        width = model.config.d_enc if kind == "encoder" else model.config.d_llm
        return np.zeros((0, int(width)), dtype=np.float64)
    return np.concatenate(out, axis=0)
