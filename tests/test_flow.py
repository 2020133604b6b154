"""Flow helpers: stage selection, parameter overrides, progress parsing and metrics tables (no server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.lingualift import apply_overrides, parse_overrides, select_stages
from lingualift_core.config import ConfigError, load_params
from tasks.dvc_stage import _PROGRESS, artifact_key, dvc_command, flatten, metrics_file

REPO = Path(__file__).resolve().parents[1]
ALL = ["prepare", "tokenize@en", "tokenize@qaa", "vocab", "lexicon@qaa"]


def test_select_stages_by_name_and_group() -> None:
    assert select_stages(ALL, None) == ALL
    assert select_stages(ALL, ["tokenize"]) == ["tokenize@en", "tokenize@qaa"]
    assert select_stages(ALL, ["vocab", "tokenize@qaa"]) == ["tokenize@qaa", "vocab"]
    with pytest.raises(ValueError, match="unknown stage 'tokenise'"):
        select_stages(ALL, ["tokenise"])


def test_overrides_are_validated_then_written_with_comments_kept(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text((REPO / "params.yaml").read_text())
    apply_overrides(params, parse_overrides(["tokenize.batch_size=500", "codeswitch.ratio=0.5"]))
    text = params.read_text()
    assert "# Embedded default" in text
    loaded = load_params(params)
    assert loaded.tokenize.batch_size == 500 and loaded.codeswitch.ratio == 0.5
    before = params.read_text()
    with pytest.raises(ConfigError, match="tokenize.batch_size: got 0"):
        apply_overrides(params, {"tokenize.batch_size": 0})
    with pytest.raises(ConfigError, match="unknown key 'tokenise'"):
        apply_overrides(params, {"tokenise.batch_size": 3})
    assert params.read_text() == before  # nothing written on failure
    with pytest.raises(ValueError, match="expected KEY=VALUE"):
        parse_overrides(["tokenize.batch_size"])


def test_progress_lines_and_artifact_keys() -> None:
    m = _PROGRESS.match("::progress:: tokenize@en 40/200")
    assert m and m.groups() == ("tokenize@en", "40", "200")
    assert _PROGRESS.match("progress 40/200") is None
    assert artifact_key("tokenize@qaa", "metrics") == "tokenize-qaa-metrics"
    assert metrics_file(Path("/r"), "tokenize@qaa") == Path("/r/data/metrics/tokenize_qaa.json")


def test_dvc_command_forces_single_stage_only() -> None:
    assert dvc_command("vocab", False)[1:] == ["repro", "vocab"]
    assert dvc_command("vocab", True)[1:] == ["repro", "--force", "--single-item", "vocab"]


def test_flatten_nested_metrics() -> None:
    rows = flatten({"a": 1, "b": {"c": 2.5, "d": [1, 2]}})
    assert rows == [{"metric": "a", "value": 1}, {"metric": "b.c", "value": 2.5}, {"metric": "b.d", "value": "[1, 2]"}]
