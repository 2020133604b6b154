"""Report pieces of the evaluation (pure: tables and metrics in, Arrow tables or markdown out): the accuracy CSV,
the pseudo-benchmarks (`:operator`, `:first_step`, other papers' answer rules), the headline with Wilson
intervals, the gates, grouped accuracy, the alignment tables and the decoding settings."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from lingualift_core.evaluate import alignment as align
from lingualift_core.evaluate.groups import default_group_kinds, language_groups
from lingualift_core.evaluate.scoring import accuracy_rows, language_keys, wilson_interval

if TYPE_CHECKING:
    from lingualift_core.sources import LoadReport
    from lingualift_core.config import EvaluateConfig
    from lingualift_core.evaluate.benchmarks import Benchmark


def accuracy_csv(predictions: pa.Table | Sequence[pa.Table], levels: Mapping[str, str]) -> str:
    """CSV text: system, benchmark, lang, level, n, n_correct, accuracy, ci_low, ci_high (%, 95% Wilson)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["system", "benchmark", "lang", "level", "n", "n_correct", "accuracy", "ci_low", "ci_high"])
    for row in accuracy_rows(predictions):
        lo, hi = wilson_interval(row["n_correct"], row["n"])
        writer.writerow([row["system"], row["benchmark"], row["lang"], levels.get(row["lang"], ""), row["n"],
                         row["n_correct"], f"{100.0 * row['accuracy']:.2f}", f"{100.0 * lo:.2f}", f"{100.0 * hi:.2f}"])
    return buf.getvalue()


def operator_table(predictions: pa.Table, benchmarks: Mapping[str, Benchmark]) -> pa.Table:
    """The math rows whose reference has an equation as a pseudo-benchmark `<benchmark>:operator`: `correct` = the
    output's first equation uses the reference's first operation (+, -, *, /), whatever the numbers. On a world
    whose problem kinds share one layout only the words decide the operation, so this separates reading the verb
    from copying the right quantities (`:first_step`) and from arithmetic (the answer)."""
    from lingualift_core.evaluate.answers import first_step

    gold: dict[tuple[str, str, str], str] = {}
    for name, bench in benchmarks.items():
        if bench.task != "math":
            continue
        for row in bench.rows:
            step = first_step(row.get("solution"))
            if step is not None:
                gold[(name, str(row["lang"]), str(row["id"]))] = step[1]
    ids, langs, systems, names, correct = [], [], [], [], []
    for row in predictions.select(["id", "lang", "system", "benchmark", "output"]).to_pylist():
        op = gold.get((row["benchmark"], row["lang"], row["id"]))
        if op is None:
            continue
        pred = first_step(row["output"])
        ids.append(row["id"]), langs.append(row["lang"]), systems.append(row["system"])
        names.append(f"{row['benchmark']}:operator"), correct.append(pred is not None and pred[1] == op)
    return pa.table({"id": pa.array(ids, pa.string()), "lang": pa.array(langs, pa.string()),
                     "system": pa.array(systems, pa.string()), "benchmark": pa.array(names, pa.string()),
                     "correct": pa.array(correct, pa.bool_())})


def gates_section(checks: Sequence[Mapping[str, Any]]) -> str:
    """The gates as a table, with one warning line per missed gate."""
    lines = ["| gate | value | threshold | |", "|---|---:|---:|---|"]
    for c in checks:
        value = "–" if c["value"] is None else f"{c['value']:.3f}"
        verdict = "not measured" if c["ok"] is None else ("ok" if c["ok"] else "**MISSED**")
        lines.append(f"| {c['gate']} | {value} | {c['threshold']:.2f} | {verdict} |")
    missed = [c for c in checks if c["ok"] is False]
    lines += [""] + [f"> Warning: {c['gate']} {c['value']:.3f} < {c['threshold']:.2f}: {c['why']}." for c in missed]
    return "\n".join(lines)


# other papers' answer rules, scored on the same outputs (`answers.py` documents each rule's source)


# other papers' answer rules, scored on the same outputs (`answers.py` documents each rule's source)
RULES: dict[str, str] = {"strict": "harness_strict_match", "flexible": "harness_flexible_extract",
                         "anchor": "anchor_last_number"}


def rule_tables(predictions: pa.Table, math_benchmarks: set[str]) -> list[pa.Table]:
    """Math rows re-scored with each rule of `RULES` as pseudo-benchmarks `<benchmark>:<rule>`: lm-evaluation-
    harness's MGSM "strict-match" and "flexible-extract" filters and the anchors' last-number rule (MindMerger,
    the authors' release; sign dropped), so a figure can be put beside the table it is compared with, and the
    effect of the rule itself is visible. A number is correct when it equals the gold answer (|diff| < 1e-3)."""
    import pyarrow.compute as pc

    from lingualift_core.evaluate import answers

    math_rows = predictions.filter(pc.is_in(predictions.column("benchmark"), pa.array(sorted(math_benchmarks),
                                                                                     pa.string())))
    rows = math_rows.select(["id", "lang", "system", "benchmark", "output", "gold"]).to_pylist()
    tables = []
    for name, function in RULES.items():
        rule = getattr(answers, function)
        correct = [answers.math_correct(rule(r["output"]), float(r["gold"])) for r in rows]
        tables.append(pa.table({"id": [r["id"] for r in rows], "lang": [r["lang"] for r in rows],
                                "system": [r["system"] for r in rows],
                                "benchmark": [f"{r['benchmark']}:{name}" for r in rows],
                                "correct": pa.array(correct, pa.bool_())}))
    return tables


def _cell(k: int, n: int) -> str:
    lo, hi = wilson_interval(k, n)
    return f"{100.0 * k / n:.1f} ({100.0 * lo:.0f}–{100.0 * hi:.0f})"


def headline_section(tables: Sequence[pa.Table], systems: Sequence[str], levels: Mapping[str, str],
                     benchmark: str = "math") -> str:
    """Answer, first-step and operator accuracy per system and language with 95% Wilson intervals and n."""
    rows = accuracy_rows(tables)
    langs = sorted({r["lang"] for r in rows if r["benchmark"] == benchmark},
                   key=lambda lang: (lang != "en", ["high", "medium", "low"].index(levels[lang])
                                     if levels.get(lang) in ("high", "medium", "low") else 3, lang))
    by = {(r["system"], r["benchmark"], r["lang"]): r for r in rows}
    out = [f"Accuracy in % on `{benchmark}` with its 95% Wilson interval; n per cell in the header.", ""]
    for metric in (benchmark, f"{benchmark}:first_step", f"{benchmark}:operator"):
        present = [s for s in systems if any((s, metric, lang) in by for lang in langs)]
        if not present:
            continue
        ns = {lang: next((by[(s, metric, lang)]["n"] for s in present if (s, metric, lang) in by), 0) for lang in langs}
        out += [f"`{metric}`:", "",
                "| system | " + " | ".join(f"{lang} ({levels.get(lang, '–')}, n={ns[lang]})" for lang in langs) + " |",
                "|---|" + "---:|" * len(langs)]
        for s in present:
            cells = [_cell(by[k]["n_correct"], by[k]["n"]) if (k := (s, metric, lang)) in by else "–" for lang in langs]
            out.append(f"| {s} | " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def group_sections(metrics: Mapping[str, Mapping[str, Any]], benchmarks: Sequence[str]) -> str:
    out = []
    for bench in benchmarks:
        values = {s: {lang: v for lang in language_keys(per[bench]) if (v := per[bench][lang]) is not None}
                  for s, per in metrics.items() if bench in per}
        langs = sorted({lang for v in values.values() for lang in v})
        for kind in default_group_kinds(langs):
            out += [f"`{bench}` accuracy by {kind.replace('_', ' ')}:", "",
                    align.group_table(values, language_groups(langs, kind), kind=kind), ""]
    return "\n".join(out)


def retrieval_table(retrieval: Mapping[str, Mapping[str, Mapping[str, float]]], langs: Sequence[str],
                     levels: Mapping[str, str]) -> str:
    kinds = list(retrieval)
    lines = ["| lang | level | " + " | ".join(kinds) + " |", "|---|---|" + "---:|" * len(kinds)]
    for lang in langs:
        cells = [f"{100 * retrieval[k][lang]['mean']:.1f}" if lang in retrieval[k] else "–" for k in kinds]
        lines.append(f"| {lang} | {levels.get(lang, '–')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def spearman_table(spearman: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> str:
    lines = ["| kind | group | rho | p | n |", "|---|---|---:|---:|---:|"]
    for kind, per in spearman.items():
        for group, res in per.items():
            rho = "–" if res["rho"] is None else f"{res['rho']:.3f}"
            p = "–" if res["pvalue"] is None else f"{res['pvalue']:.3g}"
            lines.append(f"| {kind} | {group} | {rho} | {p} | {res['n']} |")
    return "\n".join(lines)


def first_step_table(predictions: pa.Table) -> pa.Table:
    """The rows with a `first_step` verdict as a pseudo-benchmark `<benchmark>:first_step` (`correct` = the
    verdict), so the metrics, reports and plots show the reading diagnostic beside answer accuracy."""
    import pyarrow.compute as pc

    rows = predictions.filter(pc.is_valid(predictions.column("first_step")))
    bench = pc.binary_join_element_wise(rows.column("benchmark"), pa.scalar("first_step"), ":")
    return pa.table({"id": rows.column("id"), "lang": rows.column("lang"), "system": rows.column("system"),
                     "benchmark": bench, "correct": rows.column("first_step")})


def settings_md(cfg: EvaluateConfig, instruction: str, generation: Mapping[str, Any]) -> str:
    g = cfg.generation
    lines = [f"- prompt style `{cfg.prompt.style}`; instruction {instruction!r}; CoT trigger "
             f"{cfg.prompt.trigger!r} (the `prompt` column of predictions.parquet shows each prompt as read, the "
             "encoder's span between `<enc_start>` and `<enc_end>`)",
             f"- greedy decoding, batch size {g.batch_size}, stop strings {list(g.stop_strings)!r}, "
             f"max_new_tokens cap {g.max_new_tokens}" + (" (fitted to the reference solutions)"
                                                         if g.fit_to_solutions else ""),
             "", "| system | benchmark | prompts | max_new_tokens | cut by the cap | seconds |",
             "|---|---|---:|---:|---:|---:|"]
    for system, per in generation.items():
        for bench, info in per["benchmarks"].items():
            lines.append(f"| {system} | {bench} | {info['prompts']} | {info['max_new_tokens']} | "
                         f"{info['truncated_generations']} | {info['seconds']} |")
    return "\n".join(lines)


def data_section(benchmarks: Mapping[str, Benchmark], shown: Callable[[str | Path], str]
                 ) -> tuple[str, dict[str, Any]]:
    """The benchmarks read: a markdown table (valid, malformed and skipped rows per file, the first malformed
    rows) and the same as a dict; `shown` formats a file path for the report."""
    def described(report: LoadReport | None, limit: int) -> list[str]:
        return [f"{shown(f)}:{n}: {r}" for f, n, r in (report.bad_examples[:limit] if report else [])]

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
