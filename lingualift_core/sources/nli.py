"""XNLI files (TSV with a header, quoting off).

Two layouts are read, chosen by the header:

- the myXNLI ``genre`` layout of the shared ``xnli_partial`` folder (``<x>.genre.<split>.tsv``):
  ``genre, label, sentence1_<lang>, sentence2_<lang>[, sentence1_<lang2>, sentence2_<lang2>]``
  (``my.genre.*`` carries the original English columns, so English comes from there);
- the official XNLI 1.0 layout (``xnli.<split>.tsv``): ``language, gold_label, ..., sentence1, sentence2, ...,
  pairID, genre, ...`` with all languages in one file (rows of other languages are skipped, counted in
  ``n_skipped``).

Rows: ``id`` (``<prefix>-<index>``: the 0-based row index among the rows of that language, which is the same
problem in every language of XNLI; ``<prefix>`` defaults to ``xnli-<split>``), ``lang``, ``premise``,
``hypothesis``, ``label`` (``entailment`` / ``neutral`` / ``contradiction``), ``genre``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from lingualift_core.sources._common import (
    LoadResult,
    NoValidRowsError,
    RowCollector,
    SourceError,
    SourceNotFoundError,
    combine,
    iter_lines,
    require_dir,
    short,
)

__all__ = ["NLI_LABELS", "load_xnli_tsv", "load_xnli_folder", "xnli_languages"]

NLI_LABELS: tuple[str, ...] = ("entailment", "neutral", "contradiction")

_GENRE_FILE = re.compile(r"^(?P<file_lang>[a-z]{2,3})\.genre\.(?P<split>[a-z]+)\.tsv$")


def _split_from_name(path: Path) -> str | None:
    for split in ("test", "dev", "train", "validation"):
        if f".{split}." in f".{path.name}":
            return split
    return None


def _read_header(path: Path) -> list[str]:
    for line_no, text, error in iter_lines(path):
        if error or text is None:
            raise SourceError(f"{path}:{line_no}: unreadable header ({error})")
        return text.split("\t")
    raise NoValidRowsError(f"{path}: empty file (no header)")


def xnli_languages(path: str | Path) -> list[str]:
    """Languages a genre-layout file carries (from its ``sentence1_<lang>`` columns)."""
    header = _read_header(Path(path))
    return [col[len("sentence1_"):] for col in header if col.startswith("sentence1_")]


def load_xnli_tsv(path: str | Path, lang: str | None = None, *, id_prefix: str | None = None,
                  strict: bool = False) -> LoadResult:
    """Reads one XNLI TSV file (genre or official layout, see the module doc) for one language.

    Args:
        lang: which language's sentences; default: the file's only language (genre layout) -- required for
            the official layout and for files with several languages (``my.genre.*``: ``"en"`` or ``"my"``).
    Malformed: wrong field count, unknown label, empty premise or hypothesis.
    """
    path = Path(path)
    header = _read_header(path)
    split = _split_from_name(path)
    prefix = id_prefix if id_prefix is not None else (f"xnli-{split}" if split else "xnli")
    official = "gold_label" in header and "sentence1" in header
    if official:
        if lang is None:
            raise SourceError(f"{path}: official XNLI layout holds all languages; pass lang=")
        idx_lang, idx_label = header.index("language"), header.index("gold_label")
        idx_p, idx_h = header.index("sentence1"), header.index("sentence2")
        idx_genre = header.index("genre") if "genre" in header else None
    else:
        langs = [col[len("sentence1_"):] for col in header if col.startswith("sentence1_")]
        if "label" not in header or not langs:
            raise SourceError(f"{path}: unknown XNLI header {short(' '.join(header), 120)!r}")
        if lang is None:
            if len(langs) != 1:
                raise SourceError(f"{path}: file holds {', '.join(langs)}; pass lang=")
            lang = langs[0]
        if lang not in langs or f"sentence2_{lang}" not in header:
            raise SourceError(f"{path}: no columns for {lang!r} (has {', '.join(langs)})")
        idx_lang, idx_label = None, header.index("label")
        idx_p, idx_h = header.index(f"sentence1_{lang}"), header.index(f"sentence2_{lang}")
        idx_genre = header.index("genre") if "genre" in header else None

    collector = RowCollector(path, strict=strict)
    index = 0
    for line_no, text, error in iter_lines(path):
        if line_no == 1:
            continue
        if error:
            collector.bad(line_no, error)
            index += 1
            continue
        fields = text.split("\t")
        if official and len(fields) > idx_lang and fields[idx_lang] != lang:
            collector.skip()
            continue
        if len(fields) != len(header):
            collector.bad(line_no, f"expected {len(header)} tab-separated fields, got {len(fields)}")
            index += 1
            continue
        label = fields[idx_label].strip().lower()
        premise, hypothesis = fields[idx_p].strip(), fields[idx_h].strip()
        row_index, index = index, index + 1
        if label not in NLI_LABELS:
            collector.bad(line_no, f"unknown label {short(label)!r}")
            continue
        if not premise or not hypothesis:
            collector.bad(line_no, "empty premise or hypothesis")
            continue
        collector.ok({"id": f"{prefix}-{row_index}", "lang": lang, "premise": premise, "hypothesis": hypothesis,
                      "label": label, "genre": fields[idx_genre].strip() if idx_genre is not None else None})
    return collector.finish()


def load_xnli_folder(folder: str | Path, split: str = "test", langs: Iterable[str] | None = None, *,
                     strict: bool = False) -> LoadResult:
    """All languages found in ``folder`` for ``split`` (``test`` / ``dev``), or only ``langs``.

    Genre-layout files ``<x>.genre.<split>.tsv`` and the official ``xnli.<split>.tsv`` are recognised; a
    language present in several files is read from its own file first (``sw`` from ``sw.genre.*``), English
    from whichever file carries ``sentence1_en``.
    """
    folder = require_dir(folder)
    sources: dict[str, Path] = {}
    for path in sorted(folder.glob(f"*.{split}.tsv")):
        match = _GENRE_FILE.match(path.name)
        if not match:
            continue
        file_langs = xnli_languages(path)
        own = match.group("file_lang")
        for code in sorted(file_langs, key=lambda c: c != own):
            if code == own or code not in sources:
                sources[code] = path
    official = folder / f"xnli.{split}.tsv"
    if langs is None:
        if not sources:
            if official.is_file():
                raise SourceError(f"{official}: official layout holds all languages; pass langs=")
            raise SourceNotFoundError(f"{folder}: no XNLI {split} files")
        selected = sorted(sources)
    else:
        selected = list(langs)
    results = []
    for code in selected:
        if code in sources:
            results.append(load_xnli_tsv(sources[code], code, strict=strict))
        elif official.is_file():
            results.append(load_xnli_tsv(official, code, strict=strict))
        else:
            raise SourceNotFoundError(
                f"{folder}: no XNLI {split} data for {code} (found: {', '.join(sorted(sources)) or 'none'})"
            )
    return combine(results)
