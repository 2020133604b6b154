"""Answer extraction from model outputs: math numbers, NLI labels, multiple-choice letters.

All parsers are pure functions of the output text and never raise on odd text; they return None when no
answer can be read (which scores as wrong).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence

__all__ = [
    "extract_math_answer",
    "first_step",
    "first_step_correct",
    "math_correct",
    "parse_choice_letter",
    "parse_nli_label",
]

# ------------------------------------------------------------------------------------------------------ math

# A number token: optional sign (only when not glued to a preceding word or number, so "5-3" reads 5 and 3),
# optional currency sign, digits with comma thousands groups (exactly 3 digits per group) or plain digits,
# optional decimal part, optional "/denominator" (a simple fraction a/b).
_NUM = re.compile(
    r"(?<![A-Za-z0-9_.])"
    r"(?P<sign>-)?\$?"
    r"(?P<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)"
    r"(?P<frac>\.\d+)?"
    r"(?:/(?P<den>\d+)(?![\d.]))?"
)
_ANCHOR = re.compile(r"(?:final\s+)?answer\s*(?:is|:|=)", re.IGNORECASE)
# What may stand between an anchor and its number: spaces, colons, markdown emphasis, brackets, currency.
_ANCHOR_GAP = re.compile(r"[\s:=*_$\u20ac\u00a3\u00a5(\[{]*")
_SENTENCE_END = re.compile(r"\.(?=\s|$)")
_BOXED = re.compile(r"\\boxed\s*\{")
_LATEX_FRAC = re.compile(r"\\[dt]?frac\s*\{\s*([^{}]*)\}\s*\{\s*([^{}]*)\}")
_DASHES = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2014": "-", "\uff0d": "-", "\u00a0": " ",
                         "\u202f": " ", "\uff0c": ",", "\uff0e": ".", "\uff04": "$"})


def _ascii_digits(text: str) -> str:
    """Maps every Unicode decimal digit (Bengali, Thai, Devanagari, full-width, ...) to 0-9."""
    if text.isascii():
        return text
    out = []
    for ch in text:
        if not ch.isascii() and unicodedata.category(ch) == "Nd":
            out.append(str(unicodedata.decimal(ch)))
        else:
            out.append(ch)
    return "".join(out)


def _normalise(text: str) -> str:
    return _ascii_digits(text.translate(_DASHES))


def _value(match: re.Match[str], fractions: bool) -> float:
    int_part, frac, den = match.group("int"), match.group("frac"), match.group("den")
    number = float(int_part.replace(",", "") + (frac or ""))
    if den is not None and fractions and not frac and "," not in int_part and int(den) != 0:
        number = number / int(den)
    return -number if match.group("sign") else number


def _numbers(text: str, fractions: bool) -> list[float]:
    return [_value(match, fractions) for match in _NUM.finditer(text)]


def _boxed_contents(text: str) -> list[str]:
    """Contents of every ``\\boxed{...}`` with balanced braces."""
    out = []
    for match in _BOXED.finditer(text):
        depth, start = 1, match.end()
        for pos in range(start, len(text)):
            if text[pos] == "{":
                depth += 1
            elif text[pos] == "}":
                depth -= 1
                if depth == 0:
                    out.append(text[start:pos])
                    break
    return out


def _unlatex(text: str) -> str:
    return _LATEX_FRAC.sub(r"\1/\2", _BOXED.sub("", text))


def extract_math_answer(text: str | None, *, fractions: bool = True) -> float | None:
    """The numeric answer of a chain-of-thought math output, or None when it contains no number.

    Rules, in order:

    1. **Anchor**: the last "The answer is N" (also "The final answer is N", "answer: N", "The answer is: N",
       case-insensitive) whose N follows directly -- only spaces, ``:``, ``*``, ``$``, brackets or a
       ``\\boxed{`` may stand between (so "Step-by-Step Answer: Roger has 5 balls" is no anchor); earlier
       anchors are tried when the last one has no such number. When the anchor's sentence goes on into an
       equation ("the final answer is 15 gallons * 8 pints = 120 pints"), the first number after the
       sentence's last ``=`` is taken instead.
    2. **Boxed**: the last ``\\boxed{...}`` holding a number (``\\frac{a}{b}`` inside reads a/b).
    3. **Fallback**: the last number in the text.

    Numbers: commas are thousands separators only in groups of exactly three digits (``1,080`` -> 1080;
    ``1, 2`` and ``3,5`` are two numbers); ``.`` is the decimal point (a sentence-final ``18.`` is 18); a
    leading ``-`` (or Unicode minus) keeps its sign unless glued to a preceding word or digit (``5-3`` reads 5
    and 3; ``-3`` and ``is -3`` read -3); ``$`` after the sign is skipped; a simple fraction of integers
    ``3/4`` (no spaces) reads 0.75 when ``fractions`` (else only the numerator is taken); non-ASCII decimal digits
    (Bengali, Thai, Devanagari, full-width, ...) are mapped to 0-9 first.
    """
    if not text:
        return None
    text = _normalise(str(text))
    # 1. anchors, last first
    for anchor in reversed(list(_ANCHOR.finditer(text))):
        line_end = text.find("\n", anchor.end())
        segment = _unlatex(text[anchor.end(): line_end if line_end >= 0 else len(text)])
        rest = segment[_ANCHOR_GAP.match(segment).end():]
        match = _NUM.match(rest)
        if match:
            # "The answer is 15 gallons * 8 pints/gallon = 120 pints": the result after the last "=" of
            # the sentence wins over the first operand
            sentence = _SENTENCE_END.split(rest, maxsplit=1)[0]
            if "=" in sentence:
                values = _numbers(sentence.rsplit("=", 1)[1], fractions)
                if values:
                    return values[0]
            return _value(match, fractions)
    # 2. boxed
    for content in reversed(_boxed_contents(text)):
        values = _numbers(_unlatex(content), fractions)
        if values:
            return values[0]
    # 3. last number
    values = _numbers(_unlatex(text), fractions)
    return values[-1] if values else None


def math_correct(pred: float | None, gold: float, tol: float = 1e-3) -> bool:
    """``pred`` equals ``gold`` within absolute tolerance ``tol``; None (no answer) is wrong."""
    if pred is None or gold is None:
        return False
    if isinstance(pred, float) and math.isnan(pred):
        return False
    return abs(float(pred) - float(gold)) <= tol


_STEP = re.compile(r"(?<![\w.])(-?\d+(?:\.\d+)?)\s*([-+*x\u00d7/])\s*(-?\d+(?:\.\d+)?)\s*=")


def first_step(text: str | None) -> tuple[float, str, float] | None:
    """The left-hand side ``(a, op, b)`` of the first equation "a op b =" in a chain of thought, or None.

    ``x`` and ``\u00d7`` read as ``*``. Used by :func:`first_step_correct`."""
    if not text:
        return None
    match = _STEP.search(_normalise(text))
    if match is None:
        return None
    op = "*" if match.group(2) in ("x", "\u00d7") else match.group(2)
    return float(match.group(1)), op, float(match.group(3))


def first_step_correct(output: str | None, solution: str | None) -> bool | None:
    """Whether the output's first equation reads the same numbers with the same operation as the reference
    solution's first one ("20 - 6 =" in both); None when the reference has no equation.

    A reading diagnostic beside answer accuracy: picking the right quantity of the right person and the right
    operation needs the words of the problem, while the arithmetic after "=" does not. With tiny models whose
    arithmetic is weak, answer accuracy sits near zero for every system and hides whether a system understood
    the problem; this step does not. Addition and multiplication match in either operand order."""
    gold = first_step(solution)
    if gold is None:
        return None
    pred = first_step(output)
    if pred is None or pred[1] != gold[1]:
        return False
    same = math_correct(pred[0], gold[0]) and math_correct(pred[2], gold[2])
    if gold[1] in "+*":
        same = same or (math_correct(pred[0], gold[2]) and math_correct(pred[2], gold[0]))
    return same


# ------------------------------------------------------------------------------------------------------ NLI

_NLI_WORDS = {
    "entailment": "entailment", "entailed": "entailment", "entails": "entailment", "entail": "entailment",
    "neutral": "neutral", "undetermined": "neutral", "inconclusive": "neutral",
    "contradiction": "contradiction", "contradicts": "contradiction", "contradictory": "contradiction",
    "contradict": "contradiction", "contradicted": "contradiction",
}
# Short answers only counted as the first word of the output (or after an answer anchor): they are common
# words in a chain of thought ("there is no ...").
_NLI_SHORT = {"yes": "entailment", "true": "entailment", "maybe": "neutral", "neither": "neutral",
              "no": "contradiction", "false": "contradiction"}
_WORD = re.compile(r"[a-z]+")


def parse_nli_label(text: str | None) -> str | None:
    """``entailment`` / ``neutral`` / ``contradiction`` from a model output, or None.

    Case and punctuation are ignored. Order: (1) the first label word after the last answer anchor ("The
    answer is", "Answer:", "Label:"); (2) the first word of the output; (3) the first label word anywhere.
    Label words: entailment/entails/entailed, neutral/undetermined/inconclusive,
    contradiction/contradicts/contradictory. The short forms ``yes -> entailment``, ``maybe -> neutral``,
    ``no -> contradiction`` (also ``true`` / ``neither`` / ``false``) count only in (1) and (2), i.e. as the
    answer itself, never inside a sentence.
    """
    if not text:
        return None
    lowered = str(text).lower()
    anchors = list(re.finditer(r"(?:answer|label|relationship)\s*(?:is|:)\s*:?", lowered))
    if anchors:
        words = _WORD.findall(lowered[anchors[-1].end():])
        for word in words[:3]:
            if word in _NLI_WORDS:
                return _NLI_WORDS[word]
            if word in _NLI_SHORT:
                return _NLI_SHORT[word]
    words = _WORD.findall(lowered)
    if not words:
        return None
    if words[0] in _NLI_WORDS:
        return _NLI_WORDS[words[0]]
    if words[0] in _NLI_SHORT:
        return _NLI_SHORT[words[0]]
    for word in words:
        if word in _NLI_WORDS:
            return _NLI_WORDS[word]
    return None


# ----------------------------------------------------------------------------------------- multiple choice


def parse_choice_letter(text: str | None, n_choices: int = 5, choices: Sequence[str] | None = None) -> str | None:
    """The chosen option letter (``A`` .. up to the ``n_choices``-th letter) of a model output, or None.

    Order: (1) after the last answer anchor ("The answer is", "Answer:"), a letter standing alone, e.g.
    ``(B)``, ``B.``, ``B)``, ``B``; (2) a letter standing alone at the start of the output followed by
    ``.``, ``)``, ``:``, or the end of the line (so the article "A man ..." is not read as A); (3) the last
    parenthesised letter ``(C)`` in the text; (4) when ``choices`` (option texts) are given, the option whose
    text the output contains, if exactly one does. Matching is case-sensitive for bare letters (lower-case
    ``a`` is a word) but accepts ``(b)``.
    """
    if not text:
        return None
    text = str(text).strip()
    letters = "ABCDEFGHIJ"[:n_choices]
    anchors = list(re.finditer(r"(?i:answer|option|choice)\s*(?i:is|:)\s*:?", text))
    if anchors:
        tail = text[anchors[-1].end():].lstrip(" *\"'")
        match = re.match(rf"(?:\(([{letters}{letters.lower()}])\)|([{letters}])(?![A-Za-z]))", tail)
        if match:
            return (match.group(1) or match.group(2)).upper()
    match = re.match(rf"^[\s*\"']*(?:\(([{letters}{letters.lower()}])\)|([{letters}])(?:[.):]|\s*$|\s*\n))", text)
    if match:
        return (match.group(1) or match.group(2)).upper()
    paren = re.findall(rf"\(([{letters}])\)", text)
    if paren:
        return paren[-1]
    if choices:
        lowered = text.lower()
        hits = [letters[i] for i, choice in enumerate(choices[:n_choices]) if choice and choice.lower() in lowered]
        if len(hits) == 1:
            return hits[0]
    return None
