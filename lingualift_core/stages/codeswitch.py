"""Stage `codeswitch`: the POS-filtered code-switched corpus per target language and the stage-1 records.

Reads the tokenized English corpus and every target's lexicon; streams the corpus once through the
builder. Per language the first `codeswitch.holdout_sentences` records are held out (the stage-1 recall
check reads them), the rest form `data/codeswitch/stage1.parquet`. Also the POS distribution of the English
task inputs (paper Table 18).
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

import pyarrow as pa

from lingualift_core import artifacts
from lingualift_core.codeswitch import (
    CORPUS_SCHEMA,
    POS_DISTRIBUTION_SCHEMA,
    STAGE1_SCHEMA,
    CodeSwitchBuilder,
    TargetLanguage,
    compare_with_paper,
    mix_task_records,
    pos_distribution,
    stage1_records,
)
from lingualift_core.config import Params
from lingualift_core.languages import get_language
from lingualift_core.stages.common import Paths, Progress, write_meta, write_metrics
from lingualift_core.stages.lexicon import LEXICON
from lingualift_core.text.tokenize import load_pipeline, tokenize_batches

log = logging.getLogger("lingualift.codeswitch")

# the params keys each stage reads (a section name: all of it): dvc.yaml `params` and run_meta.json's `config`
# list exactly these (tests/test_dvc_deps.py; the end-to-end test audits the reads)
PARAMS: dict[str, tuple[str, ...]] = {
    # tokenize.*: the English task questions are tagged here with the tokenize stage's pipeline
    "codeswitch": ("pipeline", "codeswitch", "tokenize.batch_size", "tokenize.english_model",
                   "tokenize.use_blis"),
}

CS_CORPUS = artifacts.ArtifactSchema("codeswitch_corpus", 1, CORPUS_SCHEMA.remove_metadata())
STAGE1 = artifacts.ArtifactSchema("stage1_records", 1, STAGE1_SCHEMA.remove_metadata())
POS_DIST = artifacts.ArtifactSchema("pos_distribution", 1, POS_DISTRIBUTION_SCHEMA.remove_metadata())


class MissingLexiconError(FileNotFoundError):
    """A target language has no lexicon artifact."""


def load_lexicon(paths: Paths, lang: str) -> pa.Table:
    """The lexicon of `lang` in the builder's columns (src, tgt, rank, score = CSLS, null for dictionaries)."""
    path = paths.lexicon(lang)
    if not path.is_file():
        raise MissingLexiconError(f"codeswitch: no lexicon for language {lang!r}: expected {path} "
                                  f"(run `dvc repro lexicon@{lang}`)")
    table = artifacts.read_table(path, LEXICON)
    return pa.table({"src": table.column("src"), "tgt": table.column("tgt"), "rank": table.column("rank"),
                     "score": table.column("csls")})


def _tagged_task_inputs(params: Params, paths: Paths, limit: int) -> list[pa.RecordBatch]:
    """The first `limit` English training-split task inputs, tagged with the same pipeline as the corpus
    (TOKENIZED columns)."""
    sft = artifacts.read_table(paths.math_sft, artifacts.SFT, columns=["id", "input"]).slice(0, limit)
    pipeline = load_pipeline(params.pipeline.pivot, params.pipeline.pivot, params.tokenize.english_model,
                             params.tokenize.use_blis)
    return list(tokenize_batches(pipeline, sft.column("id").to_pylist(), sft.column("input").to_pylist(),
                                 params.tokenize.batch_size))


_POS_TABLE_ROWS = 2000  # task inputs counted for the POS table (paper Table 18)


def _first_rows(batches: list[pa.RecordBatch], n: int) -> list[pa.RecordBatch]:
    """The first `n` rows of `batches`."""
    out = []
    for b in batches:
        if n <= 0:
            break
        out.append(b.slice(0, n))
        n -= b.num_rows
    return out


def _task_question_records(builder: CodeSwitchBuilder, tagged: list[pa.RecordBatch], names: dict[str, str],
                           seed: int) -> list[pa.Table]:
    """Stage-1 records of the code-switched English task questions (`codeswitch.task_questions`): inputs shaped
    like the test questions, switched with the induced lexicons like the corpus (never a toy-language problem)."""
    parts = [stage1_records(cs, names, seed=seed) for batch in tagged for _, cs in builder.process(batch)
             if cs.num_rows]
    parts += [stage1_records(cs, names, seed=seed) for _, cs in builder.finish() if cs.num_rows]
    return parts


def run(params: Params, root: Path) -> dict:
    """Writes `data/codeswitch/`; returns the metrics."""
    paths, cfg, pipe = Paths(root), params.codeswitch, params.pipeline
    lexicons = {lang: load_lexicon(paths, lang) for lang in pipe.targets}
    languages = [TargetLanguage(lang, get_language(lang).name, get_language(lang).no_space) for lang in pipe.targets]
    names = {t.code: t.name for t in languages}
    builder = CodeSwitchBuilder(cfg, languages, lexicons, seed=pipe.seed)
    source = paths.tokenized(pipe.pivot)
    artifacts.require_complete(paths.tokenized_dir(pipe.pivot))
    n_sentences = artifacts.read_table(source, artifacts.TOKENIZED, columns=["id"]).num_rows
    held = {lang: 0 for lang in pipe.targets}
    train_parts: list[pa.Table] = []
    holdout_parts: list[pa.Table] = []
    with artifacts.atomic_dir(paths.codeswitch_dir) as out:
        with contextlib.ExitStack() as stack, Progress("codeswitch", total=n_sentences) as bar:
            writers = {lang: stack.enter_context(
                artifacts.StreamWriter(out / paths.codeswitch_corpus(lang).name, CS_CORPUS)) for lang in pipe.targets}
            for batch in artifacts.iter_batches(source, artifacts.TOKENIZED):
                for lang, cs in builder.process(batch):
                    _emit(lang, cs, writers, names, params, held, train_parts, holdout_parts)
                bar.update(batch.num_rows)
            for lang, cs in builder.finish():
                _emit(lang, cs, writers, names, params, held, train_parts, holdout_parts)
        tagged = _tagged_task_inputs(params, paths, cfg.task_questions or _POS_TABLE_ROWS)
        # a builder of its own: the corpus builder's per-language caps and metrics stay the corpus's
        task_parts = (_task_question_records(CodeSwitchBuilder(cfg, languages, lexicons, seed=pipe.seed), tagged, names,
                                             pipe.seed) if cfg.task_questions else [])
        parts = train_parts + task_parts
        records = pa.concat_tables(parts) if parts else STAGE1_SCHEMA.empty_table()
        if cfg.task_mix_share > 0:
            extra = _task_records(cfg.task_mix_file)
            records = mix_task_records(records, extra, cfg.task_mix_share, seed=pipe.seed)
        artifacts.write_table(out / paths.stage1_records.name, records, STAGE1)
        holdout = pa.concat_tables(holdout_parts) if holdout_parts else STAGE1_SCHEMA.empty_table()
        artifacts.write_table(out / paths.stage1_holdout.name, holdout, STAGE1)
        dist = pos_distribution(_first_rows(tagged, _POS_TABLE_ROWS))
        artifacts.write_table(out / paths.pos_distribution.name, dist, POS_DIST)
        metrics = _metrics(builder.metrics(), records, holdout, dist)
        metrics["task_question_records"] = sum(p.num_rows for p in task_parts)
        write_meta(out, "codeswitch", params, PARAMS["codeswitch"], {"metrics": metrics})
    for warning in metrics.get("warnings", []):
        log.warning("codeswitch: %s", warning)
    write_metrics(paths, "codeswitch", metrics)
    log.info("codeswitch: %d stage-1 records, %d held out", records.num_rows, holdout.num_rows)
    return metrics


def _emit(lang: str, cs: pa.RecordBatch, writers: dict, names: dict[str, str], params: Params,
          held: dict[str, int], train_parts: list[pa.Table], holdout_parts: list[pa.Table]) -> None:
    """Writes a code-switched batch and splits its stage-1 records into held-out and training parts."""
    if cs.num_rows == 0:
        return
    writers[lang].write(cs)
    recs = stage1_records(cs, names, seed=params.pipeline.seed)
    take = min(max(params.codeswitch.holdout_sentences - held[lang], 0), recs.num_rows)
    if take:
        holdout_parts.append(recs.slice(0, take))
        held[lang] += take
    if take < recs.num_rows:
        train_parts.append(recs.slice(take))


def _task_records(path: str | None) -> pa.Table:
    """Multilingual task records (instruction, input, output) for mixed supervision (paper App. E.6)."""
    import pyarrow.json as pj
    import pyarrow.parquet as pq

    if path is None:
        raise ValueError("codeswitch.task_mix_file: missing")
    table = pq.read_table(path) if str(path).endswith(".parquet") else pj.read_json(path)
    for col in ("instruction", "input", "output"):
        if col not in table.column_names:
            raise artifacts.ArtifactError(f"{path}: missing column {col!r} (task records need instruction, input, output)")
    if "id" not in table.column_names:
        table = table.append_column("id", pa.array([f"task-{i}" for i in range(table.num_rows)]))
    if "lang" not in table.column_names:
        table = table.append_column("lang", pa.array(["mixed"] * table.num_rows))
    return table


def _metrics(builder_metrics: dict[str, Any], records: pa.Table, holdout: pa.Table, dist: pa.Table) -> dict:
    out = dict(builder_metrics)
    out["stage1_records"] = records.num_rows
    out["holdout_records"] = holdout.num_rows
    paper = compare_with_paper(dist).to_pylist()
    out["task_pos_table18"] = {row["pos"]: {"count": row["count"], "share": round(row["share"], 4),
                                            "paper_share": round(row["paper_share"], 4)} for row in paper}
    return out
