"""Stage `embeddings@<lang>`: monolingual word vectors (fastText skipgram on the tokenized corpus, or a
pretrained `.vec`/`.bin` file), stored so they load without re-parsing text."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

from lingualift_core import artifacts
from lingualift_core import lexicon as lx
from lingualift_core.config import ConfigError, Params
from lingualift_core.stages.common import Paths, Progress, write_meta, write_metrics

log = logging.getLogger("lingualift.embeddings")

# the params keys each stage reads (a section name: all of it): dvc.yaml `params` and run_meta.json's `config`
# list exactly these (tests/test_dvc_deps.py; the end-to-end test audits the reads)
PARAMS: dict[str, tuple[str, ...]] = {
    "embeddings": ("pipeline.seed", "embeddings"),
}


def _sentences(path: Path, lowercase: bool, bar: Progress) -> Iterator[list[str]]:
    """Token lists of a tokenized corpus, whitespace tokens dropped (fastText splits on whitespace)."""
    for batch in artifacts.iter_batches(path, artifacts.TOKENIZED, columns=["tokens"]):
        for tokens in batch.column("tokens").to_pylist():
            yield [t.lower() if lowercase else t for t in tokens if t.strip()]
        bar.update(batch.num_rows)


def run(params: Params, root: Path, lang: str) -> dict:
    """Writes `data/embeddings/<lang>/vectors.parquet`; returns the metrics."""
    paths, cfg = Paths(root), params.embeddings
    t0 = time.perf_counter()
    if cfg.source == "pretrained":
        if lang not in cfg.pretrained:
            raise ConfigError(f"embeddings.pretrained: no vectors file for {lang!r}; add `{lang}: path/to/x.vec`")
        emb = lx.load_vectors(cfg.pretrained[lang], max_words=cfg.max_words, name=lang)
    else:
        source = paths.tokenized(lang)
        artifacts.require_complete(paths.tokenized_dir(lang))
        n = artifacts.read_table(source, artifacts.TOKENIZED, columns=["id"]).num_rows
        with Progress(f"embeddings@{lang}", total=n) as bar:
            emb = lx.train_fasttext(_sentences(source, cfg.lowercase, bar), dim=cfg.dim, epochs=cfg.epochs,
                                    min_count=cfg.min_count, threads=cfg.threads, seed=params.pipeline.seed,
                                    max_words=cfg.max_words, name=lang)
    seconds = time.perf_counter() - t0
    metrics = {"lang": lang, "words": len(emb.words), "dim": int(emb.vectors.shape[1]), "source": cfg.source,
               "seconds": round(seconds, 2)}
    with artifacts.atomic_dir(paths.embeddings_dir(lang)) as out:
        lx.write_embeddings(emb, out / paths.embeddings(lang).name)
        write_meta(out, f"embeddings@{lang}", params, PARAMS["embeddings"], {"metrics": metrics})
    write_metrics(paths, f"embeddings_{lang}", metrics)
    log.info("embeddings %s: %d words x %d in %.1f s", lang, metrics["words"], metrics["dim"], seconds)
    return metrics
