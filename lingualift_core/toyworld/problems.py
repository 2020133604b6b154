"""Multi-step math word problems whose solution needs the words, not the layout.

A problem is a list of :class:`Statement` s about people owning items plus a :class:`Question`. Which
operation a statement performs is carried only by words: the verb (gives/sells/sends/lends vs
receives/gets/buys/takes/borrows; finds/buys/picks/... vs loses/eats/sells/uses/...), the adposition that
goes with it (to/from), the comparative (more/fewer/times), the item (distractors about other items) and the
people asked about. Every statement of a problem has the same shape (``NAME VERB N w w w w.`` in the short
style, ``NAME VERB N w w w w w w.`` in the long one), every question has nine words, and distractor
statements (same shape, with a number) sit at random positions: the layout of a problem tells its style and
number of statements, nothing else. See ``layout.py`` for the layout-only floor.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .english import DAYS, GENDER, NAMES, english_plural
from .frames import NP, PP, Clause, Compare, Frame, HowMany, Sentence

__all__ = [
    "ITEMS",
    "MATH_INSTRUCTION",
    "MathProblem",
    "Question",
    "Statement",
    "generate_problem",
    "math_concepts",
    "problem_frames",
    "solution_text",
    "solve",
]

MATH_INSTRUCTION = "Solve the following math problem step by step."

ITEMS: tuple[str, ...] = (
    "apple", "pear", "orange", "egg", "cookie", "banana", "cake", "marble", "sticker", "book", "pencil", "pen",
    "coin", "card", "stamp", "shell", "flower", "toy", "ball", "cup",
)
_FOOD = ("apple", "pear", "orange", "egg", "cookie", "banana", "cake")
_COLLECT = ("marble", "sticker", "coin", "card", "stamp", "shell", "flower")
_LENDABLE = ("book", "pencil", "pen", "ball", "toy", "marble", "coin", "card", "cup")

# verb -> (items it goes with or None for all, weight). Direction: +1 the subject gains, -1 it loses.
GAIN_VERBS: dict[str, tuple[tuple[str, ...] | None, float]] = {
    "find": (None, 3), "buy": (None, 3), "get": (None, 2), "pick": (("apple", "pear", "orange", "flower"), 1),
    "collect": (_COLLECT, 1), "win": (("marble", "sticker", "coin", "card", "toy", "ball"), 1),
    "bake": (("cookie", "cake"), 1), "make": (("cookie", "cake", "card", "toy"), 1),
}
LOSS_VERBS: dict[str, tuple[tuple[str, ...] | None, float]] = {
    "lose": (None, 3), "sell": (None, 2), "eat": (_FOOD, 3), "use": (("sticker", "stamp", "pencil", "pen", "card"), 1),
    "drop": (None, 1), "break": (("egg", "cup", "toy", "pencil"), 1),
}
OUT_VERBS: dict[str, tuple[tuple[str, ...] | None, float]] = {  # subject gives to the other person ("to")
    "give": (None, 5), "sell": (None, 2), "send": (("card", "stamp", "book", "flower", "sticker", "cookie"), 1),
    "lend": (_LENDABLE, 1),
}
IN_VERBS: dict[str, tuple[tuple[str, ...] | None, float]] = {  # subject gets from the other person ("from")
    "receive": (None, 3), "get": (None, 2), "buy": (None, 2), "take": (None, 2), "borrow": (_LENDABLE, 1),
}
_COLORS = ("red", "blue", "green", "yellow", "white", "black", "brown", "pink", "orange")
_SIZES = ("big", "small", "old", "new", "little")
_CONTAINERS = ("bag", "box", "basket")
_BARE = (("at", "school"), ("at", "home"), ("at", "work"), ("in", "town"))
_LONG_PLACES = ("garden", "house", "room", "kitchen", "car", "office", "shop")
_COMPANIONS = ("friend", "brother", "sister", "mother", "father", "teacher")


@dataclass(frozen=True)
class Statement:
    """One sentence of a problem (all present tense).

    kind: ``"has"`` (person has n items), ``"change"`` (person gains/loses n items, the verb decides),
    ``"transfer"`` (person gives to / gets from ``other``; the verb decides the direction), ``"compare"``
    (person has n more / n fewer / n times as many items as ``other``).
    ``pps``/``adv`` are the wording of the padding phrases (place, time, container); they carry no number.
    """

    kind: str
    person: str
    item: str
    n: int
    verb: str = "have"
    other: str | None = None
    comp: str | None = None
    long: bool = False
    pps: tuple[PP, ...] = ()
    adv: str | None = None


@dataclass(frozen=True)
class Question:
    """``"count"`` (items of ``person``), ``"total"`` (person + other), ``"diff"`` (``person`` has ``comp``
    = more/fewer items than ``other``: the answer is the absolute difference)."""

    kind: str
    item: str
    person: str
    other: str | None = None
    comp: str | None = None


@dataclass(frozen=True)
class MathProblem:
    id: str
    statements: tuple[Statement, ...]
    question: Question
    answer: int
    steps: int
    split: str = "train"

    @property
    def numbers(self) -> tuple[int, ...]:
        return tuple(s.n for s in self.statements)


def direction(s: Statement) -> int:
    """+1 if the subject of a change/transfer statement gains items, -1 if it loses them (the verb decides)."""
    if s.kind == "change":
        return 1 if s.verb in GAIN_VERBS else -1
    if s.kind == "transfer":
        return 1 if s.verb in IN_VERBS else -1
    raise ValueError(s.kind)


# ---------------------------------------------------------------------------------------------- solving
@dataclass
class _Update:
    key: tuple[str, str]
    before: int | None
    after: int | None
    op: str  # "set" | "+" | "-" | "*"
    operand: int
    ref: tuple[str, str] | None = None  # compare: the reference key
    ref_value: int = 0


def _simulate(statements: tuple[Statement, ...] | list[Statement]) -> list[list[_Update]] | None:
    """Per statement, the updates it makes; None if the story is inconsistent (negative or undefined)."""
    state: dict[tuple[str, str], int] = {}
    out: list[list[_Update]] = []
    for s in statements:
        ups: list[_Update] = []
        key = (s.person, s.item)
        if s.kind == "has":
            ups.append(_Update(key, state.get(key), s.n, "set", s.n))
        elif s.kind == "change":
            cur = state.get(key)
            d = direction(s)
            if cur is not None:
                ups.append(_Update(key, cur, cur + d * s.n, "+" if d > 0 else "-", s.n))
            else:
                ups.append(_Update(key, None, None, "+" if d > 0 else "-", s.n))
        elif s.kind == "transfer":
            assert s.other is not None
            d = direction(s)
            for k, dd in ((key, d), ((s.other, s.item), -d)):
                cur = state.get(k)
                ups.append(_Update(k, cur, None if cur is None else cur + dd * s.n, "+" if dd > 0 else "-", s.n))
        elif s.kind == "compare":
            assert s.other is not None
            ref = state.get((s.other, s.item))
            if ref is None:
                return None
            if s.comp == "more":
                val, op = ref + s.n, "+"
            elif s.comp == "fewer":
                val, op = ref - s.n, "-"
            else:
                val, op = ref * s.n, "*"
            ups.append(_Update(key, state.get(key), val, op, s.n, ref=(s.other, s.item), ref_value=ref))
        else:
            raise ValueError(s.kind)
        for u in ups:
            if u.after is not None and u.after < 0:
                return None
            if u.after is None:
                state.pop(u.key, None)
            else:
                state[u.key] = u.after
        out.append(ups)
    return out


def _question_keys(q: Question) -> list[tuple[str, str]]:
    keys = [(q.person, q.item)]
    if q.other is not None:
        keys.append((q.other, q.item))
    return keys


def _relevance(statements: tuple[Statement, ...] | list[Statement], q: Question,
               updates: list[list[_Update]]) -> list[list[bool]]:
    """Which updates the answer depends on (backward from the question)."""
    needed = set(_question_keys(q))
    rel = [[False] * len(ups) for ups in updates]
    for i in range(len(updates) - 1, -1, -1):
        for j, u in enumerate(updates[i]):
            if u.key not in needed:
                continue
            rel[i][j] = True
            if u.op == "set":
                needed.discard(u.key)
            elif u.ref is not None:
                needed.discard(u.key)
                needed.add(u.ref)
    return rel


def _final_values(statements: tuple[Statement, ...] | list[Statement], q: Question) -> list[int | None]:
    updates = _simulate(statements)
    if updates is None:
        return [None]
    state: dict[tuple[str, str], int | None] = {}
    for ups in updates:
        for u in ups:
            state[u.key] = u.after
    return [state.get(k) for k in _question_keys(q)]


def solve(statements: tuple[Statement, ...] | list[Statement], question: Question) -> int | None:
    """The answer implied by the words of the problem; None if undefined or inconsistent."""
    vals = _final_values(statements, question)
    if any(v is None for v in vals):
        return None
    if question.kind == "count":
        return vals[0]
    a, b = vals
    assert a is not None and b is not None
    if question.kind == "total":
        return a + b
    if question.kind == "diff":
        return a - b if question.comp == "more" else b - a
    raise ValueError(question.kind)


def _count_steps(statements: tuple[Statement, ...] | list[Statement], q: Question) -> int | None:
    updates = _simulate(statements)
    if updates is None:
        return None
    rel = _relevance(statements, q, updates)
    steps = sum(1 for ups, r in zip(updates, rel) for u, x in zip(ups, r) if x and u.op != "set")
    return steps + (1 if q.kind in ("total", "diff") else 0)


# ------------------------------------------------------------------------------------------- solution
def _items(n: int, item: str) -> str:
    return f"{n} {item if n == 1 else english_plural(item)}"


def _third(verb: str) -> str:
    from .english import VERBS

    return dict(VERBS[verb].forms)["3sg"]


def solution_text(problem: MathProblem) -> str:
    """English chain-of-thought over the statements the answer depends on, ending "The answer is N."."""
    sts, q = problem.statements, problem.question
    updates = _simulate(sts)
    assert updates is not None
    rel = _relevance(sts, q, updates)
    lines: list[str] = []
    for s, ups, r in zip(sts, updates, rel):
        if not any(r):
            continue
        items = english_plural(s.item)
        if s.kind == "has":
            lines.append(f"{s.person} has {_items(s.n, s.item)}.")
            continue
        if s.kind == "compare":
            u = ups[0]
            if s.comp == "times":
                what = f"{s.n} times as many {items} as {s.other}"
            else:
                what = f"{s.n} {s.comp} {items} than {s.other}"
            lines.append(f"{s.person} has {what}, so {s.person} has {u.ref_value} {u.op} {s.n} = "
                         f"{_items(u.after, s.item)}.")
            continue
        if s.kind == "change":
            u = ups[0]
            lines.append(f"{s.person} {_third(s.verb)} {_items(s.n, s.item)}, so {s.person} has "
                         f"{u.before} {u.op} {s.n} = {_items(u.after, s.item)}.")
            continue
        prep = "from" if s.verb in IN_VERBS else "to"
        parts = [f"{u.key[0]} has {u.before} {u.op} {s.n} = {_items(u.after, s.item)}"
                 for u, x in zip(ups, r) if x]
        lines.append(f"{s.person} {_third(s.verb)} {_items(s.n, s.item)} {prep} {s.other}, so "
                     + " and ".join(parts) + ".")
    a, *rest = _final_values(sts, q)
    if q.kind == "total":
        lines.append(f"Together they have {a} + {rest[0]} = {_items(problem.answer, q.item)}.")
    elif q.kind == "diff":
        b = rest[0]
        x, y = (a, b) if q.comp == "more" else (b, a)
        lines.append(f"{q.person} has {x} - {y} = {problem.answer} {q.comp} {english_plural(q.item)} than {q.other}.")
    lines.append(f"The answer is {problem.answer}.")
    return " ".join(lines)


# ---------------------------------------------------------------------------------------------- frames
def _poss(name: str) -> str:
    return "her" if GENDER.get(name) == "f" else "his"


def statement_frame(s: Statement) -> Clause:
    subj = NP("name", s.person)
    if s.kind == "compare":
        assert s.other is not None and s.comp is not None
        cmp = Compare(s.n, s.comp, s.item, NP("name", s.other))
        adv = None if s.comp == "times" else s.adv  # "3 times as many apples as A" is long enough
        return Clause(subj, "have", cmp, pps=s.pps, adv=adv)
    obj = NP("noun", s.item, plural=True, count=s.n)
    pps = s.pps
    if s.kind == "transfer":
        assert s.other is not None
        pps = (PP("from" if s.verb in IN_VERBS else "to", NP("name", s.other)),) + pps
    return Clause(subj, s.verb, obj, pps=pps, adv=s.adv)


def question_frame(q: Question) -> HowMany:
    if q.kind == "count":  # no article: the question has the same number of words in every language
        return HowMany(q.item, NP("name", q.person), pps=(PP("by", NP("noun", "evening", det="this")),))
    assert q.other is not None
    if q.kind == "total":
        return HowMany(q.item, NP("coord", parts=(NP("name", q.person), NP("name", q.other))), adv="together")
    return HowMany(q.item, NP("name", q.person), comp=q.comp, std=NP("name", q.other))


def problem_frames(problem: MathProblem) -> list[Frame]:
    """The frames of a problem: one sentence per statement, then the question."""
    return [Sentence(statement_frame(s)) for s in problem.statements] + [question_frame(problem.question)]


def math_concepts() -> frozenset[str]:
    """Concept keys the problems hinge on or are padded with (kept single-word in every toy language)."""
    keys = {"V:have", "R:together", "R:today", "R:later", "R:right", "R:now"}
    for table in (GAIN_VERBS, LOSS_VERBS, OUT_VERBS, IN_VERBS):
        keys.update("V:" + v for v in table)
    keys.update("N:" + i for i in ITEMS + _CONTAINERS + _LONG_PLACES + _COMPANIONS + (
        "school", "home", "work", "town", "lunch", "dinner", "evening"))
    keys.update("N:" + d for d in DAYS)
    keys.update("A:" + c for c in _COLORS + _SIZES)
    return frozenset(keys)


# -------------------------------------------------------------------------------------------- generating
def _pick_verb(rng: random.Random, table: dict[str, tuple[tuple[str, ...] | None, float]], item: str) -> str:
    options = [(v, w) for v, (items, w) in table.items() if items is None or item in items]
    total = sum(w for _, w in options)
    r = rng.random() * total
    for v, w in options:
        r -= w
        if r < 0:
            return v
    return options[-1][0]


def _pads(rng: random.Random, kind: str, person: str, long: bool, verb: str) -> tuple[tuple[PP, ...], str | None]:
    """Wording that gives every statement of a style the same shape and carries no number.

    After the number, a short-style statement has 4 words, a long-style one 6; all of them are words that
    every toy language translates (no articles), so translated problems keep one shape per style too.
    """
    poss = _poss(person)
    if not long:
        if kind == "compare":  # "B has 4 more apples than A."
            return (), None
        if kind == "has":  # "A has 7 apples in her bag."
            return (PP("in", NP("noun", rng.choice(_CONTAINERS), det=poss)),), None
        if kind == "transfer":  # "A gives 3 apples to B today."
            return (), rng.choice(("today", "today", "later"))
        if verb == "eat" and rng.random() < 0.5:  # "A eats 3 apples at lunch today."
            return (PP("at", NP("noun", rng.choice(("lunch", "dinner")))),), "today"
        prep, place = rng.choice(_BARE)  # "A finds 3 apples at school today."
        return (PP(prep, NP("noun", place)),), "today"
    if kind == "compare":  # "B has 4 more apples than A right now." / "B has 3 times as many apples as A."
        return (), "right now"
    if kind == "has":  # "A has 7 apples in her big red bag."
        adjs = (rng.choice(_SIZES), rng.choice(_COLORS))
        return (PP("in", NP("noun", rng.choice(_CONTAINERS), det=poss, adjs=adjs)),), None
    if kind == "transfer":  # "A gives 3 apples to B at school today."
        prep, place = rng.choice(_BARE)
        return (PP(prep, NP("noun", place)),), rng.choice(("today", "today", "later"))
    if rng.random() < 0.5:  # "A finds 3 apples in her big garden today."
        place = NP("noun", rng.choice(_LONG_PLACES), det=poss, adjs=(rng.choice(_SIZES),))
        return (PP("in", place),), rng.choice(("today", "today", "later"))
    prep, place = rng.choice(_BARE)  # "A finds 3 apples at school with her friend."
    who = NP("noun", rng.choice(_COMPANIONS), det=poss)
    return (PP(prep, NP("noun", place)), PP("with", who)), None


def _draw_core(rng: random.Random, people: list[str], X: str, long: bool,
               steps: int) -> tuple[list[Statement], Question] | None:
    """A random story about A (and B) with item X, plus a question; None if it went inconsistent."""
    A, B, C = people[:3]
    state: dict[str, int] = {}
    out: list[Statement] = []

    def stmt(kind: str, person: str, n: int, verb: str = "have", other: str | None = None,
             comp: str | None = None) -> Statement:
        pps, adv = _pads(rng, kind, person, long, verb)
        return Statement(kind, person, X, n, verb, other, comp, long, pps, adv)

    def has(p: str) -> None:
        n = rng.randint(3, 20)
        state[p] = n
        out.append(stmt("has", p, n))

    def compare(p: str, ref: str) -> bool:
        r = rng.random()
        base = state[ref]
        if long and r < 0.3 and base <= 20:
            n = rng.randint(2, 4 if base <= 10 else 3)
            state[p] = base * n
            out.append(stmt("compare", p, n, other=ref, comp="times"))
        elif r < 0.65 or base < 3:
            n = rng.randint(2, 12)
            state[p] = base + n
            out.append(stmt("compare", p, n, other=ref, comp="more"))
        else:
            n = rng.randint(2, min(12, base - 1))
            state[p] = base - n
            out.append(stmt("compare", p, n, other=ref, comp="fewer"))
        return True

    def event() -> None:
        known = [p for p in (A, B) if p in state]
        p = rng.choice(known)
        if rng.random() < 0.45:  # change
            if state[p] >= 2 and rng.random() < 0.5:
                verb = _pick_verb(rng, LOSS_VERBS, X)
                n = rng.randint(2, min(12, state[p]))
                state[p] -= n
            else:
                verb = _pick_verb(rng, GAIN_VERBS, X)
                n = rng.randint(2, 12)
                state[p] += n
            out.append(stmt("change", p, n, verb))
            return
        partner = B if (p == A and B in state and rng.random() < 0.6) else (A if p == B and rng.random() < 0.6 else C)
        giver_out = rng.random() < 0.5  # p gives to partner
        giver = p if giver_out else partner
        if giver in state and state[giver] < 2:
            giver_out = not giver_out
            giver = p if giver_out else partner
            if giver in state and state[giver] < 2:
                return
        limit = state.get(giver, 12)
        n = rng.randint(2, min(12, limit))
        verb = _pick_verb(rng, OUT_VERBS if giver_out else IN_VERBS, X)
        for person, d in ((p, -1 if giver_out else 1), (partner, 1 if giver_out else -1)):
            if person in state:
                state[person] += d * n
        out.append(stmt("transfer", p, n, verb, other=partner))

    qr = rng.random()
    qkind = "count" if qr < 0.5 else "total" if qr < 0.75 else "diff"
    has(A)
    with_b = qkind != "count" or rng.random() < 0.6
    n_events = rng.randint(max(0, steps - 2), steps)  # most draws then land on the wanted step count
    b_at = rng.randint(0, n_events) if with_b else -1
    for i in range(n_events + 1):
        if i == b_at:
            if rng.random() < 0.5:
                has(B)
            else:
                compare(B, A)
        if i < n_events:
            event()
    if qkind == "count":
        q = Question("count", X, rng.choice([p for p in (A, B) if p in state]))
    elif qkind == "total":
        first, second = (A, B) if rng.random() < 0.5 else (B, A)
        q = Question("total", X, first, second)
    else:
        first, second = (A, B) if rng.random() < 0.5 else (B, A)
        if state[first] == state[second]:
            return None
        q = Question("diff", X, first, second, "more" if state[first] > state[second] else "fewer")
    return out, q


def _distractor(rng: random.Random, people: list[str], X: str, Y: str, long: bool) -> Statement:
    A, B, C, D = people[:4]
    r = rng.random()
    if r < 0.2:
        person, item, kind = rng.choice((C, D)), X, "has"
    elif r < 0.35:
        person, item, kind = rng.choice((A, B)), Y, "has"
    elif r < 0.55:
        person, item, kind = rng.choice((C, D, A, B)), X, "change"
        if person in (A, B):
            item = Y
    elif r < 0.85:
        kind = "transfer"
        if rng.random() < 0.5:
            person, other, item = rng.choice(((C, D), (D, C))) + (X,)
        else:
            person, other, item = rng.choice((A, B, C)), rng.choice((C, D)), Y
            if person == other:
                other = D if other == C else C
    else:
        kind, item = "compare", X
        person, other = rng.choice((C, D)), rng.choice((A, B))
    if kind == "has":
        pps, adv = _pads(rng, "has", person, long, "have")
        return Statement("has", person, item, rng.randint(3, 20), long=long, pps=pps, adv=adv)
    if kind == "change":
        table = GAIN_VERBS if rng.random() < 0.6 else LOSS_VERBS
        verb = _pick_verb(rng, table, item)
        pps, adv = _pads(rng, "change", person, long, verb)
        return Statement("change", person, item, rng.randint(2, 12), verb, long=long, pps=pps, adv=adv)
    if kind == "transfer":
        verb = _pick_verb(rng, OUT_VERBS if rng.random() < 0.5 else IN_VERBS, item)
        pps, adv = _pads(rng, "transfer", person, long, verb)
        return Statement("transfer", person, item, rng.randint(2, 12), verb, other, long=long, pps=pps, adv=adv)
    comp = "times" if long and rng.random() < 0.3 else rng.choice(("more", "fewer"))
    n = rng.randint(2, 4) if comp == "times" else rng.randint(2, 12)
    pps, adv = _pads(rng, "compare", person, long, "have")
    return Statement("compare", person, item, n, "have", other, comp, long, pps, adv)


def generate_problem(
    rng: random.Random,
    *,
    steps: int,
    n_statements: int,
    long: bool,
    max_answer: int = 200,
    max_tries: int = 2000,
) -> tuple[tuple[Statement, ...], Question, int]:
    """Draws one problem with exactly ``steps`` arithmetic steps and ``n_statements`` statements.

    Returns (statements, question, answer). Distractors fill the statements the story does not need.
    """
    names = [n for n, _ in NAMES]
    for _ in range(max_tries):
        people = rng.sample(names, 4)
        X, Y = rng.sample(ITEMS, 2)
        core = _draw_core(rng, people, X, long, steps)
        if core is None:
            continue
        story, q = core
        if len(story) > n_statements or _count_steps(story, q) != steps:
            continue
        answer = solve(story, q)
        if answer is None or answer > max_answer:
            continue
        statements = list(story)
        ok = True
        for _ in range(n_statements - len(story)):
            for _attempt in range(20):
                d = _distractor(rng, people, X, Y, long)
                if d.kind in ("has", "compare") and any(
                    (s.person, s.item) == (d.person, d.item) for s in statements if s.kind in ("has", "compare")
                ):
                    continue  # one statement of "how many" per person and item
                pos = rng.randint(0, len(statements))
                trial = statements[:pos] + [d] + statements[pos:]
                if _simulate(trial) is None or solve(trial, q) != answer or _count_steps(trial, q) != steps:
                    continue
                updates = _simulate(trial)
                assert updates is not None
                if any(_relevance(trial, q, updates)[pos]):
                    continue
                statements = trial
                break
            else:
                ok = False
                break
        if ok:
            return tuple(statements), q, answer
    raise RuntimeError("could not draw a problem; loosen the constraints")
