"""Commonsense multiple-choice sets: XCOPA and X-CSQA (JSON Lines).

Both map to multiple-choice rows:

    id        str          ``xcopa-<split>-<idx>`` / the X-CSQA ``id``
    lang      str
    question  str          the question text (XCOPA: the premise; see ``kind``)
    choices   list[str]    option texts, in label order
    labels    list[str]    option letters (``A``, ``B``, ...)
    answer    str | None   gold letter
    kind      str | None   XCOPA ``cause`` / ``effect``; None for X-CSQA

XCOPA (cambridgeltl/xcopa ``data/<lang>/{test,val}.<lang>.jsonl``): ``premise, choice1, choice2, question
("cause"/"effect"), label (0/1), idx``; label 0 -> ``A``.

X-CSQA (official X-CSR release, ``X-CSQA/<lang>/{dev,test}.jsonl``): ``{"id", "lang", "question": {"stem",
"choices": [{"label": "A", "text": ...}, ...]}, "answerKey": "A"}``. The official test split hides
``answerKey``; read it with ``require_answer=False`` (answer None). The Hugging Face copy stores ``choices``
as ``{"label": [...], "text": [...]}``; :func:`xcsqa_row` accepts both. X-CSR writes Japanese as ``jap``;
it becomes ``ja``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lingualift_core.sources._common import (
    LoadResult,
    RowCollector,
    SourceNotFoundError,
    combine,
    read_jsonl,
    require_dir,
    short,
)

__all__ = ["LETTERS", "XCSR_LANG_FIXES", "load_xcopa", "load_xcopa_file", "load_xcsqa_file", "load_xcsqa",
           "xcopa_row", "xcsqa_row"]

LETTERS = "ABCDEFGHIJ"
XCSR_LANG_FIXES = {"jap": "ja"}


def xcopa_row(obj: Any, lang: str, split: str) -> dict[str, Any]:
    """One XCOPA object -> multiple-choice row; ``ValueError`` names what is wrong."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    for key in ("premise", "choice1", "choice2"):
        if not isinstance(obj.get(key), str) or not obj[key].strip():
            raise ValueError(f"missing or empty {key!r}")
    kind = obj.get("question")
    if kind not in ("cause", "effect"):
        raise ValueError(f"'question' must be 'cause' or 'effect', got {short(repr(kind))}")
    label = obj.get("label")
    if isinstance(label, bool) or label not in (0, 1):
        raise ValueError(f"'label' must be 0 or 1, got {short(repr(label))}")
    idx = obj.get("idx")
    if isinstance(idx, bool) or not isinstance(idx, int):
        raise ValueError(f"'idx' must be an integer, got {short(repr(idx))}")
    return {"id": f"xcopa-{split}-{idx}", "lang": lang, "question": obj["premise"].strip(),
            "choices": [obj["choice1"].strip(), obj["choice2"].strip()], "labels": ["A", "B"],
            "answer": LETTERS[label], "kind": kind}


def load_xcopa_file(path: str | Path, lang: str | None = None, *, split: str | None = None,
                    strict: bool = False) -> LoadResult:
    """One XCOPA file; ``lang`` / ``split`` default to the ``<split>.<lang>.jsonl`` file name."""
    path = Path(path)
    parts = path.name.split(".")
    lang = lang or (parts[1] if len(parts) >= 3 else None)
    split = split or parts[0]
    if not lang:
        raise SourceNotFoundError(f"{path}: cannot tell the language from the name; pass lang=")
    collector = RowCollector(path, strict=strict)
    read_jsonl(path, collector, lambda obj, _line: xcopa_row(obj, lang, split))
    return collector.finish()


def load_xcopa(folder: str | Path, split: str = "test", langs: Iterable[str] | None = None, *,
               strict: bool = False) -> LoadResult:
    """XCOPA ``data`` folder (``<lang>/<split>.<lang>.jsonl``; ``split`` is ``test`` or ``val``)."""
    folder = require_dir(folder)
    if (folder / "data").is_dir():
        folder = folder / "data"
    available = sorted(p.name for p in folder.iterdir() if (p / f"{split}.{p.name}.jsonl").is_file())
    selected = available if langs is None else list(langs)
    missing = [code for code in selected if code not in available]
    if missing or not selected:
        raise SourceNotFoundError(
            f"{folder}: no XCOPA {split} file for {', '.join(missing) or 'any language'} "
            f"(found: {', '.join(available) or 'none'})"
        )
    return combine([load_xcopa_file(folder / code / f"{split}.{code}.jsonl", code, split=split, strict=strict)
                    for code in selected])


def xcsqa_row(obj: Any, lang: str | None = None, *, require_answer: bool = True) -> dict[str, Any]:
    """One X-CSQA object (official JSONL or Hugging Face row) -> multiple-choice row."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    qid = obj.get("id")
    if not isinstance(qid, str) or not qid:
        raise ValueError("missing 'id'")
    question = obj.get("question")
    if not isinstance(question, dict):
        raise ValueError("'question' must be an object with 'stem' and 'choices'")
    stem = question.get("stem")
    if not isinstance(stem, str) or not stem.strip():
        raise ValueError("missing or empty question 'stem'")
    choices = question.get("choices")
    if isinstance(choices, dict):  # Hugging Face: {"label": [...], "text": [...]}
        labels, texts = choices.get("label"), choices.get("text")
        if not isinstance(labels, list) or not isinstance(texts, list) or len(labels) != len(texts):
            raise ValueError("'choices' label/text lists missing or of different lengths")
        pairs = list(zip(labels, texts))
    elif isinstance(choices, list):
        try:
            pairs = [(c["label"], c["text"]) for c in choices]
        except (TypeError, KeyError):
            raise ValueError("every choice needs 'label' and 'text'") from None
    else:
        raise ValueError("missing 'choices'")
    if len(pairs) < 2:
        raise ValueError(f"need at least 2 choices, got {len(pairs)}")
    labels = [str(label).strip().upper() for label, _ in pairs]
    if labels != list(LETTERS[: len(labels)]):
        raise ValueError(f"choice labels must be A, B, ... in order, got {short(','.join(labels))}")
    texts = [str(text).strip() for _, text in pairs]
    if any(not t for t in texts):
        raise ValueError("empty choice text")
    answer = obj.get("answerKey")
    answer = str(answer).strip().upper() if answer not in (None, "") else None
    if answer is None and require_answer:
        raise ValueError("missing 'answerKey' (the official test split hides it: use require_answer=False)")
    if answer is not None and answer not in labels:
        raise ValueError(f"'answerKey' {answer!r} is not one of the choice labels")
    code = lang or obj.get("lang")
    if not isinstance(code, str) or not code:
        raise ValueError("no language: the row has no 'lang' and none was given")
    code = XCSR_LANG_FIXES.get(code, code)
    return {"id": qid, "lang": code, "question": stem.strip(), "choices": texts, "labels": labels,
            "answer": answer, "kind": None}


def load_xcsqa_file(path: str | Path, lang: str | None = None, *, require_answer: bool = True,
                    strict: bool = False) -> LoadResult:
    """One X-CSQA JSONL file; ``lang`` defaults to each row's ``lang`` field."""
    path = Path(path)
    collector = RowCollector(path, strict=strict)
    read_jsonl(path, collector, lambda obj, _line: xcsqa_row(obj, lang, require_answer=require_answer))
    return collector.finish()


def load_xcsqa(folder: str | Path, split: str = "dev", langs: Iterable[str] | None = None, *,
               require_answer: bool = True, strict: bool = False) -> LoadResult:
    """Official X-CSQA folder layout: ``<folder>/<lang>/<split>.jsonl`` (X-CSR's ``jap`` is read as ``ja``)."""
    folder = require_dir(folder)
    dirs = {XCSR_LANG_FIXES.get(p.name, p.name): p for p in sorted(folder.iterdir())
            if (p / f"{split}.jsonl").is_file()}
    selected = sorted(dirs) if langs is None else list(langs)
    missing = [code for code in selected if code not in dirs]
    if missing or not selected:
        raise SourceNotFoundError(
            f"{folder}: no X-CSQA {split}.jsonl for {', '.join(missing) or 'any language'} "
            f"(found: {', '.join(sorted(dirs)) or 'none'})"
        )
    return combine([load_xcsqa_file(dirs[code] / f"{split}.jsonl", code, require_answer=require_answer,
                                    strict=strict) for code in selected])
