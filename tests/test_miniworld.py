"""The compact world of the embedded default (toyworld/mini.py): honest problems, splits, relexification."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from lingualift_core.evaluate.answers import extract_math_answer, first_step
from lingualift_core.toyworld import layout_only
from lingualift_core.toyworld.mini import build_mini_world
from lingualift_core.toyworld.mini_spec import KINDS, MiniWorldSpec

CODES = ["qaa", "qab", "qac", "qae"]


@pytest.fixture(scope="module")
def world():
    return build_mini_world(7, CODES, MiniWorldSpec(kinds=KINDS))  # every kind, transfer included


def _solve(text: str) -> int:
    """An independent solver of the English problem text (state machine over the statements)."""
    gain = {"finds", "buys", "gets", "wins", "picks", "makes", "collects", "bakes"}
    loss = {"loses", "eats", "sells", "drops", "breaks", "uses", "hides", "burns"}
    words = text.split()
    statements = [words[i:i + 7] for i in range(0, len(words) - 8, 7)]
    question = words[-8:]
    assert len(words) == 7 * len(statements) + 8
    obj, person = question[2], question[4]
    state: dict[tuple[str, str], int] = {}
    # a distractor may change the items of someone whose count is never stated: unknown stays unknown
    for p, verb, n, x, adp, other, _ in statements:
        n = int(n)
        if verb == "has":
            state[(p, x)] = n
        elif verb in gain and (p, x) in state:
            state[(p, x)] += n
        elif verb in loss and (p, x) in state:
            state[(p, x)] -= n
        elif verb in gain | loss:
            continue
        elif verb == "gives":
            state[(p, x)] -= n
            state[(other, x)] += n
        elif verb == "takes":
            state[(p, x)] += n
            state[(other, x)] -= n
        else:
            raise AssertionError(verb)
    return state[(person, obj)]


def test_problems_are_solvable_and_solutions_agree(world):
    problems = world.problems(400, "train", seed=1)
    assert Counter(p.kind for p in problems) == {k: 100 for k in KINDS}
    for p in problems:
        assert _solve(p.text) == p.answer
        assert extract_math_answer(p.solution) == p.answer
        assert first_step(p.solution) is not None
        assert 0 <= p.answer <= world.spec.max_answer


def test_every_statement_has_seven_tokens_and_kinds_share_layouts(world):
    problems = world.problems(400, "test")
    for p in problems:
        for tokens, _ in p.sentences[:-1]:
            assert len(tokens) == 7
        assert p.sentences[-1][0][:2] == ("how", "many")
    layouts_by_kind = {k: {re.sub(r"\d+", "N", layout_only(p.text)) for p in problems if p.kind == k} for k in KINDS}
    # one-step gain and loss problems look the same to a reader who sees no words
    assert layouts_by_kind["gain"] == layouts_by_kind["loss"]


def test_the_operation_is_not_predictable_from_the_object(world):
    problems = world.problems(800, "train")
    ops = Counter((p.sentences[-1][0][2], first_step(p.solution)[1]) for p in problems if p.kind in ("gain", "loss"))
    for obj in world.objects:
        assert ops[(obj, "+")] > 0 and ops[(obj, "-")] > 0


def test_reading_practice_adds_one_distractor_and_keeps_the_answers(world):
    spec = world.problems(300, "train", seed=1)
    practice = world.problems(300, "train", seed=1, extra_distractors=1)
    assert world.problems(300, "train", seed=1, extra_distractors=0) == spec
    unused = Counter()
    for p in practice:
        assert _solve(p.text) == p.answer  # the extra statement never touches the asked count
        used = sum(1 for s in p.solution.split(" . ") if "=" not in s and "answer" not in s)
        stated = len(p.sentences) - 1 - (1 if p.kind == "transfer" else 0)  # transfer: Q's count is read, not restated
        unused[stated - used] += 1
    assert set(unused) == {1, 2} and unused[2] > 100  # the spec's distractor (60%) plus the extra one
    assert {p.text for p in practice}.isdisjoint({p.text for p in world.problems(300, "test")})
    with pytest.raises(ValueError, match="extra_distractors"):
        world.problems(5, "train", extra_distractors=50)


def test_splits_are_disjoint_by_text(world):
    texts = {split: {p.text for p in world.problems(300, split)} for split in ("train", "dev", "test")}
    assert not texts["train"] & texts["test"] and not texts["train"] & texts["dev"] and not texts["dev"] & texts["test"]


def test_relexification_is_one_to_one_and_verb_final_moves_the_verb(world):
    lex = dict(world.gold_lexicon("qab"))
    assert len(set(lex.values())) == len(lex)
    tokens, verb = ("Tom", "finds", "3", "apples", "at", "home", "."), 1
    same = world.render(tokens, verb, "qaa").split()
    final = world.render(tokens, verb, "qab").split()
    assert same[0] == "Tom" and same[2] == "3" and same[-1] == "."
    assert final[-2] == lex["finds"] and final[1] == "3"


def test_toy_corpora_hold_no_problem_and_english_no_test_problem(world):
    test = {p.text for p in world.problems(200, "test")}
    english = world.sentences("en", 3000)
    assert not test & set(english)
    toy = " ".join(world.sentences("qaa", 3000))
    assert not any(world.problem_text(p, "qaa") in toy for p in world.problems(50, "train"))
    assert not any(p.text in line for line in english for p in world.problems(20, "test"))


def test_deterministic_and_seed_dependent():
    a, b = build_mini_world(3, CODES), build_mini_world(3, CODES)
    assert a.sentences("qac", 50) == b.sentences("qac", 50)
    assert a.gold_lexicon("qac") != build_mini_world(4, CODES).gold_lexicon("qac")


@pytest.mark.parametrize("kw", [{"names": 1}, {"kinds": ()}, {"kinds": ("gain", "nope")},
                                {"min_quantity": 30, "max_quantity": 20}, {"line_sentences": 0}])
def test_invalid_specs_are_refused(kw):
    with pytest.raises(ValueError):
        MiniWorldSpec(**kw)


def test_benchmark_has_the_same_problems_in_every_language(world):
    rows = world.benchmark(20, langs=["en", "qaa", "qab"])
    by_lang = Counter(r["lang"] for r in rows)
    assert by_lang == {"en": 20, "qaa": 20, "qab": 20}
    en = {r["id"]: r for r in rows if r["lang"] == "en"}
    for r in rows:
        assert r["answer"] == en[r["id"]]["answer"]
        assert re.findall(r"\d+", r["question"]) == re.findall(r"\d+", en[r["id"]]["question"]) or r["lang"] == "qab"


def test_the_dev_benchmark_is_the_dev_split_in_every_language(world):
    rows = world.benchmark(30, langs=["en", "qaa"], split="dev")
    dev = world.problems(30, "dev")
    assert [r["question"] for r in rows if r["lang"] == "en"] == [p.text for p in dev]
    assert {r["id"] for r in rows} == {p.id for p in dev}
    assert {r["question"] for r in rows}.isdisjoint({p.text for p in world.problems(300, "test")})


def test_numbers_do_not_tell_the_operation(world):
    """Every change could go either way: the amount before it is at least the change, and adding stays in range."""
    for p in world.problems(400, "train", seed=3):
        for eq in [e for e in p.solution.split(" . ") if "=" in e]:
            a, op, n, _, new = eq.split()
            a, n = int(a), int(n)
            assert n <= a and a + n <= world.spec.max_answer, (p.text, eq)
