"""Parquet artifacts with explicit schemas, atomic writes and run metadata.

Every artifact is a Parquet file whose Arrow schema carries `lingualift.schema` (its name) and
`lingualift.schema_version`. Writers go to a temporary name in the destination folder and rename at the
end, so a crash never leaves a half-written artifact under the final name; folders get a completion
marker last. Readers check the name, version and every column, and fail naming the file and the column.
Files stay plain Parquet: `datasets.load_dataset("parquet", data_files=...)` reads them.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

COMPLETE_MARKER = "_COMPLETE"
RUN_META = "run_meta.json"


class ArtifactError(ValueError):
    """An artifact is missing, incomplete, or does not match its schema."""


@dataclass(frozen=True)
class ArtifactSchema:
    """A named, versioned Arrow schema."""

    name: str
    version: int
    schema: pa.Schema

    def with_metadata(self) -> pa.Schema:
        return self.schema.with_metadata(
            {b"lingualift.schema": self.name.encode(), b"lingualift.schema_version": str(self.version).encode()}
        )

    @property
    def columns(self) -> list[str]:
        return self.schema.names


def _str_list() -> pa.DataType:
    return pa.list_(pa.string())


CORPUS = ArtifactSchema(
    "corpus", 1, pa.schema([("id", pa.string()), ("lang", pa.string()), ("text", pa.string())])
)
MATH = ArtifactSchema(
    "math",
    1,
    pa.schema(
        [
            ("id", pa.string()),
            ("lang", pa.string()),
            ("question", pa.string()),
            ("answer", pa.float64()),
            ("solution", pa.string()),
        ]
    ),
)
SFT = ArtifactSchema(
    "sft",
    1,
    pa.schema(
        [
            ("id", pa.string()),
            ("instruction", pa.string()),
            ("input", pa.string()),
            ("output", pa.string()),
            ("answer", pa.float64()),
        ]
    ),
)
LEXICON_PAIRS = ArtifactSchema(
    "lexicon_pairs", 1, pa.schema([("src", pa.string()), ("tgt", pa.string())])
)
PARALLEL = ArtifactSchema(
    "parallel",
    1,
    pa.schema([("id", pa.string()), ("src_lang", pa.string()), ("tgt_lang", pa.string()),
               ("src", pa.string()), ("tgt", pa.string())]),
)
TOKENIZED = ArtifactSchema(
    "tokenized",
    1,
    pa.schema(
        [
            ("id", pa.string()),
            ("tokens", _str_list()),
            ("whitespace", _str_list()),
            ("pos", _str_list()),
            ("ent_iob", _str_list()),
            ("ent_type", _str_list()),
            ("is_stop", pa.list_(pa.bool_())),
            ("like_num", pa.list_(pa.bool_())),
        ]
    ),
)
VOCAB = ArtifactSchema(
    "vocab",
    1,
    pa.schema(
        [
            ("word", pa.string()),
            ("count", pa.int64()),
            ("pos", pa.string()),
            ("exclude", pa.string()),
        ]
    ),
)


def conform(table: pa.Table, spec: ArtifactSchema, source: str) -> pa.Table:
    """Selects and casts `table`'s columns to `spec`; fails naming `source` and the first bad column."""
    columns = []
    for f in spec.schema:
        if f.name not in table.column_names:
            raise ArtifactError(f"{source}: missing column {f.name!r} (schema {spec.name} v{spec.version})")
        col = table.column(f.name)
        if col.type != f.type:
            try:
                col = col.cast(f.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise ArtifactError(
                    f"{source}: column {f.name!r} has type {col.type}, expected {f.type} "
                    f"(schema {spec.name} v{spec.version})"
                ) from None
        columns.append(col)
    return pa.Table.from_arrays(columns, schema=spec.with_metadata())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def tmp_sibling(path: Path, suffix: str = "") -> Path:
    """A new empty temporary file beside `path` (for an atomic rename onto it), with the permissions a plain
    `open` would give (mkstemp's are 0600: others could not read the artifact)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{suffix}", dir=path.parent)
    os.close(fd)
    os.chmod(name, 0o666 & ~_umask())
    return Path(name)


def write_table(path: str | Path, table: pa.Table, spec: ArtifactSchema) -> Path:
    """Writes `table` (conformed to `spec`) to `path` atomically."""
    path = Path(path)
    table = conform(table, spec, str(path))
    tmp = tmp_sibling(path)
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_rows(path: str | Path, rows: list[Mapping[str, Any]], spec: ArtifactSchema) -> Path:
    """Writes a list of dict rows (keys = the schema's columns) atomically."""
    source = str(path)
    for i, row in enumerate(rows[:1]):
        missing = [c for c in spec.columns if c not in row]
        if missing:
            raise ArtifactError(f"{source}: row {i} lacks column {missing[0]!r} (schema {spec.name})")
    table = pa.Table.from_pylist([{c: r[c] for c in spec.columns} for r in rows], schema=spec.schema)
    return write_table(path, table, spec)


class StreamWriter:
    """Writes record batches to a Parquet file; renames into place only when closed without error.

        with StreamWriter(path, TOKENIZED) as w:
            for batch in batches:
                w.write(batch)          # pa.RecordBatch or pa.Table with the schema's columns

    Rows are regrouped into row groups of `row_group_rows`, so the file's bytes depend on its content only,
    not on how the caller batched it (DVC then sees an unchanged output and skips downstream stages).
    """

    def __init__(self, path: str | Path, spec: ArtifactSchema, row_group_rows: int = 8192) -> None:
        self.path = Path(path)
        self.spec = spec
        self.rows = 0
        self.row_group_rows = row_group_rows
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self._tmp = tmp_sibling(self.path)
        self._writer = pq.ParquetWriter(self._tmp, spec.with_metadata(), compression="zstd")

    def write(self, batch: pa.RecordBatch | pa.Table) -> None:
        table = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
        table = conform(table, self.spec, str(self.path))
        self._pending.append(table)
        self._pending_rows += table.num_rows
        self.rows += table.num_rows
        if self._pending_rows >= self.row_group_rows:
            self._flush(final=False)

    def _flush(self, final: bool) -> None:
        table = pa.concat_tables(self._pending) if self._pending else None
        self._pending, self._pending_rows = [], 0
        if table is None:
            return
        full = table.num_rows - table.num_rows % self.row_group_rows if not final else table.num_rows
        if full:
            self._writer.write_table(table.slice(0, full), row_group_size=self.row_group_rows)
        if full < table.num_rows:
            self._pending, self._pending_rows = [table.slice(full)], table.num_rows - full

    def __enter__(self) -> StreamWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is None:
                self._flush(final=True)
        finally:
            self._writer.close()
        if exc_type is None:
            os.replace(self._tmp, self.path)
        self._tmp.unlink(missing_ok=True)


def _check_schema(path: Path, schema: pa.Schema, spec: ArtifactSchema) -> None:
    meta = schema.metadata or {}
    name = meta.get(b"lingualift.schema", b"").decode()
    version = meta.get(b"lingualift.schema_version", b"").decode()
    if name and name != spec.name:
        raise ArtifactError(f"{path}: is a {name!r} artifact, expected {spec.name!r}")
    if version and version != str(spec.version):
        raise ArtifactError(
            f"{path}: schema {spec.name} version {version}, this code reads version {spec.version}; "
            "rebuild it with `dvc repro`"
        )
    for f in spec.schema:
        if f.name not in schema.names:
            raise ArtifactError(f"{path}: missing column {f.name!r} (schema {spec.name} v{spec.version})")
        actual = schema.field(f.name).type
        if actual != f.type:
            raise ArtifactError(f"{path}: column {f.name!r} has type {actual}, expected {f.type}")


def _require_file(path: Path) -> None:
    if not path.is_file():
        raise ArtifactError(f"{path}: artifact not found; run the stage that writes it (`dvc repro`)")


def read_table(path: str | Path, spec: ArtifactSchema, columns: list[str] | None = None) -> pa.Table:
    """Reads a whole artifact, checking its schema; `columns` restricts what is loaded."""
    path = Path(path)
    _require_file(path)
    _check_schema(path, pq.read_schema(path), spec)
    return pq.read_table(path, columns=columns or spec.columns)


def iter_batches(path: str | Path, spec: ArtifactSchema, batch_size: int = 4096,
                 columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
    """Streams an artifact in record batches (memory stays flat), checking its schema first."""
    path = Path(path)
    _require_file(path)
    pf = pq.ParquetFile(path)
    _check_schema(path, pf.schema_arrow, spec)
    yield from pf.iter_batches(batch_size=batch_size, columns=columns or spec.columns)


def write_json(path: str | Path, obj: Any) -> Path:
    """Writes JSON atomically (sorted keys, so metrics diffs are stable)."""
    path = Path(path)
    tmp = tmp_sibling(path)
    try:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yields a temporary sibling folder; on success writes the completion marker and renames it to `path`.

    An existing `path` is replaced only after the new folder is complete.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp's 0700 would hide the artifact from other users
    try:
        yield tmp
        (tmp / COMPLETE_MARKER).write_text("ok\n", encoding="utf-8")
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def require_complete(path: str | Path) -> Path:
    """Fails unless `path` is a folder written completely by `atomic_dir`."""
    path = Path(path)
    if not (path / COMPLETE_MARKER).is_file():
        raise ArtifactError(f"{path}: folder is missing or incomplete (no {COMPLETE_MARKER}); rerun its stage")
    return path


_VERSIONED = ("lingualift", "torch", "transformers", "accelerate", "spacy", "pyarrow", "numpy",
              "faiss-cpu", "fasttext-numpy2", "tokenizers", "datasets", "peft", "dvc", "prefect")


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape results ('absent' when not installed)."""
    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def git_revision(cwd: str | Path | None = None) -> dict[str, Any]:
    """The current git commit and whether the work tree has uncommitted changes (None outside git)."""
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}
    return {"commit": rev.stdout.strip(), "dirty": bool(dirty.stdout.strip())}


# timings and host facts: kept out of run_meta.json (a tracked output must be a function of inputs and params only,
# or a rerun with identical results would make every downstream stage stale); they go to the metrics files
VOLATILE_KEYS = frozenset({"seconds", "cpu_seconds", "train_seconds", "recall_seconds", "tokens_per_s",
                           "tokens_per_second", "elapsed_s", "finished_at", "argv", "git", "host"})


def without_volatile(value: Any) -> Any:
    """`value` with every mapping key in `VOLATILE_KEYS` (or ending in `_seconds`) removed, recursively."""
    if isinstance(value, Mapping):
        return {k: without_volatile(v) for k, v in value.items()
                if not (isinstance(k, str) and (k in VOLATILE_KEYS or k.endswith("_seconds")))}
    if isinstance(value, (list, tuple)):
        return [without_volatile(v) for v in value]
    return value


def run_meta(stage: str, config: Mapping[str, Any], seed: int | None, extra: Mapping[str, Any] | None = None
             ) -> dict[str, Any]:
    """The metadata recorded beside every stage output: a function of the stage's params, inputs and package
    versions only (timings, timestamps and host facts: `run_record`, written to the metrics files)."""
    return {
        "stage": stage,
        "config": dict(config),
        "seed": seed,
        "versions": package_versions(),
        **(without_volatile(dict(extra)) if extra else {}),
    }


def run_record() -> dict[str, Any]:
    """When, where and from which commit a stage ran (volatile: for the metrics files, never for outputs)."""
    return {"git": git_revision(), "argv": sys.argv, "host": platform.node(),
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def write_run_meta(folder: str | Path, stage: str, config: Mapping[str, Any], seed: int | None,
                   extra: Mapping[str, Any] | None = None) -> Path:
    """Writes `run_meta.json` into `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return write_json(folder / RUN_META, run_meta(stage, config, seed, extra))
