"""What every stage shares: artifact paths, progress reporting, run metadata and metrics files.

Paths live here once; `dvc.yaml` spells the same paths, and a test checks that the two agree.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from lingualift_core import artifacts
from lingualift_core.config import Params, select

log = logging.getLogger("lingualift")

# Prefect tasks parse these lines from the stage's output into progress artifacts.
PROGRESS_PREFIX = "::progress::"
PROGRESS_ENV = "LINGUALIFT_PROGRESS"  # "lines" forces line output even on a terminal


@dataclass(frozen=True)
class Paths:
    """Every artifact location, relative to the repository root `root`."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def raw(self) -> Path:
        return self.data / "raw"

    def corpus(self, lang: str) -> Path:
        return self.raw / "corpora" / f"{lang}.parquet"

    @property
    def tasks(self) -> Path:
        return self.raw / "tasks"

    @property
    def math_sft(self) -> Path:
        return self.tasks / "math_sft.parquet"

    @property
    def math_reading(self) -> Path:
        """English reading-practice problems (compact world only): the base LLM's pre-training, never fine-tuning."""
        return self.tasks / "math_reading.parquet"

    @property
    def math_dev(self) -> Path:
        """English dev problems (compact world only): the gates and tuning read these, never the test set."""
        return self.tasks / "math_dev.parquet"

    @property
    def math_sft_layout(self) -> Path:
        return self.tasks / "math_sft_layout.parquet"

    @property
    def benchmarks(self) -> Path:
        return self.raw / "benchmarks"

    @property
    def math_test(self) -> Path:
        return self.benchmarks / "math_test.parquet"

    @property
    def math_test_layout(self) -> Path:
        return self.benchmarks / "math_test_layout.parquet"

    def gold_lexicon(self, lang: str) -> Path:
        return self.raw / "gold_lexicons" / f"en-{lang}.parquet"

    def parallel(self, lang: str) -> Path:
        return self.raw / "parallel" / f"en-{lang}.parquet"

    def tokenized_dir(self, lang: str) -> Path:
        return self.data / "tokenized" / lang

    def tokenized(self, lang: str) -> Path:
        return self.tokenized_dir(lang) / "tokens.parquet"

    @property
    def vocab_dir(self) -> Path:
        return self.data / "vocab"

    @property
    def vocab(self) -> Path:
        return self.vocab_dir / "en.parquet"

    def embeddings_dir(self, lang: str) -> Path:
        return self.data / "embeddings" / lang

    def embeddings(self, lang: str) -> Path:
        return self.embeddings_dir(lang) / "vectors.parquet"

    def lexicon_dir(self, lang: str) -> Path:
        return self.data / "lexicons" / f"en-{lang}"

    def lexicon(self, lang: str) -> Path:
        return self.lexicon_dir(lang) / "lexicon.parquet"

    @property
    def codeswitch_dir(self) -> Path:
        return self.data / "codeswitch"

    def codeswitch_corpus(self, lang: str) -> Path:
        return self.codeswitch_dir / f"{lang}.parquet"

    @property
    def stage1_records(self) -> Path:
        return self.codeswitch_dir / "stage1.parquet"

    @property
    def stage1_holdout(self) -> Path:
        return self.codeswitch_dir / "holdout.parquet"

    @property
    def pos_distribution(self) -> Path:
        return self.codeswitch_dir / "pos_distribution.parquet"

    @property
    def metrics(self) -> Path:
        return self.data / "metrics"

    def metrics_file(self, name: str) -> Path:
        return self.metrics / f"{name}.json"


# library chatter that means nothing to a user: faiss says which CPU build it loaded ("Could not load library with
# AVX512 support" reads like an error and is not one); httpx logs every poll of `lingualift serve`
_QUIET_LOGGERS = ("faiss.loader", "httpx", "httpcore")


def setup_logging() -> None:
    """One format for every stage; DVC and Prefect capture stdout/stderr. Hugging Face's per-file loading and
    saving bars are off: the stages show one progress bar per long loop."""
    # in a multi-process launch (accelerate sets RANK) only rank 0 logs progress; the others log warnings only
    level = logging.INFO if os.environ.get("RANK", "0") == "0" else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr,
                        force=True)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if os.environ.get("LINGUALIFT_DEBUG") else logging.WARNING)
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # transformers reads it when first imported
    if "transformers" in sys.modules:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()


def _line_mode() -> bool:
    return os.environ.get(PROGRESS_ENV) == "lines" or not sys.stderr.isatty()


def progress_line(desc: str, done: int, total: int) -> None:
    """Prints one machine-readable progress line to stderr (the Prefect task reads both streams; stdout stays
    free for results, e.g. a benchmark's JSON)."""
    print(f"{PROGRESS_PREFIX} {desc} {done}/{total}", file=sys.stderr, flush=True)


class Progress:
    """tqdm on a terminal; `::progress:: desc done/total` lines (every ~5%) otherwise.

        with Progress("tokenize@en", total=n) as bar:
            bar.update(k)
    """

    def __init__(self, desc: str, total: int, unit: str = "it") -> None:
        self.desc, self.total, self.done = desc, max(int(total), 0), 0
        self._last_pct = -1
        self._bar = None if _line_mode() else tqdm(total=self.total, desc=desc, unit=unit)
        self._redirect: contextlib.AbstractContextManager | None = None

    def update(self, n: int = 1) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
            return
        pct = 100 * self.done // self.total if self.total else 100
        if pct >= self._last_pct + 5 or self.done >= self.total:
            self._last_pct = pct
            progress_line(self.desc, self.done, self.total)

    def __enter__(self) -> Progress:
        if self._bar is None:
            progress_line(self.desc, 0, self.total)
        else:  # log lines print above the bar instead of breaking it
            self._redirect = logging_redirect_tqdm()
            self._redirect.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.close()
        if self._redirect is not None:
            self._redirect.__exit__(*exc)
            self._redirect = None


def write_meta(folder: Path, stage: str, params: Params, keys: Iterable[str],
               extra: Mapping[str, Any] | None = None) -> Path:
    """run_meta.json with the params `keys` the stage declares (its module's `PARAMS`, also its dvc.yaml params):
    the record names exactly what DVC tracks for the stage, so it cannot hold a value the stage never reran for."""
    keys = list(keys)
    seeded = any(k in ("pipeline", "pipeline.seed") for k in keys)  # a stage that draws no random numbers has no seed
    return artifacts.write_run_meta(folder, stage, select(params, keys), params.pipeline.seed if seeded else None,
                                    extra)


def write_metrics(paths: Paths, name: str, metrics: Mapping[str, Any]) -> Path:
    """`data/metrics/<name>.json`: the stage's metrics plus when, where and from which commit it ran (`run`; the
    metrics files are no stage's dependency, so volatile facts live here and not in run_meta.json)."""
    return artifacts.write_json(paths.metrics_file(name), {**dict(metrics), "run": artifacts.run_record()})


class Timer:
    """Wall-clock seconds of a block (`with Timer() as t: ...; t.seconds`)."""

    def __enter__(self) -> Timer:
        self._t0 = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: Any) -> None:
        self.seconds = time.perf_counter() - self._t0
