"""Tests for the language registry (lingualift_core.languages)."""

from __future__ import annotations

import dataclasses
import importlib.util
import tarfile
from pathlib import Path

import pytest

from lingualift_core import languages as L
from lingualift_core.languages import (
    MGSM_GROUPS,
    MMWP_LANGUAGES,
    MSVAMP_GROUPS,
    TOY_LANGUAGES,
    Language,
    UnknownLanguageError,
    all_languages,
    get_language,
    languages_by_level,
    levels_mapping,
    tatoeba_code,
)

# PAPER_FACTS.md, "Languages (MMWP, 48) and resource levels".
PAPER_LOW = "af ar be bn eu gu ha hi hy is kn lb mk ml mr ne sk sw ta te th".split()
PAPER_MEDIUM = "bg ca cs da fi hr hu id ko nb pl pt ro sl sr uk vi".split()
PAPER_HIGH = "de en es fr it ja nl ru sv zh".split()
PAPER_GROUPS_E2 = {
    "Germanic": "af is lb",
    "Slavic": "be mk sk",
    "Indo-Iranian": "bn gu hi mr ne",
    "Dravidian": "ta te kn ml",
    "other": "ar eu ha hy sw th",
}
PAPER_SCRIPTS_LOW = {
    "Latin": "af eu is lb sw sk",
    "Arabic": "ar ha",
    "Cyrillic": "be mk",
    "Devanagari": "hi mr ne",
}
# .notes/TOYLANGS.md
TOY_CONTRACT = {
    "qaa": ("Velari", "high", "SVO", "Greek"),
    "qab": ("Dorun", "high", "SOV", "Cyrillic"),
    "qac": ("Mirasi", "medium", "SVO", "Armenian"),
    "qad": ("Teshan", "medium", "VSO", "Georgian"),
    "qae": ("Ulvan", "low", "SVO", "Tifinagh"),
    "qaf": ("Zerek", "low", "SOV", "Ethiopic"),
}


def test_counts_per_level_match_the_paper():
    assert len(MMWP_LANGUAGES) == 48 == len(set(MMWP_LANGUAGES))
    for level, expected in (("low", PAPER_LOW), ("medium", PAPER_MEDIUM), ("high", PAPER_HIGH)):
        got = [lang.code for lang in languages_by_level(level)]
        assert sorted(got) == sorted(expected), level
    assert [len(languages_by_level(lv)) for lv in ("low", "medium", "high")] == [21, 17, 10]
    assert get_language("en").level == "high"


def test_levels_with_toy_languages():
    assert len(languages_by_level("low", include_toy=True)) == 23
    assert len(languages_by_level("medium", include_toy=True)) == 19
    assert len(languages_by_level("high", include_toy=True)) == 12
    with pytest.raises(ValueError, match="level must be one of"):
        languages_by_level("very-low")


def test_all_languages_order_and_toy_switch():
    codes = [lang.code for lang in all_languages()]
    assert codes == [*MMWP_LANGUAGES, *TOY_LANGUAGES]
    assert [lang.code for lang in all_languages(include_toy=False)] == list(MMWP_LANGUAGES)
    assert not any(lang.is_toy for lang in all_languages(include_toy=False))


@pytest.mark.parametrize("groups", [MGSM_GROUPS, MSVAMP_GROUPS], ids=["mgsm", "msvamp"])
def test_benchmark_groups_exist_and_agree_with_levels(groups):
    assert set(groups) == {"low", "high"}
    for level, codes in groups.items():
        for code in codes:
            lang = get_language(code)
            assert code in MMWP_LANGUAGES
            assert lang.level == level, code
    assert "en" in groups["high"]


def test_benchmark_groups_as_in_paper():
    assert sorted(MGSM_GROUPS["low"]) == ["bn", "sw", "te", "th"]
    assert sorted(MSVAMP_GROUPS["low"]) == ["bn", "sw", "th"]
    assert sorted(MGSM_GROUPS["high"]) == sorted(MSVAMP_GROUPS["high"]) == sorted("de en es fr ja ru zh".split())


def test_unknown_code_error_lists_known_codes():
    with pytest.raises(UnknownLanguageError) as info:
        get_language("xx-unknown")
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert "\n" not in message
    assert "'xx-unknown'" in message
    for code in (*MMWP_LANGUAGES, *TOY_LANGUAGES):
        assert code in message
    with pytest.raises(UnknownLanguageError):
        get_language("EN")  # codes are exact
    with pytest.raises(UnknownLanguageError):
        tatoeba_code("zz")


def test_language_is_frozen_and_validated():
    lang = get_language("de")
    with pytest.raises(dataclasses.FrozenInstanceError):
        lang.level = "low"  # type: ignore[misc]
    base = dict(code="zz", name="Z", family="f", script="Latin", spacy="xx", iso639_3="zzz", flores=None)
    with pytest.raises(ValueError, match="level"):
        Language(level="tiny", **base)
    with pytest.raises(ValueError, match="word_order"):
        Language(level="low", word_order="OSV", is_toy=True, **base)
    with pytest.raises(ValueError, match="word_order"):
        Language(level="low", is_toy=True, **base)


def test_paper_groups_of_low_resource_set():
    for group, codes in PAPER_GROUPS_E2.items():
        for code in codes.split():
            assert get_language(code).paper_group == group, code
    assert {lang.paper_group for lang in languages_by_level("medium") + languages_by_level("high")} == {None}
    # The four named groups coincide with the genealogical family.
    for lang in languages_by_level("low"):
        if lang.paper_group != "other":
            assert lang.family == lang.paper_group


def test_scripts_and_hausa_paper_grouping():
    for script, codes in PAPER_SCRIPTS_LOW.items():
        for code in codes.split():
            assert get_language(code).script_in_paper == script, code
    ha = get_language("ha")
    assert ha.script == "Latin" and ha.paper_script == "Arabic" and ha.flores == "hau_Latn"
    assert [lang.code for lang in all_languages() if lang.paper_script is not None] == ["ha"]
    expected = {"ta": "Tamil", "te": "Telugu", "ml": "Malayalam", "bn": "Bengali", "hy": "Armenian",
                "kn": "Kannada", "gu": "Gujarati", "th": "Thai", "ko": "Hangul", "ja": "Japanese", "zh": "Han"}
    for code, script in expected.items():
        assert get_language(code).script == script


def test_no_space_languages():
    assert sorted(lang.code for lang in all_languages() if lang.no_space) == ["ja", "th", "zh"]


def test_spacy_codes_follow_installed_spacy():
    """A language's own code where spaCy ships spacy.lang.<code>, else "xx" (module lookup, no import)."""
    pytest.importorskip("spacy")
    for lang in all_languages():
        if lang.is_toy:
            assert lang.spacy == "xx"
            continue
        has_own = importlib.util.find_spec(f"spacy.lang.{lang.code}") is not None
        assert lang.spacy == (lang.code if has_own else "xx"), lang.code


def test_spacy_language_classes_load():
    """get_lang_class for the codes with special tokenizers and "xx" (importing fr alone takes ~4 s)."""
    spacy_util = pytest.importorskip("spacy.util")
    special = {lang.spacy for lang in all_languages() if lang.spacy_requires or lang.no_space}
    assert special == {"ja", "ko", "th", "vi", "zh"}
    for code in sorted(special | {"xx", "en", get_language("qaa").spacy}):
        assert spacy_util.get_lang_class(code).lang == code


@pytest.mark.slow
def test_every_spacy_code_is_a_spacy_language():
    spacy_util = pytest.importorskip("spacy.util")
    for code in sorted({lang.spacy for lang in all_languages()}):
        assert spacy_util.get_lang_class(code).lang == code


def test_spacy_xx_and_requirements():
    for code in ("be", "ha", "sw"):
        assert get_language(code).spacy == "xx"
        assert get_language(code).spacy_requires is None
    assert get_language("ja").spacy_requirements == ("sudachipy", "sudachidict_core")
    assert get_language("th").spacy_requires == "pythainlp"
    assert get_language("vi").spacy_requires == "pyvi"
    assert get_language("ko").spacy_requires == "natto-py"
    assert get_language("zh").spacy_requires is None  # default "char" segmenter
    assert get_language("en").spacy_requirements == ()
    assert {lang.code for lang in all_languages() if lang.spacy_requires} == {"ja", "th", "vi", "ko"}
    assert get_language("ko").spacy_required_modules == ("natto",)
    assert get_language("ja").spacy_required_modules == ("sudachipy", "sudachidict_core")
    for lang in all_languages():
        assert set(lang.spacy_requirements) <= set(L.SPACY_REQUIREMENT_MODULES), lang.code


def test_toy_languages_follow_the_contract():
    assert TOY_LANGUAGES == tuple(TOY_CONTRACT)
    for code, (name, level, order, script) in TOY_CONTRACT.items():
        lang = get_language(code)
        assert (lang.name, lang.level, lang.word_order, lang.script) == (name, level, order, script)
        assert lang.is_toy and lang.family == "toy" and lang.spacy == "xx"
        assert lang.iso639_3 == code and lang.flores is None and lang.tatoeba is None
    assert all(lang.word_order is None for lang in all_languages(include_toy=False))


def test_codes_are_well_formed_and_unique():
    real = all_languages(include_toy=False)
    assert all(len(lang.code) == 2 and lang.code.islower() for lang in real)
    assert all(len(lang.iso639_3) == 3 for lang in all_languages())
    flores = [lang.flores for lang in real]
    assert len(set(flores)) == len(flores)
    for lang in real:
        iso, _, script = lang.flores.partition("_")
        assert len(iso) == 3 and len(script) == 4 and script[0].isupper()


def test_levels_mapping():
    assert levels_mapping(["sw", "de", "ko", "qae"]) == {"sw": "low", "de": "high", "ko": "medium", "qae": "low"}
    assert list(levels_mapping(("zh", "af"))) == ["zh", "af"]
    assert levels_mapping([]) == {}
    with pytest.raises(UnknownLanguageError):
        levels_mapping(["de", "nope"])
    with pytest.raises(TypeError):
        levels_mapping("de")


def test_module_exports():
    for name in L.__all__:
        assert hasattr(L, name), name


# --- checks against the public data (skipped when it is absent) ---------------------------------------


def _flores_names(flores_dir: Path) -> set[str]:
    names = {p.name for p in (flores_dir / "core").glob("*.devtest")}
    archive = flores_dir / "flores200_devtest_all204.tar.xz"
    if archive.is_file():
        with tarfile.open(archive, "r:xz") as tar:
            names |= {Path(m.name).name for m in tar.getmembers() if m.name.endswith(".devtest")}
    return names


def test_flores_codes_exist_in_shared_data(shared_data):
    flores_dir = shared_data / "flores200_devtest"
    if not flores_dir.is_dir():
        pytest.skip(f"FLORES-200 devtest not found at {flores_dir}")
    names = _flores_names(flores_dir)
    if not (flores_dir / "flores200_devtest_all204.tar.xz").is_file():
        # Only the uncompressed core subset: check what it holds.
        codes = [lang.flores for lang in all_languages(False) if f"{lang.flores}.devtest" in names]
        assert codes, "no registry FLORES code found in core/"
        return
    missing = [lang.code for lang in all_languages(False) if f"{lang.flores}.devtest" not in names]
    assert not missing, f"FLORES codes without a devtest file: {missing}"


def test_tatoeba_codes_map_to_files(shared_data):
    tatoeba_dir = shared_data / "tatoeba_laser_v1"
    if not tatoeba_dir.is_dir():
        pytest.skip(f"Tatoeba LASER v1 not found at {tatoeba_dir}")
    available = {p.name.split(".")[1].split("-")[0] for p in tatoeba_dir.glob("tatoeba.*-eng.*")}
    for lang in all_languages(include_toy=False):
        code = tatoeba_code(lang.code)
        if lang.code == "en":
            assert code == "eng"
            continue
        if code is None:
            # The registry says "no Tatoeba set": make sure the data agrees.
            assert lang.iso639_3 not in available, lang.code
            continue
        assert (tatoeba_dir / f"tatoeba.{code}-eng.{code}").is_file(), lang.code
        assert (tatoeba_dir / f"tatoeba.{code}-eng.eng").is_file(), lang.code
    assert {c for c in MMWP_LANGUAGES if tatoeba_code(c) is None} == {"gu", "ha", "kn", "lb", "ne"}
