"""Generation throughput of the evaluation loop: a configured batch size against batch size 1, in one run.

The loop under test is ``lingualift_core.evaluate.run_generation`` around a model-agnostic ``generate_fn``
(list of ``(instruction, input)`` -> list of outputs). The model here is a tiny randomly initialised Llama
(``transformers.LlamaConfig``, 2 layers by default) with a byte-level BPE tokenizer trained on the prompts,
left padding and greedy ``model.generate``; every prompt generates exactly ``--max-new-tokens`` tokens
(``min_new_tokens`` = ``max_new_tokens``) so both runs do the same work. Prompts are synthetic word problems
of varied length (so left padding matters); ``--mgsm FILE`` uses the questions of an MGSM TSV file instead.

Reported (JSON on stdout): seconds and generated tokens per second for batch size 1 and for the configured
batch size, the speed-up, and ``agreement``: the share of prompts whose greedy output is identical in both
runs (evaluation must not depend on the batch size; with random weights in float32 a near-tie of two logits
can still flip an argmax under padding, so this is reported, not asserted).

    python benchmarks/evaluate.py --batch-size 16 --n-prompts 32 --max-new-tokens 32
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from pathlib import Path

# Run as a script, Python puts benchmarks/ first on sys.path, where sibling benchmark files (tokenize.py)
# would shadow standard-library modules: import from the repository root instead.
_HERE = Path(__file__).resolve().parent
if sys.path and Path(sys.path[0] or ".").resolve() == _HERE:
    sys.path[0] = str(_HERE.parent)

import torch  # noqa: E402

from lingualift_core.evaluate import COT_TEMPLATE, math_prompt, run_generation  # noqa: E402

WORDS = ("Anna has apples and gives some to her friend while the market sells eggs for dollars each day "
         "how many does she keep after buying three more boxes of pencils at the school shop").split()


def synthetic_questions(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = [rng.choice(WORDS) if rng.random() > 0.2 else str(rng.randint(1, 500))
                 for _ in range(rng.randint(8, 60))]
        out.append(" ".join(words).capitalize() + "?")
    return out


def mgsm_questions(path: Path, n: int) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split("\t")[0] for line in lines[:n]]


def build_tokenizer(texts: list[str], vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<pad>", "<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", bos_token="<s>", eos_token="</s>")
    fast.padding_side = "left"
    return fast


def build_model(vocab_size: int, args: argparse.Namespace, tokenizer):
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=vocab_size, hidden_size=args.hidden, intermediate_size=args.hidden * 8 // 3,
                         num_hidden_layers=args.layers, num_attention_heads=args.heads,
                         num_key_value_heads=args.heads, max_position_embeddings=2048,
                         pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(args.seed)
    return LlamaForCausalLM(config).eval()


def make_generate_fn(model, tokenizer, device: str, max_new_tokens: int):
    """The model-agnostic interface: ``list[(instruction, input)] -> list[str]`` (greedy, left padding)."""

    def generate(batch: list[tuple[str, str]]) -> list[str]:
        texts = [tokenizer.bos_token + COT_TEMPLATE.render(inst, inp) for inst, inp in batch]
        enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(device)
        with torch.inference_mode():
            out = model.generate(**enc, max_new_tokens=max_new_tokens, min_new_tokens=max_new_tokens,
                                 do_sample=False, pad_token_id=tokenizer.pad_token_id)
        return tokenizer.batch_decode(out[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)

    return generate


def timed(generate_fn, prompts, batch_size: int, device: str) -> tuple[list[str], float]:
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    outputs = run_generation(generate_fn, prompts, batch_size=batch_size)
    if device == "cuda":
        torch.cuda.synchronize()
    return outputs, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--n-prompts", type=int, default=32)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--vocab-size", type=int, default=1000)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--mgsm", type=Path, default=None, help="use the questions of this MGSM TSV file")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    questions = (mgsm_questions(args.mgsm, args.n_prompts) if args.mgsm
                 else synthetic_questions(args.n_prompts, args.seed))
    prompts = [math_prompt(q) for q in questions]
    tokenizer = build_tokenizer([COT_TEMPLATE.render(*p) for p in prompts], args.vocab_size)
    model = build_model(len(tokenizer), args, tokenizer).to(args.device)
    generate_fn = make_generate_fn(model, tokenizer, args.device, args.max_new_tokens)
    prompt_tokens = [len(tokenizer(COT_TEMPLATE.render(*p))["input_ids"]) for p in prompts]

    run_generation(generate_fn, prompts[: min(4, len(prompts))], batch_size=2)  # warm-up
    out_1, sec_1 = timed(generate_fn, prompts, 1, args.device)
    out_b, sec_b = timed(generate_fn, prompts, args.batch_size, args.device)
    tokens = len(prompts) * args.max_new_tokens
    agreement = sum(a == b for a, b in zip(out_1, out_b)) / len(prompts)
    result = {
        "benchmark": "evaluate.run_generation",
        "model": f"random Llama, {args.layers} layers, hidden {args.hidden}, vocab {len(tokenizer)}",
        "device": args.device,
        "torch_threads": torch.get_num_threads(),
        "n_prompts": len(prompts),
        "prompt_tokens_min_mean_max": [min(prompt_tokens), round(sum(prompt_tokens) / len(prompt_tokens), 1),
                                       max(prompt_tokens)],
        "max_new_tokens": args.max_new_tokens,
        "baseline": {"batch_size": 1, "seconds": round(sec_1, 3), "tokens_per_s": round(tokens / sec_1, 1)},
        "batched": {"batch_size": args.batch_size, "seconds": round(sec_b, 3),
                    "tokens_per_s": round(tokens / sec_b, 1)},
        "speedup": round(sec_1 / sec_b, 2),
        "agreement": agreement,
        "python": platform.python_version(),
        "torch": torch.__version__,
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
