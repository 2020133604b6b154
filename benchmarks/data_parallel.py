"""Benchmark: data parallel on two CPU processes of one machine (prints one JSON object).

A tiny Llama (the embedded default's LLM shape: 4 x 128, 352-wide MLP, 245 tokens) trains on a fixed
16 x 68 batch per process (one stage-2 micro-batch), one thread each, with four ways to combine the gradients,
all measured in the same run:
  - `ddp`: DistributedDataParallel over gloo as accelerate builds it by default (buffers broadcast before every
    forward) - the baseline;
  - `ddp_no_broadcast`: the same without the buffer broadcast (what the training loop asks for);
  - `host_sum`: no DDP wrapper, gradients summed once per step through shared memory
    (`lingualift_core.train.host_sum`, what the training stages and base-model pre-training use on CPU);
  - `independent`: two processes that never synchronise (the ceiling).
Reports ms per step and each variant's speed-up over `ddp` (target: `host_sum` >= 1.0). Timings are
indicative: the 2-core machine is shared with other jobs.

    python -m benchmarks.data_parallel [--steps 150]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402

VARIANTS = ("ddp", "ddp_no_broadcast", "host_sum", "independent")


def _step_ms(rank: int, world: int, port: int, variant: str, steps: int, out: str) -> None:
    """One process: builds the model, warms up, times `steps` optimizer steps; rank 0 writes ms per step."""
    from transformers import AutoModelForCausalLM

    from lingualift_core.model.tiny import tiny_llm_config
    from lingualift_core.train.host_sum import HostSum, sum_gradients_

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    cfg = tiny_llm_config(245, hidden=128, layers=4, heads=4, max_positions=256)
    cfg.intermediate_size = 352
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(cfg)
    params = list(model.parameters())
    summer = HostSum(sum(p.numel() for p in params)) if variant == "host_sum" else None
    if variant.startswith("ddp"):
        model = torch.nn.parallel.DistributedDataParallel(model, broadcast_buffers=variant == "ddp")
    opt = torch.optim.AdamW(params, lr=1e-4)
    x = torch.randint(5, 245, (16, 68), generator=torch.Generator().manual_seed(rank))

    def step() -> None:
        model(input_ids=x, labels=x).loss.backward()
        if summer is not None:
            sum_gradients_(summer, params)
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(10):
        step()
    dist.barrier()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    ms = (time.perf_counter() - t0) / steps * 1000
    dist.barrier()
    if rank == 0:
        Path(out).write_text(json.dumps(ms))
    dist.destroy_process_group()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=150)
    args = ap.parse_args()
    out = Path(os.environ.get("TMPDIR", "/tmp")) / f"lingualift-bench-dp-{os.getpid()}.json"
    ms = {}
    for variant in VARIANTS:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        torch.multiprocessing.spawn(_step_ms, args=(2, port, variant, args.steps, str(out)), nprocs=2)
        ms[variant] = round(json.loads(out.read_text()), 2)
    out.unlink()
    print(json.dumps({"ms_per_step": ms, "speedup_vs_ddp": {v: round(ms["ddp"] / ms[v], 3) for v in VARIANTS},
                      "steps": args.steps, "load_average": os.getloadavg()}, indent=2))


if __name__ == "__main__":
    main()
