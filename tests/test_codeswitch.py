"""Unit tests of lingualift_core.codeswitch on hand-built token rows (no spaCy needed)."""

from __future__ import annotations

import io
import math
import random
import re

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lingualift_core.codeswitch import (
    CORPUS_SCHEMA,
    STAGE1_SCHEMA,
    CodeSwitchBuilder,
    CodeSwitchConfig,
    CodeSwitchLexicon,
    TargetLanguage,
    build_codeswitch_corpus,
    compare_with_paper,
    mix_task_records,
    pos_distribution,
    resolve_pos_group,
    stage1_records,
    task_share,
)

TOKEN_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("tokens", pa.list_(pa.string())),
        ("whitespace", pa.list_(pa.string())),
        ("pos", pa.list_(pa.string())),
        ("ent_iob", pa.list_(pa.string())),
        ("ent_type", pa.list_(pa.string())),
        ("is_stop", pa.list_(pa.bool_())),
        ("like_num", pa.list_(pa.bool_())),
    ]
)

DE = TargetLanguage("de", "German")
TH = TargetLanguage("th", "Thai", no_space=True)
EL = TargetLanguage("el", "Greek")


def sentence(sid: str, spec: str) -> dict:
    """A token row from 'word/POS[/B|I][/num]' items separated by spaces. An item ending in '+', the last token,
    and a token followed by . , ! ? ; : get no trailing whitespace. like_num is true for NUM or a '/num' flag."""
    row = {k: [] for k in TOKEN_SCHEMA.names}
    row["id"] = sid
    items = spec.split(" ")
    for i, item in enumerate(items):
        glue = item.endswith("+")
        item = item[:-1] if glue else item
        glue = glue or (i + 1 < len(items) and items[i + 1].split("/")[0] in (".", ",", "!", "?", ";", ":"))
        parts = item.split("/")
        word, pos = parts[0], parts[1]
        iob = parts[2] if len(parts) > 2 and parts[2] in ("B", "I") else "O"
        num = pos == "NUM" or "num" in parts[2:]
        row["tokens"].append(word)
        row["whitespace"].append("" if (glue or i == len(items) - 1) else " ")
        row["pos"].append(pos)
        row["ent_iob"].append(iob)
        row["ent_type"].append("ORG" if iob != "O" else "")
        row["is_stop"].append(pos in ("DET", "ADP", "PRON", "AUX", "CCONJ", "SCONJ"))
        row["like_num"].append(num)
    return row


def table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=TOKEN_SCHEMA)


def lexicon(pairs: list[tuple]) -> pa.Table:
    """Lexicon rows (src, tgt[, score[, rank]])."""
    return pa.table(
        {
            "src": [p[0] for p in pairs],
            "tgt": [p[1] for p in pairs],
            "rank": pa.array([p[3] if len(p) > 3 else 0 for p in pairs], pa.int32()),
            "score": pa.array([p[2] if len(p) > 2 else 1.0 for p in pairs], pa.float32()),
        }
    )


def run(tokens: pa.Table | list, langs, lexicons, seed: int = 0, **cfg):
    cfg.setdefault("pos_group", "prepositional-phrase")  # the paper's best (adp+noun), as these tests assume
    cfg.setdefault("ratio", 0.8)
    tables, stats = build_codeswitch_corpus(tokens, langs, lexicons, CodeSwitchConfig(**cfg), seed=seed)
    return tables, stats


def to_bytes(t: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(t, buf)
    return buf.getvalue()


# ---- a random corpus with fixed vocabulary ------------------------------------------------------------------

VOCAB = {
    "NOUN": ["cat", "dog", "house", "tree", "river", "apple", "teacher", "car"],
    "VERB": ["runs", "eats", "sees", "builds", "likes"],
    "ADJ": ["red", "big", "quiet", "happy"],
    "ADV": ["quickly", "often", "never"],
    "ADP": ["on", "in", "under", "with"],
    "PRON": ["she", "they", "it"],
    "DET": ["the", "a", "every"],
    "AUX": ["is", "was", "can"],
    "CCONJ": ["and", "or"],
    "SCONJ": ["because", "if"],
}
# words that are in the lexicon but must never be replaced
PROTECTED = ["bank", "paris", "ten", "3rd", ",", "."]
GREEK = "αβγδεζηθικλμνξοπρστυφχψω"


def greek(word: str) -> str:
    return "".join(GREEK[(ord(c) * 7 + i) % len(GREEK)] for i, c in enumerate(word)) + "ω"


WORD_POS = {w: p for p, ws in VOCAB.items() for w in ws}
FULL_LEXICON = lexicon([(w, greek(w)) for w in list(WORD_POS) + PROTECTED])
INVERSE = {greek(w): w for w in list(WORD_POS) + PROTECTED}


def random_corpus(n: int, seed: int = 0) -> pa.Table:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        items = []
        for _ in range(rng.randint(3, 14)):
            r = rng.random()
            if r < 0.06:
                items.append("Bank/NOUN/B")
            elif r < 0.10:
                items.append("Paris/PROPN/B")
            elif r < 0.14:
                items.append(rng.choice(["ten/NUM", "3rd/ADJ", "42/NUM"]))
            elif r < 0.18:
                items.append(",/PUNCT")
            else:
                pos = rng.choice(list(VOCAB))
                w = rng.choice(VOCAB[pos])
                if rng.random() < 0.1:
                    w = w.capitalize()
                items.append(f"{w}/{pos}")
        items.append("./PUNCT")
        rows.append(sentence(f"s{i:05d}", " ".join(items)))
    return table(rows)


@pytest.fixture(scope="module")
def corpus() -> pa.Table:
    return random_corpus(3000)


# ---- tests ----------------------------------------------------------------------------------------------------


def test_output_schema_and_counts(corpus):
    tables, stats = run(corpus.slice(0, 50), [EL], {"el": FULL_LEXICON}, pos_group="content", ratio=0.8)
    t = tables["el"]
    assert t.schema.equals(CORPUS_SCHEMA, check_metadata=True)
    assert t.schema.metadata[b"schema_version"] == b"1"
    assert t.num_rows == 50
    assert t.column("target").to_pylist() == [
        "".join(a + b for a, b in zip(tok, ws))
        for tok, ws in zip(corpus.column("tokens").to_pylist()[:50], corpus.column("whitespace").to_pylist()[:50])
    ]
    for row in t.to_pylist():
        assert row["n_replaced"] == len(row["replaced_pos"]) == len(row["replaced_spans"])
        assert row["n_replaced"] <= row["n_translatable"] <= row["n_candidates"] <= row["n_tokens"]
    st = stats["el"]
    assert st.sentences == 50 and st.tokens == sum(t.column("n_tokens").to_pylist())


@pytest.mark.parametrize("ratio", [0.3, 0.8])
def test_achieved_ratio_within_binomial_bound(corpus, ratio):
    _, stats = run(corpus, [EL], {"el": FULL_LEXICON}, pos_group="content", ratio=ratio, seed=7)
    st = stats["el"]
    n = st.translatable
    assert n > 5000
    bound = 4.5 * math.sqrt(ratio * (1 - ratio) / n)  # ~1e-5 two-sided false alarm rate
    assert abs(st.replacement_ratio - ratio) <= bound, (st.replacement_ratio, ratio, bound)


def test_ratio_extremes_and_nesting(corpus):
    sub = corpus.slice(0, 300)
    t0, s0 = run(sub, [EL], {"el": FULL_LEXICON}, pos_group="content", ratio=0.0)
    assert s0["el"].replaced == 0 and t0["el"].column("source").equals(t0["el"].column("target"))
    _, s1 = run(sub, [EL], {"el": FULL_LEXICON}, pos_group="content", ratio=1.0)
    assert s1["el"].replaced == s1["el"].translatable > 0
    # same seed: a higher ratio replaces a superset of the tokens a lower ratio replaces
    lo, _ = run(sub, [EL], {"el": FULL_LEXICON}, pos_group="content", ratio=0.4)
    hi, _ = run(sub, [EL], {"el": FULL_LEXICON}, pos_group="content", ratio=0.7)
    for a, b in zip(lo["el"].to_pylist(), hi["el"].to_pylist()):
        words = lambda r: [r["source"][s["start"]:s["end"]] for s in r["replaced_spans"]]  # noqa: E731
        assert set(words(a)) <= set(words(b))


def words(text: str) -> list[str]:
    return re.findall(r"\w+|[^\w\s]", text)


def _back_translate(row: dict) -> str:
    src = row["source"]
    for span in reversed(row["replaced_spans"]):
        src = src[: span["start"]] + INVERSE[src[span["start"]: span["end"]].lower()] + src[span["end"]:]
    return src


@pytest.mark.parametrize("group", ["noun", "verb", "adp", "pron", "verb+adv", "adj+adv", "pron+aux+conj",
                                   "subject-verb", "prepositional-phrase", "content"])
def test_only_configured_classes_change_and_protected_tokens_never(corpus, group):
    tags = resolve_pos_group(group)
    tables, stats = run(corpus.slice(0, 400), [EL], {"el": FULL_LEXICON}, pos_group=group, ratio=0.9)
    rows = tables["el"].to_pylist()
    assert stats["el"].replaced > 0
    for row in rows:
        assert set(row["replaced_pos"]) <= tags
        # spans point at translations; undoing them gives back the English sentence
        assert _back_translate(row).lower() == row["target"].lower()
        for span, pos in zip(row["replaced_spans"], row["replaced_pos"]):
            english = INVERSE[row["source"][span["start"]: span["end"]].lower()]
            assert english not in PROTECTED
            assert WORD_POS[english] in tags and pos == WORD_POS[english]
        # entities, numbers and punctuation stay verbatim
        for kept in ("Bank", "Paris", "ten", "3rd", "42", ","):
            assert words(row["source"]).count(kept) == words(row["target"]).count(kept)


def test_conj_means_cconj_and_sconj():
    assert resolve_pos_group("conj") == {"CCONJ", "SCONJ"}
    assert resolve_pos_group("PRON+AUX+CONJ") == {"PRON", "AUX", "CCONJ", "SCONJ"}
    assert resolve_pos_group("adv+verb") == resolve_pos_group("verb+adv")
    assert resolve_pos_group("subject-verb") == {"NOUN", "VERB"}
    assert resolve_pos_group("prepositional-phrase") == resolve_pos_group("adp+noun") == {"ADP", "NOUN"}
    assert resolve_pos_group("content+adp") == {"NOUN", "VERB", "ADJ", "ADV", "ADP"}


def test_unknown_pos_group_lists_known_groups():
    with pytest.raises(ValueError) as err:
        CodeSwitchConfig(pos_group="nouns")
    msg = str(err.value)
    assert "nouns" in msg and "known groups" in msg
    for name in ("noun", "verb+adv", "pron+aux+conj", "prepositional-phrase", "subject-verb", "content"):
        assert name in msg
    with pytest.raises(ValueError, match="never replaced"):
        resolve_pos_group("noun+punct")
    with pytest.raises(ValueError, match="known groups"):
        resolve_pos_group("")


def test_same_seed_same_bytes_independent_of_batches_and_order(corpus):
    sub = corpus.slice(0, 500)
    langs, lex = [EL, TH], {"el": FULL_LEXICON, "th": FULL_LEXICON}
    cfg = dict(pos_group="content", ratio=0.6, top_k=3, selection="uniform", seed=3)
    a, _ = run(sub, langs, lex, **cfg)
    b, _ = run(sub.to_batches(max_chunksize=1), langs, lex, **cfg)
    c, _ = run(sub.to_batches(max_chunksize=37), langs, lex, **cfg)
    for code in ("el", "th"):
        assert to_bytes(a[code]) == to_bytes(b[code]) == to_bytes(c[code])
    # languages processed alone give the same rows as together
    alone, _ = run(sub, [TH], {"th": FULL_LEXICON}, **cfg)
    assert to_bytes(alone["th"]) == to_bytes(a["th"])
    # shuffled input: the same row for each id
    perm = np.random.default_rng(0).permutation(sub.num_rows)
    d, _ = run(sub.take(perm).to_batches(max_chunksize=64), langs, lex, **cfg)
    for code in ("el", "th"):
        assert d[code].sort_by("id").equals(a[code].sort_by("id"))
    # another seed changes the result
    e, _ = run(sub, langs, lex, **{**cfg, "seed": 4})
    assert not e["el"].equals(a["el"])


def test_sentence_without_candidates_passes_through_and_is_counted():
    rows = [
        sentence("a", "The/DET cat/NOUN sat/VERB ./PUNCT"),
        sentence("b", "It/PRON is/AUX ten/NUM !/PUNCT"),
        {"id": "empty", **{k: [] for k in TOKEN_SCHEMA.names if k != "id"}},
    ]
    tables, stats = run(table(rows), [DE], {"de": lexicon([("cat", "Katze"), ("ten", "zehn")])},
                        pos_group="noun", ratio=1.0)
    out = {r["id"]: r for r in tables["de"].to_pylist()}
    assert out["a"]["source"] == "The Katze sat."
    assert out["b"]["source"] == out["b"]["target"] == "It is ten!"
    assert out["b"]["n_candidates"] == 0 and out["b"]["n_replaced"] == 0 and out["b"]["replaced_spans"] == []
    assert out["empty"]["source"] == "" and out["empty"]["n_tokens"] == 0
    st = stats["de"]
    assert st.sentences == 3 and st.zero_candidate_sentences == 2 and st.unchanged_sentences == 2


def test_case_preserved():
    rows = [
        sentence("a", "Cat/NOUN and/CCONJ CAT/NOUN and/CCONJ cat/NOUN house/NOUN"),
        sentence("b", "I/PRON think/VERB I/PRON can/AUX ,/PUNCT but/CCONJ \"/PUNCT+ I/PRON"),
    ]
    lex = {
        "el": lexicon([("cat", "γάτα"), ("house", "Σπίτι"), ("i", "εγώ")]),
        "th": lexicon([("cat", "แมว"), ("house", "บ้าน"), ("i", "ฉัน")]),
    }
    tables, _ = run(table(rows), [EL, TH], lex, pos_group="noun+pron", ratio=1.0)
    el = {r["id"]: r["source"] for r in tables["el"].to_pylist()}
    assert el["a"] == "Γάτα and ΓΆΤΑ and γάτα Σπίτι"  # lexicon's own capital kept for a lowercase word
    # "I" capitalises only at the start of a sentence or after an opening mark
    assert el["b"] == "Εγώ think εγώ can, but \"Εγώ"
    th = {r["id"]: r["source"] for r in tables["th"].to_pylist()}
    assert th["a"] == "แมว and แมว and แมวบ้าน"  # no case in Thai script; adjacent replaced words joined


def test_no_space_join_and_spans():
    rows = [sentence("a", "The/DET cat/NOUN on/ADP mat/NOUN sleeps/VERB+ ./PUNCT")]
    lex = lexicon([("cat", "แมว"), ("on", "บน"), ("mat", "เสื่อ"), ("sleeps", "นอน")])
    tables, _ = run(table(rows), [TH, TargetLanguage("xx", "Spaced")], {"th": lex, "xx": lex},
                    pos_group="content+adp", ratio=1.0)
    th = tables["th"].to_pylist()[0]
    assert th["source"] == "The แมวบนเสื่อนอน."
    assert [th["source"][s["start"]: s["end"]] for s in th["replaced_spans"]] == ["แมว", "บน", "เสื่อ", "นอน"]
    xx = tables["xx"].to_pylist()[0]
    assert xx["source"] == "The แมว บน เสื่อ นอน."
    # replaced next to English keeps the original whitespace
    rows = [sentence("b", "cat/NOUN the/DET mat/NOUN")]
    tables, _ = run(table(rows), [TH], {"th": lex}, pos_group="noun", ratio=1.0)
    assert tables["th"].column("source")[0].as_py() == "แมว the เสื่อ"


def test_multi_word_translations():
    rows = [sentence("a", "The/DET fire/NOUN engine/NOUN came/VERB ./PUNCT")]
    lex = lexicon([("fire", "feu  de camp "), ("engine", "moteur")])
    tables, _ = run(table(rows), [TargetLanguage("fr", "French"), TH], {"fr": lex, "th": lex},
                    pos_group="noun", ratio=1.0)
    fr = tables["fr"].to_pylist()[0]
    assert fr["source"] == "The feu de camp moteur came."
    assert [fr["source"][s["start"]: s["end"]] for s in fr["replaced_spans"]] == ["feu de camp", "moteur"]
    th = tables["th"].to_pylist()[0]
    assert th["source"] == "The feu de campmoteur came."
    assert [th["source"][s["start"]: s["end"]] for s in th["replaced_spans"]] == ["feu de camp", "moteur"]


def test_top_k_sampling_stays_within_top_k():
    # input order and rank do not matter for "top by score"; duplicates keep their best entry
    pairs = [("cat", "c4", 0.4, 3), ("cat", "c1", 0.9, 0), ("cat", "c6", 0.1, 5), ("cat", "c2", 0.8, 1),
             ("cat", "c5", 0.2, 4), ("cat", "c3", 0.7, 2), ("cat", "c1", 0.05, 9)]
    rows = [sentence(f"s{i}", "cat/NOUN cat/NOUN cat/NOUN") for i in range(400)]
    seen = {}
    for selection in ("top1", "uniform", "proportional", "softmax"):
        tables, _ = run(table(rows), [DE], {"de": lexicon(pairs)}, pos_group="noun", ratio=1.0, top_k=3,
                        selection=selection, temperature=0.1)
        seen[selection] = {w for s in tables["de"].column("source").to_pylist() for w in s.split()}
    assert seen["top1"] == {"c1"}
    for selection in ("uniform", "proportional", "softmax"):
        assert seen[selection] == {"c1", "c2", "c3"}, selection
    lex = CodeSwitchLexicon.from_table(lexicon(pairs), top_k=3, selection="proportional")
    probs = dict(lex.translations("cat"))
    assert probs == pytest.approx({"c1": 0.9 / 2.4, "c2": 0.8 / 2.4, "c3": 0.7 / 2.4})
    # negative scores weigh nothing under "proportional"
    neg = CodeSwitchLexicon.from_table(lexicon([("a", "x", 0.5), ("a", "y", -0.2)]), top_k=2,
                                       selection="proportional")
    assert dict(neg.translations("a")) == {"x": 1.0, "y": 0.0}
    # uniform frequencies are roughly equal
    tables, _ = run(table(rows), [DE], {"de": lexicon(pairs)}, pos_group="noun", ratio=1.0, top_k=3,
                    selection="uniform")
    words = [w for s in tables["de"].column("source").to_pylist() for w in s.split()]
    for w in ("c1", "c2", "c3"):
        assert abs(words.count(w) / len(words) - 1 / 3) < 0.05


def test_empty_lexicon_gives_zero_replacements_and_warning(corpus):
    empty = lexicon([])
    with pytest.warns(UserWarning, match="empty"):
        builder = CodeSwitchBuilder(CodeSwitchConfig(pos_group="content"), [DE, EL],
                                    {"de": empty, "el": FULL_LEXICON})
    out = list(builder.run(corpus.slice(0, 100)))
    de = pa.Table.from_batches([b for code, b in out if code == "de"])
    assert de.num_rows == 100 and de.column("source").equals(de.column("target"))
    st = builder.stats["de"]
    assert st.replaced == 0 and st.empty_lexicon and st.replacement_ratio == 0.0
    assert any("empty" in w and "de" in w for w in st.warnings)
    metrics = builder.metrics()
    assert metrics["languages"]["de"]["empty_lexicon"] is True
    assert any("de (German)" in w for w in metrics["warnings"])
    assert metrics["languages"]["el"]["warnings"] == [] and builder.stats["el"].replaced > 0


def test_language_cap(corpus):
    sub = corpus.slice(0, 200)
    langs, lex = [DE, EL], {"de": FULL_LEXICON, "el": FULL_LEXICON}
    cfg = dict(pos_group="content", ratio=0.8, max_sentences_per_lang=25, seed=1)
    a, stats = run(sub.to_batches(max_chunksize=16), langs, lex, **cfg)
    for code in ("de", "el"):
        assert a[code].num_rows == 25 and stats[code].sentences == 25
        assert stats[code].sentences_in == 200 and stats[code].dropped_cap == 175
        assert len(set(a[code].column("id").to_pylist())) == 25
    assert set(a["de"].column("id").to_pylist()) != set(a["el"].column("id").to_pylist())
    perm = np.random.default_rng(1).permutation(sub.num_rows)
    b, _ = run(sub.take(perm).to_batches(max_chunksize=7), langs, lex, **cfg)
    for code in ("de", "el"):
        assert to_bytes(a[code]) == to_bytes(b[code])
    # the capped rows are the same rows as without a cap
    full, _ = run(sub, langs, lex, **{**cfg, "max_sentences_per_lang": None})
    keep = set(a["de"].column("id").to_pylist())
    rows = {r["id"]: r for r in full["de"].to_pylist() if r["id"] in keep}
    assert all(rows[r["id"]] == r for r in a["de"].to_pylist())
    big, _ = run(sub, langs, lex, **{**cfg, "max_sentences_per_lang": 1000})
    assert big["de"].num_rows == 200
    zero, _ = run(sub, langs, lex, **{**cfg, "max_sentences_per_lang": 0})
    assert zero["de"].num_rows == 0 and zero["de"].schema.equals(CORPUS_SCHEMA)


def test_min_replaced_drops_and_counts(corpus):
    sub = corpus.slice(0, 200)
    t, stats = run(sub, [EL], {"el": FULL_LEXICON}, pos_group="adp", ratio=0.8, min_replaced=1)
    assert min(t["el"].column("n_replaced").to_pylist()) >= 1
    st = stats["el"]
    assert st.sentences + st.dropped_min_replaced == 200 and st.dropped_min_replaced > 0


def test_bad_input_is_reported():
    bad = sentence("x", "a/DET cat/NOUN")
    bad["pos"] = ["DET"]
    with pytest.raises(ValueError, match="'pos' of sentence 'x' has 1 items but 2 tokens"):
        run(table([bad]), [DE], {"de": lexicon([("cat", "Katze")])})
    with pytest.raises(KeyError, match="no lexicon"):
        CodeSwitchBuilder(CodeSwitchConfig(), [DE], {})
    with pytest.raises(ValueError, match="ratio"):
        CodeSwitchConfig(ratio=1.5)


def test_stage1_records_and_templates(corpus):
    tables, _ = run(corpus.slice(0, 300), [DE, TH], {"de": FULL_LEXICON, "th": FULL_LEXICON},
                    pos_group="noun")
    templates = ["Translate this {lang_name} text into English.", "From {lang_name} to English, please:"]
    recs = stage1_records(tables["th"], {"th": "Thai", "de": "German"}, templates=templates, seed=5)
    assert recs.schema.equals(STAGE1_SCHEMA, check_metadata=True)
    assert recs.column("input").equals(tables["th"].column("source"))
    assert recs.column("output").equals(tables["th"].column("target"))
    instr = recs.column("instruction").to_pylist()
    assert set(instr) == {t.replace("{lang_name}", "Thai") for t in templates}
    # per-record choice: the same for any slice of the corpus
    part = stage1_records(tables["th"].slice(100, 50), "Thai", templates=templates, seed=5)
    assert part.column("instruction").to_pylist() == instr[100:150]
    with pytest.raises(ValueError, match="lang_name"):
        stage1_records(tables["th"], "Thai", templates=["Translate into English."])


def test_mix_task_records_share_and_determinism(corpus):
    tables, _ = run(corpus.slice(0, 300), [DE], {"de": FULL_LEXICON}, pos_group="noun")
    recs = stage1_records(tables["de"], "German")
    extra = pa.table({"instruction": [f"Solve {i}" for i in range(500)], "input": ["q"] * 500,
                      "output": ["a"] * 500, "lang": ["sw"] * 500})
    mixed = mix_task_records(recs, extra, 0.25, seed=2)
    assert mixed.schema.equals(STAGE1_SCHEMA)
    assert mixed.num_rows == 400 and task_share(mixed) == pytest.approx(0.25)
    origin = mixed.column("origin").to_pylist()
    # evenly spread: one task record in every 4 slots; code-switched records keep their order
    assert all(origin[i: i + 4].count("task") == 1 for i in range(0, 400, 4))
    cs = mixed.filter(pa.compute.equal(mixed.column("origin"), "codeswitch"))
    assert cs.column("id").equals(recs.column("id"))
    assert to_bytes(mix_task_records(recs, extra, 0.25, seed=2)) == to_bytes(mixed)
    assert mix_task_records(recs, None, 0.25).equals(recs)
    small = mix_task_records(recs, extra.slice(0, 10), 0.5)
    assert small.num_rows == 310  # fewer task records than the share asks for: all of them
    with pytest.raises(ValueError):
        mix_task_records(recs, extra, 1.0)


def test_pos_distribution_reports_conj():
    rows = [sentence("a", "She/PRON and/CCONJ he/PRON left/VERB because/SCONJ it/PRON rained/VERB ./PUNCT")]
    dist = pos_distribution(table(rows).to_batches())
    counts = dict(zip(dist.column("pos").to_pylist(), dist.column("count").to_pylist()))
    assert counts == {"PRON": 3, "VERB": 2, "CCONJ": 1, "SCONJ": 1, "CONJ": 2, "PUNCT": 1}
    derived = dict(zip(dist.column("pos").to_pylist(), dist.column("derived").to_pylist()))
    assert derived["CONJ"] and not derived["CCONJ"]
    assert dist.column("pos").to_pylist()[0] == "PRON"
    cmp = compare_with_paper(dist)
    assert cmp.column("pos").to_pylist()[:3] == ["NOUN", "VERB", "ADP"]
    assert sum(cmp.column("paper_share").to_pylist()) == pytest.approx(1.0)
