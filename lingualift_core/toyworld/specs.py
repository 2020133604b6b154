"""The six toy languages (fixed contract, see .notes/TOYLANGS.md) and their phonotactics.

Each language writes its words in one Unicode block (lowercase letters only; no capital letters exist in
the toy texts), has its own syllable structure, word order and a handful of typological choices (adjective
position, prepositions vs postpositions, which articles exist, zero copula, wh-fronting, object marker).
Digits and person names (Latin letters) are shared with English, like numbers and named entities in real
text; so is the punctuation ``. , ?``.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

__all__ = ["ToyLanguageSpec", "TOY_LANGUAGES", "TOY_CODES", "toy_spec", "Phonology", "PHONOLOGIES"]


@dataclass(frozen=True)
class ToyLanguageSpec:
    """Typological profile of one toy language.

    Attributes:
        code, name, level, word_order, script: as in the toy-language contract.
        letter_range: inclusive code-point range of the script block the words are written in.
        adj_position: ``"pre"`` (adjective before the noun) or ``"post"``.
        adposition: ``"pre"`` (prepositions) or ``"post"`` (postpositions, the verb-final languages).
        articles: which English articles have a translation (``"the"``, ``"a"``); the others are dropped.
        zero_copula: the present-tense copula ("is/are/am") is not expressed.
        wh_front: "how many" phrases are fronted as in English (else they stay in the object position).
        object_marker: a particle (with no English counterpart) follows every object noun phrase.
        synonym_rate: share of content lemmas with two translations used at random.
        multiword_rate: share of content lemmas translated by two words.
    """

    code: str
    name: str
    level: str
    word_order: str
    script: str
    letter_range: tuple[int, int]
    adj_position: str
    adposition: str
    articles: tuple[str, ...]
    zero_copula: bool
    wh_front: bool
    object_marker: bool
    synonym_rate: float = 0.12
    multiword_rate: float = 0.07

    @property
    def verb_final(self) -> bool:
        return self.word_order == "SOV"

    def in_script(self, ch: str) -> bool:
        return self.letter_range[0] <= ord(ch) <= self.letter_range[1]


TOY_LANGUAGES: tuple[ToyLanguageSpec, ...] = (
    ToyLanguageSpec("qaa", "Velari", "high", "SVO", "Greek", (0x03B1, 0x03C9), "pre", "pre", ("the", "a"),
                    zero_copula=False, wh_front=True, object_marker=False),
    ToyLanguageSpec("qab", "Dorun", "high", "SOV", "Cyrillic", (0x0430, 0x044F), "pre", "post", (),
                    zero_copula=True, wh_front=False, object_marker=False),
    ToyLanguageSpec("qac", "Mirasi", "medium", "SVO", "Armenian", (0x0561, 0x0586), "post", "pre", ("the",),
                    zero_copula=False, wh_front=False, object_marker=False),
    ToyLanguageSpec("qad", "Teshan", "medium", "VSO", "Georgian", (0x10D0, 0x10F0), "post", "pre", ("a",),
                    zero_copula=False, wh_front=False, object_marker=False),
    ToyLanguageSpec("qae", "Ulvan", "low", "SVO", "Tifinagh", (0x2D30, 0x2D67), "pre", "pre", ("the", "a"),
                    zero_copula=False, wh_front=True, object_marker=False),
    ToyLanguageSpec("qaf", "Zerek", "low", "SOV", "Ethiopic", (0x1200, 0x135A), "pre", "post", (),
                    zero_copula=False, wh_front=False, object_marker=True),
)
TOY_CODES: tuple[str, ...] = tuple(s.code for s in TOY_LANGUAGES)
_BY_CODE = {s.code: s for s in TOY_LANGUAGES}


def toy_spec(code: str) -> ToyLanguageSpec:
    try:
        return _BY_CODE[code]
    except KeyError:
        raise KeyError(f"unknown toy language {code!r}; known: {', '.join(TOY_CODES)}") from None


# ------------------------------------------------------------------------------------------ phonotactics
@dataclass(frozen=True)
class Phonology:
    """Syllable-based word shapes: (onset) vowel (coda); an abugida writes one character per syllable."""

    onsets: tuple[str, ...]
    clusters: tuple[str, ...]
    vowels: tuple[str, ...]
    codas: tuple[str, ...]
    p_onset: float
    p_cluster: float
    p_coda: float
    abugida_rows: tuple[int, ...] = ()  # Ethiopic: code point of the first character of each consonant row

    def syllable(self, rng: random.Random, final: bool = False) -> str:
        if self.abugida_rows:
            row = rng.choice(self.abugida_rows)
            order = rng.choice((0, 0, 1, 2, 3, 3, 4, 6))
            syl = chr(row + order)
            if rng.random() < self.p_coda:
                syl += chr(rng.choice(self.abugida_rows) + 5)  # 6th order: consonant without vowel
            return syl
        out = ""
        if rng.random() < self.p_onset:
            out += rng.choice(self.clusters) if self.clusters and rng.random() < self.p_cluster else rng.choice(
                self.onsets
            )
        out += rng.choice(self.vowels)
        if rng.random() < self.p_coda * (1.3 if final else 0.7):
            out += rng.choice(self.codas)
        return out

    def word(self, rng: random.Random, syllables: int) -> str:
        return "".join(self.syllable(rng, final=i == syllables - 1) for i in range(syllables))


def _letters(text: str) -> tuple[str, ...]:
    return tuple(text.split())


PHONOLOGIES: dict[str, Phonology] = {
    "qaa": Phonology(
        _letters("β γ δ ζ θ κ λ μ ν ξ π ρ σ τ φ χ"),
        _letters("στ κρ πλ τρ γλ φρ χρ θρ"),
        _letters("α α ε ε ι ο ο υ η ω"),
        _letters("ν σ ρ λ ς"),
        0.85, 0.12, 0.35,
    ),
    "qab": Phonology(
        _letters("б в г д ж з к л м н п р с т х ц ч ш"),
        _letters("ст пр др гл зв кр тв бр"),
        _letters("а а е и о о у ы я ю"),
        _letters("к л м н р с т х ш"),
        0.9, 0.15, 0.5,
    ),
    "qac": Phonology(
        _letters("բ գ դ զ թ ժ լ խ ծ կ հ ձ ղ ճ մ յ ն շ չ պ ջ ռ ս վ տ ր ց փ ք ֆ"),
        (),
        _letters("ա ա ե ի ո օ ը է ու"),
        _letters("ն ր ս տ կ մ ղ լ"),
        0.8, 0.0, 0.4,
    ),
    "qad": Phonology(
        _letters("ბ გ დ ვ ზ თ კ ლ მ ნ პ ჟ რ ს ტ ფ ქ ღ ყ შ ჩ ც ძ წ ჭ ხ ჯ ჰ"),
        _letters("მგ ბრ გვ ტკ ცხ წყ შვ თვ მწ"),
        _letters("ა ა ე ი ო უ"),
        _letters("ს ლ ნ რ მ"),
        0.95, 0.25, 0.25,
    ),
    "qae": Phonology(
        _letters("ⴱ ⴳ ⴷ ⴹ ⴼ ⴽ ⵀ ⵃ ⵄ ⵅ ⵇ ⵊ ⵍ ⵎ ⵏ ⵔ ⵕ ⵖ ⵙ ⵚ ⵛ ⵜ ⵟ ⵡ ⵢ ⵣ ⵥ"),
        (),
        _letters("ⴰ ⴰ ⴻ ⵉ ⵓ"),
        _letters("ⵏ ⵜ ⵙ ⵍ ⵔ ⵎ ⵖ ⴷ"),
        0.75, 0.0, 0.6,
    ),
    "qaf": Phonology((), (), (), (), 0.0, 0.0, 0.2, abugida_rows=(
        0x1200, 0x1208, 0x1218, 0x1228, 0x1230, 0x1238, 0x1240, 0x1260, 0x1270, 0x1278, 0x1290, 0x12A0,
        0x12A8, 0x12C8, 0x12D8, 0x12E8, 0x12F0, 0x1300, 0x1308, 0x1320, 0x1328, 0x1348,
    )),
}


def _check() -> None:
    for spec in TOY_LANGUAGES:
        ph = PHONOLOGIES[spec.code]
        letters = "".join(ph.onsets + ph.clusters + ph.vowels + ph.codas)
        letters += "".join(chr(r + o) for r in ph.abugida_rows for o in range(7))
        for ch in letters:
            if not spec.in_script(ch) or not unicodedata.category(ch).startswith("L"):
                raise AssertionError(f"{spec.code}: letter {ch!r} outside its script block")


_check()
