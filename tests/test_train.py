"""Training loop: trainable sets, frozen parts, accumulation, resume, overfitting, errors (tiny random models)."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
import torch

from model_builders import tiny_lingualift
from lingualift_core.model.batching import SEG_ENC
from lingualift_core.train import (
    ConfigMismatchError,
    TrainConfig,
    apply_trainable,
    list_checkpoints,
    lr_lambda_factory,
    mono_sft_config,
    plan_padding_waste,
    reconstruction_recall,
    stage1_config,
    stage2_config,
    token_recall,
    train,
)

WORDS = [f"w{i}" for i in range(101)] + [f"x{i}" for i in range(61)]


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def records(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        k = rng.randint(1, 10)
        xs = [rng.randint(0, 60) for _ in range(k)]
        out.append({"instruction": "w1 w2", "input": " ".join(f"x{i}" for i in xs), "output": " ".join(f"w{i}" for i in xs)})
    return out


def snapshot(model) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in model.named_parameters()}


def changed(before, model) -> set[str]:
    return {n for n, p in model.named_parameters() if not torch.equal(before[n], p.detach())}


SMALL = dict(global_batch_size=8, micro_batch_size=4, log_every=0)


# ---------------------------------------------------------------- trainable sets
def test_trainable_sets_per_stage():
    m = tiny_lingualift()
    s1 = set(apply_trainable(m, stage1_config(**SMALL)))
    assert s1 == {"enc_start", "enc_end", "alignment.net.0.weight", "alignment.net.0.bias", "alignment.net.2.weight", "alignment.net.2.bias"}
    assert not m.llm.lm_head.weight.requires_grad and not m.llm.get_input_embeddings().weight.requires_grad
    s2 = set(apply_trainable(m, stage2_config(**SMALL)))
    assert s2 == {n for n, _ in m.named_parameters() if n.startswith("llm.")}
    assert "llm.lm_head.weight" in s2 and "llm.model.embed_tokens.weight" in s2
    mono = tiny_lingualift(encoder=None, llm_words=WORDS)
    assert set(apply_trainable(mono, mono_sft_config(**SMALL))) == {n for n, _ in mono.named_parameters()}
    with pytest.raises(ValueError, match="no encoder"):
        apply_trainable(mono, stage1_config(**SMALL))
    lora = tiny_lingualift()
    s_lora = set(apply_trainable(lora, stage2_config(lora=True, lora_target_modules=("q_proj", "v_proj"), **SMALL)))
    assert s_lora and all("lora_" in n for n in s_lora)


@pytest.mark.parametrize("stage", ["stage1", "stage2", "lora"])
def test_only_intended_parameters_change(stage):
    m = tiny_lingualift(seed=1)
    recs = records(8, seed=1)
    if stage == "stage1":
        cfg = stage1_config(max_steps=1, **SMALL)
    elif stage == "stage2":
        cfg = stage2_config(max_steps=1, warmup_ratio=0.0, learning_rate=1e-3, **SMALL)
    else:
        cfg = stage2_config(max_steps=1, warmup_ratio=0.0, learning_rate=1e-3, lora=True, **SMALL)
        m.apply_lora(target_modules=("q_proj", "v_proj"))
        torch.nn.init.normal_(m.llm.base_model.model.model.layers[0].self_attn.q_proj.lora_B.default.weight, std=0.01)
    before = snapshot(m)
    res = train(m, recs, cfg)
    diff = changed(before, m)
    assert diff == set(res.trainable_parameters) or diff <= set(res.trainable_parameters)
    assert diff, "nothing changed"
    parts = {m.part_of(n) for n in diff}
    if stage == "stage1":
        assert parts == {"alignment"} and "enc_start" in diff and "enc_end" in diff
        assert "llm.lm_head.weight" not in diff
    else:
        assert parts == {"llm"}
        if stage == "lora":
            assert all("lora_" in n for n in diff)
        else:
            assert "llm.lm_head.weight" in diff


# ---------------------------------------------------------------- accumulation, grouping, cache
def test_gradient_accumulation_matches_one_big_batch():
    recs = records(16, seed=2)
    results = []
    for micro in (8, 2):
        m = tiny_lingualift(seed=2)
        # adam_epsilon=1 makes Adam's update ~ lr * gradient (scale-sensitive), so a wrongly scaled accumulated
        # gradient would show in the parameters
        cfg = stage2_config(
            global_batch_size=8, micro_batch_size=micro, max_steps=2, learning_rate=0.5, adam_epsilon=1.0,
            warmup_ratio=0.0, weight_decay=0.0, log_every=0, max_grad_norm=None, precision="fp32",
        )
        res = train(m, recs, cfg)
        assert res.accumulation_steps == 8 // micro
        results.append((snapshot(m), [h["loss"] for h in res.history]))
    (p1, l1), (p2, l2) = results
    assert l1 == pytest.approx(l2, abs=1e-5)
    for n in p1:
        torch.testing.assert_close(p1[n], p2[n], atol=1e-6, rtol=1e-5)


def test_encoder_cache_equals_live_encoder():
    recs = records(12, seed=3)
    outs = []
    for cache in (False, True):
        m = tiny_lingualift(seed=3)
        res = train(m, recs, stage1_config(epochs=2, cache_encoder_outputs=True if cache else False,
                                           precision="fp32", **SMALL))
        outs.append((snapshot(m), [h["loss"] for h in res.history]))
        if cache:
            assert res.encoder_cache_time_s > 0
    assert outs[0][1] == pytest.approx(outs[1][1], abs=1e-5)
    for n in outs[0][0]:
        torch.testing.assert_close(outs[0][0][n], outs[1][0][n], atol=1e-5, rtol=1e-4)


# ---------------------------------------------------------------- noise on the aligned encoder states
def test_aligned_noise_does_not_depend_on_batching():
    from lingualift_core.train.loop import aligned_noise_for

    both = aligned_noise_for([3, 2], [7, 4], step=5, seed=1, dim=6, scale=0.5)
    assert both.shape == (5, 6)
    alone = torch.cat([aligned_noise_for([3], [7], 5, 1, 6, 0.5), aligned_noise_for([2], [4], 5, 1, 6, 0.5)])
    torch.testing.assert_close(both, alone, atol=0, rtol=0)
    assert not torch.equal(both, aligned_noise_for([3, 2], [7, 4], step=6, seed=1, dim=6, scale=0.5))
    levels = [float(aligned_noise_for([400], [i], 5, 1, 6, 0.5).std()) for i in range(40)]
    assert all(0.0 <= lv <= 0.55 for lv in levels) and max(levels) - min(levels) > 0.2  # a level per record


def test_aligned_noise_perturbs_only_the_encoder_slots_by_their_rms():
    m = tiny_lingualift(seed=4)
    batch = m.prompt_builder().collate(m.prompt_builder().tokenize_many(records(3, seed=4), with_target=True),
                                       with_labels=True)
    args = (batch["input_ids"], batch["segment_ids"], batch["enc_input_ids"], batch["enc_attention_mask"])
    clean = m.embed_inputs(*args)
    slots = batch["segment_ids"] == SEG_ENC
    n = int(slots.sum())
    assert n > 0
    noise = torch.randn(n, clean.shape[-1])
    noisy = m.embed_inputs(*args, aligned_noise=noise)
    torch.testing.assert_close(noisy[~slots], clean[~slots], atol=0, rtol=0)
    rms = clean[slots].pow(2).mean(-1, keepdim=True).sqrt()
    torch.testing.assert_close(noisy[slots] - clean[slots], noise * rms, atol=1e-5, rtol=1e-4)
    with pytest.raises(ValueError, match="aligned_noise has shape"):
        m.embed_inputs(*args, aligned_noise=noise[1:])


def test_aligned_noise_trains_the_same_whatever_the_micro_batches():
    recs = records(16, seed=5)
    results = []
    for micro in (8, 1):
        m = tiny_lingualift(seed=5)
        cfg = stage2_config(global_batch_size=8, micro_batch_size=micro, max_steps=2, learning_rate=0.05,
                            aligned_noise=1.0, log_every=0, precision="fp32")
        res = train(m, recs, cfg)
        results.append((snapshot(m), [h["loss"] for h in res.history]))
    clean = tiny_lingualift(seed=5)
    res = train(clean, recs, stage2_config(global_batch_size=8, micro_batch_size=8, max_steps=2, learning_rate=0.05,
                                           log_every=0, precision="fp32"))
    (p1, l1), (p2, l2) = results
    assert l1 == pytest.approx(l2, abs=1e-5)
    assert l1[1] != pytest.approx(res.history[1]["loss"], abs=1e-4)  # the noise did change the training
    for n in p1:
        torch.testing.assert_close(p1[n], p2[n], atol=1e-5, rtol=1e-4)


def test_aligned_noise_needs_an_encoder():
    with pytest.raises(ValueError, match="aligned_noise=0.5 needs a model with an encoder"):
        train(tiny_lingualift(encoder=None, seed=0), records(4), mono_sft_config(aligned_noise=0.5, max_steps=1, **SMALL))
    with pytest.raises(ValueError, match="aligned_noise must be in"):
        stage2_config(aligned_noise=-1.0)


@pytest.mark.parametrize("stage", ["stage1", "stage2"])
def test_gradient_checkpointing_same_result(stage):
    recs = records(8, seed=9)
    outs = []
    for gc in (False, True):
        m = tiny_lingualift(seed=9)
        make = stage1_config if stage == "stage1" else stage2_config
        res = train(m, recs, make(max_steps=2, gradient_checkpointing=gc, learning_rate=1e-3, **SMALL))
        if gc:
            assert m.llm.model.gradient_checkpointing
        outs.append((snapshot(m), [h["loss"] for h in res.history]))
    assert outs[0][1] == pytest.approx(outs[1][1], abs=1e-6)
    for n in outs[0][0]:
        torch.testing.assert_close(outs[0][0][n], outs[1][0][n], atol=1e-6, rtol=1e-5)


def test_length_grouping_reduces_padding():
    rng = random.Random(0)
    lengths = [rng.randint(5, 200) for _ in range(1024)]
    kw = dict(global_batch_size=256, micro_batch_size=8, seed=0)
    plain = plan_padding_waste(lengths, group_by_length=False, **kw)["padding_waste"]
    grouped = plan_padding_waste(lengths, group_by_length=True, **kw)["padding_waste"]
    assert grouped < 0.05 and plain > 0.3
    # small global batches: a window of several global batches restores the grouping
    small = dict(global_batch_size=32, micro_batch_size=8, seed=0, group_by_length=True)
    assert plan_padding_waste(lengths, length_group_window=8, **small)["padding_waste"] < 0.05


def test_lr_schedules():
    f = lr_lambda_factory("cosine", total_steps=100, warmup_steps=5)
    assert f(0) == 0.0 and f(5) == pytest.approx(1.0) and f(100) == pytest.approx(0.0, abs=1e-9)
    assert 0.4 < f(52) < 0.6
    assert lr_lambda_factory("constant", 100, 0)(57) == 1.0


# ---------------------------------------------------------------- checkpoints and resume
def test_kill_and_resume_equals_uninterrupted(tmp_path):
    recs = records(20, seed=4)
    cfg = stage2_config(
        global_batch_size=8, micro_batch_size=4, epochs=2, learning_rate=1e-3, checkpoint_every=2, log_every=0
    )  # 3 steps per epoch (last batch short), 6 steps, cosine with warmup, weight decay
    ref = tiny_lingualift(seed=4)
    ref_res = train(ref, recs, cfg, checkpoint_dir=tmp_path / "ref")

    class Killed(RuntimeError):
        pass

    def kill(step, total, metrics):
        if step == 5:
            raise Killed

    m = tiny_lingualift(seed=4)
    with pytest.raises(Killed):
        train(m, recs, cfg, checkpoint_dir=tmp_path / "run", on_step=kill)
    assert [p.name for p in list_checkpoints(tmp_path / "run")] == ["step-00000002", "step-00000004"]
    m2 = tiny_lingualift(seed=4)  # a fresh process: rebuild the model, resume from the latest checkpoint
    res = train(m2, recs, cfg, checkpoint_dir=tmp_path / "run", resume="latest")
    assert res.resumed_from_step == 4 and res.steps == 6
    for n, p in ref.named_parameters():
        torch.testing.assert_close(p, dict(m2.named_parameters())[n], atol=1e-6, rtol=0)
    assert [h["loss"] for h in res.history] == pytest.approx([h["loss"] for h in ref_res.history], abs=1e-6)
    assert [h["lr"] for h in res.history] == pytest.approx([h["lr"] for h in ref_res.history])
    assert res.trainable_parameters == ref_res.trainable_parameters
    for ck in list_checkpoints(tmp_path / "run"):
        assert not list(ck.glob("*.pt")) and not list(ck.glob("*.bin")) and not list(ck.glob("*.pkl"))


def test_resume_with_different_config_fails(tmp_path):
    recs = records(8, seed=5)
    cfg = stage1_config(max_steps=2, checkpoint_every=1, **SMALL)
    train(tiny_lingualift(seed=5), recs, cfg, checkpoint_dir=tmp_path)
    with pytest.raises(ConfigMismatchError, match="'learning_rate' differs"):
        train(tiny_lingualift(seed=5), recs, replace(cfg, learning_rate=1e-4), checkpoint_dir=tmp_path, resume="latest")
    with pytest.raises(ConfigMismatchError, match="'dataset' differs"):
        train(tiny_lingualift(seed=5), records(8, seed=6), cfg, checkpoint_dir=tmp_path, resume="latest")
    # bookkeeping keys may differ
    res = train(tiny_lingualift(seed=5), recs, replace(cfg, log_every=7), checkpoint_dir=tmp_path, resume="latest")
    assert res.resumed_from_step == 2 and res.steps == 2


# ---------------------------------------------------------------- learning
def test_tiny_model_overfits_tiny_batch():
    recs = records(4, seed=7)
    m = tiny_lingualift(seed=7, encoder=None, llm_words=WORDS, llm_hidden=64)
    steps = []
    res = train(
        m, recs,
        mono_sft_config(global_batch_size=4, micro_batch_size=4, max_steps=60, learning_rate=1e-2, warmup_ratio=0.0, weight_decay=0.0, log_every=0),
        on_step=lambda s, t, met: steps.append((s, t)),
    )
    assert steps[0] == (1, 60) and steps[-1] == (60, 60) and len(steps) == 60
    assert res.history[0]["loss"] > 4.0 and res.history[-1]["loss"] < 0.05
    outs = m.generate(recs, max_new_tokens=12)
    assert outs == [r["output"] for r in recs]  # EOS was learned: generation stops exactly


def test_stage1_alignment_learns_and_recall_reports():
    """Frozen LLM: only the alignment layer learns to make the LLM copy the (encoder-side) input."""
    recs = records(4, seed=8)
    m = tiny_lingualift(seed=8, llm_hidden=64)
    before = reconstruction_recall(m, recs)
    res = train(m, recs, stage1_config(global_batch_size=4, micro_batch_size=4, max_steps=40, learning_rate=1e-2, log_every=0))
    assert res.history[-1]["loss"] < 0.95 * res.history[0]["loss"]
    after = reconstruction_recall(m, recs)
    assert after["token_recall"] > before["token_recall"]
    assert set(after) >= {"token_recall", "token_recall_macro", "n_records", "examples"}


def test_token_recall():
    assert token_recall("the cat sat", "The cat sat on the mat") == (3, 6)
    assert token_recall("", "a b") == (0, 2)


# ---------------------------------------------------------------- errors
def test_errors():
    m = tiny_lingualift()
    with pytest.raises(ValueError, match="empty training set"):
        train(m, [], stage1_config(**SMALL))
    with pytest.raises(ValueError, match="not divisible by micro_batch_size 3"):
        train(m, records(4), stage1_config(global_batch_size=8, micro_batch_size=3))
    with pytest.raises(ValueError, match="lr_schedule"):
        TrainConfig(lr_schedule="step")
    with pytest.raises(ValueError, match="nothing to train"):
        TrainConfig(train_alignment=False)
    with pytest.raises(ValueError, match="checkpoint_dir"):
        train(m, records(4), stage1_config(checkpoint_every=1, **SMALL))
    assert TrainConfig.from_dict(stage2_config().to_dict()) == stage2_config()


def test_runs_of_two_precisions_share_one_process():
    """accelerate keeps one mixed-precision setting per process and refuses a second; the loop rebuilds the
    accelerator state, so fp32 and bf16 runs follow each other (a notebook, a test session, a benchmark)."""
    recs = records(8, seed=1)
    for precision in ("fp32", "bf16", "fp32"):
        res = train(tiny_lingualift(seed=1), recs, stage2_config(max_steps=1, precision=precision, **SMALL))
        assert res.steps == 1 and res.config["precision"] == precision


def test_auto_precision_on_a_cpu_is_bf16_only_with_native_units_and_outside_fsdp(monkeypatch):
    from lingualift_core.train import loop, precision

    auto, fp32, bf16 = (stage2_config(precision=p) for p in ("auto", "fp32", "bf16"))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for native in (False, True):
        monkeypatch.setattr(precision, "native_bf16", lambda native=native: native)
        monkeypatch.delenv("ACCELERATE_USE_FSDP", raising=False)
        assert loop._bf16(auto) is native and loop._bf16(fp32) is False and loop._bf16(bf16) is True
        monkeypatch.setenv("ACCELERATE_USE_FSDP", "true")  # an FSDP launch compares against fp32 runs
        assert loop._bf16(auto) is False and loop._bf16(bf16) is True


def test_bf16_on_a_cpu_attends_in_fp32_while_training_and_restores_the_attention():
    """bf16 autocast on a CPU: the encoder and the LLM attend through the fp32 SDPA for the run only."""
    from lingualift_core.train.precision import FP32_ATTENTION

    m = tiny_lingualift(seed=2)
    before = (m.encoder.config._attn_implementation, m.llm.config._attn_implementation)
    seen = []

    def on_step(step, total, metrics):
        seen.append((m.encoder.config._attn_implementation, m.llm.config._attn_implementation))

    train(m, records(8, seed=2), stage2_config(max_steps=2, precision="bf16", **SMALL), on_step=on_step)
    assert seen == [(FP32_ATTENTION, FP32_ATTENTION)] * 2
    assert (m.encoder.config._attn_implementation, m.llm.config._attn_implementation) == before
    seen.clear()
    train(m, records(8, seed=2), stage2_config(max_steps=1, precision="fp32", **SMALL), on_step=on_step)
    assert seen == [before]
