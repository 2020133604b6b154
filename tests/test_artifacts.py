"""Artifacts: schema'd Parquet round trips, atomic writes, folder markers, clear errors, run metadata."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lingualift_core import artifacts
from lingualift_core.artifacts import CORPUS, TOKENIZED, ArtifactError


def corpus_rows(n: int) -> list[dict]:
    return [{"id": f"s{i}", "lang": "en", "text": f"sentence {i}"} for i in range(n)]


def test_round_trip_keeps_schema_and_version(tmp_path: Path) -> None:
    path = artifacts.write_rows(tmp_path / "c.parquet", corpus_rows(5), CORPUS)
    table = artifacts.read_table(path, CORPUS)
    assert table.column("text").to_pylist() == [f"sentence {i}" for i in range(5)]
    meta = pq.read_schema(path).metadata
    assert meta[b"lingualift.schema"] == b"corpus" and meta[b"lingualift.schema_version"] == b"1"


def test_readable_with_datasets(tmp_path: Path) -> None:
    import datasets

    path = artifacts.write_rows(tmp_path / "c.parquet", corpus_rows(3), CORPUS)
    ds = datasets.load_dataset("parquet", data_files=str(path), split="train", cache_dir=str(tmp_path / "hf"))
    assert ds["id"] == ["s0", "s1", "s2"]


def test_missing_column_names_file_and_column(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"id": ["a"], "lang": ["en"]}), path)
    with pytest.raises(ArtifactError, match=r"x.parquet: missing column 'text'"):
        artifacts.read_table(path, CORPUS)
    with pytest.raises(ArtifactError, match=r"row 0 lacks column 'text'"):
        artifacts.write_rows(tmp_path / "y.parquet", [{"id": "a", "lang": "en"}], CORPUS)


def test_wrong_type_and_wrong_schema_name(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"id": [1], "lang": ["en"], "text": [["a"]]}), path)
    with pytest.raises(ArtifactError, match=r"column 'id' has type int64, expected string"):
        artifacts.read_table(path, CORPUS)
    good = artifacts.write_rows(tmp_path / "c.parquet", corpus_rows(1), CORPUS)
    with pytest.raises(ArtifactError, match="is a 'corpus' artifact, expected 'tokenized'"):
        artifacts.read_table(good, TOKENIZED)


def test_missing_file_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="artifact not found; run the stage"):
        artifacts.read_table(tmp_path / "nope.parquet", CORPUS)


def test_stream_writer_leaves_nothing_on_error(tmp_path: Path) -> None:
    path = tmp_path / "s.parquet"
    batch = pa.RecordBatch.from_pylist(corpus_rows(2))
    with pytest.raises(RuntimeError, match="boom"):
        with artifacts.StreamWriter(path, CORPUS) as w:
            w.write(batch)
            raise RuntimeError("boom")
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []
    with artifacts.StreamWriter(path, CORPUS) as w:
        w.write(batch)
        w.write(batch)
    assert artifacts.read_table(path, CORPUS).num_rows == 4
    assert [b.num_rows for b in artifacts.iter_batches(path, CORPUS, batch_size=3)] == [3, 1]


def test_stream_writer_bytes_do_not_depend_on_batching(tmp_path: Path) -> None:
    rows = corpus_rows(50)
    for name, size in (("a", 1), ("b", 7), ("c", 50)):
        with artifacts.StreamWriter(tmp_path / f"{name}.parquet", CORPUS, row_group_rows=16) as w:
            for start in range(0, 50, size):
                w.write(pa.RecordBatch.from_pylist(rows[start:start + size]))
    data = {(tmp_path / f"{n}.parquet").read_bytes() for n in "abc"}
    assert len(data) == 1
    assert pq.ParquetFile(tmp_path / "a.parquet").metadata.num_row_groups == 4


def test_atomic_write_keeps_old_file_on_failure(tmp_path: Path) -> None:
    path = artifacts.write_rows(tmp_path / "c.parquet", corpus_rows(2), CORPUS)
    with pytest.raises(ArtifactError):
        artifacts.write_table(path, pa.table({"id": ["z"]}), CORPUS)
    assert artifacts.read_table(path, CORPUS).num_rows == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.parquet"]


def test_atomic_dir_marker_and_cleanup(tmp_path: Path) -> None:
    target = tmp_path / "model"
    with pytest.raises(RuntimeError):
        with artifacts.atomic_dir(target) as d:
            (d / "w.txt").write_text("partial")
            raise RuntimeError("killed")
    assert not target.exists() and list(tmp_path.iterdir()) == []
    with pytest.raises(ArtifactError, match="incomplete"):
        artifacts.require_complete(target)
    with artifacts.atomic_dir(target) as d:
        (d / "w.txt").write_text("done")
    assert artifacts.require_complete(target) == target
    assert (target / artifacts.COMPLETE_MARKER).is_file()


def test_run_meta_records_config_seed_versions_and_nothing_volatile(tmp_path: Path) -> None:
    extra = {"metrics": {"loss": 0.5, "seconds": 3.2, "recall_seconds": 1.0, "per_lang": [{"tokens_per_s": 9.0, "n": 2}]}}
    path = artifacts.write_run_meta(tmp_path, "tokenize@en", {"tokenize": {"batch_size": 3}}, 7, extra)
    first = path.read_bytes()
    meta = json.loads(first)
    assert meta["stage"] == "tokenize@en" and meta["seed"] == 7
    assert meta["config"] == {"tokenize": {"batch_size": 3}}
    assert meta["versions"]["pyarrow"] == pa.__version__
    assert meta["metrics"] == {"loss": 0.5, "per_lang": [{"n": 2}]}
    assert not {"git", "argv", "finished_at"} & set(meta)
    # a rerun with the same results writes the same bytes (downstream stages stay up to date)
    extra["metrics"]["seconds"] = 99.0
    assert artifacts.write_run_meta(tmp_path, "tokenize@en", {"tokenize": {"batch_size": 3}}, 7, extra).read_bytes() == first
    record = artifacts.run_record()
    assert set(record["git"]) == {"commit", "dirty"} and record["finished_at"].endswith("Z")


def test_artifacts_are_readable_by_others(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        spec = artifacts.ArtifactSchema("t", 1, pa.schema([("x", pa.int64())]))
        table = artifacts.write_table(tmp_path / "t.parquet", pa.table({"x": [1]}), spec)
        with artifacts.atomic_dir(tmp_path / "folder") as out:
            artifacts.write_json(out / "m.json", {"a": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE(table.stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "folder").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "folder" / "m.json").stat().st_mode) == 0o644


def test_setup_logging_quiets_library_chatter(monkeypatch) -> None:
    import logging

    from lingualift_core.stages.common import setup_logging

    monkeypatch.delenv("LINGUALIFT_DEBUG", raising=False)
    monkeypatch.delenv("HF_HUB_DISABLE_PROGRESS_BARS", raising=False)  # restored afterwards
    setup_logging()
    for name in ("faiss.loader", "httpx"):  # "Could not load library with AVX512 support", one line per serve poll
        assert not logging.getLogger(name).isEnabledFor(logging.INFO)
    assert logging.getLogger("lingualift.tokenize").isEnabledFor(logging.INFO)
    assert os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1"
    monkeypatch.setenv("RANK", "1")  # a second process of a data-parallel launch logs warnings only
    setup_logging()
    assert not logging.getLogger("lingualift.train").isEnabledFor(logging.INFO)
    monkeypatch.setenv("RANK", "0")
    setup_logging()
    assert logging.getLogger("lingualift.train").isEnabledFor(logging.INFO)
