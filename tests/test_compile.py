"""Regional torch.compile while training (`compile_layers`): same result as eager to float tolerance, eager again
afterwards, clear errors (tiny random models; the compiles take ~10-20 s each on the 2-core CPU)."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM

from model_builders import tiny_lingualift
from lingualift_core.model.tiny import tiny_llm_config
from lingualift_core.train import stage2_config, train
from lingualift_core.train.compile import check_compiler, compiled_blocks, repeated_blocks
from test_train import SMALL, _one_thread, records, snapshot  # noqa: F401 (_one_thread: an autouse fixture)


def _llm(seed: int = 0):
    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(tiny_llm_config(64, hidden=32, layers=2, heads=2, max_positions=64))


def test_repeated_blocks_are_the_decoder_layers():
    llm = _llm()
    assert repeated_blocks(llm) == list(llm.model.layers)
    with pytest.raises(ValueError, match="compile_layers: false"):
        repeated_blocks(torch.nn.Linear(2, 2))


def test_compiled_blocks_match_eager_and_restore_eager():
    llm = _llm()
    x = torch.randint(5, 64, (3, 11))
    eager = llm(input_ids=x).logits
    with compiled_blocks(llm, True, key="k") as n:
        assert n == 2 and all(b._compiled_call_impl is not None for b in llm.model.layers)
        compiled = llm(input_ids=x).logits
    assert all(b._compiled_call_impl is None for b in llm.model.layers)
    torch.testing.assert_close(compiled, eager, atol=1e-5, rtol=1e-5)
    assert torch.equal(llm(input_ids=x).logits, eager)  # eager kernels again: bit for bit
    with compiled_blocks(llm, False, key="k") as n:
        assert n == 0 and llm.model.layers[0]._compiled_call_impl is None


def test_missing_compiler_names_the_key(monkeypatch, tmp_path):
    monkeypatch.delenv("CXX", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="stage2.train.compile_layers: true needs a C\\+\\+ compiler"):
        check_compiler("stage2.train.compile_layers")


def test_training_with_compiled_layers_matches_eager():
    recs = records(12, seed=4)
    outs = []
    for compile_layers in (False, True):
        m = tiny_lingualift(seed=4)
        res = train(m, recs, stage2_config(max_steps=3, learning_rate=1e-3, compile_layers=compile_layers,
                                           precision="fp32", **SMALL))
        outs.append((snapshot(m), [h["loss"] for h in res.history]))
        assert all(b._compiled_call_impl is None for b in repeated_blocks(m.llm))
    assert outs[0][1] == pytest.approx(outs[1][1], abs=1e-4)
    changed = [n for n in outs[0][0] if not torch.equal(outs[0][0][n], outs[1][0][n])]
    for n in outs[0][0]:
        torch.testing.assert_close(outs[0][0][n], outs[1][0][n], atol=1e-4, rtol=1e-3)
    assert changed  # the compiled run really ran other kernels (else this test could not fail)


def test_compile_with_gradient_checkpointing_is_refused():
    with pytest.raises(ValueError, match="compile_layers and gradient_checkpointing together are untested"):
        stage2_config(compile_layers=True, gradient_checkpointing=True)
