"""Stage-1 instruction records from the code-switched corpus, and optional mixing of task data.

A stage-1 record asks the model to translate the code-switched sentence (``input``) into English (``output``);
the instruction names the source language by its display name, from templates with a ``{lang_name}``
placeholder, chosen per record by a draw on (seed, sentence id, language) (:mod:`.rng`, counter 1).

Paper appendix E.6 adds multilingual task instructions (MGSM8KInstruct) to stage 1: :func:`mix_task_records`
interleaves such records (instruction, input, output) evenly at a configured share.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .builder import SCHEMA_VERSION
from .rng import COUNTER_TEMPLATE, draw_u64, language_keys, sentence_keys

PLACEHOLDER = "{lang_name}"

DEFAULT_TEMPLATES: tuple[str, ...] = (
    "Translate the following {lang_name} text into English.",
    "Translate this {lang_name} sentence to English.",
    "What does this {lang_name} sentence mean in English? Give the English translation.",
    "Render the following {lang_name} text in English.",
    "Please translate from {lang_name} to English.",
)

STAGE1_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("lang", pa.string(), nullable=False),
        pa.field("origin", pa.string(), nullable=False),
        pa.field("instruction", pa.string(), nullable=False),
        pa.field("input", pa.string(), nullable=False),
        pa.field("output", pa.string(), nullable=False),
    ],
    metadata={"schema_version": SCHEMA_VERSION, "artifact": "stage1_records"},
)
"""Stage-1 instruction records. ``origin`` is ``codeswitch`` for translation records and ``task`` for mixed-in
task records."""

ORIGIN_CODESWITCH = "codeswitch"
ORIGIN_TASK = "task"


def validate_templates(templates: Sequence[str]) -> tuple[str, ...]:
    """Templates as a tuple; each must be a non-empty string containing ``{lang_name}``."""
    if isinstance(templates, str):
        raise TypeError("templates must be a list of strings, not a single string")
    out = tuple(templates)
    if not out:
        raise ValueError("at least one instruction template is needed")
    for t in out:
        if not isinstance(t, str) or PLACEHOLDER not in t:
            raise ValueError(f"instruction template {t!r} lacks the {PLACEHOLDER} placeholder")
    return out


def stage1_records(
    corpus: pa.Table | pa.RecordBatch,
    lang_names: Mapping[str, str] | str,
    *,
    templates: Sequence[str] = DEFAULT_TEMPLATES,
    seed: int = 0,
) -> pa.Table:
    """Translation instruction records (:data:`STAGE1_SCHEMA`) for code-switched corpus rows (columns id, lang,
    source, target). ``lang_names`` maps each code to its display name, or is one name for all rows.
    Works on any slice of the corpus: a row's template does not depend on the other rows."""
    tpl = validate_templates(templates)
    if isinstance(corpus, pa.RecordBatch):
        corpus = pa.Table.from_batches([corpus])
    n = corpus.num_rows
    ids = corpus.column("id").to_pylist()
    langs = corpus.column("lang").to_pylist()
    base = sentence_keys(ids, seed)
    choice = np.zeros(n, dtype=np.int64)
    instructions: list[str] = [""] * n
    for code in sorted(set(langs)):
        if isinstance(lang_names, str):
            name = lang_names
        elif code in lang_names:
            name = lang_names[code]
        else:
            raise KeyError(f"no display name for language {code!r}")
        rows = np.flatnonzero(np.asarray(langs, dtype=object) == code)
        draws = draw_u64(language_keys(base[rows], code), COUNTER_TEMPLATE)
        choice[rows] = (draws % np.uint64(len(tpl))).astype(np.int64)
        filled = [t.replace(PLACEHOLDER, name) for t in tpl]
        for r in rows:
            instructions[r] = filled[choice[r]]
    return pa.table(
        {
            "id": corpus.column("id").cast(pa.string()),
            "lang": corpus.column("lang").cast(pa.string()),
            "origin": pa.repeat(pa.scalar(ORIGIN_CODESWITCH, pa.string()), n),
            "instruction": pa.array(instructions, pa.string()),
            "input": corpus.column("source").cast(pa.string()),
            "output": corpus.column("target").cast(pa.string()),
        },
        schema=STAGE1_SCHEMA,
    )


def _task_table(extra: pa.Table) -> pa.Table:
    missing = [c for c in ("instruction", "input", "output") if c not in extra.column_names]
    if missing:
        raise ValueError(f"task records lack column(s) {missing}; need instruction, input, output")
    n = extra.num_rows
    ids = (extra.column("id").cast(pa.string()) if "id" in extra.column_names
           else pa.array([f"task-{i}" for i in range(n)], pa.string()))
    lang = (extra.column("lang").cast(pa.string()).fill_null("") if "lang" in extra.column_names
            else pa.repeat(pa.scalar("", pa.string()), n))
    return pa.table(
        {
            "id": ids,
            "lang": lang,
            "origin": pa.repeat(pa.scalar(ORIGIN_TASK, pa.string()), n),
            "instruction": extra.column("instruction").cast(pa.string()).fill_null(""),
            "input": extra.column("input").cast(pa.string()).fill_null(""),
            "output": extra.column("output").cast(pa.string()).fill_null(""),
        },
        schema=STAGE1_SCHEMA,
    )


def mix_task_records(records: pa.Table, extra: pa.Table | None, share: float, *, seed: int = 0) -> pa.Table:
    """Interleave task records into stage-1 records so that they make up ``share`` of the result.

    ``k = min(len(extra), round(share * N / (1 - share)))`` task records are used (N = stage-1 records); when
    there are more than needed, those with the smallest draw on (seed, id) are taken, in that order. They are
    spread evenly: slot ``t`` (1-based) of the ``N + k`` is a task record when ``floor(t*k/(N+k))`` increases.
    The order of ``records`` is kept. Deterministic; ``origin`` tells the two kinds apart.
    """
    if not 0.0 <= float(share) < 1.0:
        raise ValueError(f"task share must be in [0, 1), got {share}")
    records = records.select(STAGE1_SCHEMA.names).cast(STAGE1_SCHEMA)
    if extra is None or extra.num_rows == 0 or share == 0.0 or records.num_rows == 0:
        return records
    tasks = _task_table(extra)
    n = records.num_rows
    k = min(tasks.num_rows, int(np.floor(share * n / (1.0 - share) + 0.5)))
    if k == 0:
        return records
    keys = sentence_keys([f"{i}\x00{x}" for i, x in enumerate(tasks.column("id").to_pylist())], seed)
    order = np.argsort(draw_u64(keys, 0), kind="stable")[:k]
    tasks = tasks.take(pa.array(order, pa.int64()))
    total = n + k
    t = np.arange(1, total + 1, dtype=np.int64)
    is_task = (t * k) // total > ((t - 1) * k) // total
    # position of each slot within its source table
    src_index = np.where(is_task, np.cumsum(is_task) - 1, np.cumsum(~is_task) - 1)
    combined = pa.concat_tables([records, tasks])
    take = np.where(is_task, n + src_index, src_index)
    return combined.take(pa.array(take, pa.int64()))


def iter_stage1_records(
    corpus_batches: Iterable[pa.RecordBatch | pa.Table],
    lang_names: Mapping[str, str] | str,
    *,
    templates: Sequence[str] = DEFAULT_TEMPLATES,
    seed: int = 0,
):
    """Streaming form of :func:`stage1_records`: one record table per corpus batch."""
    tpl = validate_templates(templates)
    for batch in corpus_batches:
        yield stage1_records(batch, lang_names, templates=tpl, seed=seed)


def task_share(records: pa.Table) -> float:
    """Share of task records in a (mixed) stage-1 table."""
    if records.num_rows == 0:
        return 0.0
    return pc.sum(pc.equal(records.column("origin"), ORIGIN_TASK)).as_py() / records.num_rows
