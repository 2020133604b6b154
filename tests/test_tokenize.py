"""spaCy tokenization to Arrow and the English vocabulary."""

from __future__ import annotations

import importlib.util

import pyarrow as pa
import pytest

from lingualift_core.text.tokenize import (
    TokenizerUnavailableError,
    load_blank,
    load_english,
    load_pipeline,
    tokenize_batches,
)
from lingualift_core.text.vocab import VocabularyCounter, exclusion_reason

TEXTS = [
    "Ana gives 3 apples to Ben in Paris on Monday.",
    "The small dog quickly ran  home, and it was happy!",
    "How many apples does Ben have now?",
]


@pytest.fixture(scope="module")
def english():
    return load_english()


def rows(pipeline, texts, batch_size):
    batches = list(tokenize_batches(pipeline, [f"s{i}" for i in range(len(texts))], texts, batch_size))
    return pa.Table.from_batches(batches).to_pylist(), batches


def test_english_columns_and_text_reconstruction(english) -> None:
    out, _ = rows(english, TEXTS, 2)
    assert [r["id"] for r in out] == ["s0", "s1", "s2"]
    for row, text in zip(out, TEXTS, strict=True):
        assert "".join(t + w for t, w in zip(row["tokens"], row["whitespace"], strict=True)) == text
        n = len(row["tokens"])
        assert all(len(row[c]) == n for c in ("pos", "ent_iob", "ent_type", "is_stop", "like_num"))
    first = dict(zip(out[0]["tokens"], zip(out[0]["pos"], out[0]["ent_iob"], out[0]["like_num"], strict=True),
                     strict=True))
    assert first["gives"][0] == "VERB" and first["apples"][0] == "NOUN" and first["to"][0] == "ADP"
    assert first["3"][2] is True and first["Paris"][1] == "B"
    assert "parser" not in english.nlp.pipe_names and "lemmatizer" not in english.nlp.pipe_names


def test_batching_does_not_change_output(english) -> None:
    one, batches = rows(english, TEXTS, 1)
    many, _ = rows(english, TEXTS, 10)
    assert one == many
    assert [b.num_rows for b in batches] == [1, 1, 1]


def test_worker_processes_do_not_change_output(english) -> None:
    texts = TEXTS * 7
    ids = [f"s{i}" for i in range(len(texts))]
    one = pa.Table.from_batches(list(tokenize_batches(english, ids, texts, 4))).to_pylist()
    two = pa.Table.from_batches(list(tokenize_batches(english, ids, texts, 4, processes=2))).to_pylist()
    assert one == two
    with pytest.raises(ValueError, match="processes"):
        list(tokenize_batches(english, ids, texts, 4, processes=0))


def test_blank_toy_language_tokenizes_on_spaces_and_punctuation() -> None:
    pipe = load_pipeline("qaa")
    assert pipe.package == "spacy.blank('xx')" and not pipe.annotates
    out, _ = rows(pipe, ["αλα βεκο 12 δυ, κα."], 4)
    assert out[0]["tokens"] == ["αλα", "βεκο", "12", "δυ", ",", "κα", "."]
    assert out[0]["pos"] == [""] * 7 and out[0]["like_num"][2] is True


@pytest.mark.skipif(importlib.util.find_spec("sudachipy") is not None, reason="sudachipy is installed")
def test_missing_tokenizer_package_is_named() -> None:
    with pytest.raises(TokenizerUnavailableError, match="needs the package 'sudachipy'.*pip install sudachipy"):
        load_blank("ja")


def test_unknown_english_model_says_how_to_install() -> None:
    with pytest.raises(TokenizerUnavailableError, match="en_core_web_xl.*spacy download"):
        load_english("en_core_web_xl")


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("apple", "NOUN", False, False, 0.0, 0.0), ""),
        (("to", "ADP", True, False, 0.0, 0.0), ""),  # stop words stay for function-word POS
        (("she", "PRON", True, False, 0.0, 0.0), ""),
        (("really", "ADV", True, False, 0.0, 0.0), "stop_word"),
        ((",", "PUNCT", False, False, 0.0, 0.0), "punctuation"),
        (("twelve", "NUM", False, True, 0.0, 0.0), "number"),
        (("monday", "PROPN", False, False, 1.0, 1.0), "number"),  # a DATE entity
        (("paris", "PROPN", False, False, 1.0, 0.0), "entity"),
        (("bank", "NOUN", False, False, 0.9, 0.0), "entity"),
    ],
)
def test_exclusion_reasons(args, reason) -> None:
    assert exclusion_reason(*args) == reason


def test_vocabulary_counts_majority_pos_and_order(english) -> None:
    _, batches = rows(english, TEXTS + ["Ben gives apples to Ana."], 2)
    counter = VocabularyCounter()
    for b in batches:
        counter.update(b)
    table = counter.table().to_pylist()
    by_word = {r["word"]: r for r in table}
    assert by_word["apples"]["count"] == 3 and by_word["apples"]["pos"] == "NOUN"
    assert by_word["apples"]["exclude"] == ""
    assert by_word["3"]["exclude"] == "number" and by_word["."]["exclude"] == "punctuation"
    assert by_word["paris"]["exclude"] == "entity"
    counts = [r["count"] for r in table]
    assert counts == sorted(counts, reverse=True)
    assert all(r["count"] >= 2 for r in counter.table(min_count=2).to_pylist())
