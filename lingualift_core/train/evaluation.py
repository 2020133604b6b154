"""Stage-1 diagnostic: how well the frozen LLM reconstructs the English target from the aligned prefix."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Mapping, Sequence

_WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def bag_of_tokens(text: str) -> Counter[str]:
    """Lower-cased word and punctuation tokens of ``text``."""
    return Counter(_WORD.findall(text.lower()))


def token_recall(prediction: str, reference: str) -> tuple[int, int]:
    """(matched, reference size): multiset overlap of the reference's tokens found in the prediction."""
    ref, pred = bag_of_tokens(reference), bag_of_tokens(prediction)
    return sum(min(c, pred[t]) for t, c in ref.items()), sum(ref.values())


def reconstruction_recall(
    model,
    records: Sequence[Mapping[str, Any]],
    *,
    batch_size: int = 16,
    max_new_tokens: int | None = None,
    n_examples: int = 5,
) -> dict[str, Any]:
    """Greedy generation on held-out records; bag-of-tokens recall of the English target (``output``).

    Returns ``token_recall`` (micro: matched / reference tokens over all records), ``token_recall_macro``
    (mean per-record recall), ``n_records`` and a few ``examples`` (reference / prediction pairs)."""
    if not records:
        raise ValueError("reconstruction_recall needs at least one held-out record")
    if max_new_tokens is None:
        tok = model.llm_tokenizer
        longest = max(len(tok(str(r.get("output") or ""), add_special_tokens=False)["input_ids"]) for r in records)
        max_new_tokens = longest + 8
    preds = model.generate(records, batch_size=batch_size, max_new_tokens=max_new_tokens)
    matched = total = 0
    per: list[float] = []
    examples = []
    for r, p in zip(records, preds):
        m, n = token_recall(p, str(r.get("output") or ""))
        matched += m
        total += n
        per.append(m / n if n else 1.0)
        if len(examples) < n_examples:
            examples.append({"input": r.get("input", ""), "reference": r.get("output", ""), "prediction": p})
    return {
        "token_recall": matched / total if total else 0.0,
        "token_recall_macro": sum(per) / len(per),
        "n_records": len(records),
        "examples": examples,
    }


def recall_by_language(model, rows_by_lang: Mapping[str, Sequence[Mapping[str, Any]]], *, batch_size: int = 16,
                       n_examples: int = 2) -> dict[str, Any]:
    """`reconstruction_recall` per language (languages without rows are left out).

    Returns ``per_lang`` (recall rounded to 4 places), ``examples`` per language, ``token_recall_micro`` (over every
    reference token of every language), ``token_recall_macro`` (the mean of the rounded per-language values; None
    without any language) and ``n_records``."""
    out: dict[str, Any] = {"per_lang": {}, "examples": {}}
    matched = total = 0.0
    for lang, rows in rows_by_lang.items():
        if not rows:
            continue
        res = reconstruction_recall(model, rows, batch_size=batch_size, n_examples=n_examples)
        out["per_lang"][lang] = round(res["token_recall"], 4)
        out["examples"][lang] = res["examples"]
        n_ref = sum(sum(bag_of_tokens(str(r["output"])).values()) for r in rows)
        matched += res["token_recall"] * n_ref
        total += n_ref
    values = list(out["per_lang"].values())
    out["token_recall_micro"] = round(matched / total, 4) if total else None
    out["token_recall_macro"] = round(sum(values) / len(values), 4) if values else None
    out["n_records"] = sum(len(rows) for rows in rows_by_lang.values())
    return out
