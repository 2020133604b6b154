"""Initialising the alignment layer before stage 1 (pure library; the `stage1` stage calls these when its params
ask for them): outputs at the LLM's embedding scale, and a warm start on the tokens both tokenizers share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


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
    a code-switched input are already copyable and stage 1 learns the rest. Returns {pairs, loss_first, loss};
    raises ValueError when the tokenizers share no token."""
    import torch

    pairs = shared_token_pairs(model)
    if not pairs:
        raise ValueError("the encoder and LLM tokenizers share no token")
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
