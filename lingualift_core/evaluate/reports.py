"""Markdown tables, the evaluation report and per-language bar charts from the metrics dict.

Input is the metrics dict of :func:`lingualift_core.evaluate.scoring.compute_metrics`. Languages are listed by
resource level (low, medium, high, then languages without a level), alphabetically within a level.

The *layout-only floor* is the score of a system that has the LinguaLIFT input layout but no trained
alignment (named ``layout_only`` by default): whatever a system scores at or below it is not transfer. When
the metrics hold that system, the report puts its score in a column right beside every language.

Plots use matplotlib's Agg canvas directly (no global backend switch, no display needed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lingualift_core.evaluate.scoring import AVG_KEYS, LEVEL_ORDER, language_keys

__all__ = ["DEFAULT_FLOOR_SYSTEM", "comparison_table", "markdown_report", "ordered_languages",
           "plot_accuracy_bars"]

DEFAULT_FLOOR_SYSTEM = "layout_only"
_AVG_LABELS = {"avg_low": "avg low", "avg_medium": "avg medium", "avg_high": "avg high", "avg_all": "avg all"}


def _fmt(value: Any) -> str:
    return "–" if value is None else f"{value:.1f}"


def ordered_languages(langs: Sequence[str], levels: Mapping[str, str]) -> list[str]:
    """``langs`` ordered by level (low, medium, high, unlevelled), then alphabetically."""
    rank = {level: i for i, level in enumerate(LEVEL_ORDER)}
    return sorted(set(langs), key=lambda lang: (rank.get(levels.get(lang, ""), len(LEVEL_ORDER)), lang))


def _systems_for(metrics: Mapping[str, Mapping[str, Any]], benchmark: str,
                 systems: Sequence[str] | None) -> list[str]:
    names = [s for s in (systems or metrics) if benchmark in metrics.get(s, {})]
    if not names:
        raise ValueError(f"no system has results for benchmark {benchmark!r}")
    return names


def comparison_table(metrics: Mapping[str, Mapping[str, Mapping[str, Any]]], benchmark: str, *,
                     levels: Mapping[str, str], systems: Sequence[str] | None = None,
                     floor_system: str | None = DEFAULT_FLOOR_SYSTEM) -> str:
    """Markdown table for one benchmark: a row per language (then the averages), a column per system.

    When ``floor_system`` has results for the benchmark, its column comes first, beside the language,
    headed ``floor (<name>)``; the other systems follow in the given (or the metrics') order.
    """
    names = _systems_for(metrics, benchmark, systems)
    floor = floor_system if floor_system and benchmark in metrics.get(floor_system, {}) else None
    others = [s for s in names if s != floor]
    langs = ordered_languages([lang for s in names for lang in language_keys(metrics[s][benchmark])], levels)
    header = ["lang", "level"] + ([f"floor ({floor})"] if floor else []) + others
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * 2 + ["---:"] * (len(header) - 2)) + "|"]
    for lang in langs:
        cells = [lang, levels.get(lang, "–")]
        if floor:
            cells.append(_fmt(metrics[floor][benchmark].get(lang)))
        cells += [_fmt(metrics[s][benchmark].get(lang)) for s in others]
        lines.append("| " + " | ".join(cells) + " |")
    for key in AVG_KEYS:
        cells = [f"**{_AVG_LABELS[key]}**", ""]
        if floor:
            cells.append(_fmt(metrics[floor][benchmark].get(key)))
        cells += [_fmt(metrics[s][benchmark].get(key)) for s in others]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown_report(metrics: Mapping[str, Mapping[str, Mapping[str, Any]]], levels: Mapping[str, str], *,
                    title: str = "LinguaLIFT evaluation", floor_system: str | None = DEFAULT_FLOOR_SYSTEM,
                    systems: Sequence[str] | None = None, notes: Sequence[str] = (),
                    extra_sections: Mapping[str, str] | None = None, plots: Mapping[str, str] | None = None,
                    floor_note: str | None = None) -> str:
    """The evaluation report: one comparison table per benchmark, the averaging rules stated, optional notes,
    extra sections (``{heading: markdown}``, e.g. alignment analyses) and plot links (``{benchmark: path}``).
    ``floor_note`` replaces the default sentence that explains the floor column."""
    benchmarks = sorted({b for s in metrics.values() for b in s})
    flags = {entry.get("high_includes_en") for s in metrics.values() for entry in s.values()}
    if flags == {True}:
        english = "English **is included** in the high-resource average"
    elif flags == {False}:
        english = "English is **not** included in the high-resource average"
    else:
        english = "whether English counts in the high-resource average differs between entries (see high_includes_en)"
    lines = [f"# {title}", "",
             "Accuracy in % per language; averages are macro averages over the languages of each resource level "
             f"present in the benchmark ({english}; `avg all` includes every language).", ""]
    has_floor = bool(floor_system) and floor_system in metrics
    if has_floor:
        lines += [floor_note or f"The `floor ({floor_system})` column is the layout-only system (LinguaLIFT layout, "
                  "no trained alignment): scores at or below it show no transfer.", ""]
    for note in notes:
        lines += [f"- {note}"]
    if notes:
        lines.append("")
    for benchmark in benchmarks:
        lines += [f"## {benchmark}", "",
                  comparison_table(metrics, benchmark, levels=levels, systems=systems, floor_system=floor_system), ""]
        if plots and benchmark in plots:
            lines += [f"![{benchmark} accuracy per language]({plots[benchmark]})", ""]
    for heading, body in (extra_sections or {}).items():
        lines += [f"## {heading}", "", body.rstrip(), ""]
    return "\n".join(lines).rstrip() + "\n"


def plot_accuracy_bars(metrics: Mapping[str, Mapping[str, Mapping[str, Any]]], benchmark: str,
                       levels: Mapping[str, str], path: str | Path, *, systems: Sequence[str] | None = None,
                       title: str | None = None, dpi: int = 120) -> Path:
    """Grouped bar chart (PNG): languages on x grouped by resource level, one bar per system."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = _systems_for(metrics, benchmark, systems)
    langs = ordered_languages([lang for s in names for lang in language_keys(metrics[s][benchmark])], levels)
    # x positions with a gap between level groups
    xs, groups, x, previous = [], [], 0.0, None
    for lang in langs:
        level = levels.get(lang, "other")
        if previous is not None and level != previous:
            x += 0.8
        if not groups or groups[-1][0] != level:
            groups.append([level, x, x])
        groups[-1][2] = x
        xs.append(x)
        previous = level
        x += 1.0
    width = 0.8 / len(names)
    fig = Figure(figsize=(max(6.0, 0.45 * len(langs) * max(1, len(names)) ** 0.5 + 2), 4.2))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(111)
    for k, system in enumerate(names):
        values = [metrics[system][benchmark].get(lang) for lang in langs]
        offsets = [xi - 0.4 + width * (k + 0.5) for xi in xs]
        ax.bar(offsets, [0.0 if v is None else v for v in values], width=width, label=system)
    ax.set_xticks(xs)
    ax.set_xticklabels(langs, rotation=90 if len(langs) > 20 else 0, fontsize=8)
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    for level, start, end in groups:
        ax.annotate(level, xy=((start + end) / 2, 1.0), xycoords=("data", "axes fraction"), ha="center",
                    va="bottom", fontsize=9)
        if level in LEVEL_ORDER and LEVEL_ORDER.index(level) % 2 == 0:
            ax.axvspan(start - 0.5, end + 0.5, alpha=0.06, color="grey")
    ax.set_title(title or f"{benchmark}: accuracy per language by resource level", pad=16)
    ax.legend(fontsize=8, ncol=min(4, len(names)), loc="upper right")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=dpi, format="png")
    tmp.replace(path)
    return path
