"""bf16 pre-training of the tiny base models (train/precision.py): matrix products in bf16, attention in fp32."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoModelForMaskedLM

from lingualift_core.model.tiny import tiny_encoder_config, tiny_llm_config
from lingualift_core.train import precision
from lingualift_core.train.precision import FP32_ATTENTION, bf16_autocast, resolve_precision
from lingualift_core.train.pretrain import pretrain_encoder_mlm, pretrain_llm_clm
from tests.test_pretrain import english, math, small_enc_cfg, small_llm_cfg, toy


def test_resolve_precision(monkeypatch):
    assert resolve_precision("fp32", "cuda", key="k") == "fp32"
    assert resolve_precision("bf16", "cpu", key="k") == "bf16"
    assert resolve_precision("auto", "cuda", key="k") == "bf16"
    for native in (True, False):
        monkeypatch.setattr(precision, "native_bf16", lambda native=native: native)
        assert resolve_precision("auto", "cpu", key="k") == ("bf16" if native else "fp32")
    with pytest.raises(ValueError, match="base_models.tiny.llm.precision.*'fp16'"):
        resolve_precision("fp16", "cpu", key="base_models.tiny.llm.precision")


@pytest.mark.parametrize("kind", ["llm", "encoder"])
def test_fp32_attention_equals_sdpa_and_is_restored(kind):
    torch.manual_seed(0)
    if kind == "llm":
        model = AutoModelForCausalLM.from_config(tiny_llm_config(50, hidden=32, layers=2, heads=2, max_positions=32))
    else:
        model = AutoModelForMaskedLM.from_config(tiny_encoder_config(50, hidden=32, layers=2, heads=2,
                                                                     max_positions=32))
    model.eval()
    ids = torch.randint(5, 50, (3, 9))
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0  # a padded row: the mask reaches the attention function
    with torch.no_grad():
        ref = model(input_ids=ids, attention_mask=mask).logits
        with bf16_autocast(model, True) as autocast:
            assert model.config._attn_implementation == FP32_ATTENTION
            plain = model(input_ids=ids, attention_mask=mask).logits  # no autocast: the fp32 path exactly
            with autocast():
                low = model(input_ids=ids, attention_mask=mask).logits
    assert model.config._attn_implementation == "sdpa"
    torch.testing.assert_close(plain, ref, rtol=0, atol=1e-6)
    assert low.dtype == torch.bfloat16 and not torch.equal(low.float(), ref)
    torch.testing.assert_close(low.float(), ref, rtol=0.05, atol=0.05)


def test_disabled_autocast_changes_nothing():
    model = AutoModelForCausalLM.from_config(tiny_llm_config(50, hidden=32, layers=1, heads=2, max_positions=32))
    with bf16_autocast(model, False) as autocast:
        assert model.config._attn_implementation == "sdpa"
        with autocast():
            assert not torch.is_autocast_enabled("cpu")


def test_bf16_pretraining_tracks_fp32_and_keeps_fp32_weights():
    """Both trainers: bf16 changes the numbers (autocast is on) but not the learning; weights stay fp32 and the
    saved model attends with plain SDPA."""
    from lingualift_core.model.tiny import train_tokenizer

    llm_texts, enc_texts = english(300) + math(100), english(300) + math(100) + toy(200)
    llm_tok = train_tokenizer(llm_texts, vocab_size=200, kind="llm")
    enc_tok = train_tokenizer(enc_texts, vocab_size=300, kind="encoder")

    def llm(bf16):
        return pretrain_llm_clm(llm_texts, llm_tok, small_llm_cfg(llm_tok), steps=30, batch_size=8, lr=3e-3,
                                seq_len=64, seed=0, copy_fraction=0.3, num_threads=1, bf16=bf16)

    def enc(bf16):
        return pretrain_encoder_mlm(enc_texts, enc_tok, small_enc_cfg(enc_tok), steps=30, batch_size=8, lr=3e-3,
                                    seq_len=32, seed=0, num_threads=1, bf16=bf16)

    for fn in (llm, enc):
        (m32, h32), (m16, h16) = fn(False), fn(True)
        assert m16.config._attn_implementation == "sdpa"
        assert all(p.dtype == torch.float32 for p in m16.parameters())
        assert h16[0]["loss"] != h32[0]["loss"]
        for a, b in zip(h32[-5:], h16[-5:]):
            assert abs(a["loss"] - b["loss"]) < 0.1 * a["loss"]
        assert sum(h["loss"] for h in h16[-5:]) < sum(h["loss"] for h in h16[:5]) - 1.0
