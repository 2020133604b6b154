"""Stage `evaluate`: every system on every math benchmark through the same code, then reports and analyses.

Systems (`evaluate.systems`, name -> model folder): `lingualift` (the stage-2 model, questions through the
encoder), `mono_sft` (the LLM alone, the paper's baseline) and `layout_only` (the layout_sft model on the
layout-only copies of the test sets: the floor, transfer is real only above it). Each system reads the same
problems with the same zero-shot prompt (`evaluate.prompt`), batched greedy decoding with stop strings and a
token limit sized to the reference solutions (`evaluate.generation`), then answer extraction and scoring.

Writes (the folder `data/eval/` atomically):
    data/eval/predictions.parquet   id, lang, system, benchmark, prompt, output, pred, gold, correct
    data/eval/accuracy.csv          system, benchmark, lang, level, n, n_correct, accuracy (%)
    data/eval/report.md             comparison tables (floor column first), level averages, data quality,
                                    alignment analyses, groupings; links the plots
    data/eval/plots/accuracy_<benchmark>.png, data/eval/plots/tsne_aligned.png
    data/eval/run_meta.json
    data/metrics/evaluate.json           {system: {benchmark: {lang: acc, avg_low, avg_medium, avg_high, avg_all,
                                          high_includes_en}}} (accuracy in %)
    data/metrics/evaluate_analysis.json  benchmark row counts (malformed rows), generation limits and timings,
                                          retrieval accuracy per language and kind, Spearman correlations

Alignment analyses (`evaluate.alignment`): mean-pooled sentence vectors of the parallel pairs from the
stage-1 (or stage-2) model at the LLM input (after the alignment layer), from the encoder alone, and from the
LLM's own input embeddings; top-1 retrieval English <-> language; Spearman between retrieval and task
accuracy across languages; a t-SNE plot; per-group tables (word order x resource level for toy languages,
family / script / the paper's grouping for real ones).
"""

from __future__ import annotations

import gc
import json
import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from lingualift_core import artifacts
from lingualift_core.config import ConfigError, EvalGatesConfig, Params
from lingualift_core.evaluate.generation import PREDICTIONS
from lingualift_core.evaluate.reports import markdown_report, plot_accuracy_bars
from lingualift_core.evaluate.scoring import compute_metrics
from lingualift_core.evaluate.runner import (
    alignment_analyses,
    evaluate_model,
    load_benchmarks,
    load_model,
    resolve_path,
    shown_path,
)
from lingualift_core.evaluate.sections import (
    accuracy_csv,
    data_section,
    first_step_table,
    gates_section,
    group_sections,
    headline_section,
    operator_table,
    rule_tables,
    settings_md,
)
from lingualift_core.languages import levels_mapping
from lingualift_core.stages.common import Paths, Progress, Timer, setup_logging, write_meta, write_metrics

log = logging.getLogger("lingualift.evaluate")

# the params keys each stage reads (a section name: all of it): dvc.yaml `params` and run_meta.json's `config`
# list exactly these (tests/test_dvc_deps.py; the end-to-end test audits the reads)
PARAMS: dict[str, tuple[str, ...]] = {
    "evaluate": ("pipeline.seed", "pipeline.pivot", "pipeline.targets", "base_models.hub.local_files_only", "evaluate"),
}

STAGE = "evaluate"


@dataclass(frozen=True)
class EvalPaths(Paths):
    """The stage's outputs (beside the shared `Paths`)."""

    @property
    def eval_dir(self) -> Path:
        return self.data / "eval"


# ------------------------------------------------------------------------------------------------- inputs


def task_instruction(instruction: str | None, sft_path: Path) -> str:
    """The configured instruction, or the most common one of the English task data (what stage 2 trained with)."""
    if instruction is not None:
        return instruction
    if not sft_path.is_file():
        raise ConfigError(f"evaluate.prompt.instruction: null reads the instruction from {sft_path}, which does "
                          "not exist; run `dvc repro prepare` or set the instruction")
    column = artifacts.read_table(sft_path, artifacts.SFT, columns=["instruction"]).column("instruction").to_pylist()
    counts = Counter(str(v) for v in column if v is not None)
    if not counts:
        raise ConfigError(f"evaluate.prompt.instruction: {sft_path} has no instruction values; set the instruction")
    value, n = counts.most_common(1)[0]
    if len(counts) > 1:
        log.warning("evaluate: %d distinct instructions in %s; using the most common (%d rows): %r",
                    len(counts), sft_path, n, value)
    return value


def gate_checks(paths: Paths, gates: EvalGatesConfig) -> list[dict[str, Any]]:
    """Each gate of `evaluate.gates` against the metrics its stage recorded in its models' run_meta.json (a DVC
    dependency of this stage; the metrics files carry timings, so reading them would make reruns stale): name,
    value, threshold, ok (None when the stage did not measure it, e.g. hub base models have no dev accuracy)."""
    def read(folder: Path) -> dict[str, Any]:
        path = folder / artifacts.RUN_META
        return json.loads(path.read_text(encoding="utf-8")).get("metrics", {}) if path.is_file() else {}

    llm = read(paths.data / "models" / "base").get("llm", {})
    stage1 = read(paths.data / "models" / "stage1")
    checks = [("base LLM English dev accuracy", llm.get("english_dev_accuracy"), gates.base_llm_english_dev,
               "the pre-trained LLM does not solve the English task: nothing to transfer"),
              ("base LLM copy accuracy", llm.get("copy_accuracy"), gates.base_llm_copy,
               "the frozen LLM cannot copy from its prefix: stage 1 cannot teach it to read the encoder")]
    for lang, value in sorted((stage1.get("parallel_recall_per_lang") or {}).items()):
        checks.append((f"stage-1 whole-sentence recall {lang}", value, gates.stage1_recall,
                       f"stage 1 does not read whole {lang} sentences: expect little transfer to {lang}"))
    return [{"gate": g, "value": v, "threshold": t, "ok": None if v is None else v >= t, "why": why}
            for g, v, t, why in checks]


class ProgressBars:
    """`on_progress(desc, done, total)` for the library: one `Progress` bar per description, closed at the end."""

    def __init__(self) -> None:
        self.bars: dict[str, Progress] = {}

    def __call__(self, desc: str, done: int, total: int) -> None:
        bar = self.bars.get(desc)
        if bar is None:
            bar = self.bars[desc] = Progress(desc, total=total).__enter__()
        bar.update(done - bar.done)
        if done >= total:
            self.bars.pop(desc).__exit__(None, None, None)


def _evaluate_system(job: tuple) -> tuple[list[pa.Table], dict[str, Any]]:
    """Loads one system's model and runs `evaluate_model` on it (a job of `_map_systems`)."""
    import torch

    system, spec, benchmarks, cfg, instruction, root, local_files_only = job
    if cfg.generation.threads is not None:
        torch.set_num_threads(cfg.generation.threads)
    model = load_model(resolve_path(root, spec.model), f"system {system!r}", cfg.generation.device,
                       cfg.generation.dtype, local_files_only)
    try:
        return evaluate_model(model, system, benchmarks, floor=spec.floor, cfg=cfg, instruction=instruction,
                              on_progress=ProgressBars())
    finally:
        del model
        gc.collect()


def _map_systems(jobs: list[tuple], processes: int) -> list[tuple[list[pa.Table], dict[str, Any]]]:
    """`_evaluate_system` over `jobs`, in order; with `processes` > 1 in that many spawned processes (the tiny
    models' generation is single-threaded, so the systems run side by side on the cores)."""
    workers = min(processes, len(jobs))
    if workers <= 1:
        return [_evaluate_system(job) for job in jobs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=setup_logging) as pool:
        return list(pool.map(_evaluate_system, jobs))


def run(params: Params, root: Path) -> dict:
    """Evaluates every system, writes predictions, reports and metrics; returns the metrics dict."""
    import torch

    cfg, pipe = params.evaluate, params.pipeline
    # where a model folder refers to a hub id instead of holding the weights (the paper profile's stage 1)
    local_files_only = params.base_models.hub.local_files_only
    paths = EvalPaths(root)
    if cfg.generation.threads is not None:
        torch.set_num_threads(cfg.generation.threads)
    instruction = task_instruction(cfg.prompt.instruction, paths.math_sft)
    benchmarks = load_benchmarks(cfg, root)

    tables: list[pa.Table] = []
    generation: dict[str, Any] = {}
    jobs = [(system, spec, benchmarks, cfg, instruction, root, local_files_only) for system, spec in cfg.systems.items()]
    for (system, spec, *_), (system_tables, info) in zip(jobs, _map_systems(jobs, cfg.generation.processes)):
        tables += system_tables
        generation[system] = {"model": spec.model, "floor": spec.floor, "benchmarks": info}
    predictions = pa.concat_tables(tables)
    langs = sorted(set(predictions.column("lang").to_pylist()))
    levels = levels_mapping(langs)
    scored = [predictions, first_step_table(predictions), operator_table(predictions, benchmarks),
              *rule_tables(predictions, {name for name, b in benchmarks.items() if b.task == "math"})]
    gates = gate_checks(paths, cfg.gates)
    for c in gates:
        if c["ok"] is False:
            log.warning("evaluate: gate missed: %s = %.3f < %.2f (%s)", c["gate"], c["value"], c["threshold"], c["why"])
    metrics = compute_metrics(scored, levels, english_in_high=cfg.english_in_high)

    data_md, data_info = data_section(benchmarks, lambda path: shown_path(path, root))
    analysis: dict[str, Any] = {"benchmarks": data_info, "generation": generation, "gates": gates,
                                "prompt": {"style": cfg.prompt.style, "instruction": instruction,
                                           "trigger": cfg.prompt.trigger}}
    floor_system = next((s for s, spec in cfg.systems.items() if spec.floor), None)
    with artifacts.atomic_dir(paths.eval_dir) as out:
        plots = out / "plots"
        plots.mkdir()
        plot_links = {}
        for bench in sorted({b for entry in metrics.values() for b in entry}):
            path = plot_accuracy_bars(metrics, bench, levels, plots / f"accuracy_{bench.replace(':', '_')}.png",
                                      systems=list(cfg.systems))
            plot_links[bench] = f"plots/{path.name}"
        extra = {"Headline (95% intervals)": headline_section(scored, list(cfg.systems), levels),
                 "Gates": gates_section(gates),
                 "Benchmark data": data_md,
                 "Prompt and decoding": settings_md(cfg, instruction, generation)}
        if cfg.alignment.enabled:
            targets = list(cfg.alignment.langs) if cfg.alignment.langs is not None else list(pipe.targets)
            with Timer() as timer:
                analysis["alignment"], extra["Alignment analyses"] = alignment_analyses(
                    cfg.alignment, root, targets, pipe.pivot, pipe.seed, metrics,
                    levels_mapping(sorted(set(targets) | set(langs))), plots, cfg.generation.device,
                    cfg.generation.dtype, local_files_only, on_progress=ProgressBars())
            analysis["alignment"]["seconds"] = round(timer.seconds, 2)
        extra["Accuracy by language group"] = group_sections(metrics, list(benchmarks))
        described = [f"`{s}` = `{spec.model}`" + (" (layout-only copies)" if spec.floor else "")
                     for s, spec in cfg.systems.items()]
        notes = [f"Systems: {', '.join(described)}.",
                 "`<benchmark>` = this project's answer extraction; `:first_step` = the first equation reads the "
                 "reference's numbers and operation; `:operator` = its operation only; `:strict` / `:flexible` = "
                 "lm-evaluation-harness's MGSM filters (\"The answer is N\" / last number); `:anchor` = the last "
                 "number with its sign dropped (MathOctopus, MindMerger and the authors' release). Compare a figure "
                 "with a published table scored by the same rule."]
        floor_note = (f"The `floor ({floor_system})` column is `{cfg.systems[floor_system].model}` reading the "
                      "layout-only copies of the problems (every word one placeholder, numbers kept): what can be "
                      "solved without understanding a word. Scores at or below it show no transfer."
                      if floor_system else None)
        report = markdown_report(metrics, levels, floor_system=floor_system, systems=list(cfg.systems),
                                 notes=notes, extra_sections=extra, plots=plot_links, floor_note=floor_note)
        artifacts.write_table(out / "predictions.parquet", predictions, PREDICTIONS)
        (out / "accuracy.csv").write_text(accuracy_csv(scored, levels), encoding="utf-8")
        (out / "report.md").write_text(report, encoding="utf-8")
        write_meta(out, STAGE, params, PARAMS[STAGE], {"generation": generation})
    artifacts.write_json(paths.metrics_file(STAGE), metrics)  # keyed by system only; the run record: below
    write_metrics(paths, f"{STAGE}_analysis", analysis)
    log.info("evaluate: wrote %s (%d predictions) and %s", paths.eval_dir, predictions.num_rows,
             paths.metrics_file(STAGE))
    return metrics
