"""Loaders that read real benchmark, training and corpus files into plain records.

Every loader returns ``LoadResult(rows, report)``: ``rows`` is a list of dicts with the columns the loader
documents (matching the ``math`` / ``sft`` / ``corpus`` / ``parallel`` artifacts where one exists), ``report`` a
:class:`LoadReport` ``(n_ok, n_bad, bad_examples=[(file, line_no, reason)], n_skipped, files)``. Malformed rows
are counted, reported and skipped; ``strict=True`` raises on the first one (``MalformedRowError``:
``<file>:<line>: <reason>``); a file with no valid row raises ``NoValidRowsError`` naming it. Nothing here
hard-codes a path: callers pass the file or folder.

Modules: ``math`` (MGSM, MMWP, MSVAMP, GSM8K), ``text`` (monolingual corpora), ``nli`` (XNLI), ``commonsense``
(XCOPA, X-CSQA), ``parallel`` (Tatoeba, FLORES-200), ``hub`` (the same sets from Hugging Face dataset ids).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lingualift_core._lazy import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time each name is imported on first use
    from ._common import (
        HubLoadError,
        LoadReport,
        LoadResult,
        MalformedRowError,
        NoValidRowsError,
        SourceError,
        SourceNotFoundError,
        parse_number,
    )
    from .commonsense import load_xcopa, load_xcopa_file, load_xcsqa, load_xcsqa_file
    from .math import (
        MATH_INSTRUCTION,
        clean_gsm8k_solution,
        format_number,
        load_gsm8k,
        load_math_tsv,
        load_mgsm,
        load_mmwp,
        load_msvamp,
        load_msvamp_file,
        write_math_tsv,
    )
    from .nli import NLI_LABELS, load_xnli_folder, load_xnli_tsv
    from .parallel import flores_codes, load_flores, load_flores_archive, load_tatoeba, tatoeba_codes
    from .text import load_monolingual_folder, load_text_corpora, load_text_corpus

__all__ = [
    "MATH_INSTRUCTION",
    "NLI_LABELS",
    "HubLoadError",
    "LoadReport",
    "LoadResult",
    "MalformedRowError",
    "NoValidRowsError",
    "SourceError",
    "SourceNotFoundError",
    "clean_gsm8k_solution",
    "flores_codes",
    "format_number",
    "load_flores",
    "load_flores_archive",
    "load_gsm8k",
    "load_math_tsv",
    "load_mgsm",
    "load_mmwp",
    "load_monolingual_folder",
    "load_msvamp",
    "load_msvamp_file",
    "load_tatoeba",
    "load_text_corpora",
    "load_text_corpus",
    "load_xcopa",
    "load_xcopa_file",
    "load_xcsqa",
    "load_xcsqa_file",
    "load_xnli_folder",
    "load_xnli_tsv",
    "parse_number",
    "tatoeba_codes",
    "write_math_tsv",
]

__getattr__, __dir__ = lazy_exports(__name__, {
    "HubLoadError": "._common", "LoadReport": "._common", "LoadResult": "._common", "MalformedRowError": "._common",
    "NoValidRowsError": "._common", "SourceError": "._common", "SourceNotFoundError": "._common",
    "parse_number": "._common",
    "load_xcopa": ".commonsense", "load_xcopa_file": ".commonsense", "load_xcsqa": ".commonsense",
    "load_xcsqa_file": ".commonsense",
    "MATH_INSTRUCTION": ".math", "clean_gsm8k_solution": ".math", "format_number": ".math", "load_gsm8k": ".math",
    "load_math_tsv": ".math", "load_mgsm": ".math", "load_mmwp": ".math", "load_msvamp": ".math",
    "load_msvamp_file": ".math", "write_math_tsv": ".math",
    "NLI_LABELS": ".nli", "load_xnli_folder": ".nli", "load_xnli_tsv": ".nli",
    "flores_codes": ".parallel", "load_flores": ".parallel", "load_flores_archive": ".parallel",
    "load_tatoeba": ".parallel", "tatoeba_codes": ".parallel",
    "load_monolingual_folder": ".text", "load_text_corpora": ".text", "load_text_corpus": ".text",
})
