"""Plain-text monolingual corpora: one sentence per line, UTF-8, optionally ``.xz`` / ``.gz`` / ``.bz2``.

Rows have the columns of the ``corpus`` artifact: ``id`` (``<lang>-<file stem>-<line_no>``), ``lang``, ``text``
(whitespace-trimmed line). Blank lines are skipped and counted in ``report.n_skipped`` (not malformed);
duplicates are skipped and counted the same way when ``dedupe=True``. A line that is not valid UTF-8 or
contains a NUL byte is malformed.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from lingualift_core.sources._common import (
    LoadResult,
    RowCollector,
    SourceNotFoundError,
    combine,
    iter_lines,
    require_dir,
)

__all__ = ["load_text_corpus", "load_text_corpora", "load_monolingual_folder"]

_SKIP_NAMES = {"SOURCE.md", "README.md", "LICENSE"}


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".xz", ".gz", ".bz2"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name


def load_text_corpus(path: str | Path, lang: str, *, dedupe: bool = False, min_chars: int = 1,
                     max_lines: int | None = None, strict: bool = False,
                     _seen: set[str] | None = None) -> LoadResult:
    """Reads one corpus file.

    Args:
        path: the file; ``.xz`` / ``.gz`` / ``.bz2`` are decompressed on the fly.
        lang: language code put in every row.
        dedupe: skip exact duplicate lines (counted in ``n_skipped``).
        min_chars: lines shorter than this after trimming are skipped (counted in ``n_skipped``).
        max_lines: stop after this many returned rows.
        strict: raise on the first malformed line.
    """
    path = Path(path)
    stem = _stem(path)
    seen = _seen if _seen is not None else (set() if dedupe else None)
    collector = RowCollector(path, strict=strict)
    for line_no, text, error in iter_lines(path):
        if error:
            collector.bad(line_no, error)
            continue
        if "\x00" in text:
            collector.bad(line_no, "NUL byte in line")
            continue
        text = text.strip()
        if len(text) < max(min_chars, 1):
            collector.skip()
            continue
        if seen is not None:
            if text in seen:
                collector.skip()
                continue
            seen.add(text)
        collector.ok({"id": f"{lang}-{stem}-{line_no}", "lang": lang, "text": text})
        if max_lines is not None and collector.report.n_ok >= max_lines:
            break
    return collector.finish()


def load_text_corpora(paths: Iterable[str | Path], lang: str, *, dedupe: bool = False, min_chars: int = 1,
                      strict: bool = False) -> LoadResult:
    """Several files of one language, concatenated in the given order (dedupe works across files)."""
    seen: set[str] | None = set() if dedupe else None
    results = [load_text_corpus(path, lang, dedupe=dedupe, min_chars=min_chars, strict=strict, _seen=seen)
               for path in paths]
    if not results:
        raise SourceNotFoundError(f"no corpus files given for {lang}")
    return combine(results)


def load_monolingual_folder(folder: str | Path, lang: str, *, dedupe: bool = False, min_chars: int = 1,
                            strict: bool = False) -> LoadResult:
    """Every regular file of ``folder`` (sorted by name; README/SOURCE/LICENSE files and dotfiles ignored).

    Matches the layout of the shared ``monolingual/<lang>/`` folders.
    """
    folder = require_dir(folder)
    files = [p for p in sorted(folder.iterdir())
             if p.is_file() and not p.name.startswith(".") and p.name not in _SKIP_NAMES]
    if not files:
        raise SourceNotFoundError(f"{folder}: no corpus files")
    return load_text_corpora(files, lang, dedupe=dedupe, min_chars=min_chars, strict=strict)
