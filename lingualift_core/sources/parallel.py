"""Parallel sentences for the alignment analyses: LASER Tatoeba pairs and FLORES-200 devtest.

Tatoeba rows have the columns of the ``parallel`` artifact: ``id`` (``tatoeba-<code>-<index>``), ``src_lang``
(``lang`` argument, default the ISO 639-3 code), ``tgt_lang`` (``"en"`` by default), ``src`` (the non-English
sentence), ``tgt`` (English). Line i of ``tatoeba.<xxx>-eng.<xxx>`` translates line i of
``tatoeba.<xxx>-eng.eng``; a pair with an empty side is malformed (reported under the ``.<xxx>`` file).

FLORES rows: ``id`` (``flores-<split>-<index>``, the same sentence in every language), ``lang`` (the label
given, default the FLORES code such as ``swh_Latn``), ``text``. All requested languages must have the same
number of lines (the set is line-aligned); an empty line is malformed.
"""

from __future__ import annotations

import io
import re
import tarfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from lingualift_core.sources._common import (
    LoadResult,
    RowCollector,
    SourceError,
    SourceNotFoundError,
    combine,
    iter_lines,
    read_rows,
    require_dir,
    require_file,
)

__all__ = ["flores_codes", "load_flores", "load_flores_archive", "load_tatoeba", "tatoeba_codes"]

_TATOEBA = re.compile(r"^tatoeba\.(?P<code>[a-z]{3})-eng\.(?P=code)$")


def tatoeba_codes(folder: str | Path) -> list[str]:
    """ISO 639-3 codes with a Tatoeba test set in ``folder``."""
    folder = require_dir(folder)
    return sorted(m.group("code") for p in folder.iterdir() if (m := _TATOEBA.match(p.name)))


def _lines(path: Path) -> list[tuple[int, str | None, str | None]]:
    return list(iter_lines(path))


def load_tatoeba(folder: str | Path, code: str, *, lang: str | None = None, english_label: str = "en",
                 strict: bool = False) -> LoadResult:
    """Pairs of one language (``code`` = ISO 639-3 as in the file names, e.g. ``swh``, ``cmn``)."""
    folder = require_dir(folder)
    src_path = require_file(folder / f"tatoeba.{code}-eng.{code}")
    eng_path = require_file(folder / f"tatoeba.{code}-eng.eng")
    src_lines, eng_lines = _lines(src_path), _lines(eng_path)
    if len(src_lines) != len(eng_lines):
        raise SourceError(f"{src_path}: {len(src_lines)} lines but {eng_path.name} has {len(eng_lines)}")
    label = lang or code
    collector = RowCollector(src_path, strict=strict)
    collector.report.files.append(str(eng_path))
    for (line_no, src, src_err), (_, eng, eng_err) in zip(src_lines, eng_lines):
        if src_err or eng_err:
            collector.bad(line_no, src_err or f"{eng_path.name}: {eng_err}")
            continue
        src, eng = src.strip(), eng.strip()
        if not src or not eng:
            collector.bad(line_no, f"empty {'source' if not src else 'English'} sentence")
            continue
        collector.ok({"id": f"tatoeba-{code}-{line_no - 1}", "src_lang": label, "tgt_lang": english_label,
                      "src": src, "tgt": eng})
    return collector.finish()


def flores_codes(folder: str | Path, split: str = "devtest") -> list[str]:
    """FLORES codes (``<iso639-3>_<Script>``) with a ``<code>.<split>`` file in ``folder``."""
    folder = require_dir(folder)
    return sorted(p.name[: -len(split) - 1] for p in folder.glob(f"*.{split}"))


def _flores_rows(name: str, lines: list[tuple[int, str | None, str | None]], label: str, split: str,
                 strict: bool) -> LoadResult:
    collector = RowCollector(name, strict=strict)
    read_rows(lines, collector, lambda text, line_no: {"id": f"flores-{split}-{line_no - 1}", "lang": label,
                                                        "text": text.strip()})
    return collector.finish()


def _check_aligned(counts: Mapping[str, int]) -> None:
    if len(set(counts.values())) > 1:
        detail = ", ".join(f"{name}: {n}" for name, n in counts.items())
        raise SourceError(f"FLORES files are not line-aligned ({detail})")


def load_flores(folder: str | Path, codes: Iterable[str], *, split: str = "devtest",
                labels: Mapping[str, str] | None = None, strict: bool = False) -> LoadResult:
    """Plain ``<code>.<split>`` files (e.g. ``flores200_devtest/core``); ``labels`` maps code -> ``lang``."""
    folder = require_dir(folder)
    codes = list(codes)
    if not codes:
        raise SourceNotFoundError("no FLORES codes given")
    labels = labels or {}
    per_file = {}
    for code in codes:
        path = folder / f"{code}.{split}"
        if not path.is_file():
            raise SourceNotFoundError(f"{path}: file not found (have: {', '.join(flores_codes(folder, split))})")
        per_file[str(path)] = (code, list(iter_lines(path)))
    _check_aligned({name: len(lines) for name, (_, lines) in per_file.items()})
    return combine([_flores_rows(name, lines, labels.get(code, code), split, strict)
                    for name, (code, lines) in per_file.items()])


def load_flores_archive(archive: str | Path, codes: Iterable[str], *, split: str = "devtest",
                        labels: Mapping[str, str] | None = None, strict: bool = False) -> LoadResult:
    """Languages from the FLORES-200 tarball (``flores200_dataset/<split>/<code>.<split>`` members)."""
    archive = require_file(archive)
    wanted = {f"{code}.{split}": code for code in codes}
    if not wanted:
        raise SourceNotFoundError("no FLORES codes given")
    labels = labels or {}
    found: dict[str, tuple[str, list[tuple[int, str | None, str | None]]]] = {}
    with tarfile.open(archive, "r:*") as tar:
        for member in tar:
            base = member.name.rsplit("/", 1)[-1]
            if member.isfile() and base in wanted and f"/{split}/" in f"/{member.name}":
                data = tar.extractfile(member).read()
                lines = []
                for line_no, raw in enumerate(io.BytesIO(data), start=1):
                    raw = raw.rstrip(b"\r\n")
                    try:
                        lines.append((line_no, raw.decode("utf-8"), None))
                    except UnicodeDecodeError as exc:
                        lines.append((line_no, None, f"invalid UTF-8 at byte {exc.start}"))
                found[wanted[base]] = (f"{archive}:{member.name}", lines)
    missing = [code for code in wanted.values() if code not in found]
    if missing:
        raise SourceNotFoundError(f"{archive}: no {split} file for {', '.join(missing)}")
    ordered = [(code, *found[code]) for code in wanted.values()]
    _check_aligned({name: len(lines) for _, name, lines in ordered})
    return combine([_flores_rows(name, lines, labels.get(code, code), split, strict)
                    for code, name, lines in ordered])
