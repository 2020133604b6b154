"""Pre-training of the tiny base models of the embedded default (plain torch loops, CPU friendly).

* `pretrain_encoder_mlm`: masked-LM pre-training of the multilingual encoder on all monolingual text
  (15% of the non-special tokens, of which 80% -> [MASK], 10% -> random token, 10% unchanged).
* `pretrain_llm_clm`: causal-LM pre-training of the English LLM on English text (sentences, math problems
  with chain-of-thought solutions) plus copy sequences (`build_copy_sequences`) that reward copying:
  `<s> A <sep> A </s>`, with a copy-heavy start (`copy_share`). Stage 1 of LinguaLIFT asks the FROZEN LLM to reproduce an English sentence from
  soft prefix embeddings; a real LLM can do that from pre-training, a tiny one only if its pre-training
  text builds induction/copy behaviour.
* `copy_accuracy` / `mlm_accuracy`: quick checks of those two abilities on held-out text.

Both trainers: AdamW (no weight decay on biases and norms), linear warmup then cosine decay to
`min_lr_ratio * lr`, gradient clipping, everything derived from `seed` (model init, data order, masks);
the caller's global torch RNG state is left untouched. `num_threads` sets torch's intra-op threads for
the run (restored afterwards). Progress: `on_step(step, total, metrics)` after every optimiser step, with
metrics {"loss", "lr", "elapsed_s", "tokens"}; the returned history is a list of {"step", "loss", "lr"}.
The returned model is in eval mode.
"""

from __future__ import annotations

import contextlib
import math
import random
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from transformers import AutoModelForCausalLM, AutoModelForMaskedLM, PretrainedConfig, PreTrainedModel

from lingualift_core.model.tiny import LLM_SEP_TOKEN, add_number_features, check_tokenizer_config
from lingualift_core.threads import torch_threads
from lingualift_core.train.compile import compiled_blocks
from lingualift_core.train.host_sum import HostSum, host_sum_available, sum_gradients_
from lingualift_core.train.precision import bf16_autocast

__all__ = [
    "pretrain_encoder_mlm",
    "pretrain_llm_clm",
    "build_copy_sequences",
    "pack_documents",
    "copy_share",
    "lr_factor",
    "mask_tokens",
    "copy_accuracy",
    "mlm_accuracy",
]

OnStep = Callable[[int, int, dict], None]
History = list[dict]


# --------------------------------------------------------------------------------------------- helpers
@contextlib.contextmanager
def _seeded(seed: int):
    """Seed torch/python/numpy for the block and restore the caller's RNG states afterwards."""
    py_state, np_state = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        random.seed(seed)
        np.random.seed(seed % 2**32)
        try:
            yield
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)


def _check_common(texts, steps: int, batch_size: int, lr: float, seq_len: int) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("texts must be a sequence of strings, not a single string")
    data = [t for t in texts if isinstance(t, str) and t.strip()]
    if not data:
        raise ValueError("no non-empty training text")
    for name, v in (("steps", steps), ("batch_size", batch_size), ("seq_len", seq_len)):
        if not isinstance(v, int) or v <= 0:
            raise ValueError(f"{name} must be a positive int, got {v!r}")
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr!r}")
    return data


def _optimizer(model: torch.nn.Module, lr: float, weight_decay: float) -> torch.optim.AdamW:
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim < 2 or "norm" in name.lower() else decay).append(p)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.98), eps=1e-8)


def lr_factor(step: int, total: int, warmup_ratio: float, min_lr_ratio: float) -> float:
    """Multiplier of the peak lr at optimiser step `step` (0-based): linear warmup, then cosine."""
    warm = max(1, int(round(warmup_ratio * total)))
    if step < warm:
        return (step + 1) / warm
    progress = min(1.0, (step - warm) / max(1, total - warm))
    return min_lr_ratio + (1.0 - min_lr_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def _train_loop(
    model: PreTrainedModel,
    batches: Iterator[dict],
    loss_fn: Callable[..., tuple[torch.Tensor, torch.Tensor]],
    *,
    steps: int,
    lr: float,
    warmup_ratio: float,
    min_lr_ratio: float,
    weight_decay: float,
    grad_clip: float | None,
    on_step: OnStep | None,
    compile_layers: bool = False,
    bf16: bool = False,
) -> History:
    """AdamW with warmup + cosine decay over `steps` batches; `loss_fn` returns (summed loss, token count).

    Under an initialised torch.distributed group (`base_models.tiny.processes`), every process draws the same full batch,
    computes the loss of its rows (`rank::world`) divided by the whole batch's token count, and the gradients
    are summed over the processes: the update is the one-process update up to float summation order.
    `bf16`: forward passes under bf16 autocast with fp32 attention (`train/precision.py`)."""
    world, _ = _world()
    opt = _optimizer(model, lr, weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(s, steps, warmup_ratio, min_lr_ratio))
    params = [p for p in model.parameters() if p.requires_grad]
    # every process on this machine (base_models' data parallel): gradients and loss summed in shared memory
    summer = HostSum(sum(p.numel() for p in params) + 1) if world > 1 and host_sum_available() else None
    model.train()
    with bf16_autocast(model, bf16) as autocast, \
            compiled_blocks(model, compile_layers, key="base_models.tiny.llm.compile_layers"):
        history = _steps(model, batches, loss_fn, opt, sched, params, summer, steps, grad_clip, on_step, autocast)
    model.eval()
    return history


def _steps(model: PreTrainedModel, batches: Iterator[dict], loss_fn: Callable[..., tuple[torch.Tensor, torch.Tensor]],
           opt: torch.optim.Optimizer, sched: Any, params: list[torch.nn.Parameter], summer: HostSum | None,
           steps: int, grad_clip: float | None, on_step: OnStep | None,
           autocast: Callable[[], Any] = contextlib.nullcontext) -> History:
    """The optimizer steps of `_train_loop` (see there), each forward pass inside `autocast()`; returns the loss
    history."""
    world, rank = _world()
    history: History = []
    t0 = time.perf_counter()
    tokens = 0
    for step in range(1, steps + 1):
        batch = next(batches)
        cur_lr = opt.param_groups[0]["lr"]
        tokens += int(batch["attention_mask"].sum())  # the whole batch, before a process takes its rows
        if world > 1:
            total = loss_fn(model, batch, count_only=True)[1]
            batch = {k: v[rank::world] for k, v in batch.items()}
        with autocast():
            loss_sum, count = loss_fn(model, batch)
        total = count if world == 1 else total
        loss = loss_sum / total.clamp(min=1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if world > 1:
            loss = _sum_over_processes(params, loss.detach(), summer)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"non-finite loss {loss.item()} at step {step} (lr {cur_lr:.2e})")
        if grad_clip:
            torch.nn.utils.clip_grad_norm_(params, grad_clip)
        opt.step()
        sched.step()
        rec = {"step": step, "loss": float(loss.detach()), "lr": cur_lr}
        history.append(rec)
        if on_step is not None:
            on_step(step, steps, {"loss": rec["loss"], "lr": cur_lr, "elapsed_s": time.perf_counter() - t0,
                                  "tokens": tokens})
    return history


def _world() -> tuple[int, int]:
    """(world size, rank) of the initialised torch.distributed group, else (1, 0)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_world_size(), torch.distributed.get_rank()
    return 1, 0


def _sum_over_processes(params: Sequence[torch.nn.Parameter], loss: torch.Tensor,
                        summer: HostSum | None = None) -> torch.Tensor:
    """Sums the gradients and the loss over the processes (through `summer`'s shared memory, else one flat gloo
    all-reduce); returns the summed loss."""
    if summer is not None:
        return torch.tensor(sum_gradients_(summer, params, [float(loss)])[0])
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    flat = torch.cat([g.reshape(-1) for g in grads] + [loss.reshape(1)])
    torch.distributed.all_reduce(flat)
    offset = 0
    for p, g in zip(params, grads):
        n = g.numel()
        p.grad = flat[offset:offset + n].view_as(g).clone()
        offset += n
    return flat[offset]


def _bucketed_batches(lengths: Sequence[int], batch_size: int, rng: np.random.Generator,
                      bucket_batches: int = 32) -> Iterator[np.ndarray]:
    """Endless stream of index batches: each epoch shuffled, batches drawn from length-sorted chunks."""
    lengths = np.asarray(lengths)
    n = len(lengths)
    while True:
        perm = rng.permutation(n)
        chunk = batch_size * bucket_batches
        out = []
        for i in range(0, n, chunk):
            idx = perm[i:i + chunk]
            idx = idx[np.argsort(lengths[idx], kind="stable")]
            out.extend(idx[j:j + batch_size] for j in range(0, len(idx), batch_size))
        for k in rng.permutation(len(out)):
            yield out[k]


def _pad(seqs: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.as_tensor(s, dtype=torch.long)
        mask[i, : len(s)] = 1
    return ids, mask


# ------------------------------------------------------------------------------------------ encoder MLM
def mask_tokens(
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    *,
    special_ids: Sequence[int],
    mask_id: int,
    vocab_size: int,
    generator: torch.Generator,
    mlm_probability: float = 0.15,
    replace_probs: tuple[float, float] = (0.8, 0.1),
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT masking. Returns (masked input ids, labels with -100 where not predicted).

    Chooses `mlm_probability` of the non-special, non-padding tokens (at least one per row that has any);
    of those, `replace_probs[0]` become `mask_id`, `replace_probs[1]` a random non-special token, the rest
    stay unchanged. Random replacements are drawn from ids not in `special_ids`.
    """
    special = torch.isin(input_ids, torch.as_tensor(list(special_ids), dtype=input_ids.dtype))
    candidates = (~special) & attention_mask.bool()
    probs = torch.rand(input_ids.shape, generator=generator)
    chosen = (probs < mlm_probability) & candidates
    # rows with candidates but no chosen token: choose their lowest-probability candidate
    empty = (~chosen.any(dim=1)) & candidates.any(dim=1)
    if empty.any():
        masked_probs = probs.masked_fill(~candidates, 2.0)
        pick = masked_probs.argmin(dim=1)
        rows = empty.nonzero(as_tuple=True)[0]
        chosen[rows, pick[rows]] = True
    labels = input_ids.masked_fill(~chosen, -100)
    r = torch.rand(input_ids.shape, generator=generator)
    to_mask = chosen & (r < replace_probs[0])
    to_random = chosen & (r >= replace_probs[0]) & (r < replace_probs[0] + replace_probs[1])
    out = input_ids.clone()
    out[to_mask] = mask_id
    if to_random.any():
        allowed = torch.ones(vocab_size, dtype=torch.bool)
        allowed[[i for i in special_ids if i < vocab_size]] = False
        pool = allowed.nonzero(as_tuple=True)[0]
        draw = torch.randint(len(pool), (int(to_random.sum()),), generator=generator)
        out[to_random] = pool[draw]
    return out, labels


def _mlm_loss(model: PreTrainedModel, batch: dict, count_only: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """(summed cross-entropy over the masked positions, their count)."""
    labels = batch["labels"]
    sel = labels != -100
    if count_only:
        return torch.zeros(()), sel.sum()
    if hasattr(model, "bert") and hasattr(model, "cls"):
        # fast path: the vocabulary projection only at the ~15% masked positions
        hidden = model.bert(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])[0]
        logits = model.cls(hidden[sel])
        return F.cross_entropy(logits.float(), labels[sel], reduction="sum"), sel.sum()
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    return F.cross_entropy(logits[sel].float(), labels[sel], reduction="sum"), sel.sum()


def _special_ids(tokenizer) -> list[int]:
    ids = set(tokenizer.all_special_ids)
    if tokenizer.pad_token_id is not None:
        ids.add(tokenizer.pad_token_id)
    return sorted(ids)


def pretrain_encoder_mlm(
    texts: Sequence[str],
    tokenizer,
    config: PretrainedConfig,
    *,
    steps: int = 1200,
    batch_size: int = 64,
    lr: float = 1e-3,
    seq_len: int = 64,
    seed: int = 0,
    mlm_probability: float = 0.15,
    warmup_ratio: float = 0.05,
    min_lr_ratio: float = 0.1,
    weight_decay: float = 0.01,
    grad_clip: float | None = 1.0,
    num_threads: int | None = None,
    device: str | torch.device = "cpu",
    on_step: OnStep | None = None,
    bf16: bool = False,
) -> tuple[PreTrainedModel, History]:
    """Masked-LM pre-training of a fresh encoder built from `config` (AutoModelForMaskedLM).

    Each text is one example (`[CLS] text [SEP]`, truncated to `seq_len` tokens); batches are drawn from
    length-sorted buckets to limit padding. Returns `(model, history)`; save the base encoder with
    `lingualift_core.model.tiny.base_encoder(model).save_pretrained(folder)`.
    """
    data = _check_common(texts, steps, batch_size, lr, seq_len)
    if tokenizer.mask_token_id is None:
        raise ValueError("the tokenizer has no mask token (train it with kind='encoder')")
    check_tokenizer_config(tokenizer, config)
    if seq_len > config.max_position_embeddings:
        raise ValueError(f"seq_len={seq_len} exceeds config.max_position_embeddings={config.max_position_embeddings}")
    special = _special_ids(tokenizer)
    enc = tokenizer(data, add_special_tokens=True, truncation=True, max_length=seq_len)["input_ids"]
    enc = [e for e in enc if any(t not in special for t in e)]
    if not enc:
        raise ValueError("no text with a non-special token after tokenisation")
    lengths = [len(e) for e in enc]

    with torch_threads(num_threads), _seeded(seed):
        model = AutoModelForMaskedLM.from_config(config).to(device)
        rng = np.random.default_rng(seed)
        gen = torch.Generator().manual_seed(seed + 1)
        order = _bucketed_batches(lengths, batch_size, rng)

        def batches():
            while True:
                idx = next(order)
                ids, mask = _pad([enc[i] for i in idx], tokenizer.pad_token_id)
                inp, labels = mask_tokens(ids, mask, special_ids=special, mask_id=tokenizer.mask_token_id,
                                          vocab_size=len(tokenizer), generator=gen,
                                          mlm_probability=mlm_probability)
                yield {"input_ids": inp.to(device), "attention_mask": mask.to(device), "labels": labels.to(device)}

        history = _train_loop(model, batches(), _mlm_loss, steps=steps, lr=lr, warmup_ratio=warmup_ratio,
                              min_lr_ratio=min_lr_ratio, weight_decay=weight_decay, grad_clip=grad_clip,
                              on_step=on_step, bf16=bf16)
    return model, history


@torch.no_grad()
def mlm_accuracy(
    model: PreTrainedModel,
    tokenizer,
    texts: Sequence[str],
    *,
    mask_probability: float = 0.15,
    seed: int = 0,
    batch_size: int = 64,
    seq_len: int = 128,
    num_threads: int | None = None,
) -> float:
    """Top-1 accuracy at masked positions of held-out `texts` (every chosen token replaced by [MASK])."""
    data = [t for t in texts if t.strip()]
    if not data:
        raise ValueError("mlm_accuracy: no text")
    special = _special_ids(tokenizer)
    gen = torch.Generator().manual_seed(seed)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    correct = total = 0
    try:
        with torch_threads(num_threads):
            for i in range(0, len(data), batch_size):
                enc = tokenizer(data[i:i + batch_size], truncation=True, max_length=seq_len)["input_ids"]
                ids, mask = _pad(enc, tokenizer.pad_token_id)
                inp, labels = mask_tokens(ids, mask, special_ids=special, mask_id=tokenizer.mask_token_id,
                                          vocab_size=len(tokenizer), generator=gen,
                                          mlm_probability=mask_probability, replace_probs=(1.0, 0.0))
                logits = model(input_ids=inp.to(device), attention_mask=mask.to(device)).logits
                sel = labels != -100
                correct += int((logits.argmax(-1).cpu()[sel] == labels[sel]).sum())
                total += int(sel.sum())
    finally:
        model.train(was_training)
    return correct / max(1, total)


# ------------------------------------------------------------------------------------------- LLM CLM
def build_copy_sequences(
    sentences: Sequence[str],
    n: int,
    *,
    seed: int = 0,
    sep: str = LLM_SEP_TOKEN,
    max_sentences: int = 2,
    scramble_fraction: float = 0.25,
    random_fraction: float = 0.25,
) -> list[str]:
    """`n` copy-rewarding texts `"A <sep> A"` (the trainer wraps them as `<s> A <sep> A </s>`).

    A is 1..`max_sentences` sentences drawn at random (without replacement within one sequence, joined by
    a space). Then, per sequence: with probability `random_fraction` A is replaced by as many words drawn
    uniformly from the word types of all sentences ("random"); else with probability
    `scramble_fraction / (1 - random_fraction)` the words of A are shuffled ("scrambled"); otherwise A
    stays verbatim. So about `random_fraction` of the sequences are random, `scramble_fraction` scrambled
    and the rest verbatim. In random and scrambled sequences the second half can only be predicted by
    copying, not from the language prior: they build induction behaviour rather than memorisation.
    Deterministic from `seed`.
    """
    pool = [s.strip() for s in sentences if s and s.strip()]
    if not pool:
        raise ValueError("build_copy_sequences: no non-empty sentence")
    if n < 0 or max_sentences < 1:
        raise ValueError("need n >= 0 and max_sentences >= 1")
    if not (0.0 <= scramble_fraction and 0.0 <= random_fraction and scramble_fraction + random_fraction <= 1.0):
        raise ValueError("need scramble_fraction, random_fraction >= 0 with a sum <= 1")
    rng = random.Random(seed)
    types = sorted({w for s in pool for w in s.split()}) if random_fraction > 0 else []
    p_scramble = scramble_fraction / (1.0 - random_fraction) if random_fraction < 1.0 else 0.0
    out = []
    for _ in range(n):
        k = rng.randint(1, min(max_sentences, len(pool)))
        words = " ".join(rng.sample(pool, k)).split()
        r = rng.random()
        if r < random_fraction:
            words = [rng.choice(types) for _ in words]
        elif rng.random() < p_scramble:
            rng.shuffle(words)
        a = " ".join(words)
        out.append(f"{a} {sep} {a}")
    return out


def pack_documents(docs: Sequence[Sequence[int]], seq_len: int, *, lookahead: int = 16) -> list[list[int]]:
    """Pack whole token documents into windows of at most `seq_len` tokens, in order.

    A document is never split unless it is longer than `seq_len` (then it is cut into `seq_len` chunks),
    so a copy sequence always stays in one window. When the next document does not fit, the first of the
    following `lookahead` documents that fits fills the gap; otherwise the window is closed.
    """
    queue: deque[list[int]] = deque()
    for d in docs:
        d = list(d)
        while len(d) > seq_len:
            queue.append(d[:seq_len])
            d = d[seq_len:]
        if d:
            queue.append(d)
    windows: list[list[int]] = []
    cur: list[int] = []
    while queue:
        placed = False
        for j in range(min(lookahead, len(queue))):
            if len(queue[j]) <= seq_len - len(cur):
                cur.extend(queue[j])
                del queue[j]
                placed = True
                break
        if not placed:
            windows.append(cur)
            cur = []
    if cur:
        windows.append(cur)
    return windows


def _clm_loss(model: PreTrainedModel, batch: dict, count_only: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """(summed next-token cross-entropy, the number of predicted tokens); labels -100 are ignored."""
    labels = batch["labels"][:, 1:]
    count = (labels != -100).sum()
    if count_only:
        return torch.zeros(()), count
    # no KV cache while training: filling one costs time and, compiled, a recompile per layer
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], use_cache=False).logits[:, :-1]
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), labels.reshape(-1), ignore_index=-100,
                           reduction="sum")
    return loss, count


def copy_share(step: int, total: int, copy_fraction: float, copy_fraction_start: float | None,
               copy_decay_ratio: float) -> float:
    """Share of copy sequences in the batch of optimiser step `step` (1-based).

    Constant `copy_fraction`, or, with `copy_fraction_start`, a linear move from `copy_fraction_start` to
    `copy_fraction` over the first `copy_decay_ratio` of the steps (a copy-heavy start lets the induction
    behaviour form early; the rest of the run is mostly language modelling).
    """
    if copy_fraction_start is None or copy_decay_ratio <= 0:
        return copy_fraction
    span = max(1.0, copy_decay_ratio * total)
    t = min(1.0, (step - 1) / span)
    return copy_fraction_start + (copy_fraction - copy_fraction_start) * t


def _window_stream(make_docs: Callable[[int], list[list[int]]], seq_len: int,
                   rng: np.random.Generator) -> Iterator[list[int]]:
    """Endless packed windows; `make_docs(epoch)` gives the documents of each epoch (shuffled here)."""
    epoch = 0
    while True:
        docs = make_docs(epoch)
        if not docs:
            raise ValueError("no training document")
        order = rng.permutation(len(docs))
        windows = pack_documents([docs[i] for i in order], seq_len)
        for k in rng.permutation(len(windows)):
            yield windows[k]
        epoch += 1


def pretrain_llm_clm(
    texts: Sequence[str],
    tokenizer,
    config: PretrainedConfig,
    *,
    steps: int = 1000,
    batch_size: int = 32,
    lr: float = 2e-3,
    seq_len: int = 128,
    seed: int = 0,
    copy_fraction: float = 0.4,
    copy_fraction_start: float | None = 0.8,
    copy_decay_ratio: float = 0.4,
    copy_sources: Sequence[str] | None = None,
    copy_max_sentences: int = 2,
    copy_scramble_fraction: float = 0.25,
    copy_random_fraction: float = 0.25,
    streams: Sequence[tuple[Sequence[str], float]] = (),
    warmup_ratio: float = 0.05,
    min_lr_ratio: float = 0.1,
    weight_decay: float = 0.01,
    grad_clip: float | None = 1.0,
    num_threads: int | None = None,
    device: str | torch.device = "cpu",
    on_step: OnStep | None = None,
    compile_layers: bool = False,
    number_features: float = 0.0,
    bf16: bool = False,
) -> tuple[PreTrainedModel, History]:
    """Causal-LM pre-training of a fresh decoder built from `config` (AutoModelForCausalLM).

    Two streams of training sequences (windows of at most `seq_len` tokens, whole documents packed by
    `pack_documents`, padding at the end, ignored by the loss):
    * text windows: every text is a document `<s> text </s>`; shuffled each epoch;
    * copy windows: documents `<s> A <sep> A </s>` from `build_copy_sequences` (verbatim, scrambled and
      random-word variants, see `copy_scramble_fraction` / `copy_random_fraction`), drawn from
      `copy_sources` (default: the texts short enough that a copy document fits in `seq_len`); one
      fresh copy document per source per epoch.
    Each batch holds round(`batch_size` * share) copy windows, where share = `copy_fraction`, or, with
    `copy_fraction_start` set, moves linearly from `copy_fraction_start` to `copy_fraction` over the
    first `copy_decay_ratio` of the steps (`copy_share`). `copy_fraction=0` disables copy sequences
    (whatever `copy_fraction_start`). Note: the share counts SEQUENCES (windows) of the batch.
    `streams`: further (documents, share) pairs, each its own packed stream with a fixed share of every batch
    (e.g. task problems with solutions, arithmetic facts), so a small but important set of documents is seen
    at a chosen rate whatever the size of `texts`; `texts` fill the rest of the batch.
    `number_features` > 0: number tokens start with Fourier features of their value (`add_number_features`).
    `bf16`: forward passes under bf16 autocast, attention in fp32 (`train/precision.py`).
    """
    data = _check_common(texts, steps, batch_size, lr, seq_len)
    for name, v in (("copy_fraction", copy_fraction), ("copy_fraction_start", copy_fraction_start)):
        if v is not None and not 0.0 <= v <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {v}")
    if copy_fraction >= 1.0:
        raise ValueError(f"copy_fraction must be < 1 (the LLM must also see text), got {copy_fraction}")
    if tokenizer.bos_token_id is None or tokenizer.eos_token_id is None:
        raise ValueError("the tokenizer needs bos and eos tokens (train it with kind='llm')")
    check_tokenizer_config(tokenizer, config)
    if seq_len > config.max_position_embeddings:
        raise ValueError(f"seq_len={seq_len} exceeds config.max_position_embeddings={config.max_position_embeddings}")
    bos, eos, pad = tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id
    use_copy = copy_fraction > 0
    sep_id = tokenizer.convert_tokens_to_ids(LLM_SEP_TOKEN)
    if use_copy and (sep_id is None or sep_id == tokenizer.unk_token_id):
        raise ValueError(f"the tokenizer has no {LLM_SEP_TOKEN} token (train it with kind='llm')")

    def encode(strings: Sequence[str]) -> list[list[int]]:
        ids = tokenizer(list(strings), add_special_tokens=False)["input_ids"]
        return [[bos, *x, eos] for x in ids]

    peak_copy = max(copy_fraction, copy_fraction_start or 0.0) if use_copy else 0.0
    for i, (stream_docs, share) in enumerate(streams):
        if not 0.0 < share < 1.0 or not any(d.strip() for d in stream_docs):
            raise ValueError(f"streams[{i}]: need a share in (0, 1) and at least one non-empty document, got "
                             f"share={share}")
    if peak_copy + sum(share for _, share in streams) >= 1.0:
        raise ValueError(f"copy share ({peak_copy}) + stream shares ({[sh for _, sh in streams]}) must stay "
                         "below 1: the LLM must also see text")
    docs = encode(data)
    stream_docs = [encode([d for d in ds if d.strip()]) for ds, _ in streams]
    sources: list[str] = []
    if use_copy:
        candidates = data if copy_sources is None else [s for s in copy_sources if s.strip()]
        limit = (seq_len - 3) // 2
        lengths = [len(x) for x in tokenizer(list(candidates), add_special_tokens=False)["input_ids"]]
        sources = [s for s, n in zip(candidates, lengths) if n <= limit]
        if not sources:
            raise ValueError(f"no copy source short enough: a copy document of a text needs <= {limit} tokens "
                             f"for seq_len={seq_len}")

    def copy_docs(epoch: int) -> list[list[int]]:
        strs = build_copy_sequences(sources, len(sources), seed=seed * 1_000_003 + epoch,
                                    max_sentences=copy_max_sentences, scramble_fraction=copy_scramble_fraction,
                                    random_fraction=copy_random_fraction)
        return [d for d in encode(strs) if len(d) <= seq_len]

    with torch_threads(num_threads), _seeded(seed):
        model = AutoModelForCausalLM.from_config(config)
        add_number_features(model, tokenizer, number_features)
        model = model.to(device)
        text_stream = _window_stream(lambda epoch: docs, seq_len, np.random.default_rng(seed))
        copy_stream = _window_stream(copy_docs, seq_len, np.random.default_rng(seed + 1)) if use_copy else None
        extra = [(_window_stream(lambda epoch, d=d: d, seq_len, np.random.default_rng(seed + 2 + i)), share)
                 for i, (d, (_, share)) in enumerate(zip(stream_docs, streams))]

        def batches():
            step = 0
            while True:
                step += 1
                n_copy = 0
                if copy_stream is not None:
                    share = copy_share(step, steps, copy_fraction, copy_fraction_start, copy_decay_ratio)
                    n_copy = min(batch_size, int(round(batch_size * share)))
                windows = [next(copy_stream) for _ in range(n_copy)]
                for stream, share in extra:
                    windows += [next(stream) for _ in range(min(batch_size - len(windows),
                                                               int(round(batch_size * share))))]
                windows += [next(text_stream) for _ in range(batch_size - len(windows))]
                ids, mask = _pad(windows, pad)
                labels = ids.masked_fill(mask == 0, -100)
                yield {"input_ids": ids.to(device), "attention_mask": mask.to(device), "labels": labels.to(device)}

        history = _train_loop(model, batches(), _clm_loss, steps=steps, lr=lr, warmup_ratio=warmup_ratio,
                              min_lr_ratio=min_lr_ratio, weight_decay=weight_decay, grad_clip=grad_clip,
                              on_step=on_step, compile_layers=compile_layers, bf16=bf16)
    return model, history


@contextlib.contextmanager
def _left_padded_eval(model: PreTrainedModel, tokenizer, num_threads: int | None) -> Iterator[None]:
    """Eval mode, left padding (batched generation) and the thread count; both restored afterwards."""
    was_training, old_side = model.training, tokenizer.padding_side
    model.eval()
    tokenizer.padding_side = "left"
    try:
        with torch_threads(num_threads):
            yield
    finally:
        tokenizer.padding_side = old_side
        model.train(was_training)


def _greedy(model: PreTrainedModel, tokenizer, prompts: Sequence[str], max_new_tokens: int) -> list[list[int]]:
    """Greedy continuations (new token ids only, (batch, <= max_new_tokens)) of left-padded `prompts`."""
    device = next(model.parameters()).device
    enc = tokenizer(list(prompts), return_tensors="pt", padding=True)
    out = model.generate(input_ids=enc["input_ids"].to(device), attention_mask=enc["attention_mask"].to(device),
                         max_new_tokens=max_new_tokens, do_sample=False, num_beams=1,
                         pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
    return out[:, enc["input_ids"].shape[1]:].cpu().tolist()


@torch.no_grad()
def copy_accuracy(
    model: PreTrainedModel,
    tokenizer,
    sentences: Sequence[str],
    *,
    sep: str = LLM_SEP_TOKEN,
    batch_size: int = 32,
    num_threads: int | None = None,
    return_details: bool = False,
) -> float | dict:
    """Greedy copy check: prompt `<s> sentence <sep>`, generate, compare with `sentence </s>`.

    Token accuracy = matching tokens at the same position / target tokens (micro-average over all
    sentences; the target includes the closing `</s>`, so stopping is checked too). Batched generation
    uses left padding (position ids follow the attention mask). `num_threads` as in the trainers.
    With `return_details=True` returns
    {"token_accuracy", "exact_match", "n"}.
    """
    data = [s.strip() for s in sentences if s.strip()]
    if not data:
        raise ValueError("copy_accuracy: no sentence")
    eos = tokenizer.eos_token_id
    correct = total = exact = 0
    with _left_padded_eval(model, tokenizer, num_threads):
        for i in range(0, len(data), batch_size):
            chunk = data[i:i + batch_size]
            targets = [t + [eos] for t in tokenizer(chunk, add_special_tokens=False)["input_ids"]]
            gen = _greedy(model, tokenizer, [f"{s} {sep}" for s in chunk], max(len(t) for t in targets))
            for g, t in zip(gen, targets):
                hits = sum(1 for a, b in zip(g, t) if a == b)
                correct += hits
                total += len(t)
                exact += int(hits == len(t))
    acc = correct / total
    if return_details:
        return {"token_accuracy": acc, "exact_match": exact / len(data), "n": len(data)}
    return acc


@torch.no_grad()
def task_accuracy(
    model: PreTrainedModel,
    tokenizer,
    rows: Sequence[Mapping[str, Any]],
    *,
    max_new_tokens: int = 64,
    batch_size: int = 32,
    num_threads: int | None = None,
) -> dict[str, Any]:
    """The base LLM's own accuracy on task rows (instruction, input, answer), before any fine-tuning: the gate
    that says the pre-trained LLM plays the part of an LLM that already solves the English task.

    Prompt = the pre-training document's head, `<s> instruction\\ninput\\n`; greedy generation until `</s>`;
    the answer is read with `evaluate.answers.extract_math_answer`. Returns {"accuracy", "n", "examples"}
    (three (prompt, output) pairs)."""
    from lingualift_core.evaluate.answers import extract_math_answer, math_correct

    if not rows:
        raise ValueError("task_accuracy: no rows")
    correct, examples = 0, []
    with _left_padded_eval(model, tokenizer, num_threads):
        for i in range(0, len(rows), batch_size):
            chunk = rows[i:i + batch_size]
            prompts = [f"{r['instruction']}\n{r['input']}\n" for r in chunk]
            texts = tokenizer.batch_decode(_greedy(model, tokenizer, prompts, max_new_tokens), skip_special_tokens=True)
            for r, p, t in zip(chunk, prompts, texts):
                correct += int(math_correct(extract_math_answer(t), float(r["answer"])))
                if len(examples) < 3:
                    examples.append({"prompt": p, "output": t})
    return {"accuracy": correct / len(rows), "n": len(rows), "examples": examples}
