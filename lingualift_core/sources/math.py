"""Math word-problem files: MGSM / MMWP TSV, MSVAMP JSON Lines, GSM8K JSONL.

Evaluation rows (MGSM, MMWP, MSVAMP) have the columns of the ``math`` artifact:

    id        str    ``<benchmark>-<index>``; index = 0-based line index, the same problem in every language
    lang      str    language code
    question  str
    answer    float  gold answer (thousands commas removed)
    solution  None   (evaluation sets carry no solution text)

GSM8K becomes math SFT records (columns of the ``sft`` artifact):

    id, instruction, input (the question), output (the rationale ending "The answer is N."), answer (float)

The MMWP folder format is defined here as the MGSM format: one UTF-8 file per language, ``mmwp_<lang>.tsv``
(``<lang>.tsv`` is accepted too), each line ``question<TAB>answer``, no header, no quoting.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from lingualift_core.sources._common import (
    LoadResult,
    RowCollector,
    SourceNotFoundError,
    combine,
    iter_lines,
    parse_number,
    read_jsonl,
    read_rows,
    require_dir,
    short,
)

__all__ = [
    "MATH_INSTRUCTION",
    "MSVAMP_FILE_LANGS",
    "clean_gsm8k_solution",
    "format_number",
    "load_gsm8k",
    "load_math_tsv",
    "load_math_tsv_folder",
    "load_mgsm",
    "load_mmwp",
    "load_msvamp",
    "load_msvamp_file",
    "sft_record_from_gsm8k",
    "write_math_tsv",
]

#: Default task instruction of math SFT records and math prompts (the question itself is the ``input``).
MATH_INSTRUCTION = "Solve the following math word problem."

#: MSVAMP file names (``test_<Name>.json``) -> language codes.
MSVAMP_FILE_LANGS: Mapping[str, str] = {
    "Bengali": "bn",
    "Chinese": "zh",
    "English": "en",
    "French": "fr",
    "German": "de",
    "Japanese": "ja",
    "Russian": "ru",
    "Spanish": "es",
    "Swahili": "sw",
    "Thai": "th",
}

_CALCULATOR = re.compile(r"<<[^<>]*>>")
_FINAL = re.compile(r"^####\s*(.+?)\s*$")


def format_number(value: float) -> str:
    """``18.0 -> "18"``, ``2.5 -> "2.5"``: integral values without a decimal part, others via ``repr``."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


# --------------------------------------------------------------------------------------------- TSV (MGSM/MMWP)


def load_math_tsv(path: str | Path, lang: str, *, benchmark: str = "mgsm", strict: bool = False) -> LoadResult:
    """Reads one ``question<TAB>answer`` file (MGSM / MMWP format; no header, quoting off).

    Malformed: not exactly two tab-separated fields, an empty question, an answer that is not a number
    (``"2,125"`` is a number: commas are thousands separators).
    """
    def to_row(text: str, line_no: int) -> dict[str, Any]:
        fields = text.split("\t")
        if len(fields) != 2:
            raise ValueError(f"expected 2 tab-separated fields (question, answer), got {len(fields)}")
        question, answer_text = fields[0].strip(), fields[1].strip()
        if not question:
            raise ValueError("empty question")
        try:
            answer = parse_number(answer_text)
        except ValueError:
            raise ValueError(f"answer is not a number: {short(answer_text)!r}") from None
        return {"id": f"{benchmark}-{line_no - 1}", "lang": lang, "question": question, "answer": answer,
                "solution": None}

    collector = RowCollector(path, strict=strict)
    read_rows(iter_lines(path), collector, to_row)
    return collector.finish()


def _tsv_files(folder: Path, prefixes: Sequence[str]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(folder.glob("*.tsv")):
        stem = path.stem
        for prefix in prefixes:
            if prefix and stem.startswith(prefix):
                found.setdefault(stem[len(prefix):], path)
                break
            if not prefix and "_" not in stem:
                found.setdefault(stem, path)
                break
    return found


def load_math_tsv_folder(folder: str | Path, *, benchmark: str, prefixes: Sequence[str],
                         langs: Iterable[str] | None = None, strict: bool = False) -> LoadResult:
    """Reads every ``<prefix><lang>.tsv`` of ``folder`` (or only ``langs``, each of which must exist)."""
    folder = require_dir(folder)
    files = _tsv_files(folder, prefixes)
    if langs is None:
        if not files:
            patterns = " or ".join(p + "<lang>.tsv" for p in prefixes)
            raise SourceNotFoundError(f"{folder}: no {benchmark} files ({patterns})")
        selected = sorted(files)
    else:
        selected = list(langs)
        missing = [lang for lang in selected if lang not in files]
        if missing:
            raise SourceNotFoundError(
                f"{folder}: no {benchmark} file for {', '.join(missing)} (found: {', '.join(sorted(files)) or 'none'})"
            )
    return combine([load_math_tsv(files[lang], lang, benchmark=benchmark, strict=strict) for lang in selected])


def load_mgsm(folder: str | Path, langs: Iterable[str] | None = None, *, strict: bool = False) -> LoadResult:
    """MGSM folder (``mgsm_<lang>.tsv``): 250 rows per language, ids ``mgsm-0``..``mgsm-249``."""
    return load_math_tsv_folder(folder, benchmark="mgsm", prefixes=("mgsm_",), langs=langs, strict=strict)


def load_mmwp(folder: str | Path, langs: Iterable[str] | None = None, *, strict: bool = False) -> LoadResult:
    """MMWP folder in the MGSM format: ``mmwp_<lang>.tsv`` (or ``<lang>.tsv``), ids ``mmwp-<index>``."""
    return load_math_tsv_folder(folder, benchmark="mmwp", prefixes=("mmwp_", ""), langs=langs, strict=strict)


def _tsv_field(text: str) -> str:
    return " ".join(str(text).replace("\t", " ").splitlines()).strip()


def write_math_tsv(path: str | Path, rows: Iterable[Mapping[str, Any]]) -> Path:
    """Writes rows with ``question`` and ``answer`` in the MGSM/MMWP TSV format (atomically).

    Tabs and line breaks inside a question become spaces (the format has no quoting); answers are written
    with :func:`format_number` (``18.0 -> "18"``). Rows are written in the given order (line i = index i).
    """
    path = Path(path)
    lines = []
    for row in rows:
        question = _tsv_field(row["question"])
        if not question:
            raise ValueError(f"{path}: empty question in row {row.get('id', '?')}")
        lines.append(f"{question}\t{format_number(float(row['answer']))}\n")
    if not lines:
        raise ValueError(f"{path}: no rows to write")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("".join(lines), encoding="utf-8")
    tmp.replace(path)
    return path


# --------------------------------------------------------------------------------------------------- MSVAMP


def load_msvamp_file(path: str | Path, lang: str, *, strict: bool = False) -> LoadResult:
    """One MSVAMP file: JSON Lines despite ``.json``; ``m_query`` (question) and ``response`` (``"8.0"``).

    Malformed: invalid JSON, not an object, missing/empty ``m_query``, ``response`` not a number.
    """
    def to_row(obj: Any, line_no: int) -> dict[str, Any]:
        if not isinstance(obj, dict):
            raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
        question = obj.get("m_query")
        if not isinstance(question, str) or not question.strip():
            raise ValueError("missing or empty 'm_query'")
        response = obj.get("response")
        try:
            answer = parse_number(str(response)) if isinstance(response, (str, int, float)) else None
        except ValueError:
            answer = None
        if answer is None:
            raise ValueError(f"'response' is not a number: {short(repr(response))}")
        return {"id": f"msvamp-{line_no - 1}", "lang": lang, "question": question.strip(), "answer": answer,
                "solution": None}

    collector = RowCollector(path, strict=strict)
    read_jsonl(path, collector, to_row)
    return collector.finish()


def load_msvamp(folder: str | Path, langs: Iterable[str] | None = None, *, strict: bool = False) -> LoadResult:
    """MSVAMP folder (``test_<Language>.json``, see :data:`MSVAMP_FILE_LANGS`): 1000 rows per language."""
    folder = require_dir(folder)
    by_lang = {code: folder / f"test_{name}.json" for name, code in MSVAMP_FILE_LANGS.items()}
    if langs is None:
        selected = [code for code in sorted(by_lang) if by_lang[code].is_file()]
        if not selected:
            raise SourceNotFoundError(f"{folder}: no MSVAMP files (test_<Language>.json)")
    else:
        selected = list(langs)
        unknown = [code for code in selected if code not in by_lang]
        if unknown:
            raise SourceNotFoundError(f"MSVAMP has no language {', '.join(unknown)} (has {', '.join(sorted(by_lang))})")
        missing = [str(by_lang[code]) for code in selected if not by_lang[code].is_file()]
        if missing:
            raise SourceNotFoundError(f"{missing[0]}: file not found")
    return combine([load_msvamp_file(by_lang[code], code, strict=strict) for code in selected])


# ---------------------------------------------------------------------------------------------------- GSM8K


def clean_gsm8k_solution(answer_field: str) -> tuple[str, float]:
    """GSM8K ``answer`` -> (rationale ending ``"The answer is N."``, N).

    Calculator annotations ``<<48/2=24>>`` are removed and the final ``#### N`` line becomes
    ``The answer is N.`` (N without thousands commas). Raises ``ValueError`` when there is no ``#### N`` line
    or N is not a number.
    """
    lines = [line.rstrip() for line in answer_field.strip().splitlines()]
    final_idx = next((i for i in range(len(lines) - 1, -1, -1) if lines[i].lstrip().startswith("####")), None)
    if final_idx is None:
        raise ValueError("no final '#### N' line")
    match = _FINAL.match(lines[final_idx].strip())
    if not match:
        raise ValueError("empty final '####' line")
    try:
        value = parse_number(match.group(1))
    except ValueError:
        raise ValueError(f"final answer is not a number: {short(match.group(1))!r}") from None
    steps = [_CALCULATOR.sub("", line).strip() for line in lines[:final_idx]]
    steps = [step for step in steps if step]
    steps.append(f"The answer is {format_number(value)}.")
    return "\n".join(steps), value


def sft_record_from_gsm8k(obj: Any, record_id: str, instruction: str) -> dict[str, Any]:
    """Maps one GSM8K object (``question``, ``answer``) to an SFT record; ``ValueError`` names the problem."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    question, answer_field = obj.get("question"), obj.get("answer")
    if not isinstance(question, str) or not question.strip():
        raise ValueError("missing or empty 'question'")
    if not isinstance(answer_field, str) or not answer_field.strip():
        raise ValueError("missing or empty 'answer'")
    output, value = clean_gsm8k_solution(answer_field)
    return {"id": record_id, "instruction": instruction, "input": question.strip(), "output": output, "answer": value}


def load_gsm8k(path: str | Path, *, instruction: str = MATH_INSTRUCTION, strict: bool = False,
               id_prefix: str | None = None) -> LoadResult:
    """GSM8K JSONL (``train.jsonl`` 7473 / ``test.jsonl`` 1319) -> math SFT records.

    Columns: ``id`` (``gsm8k-<stem>-<index>``), ``instruction``, ``input`` (question), ``output`` (rationale
    ending "The answer is N."), ``answer`` (float). Malformed: invalid JSON, missing fields, no ``#### N``.
    """
    path = Path(path)
    prefix = id_prefix if id_prefix is not None else f"gsm8k-{path.name.split('.')[0]}"
    collector = RowCollector(path, strict=strict)
    read_jsonl(path, collector, lambda obj, line_no: sft_record_from_gsm8k(obj, f"{prefix}-{line_no - 1}", instruction))
    return collector.finish()


