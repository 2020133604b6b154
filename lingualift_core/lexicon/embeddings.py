"""Monolingual word embeddings: fastText training, .vec/.bin loading, Arrow storage.

Storage format (chosen for zero-parse loading): one Arrow table per language,

    word    string                          the word (no whitespace)
    count   int64                           corpus frequency (0 when unknown, e.g. from a .vec file)
    vector  fixed_size_list<float32>[dim]   the vector

rows in descending frequency order (row 0 = most frequent word), with schema metadata
``schema_version`` = `EMBEDDINGS_SCHEMA_VERSION`, ``kind`` = ``lingualift.embeddings`` and ``dim``.
`write_embeddings` stores it as Parquet (``.parquet``, readable with ``datasets.load_dataset("parquet")``; the
vector column is written uncompressed and without dictionary encoding, so reading is a memory copy) or as an
Arrow IPC file (``.arrow`` / ``.feather``, memory-mapped: loading is zero-copy). `embeddings_from_table` turns
the ``vector`` column into an (n, dim) float32 matrix without parsing text and without copying when the column
is a single chunk.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from lingualift_core.artifacts import tmp_sibling

from .errors import LexiconError

log = logging.getLogger(__name__)

EMBEDDINGS_SCHEMA_VERSION = "1"
EMBEDDINGS_KIND = "lingualift.embeddings"
#: fastText's end-of-sentence token; it is not a word and is dropped from trained/loaded vocabularies.
EOS_TOKEN = "</s>"


def embeddings_schema(dim: int) -> pa.Schema:
    """The Arrow schema of an embeddings table of dimension `dim`."""
    return pa.schema(
        [
            pa.field("word", pa.string(), nullable=False),
            pa.field("count", pa.int64(), nullable=False),
            pa.field("vector", pa.list_(pa.field("item", pa.float32(), nullable=False), dim), nullable=False),
        ],
        metadata={
            "schema_version": EMBEDDINGS_SCHEMA_VERSION,
            "kind": EMBEDDINGS_KIND,
            "dim": str(dim),
        },
    )


@dataclass(frozen=True, eq=False)
class Embeddings:
    """Word vectors of one language, most frequent word first.

    Validated on construction: `vectors` is a finite (n, dim) float32 matrix, `counts` an (n,) int64 array,
    words are unique non-empty strings without whitespace. `name` is only used in messages.
    """

    words: list[str]
    counts: np.ndarray
    vectors: np.ndarray
    name: str = "embeddings"

    def __post_init__(self) -> None:
        words = list(self.words)
        vectors = np.ascontiguousarray(self.vectors, dtype=np.float32)
        counts = np.ascontiguousarray(self.counts, dtype=np.int64)
        object.__setattr__(self, "words", words)
        object.__setattr__(self, "vectors", vectors)
        object.__setattr__(self, "counts", counts)
        nm = self.name
        if vectors.ndim != 2:
            raise LexiconError(f"{nm}: vectors must be a 2-D (words, dim) matrix, got shape {vectors.shape}")
        if vectors.shape[1] < 1:
            raise LexiconError(f"{nm}: vectors have dimension 0")
        if len(words) != vectors.shape[0] or counts.shape != (len(words),):
            raise LexiconError(
                f"{nm}: {len(words)} words, {vectors.shape[0]} vectors and {counts.shape} counts do not match"
            )
        bad = ~np.isfinite(vectors).all(axis=1)
        if bad.any():
            row = int(np.argmax(bad))
            raise LexiconError(
                f"{nm}: {int(bad.sum())} vectors contain NaN or inf (first: {words[row]!r} at row {row})"
            )
        for i, w in enumerate(words):
            if not isinstance(w, str) or not w or len(w.split()) != 1 or w.split()[0] != w:
                raise LexiconError(f"{nm}: word at row {i} is empty, not a string or contains whitespace: {w!r}")
        if len(set(words)) != len(words):
            seen: set[str] = set()
            for i, w in enumerate(words):
                if w in seen:
                    raise LexiconError(f"{nm}: duplicate word {w!r} (second occurrence at row {i})")
                seen.add(w)

    def __len__(self) -> int:
        return len(self.words)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @cached_property
    def index(self) -> dict[str, int]:
        """word -> row."""
        return {w: i for i, w in enumerate(self.words)}

    def top(self, n: int) -> "Embeddings":
        """The `n` most frequent words (rows are already in frequency order)."""
        n = max(0, int(n))
        return Embeddings(self.words[:n], self.counts[:n], self.vectors[:n], name=self.name)


def _check_pair(src: Embeddings, tgt: Embeddings) -> None:
    if src.dim != tgt.dim:
        raise LexiconError(
            f"dimension mismatch: {src.name} has dim {src.dim}, {tgt.name} has dim {tgt.dim} "
            "(both languages need vectors of the same size)"
        )


# ---------------------------------------------------------------------------------------------- fastText


def _keep_top(words: list[str], counts: np.ndarray, max_words: int | None) -> np.ndarray:
    """Row ids of the top `max_words` non-EOS words, most frequent first (stable for ties)."""
    ids = np.array([i for i, w in enumerate(words) if w != EOS_TOKEN], dtype=np.int64)
    order = ids[np.argsort(-counts[ids], kind="stable")]
    if max_words is not None:
        order = order[: int(max_words)]
    return order


def train_fasttext(
    sentences: Iterable[Sequence[str]],
    *,
    dim: int = 300,
    epochs: int = 5,
    min_count: int = 5,
    threads: int = 1,
    seed: int = 0,
    max_words: int | None = 200_000,
    name: str = "embeddings",
    **fasttext_options: Any,
) -> Embeddings:
    """Train fastText skipgram vectors on tokenized sentences and keep the `max_words` most frequent words.

    `sentences` is an iterable of token lists; it is written to a temporary text file, one sentence per line,
    for fastText (which splits on whitespace: empty tokens vanish, a token with inner whitespace becomes
    several words). Other fastText options (``lr``, ``ws``, ``neg``, ``minn``, ``maxn``, ...) pass through
    `fasttext_options`; their defaults are fastText's. Vectors are
    ``get_word_vector`` (word + subword n-grams, as in fastText's .vec output). fastText is deterministic only
    with ``threads=1``. MUSE used 300-dim fastText Wikipedia vectors and their top 200k words.
    """
    for key, value in (("dim", dim), ("epochs", epochs), ("threads", threads)):
        if int(value) < 1:
            raise LexiconError(f"train_fasttext: {key} must be >= 1, got {value}")
    if int(min_count) < 1:
        raise LexiconError(f"train_fasttext: min_count must be >= 1, got {min_count}")
    fd, tmp = tempfile.mkstemp(prefix="lingualift-fasttext-", suffix=".txt")
    n_tokens = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for sentence in sentences:
                if isinstance(sentence, str):
                    raise LexiconError("train_fasttext: sentences must be token lists, got a string")
                # fastText splits on whitespace: a token with inner whitespace becomes several words,
                # and a newline inside a token must not end the sentence.
                tokens = [part for t in sentence for part in str(t).split()]
                if tokens:
                    fh.write(" ".join(tokens))
                    fh.write("\n")
                    n_tokens += len(tokens)
        if n_tokens == 0:
            raise LexiconError("train_fasttext: the corpus is empty (no tokens)")
        options = {
            "verbose": 0,
            **fasttext_options,
            "input": tmp,
            "model": "skipgram",
            "dim": int(dim),
            "epoch": int(epochs),
            "minCount": int(min_count),
            "thread": int(threads),
        }
        try:
            model = _train_unsupervised(options, int(seed))
        except RuntimeError as exc:  # fastText: "Empty vocabulary. Try a smaller -minCount value."
            raise LexiconError(f"train_fasttext: fastText failed: {str(exc).strip()}") from exc
    finally:
        os.unlink(tmp)
    return _from_fasttext_model(model, max_words, name)


def _train_unsupervised(options: dict[str, Any], seed: int) -> Any:
    """fasttext.train_unsupervised with a seed: the Python wrapper only accepts ``seed`` for supervised
    training (its unsupervised argument list lacks it, the C++ trainer has it), so build the arguments the
    way the wrapper does and add the seed; fall back to the public call (fastText's seed 0) if the private
    helpers ever move."""
    import fasttext  # provided by the fasttext-numpy2 wheel
    from fasttext import FastText as ft_mod

    try:
        read_args, build, wrapper = ft_mod.read_args, ft_mod._build_args, ft_mod._FastText
        defaults = ft_mod.unsupervised_default
        trainer = ft_mod.fasttext.train  # the fasttext_pybind module
    except AttributeError:  # pragma: no cover - depends on the fasttext wheel
        return fasttext.train_unsupervised(**options)
    names = list(defaults)
    args, manual = read_args([], {**options, "seed": seed}, names + ["input"], defaults)
    a = build(args, manual)
    model = wrapper(args=a)
    trainer(model.f, a)
    model.set_args(model.f.getArgs())
    return model


def _from_fasttext_model(model: Any, max_words: int | None, name: str) -> Embeddings:
    words, freqs = model.get_words(include_freq=True)
    words = list(words)
    counts = np.asarray(freqs, dtype=np.int64)
    keep = _keep_top(words, counts, max_words)
    if len(keep) == 0:
        raise LexiconError(f"{name}: fastText vocabulary is empty (lower min_count or give more text)")
    vectors = np.empty((len(keep), model.get_dimension()), dtype=np.float32)
    for row, i in enumerate(keep):
        vectors[row] = model.get_word_vector(words[i])
    return Embeddings([words[i] for i in keep], counts[keep], vectors, name=name)


# ----------------------------------------------------------------------------------------- .vec / .bin


def load_vectors(
    path: str | os.PathLike[str],
    max_words: int | None = 200_000,
    *,
    name: str | None = None,
    on_duplicate: str = "error",
) -> Embeddings:
    """Load pretrained vectors: fastText ``.bin`` (with counts) or ``.vec`` text (header line optional).

    A ``.vec`` file is taken to be in frequency order (as fastText writes it) and gets counts 0. Only the
    first `max_words` words are read; ``</s>`` and tokens with inner whitespace (e.g. a no-break space, found
    in some published files) are skipped. `on_duplicate`: ``"error"`` (default) or ``"keep_first"`` (MUSE skips
    repeated words with a warning; some published .vec files have a few).
    """
    path = Path(path)
    name = name or path.name
    if on_duplicate not in ("error", "keep_first"):
        raise LexiconError(f"on_duplicate must be 'error' or 'keep_first', got {on_duplicate!r}")
    if not path.is_file():
        raise LexiconError(f"{name}: vector file not found: {path}")
    if path.suffix == ".bin":
        import fasttext

        try:
            model = fasttext.load_model(str(path))
        except ValueError as exc:
            raise LexiconError(f"{name}: not a fastText .bin model: {str(exc).strip()}") from exc
        return _from_fasttext_model(model, max_words, name)
    return _load_vec(path, max_words, name, on_duplicate)


def _load_vec(path: Path, max_words: int | None, name: str, on_duplicate: str) -> Embeddings:
    """Errors name the file and the line as an editor counts them (1-based, the header is line 1)."""
    words: list[str] = []
    lines: list[int] = []  # file line of each kept word
    seen: set[str] = set()
    chunks: list[np.ndarray] = []
    pending: list[str] = []
    dim: int | None = None
    header: int | None = None
    entries = 0  # word lines seen (kept or skipped), to check the header's count
    skipped_space = 0
    limit = None if max_words is None else int(max_words)
    complete = True

    def flush() -> None:
        if pending:
            try:
                flat = np.array(" ".join(pending).split(), dtype=np.float32)
            except ValueError:
                first = len(lines) - len(pending)
                for i, row in enumerate(pending):  # the slow path, only to name the line
                    try:
                        np.array(row.split(), dtype=np.float32)
                    except ValueError:
                        raise LexiconError(f"{path}: line {lines[first + i]}: non-numeric vector value in the "
                                           f"vector of {words[first + i]!r}") from None
                raise
            chunks.append(flat.reshape(len(pending), dim))
            pending.clear()

    line_no = 0
    with open(path, encoding="utf-8", errors="strict") as fh:
        for line_no, line in enumerate(fh, start=1):
            parts = line.rstrip("\r\n").rstrip(" ").split(" ")
            if line_no == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                header, dim = int(parts[0]), int(parts[1])
                continue
            if len(parts) == 1 and not parts[0].strip():
                continue
            entries += 1
            if dim is None:
                dim = len(parts) - 1
                if dim < 1:
                    raise LexiconError(f"{path}: line {line_no} has a word but no vector values")
            if len(parts) != dim + 1:
                raise LexiconError(
                    f"{path}: line {line_no} has {len(parts) - 1} values, expected {dim} "
                    "(a .vec line is a word followed by its values, separated by single spaces)"
                )
            word = parts[0]
            if word == EOS_TOKEN:
                continue
            if len(word.split()) != 1 or word.split()[0] != word:
                skipped_space += 1  # e.g. a no-break space inside a token: not a usable word
                continue
            if word in seen:
                if on_duplicate == "keep_first":
                    continue
                raise LexiconError(f"{path}: line {line_no}: duplicate word {word!r}")
            seen.add(word)
            words.append(word)
            lines.append(line_no)
            pending.append(" ".join(parts[1:]))
            if len(pending) >= 10_000:
                flush()
            if limit is not None and len(words) >= limit:
                complete = fh.readline() == ""
                break
    flush()
    if header is not None and complete and entries != header:
        raise LexiconError(f"{path}: the header (line 1) says {header} words, the file has {entries} word lines; "
                           "fix the header or the file (a truncated download?)")
    if skipped_space:
        log.warning("%s: skipped %d words containing whitespace", name, skipped_space)
    if not words:
        raise LexiconError(f"{name}: no vectors in {path}")
    vectors = np.concatenate(chunks) if len(chunks) > 1 else chunks[0]
    bad = np.flatnonzero(~np.isfinite(vectors).all(axis=1))
    if bad.size:
        raise LexiconError(f"{path}: line {lines[bad[0]]}: the vector of {words[bad[0]]!r} contains NaN or inf "
                           f"({bad.size} such lines)")
    return Embeddings(words, np.zeros(len(words), dtype=np.int64), vectors, name=name)


# ------------------------------------------------------------------------------------------------ Arrow


def embeddings_to_table(emb: Embeddings) -> pa.Table:
    """Arrow table (word, count, vector) with the schema of `embeddings_schema` (no copy of the vectors)."""
    schema = embeddings_schema(emb.dim)
    values = pa.array(emb.vectors.reshape(-1), type=pa.float32())
    vectors = pa.FixedSizeListArray.from_arrays(values, emb.dim)
    return pa.Table.from_arrays(
        [pa.array(emb.words, type=pa.string()), pa.array(emb.counts, type=pa.int64()), vectors.cast(schema.field("vector").type)],
        schema=schema,
    )


def embeddings_from_table(table: pa.Table, *, name: str = "embeddings") -> Embeddings:
    """Inverse of `embeddings_to_table`; zero-copy for the vectors when the column is one chunk."""
    missing = {"word", "count", "vector"} - set(table.column_names)
    if missing:
        raise LexiconError(f"{name}: embeddings table lacks columns {sorted(missing)}")
    version = (table.schema.metadata or {}).get(b"schema_version")
    if version is not None and version.decode() != EMBEDDINGS_SCHEMA_VERSION:
        raise LexiconError(
            f"{name}: embeddings schema_version {version.decode()}, this library reads {EMBEDDINGS_SCHEMA_VERSION}"
        )
    col = table.column("vector")
    if not pa.types.is_fixed_size_list(col.type):
        raise LexiconError(f"{name}: column 'vector' must be fixed_size_list<float32>, got {col.type}")
    dim = col.type.list_size
    arr = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    if arr.null_count:
        raise LexiconError(f"{name}: column 'vector' has {arr.null_count} nulls")
    flat = arr.values.slice(arr.offset * dim, len(arr) * dim)
    if flat.type != pa.float32():
        flat = flat.cast(pa.float32())
    vectors = flat.to_numpy(zero_copy_only=False).reshape(len(arr), dim)
    words = table.column("word").to_pylist()
    counts = table.column("count").to_numpy().astype(np.int64, copy=False)
    return Embeddings(words, counts, vectors, name=name)


def write_embeddings(emb: Embeddings, path: str | os.PathLike[str]) -> Path:
    """Write atomically (temporary file, then rename) as Parquet (``.parquet``) or Arrow IPC (``.arrow``/``.feather``)."""
    path = Path(path)
    table = embeddings_to_table(emb)
    tmp = str(tmp_sibling(path))
    try:
        if path.suffix in (".arrow", ".feather", ".ipc"):
            with pa.OSFile(tmp, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table, max_chunksize=max(1, len(emb)))
        elif path.suffix == ".parquet":
            pq.write_table(
                table,
                tmp,
                compression={"word": "zstd", "count": "zstd", "vector": "none"},
                use_dictionary=["word"],
                row_group_size=max(1, len(emb)),
            )
        else:
            raise LexiconError(f"write_embeddings: unknown suffix {path.suffix!r} (use .parquet or .arrow)")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def read_embeddings(path: str | os.PathLike[str], *, name: str | None = None) -> Embeddings:
    """Read a file written by `write_embeddings` (Arrow IPC is memory-mapped: no parse, no copy)."""
    path = Path(path)
    name = name or path.stem
    if not path.is_file():
        raise LexiconError(f"{name}: embeddings file not found: {path}")
    if path.suffix in (".arrow", ".feather", ".ipc"):
        table = pa.ipc.open_file(pa.memory_map(str(path), "r")).read_all()
    else:
        table = pq.read_table(path, memory_map=True)
    return embeddings_from_table(table, name=name)
