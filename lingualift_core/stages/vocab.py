"""Stage `vocab`: the pivot's tokenized corpus -> English vocabulary (word, count, majority POS, exclusion)."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

from lingualift_core import artifacts
from lingualift_core.config import Params
from lingualift_core.stages.common import Paths, Progress, write_meta, write_metrics
from lingualift_core.text.vocab import VocabularyCounter

log = logging.getLogger("lingualift.vocab")

# the params keys each stage reads (a section name: all of it): dvc.yaml `params` and run_meta.json's `config`
# list exactly these (tests/test_dvc_deps.py; the end-to-end test audits the reads)
PARAMS: dict[str, tuple[str, ...]] = {
    "vocab": ("pipeline.pivot", "tokenize.vocab_min_count"),
}


def run(params: Params, root: Path) -> dict:
    """Counts words of `data/tokenized/<pivot>/` and writes `data/vocab/`; returns the metrics."""
    paths, pivot = Paths(root), params.pipeline.pivot
    source = paths.tokenized(pivot)
    artifacts.require_complete(paths.tokenized_dir(pivot))
    counter = VocabularyCounter()
    total = artifacts.read_table(source, artifacts.TOKENIZED, columns=["id"]).num_rows
    with Progress("vocab", total=total) as bar:
        for batch in artifacts.iter_batches(source, artifacts.TOKENIZED):
            counter.update(batch)
            bar.update(batch.num_rows)
    table = counter.table(params.tokenize.vocab_min_count)
    reasons = Counter(table.column("exclude").to_pylist())
    metrics = {"words": table.num_rows, "kept": reasons.pop("", 0),
               "excluded": {k or "none": v for k, v in sorted(reasons.items())}}
    with artifacts.atomic_dir(paths.vocab_dir) as out:
        artifacts.write_table(out / paths.vocab.name, table, artifacts.VOCAB)
        write_meta(out, "vocab", params, PARAMS["vocab"], {"metrics": metrics})
    write_metrics(paths, "vocab", metrics)
    log.info("vocab: %d words, %d usable for code-switching", metrics["words"], metrics["kept"])
    return metrics
