"""Loaders of real benchmark / corpus files: counts on the shared data, malformed-row handling, hub mappings."""

from __future__ import annotations

import json
import lzma
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lingualift_core.sources import (
    LoadReport,
    MalformedRowError,
    NoValidRowsError,
    SourceError,
    SourceNotFoundError,
    load_flores,
    load_flores_archive,
    load_gsm8k,
    load_math_tsv,
    load_mgsm,
    load_mmwp,
    load_monolingual_folder,
    load_msvamp,
    load_msvamp_file,
    load_tatoeba,
    load_text_corpus,
    load_xcopa,
    load_xcopa_file,
    load_xcsqa,
    load_xcsqa_file,
    load_xnli_folder,
    load_xnli_tsv,
    tatoeba_codes,
    write_math_tsv,
)
from lingualift_core.sources.hub import (
    gsm8k_hub_row,
    load_hub_dataset,
    map_hub_rows,
    metamath_hub_row,
    mgsm_hub_row,
    msvamp_hub_row,
    xnli_hub_row,
)
from lingualift_core.sources.commonsense import xcsqa_row
from lingualift_core.sources._common import HubLoadError

MGSM_LANGS = ["bn", "de", "en", "es", "fr", "ja", "ru", "sw", "te", "th", "zh"]
MSVAMP_LANGS = ["bn", "de", "en", "es", "fr", "ja", "ru", "sw", "th", "zh"]


def _by_lang(rows):
    out: dict[str, list] = {}
    for row in rows:
        out.setdefault(row["lang"], []).append(row)
    return out


# ------------------------------------------------------------------------------------------- real data


def test_mgsm_counts_and_answers(shared_data: Path) -> None:
    rows, report = load_mgsm(shared_data / "mgsm")
    assert report.n_ok == 2750 and report.n_bad == 0
    by_lang = _by_lang(rows)
    assert sorted(by_lang) == MGSM_LANGS
    assert all(len(v) == 250 for v in by_lang.values())
    answers = {lang: [r["answer"] for r in v] for lang, v in by_lang.items()}
    assert all(a == answers["en"] for a in answers.values())  # same problems, same order
    assert {2125.0, 114200.0, 276000.0, 5600.0} <= set(answers["en"])  # the thousands-comma answers
    es = {r["id"]: r for r in by_lang["es"]}
    assert '"Todo por un dólar"' in es["mgsm-213"]["question"]  # line 214 keeps its quote characters
    assert rows[0].keys() == {"id", "lang", "question", "answer", "solution"}


def test_mgsm_subset_and_missing_language(shared_data: Path) -> None:
    rows, _ = load_mgsm(shared_data / "mgsm", langs=["sw", "te"])
    assert {r["lang"] for r in rows} == {"sw", "te"} and len(rows) == 500
    with pytest.raises(SourceNotFoundError, match="xx"):
        load_mgsm(shared_data / "mgsm", langs=["xx"])


def test_msvamp_counts(shared_data: Path) -> None:
    rows, report = load_msvamp(shared_data / "msvamp")
    assert report.n_ok == 10000 and report.n_bad == 0
    by_lang = _by_lang(rows)
    assert sorted(by_lang) == MSVAMP_LANGS and all(len(v) == 1000 for v in by_lang.values())
    en = [r["answer"] for r in by_lang["en"]]
    assert all([r["answer"] for r in v] == en for v in by_lang.values())


def test_gsm8k_counts_and_sft_records(shared_data: Path) -> None:
    train, report = load_gsm8k(shared_data / "gsm8k" / "train.jsonl")
    test, _ = load_gsm8k(shared_data / "gsm8k" / "test.jsonl")
    assert report.n_ok == len(train) == 7473 and report.n_bad == 0
    assert len(test) == 1319
    assert train[0].keys() == {"id", "instruction", "input", "output", "answer"}
    assert train[0]["output"].endswith("The answer is 72.") and train[0]["answer"] == 72.0
    assert all("<<" not in r["output"] and "####" not in r["output"] for r in train)
    from lingualift_core.sources.math import format_number

    assert all(r["output"].endswith(f"The answer is {format_number(r['answer'])}.") for r in train + test)
    assert sum(r["answer"] < 0 for r in train) == 3 and sum(r["answer"] < 0 for r in test) == 2
    # MGSM's 250 problems are the first 250 GSM8K test problems
    mgsm_en, _ = load_mgsm(shared_data / "mgsm", langs=["en"])
    assert [r["answer"] for r in mgsm_en] == [r["answer"] for r in test[:250]]


def test_xnli_partial(shared_data: Path) -> None:
    rows, report = load_xnli_folder(shared_data / "xnli_partial", split="test")
    by_lang = _by_lang(rows)
    assert sorted(by_lang) == ["en", "my", "sw", "ur"] and report.n_bad == 0
    assert all(len(v) == 5010 for v in by_lang.values())
    labels = [r["label"] for r in by_lang["sw"]]
    assert all([r["label"] for r in v] == labels for v in by_lang.values())
    assert {labels.count(lab) for lab in ("entailment", "neutral", "contradiction")} == {1670}
    dev, _ = load_xnli_folder(shared_data / "xnli_partial", split="dev", langs=["en", "sw"])
    assert len(dev) == 2 * 2490
    with pytest.raises(SourceError, match="pass lang="):
        load_xnli_tsv(shared_data / "xnli_partial" / "my.genre.dev.tsv")


def test_xcopa(shared_data: Path) -> None:
    rows, report = load_xcopa(shared_data / "xcopa", split="test")
    by_lang = _by_lang(rows)
    assert len(by_lang) == 11 and all(len(v) == 500 for v in by_lang.values()) and report.n_bad == 0
    assert {"sw", "th"} <= set(by_lang)
    assert {r["answer"] for r in rows} == {"A", "B"}
    val, _ = load_xcopa(shared_data / "xcopa", split="val", langs=["sw"])
    assert len(val) == 100


def test_tatoeba_and_flores(shared_data: Path) -> None:
    assert len(tatoeba_codes(shared_data / "tatoeba_laser_v1")) == 112
    rows, _ = load_tatoeba(shared_data / "tatoeba_laser_v1", "swh", lang="sw")
    assert len(rows) == 390 and rows[0]["src_lang"] == "sw" and rows[0]["tgt_lang"] == "en"
    assert len(load_tatoeba(shared_data / "tatoeba_laser_v1", "tel").rows) == 234
    core = shared_data / "flores200_devtest" / "core"
    rows, report = load_flores(core, ["eng_Latn", "swh_Latn", "tha_Thai"], labels={"swh_Latn": "sw"})
    assert report.n_ok == 3 * 1012 and {r["lang"] for r in rows} == {"eng_Latn", "sw", "tha_Thai"}
    assert rows[0]["id"] == "flores-devtest-0" and rows[1012]["id"] == "flores-devtest-0"


def test_flores_archive(shared_data: Path) -> None:
    archive = shared_data / "flores200_devtest" / "flores200_devtest_all204.tar.xz"
    rows, _ = load_flores_archive(archive, ["kan_Knda", "eng_Latn"])
    core, _ = load_flores(shared_data / "flores200_devtest" / "core", ["eng_Latn"])
    assert len(rows) == 2024
    assert [r["text"] for r in rows if r["lang"] == "eng_Latn"] == [r["text"] for r in core]


def test_monolingual_xz(shared_data: Path) -> None:
    rows, report = load_monolingual_folder(shared_data / "monolingual" / "te", "te")
    assert report.n_ok > 100_000 and report.n_bad == 0 and len(report.files) == 2
    rows, _ = load_text_corpus(shared_data / "monolingual" / "sw" / "bible_Swahili-NT.txt", "sw", max_lines=10)
    assert len(rows) == 10 and rows[0]["id"].startswith("sw-bible_Swahili-NT.txt-")


# ----------------------------------------------------------------------------------- malformed handling


def _write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_tsv_malformed_lines_counted_reported_and_skipped(tmp_path: Path) -> None:
    path = _write(tmp_path / "mgsm_xx.tsv",
                  "Q one?\t5\nbroken line without tab\nQ three?\tseven\nQ four?\t1,250\n\t3\nQ six\t1\t2\n")
    rows, report = load_math_tsv(path, "xx")
    assert [r["answer"] for r in rows] == [5.0, 1250.0]
    assert [r["id"] for r in rows] == ["mgsm-0", "mgsm-3"]  # ids keep the line index
    assert report.n_ok == 2 and report.n_bad == 4
    assert [(Path(f).name, n) for f, n, _ in report.bad_examples] == [
        ("mgsm_xx.tsv", 2), ("mgsm_xx.tsv", 3), ("mgsm_xx.tsv", 5), ("mgsm_xx.tsv", 6)]
    assert "not a number" in report.bad_examples[1][2]
    assert "first malformed" in report.summary()
    with pytest.raises(MalformedRowError, match=r"mgsm_xx\.tsv:2: expected 2"):
        load_math_tsv(path, "xx", strict=True)


def test_file_without_valid_rows_raises_naming_it(tmp_path: Path) -> None:
    path = _write(tmp_path / "mgsm_yy.tsv", "no tab here\nnor here\n")
    with pytest.raises(NoValidRowsError) as info:
        load_math_tsv(path, "yy")
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(NoValidRowsError, match="empty.jsonl"):
        load_gsm8k(_write(tmp_path / "empty.jsonl", ""))


def test_mmwp_folder_roundtrip(tmp_path: Path) -> None:
    rows = [{"question": "Tom has 3\tapples\nand 4 more.", "answer": 7.0}, {"question": "Half of 5?", "answer": 2.5}]
    write_math_tsv(tmp_path / "mmwp_sw.tsv", rows)
    write_math_tsv(tmp_path / "de.tsv", rows)
    loaded, report = load_mmwp(tmp_path)
    assert report.n_bad == 0 and sorted({r["lang"] for r in loaded}) == ["de", "sw"]
    sw = [r for r in loaded if r["lang"] == "sw"]
    assert sw[0]["question"] == "Tom has 3 apples and 4 more." and sw[1]["answer"] == 2.5
    assert (tmp_path / "mmwp_sw.tsv").read_text().splitlines()[0].endswith("\t7")


def test_msvamp_and_gsm8k_malformed(tmp_path: Path) -> None:
    msvamp = _write(tmp_path / "test_English.json", "\n".join([
        json.dumps({"m_query": "a?", "response": "8.0"}),
        "{not json",
        json.dumps({"m_query": "b?", "response": "eight"}),
        json.dumps(["list"]),
        json.dumps({"m_query": "c?", "response": "-3.0"}),
    ]))
    rows, report = load_msvamp_file(msvamp, "en")
    assert [r["answer"] for r in rows] == [8.0, -3.0] and report.n_bad == 3
    assert [n for _, n, _ in report.bad_examples] == [2, 3, 4]
    gsm = _write(tmp_path / "train.jsonl", "\n".join([
        json.dumps({"question": "q", "answer": "x = <<1+1=2>>2\n#### 2"}),
        json.dumps({"question": "q", "answer": "no final line"}),
        json.dumps({"question": "", "answer": "#### 3"}),
        json.dumps({"question": "q", "answer": "step\n#### 1,080"}),
    ]))
    rows, report = load_gsm8k(gsm)
    assert [r["answer"] for r in rows] == [2.0, 1080.0]
    assert rows[0]["output"] == "x = 2\nThe answer is 2." and rows[1]["output"].endswith("The answer is 1080.")
    assert report.n_bad == 2 and "####" in report.bad_examples[0][2]
    with pytest.raises(MalformedRowError, match=r"train\.jsonl:2:"):
        load_gsm8k(gsm, strict=True)


def test_text_corpus_bad_bytes_blank_lines_and_xz(tmp_path: Path) -> None:
    raw = "first line\n\n  \nsecond line\n".encode() + b"bad \xff\xfe bytes\n" + "first line\r\n".encode()
    plain = _write(tmp_path / "c.txt", raw)
    rows, report = load_text_corpus(plain, "xx")
    assert [r["text"] for r in rows] == ["first line", "second line", "first line"]
    assert report.n_bad == 1 and report.n_skipped == 2 and report.bad_examples[0][1] == 5
    rows, report = load_text_corpus(plain, "xx", dedupe=True)
    assert len(rows) == 2 and report.n_skipped == 3
    packed = tmp_path / "c.txt.xz"
    packed.write_bytes(lzma.compress(raw))
    assert [r["text"] for r in load_text_corpus(packed, "xx").rows] == ["first line", "second line", "first line"]
    with pytest.raises(NoValidRowsError, match="blank.txt"):
        load_text_corpus(_write(tmp_path / "blank.txt", "\n\n"), "xx")


def test_xnli_malformed(tmp_path: Path) -> None:
    path = _write(tmp_path / "sw.genre.test.tsv", "genre\tlabel\tsentence1_sw\tsentence2_sw\n"
                  "a\tentailment\tP1\tH1\n"
                  "a\tmaybe\tP2\tH2\n"
                  "a\tneutral\tP3\n"
                  "a\tContradiction\tP4\tH4\n")
    rows, report = load_xnli_tsv(path)
    assert [(r["id"], r["label"]) for r in rows] == [("xnli-test-0", "entailment"), ("xnli-test-3", "contradiction")]
    assert report.n_bad == 2 and [n for _, n, _ in report.bad_examples] == [3, 4]
    official = _write(tmp_path / "xnli.test.tsv",
                      "language\tgold_label\tsentence1\tsentence2\tpairID\tgenre\n"
                      "en\tneutral\tP\tH\t1\tx\nde\tneutral\tPd\tHd\t1\tx\nen\tentailment\tP2\tH2\t2\tx\n")
    rows, report = load_xnli_tsv(official, "de")
    assert len(rows) == 1 and rows[0]["premise"] == "Pd" and report.n_skipped == 2


def test_xcopa_malformed(tmp_path: Path) -> None:
    good = {"premise": "P", "choice1": "a", "choice2": "b", "question": "effect", "label": 1, "idx": 7}
    path = _write(tmp_path / "test.sw.jsonl", "\n".join([
        json.dumps(good), json.dumps({**good, "label": 2}), json.dumps({**good, "question": "why"})]))
    rows, report = load_xcopa_file(path)
    assert rows == [{"id": "xcopa-test-7", "lang": "sw", "question": "P", "choices": ["a", "b"],
                     "labels": ["A", "B"], "answer": "B", "kind": "effect"}]
    assert report.n_bad == 2


XCSQA_LINES = [
    {"id": "be1920f7ba5454ad", "lang": "sw",
     "question": {"stem": "Mtu angeweza kupata wapi kitabu?",
                  "choices": [{"label": "A", "text": "maktaba"}, {"label": "B", "text": "mto"},
                              {"label": "C", "text": "anga"}, {"label": "D", "text": "jikoni"},
                              {"label": "E", "text": "barabara"}]},
     "answerKey": "A"},
    {"id": "no-answer", "lang": "sw",
     "question": {"stem": "Swali?", "choices": [{"label": "A", "text": "x"}, {"label": "B", "text": "y"}]}},
    {"id": "bad-key", "lang": "sw",
     "question": {"stem": "Swali?", "choices": [{"label": "A", "text": "x"}, {"label": "B", "text": "y"}]},
     "answerKey": "F"},
]


def test_xcsqa_official_format(tmp_path: Path) -> None:
    (tmp_path / "sw").mkdir()
    (tmp_path / "jap").mkdir()
    _write(tmp_path / "sw" / "dev.jsonl", "\n".join(json.dumps(x) for x in XCSQA_LINES) + "\n")
    _write(tmp_path / "jap" / "dev.jsonl", json.dumps({**XCSQA_LINES[0], "lang": "jap"}) + "\n")
    rows, report = load_xcsqa(tmp_path, split="dev")
    assert sorted({r["lang"] for r in rows}) == ["ja", "sw"]
    sw = [r for r in rows if r["lang"] == "sw"]
    assert sw == [{"id": "be1920f7ba5454ad", "lang": "sw", "question": "Mtu angeweza kupata wapi kitabu?",
                   "choices": ["maktaba", "mto", "anga", "jikoni", "barabara"],
                   "labels": ["A", "B", "C", "D", "E"], "answer": "A", "kind": None}]
    assert report.n_bad == 2 and "answerKey" in report.bad_examples[0][2]
    rows, report = load_xcsqa_file(tmp_path / "sw" / "dev.jsonl", require_answer=False)
    assert [r["answer"] for r in rows] == ["A", None] and report.n_bad == 1


def test_tatoeba_and_flores_alignment_errors(tmp_path: Path) -> None:
    _write(tmp_path / "tatoeba.xxx-eng.xxx", "a\nb\n\n")
    _write(tmp_path / "tatoeba.xxx-eng.eng", "A\nB\nC\n")
    rows, report = load_tatoeba(tmp_path, "xxx")
    assert len(rows) == 2 and report.n_bad == 1 and "empty source" in report.bad_examples[0][2]
    _write(tmp_path / "tatoeba.yyy-eng.yyy", "a\n")
    _write(tmp_path / "tatoeba.yyy-eng.eng", "A\nB\n")
    with pytest.raises(SourceError, match="1 lines"):
        load_tatoeba(tmp_path, "yyy")
    _write(tmp_path / "aaa_Latn.devtest", "one\ntwo\n")
    _write(tmp_path / "bbb_Latn.devtest", "uno\n")
    with pytest.raises(SourceError, match="not line-aligned"):
        load_flores(tmp_path, ["aaa_Latn", "bbb_Latn"])


# ------------------------------------------------------------------------------------------ hub mappings


def test_hub_row_mappings() -> None:
    assert mgsm_hub_row({"question": "Q?", "answer": None, "answer_number": 18, "equation_solution": None}, "bn", 0) \
        == {"id": "mgsm-0", "lang": "bn", "question": "Q?", "answer": 18.0, "solution": None}
    assert msvamp_hub_row({"m_query": "Q", "response": "8.0", "query": "Q en"}, "sw", 3)["answer"] == 8.0
    rec = gsm8k_hub_row({"question": "Q", "answer": "a <<1+1=2>>2\n#### 2"}, 5, split="test")
    assert rec["id"] == "gsm8k-test-5" and rec["output"] == "a 2\nThe answer is 2."
    meta = metamath_hub_row({"query": "What is 2+2?", "response": "2+2=4.\nThe answer is: 4",
                             "type": "GSM_AnsAug", "original_question": "x"}, 0)
    assert meta["input"] == "What is 2+2?" and meta["answer"] == 4.0 and meta["output"].endswith("The answer is: 4")
    assert metamath_hub_row({"query": "q", "response": "The answer is: \\frac{1}{2}"}, 1)["answer"] is None
    assert xnli_hub_row({"premise": "P", "hypothesis": "H", "label": 2}, "de", 4)["label"] == "contradiction"
    hf_xcsqa = {"id": "x1", "lang": "jap", "answerKey": "B",
                "question": {"stem": "S", "choices": {"label": ["A", "B"], "text": ["a", "b"]}}}
    assert xcsqa_row(hf_xcsqa) == {"id": "x1", "lang": "ja", "question": "S", "choices": ["a", "b"],
                                   "labels": ["A", "B"], "answer": "B", "kind": None}


def test_map_hub_rows_reports_bad_rows() -> None:
    rows = [{"premise": "P", "hypothesis": "H", "label": 0}, {"premise": "P", "hypothesis": "H", "label": -1}]
    result = map_hub_rows(rows, "hf:facebook/xnli/sw/test", lambda r, i: xnli_hub_row(r, "sw", i))
    assert result.report.n_ok == 1 and result.report.bad_examples[0][:2] == ("hf:facebook/xnli/sw/test", 2)
    with pytest.raises(MalformedRowError, match="hf:facebook/xnli/sw/test:2"):
        map_hub_rows(rows, "hf:facebook/xnli/sw/test", lambda r, i: xnli_hub_row(r, "sw", i), strict=True)


def test_hub_error_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets

    def boom(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'juletxara/mgsm' on the Hub\nsecond line of detail")

    monkeypatch.setattr(datasets, "load_dataset", boom)
    with pytest.raises(HubLoadError) as info:
        load_hub_dataset("juletxara/mgsm", "bn", split="test")
    assert "\n" not in str(info.value) and "juletxara/mgsm/bn" in str(info.value)


def test_hub_loader_offline_real_path() -> None:
    """The real `datasets.load_dataset` path fails fast offline with the wrapped one-line message."""
    code = ("from lingualift_core.sources.hub import load_mgsm_hub\n"
            "try:\n    load_mgsm_hub(['bn'])\nexcept Exception as e:\n    print(type(e).__name__ + ': ' + str(e))\n")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("HubLoadError: cannot load juletxara/mgsm/bn"), out


def test_load_report_merge_caps_examples() -> None:
    a = LoadReport(n_ok=1, n_bad=60, bad_examples=[("f", i, "r") for i in range(50)], files=["f"])
    b = LoadReport(n_ok=2, n_bad=1, bad_examples=[("g", 1, "r")], files=["g"])
    a.merge(b)
    assert (a.n_ok, a.n_bad, len(a.bad_examples), a.files) == (3, 61, 50, ["f", "g"])
