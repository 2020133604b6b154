"""Deterministic batch plans: the data order is a pure function of (seed, epoch, row lengths), so a resumed run
knows its position from the step number alone.

A step's global batch is a random sample of the training rows (a fresh permutation each epoch; the last global
batch of an epoch may be smaller). With ``group_by_length`` the rows of each window of ``length_group_window``
global batches are sorted by length before being cut into global batches (window 1: the global batches stay
exactly the random samples, only their split into micro-batches changes, so the gradient is unchanged up to float
summation order); micro-batches are then cut from the length-sorted global batch.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch


def steps_per_epoch(n_rows: int, global_batch_size: int) -> int:
    return math.ceil(n_rows / global_batch_size)


def _generator(seed: int, epoch: int) -> torch.Generator:
    return torch.Generator().manual_seed((int(seed) * 1_000_003 + int(epoch) * 7919) % (2**63 - 1))


def epoch_global_batches(
    lengths: Sequence[int],
    epoch: int,
    *,
    global_batch_size: int,
    seed: int,
    group_by_length: bool,
    length_group_window: int = 1,
) -> list[list[int]]:
    """The global batches (lists of row indices) of one epoch."""
    n = len(lengths)
    g = _generator(seed, epoch)
    perm = torch.randperm(n, generator=g).tolist()
    batches = [perm[i : i + global_batch_size] for i in range(0, n, global_batch_size)]
    if group_by_length and length_group_window > 1:
        out: list[list[int]] = []
        for w in range(0, len(batches), length_group_window):
            window = batches[w : w + length_group_window]
            pool = sorted((i for b in window for i in b), key=lambda i: -lengths[i])
            sizes = [len(b) for b in window]
            chunks, pos = [], 0
            for s in sizes:
                chunks.append(pool[pos : pos + s])
                pos += s
            order = torch.randperm(len(chunks), generator=g).tolist()
            out.extend(chunks[j] for j in order)
        batches = out
    return batches


def micro_batches(
    global_batch: Sequence[int],
    lengths: Sequence[int],
    *,
    micro_batch_size: int,
    group_by_length: bool,
    world_size: int = 1,
    rank: int = 0,
) -> list[list[int]]:
    """This process's micro-batches of one global batch (longest first when grouping by length)."""
    idx = sorted(global_batch, key=lambda i: -lengths[i]) if group_by_length else list(global_batch)
    chunks = [idx[i : i + micro_batch_size] for i in range(0, len(idx), micro_batch_size)]
    return chunks[rank::world_size]


def padding_waste(lengths: Sequence[int], batches: Sequence[Sequence[int]]) -> dict[str, float]:
    """Pad tokens / total tokens when each batch is padded to its longest row."""
    total = real = 0
    for b in batches:
        if not b:
            continue
        m = max(lengths[i] for i in b)
        total += m * len(b)
        real += sum(lengths[i] for i in b)
    return {
        "padding_waste": (total - real) / total if total else 0.0,
        "pad_tokens": float(total - real),
        "total_tokens": float(total),
    }


def plan_padding_waste(
    lengths: Sequence[int],
    *,
    global_batch_size: int,
    micro_batch_size: int,
    seed: int,
    group_by_length: bool,
    length_group_window: int = 1,
    epochs: int = 1,
) -> dict[str, float]:
    """Padding waste of the micro-batches of ``epochs`` epochs of a plan (single process)."""
    mbs: list[list[int]] = []
    for e in range(epochs):
        for gb in epoch_global_batches(
            lengths,
            e,
            global_batch_size=global_batch_size,
            seed=seed,
            group_by_length=group_by_length,
            length_group_window=length_group_window,
        ):
            mbs.extend(
                micro_batches(gb, lengths, micro_batch_size=micro_batch_size, group_by_length=group_by_length)
            )
    return padding_waste(lengths, mbs)
