"""Flow helpers: stage selection, parameter overrides, progress parsing and metrics tables (no server)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from flows.lingualift import parse_overrides, select_stages
from lingualift_core.config import ConfigError, load_params
from lingualift_core.profiles import check_no_pending_overrides, overridden_params, override_backup
from tasks.dvc_stage import _PROGRESS, artifact_key, dvc_command, flatten, metrics_file

REPO = Path(__file__).resolve().parents[1]
ALL = ["prepare", "tokenize@en", "tokenize@qaa", "vocab", "lexicon@qaa"]


def test_select_stages_by_name_and_group() -> None:
    assert select_stages(ALL, None) == ALL
    assert select_stages(ALL, ["tokenize"]) == ["tokenize@en", "tokenize@qaa"]
    assert select_stages(ALL, ["vocab", "tokenize@qaa"]) == ["tokenize@qaa", "vocab"]
    with pytest.raises(ValueError, match="unknown stage 'tokenise'"):
        select_stages(ALL, ["tokenise"])


def test_overrides_hold_inside_the_run_and_params_yaml_comes_back(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    original = (REPO / "params.yaml").read_text()
    params.write_text(original)
    with overridden_params(params, parse_overrides(["tokenize.batch_size=500", "codeswitch.ratio=0.5"])):
        assert "# Embedded default" in params.read_text()  # comments kept
        loaded = load_params(params)
        assert loaded.tokenize.batch_size == 500 and loaded.codeswitch.ratio == 0.5
    assert params.read_text() == original
    with pytest.raises(RuntimeError, match="a stage failed"), overridden_params(params, {"tokenize.batch_size": 7}):
        raise RuntimeError("a stage failed")
    assert params.read_text() == original and not override_backup(params).exists()
    with pytest.raises(ConfigError, match="tokenize.batch_size: got 0"):
        with overridden_params(params, {"tokenize.batch_size": 0}):
            pass
    with pytest.raises(ConfigError, match="tokenise: unknown key"):
        with overridden_params(params, {"tokenise.batch_size": 3}):
            pass
    assert params.read_text() == original
    with pytest.raises(ValueError, match="expected KEY=VALUE"):
        parse_overrides(["tokenize.batch_size"])


def test_a_terminated_run_restores_params_and_a_killed_one_is_caught(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    original = (REPO / "params.yaml").read_text()
    params.write_text(original)
    code = ("import os, signal, sys, time; from pathlib import Path; "
            "from lingualift_core.profiles import overridden_params; "
            "cm = overridden_params(Path(sys.argv[1]), {'tokenize.batch_size': 9}); cm.__enter__(); "
            "print('in', flush=True); os.kill(os.getpid(), signal.SIG%s); time.sleep(30)")
    for sig, restored in (("TERM", True), ("KILL", False)):
        done = subprocess.run([sys.executable, "-c", code % sig, str(params)], capture_output=True, text=True,
                              timeout=60)
        assert done.stdout.strip() == "in"
        assert (params.read_text() == original) is restored, sig
    assert load_params(params).tokenize.batch_size == 9  # the killed run left its override in place
    with pytest.raises(FileExistsError, match=r"killed before it restored the file.*mv "):
        with overridden_params(params, {}):
            pass
    with pytest.raises(FileExistsError, match="killed before it restored"):  # every stage stops too
        check_no_pending_overrides(params)
    override_backup(params).replace(params)
    assert params.read_text() == original


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
