"""Stage `tokenize@<lang>`: a language's corpus -> spaCy tokens (+ POS/NER for the pivot), streamed to Parquet."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from lingualift_core import artifacts
from lingualift_core.config import Params
from lingualift_core.stages.common import Paths, Progress, write_meta, write_metrics
from lingualift_core.text.tokenize import load_pipeline, tokenize_batches

log = logging.getLogger("lingualift.tokenize")

# the params keys each stage reads (a section name: all of it): dvc.yaml `params` and run_meta.json's `config`
# list exactly these (tests/test_dvc_deps.py; the end-to-end test audits the reads)
PARAMS: dict[str, tuple[str, ...]] = {
    "tokenize": ("pipeline.pivot", "tokenize.batch_size", "tokenize.english_model", "tokenize.use_blis", "tokenize.max_length", "tokenize.processes"),
}


class EmptyCorpusError(ValueError):
    """A corpus has no sentences."""


def run(params: Params, root: Path, lang: str) -> dict:
    """Tokenizes `data/raw/corpora/<lang>.parquet` into `data/tokenized/<lang>/`; returns the metrics."""
    paths, cfg = Paths(root), params.tokenize
    source = paths.corpus(lang)
    corpus = artifacts.read_table(source, artifacts.CORPUS, columns=["id", "text"])
    if corpus.num_rows == 0:
        raise EmptyCorpusError(f"{source}: empty corpus for language {lang!r}; prepare must write sentences")
    ids, texts = corpus.column("id").to_pylist(), corpus.column("text").to_pylist()
    for i, text in enumerate(texts):
        if len(text) > cfg.max_length:
            raise ValueError(f"{source}: row {i} (id {ids[i]}) has {len(text)} characters, above "
                             f"tokenize.max_length={cfg.max_length}; raise it or split the line")
    pipeline = load_pipeline(lang, params.pipeline.pivot, cfg.english_model, cfg.use_blis)
    log.info("tokenize %s: %d sentences with %s (components: %s)", lang, len(texts), pipeline.package,
             ", ".join(pipeline.nlp.pipe_names) or "tokenizer only")
    n_tokens, t0 = 0, time.perf_counter()
    with artifacts.atomic_dir(paths.tokenized_dir(lang)) as out:
        with artifacts.StreamWriter(out / paths.tokenized(lang).name, artifacts.TOKENIZED) as writer, \
                Progress(f"tokenize@{lang}", total=len(texts)) as bar:
            # a blank tokenizer is faster than starting worker processes
            processes = cfg.processes if pipeline.annotates else 1
            for batch in tokenize_batches(pipeline, ids, texts, cfg.batch_size, processes):
                writer.write(batch)
                n_tokens += sum(len(t) for t in batch.column("tokens").to_pylist())
                bar.update(batch.num_rows)
        seconds = time.perf_counter() - t0
        metrics = {"lang": lang, "sentences": len(texts), "tokens": n_tokens, "seconds": round(seconds, 3),
                   "tokens_per_second": round(n_tokens / max(seconds, 1e-9), 1), "pipeline": pipeline.package}
        write_meta(out, f"tokenize@{lang}", params, PARAMS["tokenize"], {"metrics": metrics})
    write_metrics(paths, f"tokenize_{lang}", metrics)
    log.info("tokenize %s: %d tokens in %.1f s", lang, n_tokens, seconds)
    return metrics
