"""Stage `evaluate` at toy sizes: tiny random models saved with save_pretrained, literal benchmark rows."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import torch

from lingualift_core import artifacts
from lingualift_core.config import ConfigError, parse_params
from lingualift_core.evaluate.answers import first_step, first_step_correct
from lingualift_core.evaluate.benchmarks import clean_math_rows, layout_rows, match_rows
from lingualift_core.evaluate.generation import PREDICTIONS
from lingualift_core.evaluate.groups import default_group_kinds, language_groups
from lingualift_core.evaluate.prompts import COT_TEMPLATE
from lingualift_core.evaluate.representations import sentence_vectors
from lingualift_core.evaluate.scoring import language_keys
from lingualift_core.evaluate.systems import eval_template, render_prompt, solution_token_budget
from lingualift_core.model import PromptTemplate
from model_builders import tiny_lingualift, toy_words
from lingualift_core.sources import NoValidRowsError
from lingualift_core.evaluate import runner
from lingualift_core.stages import evaluate as stage

LANGS = ["en", "qaa", "qae", "qab"]
N_PROBLEMS = 4
WORDS = toy_words(60) + [str(i) for i in range(30)]
INSTRUCTION = "w1 w2 w3"


def _question(i: int, lang: str) -> str:
    offset = {"en": 0, "qaa": 10, "qae": 20, "qab": 30}[lang]
    return f"w{offset + i} w{offset + i + 1} has {i + 3} w40 . w41 w{offset + 2} {i + 1} ?".replace("has", "w5")


def _solution_text(i: int) -> str:
    return f"w5 {i + 3} + {i + 1} = {i + 4} . w8 {i + 4} ."


def _solution(row: dict) -> str:
    return _solution_text(int(row["id"][1:]))


def _bench_rows() -> list[dict]:
    rows = [{"id": f"p{i}", "lang": lang, "question": _question(i, lang), "answer": float(i + 4),
             "solution": _solution_text(i)}
            for lang in LANGS for i in range(N_PROBLEMS)]
    # malformed: empty question, no answer, non-finite answer, unknown language, duplicate (lang, id)
    rows += [
        {"id": "bad0", "lang": "qaa", "question": "  ", "answer": 1.0, "solution": None},
        {"id": "bad1", "lang": "qaa", "question": "w3 ?", "answer": None, "solution": None},
        {"id": "bad2", "lang": "qae", "question": "w3 ?", "answer": float("nan"), "solution": None},
        {"id": "bad3", "lang": "zz", "question": "w3 ?", "answer": 2.0, "solution": None},
        {"id": "p0", "lang": "en", "question": "w9 ?", "answer": 2.0, "solution": None},
    ]
    return rows


def _save(model, folder: Path) -> None:
    model.save_pretrained(folder)


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    """Tiny random models saved once: stage1/stage2 with an encoder, mono_sft/layout_sft without."""
    base = tmp_path_factory.mktemp("models")
    enc_words = toy_words(60, prefix="x") + WORDS
    _save(tiny_lingualift(encoder="t5", llm_words=WORDS, enc_words=enc_words, seed=1), base / "stage1")
    _save(tiny_lingualift(encoder="t5", llm_words=WORDS, enc_words=enc_words, seed=2), base / "stage2")
    _save(tiny_lingualift(encoder="t5", llm_words=WORDS, enc_words=enc_words, seed=5), base / "no_stage1")
    _save(tiny_lingualift(encoder=None, llm_words=WORDS, seed=3), base / "mono_sft")
    _save(tiny_lingualift(encoder=None, llm_words=WORDS, seed=4), base / "layout_sft")
    return base


def _make_root(root: Path, models: Path) -> Path:
    raw = root / "data" / "raw"
    artifacts.write_rows(raw / "tasks" / "math_sft.parquet",
                         [{"id": "t0", "instruction": INSTRUCTION, "input": "w4 ?", "output": "w5 .", "answer": 1.0}],
                         artifacts.SFT)
    rows = _bench_rows()
    artifacts.write_rows(raw / "benchmarks" / "math_test.parquet", rows, artifacts.MATH)
    artifacts.write_rows(raw / "benchmarks" / "math_test_layout.parquet", layout_rows(rows[:-5]) + [
        {"id": "bad9", "lang": "qab", "question": "", "answer": 1.0, "solution": None}], artifacts.MATH)
    for lang in ("qaa", "qae", "qab"):
        pairs = [{"id": f"en-{lang}-{i}", "src_lang": "en", "tgt_lang": lang, "src": f"w{i} w{i + 1} w{i + 2}",
                  "tgt": f"x{i} x{i + 3} w{i + 1}"} for i in range(8)]
        pairs.append({"id": "empty", "src_lang": "en", "tgt_lang": lang, "src": "", "tgt": "x1"})
        artifacts.write_rows(raw / "parallel" / f"en-{lang}.parquet", pairs, artifacts.PARALLEL)
    (root / "data" / "models").mkdir(parents=True)
    for name in ("stage1", "stage2", "no_stage1", "mono_sft", "layout_sft"):
        (root / "data" / "models" / name).symlink_to(models / name, target_is_directory=True)
    return root


def _params(batch_size: int = 4, **evaluate):
    data = {"pipeline": {"languages": ["en", "qaa", "qab", "qae"], "targets": ["qaa", "qab", "qae"]},
            "evaluate": {"generation": {"batch_size": batch_size, "max_new_tokens": 12},
                         "alignment": {"max_pairs": 6, "tsne_per_lang": 6, "tsne_max_iter": 250}, **evaluate}}
    return parse_params(data)


@pytest.fixture(scope="module")
def evaluated(models, tmp_path_factory) -> Path:
    root = _make_root(tmp_path_factory.mktemp("root"), models)
    stage.run(_params(batch_size=4), root)
    return root


def test_predictions_metrics_and_reports(evaluated: Path) -> None:
    eval_dir = evaluated / "data" / "eval"
    assert (eval_dir / artifacts.COMPLETE_MARKER).is_file()
    table = artifacts.read_table(eval_dir / "predictions.parquet", PREDICTIONS)
    assert table.column_names == ["id", "lang", "system", "benchmark", "prompt", "output", "pred", "gold", "correct",
                                  "first_step"]
    rows = table.to_pylist()
    # 4 systems x 4 languages x 4 valid problems; malformed rows skipped
    assert len(rows) == 4 * len(LANGS) * N_PROBLEMS
    assert {r["system"] for r in rows} == {"lingualift", "no_stage1", "mono_sft", "layout_only"}
    assert not any(r["id"].startswith("bad") for r in rows)
    # the floor reads the layout-only copy; the others the original question
    floor = next(r for r in rows if r["system"] == "layout_only" and r["lang"] == "qaa")
    assert "<unk>" in floor["prompt"] and INSTRUCTION in floor["prompt"]
    ll = next(r for r in rows if r["system"] == "lingualift" and r["lang"] == "qaa" and r["id"] == "p1")
    assert f"<enc_start>{_question(1, 'qaa')}<enc_end>" in ll["prompt"]
    assert all(r["gold"] == str(int(float(r["gold"]))) for r in rows)
    for r in rows:
        assert r["correct"] == (r["pred"] is not None and float(r["pred"]) == float(r["gold"]))

    for r in rows:  # the fixture's problems have reference solutions: every math row gets a verdict
        assert r["first_step"] == first_step_correct(r["output"], _solution(r))

    metrics = json.loads((evaluated / "data" / "metrics" / "evaluate.json").read_text())
    assert set(metrics) == {"lingualift", "no_stage1", "mono_sft", "layout_only"}
    assert set(metrics["lingualift"]) == {"math", "math:first_step", "math:operator", "math:strict", "math:flexible",
                                          "math:anchor"}
    ops = [r for r in rows if r["system"] == "lingualift" and r["lang"] == "qab"]
    expected_ops = [(first_step(r["output"]) or (0, None, 0))[1] == first_step(_solution(r))[1] for r in ops]
    assert metrics["lingualift"]["math:operator"]["qab"] == round(100 * sum(expected_ops) / len(ops), 2)
    steps = [r for r in rows if r["system"] == "mono_sft" and r["lang"] == "qaa"]
    assert metrics["mono_sft"]["math:first_step"]["qaa"] == round(100 * sum(r["first_step"] for r in steps)
                                                                  / len(steps), 2)
    entry = metrics["lingualift"]["math"]
    assert set(entry) == set(LANGS) | {"avg_low", "avg_medium", "avg_high", "avg_all", "high_includes_en"}
    assert entry["high_includes_en"] is True
    # levels from the registry: qaa, qab high (+ en), qae low; no medium language here
    assert entry["avg_medium"] is None
    assert entry["avg_high"] == pytest.approx(round((entry["en"] + entry["qaa"] + entry["qab"]) / 3, 2), abs=0.01)
    assert entry["avg_low"] == entry["qae"]

    analysis = json.loads((evaluated / "data" / "metrics" / "evaluate_analysis.json").read_text())
    bench = analysis["benchmarks"]["math"]
    assert bench["malformed"] == 5 and bench["rows"] == len(LANGS) * N_PROBLEMS
    assert any("unknown language code 'zz'" in e for e in bench["malformed_examples"])
    assert any("duplicate id 'p0'" in e for e in bench["malformed_examples"])
    assert bench["floor"]["malformed"] == 1
    retrieval = analysis["alignment"]["retrieval"]
    assert set(retrieval) == {"aligned", "encoder", "llm_embeddings"}
    assert set(retrieval["aligned"]) == {"qaa", "qae", "qab"}
    assert all(0.0 <= v["mean"] <= 1.0 for v in retrieval["aligned"].values())
    assert analysis["alignment"]["pairs"]["qaa"] == {"file": "data/raw/parallel/en-qaa.parquet",
                                                     "pairs": 6, "malformed": 1}
    assert set(analysis["alignment"]["spearman"]["aligned"]) == {"low", "medium", "high", "all"}

    report = (eval_dir / "report.md").read_text()
    assert "floor (layout_only)" in report and "English **is included**" in report
    assert str(evaluated) not in report  # paths relative to the root
    assert "| math | " in report and "| 5 |" in report  # malformed rows counted in the report
    assert "Alignment analyses" in report and "order level" in report
    for png in ("plots/accuracy_math.png", "plots/tsne_aligned.png"):
        assert f"]({png})" in report
        assert (eval_dir / png).read_bytes()[:4] == b"\x89PNG"
    csv_lines = (eval_dir / "accuracy.csv").read_text().splitlines()
    assert csv_lines[0] == "system,benchmark,lang,level,n,n_correct,accuracy,ci_low,ci_high"
    # 4 systems x (answer, first step, operator, strict, flexible, anchor) x languages
    assert len(csv_lines) == 1 + 4 * 6 * len(LANGS)
    for line in csv_lines[1:]:
        n, k, acc, lo, hi = (float(x) for x in line.split(",")[4:])
        assert lo <= acc <= hi and 0 <= lo and hi <= 100 and acc == pytest.approx(100 * k / n, abs=0.01)
    assert "Headline (95% intervals)" in report and "## Gates" in report and "cut by the cap" in report
    gen = analysis["generation"]["lingualift"]["benchmarks"]["math"]
    assert 0 <= gen["truncated_generations"] <= gen["prompts"]
    from lingualift_core.evaluate.answers import anchor_last_number, math_correct
    anchor = [math_correct(anchor_last_number(r["output"]), float(r["gold"])) for r in ops]
    assert metrics["lingualift"]["math:anchor"]["qab"] == round(100 * sum(anchor) / len(ops), 2)
    assert (eval_dir / "run_meta.json").is_file()


def test_batched_predictions_equal_batch_size_one(evaluated: Path, models: Path, tmp_path: Path) -> None:
    """Batch size 1 in one process == batch size 4 with the systems in two processes (the default), row for row."""
    root = _make_root(tmp_path / "root", models)
    params = _params(batch_size=1, alignment={"enabled": False})
    assert params.evaluate.generation.processes == 2
    stage.run(dataclasses.replace(params, evaluate=dataclasses.replace(
        params.evaluate, generation=dataclasses.replace(params.evaluate.generation, processes=1))), root)
    one = pq.read_table(root / "data/eval/predictions.parquet").to_pylist()
    many = pq.read_table(evaluated / "data/eval/predictions.parquet").to_pylist()
    assert one == many
    # the random models generate something (the comparison is not between empty strings)
    assert sum(bool(r["output"].strip()) for r in one) > len(one) // 2


def test_benchmark_without_valid_rows_fails_naming_the_file(models: Path, tmp_path: Path) -> None:
    root = _make_root(tmp_path / "root", models)
    path = root / "data/raw/benchmarks/math_test.parquet"
    artifacts.write_rows(path, [{"id": "x", "lang": "en", "question": "", "answer": 1.0, "solution": None}],
                         artifacts.MATH)
    with pytest.raises(NoValidRowsError, match=str(path)):
        stage.run(_params(), root)


def _write_task_benchmarks(root: Path) -> tuple[Path, Path]:
    """A two-language XNLI folder (genre layout: English + Swahili columns) and an XCOPA folder with one
    malformed line."""
    xnli = root / "xnli"
    xnli.mkdir()
    lines = ["genre\tlabel\tsentence1_en\tsentence2_en\tsentence1_sw\tsentence2_sw"]
    for i, label in enumerate(["entailment", "neutral", "contradiction"]):
        lines.append(f"g\t{label}\tw{i} w{i + 1}\tw{i + 2}\tx{i} x{i + 1}\tx{i + 2}")
    (xnli / "sw.genre.test.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    xcopa = root / "xcopa" / "data" / "sw"
    xcopa.mkdir(parents=True)
    objs = [{"premise": f"x{i} x{i + 1}", "choice1": f"x{i + 2}", "choice2": f"x{i + 3}",
             "question": "cause" if i % 2 else "effect", "label": i % 2, "idx": i} for i in range(4)]
    text = "\n".join(json.dumps(o) for o in objs) + '\n{"premise": "x1", "label": 3}\n'
    (xcopa / "test.sw.jsonl").write_text(text, encoding="utf-8")
    return xnli, root / "xcopa"


def test_nli_and_multiple_choice_benchmarks(models: Path, tmp_path: Path) -> None:
    root = _make_root(tmp_path / "root", models)
    xnli, xcopa = _write_task_benchmarks(root)
    math = {"source": "artifact", "path": "data/raw/benchmarks/math_test.parquet", "max_per_lang": 2}
    params = _params(alignment={"enabled": False},
                     benchmarks={"math": math, "xnli": {"source": "xnli", "path": str(xnli)},
                                 "xcopa": {"source": "xcopa", "path": str(xcopa), "max_per_lang": 3}})
    metrics = stage.run(params, root)
    # the floor system reads layout-only math problems: it has no NLI / multiple-choice entry
    rules = {"math:strict", "math:flexible", "math:anchor"}
    assert set(metrics["layout_only"]) == {"math", "math:first_step", "math:operator"} | rules
    assert set(metrics["lingualift"]) == {"math", "math:first_step", "math:operator", "xnli", "xcopa"} | rules
    assert set(language_keys(metrics["mono_sft"]["xnli"])) == {"en", "sw"}
    rows = artifacts.read_table(root / "data/eval/predictions.parquet", PREDICTIONS).to_pylist()
    nli = [r for r in rows if r["benchmark"] == "xnli" and r["system"] == "lingualift"]
    assert len(nli) == 6 and {r["gold"] for r in nli} == {"entailment", "neutral", "contradiction"}
    assert all(r["first_step"] is None for r in nli)  # the reading diagnostic is for math only
    assert all(r["correct"] == (r["pred"] == r["gold"]) for r in nli)
    mc = [r for r in rows if r["benchmark"] == "xcopa" and r["system"] == "mono_sft"]
    assert len(mc) == 3 and {r["gold"] for r in mc} <= {"A", "B"}  # max_per_lang: 3 of the 4 valid rows
    analysis = json.loads((root / "data/metrics/evaluate_analysis.json").read_text())
    assert analysis["benchmarks"]["xcopa"]["malformed"] == 1


def test_missing_model_fails_naming_the_folder(models: Path, tmp_path: Path) -> None:
    root = _make_root(tmp_path / "root", models)
    (root / "data/models/mono_sft").unlink()
    with pytest.raises(artifacts.ArtifactError, match="data/models/mono_sft: model folder for system 'mono_sft'"):
        stage.run(_params(alignment={"enabled": False}), root)


# --------------------------------------------------------------------------------------------- library


def test_clean_math_rows_counts_and_selects() -> None:
    result = clean_math_rows(_bench_rows(), "bench.parquet", langs=["qaa", "qae"], max_per_lang=2)
    assert [(r["lang"], r["id"]) for r in result.rows] == [("qaa", "p0"), ("qaa", "p1"), ("qae", "p0"), ("qae", "p1")]
    assert result.report.n_bad == 3  # empty question, no answer (qaa), NaN (qae); other languages skipped
    assert result.report.n_skipped == len(_bench_rows()) - 4 - 3
    assert [reason for _, _, reason in result.report.bad_examples] == [
        "missing or empty 'question'", "answer is not a number: None", "answer is not finite: nan"]
    with pytest.raises(NoValidRowsError, match="no valid rows for language"):
        clean_math_rows(_bench_rows(), "bench.parquet", langs=["qaa", "qad"])
    with pytest.raises(NoValidRowsError, match=r"^b\.parquet: no valid rows \(1 malformed"):
        clean_math_rows([{"id": "1", "lang": "en", "question": "q", "answer": math.inf}], "b.parquet")


def test_match_rows_needs_every_problem() -> None:
    ref = [{"id": "a", "lang": "en"}, {"id": "b", "lang": "en"}]
    rows = [{"id": "b", "lang": "en", "question": "B"}, {"id": "a", "lang": "en", "question": "A"}]
    assert [r["question"] for r in match_rows(rows, ref, "f")] == ["A", "B"]
    with pytest.raises(NoValidRowsError, match="^f: 1 benchmark problem"):
        match_rows(rows[:1], ref, "f")


def test_alpaca_template_reads_like_the_text_template() -> None:
    base = PromptTemplate()
    tpl = eval_template(base, style="alpaca", trigger="Let's think step by step.")
    text = render_prompt(tpl, ("Solve it.", "Q?"), has_encoder=False)
    assert text == COT_TEMPLATE.render("Solve it.", "Q?")
    assert text.endswith("### Response: Let's think step by step.")
    with_enc = render_prompt(tpl, ("Solve it.", "Q?"), has_encoder=True)
    assert with_enc == text.replace("Q?", "<enc_start>Q?<enc_end>")
    # the model style keeps the trained frame and only appends the trigger
    model_style = eval_template(base, style="model", trigger="Go.")
    assert render_prompt(model_style, ("I", "Q"), has_encoder=False) == "I\nQGo."
    assert eval_template(PromptTemplate(response_prefix="A:"), style="model", trigger="Go.").response_prefix == "A: Go."
    with pytest.raises(ValueError, match="unknown prompt style"):
        eval_template(base, style="chat")


def test_solution_token_budget() -> None:
    model = tiny_lingualift(encoder=None, llm_words=WORDS)
    tok = model.llm_tokenizer
    assert solution_token_budget(tok, ["w1 w2 w3 w4", None, "w1"], cap=100) == math.ceil(1.25 * 4) + 8
    assert solution_token_budget(tok, ["w1 " * 200], cap=50) == 50
    assert solution_token_budget(tok, [None, ""], cap=77) == 77


def test_sentence_vectors_ignore_padding() -> None:
    torch.manual_seed(0)
    model = tiny_lingualift(encoder="t5", llm_words=WORDS)
    texts = ["w1 w2", "w3 w4 w5 w6 w7 w8", "w9"]
    for kind in ("aligned", "encoder", "llm_embeddings"):
        together = sentence_vectors(model, texts, kind=kind, batch_size=3)
        alone = [sentence_vectors(model, [t], kind=kind, batch_size=1)[0] for t in texts]
        width = model.config.d_enc if kind == "encoder" else model.config.d_llm
        assert together.shape == (3, width)
        for a, b in zip(together, alone):
            assert a == pytest.approx(b, abs=1e-5)
    mono = tiny_lingualift(encoder=None, llm_words=WORDS)
    with pytest.raises(ValueError, match="needs a model with an encoder"):
        sentence_vectors(mono, texts, kind="aligned")


def test_language_groups() -> None:
    assert language_groups(["qaa", "qaf", "en"], "order_level") == {"qaa": "SVO/high", "qaf": "SOV/low",
                                                                     "en": "real/high"}
    assert language_groups(["sw", "hi"], "paper_group") == {"sw": "other", "hi": "Indo-Iranian"}
    assert default_group_kinds(["en", "qaa"]) == ("level", "word_order", "order_level")
    assert default_group_kinds(["en", "sw"]) == ("level", "family", "script", "paper_group")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"systems": {"a": {"model": "m", "floor": True}}}, "every system is a floor"),
        ({"alignment": {"accuracy_system": "nope"}}, "evaluate.alignment.accuracy_system: got 'nope'"),
        ({"benchmarks": {"bad name": {}}}, "evaluate.benchmarks: name 'bad name'"),
        ({"alignment": {"kinds": ["encoder"]}}, "add aligned to kinds or set tsne: false"),
        ({"benchmarks": {"math": {"source": "gsm"}}}, "evaluate.benchmarks.math.source: got 'gsm'"),
        ({"generation": {"batch_size": 0}}, "evaluate.generation.batch_size: got 0"),
    ],
)
def test_config_errors_are_one_line(data: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_params({"evaluate": data})
    assert message in str(err.value) and "\n" not in str(err.value)


def test_default_instruction_comes_from_the_task_data(tmp_path: Path) -> None:
    path = tmp_path / "sft.parquet"
    artifacts.write_rows(path, [{"id": str(i), "instruction": text, "input": "q", "output": "a", "answer": 1.0}
                                for i, text in enumerate(["A", "B", "B"])], artifacts.SFT)
    assert stage.task_instruction(None, path) == "B"
    assert stage.task_instruction("C", path) == "C"
    with pytest.raises(ConfigError, match="does not exist"):
        stage.task_instruction(None, tmp_path / "none.parquet")


def test_real_benchmark_folders_and_tatoeba_pairs(shared_data: Path) -> None:
    from lingualift_core.config import EvalAlignmentConfig
    from lingualift_core.evaluate.benchmarks import load_math_benchmark

    mgsm = load_math_benchmark("mgsm", shared_data / "mgsm", langs=["en", "sw"], max_per_lang=100)
    assert [sum(r["lang"] == lang for r in mgsm.rows) for lang in ("en", "sw")] == [100, 100]
    assert mgsm.report.n_bad == 0 and mgsm.rows[0]["id"] == "mgsm-0"
    msvamp = load_math_benchmark("msvamp", shared_data / "msvamp", langs=["th"])
    assert len(msvamp.rows) == 1000 and msvamp.report.n_bad == 0
    cfg = EvalAlignmentConfig(source="tatoeba", path=str(shared_data / "tatoeba_laser_v1"), max_pairs=50)
    pairs, report = runner.parallel_pairs(cfg, Path("/"), ["sw", "gu", "qaa"], "en")
    assert list(pairs) == ["sw"] and len(pairs["sw"][0]) == len(pairs["sw"][1]) == 50
    assert report["gu"] == {"skipped": "no Tatoeba test set for this language"}
    assert report["sw"]["pairs"] == 50 and report["sw"]["file"].endswith("tatoeba.swh-eng.swh")
    from lingualift_core.evaluate.benchmarks import load_task_benchmark

    xnli = load_task_benchmark("xnli", shared_data / "xnli_partial", max_per_lang=5)
    assert {r["lang"] for r in xnli.rows} >= {"en", "sw"} and xnli.report.n_bad == 0
    assert all(sum(r["lang"] == lang for r in xnli.rows) == 5 for lang in {r["lang"] for r in xnli.rows})
    xcopa = load_task_benchmark("xcopa", shared_data / "xcopa", langs=["sw", "ht"])
    assert len(xcopa.rows) == 1000 and {r["answer"] for r in xcopa.rows} == {"A", "B"}


def test_generator_leaves_the_saved_template_alone() -> None:
    from lingualift_core.evaluate.systems import ModelGenerator

    model = tiny_lingualift(encoder="t5", llm_words=WORDS)
    saved = model.config.template
    first = ModelGenerator(model, trigger="w9", batch_size=2, max_new_tokens=3)
    assert len(first([("w1", "w2 w3"), ("w1", "w4")])) == 2
    second = ModelGenerator(model, trigger="w9", batch_size=2, max_new_tokens=3)
    assert second.render(("w1", "w2")) == "w1<enc_start>w2<enc_end>w9"  # one trigger, not two
    assert model.config.template == saved


def test_wilson_interval_and_gates(tmp_path: Path) -> None:
    from lingualift_core.config import EvalGatesConfig
    from lingualift_core.evaluate.scoring import wilson_interval
    from lingualift_core.stages.common import Paths

    lo, hi = wilson_interval(50, 100)
    assert lo == pytest.approx(0.4038, abs=1e-3) and hi == pytest.approx(0.5962, abs=1e-3)
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0
    with pytest.raises(ValueError):
        wilson_interval(3, 2)
    paths = Paths(tmp_path)
    for name, metrics in (("base", {"llm": {"english_dev_accuracy": 0.7, "copy_accuracy": 0.5}}),
                          ("stage1", {"parallel_recall_per_lang": {"qaa": 0.9, "qae": 0.2}})):
        artifacts.write_run_meta(paths.data / "models" / name, name, {}, 0, {"metrics": metrics})
    checks = {c["gate"]: c for c in stage.gate_checks(paths, EvalGatesConfig())}
    assert checks["base LLM English dev accuracy"]["ok"] is True
    assert checks["base LLM copy accuracy"]["ok"] is False
    assert checks["stage-1 whole-sentence recall qae"]["ok"] is False
    md = stage.gates_section(list(checks.values()))
    assert md.count("> Warning:") == 2 and "stage-1 whole-sentence recall qae 0.200 < 0.60" in md
