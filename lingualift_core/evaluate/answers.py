"""Answer extraction from model outputs: math numbers, NLI labels, multiple-choice letters.

All parsers are pure functions of the output text and never raise on odd text; they return None when no
answer can be read (which scores as wrong).

Math has four readers of one output: :func:`extract_math_answer` (this project's reader, which returns None
rather than guess when a number's form is ambiguous) and three reference scorers reproduced from other code
bases, so reports can show the same outputs under each convention: :func:`harness_strict_match` and
:func:`harness_flexible_extract` (lm-evaluation-harness MGSM) and :func:`anchor_last_number` (MathOctopus /
MindMerger).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from fractions import Fraction
from typing import NamedTuple

__all__ = [
    "anchor_last_number",
    "extract_math_answer",
    "first_step",
    "first_step_correct",
    "harness_flexible_extract",
    "harness_strict_match",
    "math_correct",
    "parse_choice_letter",
    "parse_nli_label",
]

# ------------------------------------------------------------------------------------------------------ math

# Every Unicode currency sign (category Sc: $ € £ ¥ ₹ ฿ ৳ ...); one may stand between a sign and the digits.
_CURRENCY = "".join(chr(c) for c in range(0x20, 0x10000) if unicodedata.category(chr(c)) == "Sc")
_SUPERSCRIPTS = "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"  # ⁰¹²³⁴⁵⁶⁷⁸⁹
_SUPERSCRIPT_TO_ASCII = str.maketrans(_SUPERSCRIPTS + "\u207b\u207a", "0123456789-+")
_VULGAR = {ch: str(Fraction(unicodedata.numeric(ch)).limit_denominator(10))
           for ch in "\u00bc\u00bd\u00be\u2150\u2151\u2152\u2153\u2154\u2155\u2156\u2157\u2158\u2159\u215a\u215b"
                     "\u215c\u215d\u215e"}  # ¼ ½ ¾ ⅐ ⅑ ⅒ ⅓ ⅔ ⅕ ⅖ ⅗ ⅘ ⅙ ⅚ ⅛ ⅜ ⅝ ⅞

# A run of digit groups: digits joined by single group separators (after normalisation: ``,``, ``'``, a space,
# or U+202F standing for every typographic space) or by a decimal point. How a run reads -- one number, a list,
# or ambiguous -- is decided by _read_run.
_RUN = r"\d+(?:[,'\x20\u202f]\d+|\.\d+)*"


def _exponent(digits: str, superscript: str) -> str:
    """An exponent, ``^k`` / ``^{k}`` (group ``digits``) or superscript digits (group ``superscript``)."""
    return rf"\^\{{?\s*(?P<{digits}>[-+]?\d+)\s*\}}?|(?P<{superscript}>[\u207b\u207a]?[{_SUPERSCRIPTS}]+)"


# One number token. Not glued to a preceding word, number, exponent or fraction bar (so "5-3" reads 5 and 3,
# "x2" and "m^2" read nothing); an optional sign, currency sign (and sign after it: "$-5"); the run; then at
# most one of: "/denominator" (a "/d" after it marks a date), "e" exponent, power ("^k", "^{k}", superscript),
# or "x 10^k" scientific notation (x, ×, *, ·, \times, \cdot).
_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_.^/])"
    r"(?P<sign>[-+])?"
    rf"(?:(?P<cur>[{re.escape(_CURRENCY)}])(?P<sign2>[-+])?)?"
    rf"(?P<run>{_RUN}|\.\d+)"
    r"(?:/(?P<den>\d+(?:,\d{3})*(?:\.\d+)?)(?P<chain>/\d)?)?"
    r"(?P<exp>[eE][-+]?\d+(?![A-Za-z0-9]))?"
    rf"(?:{_exponent('pow', 'powsup')})?"
    rf"(?P<sci>\s*(?:\u00d7|\*|\u00b7|x|\\times|\\cdot)\s*10(?:{_exponent('sciexp', 'scisup')}))?"
)
_RUN_SEP = re.compile(r"[,'\x20\u202f.]")
_ANCHOR = re.compile(r"(?:final\s+)?answer\s*(?:is|:|=)", re.IGNORECASE)
# What may stand between an anchor and its number: spaces, colons, markdown emphasis, brackets, currency.
_ANCHOR_GAP = re.compile(rf"[\s:=*_({{\[{re.escape(_CURRENCY)}]*")
# After an answer's number: it goes on into an unevaluated expression ("5 + 3", "6 \times 7", "(6+2)/(4)") or a
# glued comma list / decimal comma ("3,5"): the answer is not that number alone.
_CONTINUES = re.compile(
    r"\s*\)*\s*(?:[-+*/\u00d7\u00f7\u00b7x]|\\times|\\cdot|\\div)\s*\(*\s*[-+]?"
    rf"[{re.escape(_CURRENCY)}]?\.?\d|,\d"
)
_SENTENCE_END = re.compile(r"\.(?=\s|$)")
_BOXED = re.compile(r"\\boxed\s*\{")
# LaTeX commands that may sit in a \boxed{} answer without changing its number; any other (\sqrt, \pi, \pm, a
# \frac with nested braces, ...) makes the boxed answer unreadable as one number.
_FOREIGN_LATEX = re.compile(
    r"\\(?!(?:text|textbf|textrm|textit|mathrm|mathbf|mathit|mbox|rm|bf|left|right|big|Big|quad|qquad|"
    r"displaystyle|times|cdot|div|circ|degree|boxed)(?![A-Za-z]))[A-Za-z]+"
)
_LATEX_FRAC = re.compile(r"\\[dt]?frac\s*\{\s*([^{}]*?)\s*\}\s*\{\s*([^{}]*?)\s*\}")
_LATEX_FRAC_DIGITS = re.compile(r"\\[dt]?frac\s*(\d)\s*(\d)")  # \frac12
# What a LaTeX fraction of expressions becomes: one number that reads None (never a number inside it).
_EXPRESSION = "\ue000"
_LATEX_TEXT = [("\\$", "$"), ("\\%", "%"), ("{,}", ","), ("\\,", "\u202f"), ("\\;", " "), ("\\:", " "), ("\\!", ""),
               ("\\ ", " ")]
_VULGAR_RE = re.compile(rf"(\d?)([{''.join(_VULGAR)}])")
_DASHES = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2014": "-", "\uff0d": "-", "\ufe63": "-",
                         "\u00a0": "\u202f", "\u2009": "\u202f", "\u2007": "\u202f", "\u2008": "\u202f",
                         "\u200a": "\u202f",
                         "\u2019": "'", "\uff0c": ",", "\uff0e": ".", "\uff04": "$"})


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
    """Unicode minus and dashes to ``-``, every typographic space (no-break, narrow no-break, thin, figure,
    hair) to U+202F, ``’`` to ``'``, full-width punctuation to ASCII, every decimal digit to 0-9."""
    return _ascii_digits(text.translate(_DASHES))


def _plain_number(text: str) -> str | None:
    """``text`` as signed digits (``-1000.5``) when it is one number in a valid grouping, else None."""
    text = text.strip()
    sign = text[0] if text[:1] in ("-", "+") else ""
    body = text[len(sign):].strip()
    if not re.fullmatch(_RUN, body):
        return None
    digits = _grouped_number(_RUN_SEP.split(body), _RUN_SEP.findall(body))
    return None if digits is None else ("-" if sign == "-" else "") + digits


def _latex_frac(match: re.Match[str]) -> str:
    num, den = _plain_number(match.group(1)), _plain_number(match.group(2))
    if num is None or den is None:
        return _EXPRESSION  # \frac{6+2}{4}, \frac{x}{2}: one number whose value is not read
    signed = num.startswith("-") or den.startswith("-")
    if signed and match.string[:match.start()].rstrip().endswith(("-", "+")):
        return _EXPRESSION  # -\frac{-1}{2}: two signs
    negative = num.startswith("-") != den.startswith("-")
    return ("-" if negative else "") + num.lstrip("-") + "/" + den.lstrip("-")


def _math_text(text: str) -> str:
    """:func:`_normalise` plus the LaTeX and Unicode spellings of numbers: ``\\$`` ``\\%`` ``{,}`` ``\\,``,
    ``\\frac{a}{b}`` / ``\\dfrac`` / ``\\tfrac`` / ``\\frac12`` -> ``a/b`` (``3\\frac{1}{2}`` -> ``3 1/2``),
    vulgar fractions (``2½`` -> ``2 1/2``)."""
    text = _normalise(text)
    if "\\" in text or "{," in text:
        for latex, plain in _LATEX_TEXT:
            text = text.replace(latex, plain)
        text = re.sub(r"(?<=[A-Za-z0-9])(?=\\[dt]?frac)", " ", text)
        text = _LATEX_FRAC_DIGITS.sub(r"\1/\2", _LATEX_FRAC.sub(_latex_frac, text))
    if any(ch in _VULGAR for ch in text):
        text = _VULGAR_RE.sub(lambda m: (m.group(1) + " " if m.group(1) else "") + _VULGAR[m.group(2)], text)
    return text


class _Token(NamedTuple):
    """One number of a text: its span and value (None: the form is ambiguous, e.g. ``1.234,56``)."""

    start: int
    end: int
    value: float | None


def _grouped_number(groups: list[str], seps: list[str]) -> str | None:
    """The run as ONE number (digits and at most one ``.``) when it is one: a plain number, or thousands
    groups with one separator kind throughout, a first group of 1-3 digits not starting with 0, every later
    group exactly 3 digits; an optional decimal part last. None otherwise -- also for groups joined by a plain
    ASCII space that are all the same: "120 120 120" is a model repeating itself (or a list) as likely as
    120120120."""
    frac = ""
    if seps and seps[-1] == ".":
        frac, groups, seps = "." + groups[-1], groups[:-1], seps[:-1]
    if "." in seps:
        return None
    if seps and (len(set(seps)) > 1 or not 1 <= len(groups[0]) <= 3 or groups[0].startswith("0")
                 or any(len(g) != 3 for g in groups[1:]) or (seps[0] == " " and len(set(groups)) == 1)):
        return None
    return "".join(groups) + frac


def _list_items(run: str, groups: list[str], seps: list[str]) -> list[tuple[int, int, str]] | None:
    """The run as a list of separate numbers joined by ``,`` or spaces (``3,5`` -> 3 and 5, ``2023 100``), as
    ``(start, end, digits)`` spans; None when it looks like a number of another locale, i.e. ambiguous:
    an apostrophe; a pair of groups that reads as thousands but does not hold for the whole run (``1,234,5``,
    Indian ``1,23,456``, ``1 234,5``, mixed separators ``1,234 567``); a decimal comma (``0,5``, ``3,05``);
    dots as thousands separators (``1.234,56``, ``1.234.567``)."""
    if "'" in seps:
        return None
    for i, sep in enumerate(seps):
        left, right = groups[i], groups[i + 1]
        after_point = i > 0 and seps[i - 1] == "."
        if sep in ", \u202f" and not after_point and len(left) <= 3 and len(right) == 3:
            return None
        if sep == "," and ((left == "0" and not after_point) or right.startswith("0")):
            return None
        if sep == "." and i + 1 < len(seps) and seps[i + 1] != "." and len(right) == 3:
            return None
    items: list[tuple[int, int, str]] = []
    start, pos, has_point = 0, len(groups[0]), False
    for sep, group in zip(seps, groups[1:]):
        if sep == ".":
            if has_point:
                return None
            has_point = True
            pos += 1 + len(group)
        else:
            items.append((start, pos, run[start:pos]))
            start, pos, has_point = pos + 1, pos + 1 + len(group), False
    items.append((start, pos, run[start:pos]))
    return items


def _read_run(run: str) -> list[tuple[int, int, str]] | None:
    """A run of digit groups -> its numbers as ``(start, end, digits)`` spans, or None when ambiguous."""
    if run.startswith("."):
        return [(0, len(run), "0" + run)]
    groups, seps = _RUN_SEP.split(run), _RUN_SEP.findall(run)
    single = _grouped_number(groups, seps)
    if single is not None:
        return [(0, len(run), single)]
    return _list_items(run, groups, seps)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _modified(digits: str, match: re.Match[str], fractions: bool) -> float | None:
    """The value of the run's last number with what follows it: fraction, exponent, power, x 10^k."""
    den, exp = match.group("den"), match.group("exp")
    power = match.group("pow") or (match.group("powsup") or "").translate(_SUPERSCRIPT_TO_ASCII) or None
    sci = match.group("sciexp") or (match.group("scisup") or "").translate(_SUPERSCRIPT_TO_ASCII) or None
    if sum(x is not None for x in (den, exp, power, sci)) > 1:
        return None  # "3/2^2", "1e3 x 10^2": which applies first is a guess
    if den is not None:
        if match.group("chain"):
            return None  # a date: 12/25/2023
        if not fractions:
            return float(digits)
        denominator = float(den.replace(",", ""))
        return float(digits) / denominator if denominator else None
    if exp is not None:
        return _finite(float(digits + exp))
    if sci is not None:
        return _finite(float(f"{digits}e{int(sci)}"))
    if power is not None:
        k = int(power)
        if abs(k) > 1000:
            return None
        try:
            return _finite(float(digits) ** k)
        except (OverflowError, ZeroDivisionError):
            return None
    return float(digits)


def _mixed_number(run: str, match: re.Match[str], fractions: bool) -> float | None:
    """``2 1/2`` (also ``2½``, ``2\\frac{1}{2}``) -> 2.5: two integers joined by one space, then a plain
    denominator larger than the second; None when the token is no mixed number."""
    den = match.group("den")
    parts = run.split(" ")
    if (not fractions or den is None or len(parts) != 2 or not all(p.isdigit() for p in parts)
            or not den.isdigit() or int(parts[1]) >= int(den)):
        return None
    if any(match.group(g) for g in ("chain", "exp", "pow", "powsup", "sci")):
        return None
    return float(parts[0]) + float(parts[1]) / float(den)


def _match_tokens(match: re.Match[str], fractions: bool) -> list[_Token]:
    """The numbers one token match stands for (several for a list run like ``3,5``). The sign and currency
    belong to the first number of the run, what follows the run (fraction, exponent, ...) to its last."""
    run = match.group("run")
    items = _read_run(run)
    if items is None:
        return [_Token(match.start(), match.end(), None)]
    mixed = _mixed_number(run, match, fractions)
    if mixed is not None:
        spans, values = [[match.start(), match.end()]], [mixed]
    else:
        base = match.start("run")
        spans = [[base + start, base + end] for start, end, _ in items]
        spans[0][0], spans[-1][1] = match.start(), match.end()
        values = [float(digits) for _, _, digits in items[:-1]] + [_modified(items[-1][2], match, fractions)]
    signs = (match.group("sign") or "") + (match.group("sign2") or "")
    if signs and values[0] is not None:
        values[0] = None if len(signs) > 1 else (-values[0] if signs == "-" else values[0])  # "-$-5": None
    return [_Token(start, end, value) for (start, end), value in zip(spans, values)]


def _scan(text: str, fractions: bool) -> list[_Token]:
    """Every number of (normalised) ``text``, in order."""
    tokens = [token for match in _TOKEN.finditer(text) for token in _match_tokens(match, fractions)]
    if _EXPRESSION in text:
        tokens += [_Token(m.start(), m.end(), None) for m in re.finditer(_EXPRESSION, text)]
        tokens.sort(key=lambda token: token.start)
    return tokens


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


def _first_after_equals(text: str, fractions: bool) -> _Token | None:
    """The first number after the last ``=`` of ``text`` (None when there is no ``=`` or no number after)."""
    if "=" not in text:
        return None
    tokens = _scan(text.rsplit("=", 1)[1], fractions)
    return tokens[0] if tokens else None


def _read_anchored(rest: str, fractions: bool) -> tuple[bool, float | None]:
    """``(found, value)`` for the text right after an answer anchor: found when it starts with a number."""
    tokens = _scan(rest, fractions)
    if not tokens or tokens[0].start != 0:
        return False, None
    # "The answer is 15 gallons * 8 pints/gallon = 120 pints": the result after the sentence's last "="
    result = _first_after_equals(_SENTENCE_END.split(rest, maxsplit=1)[0], fractions)
    if result is not None:
        return True, result.value
    if _CONTINUES.match(rest, tokens[0].end):
        return True, None  # "The answer is 5 + 3", "The answer is 3,5"
    return True, tokens[0].value


def _read_boxed(content: str, fractions: bool) -> tuple[bool, float | None]:
    """``(found, value)`` for the content of one ``\\boxed{}``: found when it holds a number."""
    tokens = _scan(content, fractions)
    if not tokens:
        return False, None
    if _FOREIGN_LATEX.search(content):
        return True, None  # \sqrt{2}, 2\pi, ...
    result = _first_after_equals(content, fractions)
    if result is not None:
        return True, result.value  # \boxed{x = 5}
    first = tokens[0]
    if _CONTINUES.match(content, first.end):
        return True, None  # \boxed{6 + 2}
    return True, first.value


def extract_math_answer(text: str | None, *, fractions: bool = True) -> float | None:
    """The numeric answer of a chain-of-thought math output, or None when it has none or its form is ambiguous.

    Rules, in order:

    1. **Anchor**: the last "The answer is N" (also "The final answer is N", "answer: N", "The answer is: N",
       case-insensitive) whose N follows directly -- only spaces, ``:``, ``=``, ``*``, ``_``, a currency sign,
       brackets or a ``\\boxed{`` may stand between (so "Step-by-Step Answer: Roger has 5 balls" is no anchor);
       earlier anchors are tried when the last one has no such number. When the anchor's sentence goes on into
       an equation ("the final answer is 15 gallons * 8 pints = 120 pints"), the first number after the
       sentence's last ``=`` is taken instead. When N goes on into an unevaluated expression ("The answer is
       5 + 3", "6 \\times 7") or a glued comma ("The answer is 3,5"): None.
    2. **Boxed**: the last ``\\boxed{...}`` holding a number: the first number after its last ``=``, else its
       first number; None when that number goes on into an expression (``\\boxed{6+2}``) or the box holds
       LaTeX other than text / spacing / operators (``\\boxed{2\\sqrt{3}}``, ``\\boxed{2\\pi}``).
    3. **Fallback**: the last number in the text.

    Number forms read (after every Unicode decimal digit -- Bengali, Thai, Devanagari, full-width, ... -- is
    mapped to 0-9):

    - signs: a leading ``-`` (also Unicode minus U+2212 and dashes) keeps its sign unless glued to a preceding
      word or digit (``5-3`` reads 5 and 3; ``-3`` and ``is -3`` read -3);
    - decimals: ``.`` is the decimal point (a sentence-final ``18.`` is 18; ``.5`` is 0.5);
    - thousands separators -- comma, space, thin space U+2009, no-break spaces U+00A0 / U+202F, apostrophe
      (also U+2019), LaTeX ``{,}`` and ``\\,`` -- only in a valid grouping: one separator kind throughout, a
      first group of 1-3 digits not starting with 0, every later group exactly 3 digits (``1,080``,
      ``1 234 567.5``, ``1'234``, ``1{,}000``);
    - digit groups that cannot be thousands are separate numbers, as before (``3,5`` and ``1, 2`` are lists,
      ``2023 100`` is two numbers); forms of other locales are **ambiguous** and read None when chosen:
      ``1,234,5``, Indian ``1,23,456``, mixed separators ``1,234 567``, decimal commas ``0,5`` / ``1 234,5``,
      dot thousands ``1.234,56`` / ``1.234.567``, apostrophes that do not group (``5'10``), a 3-digit number
      repeated with plain spaces (``120 120``: a model repeating itself);
    - fractions ``a/b`` anywhere, also before punctuation (``3/4.`` is 0.75; ``1.5/3`` is 0.5), mixed numbers
      (``2 1/2`` is 2.5), vulgar fractions (``½``, ``2½``), LaTeX ``\\frac{a}{b}`` / ``\\dfrac`` /
      ``\\tfrac`` / ``\\frac12``; ``a/0`` and dates ``12/25/2023`` read None; with ``fractions=False`` a
      fraction reads as its numerator;
    - scientific notation ``1.5e3``, ``1.5 x 10^3`` (``×``, ``*``, ``·``, ``\\times``, ``\\cdot``; ``10^{3}``,
      ``10³``) and powers ``2^10`` / ``5²`` (``m^2`` reads nothing: a number right after ``^`` is an exponent);
    - percentages ``25%`` read 25; currency signs before or after the number are skipped (``$1,234.50``,
      ``-$5``, ``$-5``, ``€5``, ``5 €``, ``\\$5``, "5 dollars").
    """
    if not text:
        return None
    text = _math_text(str(text))
    # 1. anchors, last first
    for anchor in reversed(list(_ANCHOR.finditer(text))):
        line_end = text.find("\n", anchor.end())
        segment = _BOXED.sub("", text[anchor.end(): line_end if line_end >= 0 else len(text)])
        found, value = _read_anchored(segment[_ANCHOR_GAP.match(segment).end():], fractions)
        if found:
            return value
    # 2. boxed
    for content in reversed(_boxed_contents(text)):
        found, value = _read_boxed(content, fractions)
        if found:
            return value
    # 3. last number
    tokens = _scan(_BOXED.sub("", text), fractions)
    return tokens[-1].value if tokens else None


# lm-evaluation-harness, lm_eval/tasks/mgsm/en_cot/cot_yaml (version 2.0 and later), filter_list:
#   strict-match:     regex "The answer is (\-?[0-9\.\,]+)", then take_first
#   flexible-extract: regex "(-?[$0-9.,]{2,})|(-?[0-9]+)", group_select -1, then take_first
_HARNESS_STRICT = re.compile(r"The answer is (\-?[0-9\.\,]+)")
_HARNESS_FLEXIBLE = re.compile(r"(-?[$0-9.,]{2,})|(-?[0-9]+)")
_HARNESS_NUMBER = re.compile(r"-?(?:\d+(?:\.\d+)?|\.\d+)")


def _harness_number(captured: str) -> float | None:
    """The number of a string the harness's regex filter kept: ``$`` and ``,`` dropped, trailing ``.`` cut
    (what its exact_match settings ignore); None when what is left is no number (``...``, ``1.2.3``, ``$$``)."""
    text = captured.strip().replace("$", "").replace(",", "").rstrip(".")
    return float(text) if _HARNESS_NUMBER.fullmatch(text) else None


def harness_strict_match(text: str | None) -> float | None:
    """The lm-evaluation-harness MGSM "strict-match" answer: the FIRST ``The answer is N`` (case-sensitive,
    N = ``-?[0-9.,]+`` right after one space), as a number; None when there is none.

    Source: EleutherAI/lm-evaluation-harness ``lm_eval/tasks/mgsm/en_cot/cot_yaml`` (filter ``strict-match``:
    regex ``The answer is (\\-?[0-9\\.\\,]+)`` then ``take_first``; the ``native_cot`` variant names the
    same filter ``get-answer``) and ``lm_eval/filters/extraction.py`` (``RegexFilter``: ``findall``, match
    ``group_select=0``). The harness then compares strings with ``ignore_case`` and ``ignore_punctuation``
    (every Unicode punctuation character removed, ``-`` and ``.`` included), so its verdict can differ from
    comparing this number: there "18.0" fails gold "18" and "-3" passes gold "3". Digits must be ASCII (no
    mapping of other scripts, as in the harness)."""
    if not text:
        return None
    matches = _HARNESS_STRICT.findall(str(text))
    return _harness_number(matches[0]) if matches else None


def harness_flexible_extract(text: str | None) -> float | None:
    """The lm-evaluation-harness MGSM "flexible-extract" answer: the LAST match of
    ``(-?[$0-9.,]{2,})|(-?[0-9]+)``, as a number; None when there is no match or the match is no number
    (``...`` at the end of a sentence counts as the last match there, as in the harness, and reads None).

    Source: EleutherAI/lm-evaluation-harness ``lm_eval/tasks/mgsm/en_cot/cot_yaml`` (filter
    ``flexible-extract``: that regex with ``group_select: -1``, then ``take_first``) and
    ``lm_eval/filters/extraction.py`` (``RegexFilter``: ``findall``, the selected match's first non-empty
    group, stripped). See :func:`harness_strict_match` for how the harness compares the kept string."""
    if not text:
        return None
    matches = _HARNESS_FLEXIBLE.findall(str(text))
    if not matches:
        return None
    return _harness_number(next(group for group in matches[-1] if group))


def anchor_last_number(text: str | None) -> float | None:
    """The MathOctopus / MindMerger answer: the last number of the text, sign dropped; None when there is none.

    Source: ``extract_last_num`` in CONE-MT/MindMerger ``tools/utils.py`` (called by its ``evaluation.py``
    for MGSM and MSVAMP; MathOctopus's evaluation scripts define the same function): commas between two
    digits are removed (``re.sub(r"(\\d),(\\d)", ...)``, so ``3,5`` reads 35 and ``1,2,3`` reads 3 as there),
    then the last ``\\d+(\\.\\d+)?`` is taken -- no ``-``, so "-3" reads 3. Python's ``\\d`` also matches
    other scripts' digits (Bengali, Thai, ...), as there. One difference: the original returns 0.0 when the
    text has no number (scoring such an output right when the gold answer is 0); this returns None."""
    if not text:
        return None
    found = re.findall(r"(\d+(\.\d+)?)", re.sub(r"(\d),(\d)", r"\g<1>\g<2>", str(text)))
    return float(found[-1][0]) if found else None


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
