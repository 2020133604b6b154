"""Stage `prepare`: corpora, English task data, benchmarks and gold data under `data/raw/`.

`prepare.source` picks where they come from:
- `synthetic` (the embedded default): the toy world generates everything from `pipeline.seed`;
- `local`: plain-text corpora, GSM8K-style JSON Lines and MGSM / MSVAMP folders on disk;
- `hub`: task and benchmark data by Hugging Face dataset id (needs the Hub), corpora from local files.
Every source writes the same schemas. Layout-only copies (each word one placeholder, numbers kept) of the
task and test data are written too: the accuracy a model reaches on them is the floor for transfer.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lingualift_core import artifacts
from lingualift_core.artifacts import CORPUS, LEXICON_PAIRS, MATH, PARALLEL, SFT
from lingualift_core.config import ConfigError, LocalDataConfig, Params
from lingualift_core.languages import get_language
from lingualift_core.stages.common import Paths, Progress, write_meta, write_metrics
from lingualift_core.toyworld import build_world, layout_floor, layout_only

log = logging.getLogger("lingualift.prepare")

# the params keys each stage reads (a section name: all of it): dvc.yaml `params` and run_meta.json's `config`
# list exactly these (tests/test_dvc_deps.py; the end-to-end test audits the reads)
PARAMS: dict[str, tuple[str, ...]] = {
    "prepare": ("pipeline", "prepare"),
}


class EmptyDataError(ValueError):
    """A source produced no rows where rows are required."""


def _rel(path: Path, root: Path) -> Path:
    return path.relative_to(root / "data" / "raw")


def synthetic_data(params: Params) -> dict[str, Any]:
    """Everything the embedded world provides, as lists of row dicts keyed by artifact."""
    cfg, pipe = params.prepare.synthetic, params.pipeline
    not_toy = [c for c in pipe.targets if not get_language(c).is_toy]
    if not_toy:
        raise ConfigError(f"pipeline.targets: {not_toy[0]!r} is not a toy language; prepare.source=synthetic "
                          "only generates the toy languages (use prepare.source=local for real ones)")
    if cfg.world == "mini":
        return _mini_data(params)
    world = build_world(seed=pipe.seed, toy_codes=list(pipe.targets))
    corpora = _corpora(world, params)
    sft = [{"id": f"math-train-{i:06d}", **row} for i, row in
           enumerate(world.math_sft_records(cfg.math_train, seed=pipe.seed))]
    bench = world.math_benchmark(cfg.math_test, seed=pipe.seed, langs=list(pipe.languages))
    return {
        "corpora": corpora,
        "sft": sft,
        "math_test": bench,
        "gold_lexicons": {lang: world.gold_lexicon(lang) for lang in pipe.targets},
        "parallel": {lang: world.parallel_pairs(lang, cfg.parallel_pairs, seed=pipe.seed) for lang in pipe.targets},
    }


def _corpora(world: Any, params: Params) -> dict[str, list[str]]:
    """Monolingual corpora of either synthetic world, sized by resource level (`prepare.synthetic.sentences_*`)."""
    cfg, pipe = params.prepare.synthetic, params.pipeline
    sizes = {"high": cfg.sentences_high, "medium": cfg.sentences_medium, "low": cfg.sentences_low}
    corpora: dict[str, list[str]] = {}
    with Progress("prepare:corpora", total=len(pipe.languages)) as bar:
        for lang in pipe.languages:
            n = cfg.english_sentences if lang == pipe.pivot else sizes[world.level(lang)]
            corpora[lang] = world.sentences(lang, n, seed=pipe.seed)
            bar.update()
    return corpora


def _mini_data(params: Params) -> dict[str, Any]:
    """The compact world's data (`prepare.synthetic.world: mini`), in the same shapes plus an English dev split."""
    from lingualift_core.toyworld.mini import build_mini_world

    cfg, pipe = params.prepare.synthetic, params.pipeline
    world = build_mini_world(pipe.seed, list(pipe.targets), cfg.mini.spec())
    corpora = _corpora(world, params)
    sft = [{"id": f"math-train-{i:06d}", **row} for i, row in enumerate(world.sft_records(cfg.math_train, pipe.seed))]
    dev = [{"id": f"math-dev-{i:06d}", **row}
           for i, row in enumerate(world.sft_records(cfg.math_dev, pipe.seed, split="dev"))]
    reading = [{"id": f"math-reading-{i:06d}", **row}
               for i, row in enumerate(world.sft_records(cfg.math_reading, pipe.seed, extra_distractors=1))]
    return {
        "corpora": corpora,
        "sft": sft,
        "dev": dev,
        "reading": reading,
        "math_test": world.benchmark(cfg.math_test, seed=pipe.seed, langs=list(pipe.languages)),
        # the dev problems (the same stream as math_dev) in every language: never trained on, disjoint from test
        "math_dev_langs": world.benchmark(cfg.math_dev_langs, seed=pipe.seed, langs=list(pipe.languages),
                                          split="dev"),
        "gold_lexicons": {lang: world.gold_lexicon(lang) for lang in pipe.targets},
        "parallel": {lang: world.parallel_pairs(lang, cfg.parallel_pairs, seed=pipe.seed) for lang in pipe.targets},
    }


def _local_corpora(local: LocalDataConfig, languages: Sequence[str]) -> dict[str, list[str]]:
    from lingualift_core.sources import load_monolingual_folder, load_text_corpus

    missing = [lang for lang in languages if lang not in local.corpora]
    if missing:
        raise ConfigError(f"prepare.local.corpora: no corpus for language {missing[0]!r}; add "
                          f"`{missing[0]}: path/to/text` (every pipeline.languages entry needs one)")
    out = {}
    for lang in languages:
        path = Path(local.corpora[lang])
        result = (load_monolingual_folder(path, lang) if path.is_dir()
                  else load_text_corpus(path, lang, max_lines=local.max_sentences))
        if result.report.n_bad:
            log.warning("%s: skipped %d malformed lines (first: %s)", path, result.report.n_bad,
                        result.report.bad_examples[:1])
        out[lang] = [row["text"] for row in result.rows][: local.max_sentences]
    return out


def real_data(params: Params) -> dict[str, Any]:
    """Local files (and, for `hub`, Hugging Face datasets) in the synthetic world's shapes."""
    from lingualift_core import sources
    from lingualift_core.sources import hub

    pipe, cfg = params.pipeline, params.prepare
    corpora = _local_corpora(cfg.local, pipe.languages)
    if cfg.source == "hub":
        sft = hub.load_metamathqa_hub(dataset_id=cfg.hub.math_train).rows
        bench = hub.load_mgsm_hub(pipe.languages, dataset_id=cfg.hub.mgsm).rows
    else:
        if not cfg.local.math_train_jsonl:
            raise ConfigError("prepare.local.math_train_jsonl: missing; point it at a GSM8K-style JSON Lines file")
        sft = sources.load_gsm8k(cfg.local.math_train_jsonl).rows
        bench = []
        if cfg.local.mgsm_dir:
            langs = [lang for lang in pipe.languages if (Path(cfg.local.mgsm_dir) / f"mgsm_{lang}.tsv").is_file()]
            bench += sources.load_mgsm(cfg.local.mgsm_dir, langs=langs).rows
        if cfg.local.msvamp_dir:
            bench += sources.load_msvamp(cfg.local.msvamp_dir).rows
    for row in bench:
        row.setdefault("solution", "")
    return {"corpora": corpora, "sft": sft, "math_test": bench, "gold_lexicons": {}, "parallel": {}}


def _layout_rows(rows: list[Mapping[str, Any]], field: str) -> list[dict[str, Any]]:
    return [{**row, field: layout_only(str(row[field]))} for row in rows]


def write_outputs(out: Path, data: Mapping[str, Any], pivot: str) -> dict[str, Any]:
    """Writes every artifact under the (temporary) folder `out`; returns counts for the metrics."""
    for lang, texts in data["corpora"].items():
        if not texts:
            raise EmptyDataError(f"prepare: empty corpus for language {lang!r}; check its source or size")
        rows = [{"id": f"{lang}-{i:07d}", "lang": lang, "text": t} for i, t in enumerate(texts)]
        artifacts.write_rows(out / "corpora" / f"{lang}.parquet", rows, CORPUS)
    if not data["sft"]:
        raise EmptyDataError("prepare: no English task records; check prepare.* sizes or files")
    (out / "tasks").mkdir()
    artifacts.write_rows(out / "tasks" / "math_sft.parquet", data["sft"], SFT)
    artifacts.write_rows(out / "tasks" / "math_sft_layout.parquet", _layout_rows(data["sft"], "input"), SFT)
    if data.get("dev"):
        artifacts.write_rows(out / "tasks" / "math_dev.parquet", data["dev"], SFT)
    if data.get("reading"):
        artifacts.write_rows(out / "tasks" / "math_reading.parquet", data["reading"], SFT)
    (out / "benchmarks").mkdir()
    artifacts.write_rows(out / "benchmarks" / "math_test.parquet", data["math_test"], MATH)
    artifacts.write_rows(out / "benchmarks" / "math_test_layout.parquet",
                         _layout_rows(data["math_test"], "question"), MATH)
    if data.get("math_dev_langs"):
        artifacts.write_rows(out / "benchmarks" / "math_dev.parquet", data["math_dev_langs"], MATH)
        artifacts.write_rows(out / "benchmarks" / "math_dev_layout.parquet",
                             _layout_rows(data["math_dev_langs"], "question"), MATH)
    (out / "gold_lexicons").mkdir()
    for lang, pairs in data["gold_lexicons"].items():
        artifacts.write_rows(out / "gold_lexicons" / f"en-{lang}.parquet",
                             [{"src": s, "tgt": t} for s, t in pairs], LEXICON_PAIRS)
    (out / "parallel").mkdir()
    for lang, pairs in data["parallel"].items():
        rows = [{"id": f"en-{lang}-{i:05d}", "src_lang": pivot, "tgt_lang": lang, "src": s, "tgt": t}
                for i, (s, t) in enumerate(pairs)]
        artifacts.write_rows(out / "parallel" / f"en-{lang}.parquet", rows, PARALLEL)
    english_test = [(r["question"], float(r["answer"])) for r in data["math_test"] if r["lang"] == pivot]
    return {
        "corpus_sentences": {lang: len(t) for lang, t in data["corpora"].items()},
        "math_train": len(data["sft"]),
        "math_dev": len(data.get("dev") or []),
        "math_reading": len(data.get("reading") or []),
        "math_dev_langs": len(data.get("math_dev_langs") or []),
        "math_test_per_language": {lang: sum(r["lang"] == lang for r in data["math_test"])
                                   for lang in sorted({r["lang"] for r in data["math_test"]})},
        "gold_lexicon_pairs": {lang: len(p) for lang, p in data["gold_lexicons"].items()},
        "parallel_pairs": {lang: len(p) for lang, p in data["parallel"].items()},
        # the best accuracy any reader of digits and layout alone can reach on the English test set
        "layout_floor": round(layout_floor(english_test), 4) if english_test else None,
    }


def run(params: Params, root: Path) -> dict:
    """Builds `data/raw/` from `prepare.source`; returns the metrics."""
    paths = Paths(root)
    source = params.prepare.source
    log.info("prepare: source=%s, languages=%s", source, ", ".join(params.pipeline.languages))
    data = synthetic_data(params) if source == "synthetic" else real_data(params)
    with artifacts.atomic_dir(paths.raw) as out:
        metrics = {"source": source, **write_outputs(out, data, params.pipeline.pivot)}
        write_meta(out, "prepare", params, PARAMS["prepare"], {"metrics": metrics})
    write_metrics(paths, "prepare", metrics)
    log.debug("prepare: %s", metrics)
    log.info("prepare: %d corpus lines in %d languages, %s English train / %s dev problems, %s test problems per "
             "language", sum(metrics.get("corpus_sentences", {}).values()), len(metrics.get("corpus_sentences", {})),
             metrics.get("math_train"), metrics.get("math_dev"),
             max((metrics.get("math_test_per_language") or {}).values(), default=0))
    return metrics
