"""Benchmark: unsupervised bilingual lexicon induction (lingualift_core.lexicon); prints one JSON object.

Part 1, synthetic (known ground truth): a 200k x 300 anisotropic clustered pair (`synthetic_pair`: target =
rotated + noised source with its own frequency order). Times every phase, reports peak RSS
(resource.getrusage maxrss: covers torch/faiss/numpy allocations, unlike tracemalloc) and P@1 on a MUSE-like
test split (source ranks 5000-6500) next to two baselines from the same run: the true rotation (oracle) and
supervised Procrustes on the gold pairs of source ranks 0-5000.

Part 2, real text: fastText vectors trained on the WMT newstest monolingual text of English and German in
$LINGUALIFT_SHARED_DATA/monolingual (default ../shared/data beside the repo); English files whose German side
is also present (newstest2020 en-de / de-en) are left out so the corpora are not parallel. Unsupervised P@1
on MUSE's en-de.5000-6500 test split (restricted to in-vocabulary pairs) next to supervised Procrustes from
the 0-5000 split on the same vectors.

Timings are indicative: the 2-core machine is shared with other jobs.

    python benchmarks/lexicon.py            # full run (200k x 300, dim-300 fastText)
    python benchmarks/lexicon.py --quick    # small sizes, about a minute
"""

from __future__ import annotations

import os
import sys

# The script's folder is sys.path[0]; benchmarks/tokenize.py would shadow the standard library's tokenize.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import argparse
import json
import logging
import re
import resource
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lingualift_core import lexicon as lx  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class Timer:
    def __init__(self) -> None:
        self.times: dict[str, float] = {}

    def __call__(self, name: str) -> "_Span":
        return _Span(self, name)


class _Span:
    def __init__(self, timer: Timer, name: str) -> None:
        self.timer, self.name = timer, name

    def __enter__(self) -> None:
        self.t0 = time.perf_counter()

    def __exit__(self, *exc: Any) -> None:
        self.timer.times[self.name] = round(time.perf_counter() - self.t0, 2)


def _stage_seconds(result: lx.InductionResult) -> dict[str, float]:
    out: dict[str, float] = {}
    for h in result.history:
        key = f"{h['init']}/{h['stage']}"
        out[key] = round(out.get(key, 0.0) + float(h.get("seconds", 0.0)), 2)
    return out


def _summary(result: lx.InductionResult) -> dict[str, Any]:
    return {
        "method_chosen": result.method_chosen,
        "selection_score": round(result.selection_score, 5),
        "init_scores": {k: round(v, 5) for k, v in result.init_scores.items()},
        "stage_seconds": _stage_seconds(result),
        "history": [
            {k: (round(v, 5) if isinstance(v, float) else v) for k, v in h.items() if k in ("init", "stage", "step", "criterion", "dictionary_size")}
            for h in result.history
        ],
    }


def run_synthetic(args: argparse.Namespace) -> dict[str, Any]:
    t = Timer()
    with t("generate"):
        pair = lx.synthetic_pair(args.words, args.dim, noise=args.noise, seed=args.seed)
    test_lo, test_hi = min(5000, args.words // 2), min(6500, args.words)
    test = pair.gold[test_lo:test_hi]
    train = pair.gold[: min(5000, args.words // 2)]
    cfg = dict(threads=args.threads, seed=args.seed)
    if args.adv_epochs is not None:
        cfg["adversarial"] = {"epochs": args.adv_epochs}
    with t("induce_unsupervised"):
        result = lx.induce(pair.src, pair.tgt, method=args.method, **cfg)
    rss_induce = peak_rss_mb()
    with t("evaluate_unsupervised"):
        ev = lx.evaluate_dictionary(pair.src, pair.tgt, result, test, threads=args.threads)
    with t("evaluate_oracle"):
        oracle = lx.evaluate_dictionary(pair.src, pair.tgt, pair.rotation, test, normalize="", retrieval=("nn",), threads=args.threads)
    with t("induce_procrustes"):
        sup = lx.induce(pair.src, pair.tgt, method="procrustes", seed_dictionary=train, threads=args.threads)
    with t("evaluate_procrustes"):
        ev_sup = lx.evaluate_dictionary(pair.src, pair.tgt, sup, test, threads=args.threads)
    with t("translate_10k"):
        table = lx.translate(pair.src, pair.tgt, result, pair.src.words[:10_000], top_k=1, threads=args.threads)
    gold = dict(pair.gold)
    mutual = table.filter(table.column("mutual_nn"))
    return {
        "words": args.words,
        "dim": args.dim,
        "noise": args.noise,
        "test_pairs": len(test),
        "seconds": t.times,
        "peak_rss_mb_after_induce": round(rss_induce, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "unsupervised": {**_summary(result), "precision_at_1_csls": ev["precision_at_1_csls"], "precision_at_1_nn": ev["precision_at_1_nn"], "precision_at_5_csls": ev["precision_at_5_csls"]},
        "baseline_oracle_rotation": {"precision_at_1_nn": oracle["precision_at_1_nn"]},
        "baseline_supervised_procrustes": {"train_pairs": len(train), "precision_at_1_csls": ev_sup["precision_at_1_csls"], "precision_at_1_nn": ev_sup["precision_at_1_nn"]},
        "translate_top10k": {
            "rows": table.num_rows,
            "accuracy": float(np.mean([gold[s] == t_ for s, t_ in zip(table.column("src").to_pylist(), table.column("tgt").to_pylist())])),
            "mutual_nn_rows": mutual.num_rows,
            "mutual_nn_accuracy": float(np.mean([gold[s] == t_ for s, t_ in zip(mutual.column("src").to_pylist(), mutual.column("tgt").to_pylist())])) if mutual.num_rows else None,
        },
    }


TOKEN = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def sentences(paths: list[Path]) -> Iterator[list[str]]:
    for p in paths:
        with open(p, encoding="utf-8") as fh:
            for line in fh:
                toks = TOKEN.findall(line.lower())
                if toks:
                    yield toks


def run_real(args: argparse.Namespace, data: Path) -> dict[str, Any]:
    mono = data / "monolingual"
    lang = args.real_lang
    suffix = {"de": ".deu", "es": ".spa"}[lang]
    tgt_files = sorted((mono / lang).glob(f"*{suffix}"))
    # leave out English files that are the other side of a German/Spanish file (parallel text)
    tgt_ids = {f.name.split("__")[1].rsplit(".", 1)[0] + "/" + f.name.split("__")[0] for f in tgt_files}
    en_files = [
        f for f in sorted((mono / "en").glob("*.eng"))
        if f.name.split("__")[1].rsplit(".", 1)[0] + "/" + f.name.split("__")[0] not in tgt_ids
    ]
    t = Timer()
    ft = dict(dim=args.ft_dim, epochs=args.ft_epochs, min_count=args.ft_min_count, threads=args.threads, seed=args.seed, max_words=args.ft_max_words)
    with t("fasttext_en"):
        en = lx.train_fasttext(sentences(en_files), name="en", **ft)
    with t("fasttext_" + lang):
        xx = lx.train_fasttext(sentences(tgt_files), name=lang, **ft)
    bli = data / "bli" / "muse_format"
    test = lx.load_muse_dictionary(bli / f"en-{lang}.5000-6500.txt")
    train = lx.load_muse_dictionary(bli / f"en-{lang}.0-5000.txt")
    cfg = dict(threads=args.threads, seed=args.seed)
    if args.adv_epochs is not None:
        cfg["adversarial"] = {"epochs": args.adv_epochs}
    with t("induce_unsupervised"):
        result = lx.induce(en, xx, method=args.method, **cfg)
    with t("induce_procrustes"):
        sup = lx.induce(en, xx, method="procrustes", seed_dictionary=train, threads=args.threads)
    ev = lx.evaluate_dictionary(en, xx, result, test, threads=args.threads)
    ev_sup = lx.evaluate_dictionary(en, xx, sup, test, threads=args.threads)
    ev_sup_train = lx.evaluate_dictionary(en, xx, sup, train, threads=args.threads)
    # the unsupervised mapping never saw the 0-5000 split: its frequent words are a second, easier test set
    ev_train = lx.evaluate_dictionary(en, xx, result, train, threads=args.threads)
    top1k = train[: next((i for i, (s_, _) in enumerate(train) if len({w for w, _ in train[:i + 1]}) > 1000), len(train))]
    ev_top1k = lx.evaluate_dictionary(en, xx, result, top1k, threads=args.threads)
    ev_sup_top1k = lx.evaluate_dictionary(en, xx, sup, top1k, threads=args.threads)
    return {
        "pair": f"en-{lang}",
        "corpus_files": {"en": len(en_files), lang: len(tgt_files)},
        "corpus_tokens": {"en": int(en.counts.sum()), lang: int(xx.counts.sum())},
        "vocab": {"en": len(en), lang: len(xx)},
        "fasttext": ft,
        "seconds": t.times,
        "test_split": {k: ev[k] for k in ("n_gold_pairs", "n_pairs_in_vocab", "n_src_words", "n_src_words_gold")},
        "unsupervised": {
            **_summary(result),
            **{k: v for k, v in ev.items() if k.startswith("precision")},
            "train_split_precision_at_1_csls": ev_train["precision_at_1_csls"],
            "train_split_top1000_src_precision_at_1_csls": ev_top1k["precision_at_1_csls"],
            "train_split_top1000_src_words_in_vocab": ev_top1k["n_src_words"],
        },
        "supervised_procrustes": {
            "train_pairs_in_vocab": int(ev_sup_train["n_pairs_in_vocab"]),
            "selection_score": round(sup.selection_score, 5),
            **{k: v for k, v in ev_sup.items() if k.startswith("precision")},
            "train_split_precision_at_1_csls": ev_sup_train["precision_at_1_csls"],
            "train_split_top1000_src_precision_at_1_csls": ev_sup_top1k["precision_at_1_csls"],
        },
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes (20k x 100 synthetic, dim-100 fastText, 1 adversarial epoch)")
    ap.add_argument("--words", type=int, default=None, help="synthetic vocabulary per language (default 200000)")
    ap.add_argument("--dim", type=int, default=None, help="synthetic dimension (default 300)")
    ap.add_argument("--noise", type=float, default=0.1, help="synthetic target noise, relative to the vector norm")
    ap.add_argument("--method", default="unsupervised", choices=["unsupervised", "adversarial", "robust"])
    ap.add_argument("--adv-epochs", type=int, default=None, help="adversarial epochs (default: library default)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--real-lang", default="de", choices=["de", "es"])
    ap.add_argument("--ft-dim", type=int, default=None, help="fastText dimension (default 300)")
    ap.add_argument("--ft-epochs", type=int, default=None, help="fastText epochs (default 10)")
    ap.add_argument("--ft-min-count", type=int, default=3)
    ap.add_argument("--ft-max-words", type=int, default=200_000)
    ap.add_argument("--skip-synthetic", action="store_true")
    ap.add_argument("--skip-real", action="store_true")
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("LINGUALIFT_SHARED_DATA", REPO.parent / "shared" / "data")))
    ap.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    args = ap.parse_args(argv)
    q = args.quick
    args.words = args.words or (20_000 if q else 200_000)
    args.dim = args.dim or (100 if q else 300)
    args.ft_dim = args.ft_dim or (100 if q else 300)
    args.ft_epochs = args.ft_epochs or (5 if q else 10)
    if q and args.adv_epochs is None:
        args.adv_epochs = 1
    if args.verbose:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    out: dict[str, Any] = {
        "benchmark": "lexicon",
        "quick": q,
        "threads": args.threads,
        "cpu_count": os.cpu_count(),
        "note": "timings are indicative: the CPU is shared with other jobs",
    }
    t0 = time.perf_counter()
    if not args.skip_synthetic:
        out["synthetic"] = run_synthetic(args)
    if not args.skip_real:
        if (args.data / "monolingual").is_dir() and (args.data / "bli").is_dir():
            out["real"] = run_real(args, args.data)
        else:
            out["real"] = {"skipped": f"public data not found at {args.data} (set LINGUALIFT_SHARED_DATA)"}
    out["total_seconds"] = round(time.perf_counter() - t0, 1)
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
