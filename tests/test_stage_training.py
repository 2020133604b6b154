"""Stages base_models, stage1, stage2, mono_sft, layout_sft at toy sizes in a temporary repository root."""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

import pyarrow as pa
import pytest
from safetensors.torch import load_file

from lingualift_core import artifacts
from lingualift_core.artifacts import CORPUS, SFT, ArtifactSchema
from lingualift_core.config import ConfigError, parse_params
from lingualift_core.stages import base_models, sft, stage1, stage2, training
from lingualift_core.train import alignment_init, corpora
from lingualift_core.stages.common import Paths

RECORDS = ArtifactSchema("stage1_records", 1, pa.schema(
    [("id", pa.string()), ("lang", pa.string()), ("instruction", pa.string()), ("input", pa.string()),
     ("output", pa.string())]))

SUBJ = ["the cat", "a dog", "my sister", "the farmer", "our teacher"]
VERB = ["sees", "likes", "buys", "carries", "finds"]
OBJ = ["the apple", "a red ball", "the house", "a book", "some bread"]
TOY = {w: "".join(chr(0x03B1 + (7 * i + 3 * j) % 24) for j in range(2 + i % 3))
       for i, w in enumerate(sorted({x for p in SUBJ + VERB + OBJ for x in p.split()}))}

# compile_layers off: compiling costs more than it saves at these sizes (tests/test_compile.py covers it);
# precision fp32: the equality checks (two processes vs one) hold to float tolerance only without bf16
PARAMS = {
    "pipeline": {"seed": 7, "languages": ["en", "qaa"], "targets": ["qaa"]},
    "base_models": {"source": "tiny", "tiny": {
        "threads": 1, "processes": 1, "eval_sentences": 4,
        "encoder": {"vocab_size": 200, "hidden": 16, "layers": 1, "heads": 2, "max_positions": 64, "steps": 4,
                    "batch_size": 8, "seq_len": 32},
        "llm": {"vocab_size": 150, "hidden": 16, "layers": 1, "heads": 2, "max_positions": 256, "steps": 4,
                "batch_size": 4, "seq_len": 64, "instruction_copies": 20, "compile_layers": False}}},
    "stage1": {"threads": 1, "processes": 1, "recall_per_lang": 2, "eval_batch_size": 4, "warm_start_steps": 5,
               "train": {"global_batch_size": 8, "micro_batch_size": 4, "max_steps": 3, "learning_rate": 1e-2,
                         "max_length": 128, "checkpoint_every": 1, "log_every": 1, "compile_layers": False,
                         "precision": "fp32"}},
    "stage2": {"threads": 1, "processes": 1, "train": {"global_batch_size": 8, "micro_batch_size": 8, "epochs": 1,
                                                       "max_steps": None,
                                       "learning_rate": 1e-3, "max_length": 160, "checkpoint_every": 0,
                                       "compile_layers": False, "precision": "fp32"}},
    "mono_sft": {"threads": 1, "processes": 1, "train": {"global_batch_size": 8, "micro_batch_size": 8, "max_steps": 2,
                                         "learning_rate": 1e-3, "max_length": 160, "checkpoint_every": 0,
                                         "compile_layers": False, "precision": "fp32"}},
}


def english(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [f"{rng.choice(SUBJ)} {rng.choice(VERB)} {rng.choice(OBJ)}.".capitalize() for _ in range(n)]


def toy(sentence: str) -> str:
    return " ".join(TOY.get(w, w) for w in sentence.rstrip(".").lower().split()) + "."


def write_inputs(root: Path) -> None:
    """Corpora, task data and stage-1 records, as the upstream stages write them."""
    paths = Paths(root)
    en = english(60, seed=1)
    artifacts.write_rows(paths.corpus("en"), [{"id": f"en-{i}", "lang": "en", "text": t} for i, t in enumerate(en)],
                         CORPUS)
    artifacts.write_rows(paths.corpus("qaa"), [{"id": f"qaa-{i}", "lang": "qaa", "text": toy(t)}
                                                for i, t in enumerate(english(60, seed=2))], CORPUS)
    rng = random.Random(3)
    sft = []
    for i in range(16):
        a, b = rng.randint(2, 9), rng.randint(2, 9)
        sft.append({"id": f"m{i}", "instruction": "Solve step by step.",
                    "input": f"Tom has {a} apples and buys {b} more. How many apples?",
                    "output": f"{a} + {b} = {a + b}. The answer is {a + b}.", "answer": float(a + b)})
    artifacts.write_rows(paths.math_sft, sft, SFT)
    layout = [{**r, "input": " ".join(w if w.isdigit() else "<unk>" for w in r["input"].split())} for r in sft]
    artifacts.write_rows(paths.math_sft_layout, layout, SFT)
    records = [{"id": f"s{i}", "lang": "qaa", "instruction": "Translate this Velari sentence to English.",
                "input": toy(t), "output": t} for i, t in enumerate(en)]
    artifacts.write_rows(paths.stage1_records, records[:48], RECORDS)
    artifacts.write_rows(paths.stage1_holdout, records[48:], RECORDS)
    pairs = [{"id": f"p{i}", "src_lang": "en", "tgt_lang": "qaa", "src": t, "tgt": toy(t)}
             for i, t in enumerate(english(5, seed=4))]
    artifacts.write_rows(paths.parallel("qaa"), pairs, artifacts.PARALLEL)


def run_all(root: Path, params) -> dict:
    return {
        "base_models": base_models.run(params, root),
        "stage1": stage1.run_stage1(params, root),
        "stage2": stage2.run_stage2(params, root),
        "mono_sft": sft.run_mono_sft(params, root),
        "layout_sft": sft.run_layout_sft(params, root),
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("repo")
    write_inputs(root)
    params = parse_params(PARAMS)
    return root, params, run_all(root, params)


def tensors(folder: Path) -> dict:
    out = {}
    for f in sorted(folder.glob("*.safetensors")):
        out.update(load_file(str(f)))
    return out


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(bool((a[k] == b[k]).all()) for k in a)


def test_outputs_exist_and_load(built):
    from lingualift_core.model import LinguaLIFTModel, load_encoder, load_llm

    root, _, _ = built
    models = root / "data" / "models"
    for folder in ("base", "stage1", "stage2", "mono_sft", "layout_sft"):
        artifacts.require_complete(models / folder)
        assert (models / folder / "run_meta.json").is_file()
    assert load_encoder(str(models / "base" / "encoder")).config.hidden_size == 16
    assert load_llm(str(models / "base" / "llm")).config.hidden_size == 16
    assert json.loads((models / "base" / "models.json").read_text())["llm"] == {
        "source": "llm", "revision": None, "local": True}
    s2 = LinguaLIFTModel.from_pretrained(models / "stage2")
    assert s2.has_encoder and s2.config.max_encoder_tokens == 64  # the encoder's positions
    assert not LinguaLIFTModel.from_pretrained(models / "mono_sft").has_encoder
    out = s2.generate([{"instruction": "Solve step by step.", "input": "Tom has 2 apples."}], max_new_tokens=3)
    assert len(out) == 1 and isinstance(out[0], str)


def test_metrics_and_plots(built):
    root, _, results = built
    paths = Paths(root)
    bm = json.loads(paths.metrics_file("base_models").read_text())
    assert bm["source"] == "tiny" and bm["seconds"] > 0
    for key in ("mlm_accuracy", "final_loss", "seconds", "parameters"):
        assert key in bm["encoder"]
    for key in ("copy_accuracy", "copy_exact_match", "final_loss", "seconds"):
        assert key in bm["llm"]
    assert 0.0 <= bm["encoder"]["mlm_accuracy"] <= 1.0 and 0.0 <= bm["llm"]["copy_accuracy"] <= 1.0
    s1 = json.loads(paths.metrics_file("stage1").read_text())
    for key in ("final_loss", "reconstruction_recall", "reconstruction_recall_per_lang", "steps", "tokens_per_s",
                "padding_waste", "seconds"):
        assert key in s1, key
    assert s1["steps"] == 3 and s1["recall_records"] == 2 and 0 <= s1["reconstruction_recall"] <= 1
    # whole target-language sentences from data/raw/parallel (first recall_per_lang pairs per language)
    assert set(s1["parallel_recall_per_lang"]) == {"qaa"}
    assert s1["parallel_recall"] == s1["parallel_recall_per_lang"]["qaa"]
    meta = json.loads((root / "data" / "models" / "stage1" / "run_meta.json").read_text())
    examples = meta["parallel_recall_examples"]["qaa"]
    assert len(examples) == 1 and examples[0]["input"] == toy(english(5, seed=4)[0])
    assert s1["records"] == 48 and s1["records_used"] == 24  # max_steps x global batch, drawn before tokenizing
    assert s1.pop("run")["finished_at"] and s1 == results["stage1"]  # + when, where, which commit
    for stage in ("stage2", "mono_sft", "layout_sft"):
        m = json.loads(paths.metrics_file(stage).read_text())
        assert {"final_loss", "steps", "tokens_per_s", "padding_waste", "seconds", "records"} <= set(m)
    assert json.loads(paths.metrics_file("stage2").read_text())["steps"] == 2  # 16 records / batch 8, 1 epoch
    plot = json.loads((root / "data" / "plots" / "stage1_loss.json").read_text())
    assert [r["step"] for r in plot] == [1, 2, 3] and set(plot[0]) == {"step", "loss", "lr"}
    for name in ("base_models_encoder_loss", "base_models_llm_loss", "stage2_loss", "mono_sft_loss",
                 "layout_sft_loss"):
        assert json.loads((root / "data" / "plots" / f"{name}.json").read_text())
    assert not (root / "data" / "checkpoints" / "stage1").exists()  # removed once the model is saved


def test_stage1_trains_only_alignment(built):
    root, _, _ = built
    models = root / "data" / "models"
    meta = json.loads((models / "stage1" / "run_meta.json").read_text())
    names = meta["trainable_parameters"]
    assert names and all(n.startswith("alignment.") or n in ("enc_start", "enc_end") for n in names)
    assert {"enc_start", "enc_end"} <= set(names)
    # the frozen parts are bit-identical to the base models
    assert same(tensors(models / "base" / "llm"), tensors(models / "stage1" / "llm"))
    assert same(tensors(models / "base" / "encoder"), tensors(models / "stage1" / "encoder"))


def test_stage1_alignment_moved_from_init(built):
    root, params, _ = built
    src = base_models.base_sources(Paths(root))
    records = training.read_records(Paths(root).stage1_records)
    init = training.load_base("stage1", src, params, records)
    trained = tensors(root / "data" / "models" / "stage1")
    assert not bool((init.alignment.net[0].weight == trained["alignment.net.0.weight"]).all())
    # <enc_end> starts from the LLM's <sep> embedding (params: init_end_token)
    emb = init.llm.get_input_embeddings().weight
    assert bool((init.enc_end == emb[init.llm_tokenizer.convert_tokens_to_ids("<sep>")]).all())


def test_warm_start_fits_shared_tokens(built):
    root, params, _ = built
    src = base_models.base_sources(Paths(root))
    records = training.read_records(Paths(root).stage1_records)
    model = training.load_base("stage1", src, params, records)
    pairs = alignment_init.shared_token_pairs(model)
    enc_vocab = model.encoder_tokenizer.get_vocab()
    assert pairs and all(model.llm_tokenizer.convert_ids_to_tokens(j) == model.encoder_tokenizer.convert_ids_to_tokens(i)
                         for i, j in pairs.items())
    assert "[CLS]" in enc_vocab and enc_vocab["[CLS]"] not in pairs  # special tokens never pair
    info = alignment_init.warm_start_alignment(model, [r["output"] for r in records], steps=60, lr=1e-2, seed=0)
    assert info["pairs"] > 0 and info["loss"] < info["loss_first"]
    # the frozen parts are untouched by the warm start
    assert all(not p.requires_grad for p in model.llm.parameters())


def test_instruction_copies():
    docs = corpora.instruction_copies(["The cat sees a dog.", "A boy runs."], 50, seed=3, scramble_fraction=0.0)
    assert len(docs) == 50 and docs == corpora.instruction_copies(
        ["The cat sees a dog.", "A boy runs."], 50, seed=3, scramble_fraction=0.0)
    for d in docs:
        head, tail = d.split(" <sep> ")
        assert head.endswith(tail) and "English" in head and "Velari" not in head


def test_arithmetic_drills_are_correct_equations():
    docs = corpora.arithmetic_drills(200, seed=5, max_operand=50)
    assert docs == corpora.arithmetic_drills(200, seed=5, max_operand=50) and len(docs) == 200
    ops = set()
    for doc in docs:
        eqs = doc.rstrip(".").split(". ")
        assert len(eqs) == 8
        for eq in eqs:
            a, op, b, eq_sign, c = eq.split()
            a, b, c = int(a), int(b), int(c)
            ops.add(op)
            assert eq_sign == "=" and c == {"+": a + b, "-": a - b, "*": a * b}[op] and c >= 0
            assert op == "*" or max(a, b, c) < 50
    assert ops == {"+", "-", "*"}


def test_stage2_freezes_encoder_and_alignment(built):
    root, _, _ = built
    models = root / "data" / "models"
    names = json.loads((models / "stage2" / "run_meta.json").read_text())["trainable_parameters"]
    assert names and all(n.startswith("llm.") for n in names)
    assert same(tensors(models / "stage1" / "encoder"), tensors(models / "stage2" / "encoder"))
    assert same(tensors(models / "stage1"), tensors(models / "stage2"))  # alignment.safetensors
    assert not same(tensors(models / "stage1" / "llm"), tensors(models / "stage2" / "llm"))
    assert not same(tensors(models / "base" / "llm"), tensors(models / "mono_sft" / "llm"))
    assert not same(tensors(models / "mono_sft" / "llm"), tensors(models / "layout_sft" / "llm"))


def _copy_root(built, tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(built[0] / "data", root / "data",
                    ignore=shutil.ignore_patterns("stage1", "stage2", "mono_sft", "layout_sft"))
    shutil.copy(built[0] / "data" / "codeswitch" / "stage1.parquet", root / "data" / "codeswitch")
    return root


def test_resume_after_crash(built, tmp_path, monkeypatch):
    root = _copy_root(built, tmp_path)
    params = parse_params(PARAMS)
    real = training._StepReporter.__call__

    def crash(self, step, total, metrics):
        real(self, step, total, metrics)
        if step == 3:  # on_step runs before the step's checkpoint: steps 1 and 2 are saved
            raise KeyboardInterrupt("simulated crash")

    monkeypatch.setattr(training._StepReporter, "__call__", crash)
    with pytest.raises(KeyboardInterrupt):
        stage1.run_stage1(params, root)
    ckpt = root / "data" / "checkpoints" / "stage1"
    assert sorted(p.name for p in ckpt.glob("step-*")) == ["step-00000001", "step-00000002"]
    monkeypatch.setattr(training._StepReporter, "__call__", real)
    metrics = stage1.run_stage1(params, root)
    assert metrics["resumed_from_step"] == 2 and metrics["steps"] == 3
    # same result as the uninterrupted run
    assert same(tensors(root / "data" / "models" / "stage1"), tensors(built[0] / "data" / "models" / "stage1"))


def test_changed_params_discard_checkpoints(built, tmp_path):
    root = _copy_root(built, tmp_path)
    ckpt = root / "data" / "checkpoints" / "stage1"
    training._prepare_checkpoints(ckpt, {"a": 1}, resume=True, stage="stage1")
    (ckpt / "step-00000001").mkdir()
    (ckpt / "step-00000001" / ".complete").write_text("ok\n")
    assert training._prepare_checkpoints(ckpt, {"a": 1}, resume=True, stage="stage1")
    assert not training._prepare_checkpoints(ckpt, {"a": 2}, resume=True, stage="stage1")
    assert not (ckpt / "step-00000001").exists()


def test_empty_training_set_fails_clearly(built, tmp_path):
    root = _copy_root(built, tmp_path)
    artifacts.write_rows(Paths(root).stage1_records, [], RECORDS)
    with pytest.raises(ValueError, match="empty training set") as err:
        stage1.run_stage1(parse_params(PARAMS), root)
    assert "\n" not in str(err.value) and "stage1.parquet" in str(err.value)


def test_config_errors_are_one_line():
    bad = {"base_models": {"tiny": {"llm": {"hidden": 30, "heads": 4}}}}
    with pytest.raises(ConfigError, match=r"base_models\.tiny\.llm") as err:
        parse_params(bad)
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match=r"stage2\.train.*lora=True needs train_llm=True") as err:
        parse_params({"stage2": {"train": {"train_llm": False, "train_alignment": True, "lora": True}}})
    assert "\n" not in str(err.value)


def test_hidden_size_mismatch_is_one_line(built, tmp_path):
    """A stage-1 model that refers to its LLM, whose base folder is later replaced by a wider LLM."""
    from model_builders import random_llama

    root = _copy_root(built, tmp_path)
    data = {**PARAMS, "stage1": {**PARAMS["stage1"], "save_llm": "reference", "recall_per_lang": 0,
                                 "train": {**PARAMS["stage1"]["train"], "max_steps": 1}}}
    params = parse_params(data)
    stage1.run_stage1(params, root)
    llm_dir = root / "data" / "models" / "base" / "llm"
    assert not (root / "data" / "models" / "stage1" / "llm").exists()  # referenced, not copied
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(llm_dir))
    wide = random_llama(len(tok), hidden_size=24, num_layers=1, num_heads=2, num_kv_heads=2)
    shutil.rmtree(llm_dir)
    wide.save_pretrained(llm_dir)
    tok.save_pretrained(llm_dir)
    with pytest.raises(ConfigError, match="hidden size 16.*width 24") as err:
        stage2.run_stage2(params, root)
    assert "\n" not in str(err.value)


def test_hub_source_records_ids(built, tmp_path):
    """`hub` mode with local snapshot folders: nothing is copied, later stages load by the recorded source."""
    root = _copy_root(built, tmp_path)
    snap = tmp_path / "snapshots"
    shutil.copytree(root / "data" / "models" / "base", snap)
    data = {**PARAMS, "base_models": {"source": "hub", "hub": {
        "encoder": str(snap / "encoder"), "llm": str(snap / "llm"), "local_files_only": True}}}
    params = parse_params(data)
    metrics = base_models.run(params, root)
    assert metrics["llm"]["hidden_size"] == 16 and metrics["encoder"]["model_type"] == "bert"
    assert not (root / "data" / "models" / "base" / "llm").exists()
    src = base_models.base_sources(Paths(root))
    assert src["llm"].source == str(snap / "llm") and not src["llm"].local
    missing = {**PARAMS, "base_models": {"source": "hub", "hub": {"llm": str(tmp_path / "nope"),
                                                                  "encoder": str(snap / "encoder")}}}
    with pytest.raises(ConfigError, match=r"base_models\.hub\.llm") as err:
        base_models.run(parse_params(missing), root)
    assert "\n" not in str(err.value)


def test_stage2_under_an_fsdp_launch(built, tmp_path):
    """`accelerate launch --config_file configs/accelerate/fsdp.yaml -m flows.cli stage stage2` (on 2 CPU
    processes): the saved stage-2 model equals the one-process run's (micro-batches 2 x 4 instead of 1 x 8: the
    same gradient up to float summation order)."""
    import copy

    import yaml
    from fsdp_worker import cpu_fsdp_config, launch

    root = tmp_path / "repo"
    shutil.copytree(built[0] / "data", root / "data", ignore=shutil.ignore_patterns("stage2"))
    params = copy.deepcopy(PARAMS)
    params["stage2"]["train"]["micro_batch_size"] = 4
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    proc = launch(cpu_fsdp_config(tmp_path), "flows.cli", "stage", "stage2", "--root", str(root),
                  "--params", str(root / "params.yaml"), module=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads(Paths(root).metrics_file("stage2").read_text())
    assert metrics["parallelism"] == "fsdp2" and metrics["world_size"] == 2
    ref = json.loads(Paths(built[0]).metrics_file("stage2").read_text())
    assert ref["parallelism"] == "single" and metrics["steps"] == ref["steps"]
    assert metrics["final_loss"] == pytest.approx(ref["final_loss"], abs=1e-4)
    got, want = tensors(root / "data" / "models" / "stage2" / "llm"), tensors(built[0] / "data" / "models" / "stage2" / "llm")
    assert got.keys() == want.keys()
    assert max(float((got[k] - want[k]).abs().max()) for k in got) < 1e-5


def test_stage2_relaunches_itself_on_two_processes(built, tmp_path):
    """`stage2.processes: 2`: `lingualift stage stage2` relaunches itself under `accelerate launch` on 2 CPU
    processes (DDP, gloo); the saved model equals the one-process run's up to float summation order."""
    import copy
    import subprocess
    import sys

    import yaml

    root = tmp_path / "repo"
    shutil.copytree(built[0] / "data", root / "data", ignore=shutil.ignore_patterns("stage2"))
    params = copy.deepcopy(PARAMS)
    params["stage2"]["train"]["micro_batch_size"] = 4
    params["stage2"]["processes"] = 2
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACCELERATE_", "FSDP_", "LOCAL_RANK"))}
    proc = subprocess.run([sys.executable, "-m", "flows.cli", "stage", "stage2", "--root", str(root),
                           "--params", str(root / "params.yaml")], env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads(Paths(root).metrics_file("stage2").read_text())
    assert metrics["parallelism"] == "host_sum" and metrics["world_size"] == 2  # CPU processes of one machine
    ref = json.loads(Paths(built[0]).metrics_file("stage2").read_text())
    assert metrics["final_loss"] == pytest.approx(ref["final_loss"], abs=1e-4)
    got, want = tensors(root / "data" / "models" / "stage2" / "llm"), tensors(built[0] / "data" / "models" / "stage2" / "llm")
    assert max(float((got[k] - want[k]).abs().max()) for k in got) < 1e-5


def test_pretraining_texts_take_the_first_task_problems_and_the_reading_practice(tmp_path):
    write_inputs(tmp_path)
    paths = Paths(tmp_path)
    sft = artifacts.read_table(paths.math_sft, SFT).to_pylist()
    capped = parse_params({**PARAMS, "base_models": {**PARAMS["base_models"],
                                                     "tiny": {**PARAMS["base_models"]["tiny"], "task_problems": 5}}})
    texts = base_models.read_texts(paths, capped)
    assert texts["questions"] == [r["input"] for r in sft[:5]]
    assert len(texts["problems"]) == 5
    reading = [{**r, "id": f"r{i}", "input": "Ann has 3 pears . " + r["input"]} for i, r in enumerate(sft[:2])]
    artifacts.write_rows(paths.math_reading, reading, SFT)
    texts = base_models.read_texts(paths, capped)
    assert len(texts["problems"]) == 7 and texts["problems"][-1].startswith(f"{reading[1]['instruction']}\nAnn has 3")
    assert len(texts["questions"]) == 5  # the encoder's questions stay the task problems
