"""Benchmark: bf16 pre-training steps of the embedded base models against fp32 (prints one JSON object).

The embedded LLM (Llama 4 x 128, vocabulary 2,000, 16 x 96 tokens a step: one process's share of a base-model
batch) and encoder (BERT 4 x 128, vocabulary 12,000, 32 x 64 tokens, the MLM head on the masked positions), one
thread, eager, AdamW; three variants measured in the same run, interleaved:
  - `fp32`: the baseline;
  - `bf16`: plain bf16 autocast (attention in bf16 too);
  - `bf16_fp32_attention`: what `base_models.tiny.*.precision: bf16` runs (`lingualift_core.train.precision`).
Reports ms per step (best of the repeats) and each variant's speed-up over fp32 (target: `bf16_fp32_attention`
>= 1.0 on a CPU with native bf16 units; `native_bf16` says whether this one has them).

    python -m benchmarks.precision [--steps 20] [--repeats 2]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from transformers import AutoModelForCausalLM, AutoModelForMaskedLM  # noqa: E402

from lingualift_core.model.tiny import tiny_encoder_config, tiny_llm_config  # noqa: E402
from lingualift_core.train.precision import bf16_autocast, native_bf16  # noqa: E402

VARIANTS = ("fp32", "bf16", "bf16_fp32_attention")


def _llm_step(model: torch.nn.Module, ids: torch.Tensor) -> torch.Tensor:
    logits = model(input_ids=ids, use_cache=False).logits[:, :-1]  # as pre-training runs it (no KV cache)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), ids[:, 1:].reshape(-1))


def _encoder_step(model: torch.nn.Module, ids: torch.Tensor) -> torch.Tensor:
    masked = torch.rand(ids.shape, generator=torch.Generator().manual_seed(0)) < 0.15
    hidden = model.bert(input_ids=ids)[0]
    return F.cross_entropy(model.cls(hidden[masked]).float(), ids[masked])


def _ms_per_step(kind: str, variant: str, steps: int) -> float:
    """Builds a fresh model, warms up 3 steps, returns the mean ms of `steps` optimizer steps."""
    torch.manual_seed(0)
    if kind == "llm":
        model = AutoModelForCausalLM.from_config(tiny_llm_config(2000, hidden=128, layers=4, heads=4,
                                                                 max_positions=256))
        ids, loss_fn = torch.randint(5, 2000, (16, 96)), _llm_step
    else:
        model = AutoModelForMaskedLM.from_config(tiny_encoder_config(12000, hidden=128, layers=4, heads=4,
                                                                     max_positions=128))
        ids, loss_fn = torch.randint(5, 12000, (32, 64)), _encoder_step
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    with contextlib.ExitStack() as stack:
        if variant == "fp32":
            autocast = contextlib.nullcontext
        elif variant == "bf16":
            autocast = lambda: torch.autocast("cpu", dtype=torch.bfloat16)  # noqa: E731
        else:
            autocast = stack.enter_context(bf16_autocast(model, True))

        def step() -> None:
            with autocast():
                loss = loss_fn(model, ids)
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)

        for _ in range(3):
            step()
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        return (time.perf_counter() - t0) / steps * 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=2, help="interleaved repeats per variant (best kept)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    result: dict = {"torch": torch.__version__, "native_bf16": native_bf16(), "threads": 1, "steps": args.steps}
    for kind in ("llm", "encoder"):
        runs: dict[str, list[float]] = {v: [] for v in VARIANTS}
        for _ in range(args.repeats):
            for v in VARIANTS:
                runs[v].append(_ms_per_step(kind, v, args.steps))
        best = {v: min(ms) for v, ms in runs.items()}
        result[kind] = {"ms_per_step": {v: round(ms, 1) for v, ms in best.items()},
                        "speedup_over_fp32": {v: round(best["fp32"] / ms, 3) for v, ms in best.items() if v != "fp32"}}
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
