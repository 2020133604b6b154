"""Stage `lexicon@<lang>`: an en -> <lang> lexicon for every usable English vocabulary word, and its P@k.

`lexicon.method` picks how: `unsupervised` (adversarial and robust initialisations + Procrustes refinement,
the better one by MUSE's criterion), `adversarial` / `robust` alone, `procrustes` (supervised, seeded from
`lexicon.dictionaries[lang]`), `dictionary` (that file as the lexicon) or `gold` (the toy world's gold lexicon,
an upper bound). Stage `lexicon_report` gathers every pair's metrics into `data/metrics/lexicon.json`.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

from lingualift_core import artifacts
from lingualift_core import lexicon as lx
from lingualift_core.config import ConfigError, LexiconConfig, Params
from lingualift_core.stages.common import Paths, Progress, write_meta, write_metrics

log = logging.getLogger("lingualift.lexicon")

# the params keys each stage reads (a section name: all of it): dvc.yaml `params` and run_meta.json's `config`
# list exactly these (tests/test_dvc_deps.py; the end-to-end test audits the reads)
PARAMS: dict[str, tuple[str, ...]] = {
    "lexicon": ("pipeline.seed", "pipeline.pivot", "lexicon"),
    "lexicon_report": ("pipeline.targets",),
}

LEXICON = artifacts.ArtifactSchema("lexicon", 1, lx.LEXICON_SCHEMA.remove_metadata())


def usable_words(paths: Paths) -> list[str]:
    """English vocabulary words that may be code-switched (no entity, number, punctuation, content stop word)."""
    vocab = artifacts.read_table(paths.vocab, artifacts.VOCAB, columns=["word", "exclude"])
    return [w for w, why in zip(vocab.column("word").to_pylist(), vocab.column("exclude").to_pylist(),
                                strict=True) if not why]


def gold_pairs(paths: Paths, cfg: LexiconConfig, lang: str) -> list[tuple[str, str]] | None:
    """The evaluation dictionary: a MUSE test split if configured, else the toy world's gold lexicon."""
    if lang in cfg.eval_dictionaries:
        return lx.load_muse_dictionary(cfg.eval_dictionaries[lang])
    path = paths.gold_lexicon(lang)
    if path.is_file():
        table = artifacts.read_table(path, artifacts.LEXICON_PAIRS)
        return list(zip(table.column("src").to_pylist(), table.column("tgt").to_pylist(), strict=True))
    return None


def _dictionary(cfg: LexiconConfig, lang: str) -> list[tuple[str, str]]:
    if lang not in cfg.dictionaries:
        raise ConfigError(f"lexicon.dictionaries: no file for {lang!r}; lexicon.method={cfg.method} needs "
                          f"`{lang}: path/to/en-{lang}.txt` (MUSE format)")
    return lx.load_muse_dictionary(cfg.dictionaries[lang])


def table_precision(table: pa.Table, gold: list[tuple[str, str]]) -> dict[str, Any]:
    """P@1 of a lexicon table against gold pairs (MUSE protocol: unique source words, any gold target counts)."""
    by_src: dict[str, set[str]] = {}
    for s, t in gold:
        by_src.setdefault(s, set()).add(t)
    best: dict[str, str] = {}
    for s, t, r in zip(table.column("src").to_pylist(), table.column("tgt").to_pylist(),
                       table.column("rank").to_pylist(), strict=True):
        if s in by_src and (s not in best or r < best[s][1]):
            best[s] = (t, r)
    hits = [best[s][0] in by_src[s] for s in best]
    return {"precision_at_1": sum(hits) / len(hits) if hits else 0.0, "n_src_words": len(hits)}


def induce(params: Params, paths: Paths, lang: str) -> tuple[lx.Embeddings, lx.Embeddings, lx.InductionResult]:
    """Learns the en -> lang mapping from the two languages' embeddings."""
    cfg = params.lexicon
    src = lx.read_embeddings(paths.embeddings(params.pipeline.pivot), name=params.pipeline.pivot)
    tgt = lx.read_embeddings(paths.embeddings(lang), name=lang)
    config = lx.InductionConfig(
        method=cfg.method, normalize=cfg.normalize, csls_k=cfg.csls_k, n_refinement=cfg.n_refinement,
        refine_max_rank=cfg.refine_max_rank, criterion_words=cfg.criterion_words, robust_vocab=cfg.robust_vocab,
        inits=cfg.inits, init_policy=cfg.init_policy, adversarial_if_below=cfg.adversarial_if_below,
        seed=params.pipeline.seed, threads=cfg.threads,
        adversarial=lx.AdversarialConfig(epochs=cfg.adversarial_epochs, epoch_size=cfg.adversarial_epoch_size),
    )
    seed_dictionary = _dictionary(cfg, lang) if cfg.method == "procrustes" else None
    return src, tgt, lx.induce(src, tgt, config=config, seed_dictionary=seed_dictionary)


def run(params: Params, root: Path, lang: str) -> dict:
    """Writes `data/lexicons/en-<lang>/lexicon.parquet`; returns the metrics."""
    paths, cfg = Paths(root), params.lexicon
    words = usable_words(paths)
    gold = gold_pairs(paths, cfg, lang)
    t0 = time.perf_counter()
    metrics: dict[str, Any] = {"pair": f"en-{lang}", "method": cfg.method}
    with Progress(f"lexicon@{lang}", total=2) as bar:
        if cfg.method in ("gold", "dictionary"):
            if cfg.method == "gold" and gold is None:
                raise ConfigError(f"lexicon.method: gold needs the toy world's gold lexicon for {lang!r}, which "
                                  "prepare wrote only for toy languages; use unsupervised or dictionary")
            pairs = gold if cfg.method == "gold" else _dictionary(cfg, lang)
            table = lx.lexicon_from_dictionary(pairs, words, top_k=cfg.top_k)
            metrics.update(method_chosen=cfg.method, selection_score=None)
            bar.update()
            if gold is not None:
                metrics["p_at_1_csls"] = table_precision(table, gold)["precision_at_1"]
        else:
            src, tgt, result = induce(params, paths, lang)
            bar.update()
            table = lx.translate(src, tgt, result, words, top_k=cfg.top_k, threshold=cfg.threshold,
                                 mutual_only=cfg.mutual_only, threads=cfg.threads)
            metrics.update(method_chosen=result.method_chosen, selection_score=round(result.selection_score, 4),
                           init_scores={k: round(v, 4) for k, v in result.init_scores.items()},
                           init_decision=result.init_decision)
            if gold is not None:
                ev = lx.evaluate_dictionary(src, tgt, result, gold, threads=cfg.threads)
                metrics.update({k: round(v, 4) for k, v in ev.items() if k.startswith("precision_at_")})
                metrics["p_at_1_csls"] = metrics.get("precision_at_1_csls")
                metrics["n_eval_words"] = ev["n_src_words"]
        bar.update()
    n_src = len(set(table.column("src").to_pylist()))
    metrics.update(n_pairs=table.num_rows, n_src_words=n_src, vocabulary_words=len(words),
                   coverage=round(n_src / len(words), 4) if words else 0.0,
                   seconds=round(time.perf_counter() - t0, 2))
    if table.num_rows == 0:
        log.warning("lexicon en-%s is EMPTY: code-switching into %s will replace nothing", lang, lang)
    with artifacts.atomic_dir(paths.lexicon_dir(lang)) as out:
        artifacts.write_table(out / paths.lexicon(lang).name, table, LEXICON)
        write_meta(out, f"lexicon@{lang}", params, PARAMS["lexicon"], {"metrics": metrics})
    write_metrics(paths, f"lexicon_{lang}", metrics)
    log.debug("lexicon en-%s: %s", lang, metrics)
    p1 = metrics.get("p_at_1_csls")
    log.info("lexicon en-%s: %d translation pairs, init %s, P@1 (CSLS) %s on %d gold words, %.0f s", lang,
             metrics.get("n_pairs", 0), metrics.get("method_chosen", metrics.get("method")),
             "-" if p1 is None else f"{p1:.3f}", metrics.get("n_eval_words", 0), metrics.get("seconds", 0.0))
    return metrics


def run_report(params: Params, root: Path) -> dict:
    """Gathers every pair's metrics into `data/metrics/lexicon.json`, keyed `en-<lang>`."""
    paths = Paths(root)
    report = {}
    for lang in params.pipeline.targets:
        path = paths.metrics_file(f"lexicon_{lang}")
        if not path.is_file():
            raise artifacts.ArtifactError(f"{path}: missing; run `dvc repro lexicon@{lang}` first")
        pair = json.loads(path.read_text(encoding="utf-8"))
        pair.pop("run", None)
        report[f"en-{lang}"] = pair
    # both keyed by pair only (no run record: each pair's own metrics file has it)
    artifacts.write_json(paths.metrics_file("lexicon"), report)
    artifacts.write_json(paths.metrics_file("lexicon_report"), {
        pair: {"p_at_1_csls": m.get("p_at_1_csls"), "method_chosen": m.get("method_chosen")}
        for pair, m in report.items()})
    return report
