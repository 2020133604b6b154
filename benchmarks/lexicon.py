"""Benchmark: unsupervised bilingual lexicon induction (lingualift_core.lexicon); prints one JSON object on
stdout (progress logs go to stderr).

Part 1, synthetic (known ground truth): a 200k x 300 anisotropic clustered pair (`synthetic_pair`: target =
rotated + noised source with its own frequency order). Times every phase (generation, induction and its
stages, evaluation, translation), reports peak RSS (resource.getrusage maxrss: covers torch/faiss/numpy
allocations, unlike tracemalloc), the chosen initialisation with the init policy's decision, and P@1 (NN and
CSLS) on a MUSE-like test split (source ranks 5000-6500) next to two baselines from the same run: the true
rotation (oracle) and supervised Procrustes on the gold pairs of source ranks 0-5000.

Part 2, real vectors (`lingualift_core.lexicon.realcheck`): two fastText spaces trained on disjoint halves of
the English text in $LINGUALIFT_SHARED_DATA/monolingual/en (default ../shared/data beside the repo), aligned
unsupervised and scored on MUSE's en-en test split, next to supervised Procrustes from the en-en train split on
the same vectors. ``--real-pair en-de`` / ``en-es`` instead runs the cross-lingual variant (English and German
/ Spanish WMT text, English files whose other side is present left out, MUSE en-de / en-es splits).

The real part runs first so that its peak RSS is its own; the synthetic part's peak is the process peak.
Timings are indicative: the 2-core machine is shared with other jobs (the load average is reported).

    python -m benchmarks.lexicon            # full run (200k x 300 synthetic, en-en real check)
    python -m benchmarks.lexicon --quick    # 20k x 100 synthetic pair, about 1.5 minutes
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
import resource
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lingualift_core import lexicon as lx  # noqa: E402
from lingualift_core.lexicon.induction import INIT_POLICIES  # noqa: E402
from lingualift_core.lexicon.realcheck import RealCheckConfig, run_real_check, summarize, tokenize  # noqa: E402


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


def _summary(result: lx.InductionResult) -> dict[str, Any]:
    return {
        **summarize(result),
        "history": [
            {k: (round(v, 5) if isinstance(v, float) else v) for k, v in h.items() if k in ("init", "stage", "step", "criterion", "dictionary_size")}
            for h in result.history
        ],
    }


def _induction_options(args: argparse.Namespace) -> dict[str, Any]:
    cfg: dict[str, Any] = dict(threads=args.threads, seed=args.seed)
    if args.adv_epochs is not None:
        cfg["adversarial"] = {"epochs": args.adv_epochs}
    if args.init_policy is not None:
        cfg["init_policy"] = args.init_policy
    if args.adversarial_if_below is not None:
        cfg["adversarial_if_below"] = args.adversarial_if_below
    return cfg


def _p1(ev: dict[str, Any]) -> dict[str, Any]:
    return {k: ev[k] for k in ("precision_at_1_nn", "precision_at_1_csls", "precision_at_5_csls") if k in ev}


def run_synthetic(args: argparse.Namespace) -> dict[str, Any]:
    t = Timer()
    load_before = os.getloadavg()
    with t("generate"):
        pair = lx.synthetic_pair(args.words, args.dim, noise=args.noise, seed=args.seed)
    test_lo, test_hi = min(5000, args.words // 2), min(6500, args.words)
    test = pair.gold[test_lo:test_hi]
    train = pair.gold[: min(5000, args.words // 2)]
    with t("induce_unsupervised"):
        result = lx.induce(pair.src, pair.tgt, method=args.method, **_induction_options(args))
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
    summary = _summary(result)
    return {
        "words": args.words,
        "dim": args.dim,
        "noise": args.noise,
        "test_pairs": len(test),
        "seconds": t.times,
        "induction_seconds": summary["stage_seconds"],
        "load_average_1min": {"before": round(load_before[0], 2), "after": round(os.getloadavg()[0], 2)},
        "peak_rss_mb_after_induce": round(rss_induce, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "chosen_init": result.method_chosen,
        "unsupervised": {**_p1(ev), **summary},
        "baseline_oracle_rotation": {"precision_at_1_nn": oracle["precision_at_1_nn"]},
        "baseline_supervised_procrustes": {"train_pairs": len(train), **_p1(ev_sup)},
        "translate_top10k": {
            "rows": table.num_rows,
            "accuracy": float(np.mean([gold[s] == t_ for s, t_ in zip(table.column("src").to_pylist(), table.column("tgt").to_pylist())])),
            "mutual_nn_rows": mutual.num_rows,
            "mutual_nn_accuracy": float(np.mean([gold[s] == t_ for s, t_ in zip(mutual.column("src").to_pylist(), mutual.column("tgt").to_pylist())])) if mutual.num_rows else None,
        },
    }


def run_real_en_en(args: argparse.Namespace, data: Path) -> dict[str, Any]:
    load_before = os.getloadavg()
    cfg = RealCheckConfig(dim=args.ft_dim, epochs=args.ft_epochs, min_count=args.ft_min_count,
                          max_words=args.ft_max_words, threads=args.threads)
    options = {k: v for k, v in _induction_options(args).items() if k not in ("threads", "seed")}
    if args.method != "unsupervised":
        options["method"] = args.method
    report = run_real_check(data, cfg, induction=options)
    report["chosen_init"] = report["unsupervised"]["method_chosen"]
    report["load_average_1min"] = {"before": round(load_before[0], 2), "after": round(os.getloadavg()[0], 2)}
    return report


def sentences(paths: list[Path]) -> Iterator[list[str]]:
    for p in paths:
        with open(p, encoding="utf-8") as fh:
            for line in fh:
                toks = tokenize(line)
                if toks:
                    yield toks


def run_real_cross(args: argparse.Namespace, data: Path, lang: str) -> dict[str, Any]:
    mono = data / "monolingual"
    suffix = {"de": ".deu", "es": ".spa"}[lang]
    tgt_files = sorted((mono / lang).glob(f"*{suffix}"))
    # leave out English files that are the other side of a German/Spanish file (parallel text)
    tgt_ids = {f.name.split("__")[1].rsplit(".", 1)[0] + "/" + f.name.split("__")[0] for f in tgt_files}
    en_files = [
        f for f in sorted((mono / "en").glob("*.eng"))
        if f.name.split("__")[1].rsplit(".", 1)[0] + "/" + f.name.split("__")[0] not in tgt_ids
    ]
    t = Timer()
    ft = dict(dim=args.ft_dim, epochs=args.ft_epochs, min_count=args.ft_min_count, threads=1, seed=args.seed, max_words=args.ft_max_words)
    with t("fasttext_en"):
        en = lx.train_fasttext(sentences(en_files), name="en", **ft)
    with t("fasttext_" + lang):
        xx = lx.train_fasttext(sentences(tgt_files), name=lang, **ft)
    bli = data / "bli" / "muse_format"
    test = lx.load_muse_dictionary(bli / f"en-{lang}.5000-6500.txt")
    train = lx.load_muse_dictionary(bli / f"en-{lang}.0-5000.txt")
    with t("induce_unsupervised"):
        result = lx.induce(en, xx, method=args.method, **_induction_options(args))
    with t("induce_procrustes"):
        sup = lx.induce(en, xx, method="procrustes", seed_dictionary=train, threads=args.threads)
    with t("evaluate"):
        ev = lx.evaluate_dictionary(en, xx, result, test, threads=args.threads)
        ev_sup = lx.evaluate_dictionary(en, xx, sup, test, threads=args.threads)
        ev_sup_train = lx.evaluate_dictionary(en, xx, sup, train, threads=args.threads)
        # the unsupervised mapping never saw the 0-5000 split: its frequent words are a second, easier test set
        ev_train = lx.evaluate_dictionary(en, xx, result, train, threads=args.threads)
    return {
        "pair": f"en-{lang}",
        "corpus_files": {"en": len(en_files), lang: len(tgt_files)},
        "corpus_tokens": {"en": int(en.counts.sum()), lang: int(xx.counts.sum())},
        "vocab": {"en": len(en), lang: len(xx)},
        "fasttext": ft,
        "seconds": t.times,
        "test_split": {k: ev[k] for k in ("n_gold_pairs", "n_pairs_in_vocab", "n_src_words", "n_src_words_gold")},
        "chosen_init": result.method_chosen,
        "unsupervised": {
            **summarize(result),
            **{k: v for k, v in ev.items() if k.startswith("precision")},
            "train_split_precision_at_1_csls": ev_train["precision_at_1_csls"],
        },
        "supervised_procrustes": {
            "train_pairs_in_vocab": int(ev_sup_train["n_pairs_in_vocab"]),
            "selection_score": round(sup.selection_score, 5),
            **{k: v for k, v in ev_sup.items() if k.startswith("precision")},
            "train_split_precision_at_1_csls": ev_sup_train["precision_at_1_csls"],
        },
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small synthetic pair (20k x 100), 1 adversarial epoch; the real part is unchanged")
    ap.add_argument("--words", type=int, default=None, help="synthetic vocabulary per language (default 200000)")
    ap.add_argument("--dim", type=int, default=None, help="synthetic dimension (default 300)")
    ap.add_argument("--noise", type=float, default=0.1, help="synthetic target noise, relative to the vector norm")
    ap.add_argument("--method", default="unsupervised", choices=["unsupervised", "adversarial", "robust"])
    ap.add_argument("--init-policy", default=None, choices=list(INIT_POLICIES), help="default: the library's (fallback)")
    ap.add_argument("--adversarial-if-below", type=float, default=None, help="default: the library's")
    ap.add_argument("--adv-epochs", type=int, default=None, help="adversarial epochs (default: library default)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--real-pair", default="en-en", choices=["en-en", "en-de", "en-es"],
                    help="en-en: the real-vector check (two halves of the English text); en-de/en-es: cross-lingual")
    ap.add_argument("--ft-dim", type=int, default=None, help="fastText dimension (default 100)")
    ap.add_argument("--ft-epochs", type=int, default=None, help="fastText epochs (default 10)")
    ap.add_argument("--ft-min-count", type=int, default=3)
    ap.add_argument("--ft-max-words", type=int, default=200_000)
    ap.add_argument("--skip-synthetic", action="store_true")
    ap.add_argument("--skip-real", action="store_true")
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("LINGUALIFT_SHARED_DATA", REPO.parent / "shared" / "data")))
    ap.add_argument("-q", "--quiet", action="store_true", help="only warnings on stderr (default: progress at INFO)")
    ap.add_argument("-v", "--verbose", action="store_true", help=argparse.SUPPRESS)  # progress is on by default
    args = ap.parse_args(argv)
    q = args.quick
    args.words = args.words or (20_000 if q else 200_000)
    args.dim = args.dim or (100 if q else 300)
    args.ft_dim = args.ft_dim or 100
    # fewer fastText epochs are no quicker check: at 5 epochs the small-corpus spaces are degenerate (mean cosine
    # criterion 0.98, supervised P@1 0.08), so --quick keeps 10
    args.ft_epochs = args.ft_epochs or 10
    if q and args.adv_epochs is None:
        args.adv_epochs = 1
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)
    out: dict[str, Any] = {
        "benchmark": "lexicon",
        "quick": q,
        "threads": args.threads,
        "cpu_count": os.cpu_count(),
        "note": "timings are indicative: the CPU is shared with other jobs (see load_average_1min)",
    }
    t0 = time.perf_counter()
    if not args.skip_real:
        ok = (args.data / "monolingual" / "en").is_dir() and (args.data / "bli" / "muse_format").is_dir()
        if not ok:
            out["real"] = {"skipped": f"public data not found at {args.data} (set LINGUALIFT_SHARED_DATA)"}
        elif args.real_pair == "en-en":
            out["real"] = run_real_en_en(args, args.data)
        else:
            out["real"] = run_real_cross(args, args.data, args.real_pair.split("-")[1])
    if not args.skip_synthetic:
        out["synthetic"] = run_synthetic(args)
    out["total_seconds"] = round(time.perf_counter() - t0, 1)
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
