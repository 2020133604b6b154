"""Shared machinery of the loaders: load reports, malformed-row bookkeeping, text opening.

Every loader returns a :class:`LoadResult` ``(rows, report)``. A malformed row is never dropped silently:
it is counted in ``report.n_bad`` and described in ``report.bad_examples`` as ``(file, line_no, reason)``
(``line_no`` is 1-based; for hub rows it is the 1-based row index and ``file`` is ``hf:<id>/<config>/<split>``).
With ``strict=True`` the first malformed row raises :class:`MalformedRowError` naming ``file:line``.
A file that yields no valid row raises :class:`NoValidRowsError` naming the file.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

#: How many malformed-row examples a report keeps (``n_bad`` always counts them all).
MAX_BAD_EXAMPLES = 50


class SourceError(ValueError):
    """Base class of the loaders' errors; messages are one line."""


class MalformedRowError(SourceError):
    """A malformed row in strict mode; the message reads ``<file>:<line>: <reason>``."""

    def __init__(self, file: str, line_no: int, reason: str) -> None:
        self.file, self.line_no, self.reason = file, line_no, reason
        super().__init__(f"{file}:{line_no}: {reason}")


class NoValidRowsError(SourceError):
    """A file (or hub split) produced no valid row."""


class SourceNotFoundError(SourceError, FileNotFoundError):
    """An expected file or folder is missing."""


class HubLoadError(SourceError):
    """``datasets.load_dataset`` failed (no network, unknown id, ...); the message is one line."""


@dataclass
class LoadReport:
    """What a loader read.

    Attributes:
        n_ok: rows returned.
        n_bad: malformed rows skipped (all of them, even beyond the kept examples).
        bad_examples: up to ``MAX_BAD_EXAMPLES`` ``(file, line_no, reason)`` triples.
        n_skipped: rows skipped on purpose, not malformed (blank lines of a text corpus, filtered rows).
        files: the files read, in order.
    """

    n_ok: int = 0
    n_bad: int = 0
    bad_examples: list[tuple[str, int, str]] = field(default_factory=list)
    n_skipped: int = 0
    files: list[str] = field(default_factory=list)

    def merge(self, other: LoadReport) -> LoadReport:
        """Adds ``other``'s counts and examples into this report (in place) and returns it."""
        self.n_ok += other.n_ok
        self.n_bad += other.n_bad
        self.n_skipped += other.n_skipped
        room = MAX_BAD_EXAMPLES - len(self.bad_examples)
        if room > 0:
            self.bad_examples.extend(other.bad_examples[:room])
        self.files.extend(other.files)
        return self

    def summary(self) -> str:
        """One line: counts and the first malformed example, if any."""
        text = f"{self.n_ok} rows ok, {self.n_bad} malformed, {self.n_skipped} skipped from {len(self.files)} file(s)"
        if self.bad_examples:
            file, line_no, reason = self.bad_examples[0]
            text += f"; first malformed: {file}:{line_no}: {reason}"
        return text


class LoadResult(NamedTuple):
    """``(rows, report)``; rows are plain dicts with the columns the loader documents."""

    rows: list[dict[str, Any]]
    report: LoadReport


class RowCollector:
    """Collects the rows of one file: ``ok(row)``, ``bad(line_no, reason)``, then ``finish()``."""

    def __init__(self, file: str | Path, *, strict: bool = False) -> None:
        self.file = str(file)
        self.strict = strict
        self.rows: list[dict[str, Any]] = []
        self.report = LoadReport(files=[self.file])

    def ok(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        self.report.n_ok += 1

    def bad(self, line_no: int, reason: str) -> None:
        reason = " ".join(str(reason).split())  # keep it one line
        if self.strict:
            raise MalformedRowError(self.file, line_no, reason)
        self.report.n_bad += 1
        if len(self.report.bad_examples) < MAX_BAD_EXAMPLES:
            self.report.bad_examples.append((self.file, line_no, reason))

    def skip(self) -> None:
        self.report.n_skipped += 1

    def finish(self, *, allow_empty: bool = False) -> LoadResult:
        if not self.rows and not allow_empty:
            detail = f"; first problem: line {self.report.bad_examples[0][1]}: {self.report.bad_examples[0][2]}" \
                if self.report.bad_examples else ""
            raise NoValidRowsError(
                f"{self.file}: no valid rows ({self.report.n_bad} malformed, {self.report.n_skipped} skipped){detail}"
            )
        return LoadResult(self.rows, self.report)


def combine(results: list[LoadResult]) -> LoadResult:
    """Concatenates several results (e.g. one per language file) into one."""
    rows: list[dict[str, Any]] = []
    report = LoadReport()
    for result in results:
        rows.extend(result.rows)
        report.merge(result.report)
    return LoadResult(rows, report)


def require_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise SourceNotFoundError(f"{path}: file not found")
    return path


def require_dir(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_dir():
        raise SourceNotFoundError(f"{path}: folder not found")
    return path


def open_binary(path: str | Path):
    """Opens a file for binary reading, decompressing ``.xz``, ``.gz`` and ``.bz2`` by suffix."""
    path = require_file(path)
    suffix = path.suffix.lower()
    if suffix == ".xz":
        return lzma.open(path, "rb")
    if suffix == ".gz":
        return gzip.open(path, "rb")
    if suffix == ".bz2":
        return bz2.open(path, "rb")
    return open(path, "rb")


def iter_lines(path: str | Path) -> Iterator[tuple[int, str | None, str | None]]:
    """Yields ``(line_no, text, error)`` per line of a (possibly compressed) UTF-8 file.

    The line ending (``\\n``, ``\\r\\n``) is removed; a line that is not valid UTF-8 yields ``text=None`` and the
    decoding error as ``error``, so the caller can count it as malformed instead of failing the whole file.
    A leading UTF-8 byte-order mark is dropped.
    """
    with open_binary(path) as handle:
        for line_no, raw in enumerate(handle, start=1):
            if raw.endswith(b"\n"):
                raw = raw[:-1]
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            if line_no == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                yield line_no, raw.decode("utf-8"), None
            except UnicodeDecodeError as exc:
                yield line_no, None, f"invalid UTF-8 at byte {exc.start}"


def read_rows(lines: Iterable[tuple[int, str | None, str | None]], collector: RowCollector,
              to_row: Callable[[str, int], dict[str, Any]]) -> None:
    """Feeds `collector` one row per line of `lines` (`iter_lines` items): `to_row(text, line_no)` builds the row
    or raises ValueError, whose message becomes the line's reason; undecodable and empty lines are malformed."""
    for line_no, text, error in lines:
        if error or text is None:
            collector.bad(line_no, error or "unreadable line")
            continue
        if not text.strip():
            collector.bad(line_no, "empty line")
            continue
        try:
            collector.ok(to_row(text, line_no))
        except ValueError as exc:
            collector.bad(line_no, str(exc))


def read_jsonl(path: str | Path, collector: RowCollector, to_row: Callable[[Any, int], dict[str, Any]]) -> None:
    """`read_rows` over a JSON Lines file: `to_row(object, line_no)`; a line that is not JSON is malformed."""
    def parsed(text: str, line_no: int) -> dict[str, Any]:
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"invalid JSON: {exc.msg} at column {exc.colno}") from None
        return to_row(obj, line_no)

    read_rows(iter_lines(path), collector, parsed)


def parse_number(text: str) -> float:
    """Parses a gold answer: ``"2,125"``, ``"8.0"``, ``"-3"``, ``"3/4"``; raises ``ValueError`` otherwise.

    Commas are thousands separators (removed). A simple fraction ``a/b`` is divided out.
    """
    raw = text
    text = text.strip().replace("\u2212", "-")
    if not text:
        raise ValueError("empty answer")
    if "/" in text:
        num, _, den = text.partition("/")
        denominator = float(den.replace(",", ""))
        if denominator == 0:
            raise ValueError(f"zero denominator: {raw!r}")
        value = float(num.replace(",", "")) / denominator
    else:
        value = float(text.replace(",", ""))
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"not a finite number: {raw!r}")
    return value


def short(text: str, limit: int = 60) -> str:
    """The first ``limit`` characters of ``text`` for error messages, on one line."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
