"""Language registry: the 48 MMWP languages of the paper plus the toy languages of the embedded world.

Pure data and lookups; no I/O. Sources for the facts recorded here:

- Resource levels follow the paper's own definition (share of the language in Llama-2's pre-training corpus:
  low < 0.005 %, medium 0.005 %-0.1 %, high above), not the usual "number of speakers / web data" notion.
  That is why e.g. Hindi and Arabic are "low" and Korean and Vietnamese "medium".
- ``paper_group`` is the grouping of the low-resource set used in the paper's appendix E.2
  (Germanic / Slavic / Indo-Iranian / Dravidian / other); it is ``None`` for other languages.
- ``spacy`` is the spaCy 3.8 language code used for tokenization: the language's own code where spaCy ships
  ``spacy.lang.<code>``, else the multi-language ``"xx"``. ``spacy_requires`` is the extra pip requirement
  (space-separated) that spaCy's *default* tokenizer config for that language needs.
- ``flores`` is the FLORES-200 file code (``<iso639-3>_<Script>``), ``tatoeba`` the ISO 639-3 code used in the
  LASER Tatoeba v1 file names (``tatoeba.<code>-eng.<code>``; ``None`` where the set has no such language).
- The toy languages (ISO 639 local-use codes ``qaa``-``qaf``) are fixed by the toy-language contract shared
  with ``lingualift_core.toyworld``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "LEVELS",
    "MGSM_GROUPS",
    "MMWP_LANGUAGES",
    "MSVAMP_GROUPS",
    "PAPER_GROUPS",
    "SPACY_REQUIREMENT_MODULES",
    "SPACY_SYSTEM_REQUIREMENTS",
    "TOY_LANGUAGES",
    "WORD_ORDERS",
    "Language",
    "UnknownLanguageError",
    "all_languages",
    "get_language",
    "languages_by_level",
    "levels_mapping",
    "tatoeba_code",
]

LEVELS: tuple[str, ...] = ("low", "medium", "high")
WORD_ORDERS: tuple[str, ...] = ("SVO", "SOV", "VSO")
PAPER_GROUPS: tuple[str, ...] = ("Germanic", "Slavic", "Indo-Iranian", "Dravidian", "other")

# Native (non-pip) libraries spaCy's default tokenizer needs besides ``spacy_requires``. spaCy's Korean
# tokenizer error message asks for mecab-ko, mecab-ko-dic and natto-py; only natto-py is a pip package.
SPACY_SYSTEM_REQUIREMENTS: Mapping[str, tuple[str, ...]] = MappingProxyType({"ko": ("mecab-ko", "mecab-ko-dic")})

# Import name of each pip package in ``spacy_requires`` (pip name -> module spaCy imports); they differ for
# natto-py, so check availability with these, not with the pip names.
SPACY_REQUIREMENT_MODULES: Mapping[str, str] = MappingProxyType(
    {
        "sudachipy": "sudachipy",
        "sudachidict_core": "sudachidict_core",
        "pythainlp": "pythainlp",
        "pyvi": "pyvi",
        "natto-py": "natto",
    }
)


class UnknownLanguageError(ValueError):
    """Raised for a language code the registry does not know."""


@dataclass(frozen=True)
class Language:
    """One language of the registry.

    Attributes:
        code: ISO 639-1 code where one exists, else the code the paper / toy contract uses (``qaa``...).
        name: English name.
        level: resource level as the paper defines it: ``"low"``, ``"medium"`` or ``"high"``.
        family: language family (standard genealogical grouping; ``"toy"`` for toy languages).
        paper_group: appendix E.2 grouping of the paper's low-resource set, ``None`` outside that set.
        script: writing system in current use.
        spacy: spaCy language code for tokenization (``"xx"`` where spaCy has no dedicated language).
        spacy_requires: extra pip requirement(s), space-separated, of spaCy's default tokenizer; ``None``.
        no_space: True for languages written without spaces between words (word segmentation needed).
        iso639_3: ISO 639-3 code (the macrolanguage code where ISO 639-1 maps to one, e.g. ``ara``, ``swa``).
        flores: FLORES-200 code such as ``"eng_Latn"``; ``None`` for toy languages.
        tatoeba: code in the LASER Tatoeba v1 file names; ``None`` where that set lacks the language.
        is_toy: True for the synthetic languages of the embedded world.
        word_order: basic word order of toy languages (``"SVO"``/``"SOV"``/``"VSO"``); ``None`` for real ones.
        paper_script: the paper's script grouping where it differs from ``script`` (only Hausa), else ``None``.
    """

    code: str
    name: str
    level: str
    family: str
    script: str
    spacy: str
    iso639_3: str
    flores: str | None
    tatoeba: str | None = None
    paper_group: str | None = None
    spacy_requires: str | None = None
    no_space: bool = False
    is_toy: bool = False
    word_order: str | None = None
    paper_script: str | None = None

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"{self.code}: level must be one of {LEVELS}, got {self.level!r}")
        if self.word_order is not None and self.word_order not in WORD_ORDERS:
            raise ValueError(f"{self.code}: word_order must be one of {WORD_ORDERS} or None, got {self.word_order!r}")
        if self.paper_group is not None and self.paper_group not in PAPER_GROUPS:
            raise ValueError(f"{self.code}: paper_group must be one of {PAPER_GROUPS} or None")
        if self.is_toy != (self.word_order is not None):
            raise ValueError(f"{self.code}: toy languages (and only they) carry a word_order")

    @property
    def spacy_requirements(self) -> tuple[str, ...]:
        """The pip packages of ``spacy_requires`` as a tuple (empty when none are needed)."""
        return tuple(self.spacy_requires.split()) if self.spacy_requires else ()

    @property
    def spacy_required_modules(self) -> tuple[str, ...]:
        """Import names of ``spacy_requirements`` (e.g. ``natto`` for ``natto-py``), for availability checks."""
        return tuple(SPACY_REQUIREMENT_MODULES.get(p, p.replace("-", "_")) for p in self.spacy_requirements)

    @property
    def script_in_paper(self) -> str:
        """The script group the paper files this language under (``paper_script`` or else ``script``)."""
        return self.paper_script or self.script


def _real(
    code: str,
    name: str,
    level: str,
    family: str,
    script: str,
    iso639_3: str,
    flores: str,
    tatoeba: str | None,
    *,
    paper_group: str | None = None,
    spacy: str | None = None,
    spacy_requires: str | None = None,
    no_space: bool = False,
    paper_script: str | None = None,
) -> Language:
    return Language(
        code=code,
        name=name,
        level=level,
        family=family,
        script=script,
        spacy=spacy if spacy is not None else code,
        iso639_3=iso639_3,
        flores=flores,
        tatoeba=tatoeba,
        paper_group=paper_group,
        spacy_requires=spacy_requires,
        no_space=no_space,
        paper_script=paper_script,
    )


def _toy(code: str, name: str, level: str, script: str, word_order: str) -> Language:
    return Language(
        code=code,
        name=name,
        level=level,
        family="toy",
        script=script,
        spacy="xx",
        iso639_3=code,
        flores=None,
        tatoeba=None,
        is_toy=True,
        word_order=word_order,
    )


_G, _S, _II, _D, _O = "Germanic", "Slavic", "Indo-Iranian", "Dravidian", "other"

# fmt: off
_LOW = (
    _real("af", "Afrikaans", "low", "Germanic", "Latin", "afr", "afr_Latn", "afr", paper_group=_G),
    _real("ar", "Arabic", "low", "Semitic", "Arabic", "ara", "arb_Arab", "ara", paper_group=_O),
    # spaCy 3.8 has no Belarusian, Hausa or Swahili language class: multi-language "xx" tokenizer.
    _real("be", "Belarusian", "low", "Slavic", "Cyrillic", "bel", "bel_Cyrl", "bel", paper_group=_S, spacy="xx"),
    _real("bn", "Bengali", "low", "Indo-Iranian", "Bengali", "ben", "ben_Beng", "ben", paper_group=_II),
    _real("eu", "Basque", "low", "Basque (isolate)", "Latin", "eus", "eus_Latn", "eus", paper_group=_O),
    _real("gu", "Gujarati", "low", "Indo-Iranian", "Gujarati", "guj", "guj_Gujr", None, paper_group=_II),
    # Hausa is written in Latin script (Boko) today, and FLORES-200 uses hau_Latn; the paper groups it with
    # the Arabic-script languages (Ajami), which paper_script records.
    _real("ha", "Hausa", "low", "Afro-Asiatic (Chadic)", "Latin", "hau", "hau_Latn", None, paper_group=_O,
          spacy="xx", paper_script="Arabic"),
    _real("hi", "Hindi", "low", "Indo-Iranian", "Devanagari", "hin", "hin_Deva", "hin", paper_group=_II),
    _real("hy", "Armenian", "low", "Armenian", "Armenian", "hye", "hye_Armn", "hye", paper_group=_O),
    _real("is", "Icelandic", "low", "Germanic", "Latin", "isl", "isl_Latn", "isl", paper_group=_G),
    _real("kn", "Kannada", "low", "Dravidian", "Kannada", "kan", "kan_Knda", None, paper_group=_D),
    _real("lb", "Luxembourgish", "low", "Germanic", "Latin", "ltz", "ltz_Latn", None, paper_group=_G),
    _real("mk", "Macedonian", "low", "Slavic", "Cyrillic", "mkd", "mkd_Cyrl", "mkd", paper_group=_S),
    _real("ml", "Malayalam", "low", "Dravidian", "Malayalam", "mal", "mal_Mlym", "mal", paper_group=_D),
    _real("mr", "Marathi", "low", "Indo-Iranian", "Devanagari", "mar", "mar_Deva", "mar", paper_group=_II),
    # Nepali: ISO 639-3 macrolanguage "nep"; FLORES-200 uses the individual language npi (Nepali proper).
    _real("ne", "Nepali", "low", "Indo-Iranian", "Devanagari", "nep", "npi_Deva", None, paper_group=_II),
    _real("sk", "Slovak", "low", "Slavic", "Latin", "slk", "slk_Latn", "slk", paper_group=_S),
    # Swahili: macrolanguage "swa"; FLORES-200 and Tatoeba use the individual language swh.
    _real("sw", "Swahili", "low", "Bantu", "Latin", "swa", "swh_Latn", "swh", paper_group=_O, spacy="xx"),
    _real("ta", "Tamil", "low", "Dravidian", "Tamil", "tam", "tam_Taml", "tam", paper_group=_D),
    _real("te", "Telugu", "low", "Dravidian", "Telugu", "tel", "tel_Telu", "tel", paper_group=_D),
    _real("th", "Thai", "low", "Tai-Kadai", "Thai", "tha", "tha_Thai", "tha", paper_group=_O,
          spacy_requires="pythainlp", no_space=True),
)

_MEDIUM = (
    _real("bg", "Bulgarian", "medium", "Slavic", "Cyrillic", "bul", "bul_Cyrl", "bul"),
    _real("ca", "Catalan", "medium", "Romance", "Latin", "cat", "cat_Latn", "cat"),
    _real("cs", "Czech", "medium", "Slavic", "Latin", "ces", "ces_Latn", "ces"),
    _real("da", "Danish", "medium", "Germanic", "Latin", "dan", "dan_Latn", "dan"),
    _real("fi", "Finnish", "medium", "Uralic", "Latin", "fin", "fin_Latn", "fin"),
    _real("hr", "Croatian", "medium", "Slavic", "Latin", "hrv", "hrv_Latn", "hrv"),
    _real("hu", "Hungarian", "medium", "Uralic", "Latin", "hun", "hun_Latn", "hun"),
    _real("id", "Indonesian", "medium", "Austronesian", "Latin", "ind", "ind_Latn", "ind"),
    # spaCy's default Korean tokenizer imports natto (pip: natto-py) and needs the native mecab-ko and
    # mecab-ko-dic as well (see SPACY_SYSTEM_REQUIREMENTS).
    _real("ko", "Korean", "medium", "Koreanic", "Hangul", "kor", "kor_Hang", "kor", spacy_requires="natto-py"),
    _real("nb", "Norwegian Bokmål", "medium", "Germanic", "Latin", "nob", "nob_Latn", "nob"),
    _real("pl", "Polish", "medium", "Slavic", "Latin", "pol", "pol_Latn", "pol"),
    _real("pt", "Portuguese", "medium", "Romance", "Latin", "por", "por_Latn", "por"),
    _real("ro", "Romanian", "medium", "Romance", "Latin", "ron", "ron_Latn", "ron"),
    _real("sl", "Slovenian", "medium", "Slavic", "Latin", "slv", "slv_Latn", "slv"),
    # Serbian is written in both Cyrillic and Latin; FLORES-200 has srp_Cyrl only.
    _real("sr", "Serbian", "medium", "Slavic", "Cyrillic", "srp", "srp_Cyrl", "srp"),
    _real("uk", "Ukrainian", "medium", "Slavic", "Cyrillic", "ukr", "ukr_Cyrl", "ukr"),
    # Vietnamese separates syllables, not words, by spaces; spaCy's default (use_pyvi = true) needs pyvi.
    _real("vi", "Vietnamese", "medium", "Austroasiatic", "Latin", "vie", "vie_Latn", "vie", spacy_requires="pyvi"),
)

_HIGH = (
    _real("de", "German", "high", "Germanic", "Latin", "deu", "deu_Latn", "deu"),
    # English is the pivot: every Tatoeba pair is X-eng, so "eng" names the English side, not a file pair.
    _real("en", "English", "high", "Germanic", "Latin", "eng", "eng_Latn", "eng"),
    _real("es", "Spanish", "high", "Romance", "Latin", "spa", "spa_Latn", "spa"),
    _real("fr", "French", "high", "Romance", "Latin", "fra", "fra_Latn", "fra"),
    _real("it", "Italian", "high", "Romance", "Latin", "ita", "ita_Latn", "ita"),
    _real("ja", "Japanese", "high", "Japonic", "Japanese", "jpn", "jpn_Jpan", "jpn",
          spacy_requires="sudachipy sudachidict_core", no_space=True),
    _real("nl", "Dutch", "high", "Germanic", "Latin", "nld", "nld_Latn", "nld"),
    _real("ru", "Russian", "high", "Slavic", "Cyrillic", "rus", "rus_Cyrl", "rus"),
    _real("sv", "Swedish", "high", "Germanic", "Latin", "swe", "swe_Latn", "swe"),
    # Chinese: spaCy's default segmenter is "char" (no extra package; jieba/pkuseg are opt-in).
    # ISO 639-3 macrolanguage "zho"; Tatoeba's set is Mandarin, "cmn".
    _real("zh", "Chinese", "high", "Sino-Tibetan", "Han", "zho", "zho_Hans", "cmn", no_space=True),
)

# Fixed toy-language contract (.notes/TOYLANGS.md); lingualift_core.toyworld must agree.
_TOY = (
    _toy("qaa", "Velari", "high", "Greek", "SVO"),
    _toy("qab", "Dorun", "high", "Cyrillic", "SOV"),
    _toy("qac", "Mirasi", "medium", "Armenian", "SVO"),
    _toy("qad", "Teshan", "medium", "Georgian", "VSO"),
    _toy("qae", "Ulvan", "low", "Tifinagh", "SVO"),
    _toy("qaf", "Zerek", "low", "Ethiopic", "SOV"),
)
# fmt: on

_REGISTRY: Mapping[str, Language] = MappingProxyType({lang.code: lang for lang in (*_LOW, *_MEDIUM, *_HIGH, *_TOY)})

MMWP_LANGUAGES: tuple[str, ...] = tuple(lang.code for lang in (*_LOW, *_MEDIUM, *_HIGH))
TOY_LANGUAGES: tuple[str, ...] = tuple(lang.code for lang in _TOY)

# Groupings used in the paper's MGSM / MSVAMP tables (the high-resource averages include English).
MGSM_GROUPS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"low": ("bn", "sw", "te", "th"), "high": ("de", "en", "es", "fr", "ja", "ru", "zh")}
)
MSVAMP_GROUPS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"low": ("bn", "sw", "th"), "high": ("de", "en", "es", "fr", "ja", "ru", "zh")}
)


def get_language(code: str) -> Language:
    """Return the registry entry for ``code`` (exact, e.g. ``"sw"`` or ``"qaa"``).

    Raises:
        UnknownLanguageError: the code is not in the registry; the message lists the known codes.
    """
    try:
        return _REGISTRY[code]
    except (KeyError, TypeError):
        raise UnknownLanguageError(
            f"unknown language code {code!r}; known codes: {', '.join(_REGISTRY)}"
        ) from None


def all_languages(include_toy: bool = True) -> tuple[Language, ...]:
    """All languages in registry order (MMWP low, medium, high; then the toy languages if requested)."""
    return tuple(lang for lang in _REGISTRY.values() if include_toy or not lang.is_toy)


def languages_by_level(level: str, include_toy: bool = False) -> tuple[Language, ...]:
    """Languages of one resource level (``"low"``, ``"medium"`` or ``"high"``), real ones only by default."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}; got {level!r}")
    return tuple(lang for lang in all_languages(include_toy) if lang.level == level)


def tatoeba_code(code: str) -> str | None:
    """ISO 639-3 code used in the LASER Tatoeba v1 file names (``tatoeba.<c>-eng.<c>``) for ``code``.

    ``None`` when the Tatoeba set has no test set for the language (gu, ha, kn, lb, ne and the toy languages).
    English returns ``"eng"``, the shared English side of every pair.
    """
    return get_language(code).tatoeba


def levels_mapping(codes: Iterable[str]) -> dict[str, str]:
    """Map each code to its resource level, in input order (e.g. for per-level averages of results)."""
    if isinstance(codes, str):
        raise TypeError("levels_mapping expects an iterable of codes, not a single string")
    return {code: get_language(code).level for code in codes}
