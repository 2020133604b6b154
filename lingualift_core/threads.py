"""Torch intra-op thread count for one block (tiny models run fastest on 1 thread on a shared CPU)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Runs the block with `n` torch intra-op threads and restores the caller's count; None leaves it alone."""
    if n is None:
        yield
        return
    if n < 1:
        raise ValueError(f"torch threads must be >= 1, got {n}")
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)
