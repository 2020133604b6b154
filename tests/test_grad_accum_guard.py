"""The training loop refuses accelerate's own gradient accumulation (it would divide the loss a second time)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from model_builders import tiny_lingualift
from lingualift_core.train import stage1_config, stage2_config, train
from lingualift_core.train.loop import ACCELERATE_ACCUMULATION_ENV, refuse_accelerate_accumulation

SMALL = dict(global_batch_size=4, micro_batch_size=2, log_every=0, max_steps=1)
RECORDS = [{"instruction": "w1", "input": "x1 x2", "output": "w3 w4"}] * 4


def test_env_var_is_the_one_accelerate_launch_exports() -> None:
    """``accelerate launch --gradient_accumulation_steps N`` exports exactly this variable."""
    from accelerate.utils import launch

    source = Path(launch.__file__).read_text(encoding="utf-8")
    assert f'current_env["{ACCELERATE_ACCUMULATION_ENV}"]' in source and "args.gradient_accumulation_steps" in source


@pytest.mark.parametrize("value", ["4", "2", "0", "auto"])
def test_train_refuses_accelerate_accumulation_from_the_launch(monkeypatch, value) -> None:
    monkeypatch.setenv(ACCELERATE_ACCUMULATION_ENV, value)
    with pytest.raises(ValueError) as err:
        train(tiny_lingualift(), RECORDS, stage2_config(**SMALL))
    message = str(err.value)
    assert "\n" not in message  # one line
    assert f"{ACCELERATE_ACCUMULATION_ENV}={value!r}" in message  # the setting
    assert "--gradient_accumulation_steps" in message
    assert "stage2.train.global_batch_size / stage2.train.micro_batch_size" in message  # the fix


def test_refused_before_the_accelerator_is_built(monkeypatch) -> None:
    """Checked on the environment first: accelerate itself would fail (or accept) the value later."""
    monkeypatch.setenv(ACCELERATE_ACCUMULATION_ENV, "8")
    with pytest.raises(ValueError, match="stage1.train.global_batch_size"):
        refuse_accelerate_accumulation(stage1_config(**SMALL))


def test_refuses_an_accelerator_configured_in_code(monkeypatch) -> None:
    monkeypatch.delenv(ACCELERATE_ACCUMULATION_ENV, raising=False)
    cfg = stage1_config(**SMALL)
    with pytest.raises(ValueError, match=r"Accelerator\(gradient_accumulation_steps=3\)"):
        refuse_accelerate_accumulation(cfg, SimpleNamespace(gradient_accumulation_steps=3))
    refuse_accelerate_accumulation(cfg, SimpleNamespace(gradient_accumulation_steps=1))


@pytest.mark.parametrize("value", [None, "1", " 1 "])
def test_accumulation_of_one_is_accepted(monkeypatch, value) -> None:
    if value is None:
        monkeypatch.delenv(ACCELERATE_ACCUMULATION_ENV, raising=False)
    else:
        monkeypatch.setenv(ACCELERATE_ACCUMULATION_ENV, value)
    refuse_accelerate_accumulation(stage1_config(**SMALL))


def test_a_run_with_accumulation_one_from_accelerate_trains(monkeypatch) -> None:
    """The loop's own accumulation (global 4 = micro 2 x 2) still runs when accelerate's is 1."""
    monkeypatch.setenv(ACCELERATE_ACCUMULATION_ENV, "1")
    result = train(tiny_lingualift(), RECORDS, stage2_config(**SMALL))
    assert result.accumulation_steps == 2 and result.steps == 1
