"""Evaluation library: answer extraction, prompts, batched generation, scoring, reports, alignment."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from lingualift_core.evaluate import (
    COT_TEMPLATE,
    DIRECT_TEMPLATE,
    PREDICTIONS,
    PromptTemplate,
    build_predictions,
    comparison_table,
    compute_metrics,
    evaluate_rows,
    extract_math_answer,
    group_results,
    group_table,
    level_averages,
    markdown_report,
    math_correct,
    math_prompt,
    mc_prompt,
    mean_pool,
    nli_prompt,
    parse_choice_letter,
    parse_nli_label,
    plot_accuracy_bars,
    plot_tsne,
    retrieval_accuracy,
    run_generation,
    spearman_alignment,
    correlation_by_level,
    xcopa_prompt,
)
from lingualift_core.sources import load_gsm8k

# ------------------------------------------------------------------------------------------ math answers

MATH_CASES = [
    ("The answer is 18.", 18.0),
    ("She pays $1,080 in total. The answer is 1,080", 1080.0),
    ("The answer is -3.", -3.0),  # the anchors' regex dropped the sign
    ("The temperature falls to -12 degrees.", -12.0),
    ("It changes by \u22127 points", -7.0),  # Unicode minus
    ("She has 5-3=2 apples left.", 2.0),  # "-" between numbers is no sign
    ("10 - 5", 5.0),
    ("It takes 3.5 hours.", 3.5),
    ("The answer is $1,234.50.", 1234.5),
    ("1,000,000 people", 1_000_000.0),
    ("We count 1, 2, 3", 3.0),  # ", " separates numbers
    ("The score is 3,5", 5.0),  # not a thousands group
    ("First 12 then 7 and finally 42 eggs", 42.0),
    ("The answer is 10.\nLater text mentions 99.", 10.0),  # anchor beats the last number
    ("The answer is 10.\nThe answer is 20 and 3.", 20.0),  # last anchor
    ("The answer is: 18", 18.0),  # MetaMath style
    ("The final answer is **12** apples", 12.0),
    ("the final answer is 15 gallons * 8 pints / gallon = 120 pints\n#### 120", 120.0),  # GSM8K train 7158
    ("The answer is 5 + 3 = 8. Then x = 2 is unrelated", 8.0),
    ("the answer is eighteen. So 7 apples", 7.0),  # anchor without a number: fall back
    ("Step-by-Step Answer: Roger started with 5 balls. 5 + 6 = 11.", 11.0),  # prefix is no anchor
    ("so \\boxed{42} is it. 7 more", 42.0),
    ("\\boxed{\\frac{3}{4}}", 0.75),
    ("The answer is \\boxed{-4}", -4.0),
    ("The answer is 3/4", 0.75),
    ("48/2 = 24", 24.0),
    ("answer 50%", 50.0),
    ("\u7b54\u6848\u662f\uff11\uff18", 18.0),  # full-width digits after CJK text
    ("\u0989\u09a4\u09cd\u09a4\u09b0 \u09e7\u09e8", 12.0),  # Bengali digits
    ("no number at all", None),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize(("text", "expected"), MATH_CASES)
def test_extract_math_answer(text, expected) -> None:
    assert extract_math_answer(text) == expected


def test_extract_math_answer_fractions_off() -> None:
    assert extract_math_answer("The answer is 3/4", fractions=False) == 3.0


def test_math_correct() -> None:
    assert math_correct(18.0, 18.0) and math_correct(18.0004, 18.0) and not math_correct(18.01, 18.0)
    assert not math_correct(None, 18.0) and not math_correct(float("nan"), 1.0)
    assert math_correct(0.3333, 1 / 3) and math_correct(5.0, 5.4, tol=0.5)


GOLD_SOLUTION = "Lily has 20 oranges. Lily gives 6 oranges to Umar, so Lily has 20 - 6 = 14 oranges. The answer is 14."


@pytest.mark.parametrize("output, expected", [
    ("Lily has 20 oranges. Lily gives 6, so Lily has 20 - 6 = 9 oranges. The answer is 9.", True),  # bad arithmetic
    ("Lily has 11 oranges, so Lily has 11 - 6 = 5 oranges.", False),     # wrong quantity read
    ("so Lily has 20 + 6 = 26 oranges.", False),                         # wrong operation
    ("so Lily has 6 - 20 = -14.", False),                                # subtraction is ordered
    ("20−6=14", True),                                              # unicode minus, no spaces
    ("The answer is 14.", False),                                        # no equation at all
    ("", False),
])
def test_first_step_correct(output, expected) -> None:
    from lingualift_core.evaluate.answers import first_step_correct

    assert first_step_correct(output, GOLD_SOLUTION) is expected


def test_first_step_commutes_for_sums_and_products_only() -> None:
    from lingualift_core.evaluate.answers import first_step, first_step_correct

    assert first_step("so 3 x 4 = 12 and 5 + 1 = 6") == (3.0, "*", 4.0)
    assert first_step_correct("4 * 3 = 12", "3 x 4 = 12") and first_step_correct("6 + 2 = 8", "2 + 6 = 8")
    assert first_step_correct("anything", "The answer is 4.") is None  # no reference equation: no verdict


def test_gold_answers_of_mgsm_and_msvamp_parse(shared_data: Path) -> None:
    """Every gold answer text of the real files reads as the right number."""
    n = 0
    for path in sorted((shared_data / "mgsm").glob("mgsm_*.tsv")):
        with open(path, encoding="utf-8", newline="") as handle:
            for _question, answer in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
                assert extract_math_answer(answer) == float(int(answer.replace(",", ""))), (path, answer)
                n += 1
    for path in sorted((shared_data / "msvamp").glob("test_*.json")):
        for line in path.read_text(encoding="utf-8").splitlines():
            response = json.loads(line)["response"]
            assert extract_math_answer(response) == float(response), (path, response)
            n += 1
    assert n == 2750 + 10000


def test_gsm8k_rationales_parse(shared_data: Path) -> None:
    """Long real chain-of-thought texts: the rewritten solutions (negatives and commas included) parse back,
    and so do the raw GSM8K answers ending '#### N' (last number)."""
    for split in ("train", "test"):
        rows, _ = load_gsm8k(shared_data / "gsm8k" / f"{split}.jsonl")
        assert all(extract_math_answer(r["output"]) == r["answer"] for r in rows)
        raw = [json.loads(x)["answer"] for x in (shared_data / "gsm8k" / f"{split}.jsonl").read_text().splitlines()]
        assert all(extract_math_answer(a) == r["answer"] for a, r in zip(raw, rows))


# ----------------------------------------------------------------------------------------- NLI and MC

NLI_CASES = [
    ("Entailment.", "entailment"),
    ("CONTRADICTION!", "contradiction"),
    ("neutral", "neutral"),
    ("The answer is: neutral", "neutral"),
    ("Answer: Contradiction", "contradiction"),
    ("The premise entails the hypothesis.", "entailment"),
    ("The hypothesis contradicts the premise", "contradiction"),
    ("Yes", "entailment"),
    ("yes, because the premise says so", "entailment"),
    ("Maybe.", "neutral"),
    ("No.", "contradiction"),
    ("True", "entailment"),
    ("The answer is no", "contradiction"),
    ("There is no information, so it is neutral", "neutral"),  # "no" inside a sentence does not count
    ("I cannot tell", None),
    ("", None),
]


@pytest.mark.parametrize(("text", "expected"), NLI_CASES)
def test_parse_nli_label(text, expected) -> None:
    assert parse_nli_label(text) == expected


MC_CASES = [
    ("B", 5, "B"),
    ("(C)", 5, "C"),
    ("(c) library", 5, "C"),
    ("D. the kitchen", 5, "D"),
    ("E) road", 5, "E"),
    ("The answer is (B).", 5, "B"),
    ("Answer: A", 5, "A"),
    ("The answer is B because ...", 5, "B"),
    ("A man would go to the library (A)... no wait, (D)", 5, "D"),
    ("A man would go there.", 5, None),  # the article is not an answer
    ("The answer is F", 5, None),  # beyond the options
    ("Answer: B", 2, "B"),
    ("", 5, None),
]


@pytest.mark.parametrize(("text", "n", "expected"), MC_CASES)
def test_parse_choice_letter(text, n, expected) -> None:
    assert parse_choice_letter(text, n_choices=n) == expected


def test_parse_choice_letter_by_option_text() -> None:
    assert parse_choice_letter("You find books in a library.", 3, choices=["river", "library", "sky"]) == "B"
    assert parse_choice_letter("river or sky", 3, choices=["river", "library", "sky"]) is None


# -------------------------------------------------------------------------------------------- prompts


def test_cot_template_and_parts() -> None:
    instruction, question = math_prompt("  Wie viel ist 2+2?  ")
    assert question == "Wie viel ist 2+2?"
    text = COT_TEMPLATE.render(instruction, question)
    assert text.endswith("### Response: Let's think step by step.")
    assert text.startswith("Below is an instruction that describes a task.")
    before, inp, after = COT_TEMPLATE.parts(instruction, question)
    assert before + inp + after == text and inp == question
    assert "### Instruction:\nSolve the following math word problem.\nWie viel" in text
    # MetaMath-style: no instruction -> the question alone fills the instruction section
    assert COT_TEMPLATE.render("", "Q?") == ("Below is an instruction that describes a task. Write a response that "
                                             "appropriately completes the request.\n\n### Instruction:\nQ?\n\n"
                                             "### Response: Let's think step by step.")
    assert DIRECT_TEMPLATE.render("I", "x").endswith("### Response:")
    custom = COT_TEMPLATE.with_trigger("Think carefully.")
    assert custom.render("I", "x").endswith("### Response: Think carefully.")
    assert PromptTemplate(preamble="").render("I", "x").startswith("### Instruction:")


def test_task_prompts() -> None:
    inst, inp = nli_prompt("P.", "H.")
    assert "entailment, neutral, or contradiction" in inst and inp == "Premise: P.\nHypothesis: H."
    inst, inp = mc_prompt("Where?", ["a", "b", "c"])
    assert inp == "Where?\nA. a\nB. b\nC. c" and "letter" in inst
    assert xcopa_prompt("It rained.", ["x", "y"], "effect")[1].startswith("It rained. What happened as a result?")
    with pytest.raises(ValueError):
        mc_prompt("Q", ["a", "b"], labels=["A"])


# ------------------------------------------------------------------------------------ generation + table


def _fake_generate(calls: list[int]):
    def generate(batch):
        calls.append(len(batch))
        return [f"{inp} -> The answer is {len(inp)}." for _, inp in batch]
    return generate


def test_run_generation_batches_and_order() -> None:
    prompts = [("i", "x" * k) for k in (3, 1, 4, 1, 5, 9, 2)]
    calls: list[int] = []
    progress = []
    out = run_generation(_fake_generate(calls), prompts, batch_size=3,
                         on_batch=lambda done, total, outs: progress.append((done, total, len(outs))))
    assert calls == [3, 3, 1] and progress == [(3, 7, 3), (6, 7, 3), (7, 7, 1)]
    assert out == [f"{p[1]} -> The answer is {len(p[1])}." for p in prompts]
    sorted_out = run_generation(_fake_generate([]), prompts, batch_size=2, sort_by_length=True)
    assert sorted_out == out  # order restored
    assert run_generation(_fake_generate([]), prompts, batch_size=1) == out


def test_run_generation_errors() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        run_generation(lambda b: b, [("i", "x")], batch_size=0)
    with pytest.raises(ValueError, match="returned 1 outputs for a batch of 2"):
        run_generation(lambda b: ["only one"], [("i", "x"), ("i", "y")], batch_size=2)
    assert run_generation(lambda b: [], [], batch_size=4) == []


def test_build_predictions_math_nli_mc() -> None:
    rows = [{"id": "mgsm-0", "lang": "sw", "question": "abc", "answer": 3.0},
            {"id": "mgsm-1", "lang": "sw", "question": "abcd", "answer": 5.0}]
    table = evaluate_rows(_fake_generate([]), rows, system="s", benchmark="mgsm", task="math", batch_size=8)
    assert table.schema.names == PREDICTIONS.columns
    assert table.schema.metadata[b"lingualift.schema"] == b"predictions"
    assert table.column("correct").to_pylist() == [True, False]
    assert table.column("pred").to_pylist() == ["3", "4"] and table.column("gold").to_pylist() == ["3", "5"]
    assert table.column("prompt")[0].as_py().endswith("Let's think step by step.")
    nli_rows = [{"id": "x-0", "lang": "sw", "premise": "P", "hypothesis": "H", "label": "neutral"}]
    nli = build_predictions(nli_rows, [nli_prompt("P", "H")], ["Neutral."], system="s", benchmark="xnli", task="nli")
    assert nli.column("correct").to_pylist() == [True]
    mc_rows = [{"id": "c-0", "lang": "sw", "question": "Q", "choices": ["a", "b"], "labels": ["A", "B"], "answer": "B"}]
    mc = build_predictions(mc_rows, [mc_prompt("Q", ["a", "b"])], ["(A)"], system="s", benchmark="xcopa", task="mc")
    assert mc.column("pred").to_pylist() == ["A"] and mc.column("correct").to_pylist() == [False]
    unreadable = build_predictions(rows[:1], [math_prompt("abc")], ["no idea"], system="s", benchmark="m", task="math")
    assert unreadable.column("pred").to_pylist() == [None] and unreadable.column("correct").to_pylist() == [False]


# ----------------------------------------------------------------------------------------- scoring/report

LEVELS = {"sw": "low", "bn": "low", "hr": "medium", "de": "high", "en": "high"}


def _predictions(system: str, benchmark: str, acc: dict[str, tuple[int, int]]) -> pa.Table:
    rows = []
    for lang, (correct, n) in acc.items():
        for i in range(n):
            rows.append({"id": f"{benchmark}-{i}", "lang": lang, "system": system, "benchmark": benchmark,
                         "prompt": "p", "output": "o", "pred": "1", "gold": "1", "correct": i < correct})
    return pa.Table.from_pylist(rows, schema=PREDICTIONS.schema)


def _tables():
    return [
        _predictions("lingualift", "mgsm", {"sw": (1, 2), "bn": (2, 4), "hr": (3, 4), "de": (4, 4), "en": (1, 4)}),
        _predictions("layout_only", "mgsm", {"sw": (0, 2), "bn": (1, 4), "hr": (0, 4), "de": (1, 4), "en": (0, 4)}),
        _predictions("lingualift", "msvamp", {"sw": (1, 1), "xx": (0, 1)}),
    ]


def test_compute_metrics_shape_and_averages() -> None:
    metrics = compute_metrics(_tables(), LEVELS)
    entry = metrics["lingualift"]["mgsm"]
    assert entry["sw"] == 50.0 and entry["en"] == 25.0
    assert entry["avg_low"] == 50.0 and entry["avg_medium"] == 75.0
    assert entry["avg_high"] == 62.5 and entry["avg_all"] == 60.0 and entry["high_includes_en"] is True
    no_en = compute_metrics(_tables(), LEVELS, english_in_high=False)["lingualift"]["mgsm"]
    assert no_en["avg_high"] == 100.0 and no_en["avg_all"] == 60.0 and no_en["high_includes_en"] is False
    msvamp = metrics["lingualift"]["msvamp"]  # unlevelled language only counts in avg_all; empty levels -> None
    assert msvamp["avg_low"] == 100.0 and msvamp["avg_medium"] is None and msvamp["avg_all"] == 50.0
    json.dumps(metrics)  # JSON-serialisable for data/metrics/eval.json
    assert level_averages({"sw": 10.0}, {"sw": "low"})["avg_high"] is None
    with pytest.raises(ValueError, match="level of"):
        level_averages({"sw": 1.0}, {"sw": "tiny"})


def test_duplicate_predictions_are_an_error() -> None:
    table = _predictions("s", "b", {"sw": (1, 2)})
    with pytest.raises(ValueError, match="duplicate prediction"):
        compute_metrics([table, table], LEVELS)


def test_comparison_table_and_report_with_floor(tmp_path: Path) -> None:
    metrics = compute_metrics(_tables(), LEVELS)
    table = comparison_table(metrics, "mgsm", levels=LEVELS)
    lines = table.splitlines()
    assert lines[0] == "| lang | level | floor (layout_only) | lingualift |"
    assert [line.split("|")[1].strip() for line in lines[2:7]] == ["bn", "sw", "hr", "de", "en"]  # by level
    assert "| sw | low | 0.0 | 50.0 |" in lines
    assert "| **avg high** |  | 12.5 | 62.5 |" in lines
    report = markdown_report(metrics, LEVELS, notes=["tiny run"], extra_sections={"Alignment": "rho = 0.7"},
                             plots={"mgsm": "plots/mgsm.png"})
    assert "English **is included** in the high-resource average" in report
    assert "## mgsm" in report and "## msvamp" in report and "## Alignment" in report
    assert "floor (layout_only)" in report and "![mgsm accuracy per language](plots/mgsm.png)" in report
    no_floor = comparison_table(metrics, "msvamp", levels=LEVELS)
    assert "floor" not in no_floor and "| xx | – | 0.0 |" in no_floor
    png = plot_accuracy_bars(metrics, "mgsm", LEVELS, tmp_path / "plots" / "mgsm.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


# ----------------------------------------------------------------------------------------------- alignment


def test_mean_pool() -> None:
    hidden = np.arange(12, dtype=float).reshape(2, 3, 2)
    mask = np.array([[1, 1, 0], [0, 0, 0]])
    assert np.allclose(mean_pool(hidden, mask), [[1.0, 2.0], [0.0, 0.0]])


def test_retrieval_accuracy() -> None:
    rng = np.random.default_rng(0)
    src = rng.normal(size=(50, 16))
    assert retrieval_accuracy(src, src * 3.0) == {"src2tgt": 1.0, "tgt2src": 1.0, "mean": 1.0, "n": 50.0}
    shuffled = src[np.r_[1:50, 0]]  # every pair broken
    assert retrieval_accuracy(src, shuffled)["src2tgt"] == 0.0
    half = src.copy()
    half[:25] = src[np.r_[1:25, 0]]
    res = retrieval_accuracy(src, half, chunk=7)
    assert res["src2tgt"] == 0.5 and res["tgt2src"] == 0.5
    # asymmetric case: many sources pile onto one hub target
    hub = np.vstack([np.ones((1, 4)), np.eye(4)[:3] + 0.01])
    queries = np.vstack([np.ones((1, 4)), np.ones((3, 4)) + np.eye(4)[:3] * 0.01])
    res = retrieval_accuracy(queries, hub)
    assert res["src2tgt"] == 0.25 and res["tgt2src"] == 1.0
    with pytest.raises(ValueError, match="same shape"):
        retrieval_accuracy(src, src[:10])


def test_spearman_and_levels() -> None:
    retrieval = {"sw": 0.2, "bn": 0.4, "te": 0.6, "de": 0.9, "fr": 0.8, "ja": 0.7}
    accuracy = {"sw": 10.0, "bn": 20.0, "te": 30.0, "de": 60.0, "fr": 50.0, "ja": 40.0}
    res = spearman_alignment(retrieval, accuracy)
    assert res.rho == pytest.approx(1.0) and res.n == 6
    assert np.isnan(spearman_alignment({"a": 1, "b": 2}, {"a": 1, "b": 2}).rho)
    by_level = correlation_by_level(retrieval, accuracy, {"sw": "low", "bn": "low", "te": "low",
                                                          "de": "high", "fr": "high", "ja": "high"})
    assert by_level["low"].rho == pytest.approx(1.0) and np.isnan(by_level["medium"].rho)
    assert by_level["all"].as_dict()["n"] == 6 and by_level["medium"].as_dict()["rho"] is None


def test_tsne_plot(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    vectors = np.vstack([rng.normal(loc=k * 5.0, size=(20, 8)) for k in range(3)])
    langs = ["sw"] * 20 + ["de"] * 20 + ["th"] * 20
    coords = plot_tsne(vectors, langs, tmp_path / "tsne.png", perplexity=10, max_per_lang=15, max_iter=250)
    assert coords.shape == (45, 2)
    assert (tmp_path / "tsne.png").read_bytes()[:4] == b"\x89PNG"


def test_group_by_family_and_script() -> None:
    acc = {"af": 40.0, "is": 20.0, "be": 30.0, "ta": 10.0}
    family = {"af": "Germanic", "is": "Germanic", "be": "Slavic"}
    grouped = group_results(acc, family)
    assert grouped["Germanic"] == {"mean": 30.0, "n": 2, "langs": ["af", "is"]}
    assert grouped["unknown"]["langs"] == ["ta"]
    table = group_table({"lingualift": acc, "mono": {"af": 0.0}}, family, kind="family")
    assert "| Germanic | af is | 30.0 | 0.0 |" in table and "| Slavic | be | 30.0 | – |" in table
