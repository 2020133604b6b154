"""Real-vector check of unsupervised induction: English onto English, scored like MUSE.

Two fastText spaces are trained on disjoint halves of the English monolingual text in
``<data>/monolingual/en`` (WMT newstest sides, ~23.5k unique lines / ~520k tokens; read in place), half A's
space is mapped onto half B's by `induce` without any dictionary, and the mapping is scored on MUSE's ``en-en.5000-6500`` test split (identity pairs of MUSE source ranks 5000-6500, restricted to
words in both vocabularies). Supervised Procrustes from ``en-en.0-5000`` on the same vectors is the upper
bound. The identity map is scored too: the two spaces are trained separately (different fastText seeds), so it
must be near 0; a high value would mean the spaces share their random initialisation and the check leaks.

Corpus split: lines are stripped and deduplicated across files (several WMT files share sentences), then each
unique line goes to half A or B by the parity of its CRC-32, so the halves are disjoint, deterministic and of
the same domain. Tokens: lowercased letter runs (with inner apostrophes/hyphens), as MUSE's dictionaries are
lowercase.

Defaults (`RealCheckConfig`): fastText skipgram dim 100, 10 epochs, min_count 3, one thread (deterministic),
seeds 1 and 2. Measured on the shared 2-core CPU: ~22 s of fastText per half (~8.5k words each), ~15 s of
induction and evaluation, ~1 minute in all; 561 of the 1500 test words are in both vocabularies; P@1
unsupervised 0.512 (CSLS) / 0.424 (NN), supervised 0.531 / 0.462, identity map 0.0. Fewer epochs are no
cheaper check: at 5 the spaces are degenerate (supervised P@1 0.08).
"""

from __future__ import annotations

import logging
import re
import resource
import time
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from .embeddings import Embeddings, train_fasttext
from .errors import LexiconError
from .induction import InductionResult, induce
from .lexicon import evaluate_dictionary, load_muse_dictionary

log = logging.getLogger(__name__)

TOKEN = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
TEST_SPLIT = "en-en.5000-6500.txt"
TRAIN_SPLIT = "en-en.0-5000.txt"


@dataclass(frozen=True)
class RealCheckConfig:
    """fastText settings of the two English spaces and the threads of induction/evaluation.

    fastText always trains with one thread (it is deterministic only then); `seeds` are the two halves' seeds,
    different so the spaces share no random initialisation. fastText seeds its generators with
    std::minstd_rand(thread + seed), which maps seed 0 to the same state as seed 1: seeds 0 and 1 give
    identical models, hence (1, 2). `threads` is for induction and evaluation.
    """

    dim: int = 100
    epochs: int = 10
    min_count: int = 3
    max_words: int = 200_000
    seeds: tuple[int, int] = (1, 2)
    threads: int = 2


def tokenize(line: str) -> list[str]:
    return TOKEN.findall(line.lower())


def english_halves(mono_en: Path) -> tuple[list[list[str]], list[list[str]], dict[str, Any]]:
    """Tokenised sentences of the two disjoint halves of ``mono_en/*.eng`` and corpus statistics."""
    files = sorted(Path(mono_en).glob("*.eng"))
    if not files:
        raise LexiconError(f"no English text (*.eng) in {mono_en}")
    seen: set[str] = set()
    halves: tuple[list[list[str]], list[list[str]]] = ([], [])
    duplicates = 0
    for path in files:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                text = line.strip()
                if not text:
                    continue
                if text in seen:
                    duplicates += 1
                    continue
                seen.add(text)
                tokens = tokenize(text)
                if tokens:
                    halves[zlib.crc32(text.encode("utf-8")) & 1].append(tokens)
    stats = {
        "files": len(files),
        "unique_lines": len(seen),
        "duplicate_lines_dropped": duplicates,
        "lines": [len(h) for h in halves],
        "tokens": [sum(len(s) for s in h) for h in halves],
    }
    return halves[0], halves[1], stats


def _precision(ev: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 4) for k, v in ev.items() if k.startswith("precision_at_")}


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def summarize(result: InductionResult) -> dict[str, Any]:
    """The chosen init, its criterion, every init's criterion, the policy decision and per-stage seconds."""
    seconds: dict[str, float] = {}
    for h in result.history:
        key = f"{h['init']}/{h['stage']}"
        seconds[key] = round(seconds.get(key, 0.0) + float(h.get("seconds") or 0.0), 2)
    return {
        "method_chosen": result.method_chosen,
        "selection_score": round(result.selection_score, 5),
        "init_scores": {k: round(v, 5) for k, v in result.init_scores.items()},
        "init_decision": result.init_decision,
        "stage_seconds": seconds,
    }


def run_real_check(
    data_root: Path | str,
    config: RealCheckConfig | None = None,
    induction: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train the two English spaces, align them without supervision and with Procrustes; returns a report.

    `induction`: extra `induce` options for the unsupervised run (e.g. ``{"init_policy": "all"}``).
    Report keys: ``corpus``, ``fasttext``, ``vocab``, ``test_split`` (coverage), ``seconds`` (per phase),
    ``unsupervised`` / ``supervised_procrustes`` / ``identity_map`` (P@1/5/10, NN and CSLS, on the test split;
    the first two also on the train split's words as ``train_split_precision_at_1_csls``), ``peak_rss_mb``
    (process peak so far).
    """
    cfg = config or RealCheckConfig()
    root = Path(data_root)
    mono = root / "monolingual" / "en"
    bli = root / "bli" / "muse_format"
    for need in (mono, bli / TEST_SPLIT, bli / TRAIN_SPLIT):
        if not need.exists():
            raise LexiconError(f"real-vector check: {need} not found (set LINGUALIFT_SHARED_DATA)")
    seconds: dict[str, float] = {}

    def timed(phase: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        seconds[phase] = round(time.perf_counter() - t0, 2)
        log.info("real check: %s %.1f s", phase, seconds[phase])
        return out

    half_a, half_b, corpus = timed("read_split", english_halves, mono)
    ft = dict(dim=cfg.dim, epochs=cfg.epochs, min_count=cfg.min_count, threads=1, max_words=cfg.max_words)
    en_a: Embeddings = timed("fasttext_a", train_fasttext, half_a, name="en_a", seed=cfg.seeds[0], **ft)
    en_b: Embeddings = timed("fasttext_b", train_fasttext, half_b, name="en_b", seed=cfg.seeds[1], **ft)
    del half_a, half_b
    test = load_muse_dictionary(bli / TEST_SPLIT)
    train = load_muse_dictionary(bli / TRAIN_SPLIT)
    opts = {"threads": cfg.threads, "seed": 0, **(induction or {})}
    unsup = timed("induce_unsupervised", induce, en_a, en_b, **opts)
    sup = timed("induce_procrustes", induce, en_a, en_b, method="procrustes", seed_dictionary=train,
                threads=cfg.threads)

    def evaluate(mapping: Any, gold: Iterable[tuple[str, str]], **kw: Any) -> dict[str, Any]:
        return evaluate_dictionary(en_a, en_b, mapping, gold, threads=cfg.threads, **kw)

    t0 = time.perf_counter()
    ev_unsup, ev_sup = evaluate(unsup, test), evaluate(sup, test)
    ev_unsup_train, ev_sup_train = evaluate(unsup, train), evaluate(sup, train)
    ev_identity = evaluate(np.eye(cfg.dim, dtype=np.float32), test)
    seconds["evaluate"] = round(time.perf_counter() - t0, 2)
    report = {
        "pair": "en-en (disjoint halves)",
        "corpus": corpus,
        "fasttext": {**asdict(cfg), "threads": 1, "model": "skipgram"},
        "vocab": {"en_a": len(en_a), "en_b": len(en_b)},
        "test_split": {k: ev_unsup[k] for k in ("n_gold_pairs", "n_pairs_in_vocab", "n_src_words")},
        "train_split_words_in_vocab": ev_sup_train["n_src_words"],
        "seconds": seconds,
        "unsupervised": {
            **summarize(unsup),
            **_precision(ev_unsup),
            "train_split_precision_at_1_csls": round(ev_unsup_train["precision_at_1_csls"], 4),
        },
        "supervised_procrustes": {
            "selection_score": round(sup.selection_score, 5),
            **_precision(ev_sup),
            "train_split_precision_at_1_csls": round(ev_sup_train["precision_at_1_csls"], 4),
        },
        "identity_map": _precision(ev_identity),
        "peak_rss_mb": _peak_rss_mb(),
    }
    log.info("real check: unsupervised P@1 csls %.4f (%s), supervised %.4f, identity %.4f",
             ev_unsup["precision_at_1_csls"], unsup.method_chosen, ev_sup["precision_at_1_csls"],
             ev_identity["precision_at_1_csls"])
    return report
