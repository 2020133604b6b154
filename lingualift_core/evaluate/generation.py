"""Model-agnostic batched generation and the predictions table.

A system is evaluated through a ``generate_fn(list[(instruction, input)]) -> list[str]`` (the model helpers
provide a batched greedy generate); nothing here knows about models, devices or tokenizers.

Predictions table (artifact ``predictions``, :data:`PREDICTIONS`), one row per (system, benchmark, lang, id):

    id, lang, system, benchmark  str
    prompt     str    the prompt rendered as text (what an LLM-only system reads)
    output     str    the raw model output
    pred       str?   the parsed answer (number as text, NLI label, option letter); null when unreadable
    gold       str    the gold answer in the same form
    correct    bool
    first_step bool?  math with a reference solution: the first equation reads the reference's numbers and
                      operation (``answers.first_step_correct``); null otherwise
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pyarrow as pa

from lingualift_core.artifacts import ArtifactSchema
from lingualift_core.evaluate.answers import (
    extract_math_answer,
    first_step_correct,
    math_correct,
    parse_choice_letter,
    parse_nli_label,
)
from lingualift_core.evaluate.prompts import COT_TEMPLATE, DIRECT_TEMPLATE, Prompt, PromptTemplate, prompts_for
from lingualift_core.sources.math import format_number

__all__ = [
    "PREDICTIONS",
    "TASKS",
    "GenerateFn",
    "build_predictions",
    "default_template",
    "evaluate_rows",
    "run_generation",
    "score_output",
]

GenerateFn = Callable[[list[Prompt]], list[str]]
TASKS = ("math", "nli", "mc")

PREDICTIONS = ArtifactSchema(
    "predictions",
    2,
    pa.schema(
        [
            ("id", pa.string()),
            ("lang", pa.string()),
            ("system", pa.string()),
            ("benchmark", pa.string()),
            ("prompt", pa.string()),
            ("output", pa.string()),
            ("pred", pa.string()),
            ("gold", pa.string()),
            ("correct", pa.bool_()),
            ("first_step", pa.bool_()),  # math with a reference solution: answers.first_step_correct; else null
        ]
    ),
)


def run_generation(generate_fn: GenerateFn, prompts: Sequence[Prompt], *, batch_size: int,
                   on_batch: Callable[[int, int, list[str]], None] | None = None,
                   sort_by_length: bool = False) -> list[str]:
    """Generates an output for every prompt, ``batch_size`` prompts per ``generate_fn`` call.

    Args:
        generate_fn: ``list[(instruction, input)] -> list[str]``, one output per prompt, same order.
        prompts: the ``(instruction, input)`` pairs.
        batch_size: prompts per call (>= 1).
        on_batch: called after each batch as ``on_batch(n_done, n_total, batch_outputs)`` (progress, streaming).
        sort_by_length: batch prompts of similar length together (less padding); outputs still come back
            in the order of ``prompts``. Correct generation does not depend on batch composition, so this
            only changes speed.
    Returns:
        the outputs, aligned with ``prompts``.
    Raises:
        ValueError: ``batch_size < 1`` or ``generate_fn`` returned the wrong number of outputs.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    prompts = list(prompts)
    order = list(range(len(prompts)))
    if sort_by_length:
        order.sort(key=lambda i: -(len(prompts[i][0]) + len(prompts[i][1])))
    outputs: list[str | None] = [None] * len(prompts)
    done = 0
    for start in range(0, len(order), batch_size):
        idx = order[start: start + batch_size]
        batch = [prompts[i] for i in idx]
        result = list(generate_fn(batch))
        if len(result) != len(batch):
            raise ValueError(f"generate_fn returned {len(result)} outputs for a batch of {len(batch)} prompts")
        for i, text in zip(idx, result):
            outputs[i] = "" if text is None else str(text)
        done += len(batch)
        if on_batch is not None:
            on_batch(done, len(prompts), [outputs[i] for i in idx])
    return outputs  # type: ignore[return-value]


def default_template(task: str) -> PromptTemplate:
    """Zero-shot chain of thought for math, direct answers (no trigger) for NLI and multiple choice."""
    return COT_TEMPLATE if task == "math" else DIRECT_TEMPLATE


def _gold(task: str, row: Mapping[str, Any]) -> Any:
    if task == "math":
        return float(row["answer"])
    if task == "nli":
        return row["label"]
    if task == "mc":
        return row["answer"]
    raise ValueError(f"unknown task {task!r} (math, nli, mc)")


def score_output(task: str, output: str, row: Mapping[str, Any]) -> tuple[str | None, str, bool]:
    """``(pred, gold, correct)`` for one output against its loader row (answers as text)."""
    gold = _gold(task, row)
    if task == "math":
        value = extract_math_answer(output)
        return (None if value is None else format_number(value)), format_number(gold), math_correct(value, gold)
    if task == "nli":
        label = parse_nli_label(output)
        return label, gold, label == gold
    choices = row.get("choices") or None
    letter = parse_choice_letter(output, n_choices=len(choices) if choices else 5, choices=choices)
    return letter, gold, letter is not None and letter == gold


def build_predictions(rows: Sequence[Mapping[str, Any]], prompts: Sequence[Prompt], outputs: Sequence[str], *,
                      system: str, benchmark: str, task: str,
                      template: PromptTemplate | None = None) -> pa.Table:
    """The predictions table for one system on one benchmark (rows, prompts and outputs aligned)."""
    if not len(rows) == len(prompts) == len(outputs):
        raise ValueError(f"rows ({len(rows)}), prompts ({len(prompts)}) and outputs ({len(outputs)}) differ in length")
    template = template or default_template(task)
    columns: dict[str, list[Any]] = {name: [] for name in PREDICTIONS.columns}
    for row, prompt, output in zip(rows, prompts, outputs):
        pred, gold, correct = score_output(task, output, row)
        columns["id"].append(str(row["id"]))
        columns["lang"].append(str(row["lang"]))
        columns["system"].append(system)
        columns["benchmark"].append(benchmark)
        columns["prompt"].append(template.render_pair(prompt))
        columns["output"].append(output)
        columns["pred"].append(pred)
        columns["gold"].append(str(gold))
        columns["correct"].append(bool(correct))
        columns["first_step"].append(first_step_correct(output, row.get("solution")) if task == "math" else None)
    return pa.table(columns, schema=PREDICTIONS.with_metadata())


def evaluate_rows(generate_fn: GenerateFn, rows: Sequence[Mapping[str, Any]], *, system: str, benchmark: str,
                  task: str, batch_size: int, template: PromptTemplate | None = None,
                  on_batch: Callable[[int, int, list[str]], None] | None = None,
                  prompt_kwargs: Mapping[str, Any] | None = None, sort_by_length: bool = False) -> pa.Table:
    """Prompts -> :func:`run_generation` -> :func:`build_predictions` for loader rows of one benchmark.

    ``generate_fn`` receives the ``(instruction, input)`` pairs and renders them itself (LinguaLIFT splits them
    with ``template.parts``, LLM-only systems use ``template.render``); pass the same ``template`` here so
    the ``prompt`` column shows what the model read (default: :func:`default_template` of the task).
    """
    prompts = prompts_for(task, rows, **dict(prompt_kwargs or {}))
    outputs = run_generation(generate_fn, prompts, batch_size=batch_size, on_batch=on_batch,
                             sort_by_length=sort_by_length)
    return build_predictions(rows, prompts, outputs, system=system, benchmark=benchmark, task=task,
                             template=template)
