"""Running the evaluation (library): the configured benchmarks with their layout-only copies, saved models on a
device, one model's predictions on every benchmark, and the alignment analyses (retrieval, Spearman, t-SNE).

The `evaluate` stage (`lingualift_core/stages/evaluate.py`) reads params, fans the systems out over processes
and writes the artifacts; progress comes back through `on_progress(desc, done, total)` callbacks.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from lingualift_core import artifacts
from lingualift_core.config import ConfigError, EvalAlignmentConfig, EvaluateConfig
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
from lingualift_core.evaluate.generation import build_predictions, run_generation
from lingualift_core.evaluate.groups import default_group_kinds, language_groups
from lingualift_core.evaluate.prompts import prompts_for
from lingualift_core.evaluate.scoring import language_keys
from lingualift_core.evaluate.sections import retrieval_table, spearman_table
from lingualift_core.sources import NoValidRowsError

log = logging.getLogger("lingualift.evaluate")

OnProgress = Callable[[str, int, int], None]

# prompts handed to the model per call: several generate batches, so progress lines come often enough
CHUNK_BATCHES = 4
# NLI labels and option letters are short answers
TASK_MAX_NEW_TOKENS = 32


def resolve_path(root: Path, path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else root / p


def shown_path(path: str | Path, root: Path) -> str:
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
        path = resolve_path(root, spec.path)
        task = TASK_OF_SOURCE[spec.source]
        if task == "math":
            loaded = load_math_benchmark(spec.source, path, langs=spec.langs, id_prefix=spec.id_prefix,
                                         max_per_lang=spec.max_per_lang)
        else:
            loaded = load_task_benchmark(spec.source, path, split=spec.split, langs=spec.langs,
                                         max_per_lang=spec.max_per_lang)
        bench = Benchmark(name, shown_path(path, root), loaded.rows, loaded.report, task=task)
        if loaded.report.n_bad:
            log.warning("evaluate: %s: %s", name, loaded.report.summary())
        if need_floor and task == "math":
            if spec.layout_path is None:
                bench.floor_rows, bench.floor_file = layout_rows(loaded.rows), "built in memory (layout_only)"
            else:
                floor_path = resolve_path(root, spec.layout_path)
                if spec.source != "artifact":
                    raise ConfigError(f"evaluate.benchmarks.{name}.layout_path: a file is only read for source "
                                      "artifact; set it to null to build the layout-only copy in memory")
                floor = read_math_artifact(floor_path, langs=spec.langs, id_prefix=spec.id_prefix)
                bench.floor_rows = match_rows(floor.rows, loaded.rows, str(floor_path))
                bench.floor_file, bench.floor_report = shown_path(floor_path, root), floor.report
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


def evaluate_model(model: Any, system: str, benchmarks: Mapping[str, Benchmark], *, floor: bool,
                   cfg: EvaluateConfig, instruction: str, on_progress: OnProgress | None = None
                   ) -> tuple[list[pa.Table], dict[str, Any]]:
    """Predictions tables of one loaded model on every benchmark, and per-benchmark generation info;
    `on_progress(desc, done, total)` after every chunk of prompts."""
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
        desc = f"evaluate:{system}/{name}"
        t0 = time.perf_counter()
        outputs = run_generation(gen, prompts, batch_size=gen_cfg.batch_size * CHUNK_BATCHES, sort_by_length=True,
                                 on_batch=None if on_progress is None else
                                 lambda done, total, _outputs: on_progress(desc, done, total))
        seconds = time.perf_counter() - t0
        table = build_predictions(rows, prompts, outputs, system=system, benchmark=name, task=bench.task)
        rendered = pa.array([gen.render(p) for p in prompts], type=pa.string())
        table = table.set_column(table.schema.get_field_index("prompt"), "prompt", rendered)
        tables.append(table)
        n_correct = sum(table.column("correct").to_pylist())
        # outputs that used the whole token budget were cut by the cap, not ended by the model
        lengths = [len(ids) for ids in model.llm_tokenizer(list(outputs), add_special_tokens=False)["input_ids"]]
        info[name] = {"prompts": len(prompts), "max_new_tokens": max_new, "seconds": round(seconds, 2),
                      "accuracy": round(100.0 * n_correct / len(prompts), 2),
                      "truncated_generations": sum(n >= max_new for n in lengths)}
        log.info("evaluate: %s on %s: %d prompts, max_new_tokens=%d, %.1f s, accuracy %.1f%%", system, name,
                 len(prompts), max_new, seconds, info[name]["accuracy"])
    return tables, info


def parallel_pairs(cfg: EvalAlignmentConfig, root: Path, langs: Sequence[str], pivot: str
                   ) -> tuple[dict[str, tuple[list[str], list[str]]], dict[str, Any]]:
    """``{lang: (english sentences, sentences in lang)}`` (the first ``max_pairs`` valid pairs) and a report of
    what was read or skipped."""
    from lingualift_core.sources import load_tatoeba
    from lingualift_core.languages import tatoeba_code

    folder = resolve_path(root, cfg.path)
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
            src_file = shown_path(path, root)
        else:
            code = tatoeba_code(lang)
            if code is None:
                report[lang] = {"skipped": "no Tatoeba test set for this language"}
                continue
            loaded = load_tatoeba(folder, code, lang=lang, english_label=pivot)
            good = [(r["tgt"], r["src"]) for r in loaded.rows]  # Tatoeba: src is the non-English side
            n_bad, src_file = loaded.report.n_bad, shown_path(loaded.report.files[0], root)
        good = good[: cfg.max_pairs]
        pairs[lang] = ([e for e, _ in good], [x for _, x in good])
        report[lang] = {"file": src_file, "pairs": len(good), "malformed": n_bad}
    return pairs, report


def alignment_analyses(cfg: EvalAlignmentConfig, root: Path, langs: Sequence[str], pivot: str, seed: int,
                       metrics: Mapping[str, Any], levels: Mapping[str, str], plots_dir: Path,
                       device: str = "cpu", dtype: str = "float32", local_files_only: bool = True,
                       on_progress: OnProgress | None = None) -> tuple[dict[str, Any], str]:
    """Retrieval, Spearman, t-SNE and grouped retrieval; returns (analysis dict, markdown section)."""
    from lingualift_core.evaluate.representations import sentence_vectors

    model_dir = resolve_path(root, cfg.model)
    model = load_model(model_dir, "the alignment analyses", device, dtype, local_files_only)
    if not model.has_encoder:
        raise ConfigError(f"evaluate.alignment.model: {model_dir} has no encoder; point it at the stage-1 or "
                          "stage-2 model folder")
    pairs, pair_report = parallel_pairs(cfg, root, langs, pivot)
    if not pairs:
        raise NoValidRowsError(f"{resolve_path(root, cfg.path)}: no parallel pairs for any of {', '.join(langs)}")
    retrieval: dict[str, dict[str, dict[str, float]]] = {}
    vectors: dict[str, dict[str, Any]] = {}
    total, done = len(cfg.kinds) * len(pairs), 0
    for kind in cfg.kinds:
        retrieval[kind], vectors[kind] = {}, {}
        for lang, (eng, other) in pairs.items():
            src = sentence_vectors(model, eng, kind=kind, batch_size=cfg.batch_size)
            tgt = sentence_vectors(model, other, kind=kind, batch_size=cfg.batch_size)
            res = align.retrieval_accuracy(src, tgt)
            retrieval[kind][lang] = {k: round(v, 4) for k, v in res.items() if k != "n"}
            vectors[kind][lang] = (src, tgt)
            done += 1
            if on_progress is not None:
                on_progress("evaluate:alignment", done, total)
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
