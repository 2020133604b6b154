"""MMWP builder: multi-step English problems from ASDiv and MAWPS, machine-translated, quality-estimated.

Paper (section 5.1 / Table 5): 500 random ASDiv problems + 500 MAWPS problems, all multi-step; duplicates and
non-numeric answers removed -> 811; translated into 47 languages (then post-edited by people); quality by
back-translation (BLEU 78.71, chrF 86.08, TER 1.09). This module does the automatic part:

1. read the sources (:func:`load_asdiv`, :func:`load_mawps`) into problem rows
   ``source, source_id, question, answer (float | None), answer_raw, formula, n_ops``;
2. :func:`select_problems`: multi-step = the formula has at least ``min_ops`` (2) arithmetic operators;
   numeric answers only (ASDiv answers carry units, ``"9 (apples)"``: the unit is stripped; ratios, times,
   names and multi-value answers are non-numeric); duplicates by normalised question text; a deterministic
   sample per source (``seed``). ``sample_first=True`` follows the paper's order (sample multi-step problems,
   then drop non-numeric answers and duplicates, so fewer than 1000 remain); ``False`` filters first and
   then samples up to ``n_per_source`` from each source;
3. :func:`translate_problems` through any :class:`Translator` (``translate(texts, src, tgt) -> list[str]``;
   :class:`HFSeq2SeqTranslator` runs an NLLB checkpoint; any callable can be wrapped);
4. :func:`back_translation_quality`: BLEU, chrF and TER (sacrebleu) of the back-translation against the
   English original;
5. :func:`write_mmwp`: the MMWP folder format of :mod:`lingualift_core.sources.math` (``mmwp_<lang>.tsv``).

Counting operators: in each ``;``-separated part of a formula, unit annotations in parentheses
(``(min/hour)``, ``(apples)``) are removed, then every binary ``+ - * / × ÷`` between two operands is counted
(a leading or unary minus is not an operator); the result side of ``7+2=9`` adds nothing.
"""

from __future__ import annotations

import json
import random
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from lingualift_core.sources._common import (
    LoadResult,
    RowCollector,
    SourceError,
    parse_number,
    require_file,
)
from lingualift_core.sources.math import write_math_tsv

__all__ = [
    "CallableTranslator",
    "HFSeq2SeqTranslator",
    "IdentityTranslator",
    "Translator",
    "TranslatorError",
    "as_translator",
    "back_translation_quality",
    "count_operators",
    "detokenize",
    "load_asdiv",
    "load_mawps",
    "normalise_question",
    "parse_asdiv_answer",
    "select_problems",
    "translate_problems",
    "write_mmwp",
]

_UNIT = re.compile(r"\([^()0-9]*[A-Za-z][^()0-9]*\)")
_BINARY_OP = re.compile(r"(?<=[0-9A-Za-z.)\]%])[-+*/×÷](?=[-0-9(.A-Za-z\[])")
_ASDIV_ANSWER = re.compile(r"^\s*(-?\d[\d,]*(?:\.\d+)?(?:\s*/\s*\d+)?)\s*(?:\([^()]*\))?\s*$")


def count_operators(formula: str) -> int:
    """Binary arithmetic operators in a formula (see the module doc); ``"(3*8)+(3*8)=48"`` -> 3."""
    total = 0
    for part in str(formula).split(";"):
        part = re.sub(r"\s+", "", _UNIT.sub(" ", part))
        total += len(_BINARY_OP.findall(part))
    return total


def parse_asdiv_answer(text: str) -> float | None:
    """``"9 (apples)"`` -> 9.0, ``"5/2"`` -> 2.5, ``"1,200"`` -> 1200.0; None for a non-numeric answer
    (``"3:2"``, ``"3:30 p.m."``, ``"Yes"``, ``"5 (cm); 7 (cm)"``, ``"6th"``)."""
    match = _ASDIV_ANSWER.match(str(text))
    if not match:
        return None
    try:
        return parse_number(match.group(1).replace(" ", ""))
    except ValueError:
        return None


def detokenize(text: str) -> str:
    """Undoes MWPToolkit's tokenisation: ``"books , how many ?"`` -> ``"books, how many?"``."""
    text = re.sub(r"\s+([.,?!;:%)\]])", r"\1", text)
    text = re.sub(r"([(\[$])\s+", r"\1", text)
    text = re.sub(r"\s+('s|n't|'re|'ll|'ve|'m|'d)\b", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()


def normalise_question(text: str) -> str:
    """Duplicate key: lower case, letters/digits only, single spaces."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", str(text).lower()).split())


def load_asdiv(path: str | Path, *, strict: bool = False) -> LoadResult:
    """ASDiv.xml -> problem rows (``question`` = Body + " " + Question). Malformed: a Problem without ID,
    Body/Question, Answer or Formula (line numbers are those of the ``<Problem`` tags)."""
    path = require_file(path)
    lines: dict[str, int] = {}
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            match = re.search(r'<Problem\s+ID="([^"]+)"', line)
            if match:
                lines.setdefault(match.group(1), line_no)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise SourceError(f"{path}:{exc.position[0]}: invalid XML ({exc})") from None
    collector = RowCollector(path, strict=strict)
    for index, problem in enumerate(root.iter("Problem")):
        pid = problem.get("ID")
        line_no = lines.get(pid or "", 0) or index + 1
        body, question = problem.findtext("Body"), problem.findtext("Question")
        answer_raw, formula = problem.findtext("Answer"), problem.findtext("Formula")
        if not pid:
            collector.bad(line_no, "Problem without ID")
        elif not (question or "").strip():
            collector.bad(line_no, f"{pid}: no Question")
        elif answer_raw is None or not answer_raw.strip():
            collector.bad(line_no, f"{pid}: no Answer")
        elif formula is None:
            collector.bad(line_no, f"{pid}: no Formula")
        else:
            text = " ".join(f"{(body or '').strip()} {question.strip()}".split())
            collector.ok({"source": "asdiv", "source_id": pid, "question": text,
                          "answer": parse_asdiv_answer(answer_raw), "answer_raw": answer_raw.strip(),
                          "formula": formula.strip(), "n_ops": count_operators(formula)})
    return collector.finish()


def load_mawps(path: str | Path, *, strict: bool = False) -> LoadResult:
    """MWPToolkit ``MAWPS.json`` (JSON array of ``id, original_text, equation, ans``) -> problem rows.

    The tokenised text is detokenised (:func:`detokenize`). Malformed rows are reported with their 1-based
    item number in place of a line number. ``ans`` must be a number (all 2373 are).
    """
    path = require_file(path)
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SourceError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    if not isinstance(items, list):
        raise SourceError(f"{path}: expected a JSON array of problems")
    collector = RowCollector(path, strict=strict)
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            collector.bad(index, f"item {index}: not an object")
            continue
        text, equation, ans = item.get("original_text"), item.get("equation"), item.get("ans")
        if not isinstance(text, str) or not text.strip():
            collector.bad(index, f"item {index}: no original_text")
            continue
        if not isinstance(equation, str) or not equation.strip():
            collector.bad(index, f"item {index}: no equation")
            continue
        try:
            answer = parse_number(str(ans))
        except ValueError:
            collector.bad(index, f"item {index}: ans is not a number ({ans!r})")
            continue
        rhs = equation.split("=", 1)[1] if re.match(r"^\s*[xX]\s*=", equation) else equation
        collector.ok({"source": "mawps", "source_id": str(item.get("id", index)), "question": detokenize(text),
                      "answer": answer, "answer_raw": str(ans), "formula": equation.strip(),
                      "n_ops": count_operators(rhs)})
    return collector.finish()


def _sample(rows: list[dict[str, Any]], n: int, seed: int, source: str) -> list[dict[str, Any]]:
    if len(rows) <= n:
        return list(rows)
    rng = random.Random(f"mmwp-{seed}-{source}")
    picked = sorted(rng.sample(range(len(rows)), n))
    return [rows[i] for i in picked]


def select_problems(sources: Mapping[str, Sequence[Mapping[str, Any]]], *, n_per_source: int = 500,
                    min_ops: int = 2, seed: int = 0, sample_first: bool = True
                    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Multi-step numeric problems without duplicates, sampled deterministically per source.

    Args:
        sources: ``{"asdiv": rows, "mawps": rows}`` from the loaders (any names; order = priority when two
            sources hold the same problem).
    Returns:
        ``(problems, report)``: problems get ``id`` ``mmwp-<i>`` in the final order (source order, then file
        order); the report counts every step per source and the duplicates removed.
    """
    report: dict[str, Any] = {"n_per_source": n_per_source, "min_ops": min_ops, "seed": seed,
                              "sample_first": sample_first, "sources": {}}
    seen: set[str] = set()
    kept: list[dict[str, Any]] = []
    for source, rows in sources.items():
        steps: dict[str, int] = {"total": len(rows)}
        pool = [dict(row) for row in rows if row["n_ops"] >= min_ops]
        steps["multi_step"] = len(pool)
        if sample_first:
            pool = _sample(pool, n_per_source, seed, source)
            steps["sampled"] = len(pool)
        pool = [row for row in pool if row["answer"] is not None]
        steps["numeric"] = len(pool)
        unique, dup_within, dup_across = [], 0, 0
        local: set[str] = set()
        for row in pool:
            key = normalise_question(row["question"])
            if key in local:
                dup_within += 1
            elif key in seen:
                dup_across += 1
            else:
                local.add(key)
                unique.append(row)
        if not sample_first:
            unique = _sample(unique, n_per_source, seed, source)
            steps["sampled"] = len(unique)
        steps["duplicates_within"] = dup_within
        steps["duplicates_across"] = dup_across
        steps["kept"] = len(unique)
        seen.update(normalise_question(row["question"]) for row in unique)
        kept.extend(unique)
        report["sources"][source] = steps
    for i, row in enumerate(kept):
        row["id"] = f"mmwp-{i}"
    report["kept"] = len(kept)
    return kept, report


# ------------------------------------------------------------------------------------------------ translation


class TranslatorError(RuntimeError):
    """A translation backend could not be loaded or run (one-line message)."""


@runtime_checkable
class Translator(Protocol):
    """Anything with ``translate(texts, src, tgt) -> list[str]`` (one output per input, same order)."""

    def translate(self, texts: list[str], src: str, tgt: str) -> list[str]: ...


class CallableTranslator:
    """Wraps a plain ``fn(texts, src, tgt) -> list[str]``."""

    def __init__(self, fn: Callable[[list[str], str, str], list[str]]) -> None:
        self.fn = fn

    def translate(self, texts: list[str], src: str, tgt: str) -> list[str]:
        return list(self.fn(list(texts), src, tgt))


class IdentityTranslator:
    """Returns the texts unchanged (tests, and the English copy of the benchmark)."""

    def translate(self, texts: list[str], src: str, tgt: str) -> list[str]:
        return list(texts)


def as_translator(obj: Translator | Callable[[list[str], str, str], list[str]]) -> Translator:
    if isinstance(obj, Translator):
        return obj
    if callable(obj):
        return CallableTranslator(obj)
    raise TypeError(f"expected a Translator or a callable(texts, src, tgt), got {type(obj).__name__}")


_FLORES_CODE = re.compile(r"^[a-z]{3}_[A-Z][a-z]{3}$")


class HFSeq2SeqTranslator:
    """A Hugging Face seq2seq translation model with FLORES-200 language tokens (NLLB).

    Languages are given as FLORES codes (``swh_Latn``) or as codes mapped through ``code_map`` (e.g.
    ``{"sw": "swh_Latn"}``; the registry's ``Language.flores`` gives them). The model loads on first use;
    loading failures (no network, unknown id) raise :class:`TranslatorError` with a one-line message.
    Greedy or beam search per ``num_beams``; batches of ``batch_size`` texts.
    """

    def __init__(self, model_id: str = "facebook/nllb-200-distilled-600M", *,
                 code_map: Mapping[str, str] | None = None, device: str | None = None, batch_size: int = 16,
                 max_new_tokens: int = 512, num_beams: int = 4, revision: str | None = None,
                 torch_dtype: Any = None, local_files_only: bool = False) -> None:
        self.model_id = model_id
        self.code_map = dict(code_map or {})
        self.device = device
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.num_beams = num_beams
        self.revision = revision
        self.torch_dtype = torch_dtype
        self.local_files_only = local_files_only
        self._model = None
        self._tokenizer = None

    def lang_code(self, code: str) -> str:
        if _FLORES_CODE.match(code):
            return code
        if code in self.code_map:
            return self.code_map[code]
        raise TranslatorError(f"no FLORES-200 code for language {code!r}: pass code_map={{{code!r}: 'xxx_Xxxx'}}")

    def _load(self) -> None:
        if self._model is not None:
            return
        try:
            import torch
            from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

            kwargs = {"revision": self.revision, "local_files_only": self.local_files_only}
            self._tokenizer = AutoTokenizer.from_pretrained(self.model_id, **kwargs)
            model = AutoModelForSeq2SeqLM.from_pretrained(self.model_id, dtype=self.torch_dtype, **kwargs)
        except Exception as exc:  # noqa: BLE001 - hub/network/config errors all become one line
            first = (str(exc).strip().splitlines() or [""])[0]
            raise TranslatorError(f"cannot load translation model {self.model_id!r}: {type(exc).__name__}: "
                                  f"{first[:200]}") from exc
        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        self._model = model.to(device).eval()
        self.device = device

    def translate(self, texts: list[str], src: str, tgt: str) -> list[str]:
        import torch

        texts = list(texts)
        if not texts:
            return []
        src_code, tgt_code = self.lang_code(src), self.lang_code(tgt)
        self._load()
        tokenizer, model = self._tokenizer, self._model
        tokenizer.src_lang = src_code
        forced = tokenizer.convert_tokens_to_ids(tgt_code)
        if forced is None or forced == tokenizer.unk_token_id:
            raise TranslatorError(f"{self.model_id} has no language token {tgt_code!r}")
        out: list[str] = []
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start: start + self.batch_size]
            enc = tokenizer(batch, return_tensors="pt", padding=True, truncation=True).to(self.device)
            with torch.inference_mode():
                generated = model.generate(**enc, forced_bos_token_id=forced, max_new_tokens=self.max_new_tokens,
                                           num_beams=self.num_beams, do_sample=False)
            out.extend(tokenizer.batch_decode(generated, skip_special_tokens=True))
        return out


def translate_problems(problems: Sequence[Mapping[str, Any]], translator: Translator | Callable[..., list[str]],
                       langs: Iterable[str], *, src: str = "en", batch_size: int = 64,
                       on_lang: Callable[[str], None] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Translates the questions into every language: ``{lang: MMWP rows (id, lang, question, answer)}``.

    ``src`` itself is copied untranslated. The answers are kept (numbers do not change in translation).
    Raises ``TranslatorError`` when the backend returns the wrong number of texts or an empty translation.
    """
    translator = as_translator(translator)
    questions = [str(p["question"]) for p in problems]
    out: dict[str, list[dict[str, Any]]] = {}
    for lang in langs:
        if lang == src:
            translated = list(questions)
        else:
            translated = []
            for start in range(0, len(questions), batch_size):
                batch = questions[start: start + batch_size]
                result = list(translator.translate(batch, src, lang))
                if len(result) != len(batch):
                    raise TranslatorError(f"translator returned {len(result)} texts for {len(batch)} ({src}->{lang})")
                translated.extend(result)
        empty = [p["id"] for p, text in zip(problems, translated) if not str(text).strip()]
        if empty:
            raise TranslatorError(f"empty translation into {lang} for {len(empty)} problem(s), first {empty[0]}")
        out[lang] = [{"id": p["id"], "lang": lang, "question": " ".join(str(text).split()),
                      "answer": float(p["answer"]), "solution": None} for p, text in zip(problems, translated)]
        if on_lang is not None:
            on_lang(lang)
    return out


def back_translation_quality(originals: Sequence[str], translations: Sequence[str],
                             translator: Translator | Callable[..., list[str]], *, src: str, tgt: str,
                             batch_size: int = 64) -> dict[str, float]:
    """Translates ``translations`` (in ``tgt``) back into ``src`` and scores them against ``originals``.

    Returns corpus-level ``bleu``, ``chrf`` and ``ter`` (sacrebleu defaults; BLEU and chrF higher is better,
    TER lower is better) and ``n``.
    """
    import sacrebleu

    if len(originals) != len(translations):
        raise ValueError(f"{len(originals)} originals but {len(translations)} translations")
    if not originals:
        raise ValueError("nothing to score")
    translator = as_translator(translator)
    back: list[str] = []
    for start in range(0, len(translations), batch_size):
        batch = list(translations[start: start + batch_size])
        result = list(translator.translate(batch, tgt, src))
        if len(result) != len(batch):
            raise TranslatorError(f"translator returned {len(result)} texts for {len(batch)} ({tgt}->{src})")
        back.extend(result)
    refs = [list(originals)]
    return {"bleu": sacrebleu.corpus_bleu(back, refs).score, "chrf": sacrebleu.corpus_chrf(back, refs).score,
            "ter": sacrebleu.corpus_ter(back, refs).score, "n": float(len(originals))}


def write_mmwp(rows_by_lang: Mapping[str, Sequence[Mapping[str, Any]]], folder: str | Path) -> list[Path]:
    """Writes ``mmwp_<lang>.tsv`` per language (the MGSM format; read back with ``sources.load_mmwp``)."""
    folder = Path(folder)
    return [write_math_tsv(folder / f"mmwp_{lang}.tsv", rows) for lang, rows in rows_by_lang.items()]
