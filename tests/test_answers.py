"""Math answer extraction: the number forms models write, ambiguity, the three reference scorers, real gold answers.

(tests/test_evaluate.py keeps the earlier table of ``extract_math_answer``; every row there must stay green.)
"""

from __future__ import annotations

import csv
import json
import math
import random
from pathlib import Path

import pytest

from lingualift_core.evaluate.answers import (
    anchor_last_number,
    extract_math_answer,
    harness_flexible_extract,
    harness_strict_match,
)
from lingualift_core.sources.math import format_number, load_mgsm, load_msvamp


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


# ------------------------------------------------------------------------------------------ table: one rule each

FRACTIONS = [
    ("The answer is 3/4.", 0.75),  # issue #13: read 3
    ("So she gets 3/4.", 0.75),  # issue #13: read the denominator 4
    ("So she gets 3/4!", 0.75),
    ("She ate 3/4, then stopped", 0.75),
    ("Each gets 1/2; the rest is kept", 0.5),
    ("(3/4)", 0.75),
    ("Answer: 3/4", 0.75),
    ("It is 1,000/4.", 250.0),
    ("It is 1.5/3.", 0.5),
    ("She runs 2 1/2 miles.", 2.5),  # mixed number
    ("She runs 2½ miles.", 2.5),
    ("½ of the cake", 0.5),
    ("She ran -2 1/2 km", -2.5),
    ("48/2 = 24", 24.0),
    ("The ratio is 3/0.", None),  # division by zero
    ("On 12/25/2023 she left", None),  # a date, not a fraction
]

LATEX = [
    (r"\frac{1}{2}.", 0.5),  # issue #13: read 1
    (r"The answer is $\frac{1}{2}$.", 0.5),
    (r"\boxed{\frac{3}{4}}", 0.75),
    (r"\boxed{\dfrac{3}{4}}", 0.75),
    (r"\boxed{\tfrac{3}{4}}", 0.75),
    (r"\boxed{\frac12}", 0.5),
    (r"\boxed{-\frac{1}{2}}", -0.5),
    (r"\boxed{\frac{-1}{2}}", -0.5),
    (r"\boxed{3\frac{1}{2}}", 3.5),
    (r"\boxed{1{,}234}", 1234.0),  # issue #13: read 1
    (r"\boxed{1{,}234{,}567}", 1234567.0),
    (r"\boxed{1\,234}", 1234.0),
    (r"\boxed{\$1{,}234.50}", 1234.5),
    (r"The answer is \$18.", 18.0),
    (r"\boxed{25\%}", 25.0),
    (r"\boxed{18 \text{ apples}}", 18.0),
    (r"\boxed{\text{18}}", 18.0),
    (r"\boxed{x = 5}", 5.0),
    (r"\boxed{2 + 3 = 5}", 5.0),
    (r"\boxed{\frac{1{,}000}{4}}", 250.0),
    (r"The answer is $\boxed{1{,}000}$.", 1000.0),
    (r"\boxed{\frac{6+2}{4}}", None),  # an expression
    (r"\boxed{6+2}", None),
    (r"\boxed{6 \times 7}", None),
    (r"\boxed{2\sqrt{3}}", None),
    (r"\boxed{2\pi}", None),
    (r"\boxed{\frac{\sqrt{2}}{2}}", None),
    (r"The answer is \frac{x}{2}", None),
]

THOUSANDS = [
    ("She pays 1,234 dollars", 1234.0),
    ("It is 1,234,567.", 1234567.0),
    ("It is 1,234.5.", 1234.5),
    ("It is 1 234.", 1234.0),  # space
    ("It is 12 345 678.", 12345678.0),
    ("It is 1 234.5.", 1234.5),
    ("It is 1\u2009234.", 1234.0),  # thin space
    ("It is 1\u00a0234\u00a0567.", 1234567.0),  # no-break space
    ("It is 120\u00a0000.", 120000.0),
    ("It is 1\u202f234.", 1234.0),  # narrow no-break space
    ("It is 1'234'567.", 1234567.0),  # apostrophe (Swiss)
    ("It is 1\u2019234.", 1234.0),  # right single quotation mark
    ("It is 1'234.50.", 1234.5),
    ("The answer is 1 080", 1080.0),
    ("The price is $409 500.", 409500.0),  # GSM8K's own rationales write thousands with plain spaces
    ("So 100 000 people", 100000.0),
    ("It is 123 456.", 123456.0),
    ("The answer is 1\u00a0080 \u20ac", 1080.0),
]

AMBIGUOUS = [
    ("It is 1,234,5.", None),  # a grouping that does not hold
    ("It is 1,23,456.", None),  # Indian grouping
    ("It is 12,34,567.", None),
    ("It is 1,234 567.", None),  # mixed separators
    ("It is 1 234\u00a0567.", None),
    ("It is 0,5.", None),  # decimal comma
    ("It is 3,05.", None),
    ("It is 1 234,5.", None),  # space thousands + decimal comma
    ("It is 1\u00a0234,56.", None),
    ("It is 1.234,56.", None),  # dot thousands + decimal comma
    ("It is 1.234.567.", None),  # dot thousands
    ("It is 1'234'5.", None),
    ("He is 5'10 tall", None),
    ("The answer is 120 120 120", None),  # a model repeating itself is no 120120120
    ("It is 250 250.", None),
    ("It is 123 450 00.", None),
    ("The answer is 3,5", None),  # after an anchor: a decimal comma or a list
    ("The answer is 5 + 3", None),  # an unevaluated expression
    ("The answer is 5 - 3 apples", None),
    ("The answer is 6 x 7", None),
    ("The answer is 5\u201310", None),  # a range
    ("The answer is 3/2^2", None),
    ("-$-5", None),
]

NOT_AMBIGUOUS = [  # digit groups that cannot be one number are separate numbers (as before)
    ("The score is 3,5", 5.0),
    ("We count 1,2,3", 3.0),
    ("We count 1, 2, 3", 3.0),
    ("In 2023 100 people came", 100.0),
    ("Scores 12 12 12", 12.0),
    ("The answer is 18 (9 + 9)", 18.0),
    ("The final answer is **12** apples", 12.0),
    ("The answer is 7.5 x 2 = 15", 15.0),
]

SCIENTIFIC = [
    ("It is 1.5e3.", 1500.0),
    ("It is 1.5E3.", 1500.0),
    ("It is 2e-4.", 0.0002),
    ("It is 1.5e+3 m.", 1500.0),
    ("It is 1.5 \u00d7 10^3.", 1500.0),
    ("It is 1.5 x 10^3.", 1500.0),
    ("It is 1.5*10^3.", 1500.0),
    ("It is 1.5 \u00b7 10^3.", 1500.0),
    (r"It is $1.5 \times 10^{3}$.", 1500.0),
    (r"It is $1.1 \cdot 10^{-2}$.", 0.011),
    ("It is 1.5 \u00d7 10\u00b3.", 1500.0),
    ("It is 2 \u00d7 10\u207b\u00b3.", 0.002),
    ("It is 2^10.", 1024.0),
    ("It is 5\u00b2.", 25.0),
    ("The area is 5 m^2.", 5.0),  # "^2" after a unit is no number
    ("The area is 5 m\u00b2.", 5.0),
    ("5 x 10 = 50", 50.0),  # no "^": plain multiplication
]

SIGNS = [
    ("It changes by \u22127 points", -7.0),  # U+2212
    ("The answer is \u221212.", -12.0),
    ("The answer is \u2212\u20ac5", -5.0),
    ("-3", -3.0),
    ("+3", 3.0),
    ("5-3=2", 2.0),
    ("She owes -$5", -5.0),
    ("She owes $-5", -5.0),
    ("It is -1,234.5!", -1234.5),
    ("It is -2^2", -4.0),  # -(2^2)
]

PERCENT_CURRENCY = [
    ("It grew by 25%.", 25.0),
    ("It grew by 25 %.", 25.0),
    ("It grew by 12.5%.", 12.5),
    ("It fell by -25%.", -25.0),
    ("The answer is 25%", 25.0),
    ("She pays $1,234.50.", 1234.5),
    ("She pays $1,234.50 in total", 1234.5),
    ("She pays \u20ac5.", 5.0),
    ("She pays 5\u20ac.", 5.0),
    ("She pays 5 \u20ac.", 5.0),
    ("She pays \u00a312.", 12.0),
    ("She pays \u00a5100.", 100.0),
    ("She pays \u20b9500.", 500.0),
    ("She pays \u0e3f50.", 50.0),  # Thai baht
    ("She pays 5 dollars.", 5.0),
    ("She pays $.50.", 0.5),
    ("The answer is: **$1,080**", 1080.0),
    ("The answer is .5", 0.5),
]

RULES = {
    "fractions": FRACTIONS,
    "latex": LATEX,
    "thousands": THOUSANDS,
    "ambiguous": AMBIGUOUS,
    "not_ambiguous": NOT_AMBIGUOUS,
    "scientific": SCIENTIFIC,
    "signs": SIGNS,
    "percent_currency": PERCENT_CURRENCY,
}


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param(text, expected, id=f"{rule}-{i}") for rule, rows in RULES.items() for i, (text, expected) in
    enumerate(rows)
])
def test_extract_math_answer(text, expected) -> None:
    assert close(extract_math_answer(text), expected), (text, extract_math_answer(text))


@pytest.mark.parametrize(("text", "expected"), [
    ("The answer is 3/4.", 3.0),
    ("So she gets 3/4.", 3.0),
    (r"\boxed{\frac{3}{4}}", 3.0),
    ("She runs 2 1/2 miles.", 1.0),  # no mixed numbers either: the last number is the numerator 1
    ("It is 1,000/4.", 1000.0),
    ("On 12/25/2023 she left", None),
])
def test_fractions_off_reads_the_numerator(text, expected) -> None:
    assert close(extract_math_answer(text, fractions=False), expected)


def test_rules_order_anchor_then_boxed_then_last_number() -> None:
    assert extract_math_answer(r"\boxed{7} so the answer is 9. Later 11") == 9.0
    assert extract_math_answer(r"We get \boxed{7}. Later 11") == 7.0
    assert extract_math_answer(r"\boxed{7} and \boxed{8}. Later 11") == 8.0
    assert extract_math_answer(r"\boxed{A}, 11 apples") == 11.0  # a box without a number is skipped
    assert extract_math_answer("The answer is 1,234,5. Later 7") is None  # an ambiguous anchor is final
    assert extract_math_answer("First 1,234,5, then 7") == 7.0  # an earlier ambiguous number does not matter


# ------------------------------------------------------------------------------------------ property test

_GROUP_SEPARATORS = [",", "\u2009", "\u00a0", "\u202f", "'", "\u2019", "{,}", "\\,"]


def _grouped(digits: str, sep: str) -> str:
    head = len(digits) % 3 or 3
    return sep.join([digits[:head]] + [digits[i:i + 3] for i in range(head, len(digits), 3)])


def _renderings(rng: random.Random) -> list[tuple[str, float]]:
    """(number as a model may write it, its value) for one random number per supported form."""
    n = rng.randint(0, 10 ** rng.randint(1, 9))
    cents = rng.randint(0, 99)
    neg = rng.random() < 0.3
    sign, value = ("-" if neg else ""), (-1 if neg else 1)
    sep = rng.choice(_GROUP_SEPARATORS)
    den = rng.randint(1, 999)
    num = rng.randint(0, 5000)
    mantissa = f"{rng.randint(1, 9)}.{rng.randint(0, 999):03d}"
    k = rng.randint(-8, 12)
    out = [
        (f"{sign}{n}", value * n),
        (("\u2212" if neg else "") + str(n), value * n),  # Unicode minus
        (f"{sign}{n}.{cents:02d}", value * float(f"{n}.{cents:02d}")),
        (f"{sign}{n:,}", value * n),
        (f"{sign}{n:,}.{cents:02d}", value * float(f"{n}.{cents:02d}")),
        (f"{sign}{_grouped(str(n), sep)}", value * n),
        (f"{sign}{_grouped(str(n), sep)}.{cents:02d}", value * float(f"{n}.{cents:02d}")),
        (f"{sign}${n:,}.{cents:02d}", value * float(f"{n}.{cents:02d}")),
        (f"{sign}\\${n:,}", value * n),
        (f"{sign}\u20ac{n}", value * n),
        (f"{sign}{n} dollars", value * n),
        (f"{sign}{n}%", value * n),
        (f"{sign}{num}/{den}", value * num / den),
        (f"{sign}\\frac{{{num}}}{{{den}}}", value * num / den),
        (f"{sign}\\dfrac{{{num}}}{{{den}}}", value * num / den),
        (f"{sign}{mantissa}e{k}", value * float(f"{mantissa}e{k}")),
        (f"{sign}{mantissa} \u00d7 10^{k}", value * float(f"{mantissa}e{k}")),
        (f"{sign}{mantissa} \\times 10^{{{k}}}", value * float(f"{mantissa}e{k}")),
    ]
    groups = _grouped(str(n), " ").split(" ")
    if len(groups) == 1 or len(set(groups)) > 1:  # "120 120" reads None: a model repeating itself
        out.append((f"{sign}{_grouped(str(n), ' ')}", value * n))
    return out


_CONTEXTS = [
    "The answer is {x}.",
    "The answer is {x}",
    "The final answer is: **{x}**!",
    "First 12 then 7, so the answer is {x}.\nLater we see 99.",
    "So she gets {x}.",
    "We had 7 and now {x}, right?",
    "{x}",
    "\\boxed{{{x}}}",
    "Thus $\\boxed{{{x}}}$.",
    "Answer: {x}\n",
]


def test_random_numbers_in_every_supported_form_read_back() -> None:
    rng = random.Random(13)
    checked = 0
    for _ in range(300):
        for rendered, value in _renderings(rng):
            context = rng.choice(_CONTEXTS)
            if "boxed" in context and "dollars" in rendered:
                continue  # a word inside a box stays a word; covered by the other contexts
            text = context.format(x=rendered)
            got = extract_math_answer(text)
            assert got is not None and math.isclose(got, value, rel_tol=1e-9, abs_tol=1e-12), (text, got, value)
            checked += 1
    assert checked > 5000


# ------------------------------------------------------------------------------------------ reference scorers

@pytest.mark.parametrize(("text", "expected"), [
    ("The answer is 18.", 18.0),
    ("The answer is 1,080.", 1080.0),
    ("The answer is -3", -3.0),
    ("The answer is 1.5", 1.5),
    ("The answer is 18. The answer is 20.", 18.0),  # take_first
    ("Roger has 5 balls. The answer is 11.\n", 11.0),
    ("the answer is 18", None),  # case-sensitive
    ("The answer is: 18", None),  # one space, then the number
    ("The answer is  18", None),
    ("The answer is $18", None),  # "$" is not in [0-9.,]
    ("The answer is 3/4", 3.0),  # "/" is not either
    ("The answer is ...", None),  # kept "..." is no number
    ("The answer is 1.2.3", None),
    ("The answer is \u09e7\u09e8", None),  # Bengali digits are not [0-9]
    ("So 5 + 3 = 8", None),
    ("", None),
    (None, None),
])
def test_harness_strict_match(text, expected) -> None:
    assert close(harness_strict_match(text), expected)


@pytest.mark.parametrize(("text", "expected"), [
    ("So 5 + 3 = 8.", 8.0),  # "8." kept, the full stop dropped
    ("I paid $1,080 in total", 1080.0),
    ("It costs $5", 5.0),
    ("-3 degrees", -3.0),
    ("The answer is 7", 7.0),
    ("a 7 b", 7.0),  # the single-digit alternative
    ("Then 3/4", 4.0),  # no fractions: the last match is "4"
    ("It is 5...", 5.0),
    ("It is 5. Wait...", None),  # the last match is "...": no number (the harness keeps "...")
    ("I have 5 then $$", None),
    ("version 1.2.3", None),
    ("The answer is 18. The answer is 20.", 20.0),
    ("\u09e7\u09e8", None),
    ("no digits", None),
    (None, None),
])
def test_harness_flexible_extract(text, expected) -> None:
    assert close(harness_flexible_extract(text), expected)


@pytest.mark.parametrize(("text", "expected"), [
    ("The answer is 18.", 18.0),
    ("-3", 3.0),  # sign dropped
    ("The temperature is -12 degrees", 12.0),
    ("1,080", 1080.0),
    ("3,5", 35.0),  # commas between digits are removed
    ("1,2,3", 3.0),  # ... pairwise: "12,3"
    ("1,080.5 and then 7.25", 7.25),
    ("The answer is 18. Then 5 more", 5.0),  # no anchor: the last number
    ("3/4", 4.0),
    ("1.5e3", 3.0),
    ("\u09e7\u09e8", 12.0),  # Python's \d matches other scripts' digits
    ("no number", None),  # the original returns 0.0
    ("", None),
    (None, None),
])
def test_anchor_last_number(text, expected) -> None:
    assert close(anchor_last_number(text), expected)


def test_the_four_readers_of_one_output_can_disagree() -> None:
    output = "The answer is 3/4. She keeps -3 of them, so 12 are left."
    assert extract_math_answer(output) == 0.75
    assert harness_strict_match(output) == 3.0
    assert harness_flexible_extract(output) == 12.0
    assert anchor_last_number(output) == 12.0


# ------------------------------------------------------------------------------------------ real gold answers


def _raw_mgsm_answers(folder: Path) -> dict[tuple[str, int], str]:
    out = {}
    for path in sorted(folder.glob("mgsm_*.tsv")):
        lang = path.stem.removeprefix("mgsm_")
        with open(path, encoding="utf-8", newline="") as handle:
            for i, (_question, answer) in enumerate(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)):
                out[(lang, i)] = answer
    return out


def test_mgsm_gold_answers_parse_as_the_loader_reads_them(shared_data: Path) -> None:
    """Every MGSM gold answer text ("2,125") reads as the loader's number, alone and in model-like outputs."""
    folder = shared_data / "mgsm"
    if not folder.is_dir():
        pytest.skip(f"MGSM not found at {folder} (set LINGUALIFT_SHARED_DATA to the shared data folder)")
    rows = load_mgsm(folder, strict=True).rows
    raw = _raw_mgsm_answers(folder)
    assert len(rows) == len(raw) == 2750
    for row in rows:
        text = raw[(row["lang"], int(row["id"].removeprefix("mgsm-")))]
        for output in (text, f"The answer is {text}.", f"So the total is {text}.", f"\\boxed{{{text}}}",
                       f"The answer is {format_number(row['answer'])}."):
            assert extract_math_answer(output) == row["answer"], (row["id"], row["lang"], output)


def test_msvamp_gold_answers_parse_as_the_loader_reads_them(shared_data: Path) -> None:
    """Every MSVAMP ``response`` ("8.0") reads as the loader's number, alone and in model-like outputs."""
    folder = shared_data / "msvamp"
    if not folder.is_dir():
        pytest.skip(f"MSVAMP not found at {folder} (set LINGUALIFT_SHARED_DATA to the shared data folder)")
    rows = load_msvamp(folder, strict=True).rows
    assert len(rows) == 10000
    by_file = {}
    for path in sorted(folder.glob("test_*.json")):
        by_file[path.stem] = [json.loads(line)["response"] for line in path.read_text(encoding="utf-8").splitlines()]
    responses = [r for name in sorted(by_file) for r in by_file[name]]
    assert sorted(float(r) for r in responses) == sorted(row["answer"] for row in rows)
    for response in responses:
        for output in (response, f"The answer is {response}.", f"\\boxed{{{response}}}"):
            assert extract_math_answer(output) == float(response), output
