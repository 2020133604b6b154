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

import csv
import gc
import json
import logging
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from lingualift_core import artifacts
from lingualift_core.config import ConfigError, EvalAlignmentConfig, EvalGatesConfig, EvaluateConfig, Params
from lingualift_core.evaluate import alignment as align
from lingualift_core.evaluate.benchmarks import (
    TASK_OF_SOURCE,
    Benchmark,
    layout_rows,
    load_math_benchmark,
    load_task_benchmark,
    match_rows,
    read_math_artifact,
)
from lingualift_core.evaluate.generation import PREDICTIONS, build_predictions, run_generation
from lingualift_core.evaluate.groups import default_group_kinds, language_groups
from lingualift_core.evaluate.prompts import prompts_for
from lingualift_core.evaluate.reports import markdown_report, plot_accuracy_bars
from lingualift_core.evaluate.scoring import compute_metrics, language_keys
from lingualift_core.evaluate.sections import (
    accuracy_csv,
    first_step_table,
    gates_section,
    group_sections,
    headline_section,
    operator_table,
    retrieval_table,
    rule_tables,
    settings_md,
    spearman_table,
)
from lingualift_core.languages import levels_mapping
from lingualift_core.sources import LoadReport, NoValidRowsError
from lingualift_core.stages.common import Paths, Progress, Timer, setup_logging, write_meta, write_metrics

log = logging.getLogger("lingualift.evaluate")

# the params keys each stage reads (a section name: all of it): dvc.yaml `params` and run_meta.json's `config`
# list exactly these (tests/test_dvc_deps.py; the end-to-end test audits the reads)
PARAMS: dict[str, tuple[str, ...]] = {
    "evaluate": ("pipeline.seed", "pipeline.pivot", "pipeline.targets", "base_models.hub.local_files_only", "evaluate"),
}

STAGE = "evaluate"
# prompts handed to the model per call: several generate batches, so progress lines come often enough
CHUNK_BATCHES = 4
# NLI labels and option letters are short answers
TASK_MAX_NEW_TOKENS = 32


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


def _resolve(root: Path, path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else root / p


def _shown(path: str | Path, root: Path) -> str:
    """``path`` relative to ``root`` when inside it (reports and metrics do not depend on the checkout's place)."""
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return str(path)


def load_benchmarks(cfg: EvaluateConfig, root: Path) -> dict[str, Benchmark]:
    """Every configured benchmark, validated; floor copies matched to the valid problems."""
    need_floor = any(s.floor for s in cfg.systems.values())
    out: dict[str, Benchmark] = {}
    for name, spec in cfg.benchmarks.items():
        path = _resolve(root, spec.path)
        task = TASK_OF_SOURCE[spec.source]
        if task == "math":
            loaded = load_math_benchmark(spec.source, path, langs=spec.langs, id_prefix=spec.id_prefix,
                                         max_per_lang=spec.max_per_lang)
        else:
            loaded = load_task_benchmark(spec.source, path, split=spec.split, langs=spec.langs,
                                         max_per_lang=spec.max_per_lang)
        bench = Benchmark(name, _shown(path, root), loaded.rows, loaded.report, task=task)
        if loaded.report.n_bad:
            log.warning("evaluate: %s: %s", name, loaded.report.summary())
        if need_floor and task == "math":
            if spec.layout_path is None:
                bench.floor_rows, bench.floor_file = layout_rows(loaded.rows), "built in memory (layout_only)"
            else:
                floor_path = _resolve(root, spec.layout_path)
                if spec.source != "artifact":
                    raise ConfigError(f"evaluate.benchmarks.{name}.layout_path: a file is only read for source "
                                      "artifact; set it to null to build the layout-only copy in memory")
                floor = read_math_artifact(floor_path, langs=spec.langs, id_prefix=spec.id_prefix)
                bench.floor_rows = match_rows(floor.rows, loaded.rows, str(floor_path))
                bench.floor_file, bench.floor_report = _shown(floor_path, root), floor.report
                if floor.report.n_bad:
                    log.warning("evaluate: %s layout copy: %s", name, floor.report.summary())
        out[name] = bench
    return out


def _device_and_dtype(device: str, dtype: str) -> tuple[Any, Any]:
    import torch

    dev = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device)
    if dtype == "auto":
        return dev, torch.bfloat16 if dev.type == "cuda" else torch.float32
    return dev, getattr(torch, dtype)


def load_model(folder: Path, what: str, device: str = "cpu", dtype: str = "float32",
               local_files_only: bool = True) -> Any:
    """A saved LinguaLIFTModel in eval mode on the device; fails naming the folder when it is missing.
    ``local_files_only``: base models a folder only refers to (hub ids) must be in the local cache."""
    from lingualift_core.model import LinguaLIFTModel, ModelLoadError
    from lingualift_core.model.lingualift import COMPLETE_MARKER

    if not (folder / COMPLETE_MARKER).is_file():
        raise artifacts.ArtifactError(f"{folder}: model folder for {what} is missing or incomplete (no "
                                      f"{COMPLETE_MARKER}); run the stage that trains it (`dvc repro`)")
    dev, dt = _device_and_dtype(device, dtype)
    try:
        model = LinguaLIFTModel.from_pretrained(folder, dtype=dt, local_files_only=local_files_only)
    except ModelLoadError as err:  # a referenced base model is not available here
        raise artifacts.ArtifactError(f"{folder}: {err}") from None
    return model.to(dev).eval()


# --------------------------------------------------------------------------------------------- generation


def evaluate_model(model: Any, system: str, benchmarks: Mapping[str, Benchmark], *, floor: bool,
                   cfg: EvaluateConfig, instruction: str) -> tuple[list[pa.Table], dict[str, Any]]:
    """Predictions tables of one loaded model on every benchmark, and per-benchmark generation info."""
    from lingualift_core.evaluate.systems import ModelGenerator, solution_token_budget

    gen_cfg = cfg.generation
    tables, info = [], {}
    for name, bench in benchmarks.items():
        if floor and bench.task != "math":
            log.info("evaluate: %s skips %s: the layout-only floor is defined for math only", system, name)
            continue
        rows = bench.floor_rows if floor else bench.rows
        assert rows is not None  # floor copies are loaded whenever a floor system exists
        max_new = gen_cfg.max_new_tokens
        if bench.task != "math":
            max_new = min(max_new, TASK_MAX_NEW_TOKENS)
        elif gen_cfg.fit_to_solutions:
            max_new = solution_token_budget(model.llm_tokenizer, [r.get("solution") for r in rows], cap=max_new)
        trigger = cfg.prompt.trigger if bench.task == "math" else ""  # the CoT trigger is for math
        gen = ModelGenerator(model, style=cfg.prompt.style, trigger=trigger, batch_size=gen_cfg.batch_size,
                             max_new_tokens=max_new, stop_strings=gen_cfg.stop_strings,
                             max_length=gen_cfg.max_length)
        prompts = prompts_for(bench.task, rows, **({"instruction": instruction} if bench.task == "math" else {}))
        with Progress(f"evaluate:{system}/{name}", total=len(prompts)) as bar, Timer() as timer:
            def on_batch(done: int, total: int, _outputs: list[str]) -> None:
                bar.update(done - bar.done)

            outputs = run_generation(gen, prompts, batch_size=gen_cfg.batch_size * CHUNK_BATCHES,
                                     on_batch=on_batch, sort_by_length=True)
        table = build_predictions(rows, prompts, outputs, system=system, benchmark=name, task=bench.task)
        rendered = pa.array([gen.render(p) for p in prompts], type=pa.string())
        table = table.set_column(table.schema.get_field_index("prompt"), "prompt", rendered)
        tables.append(table)
        n_correct = sum(table.column("correct").to_pylist())
        # outputs that used the whole token budget were cut by the cap, not ended by the model
        lengths = [len(ids) for ids in model.llm_tokenizer(list(outputs), add_special_tokens=False)["input_ids"]]
        info[name] = {"prompts": len(prompts), "max_new_tokens": max_new, "seconds": round(timer.seconds, 2),
                      "accuracy": round(100.0 * n_correct / len(prompts), 2),
                      "truncated_generations": sum(n >= max_new for n in lengths)}
        log.info("evaluate: %s on %s: %d prompts, max_new_tokens=%d, %.1f s, accuracy %.1f%%", system, name,
                 len(prompts), max_new, timer.seconds, info[name]["accuracy"])
    return tables, info


# ------------------------------------------------------------------------------------- alignment analyses


def parallel_pairs(cfg: EvalAlignmentConfig, root: Path, langs: Sequence[str], pivot: str
                   ) -> tuple[dict[str, tuple[list[str], list[str]]], dict[str, Any]]:
    """``{lang: (english sentences, sentences in lang)}`` (the first ``max_pairs`` valid pairs) and a report of
    what was read or skipped."""
    from lingualift_core.sources import load_tatoeba
    from lingualift_core.languages import tatoeba_code

    folder = _resolve(root, cfg.path)
    pairs: dict[str, tuple[list[str], list[str]]] = {}
    report: dict[str, Any] = {}
    for lang in langs:
        if cfg.source == "artifact":
            path = folder / f"{pivot}-{lang}.parquet"
            rows = artifacts.read_table(path, artifacts.PARALLEL, columns=["src", "tgt"]).to_pylist()
            good = [(r["src"].strip(), r["tgt"].strip()) for r in rows
                    if isinstance(r["src"], str) and isinstance(r["tgt"], str)
                    and r["src"].strip() and r["tgt"].strip()]
            n_bad = len(rows) - len(good)
            if not good:
                raise NoValidRowsError(f"{path}: no valid pairs ({n_bad} with an empty side)")
            src_file = _shown(path, root)
        else:
            code = tatoeba_code(lang)
            if code is None:
                report[lang] = {"skipped": "no Tatoeba test set for this language"}
                continue
            loaded = load_tatoeba(folder, code, lang=lang, english_label=pivot)
            good = [(r["tgt"], r["src"]) for r in loaded.rows]  # Tatoeba: src is the non-English side
            n_bad, src_file = loaded.report.n_bad, _shown(loaded.report.files[0], root)
        good = good[: cfg.max_pairs]
        pairs[lang] = ([e for e, _ in good], [x for _, x in good])
        report[lang] = {"file": src_file, "pairs": len(good), "malformed": n_bad}
    return pairs, report


def alignment_analyses(cfg: EvalAlignmentConfig, root: Path, langs: Sequence[str], pivot: str, seed: int,
                       metrics: Mapping[str, Any], levels: Mapping[str, str], plots_dir: Path,
                       device: str = "cpu", dtype: str = "float32", local_files_only: bool = True
                       ) -> tuple[dict[str, Any], str]:
    """Retrieval, Spearman, t-SNE and grouped retrieval; returns (analysis dict, markdown section)."""
    from lingualift_core.evaluate.representations import sentence_vectors

    model_dir = _resolve(root, cfg.model)
    model = load_model(model_dir, "the alignment analyses", device, dtype, local_files_only)
    if not model.has_encoder:
        raise ConfigError(f"evaluate.alignment.model: {model_dir} has no encoder; point it at the stage-1 or "
                          "stage-2 model folder")
    pairs, pair_report = parallel_pairs(cfg, root, langs, pivot)
    if not pairs:
        raise NoValidRowsError(f"{_resolve(root, cfg.path)}: no parallel pairs for any of {', '.join(langs)}")
    retrieval: dict[str, dict[str, dict[str, float]]] = {}
    vectors: dict[str, dict[str, Any]] = {}
    with Progress("evaluate:alignment", total=len(cfg.kinds) * len(pairs)) as bar:
        for kind in cfg.kinds:
            retrieval[kind], vectors[kind] = {}, {}
            for lang, (eng, other) in pairs.items():
                src = sentence_vectors(model, eng, kind=kind, batch_size=cfg.batch_size)
                tgt = sentence_vectors(model, other, kind=kind, batch_size=cfg.batch_size)
                res = align.retrieval_accuracy(src, tgt)
                retrieval[kind][lang] = {k: round(v, 4) for k, v in res.items() if k != "n"}
                vectors[kind][lang] = (src, tgt)
                bar.update()
    del model
    gc.collect()

    accuracy: dict[str, float] = {}
    entry = metrics.get(cfg.accuracy_system, {}).get(cfg.accuracy_benchmark, {})
    for lang in language_keys(entry):
        if entry[lang] is not None:
            accuracy[lang] = float(entry[lang])
    spearman = {}
    for kind in cfg.kinds:
        scores = {lang: 100.0 * r["mean"] for lang, r in retrieval[kind].items()}
        spearman[kind] = {group: res.as_dict() for group, res in
                          align.correlation_by_level(scores, accuracy, levels).items()}

    ordered = sorted(pairs, key=lambda lang: (["low", "medium", "high"].index(levels[lang]), lang))
    section = [f"Model: `{cfg.model}`. Top-1 retrieval accuracy (%, mean of both directions) between English and "
               f"each language on the first {cfg.max_pairs} parallel pairs, cosine of mean-pooled vectors: "
               "`aligned` = the LLM input after the alignment layer, `encoder` = the encoder alone, "
               "`llm_embeddings` = the LLM's own input embeddings of the text (the baseline).", "",
               retrieval_table(retrieval, ordered, levels), "",
               f"Spearman correlation between retrieval accuracy and the accuracy of `{cfg.accuracy_system}` on "
               f"`{cfg.accuracy_benchmark}` across languages (rho is undefined below 3 languages or for constant "
               "scores):", "", spearman_table(spearman), ""]
    groups_md = []
    for kind in default_group_kinds(ordered):
        mapping = language_groups(ordered, kind)
        values = {k: {lang: 100.0 * retrieval[k][lang]["mean"] for lang in retrieval[k]} for k in cfg.kinds}
        groups_md += [f"Retrieval by {kind.replace('_', ' ')}:", "", align.group_table(values, mapping, kind=kind), ""]
    section += groups_md
    analysis: dict[str, Any] = {"model": cfg.model, "pairs": pair_report, "retrieval": retrieval,
                                "spearman": spearman, "accuracy_of": f"{cfg.accuracy_system}/{cfg.accuracy_benchmark}"}
    if cfg.tsne:
        first = ordered[0]
        points, labels = [vectors["aligned"][first][0][: cfg.tsne_per_lang]], [pivot] * min(
            cfg.tsne_per_lang, len(vectors["aligned"][first][0]))
        for lang in ordered:
            tgt = vectors["aligned"][lang][1][: cfg.tsne_per_lang]
            points.append(tgt)
            labels += [lang] * len(tgt)
        import numpy as np

        path = plots_dir / "tsne_aligned.png"
        stacked = np.concatenate(points)
        # unit length: the plot shows the geometry the (cosine) retrieval sees, not the vectors' norms
        stacked = stacked / np.maximum(np.linalg.norm(stacked, axis=1, keepdims=True), 1e-12)
        align.plot_tsne(stacked, labels, path, perplexity=cfg.tsne_perplexity, seed=seed,
                        max_iter=cfg.tsne_max_iter,
                        title="t-SNE of sentence vectors at the LLM input (after the alignment layer)")
        section += [f"![t-SNE of aligned sentence vectors](plots/{path.name})", ""]
        analysis["tsne"] = f"plots/{path.name}"
    return analysis, "\n".join(section)


# ------------------------------------------------------------------------------------------------ reports


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


def _data_section(benchmarks: Mapping[str, Benchmark], root: Path) -> tuple[str, dict[str, Any]]:
    def described(report: LoadReport | None, limit: int) -> list[str]:
        return [f"{_shown(f, root)}:{n}: {r}" for f, n, r in (report.bad_examples[:limit] if report else [])]

    lines = ["| benchmark | file | valid rows | malformed (skipped) | skipped on purpose | languages |",
             "|---|---|---:|---:|---:|---|"]
    info: dict[str, Any] = {}
    examples: list[str] = []
    for name, b in benchmarks.items():
        per_lang = Counter(r["lang"] for r in b.rows)
        lines.append(f"| {name} | `{b.file}` | {len(b.rows)} | {b.report.n_bad} | {b.report.n_skipped} | "
                     f"{' '.join(f'{k}:{v}' for k, v in sorted(per_lang.items()))} |")
        entry: dict[str, Any] = {"file": b.file, "rows": len(b.rows), "malformed": b.report.n_bad,
                                 "skipped": b.report.n_skipped, "languages": dict(sorted(per_lang.items())),
                                 "malformed_examples": described(b.report, 10)}
        examples += [f"- `{name}`: {e}" for e in described(b.report, 5)]
        if b.floor_file is not None:
            n_bad = b.floor_report.n_bad if b.floor_report else 0
            lines.append(f"| {name} (layout-only copy) | `{b.floor_file}` | {len(b.floor_rows or [])} | {n_bad} | "
                         f"{b.floor_report.n_skipped if b.floor_report else 0} | (same problems) |")
            entry["floor"] = {"file": b.floor_file, "rows": len(b.floor_rows or []), "malformed": n_bad,
                              "malformed_examples": described(b.floor_report, 10)}
            examples += [f"- `{name}` layout copy: {e}" for e in described(b.floor_report, 5)]
        info[name] = entry
    if examples:
        lines += ["", "Malformed rows (first ones):", "", *examples]
    return "\n".join(lines), info


def _evaluate_system(job: tuple) -> tuple[list[pa.Table], dict[str, Any]]:
    """Loads one system's model and runs `evaluate_model` on it (a job of `_map_systems`)."""
    import torch

    system, spec, benchmarks, cfg, instruction, root, local_files_only = job
    if cfg.generation.threads is not None:
        torch.set_num_threads(cfg.generation.threads)
    model = load_model(_resolve(root, spec.model), f"system {system!r}", cfg.generation.device, cfg.generation.dtype,
                       local_files_only)
    try:
        return evaluate_model(model, system, benchmarks, floor=spec.floor, cfg=cfg, instruction=instruction)
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

    data_md, data_info = _data_section(benchmarks, root)
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
                    cfg.generation.dtype, local_files_only)
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


def closing_summary(root: Path, benchmark: str | None = None) -> str:
    """The run's result in a terminal: accuracy per language (rows) and system (columns, the floor first) on
    `benchmark` (default: the first in accuracy.csv), the missed gates, and where the report is."""
    paths = Paths(root)
    table = paths.data / "eval" / "accuracy.csv"
    if not table.is_file():
        raise FileNotFoundError(f"{table}: missing; run `dvc repro evaluate` first")
    with table.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise ValueError(f"{table}: no rows; rerun `dvc repro evaluate`")
    benchmark = benchmark or next((r["benchmark"] for r in rows if ":" not in r["benchmark"]), rows[0]["benchmark"])
    rows = [r for r in rows if r["benchmark"] == benchmark]
    if not rows:
        raise ValueError(f"{table}: no rows for benchmark {benchmark!r}")
    # the floor systems (`evaluate.systems.<name>.floor`) as the evaluation that wrote the table configured them
    meta = json.loads((table.parent / artifacts.RUN_META).read_text(encoding="utf-8"))
    floors = [name for name, spec in meta["config"]["evaluate"]["systems"].items() if spec.get("floor")]
    systems = sorted({r["system"] for r in rows}, key=lambda s: (s not in floors, s != "lingualift", s))
    langs = list(dict.fromkeys((r["lang"], r["level"]) for r in sorted(rows, key=lambda r: (r["lang"] != "en", r["lang"]))))
    cell = {(r["system"], r["lang"]): f"{float(r['accuracy']):.1f}" for r in rows}
    n = max((int(r["n"]) for r in rows), default=0)
    width = max(10, *(len(s) for s in systems))
    floor_note = f"; {', '.join(floors)} {'is the floor' if len(floors) == 1 else 'are floors'}" if floors else ""
    lines = [f"{benchmark}: accuracy in % ({n} problems per language{floor_note})",
             f"{'lang':<6}{'level':<8}" + "".join(f"{s:>{width + 2}}" for s in systems)]
    lines += [f"{lang:<6}{level:<8}" + "".join(f"{cell.get((s, lang), '-'):>{width + 2}}" for s in systems)
              for lang, level in langs]
    analysis = paths.metrics_file(f"{STAGE}_analysis")
    if analysis.is_file():
        gates = json.loads(analysis.read_text(encoding="utf-8")).get("gates", [])
        lines += [f"gate missed: {g['gate']} {g['value']:.3f} < {g['threshold']}" for g in gates if g.get("ok") is False]
    report = paths.data / "eval" / "report.md"
    lines.append(f"report: {os.path.relpath(report) if report.is_relative_to(Path.cwd()) else report}")
    return "\n".join(lines)
