"""Evaluation library: prompts, answer extraction, batched generation, scoring, reports, alignment analyses,
and the MMWP builder.

Modules:
    answers     ``extract_math_answer``, ``math_correct``, ``parse_nli_label``, ``parse_choice_letter``
    prompts     ``(instruction, input)`` prompts and the Alpaca-style zero-shot CoT template
    generation  ``run_generation`` (model-agnostic batching) and the predictions table
    scoring     accuracy per (system, benchmark, lang), resource-level averages, the metrics dict
    reports     markdown comparison tables / report (with the layout-only floor), bar charts
    alignment   retrieval accuracy, Spearman correlation, t-SNE, family/script grouping
    mmwp        MMWP construction from ASDiv + MAWPS, pluggable translation, back-translation quality

Benchmark loaders live in :mod:`lingualift_core.sources`.
"""

from lingualift_core.evaluate.alignment import (
    SpearmanResult,
    correlation_by_level,
    group_results,
    group_table,
    mean_pool,
    plot_tsne,
    retrieval_accuracy,
    spearman_alignment,
)
from lingualift_core.evaluate.answers import extract_math_answer, math_correct, parse_choice_letter, parse_nli_label
from lingualift_core.evaluate.generation import (
    PREDICTIONS,
    build_predictions,
    evaluate_rows,
    run_generation,
    score_output,
)
from lingualift_core.evaluate.prompts import (
    COT_TEMPLATE,
    DIRECT_TEMPLATE,
    Prompt,
    PromptTemplate,
    math_prompt,
    mc_prompt,
    nli_prompt,
    prompts_for,
    xcopa_prompt,
)
from lingualift_core.evaluate.reports import comparison_table, markdown_report, plot_accuracy_bars
from lingualift_core.evaluate.scoring import accuracy_rows, compute_metrics, level_averages

__all__ = [
    "COT_TEMPLATE",
    "DIRECT_TEMPLATE",
    "PREDICTIONS",
    "Prompt",
    "PromptTemplate",
    "SpearmanResult",
    "accuracy_rows",
    "build_predictions",
    "comparison_table",
    "compute_metrics",
    "correlation_by_level",
    "evaluate_rows",
    "extract_math_answer",
    "group_results",
    "group_table",
    "level_averages",
    "markdown_report",
    "math_correct",
    "math_prompt",
    "mc_prompt",
    "mean_pool",
    "nli_prompt",
    "parse_choice_letter",
    "parse_nli_label",
    "plot_accuracy_bars",
    "plot_tsne",
    "prompts_for",
    "retrieval_accuracy",
    "run_generation",
    "score_output",
    "spearman_alignment",
    "xcopa_prompt",
]
