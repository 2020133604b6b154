"""Training on 2 CPU processes (gloo) launched with the repo's configs/accelerate/{fsdp,ddp}.yaml: the same
result as one process; for FSDP2 also exact kill-and-resume, full-tensor checkpoints that resume at another
world size, and the refused settings. The worker is tests/fsdp_worker.py."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from fsdp_worker import cpu_ddp_config
from fsdp_worker import cpu_fsdp_config as cpu_config
from fsdp_worker import launch as _launch

WORKER = Path(__file__).resolve().parent / "fsdp_worker.py"


def launch(config: Path | None, out: Path, *args: str):
    return _launch(config, str(WORKER), str(out), *args)


def ok(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, proc.stderr[-3000:]


def trained(out: Path) -> tuple[dict[str, torch.Tensor], dict]:
    return load_file(str(out / "trained.safetensors")), json.loads((out / "result.json").read_text())


def max_diff(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k] - b[k]).abs().max()) for k in a)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """stage 2 on 2 processes with checkpoints every 2 steps (6 steps) and its one-process twin."""
    tmp = tmp_path_factory.mktemp("fsdp")
    cfg = cpu_config(tmp)
    ok(launch(cfg, tmp / "fsdp", "stage2", "--checkpoint-every", "2"))
    ok(launch(None, tmp / "single", "stage2"))
    return tmp


def test_fsdp_stage2_equals_one_process(runs):
    a, ra = trained(runs / "fsdp")
    b, rb = trained(runs / "single")
    assert ra["parallelism"] == "fsdp2" and ra["world_size"] == 2 and rb["parallelism"] == "single"
    assert ra["trainable"] == rb["trainable"] and all(n.startswith("llm.") for n in ra["trainable"])
    assert ra["num_trainable"] == rb["num_trainable"]  # counted on the full (not the local) shapes
    # the last global batch has 5 rows: 3 micro-batches on rank 0, 2 (+1 zero-weight pass) on rank 1
    assert [h["loss"] for h in ra["history"]] == pytest.approx([h["loss"] for h in rb["history"]], abs=1e-6)
    assert [h["grad_norm"] for h in ra["history"]] == pytest.approx([h["grad_norm"] for h in rb["history"]], abs=1e-5)
    assert ra["tokens_seen"] == rb["tokens_seen"] and ra["pad_tokens"] == rb["pad_tokens"]
    assert max_diff(a, b) < 1e-6
    base = load_file(str(runs / "single" / "trained.safetensors"))
    assert base.keys() == a.keys()


def test_fsdp_kill_and_resume_is_exact(runs):
    """Killed after step 5 (checkpoints at 2 and 4), relaunched: the same weights as the uninterrupted run."""
    cfg = cpu_config(runs)
    killed = runs / "killed"
    proc = launch(cfg, killed, "stage2", "--checkpoint-every", "2", "--kill-after", "5")
    assert proc.returncode != 0 and not (killed / "trained.safetensors").exists()
    assert sorted(p.name for p in (killed / "ckpt").iterdir()) == ["step-00000002", "step-00000004"]
    ok(launch(cfg, killed, "stage2", "--checkpoint-every", "2", "--resume"))
    a, ra = trained(runs / "fsdp")
    b, rb = trained(killed)
    assert rb["resumed_from_step"] == 4 and len(rb["history"]) == 6
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [h["loss"] for h in rb["history"]] == [h["loss"] for h in ra["history"]]


def test_fsdp_checkpoint_resumes_in_one_process(runs, tmp_path):
    """Checkpoints hold full tensors: a 2-process checkpoint resumes in one process (not bitwise: other sums)."""
    out = tmp_path / "one"
    out.mkdir()
    shutil.copytree(runs / "fsdp" / "ckpt", out / "ckpt")
    shutil.rmtree(out / "ckpt" / "step-00000006")
    ok(launch(None, out, "stage2", "--checkpoint-every", "2", "--resume"))
    a, _ = trained(runs / "fsdp")
    b, rb = trained(out)
    assert rb["resumed_from_step"] == 4 and rb["world_size"] == 1
    assert max_diff(a, b) < 1e-6
    saved = load_file(str(runs / "fsdp" / "ckpt" / "step-00000004" / "trainable.safetensors"))
    assert set(saved) == set(rb["trainable"])
    embed = saved["llm.model.embed_tokens.weight"]
    assert embed.shape == a["llm.model.embed_tokens.weight"].shape  # the full matrix, not one process's shard


def test_fsdp_stage1_trains_only_the_alignment(tmp_path):
    """Stage 1 with the encoder outputs cached before sharding."""
    cfg = cpu_config(tmp_path)
    ok(launch(cfg, tmp_path / "fsdp", "stage1"))
    ok(launch(None, tmp_path / "single", "stage1"))
    a, ra = trained(tmp_path / "fsdp")
    b, _ = trained(tmp_path / "single")
    assert ra["parallelism"] == "fsdp2"
    assert set(ra["trainable"]) == {n for n in a if n.startswith("alignment.") or n in ("enc_start", "enc_end")}
    assert max_diff(a, b) < 1e-6
    from fsdp_worker import model  # the untrained weights: the frozen parts must come back unchanged

    init = {n: p.detach() for n, p in model().named_parameters()}
    assert all(torch.equal(a[n], init[n]) for n in a if n not in ra["trainable"])
    assert any(not torch.equal(a[n], init[n]) for n in ra["trainable"])


@pytest.mark.parametrize("setting, value, key", [
    ("fsdp_version", 1, "fsdp_version"),
    ("fsdp_cpu_ram_efficient_loading", True, "fsdp_cpu_ram_efficient_loading"),
    ("fsdp_activation_checkpointing", True, "fsdp_activation_checkpointing"),
    ("fsdp_auto_wrap_policy", "SIZE_BASED_WRAP", "fsdp_auto_wrap_policy"),
])
def test_fsdp_refuses_unsupported_settings(tmp_path, setting, value, key):
    proc = launch(cpu_config(tmp_path, **{setting: value}), tmp_path / "out", "stage2")
    assert proc.returncode != 0
    assert f"fsdp_config.{key}: got" in proc.stderr


@pytest.fixture(scope="module")
def ddp_runs(tmp_path_factory) -> Path:
    """configs/accelerate/ddp.yaml on 2 CPU processes, stage 2: DDP over gloo, and the shared-memory sum
    (train/host_sum.py, what CPU processes of one machine use) with checkpoints every 2 steps."""
    tmp = tmp_path_factory.mktemp("ddp")
    cfg = cpu_ddp_config(tmp)
    ok(launch(cfg, tmp / "ddp", "stage2", "--gloo-ddp"))
    ok(launch(cfg, tmp / "host", "stage2", "--checkpoint-every", "2"))
    return tmp


def test_ddp_stage2_equals_one_process(runs, ddp_runs):
    """Replicated model, gradients all-reduced once per step (no_sync before)."""
    a, ra = trained(ddp_runs / "ddp")
    b, rb = trained(runs / "single")
    assert ra["parallelism"] == "ddp" and ra["world_size"] == 2
    assert [h["loss"] for h in ra["history"]] == pytest.approx([h["loss"] for h in rb["history"]], abs=1e-6)
    assert ra["tokens_seen"] == rb["tokens_seen"]
    assert max_diff(a, b) < 1e-6


def test_host_sum_equals_ddp_bit_for_bit(ddp_runs):
    """One shared-memory sum per step (gradients, loss, counts) gives exactly DDP's weights, losses and counts."""
    a, ra = trained(ddp_runs / "host")
    b, rb = trained(ddp_runs / "ddp")
    assert ra["parallelism"] == "host_sum" and ra["world_size"] == 2
    assert ra["history"] == rb["history"]
    assert (ra["tokens_seen"], ra["pad_tokens"]) == (rb["tokens_seen"], rb["pad_tokens"])
    assert max_diff(a, b) == 0.0


def test_host_sum_kill_and_resume_is_exact(ddp_runs, tmp_path):
    """Killed after step 3, resumed from the step-2 checkpoint: the uninterrupted run's weights."""
    out = tmp_path / "killed"
    cfg = cpu_ddp_config(tmp_path)
    assert launch(cfg, out, "stage2", "--checkpoint-every", "2", "--kill-after", "3").returncode != 0
    ok(launch(cfg, out, "stage2", "--checkpoint-every", "2", "--resume"))
    a, ra = trained(out)
    b, _ = trained(ddp_runs / "host")
    assert ra["resumed_from_step"] == 2 and ra["parallelism"] == "host_sum"
    assert max_diff(a, b) == 0.0


@pytest.mark.parametrize("variant", ["stage2-lora", "stage2-gc", "stage2-bf16"])
def test_fsdp_variants_equal_one_process(tmp_path, variant):
    """LoRA adapters, gradient checkpointing, and bf16 compute (FSDP's mixed-precision policy: bf16 gathered
    weights, fp32 gradient reduction and master weights; the one-process run uses bf16 autocast, so the two
    agree to bf16 rounding only)."""
    ok(launch(cpu_config(tmp_path), tmp_path / "fsdp", variant))
    ok(launch(None, tmp_path / "single", variant))
    a, ra = trained(tmp_path / "fsdp")
    b, rb = trained(tmp_path / "single")
    assert ra["parallelism"] == "fsdp2" and ra["trainable"] == rb["trainable"]
    if variant == "stage2-lora":
        assert ra["trainable"] and all("lora_" in n for n in ra["trainable"])
    tol = 2e-3 if variant == "stage2-bf16" else 1e-6
    assert [h["loss"] for h in ra["history"]] == pytest.approx([h["loss"] for h in rb["history"]], abs=tol)
    assert max_diff(a, b) < tol
    assert all(t.dtype == torch.float32 for t in a.values())  # master weights stay fp32


def test_sharding_plan_reads_the_launch_settings(monkeypatch):
    from model_builders import tiny_lingualift
    from lingualift_core.train import fsdp

    for key, value in {"ACCELERATE_USE_FSDP": "true", "FSDP_VERSION": "2", "FSDP_CPU_RAM_EFFICIENT_LOADING": "false",
                       "FSDP_RESHARD_AFTER_FORWARD": "false", "FSDP_AUTO_WRAP_POLICY": "TRANSFORMER_BASED_WRAP",
                       "FSDP_TRANSFORMER_CLS_TO_WRAP": "LlamaDecoderLayer, MT5Block"}.items():
        monkeypatch.setenv(key, value)
    plan = fsdp.sharding_plan(bf16=True)
    assert plan.block_classes == ("LlamaDecoderLayer", "MT5Block")  # accelerate leaves the space in
    assert plan.reshard_after_forward is False and plan.param_dtype == torch.bfloat16
    assert fsdp.fsdp_requested("MULTI_CPU", 2) and not fsdp.fsdp_requested("MULTI_CPU", 1)
    model = tiny_lingualift()
    assert fsdp.block_class_names(model) == ("LlamaDecoderLayer", "MT5Block")
    with pytest.raises(ValueError, match=r"fsdp_transformer_layer_cls_to_wrap: \['T5Block'\] not in the model"):
        fsdp.shard_model(model, fsdp.ShardingPlan(block_classes=("LlamaDecoderLayer", "T5Block")), torch.device("cpu"))
