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

from __future__ import annotations

from typing import TYPE_CHECKING

from lingualift_core._lazy import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time each name is imported on first use
    from .alignment import (
        SpearmanResult,
        correlation_by_level,
        group_results,
        group_table,
        mean_pool,
        plot_tsne,
        retrieval_accuracy,
        spearman_alignment,
    )
    from .answers import extract_math_answer, math_correct, parse_choice_letter, parse_nli_label
    from .generation import PREDICTIONS, build_predictions, evaluate_rows, run_generation, score_output
    from .prompts import (
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
    from .reports import comparison_table, markdown_report, plot_accuracy_bars
    from .scoring import accuracy_rows, compute_metrics, level_averages

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

__getattr__, __dir__ = lazy_exports(__name__, {
    "SpearmanResult": ".alignment", "correlation_by_level": ".alignment", "group_results": ".alignment",
    "group_table": ".alignment", "mean_pool": ".alignment", "plot_tsne": ".alignment",
    "retrieval_accuracy": ".alignment", "spearman_alignment": ".alignment",
    "extract_math_answer": ".answers", "math_correct": ".answers", "parse_choice_letter": ".answers",
    "parse_nli_label": ".answers",
    "PREDICTIONS": ".generation", "build_predictions": ".generation", "evaluate_rows": ".generation",
    "run_generation": ".generation", "score_output": ".generation",
    "COT_TEMPLATE": ".prompts", "DIRECT_TEMPLATE": ".prompts", "Prompt": ".prompts", "PromptTemplate": ".prompts",
    "math_prompt": ".prompts", "mc_prompt": ".prompts", "nli_prompt": ".prompts", "prompts_for": ".prompts",
    "xcopa_prompt": ".prompts",
    "comparison_table": ".reports", "markdown_report": ".reports", "plot_accuracy_bars": ".reports",
    "accuracy_rows": ".scoring", "compute_metrics": ".scoring", "level_averages": ".scoring",
})
