"""One sum per step across the CPU processes of one machine, through shared memory.

On the 2-core machine the tiny models train data parallel in two processes, and every synchronisation point
costs the faster process a wait for the slower one. DDP synchronises at least three times a step (the gradient
all-reduce, then the loss and the token counts); a gloo all-reduce of ~0.8M gradients also runs over TCP on
loopback through a worker thread that competes with the compute thread for a fully busy core. Here every
process writes one flat vector (gradients, loss, counts) into its own slot of a file-backed shared buffer, waits
at one gloo barrier (a few bytes) and adds the slots up in rank order: one synchronisation per step (1.11x over
accelerate's default DDP, 1.05x over DDP without the buffer broadcast: benchmarks/data_parallel.py), and for two
processes ``a + b`` is bit for bit what gloo's all-reduce gives.

Two sets of slots alternate between calls, so no process overwrites a slot another may still be reading: to
write set ``p`` again, a process must have passed the next call's barrier, which the others reach only after
they finished reading set ``p``.
"""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.distributed as dist

SHM_DIR = Path("/dev/shm")


def _machine_id() -> str:
    boot = Path("/proc/sys/kernel/random/boot_id")
    return socket.gethostname() + (":" + boot.read_text().strip() if boot.is_file() else "")


def host_sum_available() -> bool:
    """True when the torch.distributed group is gloo (CPU) with every process on this machine.

    Collective once a gloo group is initialised: every process must call it."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_backend() != "gloo":
        return False
    ids: list[str | None] = [None] * dist.get_world_size()
    dist.all_gather_object(ids, _machine_id())
    return len(set(ids)) == 1


def _buffer_dir(nbytes: int) -> Path:
    """``/dev/shm`` when it has room for ``nbytes`` (RAM-backed), else the temp folder (page cache)."""
    if SHM_DIR.is_dir():
        stat = os.statvfs(SHM_DIR)
        if stat.f_bavail * stat.f_frsize > 2 * nbytes:
            return SHM_DIR
    return Path(tempfile.gettempdir())


class HostSum:
    """In-place sum of a float32 vector of at most ``numel`` elements over all processes of the group.

    Collective: every process constructs it and calls :meth:`sum_` in the same order with equal lengths.
    """

    def __init__(self, numel: int) -> None:
        if numel <= 0:
            raise ValueError(f"HostSum needs a positive size, got {numel}")
        self.world, self.rank = dist.get_world_size(), dist.get_rank()
        self.numel = int(numel)
        self._calls = 0
        nbytes = 2 * self.world * self.numel * 4
        name: list[str | None] = [None]
        if self.rank == 0:
            path = _buffer_dir(nbytes) / f"lingualift-sum-{uuid.uuid4().hex}"
            with open(path, "wb") as fh:
                fh.truncate(nbytes)
            name[0] = str(path)
        dist.broadcast_object_list(name, src=0)
        # [set, rank, element], MAP_SHARED: every process sees the others' writes
        self._slots = torch.from_file(str(name[0]), shared=True, size=2 * self.world * self.numel,
                                      dtype=torch.float32).view(2, self.world, self.numel)
        dist.barrier()
        if self.rank == 0:
            os.unlink(str(name[0]))  # the mappings stay valid, and nothing is left behind after a crash

    def sum_(self, flat: torch.Tensor) -> torch.Tensor:
        """Replaces the 1-D float32 CPU tensor ``flat`` ``[n]`` by its sum over the processes; returns it."""
        n = flat.numel()
        if flat.dim() != 1 or flat.dtype != torch.float32 or flat.device.type != "cpu" or n > self.numel:
            raise ValueError(f"HostSum.sum_ takes a 1-D float32 CPU tensor of at most {self.numel} elements, "
                             f"got {tuple(flat.shape)} {flat.dtype} on {flat.device}")
        slots = self._slots[self._calls % 2, :, :n]
        self._calls += 1
        slots[self.rank].copy_(flat)
        dist.barrier()
        flat.copy_(slots[0])
        for r in range(1, self.world):
            flat.add_(slots[r])
        return flat


def sum_gradients_(summer: HostSum, params: Sequence[torch.nn.Parameter], extra: Sequence[float] = ()
                   ) -> list[float]:
    """Sums the gradients of ``params`` (a missing gradient counts as zeros) and the numbers ``extra`` over the
    processes in one :meth:`HostSum.sum_`; sets every ``p.grad`` to its sum and returns the summed ``extra``."""
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    flat = torch.cat([g.reshape(-1) for g in grads] + [torch.tensor(list(extra), dtype=torch.float32)])
    summer.sum_(flat)
    offset = 0
    for p, g in zip(params, grads):
        n = g.numel()
        p.grad = flat[offset:offset + n].view_as(g).clone()
        offset += n
    return flat[offset:].tolist()
