"""Hugging Face hub copies of the benchmarks and training sets, via ``datasets.load_dataset``.

These paths need network access to the hub (or a populated ``HF_HOME`` cache); without it every loader raises
:class:`HubLoadError` with a one-line message. The row mapping functions (``*_hub_row``) are pure and produce
exactly the rows of the file loaders (:mod:`~lingualift_core.sources.math`, ``.nli``, ``.commonsense``), so
stages can switch between local files and hub ids freely. Malformed hub rows are reported like file lines,
with ``file = "hf:<id>[/<config>]/<split>"`` and ``line_no`` = 1-based row index.

Hub layouts assumed (from the dataset cards):

- ``juletxara/mgsm``: config = language (``bn`` ... ``zh``), split ``test`` (250) / ``train`` (8 exemplars);
  fields ``question``, ``answer`` (None in test), ``answer_number``.
- ``Mathoctopus/MSVAMP``: the ``test_<Language>.json`` JSON Lines files at the repo root, read with
  ``data_files=`` (split ``train`` of that file); fields ``m_query``, ``response``.
- ``openai/gsm8k``: config ``main``, splits ``train`` / ``test``; fields ``question``, ``answer``.
- ``meta-math/MetaMathQA``: split ``train``; fields ``query``, ``response`` (ending ``The answer is: X``),
  ``type``, ``original_question``.
- ``facebook/xnli``: config = language, splits ``train`` / ``validation`` / ``test``; fields ``premise``,
  ``hypothesis``, ``label`` (0 entailment, 1 neutral, 2 contradiction).
- ``INK-USC/xcsr``: config ``X-CSQA-<lang>`` (Japanese ``jap``), splits ``validation`` / ``test`` (test answers
  hidden); fields ``id``, ``lang``, ``question`` {``stem``, ``choices`` {``label``: [...], ``text``: [...]}},
  ``answerKey``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from lingualift_core.sources._common import (
    HubLoadError,
    LoadResult,
    RowCollector,
    combine,
    parse_number,
    short,
)
from lingualift_core.sources.commonsense import xcsqa_row
from lingualift_core.sources.math import MATH_INSTRUCTION, MSVAMP_FILE_LANGS, sft_record_from_gsm8k
from lingualift_core.sources.nli import NLI_LABELS

__all__ = [
    "HUB_IDS",
    "gsm8k_hub_row",
    "load_gsm8k_hub",
    "load_hub_dataset",
    "load_metamathqa_hub",
    "load_mgsm_hub",
    "load_msvamp_hub",
    "load_xcsqa_hub",
    "load_xnli_hub",
    "map_hub_rows",
    "metamath_hub_row",
    "mgsm_hub_row",
    "msvamp_hub_row",
    "xnli_hub_row",
]

HUB_IDS: Mapping[str, str] = {
    "mgsm": "juletxara/mgsm",
    "msvamp": "Mathoctopus/MSVAMP",
    "gsm8k": "openai/gsm8k",
    "metamathqa": "meta-math/MetaMathQA",
    "xnli": "facebook/xnli",
    "xcsqa": "INK-USC/xcsr",
}

_METAMATH_ANSWER = re.compile(r"The answer is:?\s*(.+?)\s*$", re.IGNORECASE | re.DOTALL)


def load_hub_dataset(path: str, name: str | None = None, *, split: str, **kwargs: Any):
    """``datasets.load_dataset(path, name, split=split, **kwargs)``; any failure becomes a one-line
    :class:`HubLoadError` (the original exception is chained)."""
    where = f"{path}{'/' + name if name else ''} split {split!r}"
    try:
        import datasets
    except ImportError as exc:  # pragma: no cover - datasets is a dependency
        raise HubLoadError(f"cannot load {where}: the 'datasets' package is not installed") from exc
    try:
        return datasets.load_dataset(path, name, split=split, **kwargs)
    except Exception as exc:  # noqa: BLE001 - network, auth, missing config: all reported the same way
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise HubLoadError(
            f"cannot load {where} from the Hugging Face hub ({type(exc).__name__}: {short(first, 160)}); "
            "check network access / HF_HOME cache, or use the file loaders"
        ) from exc


def map_hub_rows(rows: Iterable[Mapping[str, Any]], source: str,
                 mapper: Callable[[Mapping[str, Any], int], dict[str, Any]], *, strict: bool = False) -> LoadResult:
    """Applies ``mapper(row, index)`` to every row; a ``ValueError`` marks the row malformed."""
    collector = RowCollector(source, strict=strict)
    for index, row in enumerate(rows):
        try:
            collector.ok(mapper(row, index))
        except (ValueError, TypeError, KeyError) as exc:
            collector.bad(index + 1, f"{type(exc).__name__}: {exc}" if not isinstance(exc, ValueError) else str(exc))
    return collector.finish()


def _question(row: Mapping[str, Any], key: str) -> str:
    value = row.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"missing or empty {key!r}")
    return value.strip()


def _number(value: Any, key: str) -> float:
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{key!r} is not a number: {short(repr(value))}")
    try:
        return parse_number(str(value))
    except ValueError:
        raise ValueError(f"{key!r} is not a number: {short(repr(value))}") from None


def mgsm_hub_row(row: Mapping[str, Any], lang: str, index: int) -> dict[str, Any]:
    """``juletxara/mgsm`` row -> MGSM math row (``answer`` from ``answer_number``)."""
    return {"id": f"mgsm-{index}", "lang": lang, "question": _question(row, "question"),
            "answer": _number(row.get("answer_number"), "answer_number"), "solution": None}


def msvamp_hub_row(row: Mapping[str, Any], lang: str, index: int) -> dict[str, Any]:
    """``Mathoctopus/MSVAMP`` row -> MSVAMP math row."""
    return {"id": f"msvamp-{index}", "lang": lang, "question": _question(row, "m_query"),
            "answer": _number(row.get("response"), "response"), "solution": None}


def gsm8k_hub_row(row: Mapping[str, Any], index: int, *, split: str = "train",
                  instruction: str = MATH_INSTRUCTION) -> dict[str, Any]:
    """``openai/gsm8k`` row -> math SFT record (same as the JSONL loader)."""
    return sft_record_from_gsm8k(dict(row), f"gsm8k-{split}-{index}", instruction)


def metamath_hub_row(row: Mapping[str, Any], index: int, *, instruction: str = MATH_INSTRUCTION) -> dict[str, Any]:
    """``meta-math/MetaMathQA`` row -> math SFT record.

    ``output`` is the response as published (ending ``The answer is: X``); ``answer`` is X as a number, or
    None when X is not a plain number (MATH-style answers such as ``\\frac{1}{2}`` or ``(1, 2)``).
    """
    query, response = _question(row, "query"), _question(row, "response")
    match = _METAMATH_ANSWER.search(response.splitlines()[-1]) if response else None
    answer = None
    if match:
        try:
            answer = parse_number(match.group(1).rstrip(".").replace("$", ""))
        except ValueError:
            answer = None
    return {"id": f"metamathqa-{index}", "instruction": instruction, "input": query, "output": response,
            "answer": answer}


def xnli_hub_row(row: Mapping[str, Any], lang: str, index: int, *, split: str = "test") -> dict[str, Any]:
    """``facebook/xnli`` row -> XNLI row (integer label 0/1/2 -> entailment/neutral/contradiction)."""
    label = row.get("label")
    if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < len(NLI_LABELS):
        raise ValueError(f"'label' must be 0, 1 or 2, got {short(repr(label))}")
    return {"id": f"xnli-{split}-{index}", "lang": lang, "premise": _question(row, "premise"),
            "hypothesis": _question(row, "hypothesis"), "label": NLI_LABELS[label], "genre": None}


def load_mgsm_hub(langs: Iterable[str], *, split: str = "test", dataset_id: str = HUB_IDS["mgsm"],
                  strict: bool = False, **kwargs: Any) -> LoadResult:
    results = []
    for lang in langs:
        ds = load_hub_dataset(dataset_id, lang, split=split, **kwargs)
        results.append(map_hub_rows(ds, f"hf:{dataset_id}/{lang}/{split}",
                                    lambda row, i, lang=lang: mgsm_hub_row(row, lang, i), strict=strict))
    return combine(results)


def load_msvamp_hub(langs: Iterable[str], *, dataset_id: str = HUB_IDS["msvamp"], strict: bool = False,
                    **kwargs: Any) -> LoadResult:
    names = {code: name for name, code in MSVAMP_FILE_LANGS.items()}
    results = []
    for lang in langs:
        if lang not in names:
            raise HubLoadError(f"MSVAMP has no language {lang!r} (has {', '.join(sorted(names))})")
        data_file = f"test_{names[lang]}.json"
        ds = load_hub_dataset(dataset_id, data_files=data_file, split="train", **kwargs)
        results.append(map_hub_rows(ds, f"hf:{dataset_id}/{data_file}",
                                    lambda row, i, lang=lang: msvamp_hub_row(row, lang, i), strict=strict))
    return combine(results)


def load_gsm8k_hub(split: str = "train", *, dataset_id: str = HUB_IDS["gsm8k"], instruction: str = MATH_INSTRUCTION,
                   strict: bool = False, **kwargs: Any) -> LoadResult:
    ds = load_hub_dataset(dataset_id, "main", split=split, **kwargs)
    return map_hub_rows(ds, f"hf:{dataset_id}/main/{split}",
                        lambda row, i: gsm8k_hub_row(row, i, split=split, instruction=instruction), strict=strict)


def load_metamathqa_hub(split: str = "train", *, limit: int | None = None, dataset_id: str = HUB_IDS["metamathqa"],
                        instruction: str = MATH_INSTRUCTION, strict: bool = False, **kwargs: Any) -> LoadResult:
    """MetaMathQA (395k rows); ``limit`` keeps the first N rows (e.g. the authors' 200k subset)."""
    ds = load_hub_dataset(dataset_id, split=split if limit is None else f"{split}[:{int(limit)}]", **kwargs)
    return map_hub_rows(ds, f"hf:{dataset_id}/{split}",
                        lambda row, i: metamath_hub_row(row, i, instruction=instruction), strict=strict)


def load_xnli_hub(langs: Iterable[str], *, split: str = "test", dataset_id: str = HUB_IDS["xnli"],
                  strict: bool = False, **kwargs: Any) -> LoadResult:
    results = []
    for lang in langs:
        ds = load_hub_dataset(dataset_id, lang, split=split, **kwargs)
        results.append(map_hub_rows(ds, f"hf:{dataset_id}/{lang}/{split}",
                                    lambda row, i, lang=lang: xnli_hub_row(row, lang, i, split=split), strict=strict))
    return combine(results)


def load_xcsqa_hub(langs: Iterable[str], *, split: str = "validation", dataset_id: str = HUB_IDS["xcsqa"],
                   require_answer: bool = True, strict: bool = False, **kwargs: Any) -> LoadResult:
    """X-CSQA per language (config ``X-CSQA-<lang>``, ``ja`` requested as X-CSR's ``jap``)."""
    results = []
    for lang in langs:
        config = f"X-CSQA-{'jap' if lang == 'ja' else lang}"
        ds = load_hub_dataset(dataset_id, config, split=split, **kwargs)
        results.append(map_hub_rows(ds, f"hf:{dataset_id}/{config}/{split}",
                                    lambda row, i, lang=lang: xcsqa_row(dict(row), lang, require_answer=require_answer),
                                    strict=strict))
    return combine(results)
