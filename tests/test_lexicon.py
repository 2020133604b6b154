"""Bilingual lexicon induction (lingualift_core.lexicon): small, fast checks."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lingualift_core import lexicon as lx
from lingualift_core.lexicon.induction import normalize_vectors, robust_init_dictionary
from lingualift_core.lexicon.knn import csls_mutual, mean_topk_sim, unit_rows
from lingualift_core.lexicon.synthetic import random_orthogonal

# Tiny adversarial settings: the real defaults take minutes.
TINY_ADV = {"dis_hid_dim": 64, "epochs": 2, "epoch_size": 960}


@pytest.fixture(scope="module")
def pair() -> lx.SyntheticPair:
    return lx.synthetic_pair(1200, 32, noise=0.1, seed=3)


def _one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert msg and "\n" not in msg
    return msg


# ------------------------------------------------------------------------------------ induction quality


def test_unsupervised_synthetic_anisotropic_p1(pair: lx.SyntheticPair) -> None:
    """(a) anisotropic clustered embeddings, rotated + noised + reordered: unsupervised P@1 >= 0.95."""
    result = lx.induce(pair.src, pair.tgt, method="unsupervised", adversarial=TINY_ADV, seed=0, n_refinement=8,
                       init_policy="all")
    metrics = lx.evaluate_dictionary(pair.src, pair.tgt, result, pair.gold)
    assert metrics["n_src_words"] == len(pair.gold)
    assert metrics["precision_at_1_csls"] >= 0.95
    assert metrics["precision_at_1_nn"] >= 0.95
    assert result.method_chosen in ("adversarial", "robust")
    assert result.selection_score == pytest.approx(max(result.init_scores.values()))
    assert set(result.init_scores) == {"adversarial", "robust"}
    assert result.W.shape == (32, 32) and result.W.dtype == np.float32
    assert np.allclose(result.W @ result.W.T, np.eye(32), atol=1e-3)


def test_real_sample_rotated_copy(shared_data) -> None:
    """(b) the 999-word English fastText sample onto a rotated, noised, permuted copy of itself: P@1 >= 0.95."""
    path = shared_data / "bli" / "english_vectors_sample" / "words-short.vec"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    en = lx.load_vectors(path, name="en")
    assert (len(en), en.dim) == (999, 300)
    rng = np.random.default_rng(0)
    q = random_orthogonal(en.dim, rng)
    rms = float(np.sqrt((en.vectors.astype(np.float64) ** 2).sum(1).mean()))
    noisy = en.vectors @ q.T + (0.1 * rms / np.sqrt(en.dim)) * rng.standard_normal(en.vectors.shape).astype(np.float32)
    perm = rng.permutation(len(en))
    tgt = lx.Embeddings([f"x_{en.words[i]}" for i in perm], en.counts[perm], noisy[perm], name="rotated")
    gold = [(w, f"x_{w}") for w in en.words]
    result = lx.induce(en, tgt, method="robust")
    metrics = lx.evaluate_dictionary(en, tgt, result, gold)
    assert metrics["precision_at_1_csls"] >= 0.95, metrics


def test_criterion_ranks_correct_map_above_wrong(pair: lx.SyntheticPair) -> None:
    """(c) the unsupervised selection criterion prefers the true rotation to wrong maps."""
    xs = normalize_vectors(pair.src.vectors)
    zt = normalize_vectors(pair.tgt.vectors)
    good = lx.criterion(xs, zt, pair.rotation)
    rng = np.random.default_rng(1)
    wrong = [lx.criterion(xs, zt, random_orthogonal(32, rng)) for _ in range(3)]
    wrong.append(lx.criterion(xs, zt, np.eye(32, dtype=np.float32)))
    assert good > max(wrong) + 0.05, (good, wrong)


def test_adversarial_tiny_runs_is_deterministic_and_selection_picks_better(pair: lx.SyntheticPair) -> None:
    small = lx.synthetic_pair(400, 16, noise=0.1, seed=5)
    a = lx.induce(small.src, small.tgt, method="adversarial", adversarial=TINY_ADV, seed=7, n_refinement=1)
    b = lx.induce(small.src, small.tgt, method="adversarial", adversarial=TINY_ADV, seed=7, n_refinement=1)
    c = lx.induce(small.src, small.tgt, method="adversarial", adversarial=TINY_ADV, seed=8, n_refinement=1)
    assert np.array_equal(a.W, b.W) and a.selection_score == b.selection_score
    assert not np.array_equal(a.W, c.W)
    stages = [h["stage"] for h in a.history]
    assert stages.count("adversarial") == TINY_ADV["epochs"]
    # dis_most_frequent (75000 by default) is clamped to the 400-word vocabulary instead of crashing
    assert a.config["adversarial"]["dis_most_frequent"] == 75_000

    robust = lx.induce(small.src, small.tgt, method="robust")
    both = lx.induce(small.src, small.tgt, method="unsupervised", adversarial=TINY_ADV, seed=7, n_refinement=1,
                     init_policy="all")
    p1 = {
        name: lx.evaluate_dictionary(small.src, small.tgt, r, small.gold)["precision_at_1_csls"]
        for name, r in (("adversarial", a), ("robust", robust))
    }
    better = max(p1, key=p1.get)
    assert p1[better] > min(p1.values())
    assert both.method_chosen == better
    assert both.init_scores["adversarial"] == pytest.approx(a.selection_score)


def test_init_policy_fallback_runs_adversarial_only_below_threshold(pair: lx.SyntheticPair) -> None:
    """Default policy: robust first; the adversarial init runs only when the robust criterion is below
    adversarial_if_below. The decision and every criterion are recorded in the result."""
    result = lx.induce(pair.src, pair.tgt, adversarial=TINY_ADV, seed=0)
    d = result.init_decision
    assert result.config["init_policy"] == "fallback" and d["policy"] == "fallback"
    assert d["ran"] == ["robust"] and set(result.init_scores) == {"robust"}
    assert result.init_scores["robust"] >= result.config["adversarial_if_below"]
    assert "adversarial_if_below" in d["skipped"]["adversarial"] and d["criteria"]["adversarial"] is None
    assert d["chosen"] == result.method_chosen == "robust"
    assert not any(h["init"] == "adversarial" for h in result.history)
    assert lx.evaluate_dictionary(pair.src, pair.tgt, result, pair.gold)["precision_at_1_csls"] >= 0.95

    forced = lx.induce(pair.src, pair.tgt, adversarial=TINY_ADV, seed=0, adversarial_if_below=1.01)
    fd = forced.init_decision
    assert fd["ran"] == ["robust", "adversarial"] and not fd["skipped"]
    assert fd["criteria"] == forced.init_scores and set(fd["seconds"]) == {"robust", "adversarial"}
    assert forced.method_chosen == max(forced.init_scores, key=forced.init_scores.get) == fd["chosen"]
    assert forced.init_scores["robust"] == pytest.approx(result.init_scores["robust"])
    # one listed init: both policies run exactly that one
    only = lx.induce(pair.src, pair.tgt, inits=["adversarial"], adversarial={"epochs": 0}, n_refinement=1)
    assert only.init_decision["ran"] == ["adversarial"] and set(only.init_scores) == {"adversarial"}
    with pytest.raises(lx.LexiconError) as exc:
        lx.induce(pair.src, pair.tgt, init_policy="sometimes")
    assert "init_policy" in _one_line(exc)


def test_procrustes_from_dictionary_and_inits_option(pair: lx.SyntheticPair) -> None:
    seed_pairs = pair.gold[:300]
    sup = lx.induce(pair.src, pair.tgt, method="procrustes", seed_dictionary=seed_pairs)
    assert sup.method_chosen == "procrustes"
    test = pair.gold[300:]
    assert lx.evaluate_dictionary(pair.src, pair.tgt, sup, test)["precision_at_1_csls"] >= 0.95
    only = lx.induce(pair.src, pair.tgt, method="unsupervised", inits=("robust",))
    assert set(only.init_scores) == {"robust"}
    identity = lx.induce(pair.src, pair.tgt, method="adversarial", adversarial={"epochs": 0}, n_refinement=1)
    assert identity.history[0]["stage"] == "identity"


def test_robust_init_dictionary_is_mostly_right(pair: lx.SyntheticPair) -> None:
    xs = normalize_vectors(pair.src.vectors)
    zt = normalize_vectors(pair.tgt.vectors)
    rows = robust_init_dictionary(xs, zt, vocab=500)
    gold = {pair.src.index[s]: pair.tgt.index[t] for s, t in pair.gold}
    assert rows.shape[1] == 2 and len(rows) == 1000
    assert np.mean([gold[s] == t for s, t in rows.tolist()]) > 0.5


# ------------------------------------------------------------------------------------ translate / evaluate


def test_translate_table(pair: lx.SyntheticPair) -> None:
    words = [s for s, _ in pair.gold[:50]] + ["not-a-word", pair.gold[0][0]]
    table = lx.translate(pair.src, pair.tgt, pair.rotation, words, top_k=3, normalize="")
    assert table.schema.equals(lx.LEXICON_SCHEMA, check_metadata=True)
    assert table.schema.metadata[b"schema_version"] == lx.LEXICON_SCHEMA_VERSION.encode()
    assert table.num_rows == 150
    d = table.to_pydict()
    assert d["rank"][:3] == [1, 2, 3]
    assert d["src"][::3] == [s for s, _ in pair.gold[:50]]
    gold = dict(pair.gold)
    top1 = [(s, t, m) for s, t, r, m in zip(d["src"], d["tgt"], d["rank"], d["mutual_nn"]) if r == 1]
    assert np.mean([gold[s] == t for s, t, _ in top1]) >= 0.95
    assert np.mean([m for *_, m in top1]) >= 0.9
    assert not any(m for r, m in zip(d["rank"], d["mutual_nn"]) if r > 1)
    for r in range(0, 150, 3):  # csls sorted within a source word, cosine consistent with csls ordering at top
        assert d["csls"][r] >= d["csls"][r + 1] >= d["csls"][r + 2]
        assert -1.0 <= d["cosine"][r] <= 1.0
    strict = lx.translate(pair.src, pair.tgt, pair.rotation, words, top_k=3, normalize="", threshold=0.5, mutual_only=True)
    assert 0 < strict.num_rows <= 50
    assert all(strict.column("mutual_nn").to_pylist())
    assert min(strict.column("csls").to_pylist()) >= 0.5
    assert lx.translate(pair.src, pair.tgt, pair.rotation, ["nope"], normalize="").num_rows == 0


def test_evaluate_protocol_counts_unique_sources_and_any_target(pair: lx.SyntheticPair) -> None:
    s0, t0 = pair.gold[0]
    s1, t1 = pair.gold[1]
    gold = [(s0, t0), (s0, t1), (s1, t0), ("zzz", t0), (s1, "zzz")]
    m = lx.evaluate_dictionary(pair.src, pair.tgt, pair.rotation, gold, normalize="")
    assert m["n_gold_pairs"] == 5 and m["n_pairs_in_vocab"] == 3 and m["n_src_words"] == 2
    assert m["n_src_words_gold"] == 3
    assert m["precision_at_1_csls"] == 0.5  # s0 has its true target among its gold ones, s1 does not
    assert set(k for k in m if k.startswith("precision")) == {
        f"precision_at_{k}_{r}" for k in (1, 5, 10) for r in ("nn", "csls")
    }


def test_approximate_neighbourhoods_close_to_exact() -> None:
    rng = np.random.default_rng(0)
    x = unit_rows(rng.standard_normal((3000, 16)) * (1 + np.arange(16)) ** -0.5)
    y = unit_rows(rng.standard_normal((2500, 16)) * (1 + np.arange(16)) ** -0.5)
    exact = mean_topk_sim(x, y, 10, knn="exact")
    approx = mean_topk_sim(x, y, 10, knn="approx")
    assert np.abs(exact - approx).mean() < 0.03
    assert np.all(approx <= exact + 1e-5)


def test_csls_mutual_dense_path_matches_faiss_searches() -> None:
    """The single-GEMM path (small matrices) and the four-search path give the same CSLS neighbours."""
    rng = np.random.default_rng(2)
    x = unit_rows(rng.standard_normal((700, 24)) * (1 + np.arange(24)) ** -0.5)
    y = unit_rows(rng.standard_normal((650, 24)) * (1 + np.arange(24)) ** -0.5)
    dense = csls_mutual(x, y, 10)
    searched = csls_mutual(x, y, 10, dense_bytes=0)
    for a, b in zip(dense[:2], searched[:2]):
        assert a.shape == b.shape and np.mean(a == b) > 0.999
    for a, b in zip(dense[2:], searched[2:]):
        assert a.dtype == np.float32 and np.abs(a - b).max() < 1e-5
    assert np.allclose(dense[2], mean_topk_sim(x, y, 10), atol=1e-5)
    few = csls_mutual(x[:5], y, 10)  # k larger than the other side: clamped
    assert few[3].shape == (650,) and np.all(np.isfinite(few[3]))


# ------------------------------------------------------------------------------------ embeddings I/O


def _corpus(n: int = 400) -> list[list[str]]:
    rng = np.random.default_rng(0)
    nouns, verbs = ["cat", "dog", "bird", "fish"], ["sees", "eats", "likes"]
    return [[str(rng.choice(nouns)), str(rng.choice(verbs)), "the", str(rng.choice(nouns))] for _ in range(n)]


def test_train_fasttext_round_trip(tmp_path) -> None:
    emb = lx.train_fasttext(_corpus(), dim=8, epochs=2, min_count=1, threads=1, seed=0, max_words=6)
    assert len(emb) == 6 and emb.dim == 8 and emb.vectors.dtype == np.float32
    assert emb.words[0] == "the" and "</s>" not in emb.words
    assert list(emb.counts) == sorted(emb.counts, reverse=True) and emb.counts[0] == 400
    again = lx.train_fasttext(_corpus(), dim=8, epochs=2, min_count=1, threads=1, seed=0, max_words=6)
    assert np.array_equal(emb.vectors, again.vectors)  # deterministic with one thread and a seed
    split = lx.train_fasttext([["a b", "", "c\nd"]] * 5, dim=4, epochs=1, min_count=1, threads=1)
    assert sorted(split.words) == ["a", "b", "c", "d"]
    with pytest.raises(lx.LexiconError) as exc:
        lx.train_fasttext(["a sentence as a string"], dim=4, epochs=1, min_count=1)
    assert "token lists" in _one_line(exc)
    with pytest.raises(lx.LexiconError) as exc:
        lx.train_fasttext([[], []], dim=4, epochs=1, min_count=1)
    assert "empty" in _one_line(exc)


def test_artifact_round_trip(tmp_path) -> None:
    rng = np.random.default_rng(0)
    emb = lx.Embeddings(["ä", "b", "c"], np.array([5, 3, 1]), rng.standard_normal((3, 4)).astype(np.float32), name="x")
    table = lx.embeddings_to_table(emb)
    assert table.schema.equals(lx.embeddings_schema(4), check_metadata=True)
    assert table.schema.field("vector").type == pa.list_(pa.field("item", pa.float32(), nullable=False), 4)
    for suffix in (".parquet", ".arrow"):
        path = lx.write_embeddings(emb, tmp_path / "sub" / f"emb{suffix}")
        back = lx.read_embeddings(path)
        assert back.words == emb.words and np.array_equal(back.counts, emb.counts)
        assert np.array_equal(back.vectors, emb.vectors) and back.vectors.dtype == np.float32
    assert not list((tmp_path / "sub").glob("*.tmp"))
    assert pq.read_schema(tmp_path / "sub" / "emb.parquet").metadata[b"schema_version"] == b"1"
    mapped = lx.read_embeddings(tmp_path / "sub" / "emb.arrow")
    assert not mapped.vectors.flags.owndata  # zero-copy view of the memory-mapped file
    sliced = lx.embeddings_from_table(table.slice(1, 2))
    assert sliced.words == ["b", "c"] and np.array_equal(sliced.vectors, emb.vectors[1:])


def test_load_vectors_vec_and_bin(tmp_path) -> None:
    vec = tmp_path / "v.vec"
    vec.write_text("4 2\nfoo 0.5 1\nbar -1 2.5\n</s> 0 0\nbaz 3 4\n", encoding="utf-8")
    emb = lx.load_vectors(vec)
    assert emb.words == ["foo", "bar", "baz"] and emb.dim == 2
    assert np.allclose(emb.vectors[1], [-1, 2.5]) and emb.counts.tolist() == [0, 0, 0]
    assert lx.load_vectors(vec, max_words=2).words == ["foo", "bar"]
    noheader = tmp_path / "n.vec"
    noheader.write_text("foo 0.5 1 2\nbar 1 2 3\n", encoding="utf-8")
    assert lx.load_vectors(noheader).dim == 3

    import fasttext

    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(" ".join(s) for s in _corpus()), encoding="utf-8")
    model = fasttext.train_unsupervised(str(corpus), model="skipgram", dim=6, epoch=1, minCount=1, thread=1, verbose=0)
    model.save_model(str(tmp_path / "m.bin"))
    emb = lx.load_vectors(tmp_path / "m.bin", max_words=3)
    assert emb.words[0] == "the" and emb.counts[0] == 400 and emb.vectors.shape == (3, 6)


def test_load_muse_dictionary(tmp_path, shared_data) -> None:
    path = tmp_path / "d.txt"
    path.write_text("cat katze\ncat kater\n\ndog\thund\n", encoding="utf-8")
    assert lx.load_muse_dictionary(path) == [("cat", "katze"), ("cat", "kater"), ("dog", "hund")]
    table = lx.lexicon_from_dictionary(lx.load_muse_dictionary(path), ["dog", "cat", "bird"])
    assert table.schema.equals(lx.LEXICON_SCHEMA)
    assert table.to_pydict()["tgt"] == ["hund", "katze", "kater"]
    assert table.to_pydict()["rank"] == [1, 1, 2] and table.column("csls").null_count == 3
    real = shared_data / "bli" / "muse_format" / "en-de.0-5000.txt"
    if real.is_file():
        pairs = lx.load_muse_dictionary(real)
        assert len(pairs) == 14677 and len({s for s, _ in pairs}) == 5000


# ------------------------------------------------------------------------------------ errors


def test_bad_inputs_give_one_line_errors(tmp_path, pair: lx.SyntheticPair) -> None:
    v = np.ones((3, 2), dtype=np.float32)
    v[1, 0] = np.nan
    with pytest.raises(lx.LexiconError) as exc:
        lx.Embeddings(["a", "b", "c"], np.zeros(3), v)
    assert "NaN or inf" in _one_line(exc) and "'b'" in str(exc.value)
    v[1, 0] = np.inf
    with pytest.raises(lx.LexiconError):
        lx.Embeddings(["a", "b", "c"], np.zeros(3), v)
    with pytest.raises(lx.LexiconError) as exc:
        lx.Embeddings(["a", "b", "a"], np.zeros(3), np.ones((3, 2)))
    assert "duplicate word 'a'" in _one_line(exc)
    with pytest.raises(lx.LexiconError) as exc:
        lx.Embeddings(["a", "b"], np.zeros(3), np.ones((3, 2)))
    _one_line(exc)
    dup = tmp_path / "dup.vec"
    dup.write_text("a 1 2\nb 3 4\na 5 6\n", encoding="utf-8")
    with pytest.raises(lx.LexiconError) as exc:
        lx.load_vectors(dup)
    assert "line 3" in _one_line(exc)
    assert lx.load_vectors(dup, on_duplicate="keep_first").words == ["a", "b"]
    ragged = tmp_path / "ragged.vec"
    ragged.write_text("a 1 2\nb 3\n", encoding="utf-8")
    with pytest.raises(lx.LexiconError) as exc:
        lx.load_vectors(ragged)
    assert "line 2" in _one_line(exc)
    with pytest.raises(lx.LexiconError):
        lx.load_vectors(tmp_path / "missing.vec")
    nan = tmp_path / "nan.vec"
    nan.write_text("3 2\na 1 2\nb nan 4\nc 5 6\n", encoding="utf-8")
    with pytest.raises(lx.LexiconError) as exc:
        lx.load_vectors(nan)
    assert _one_line(exc) == f"{nan}: line 3: the vector of 'b' contains NaN or inf (1 such lines)"
    text = tmp_path / "text.vec"
    text.write_text("a 1 2\nb x 4\n", encoding="utf-8")
    with pytest.raises(lx.LexiconError) as exc:
        lx.load_vectors(text)
    assert _one_line(exc).startswith(f"{text}: line 2: non-numeric")
    lying = tmp_path / "lying.vec"
    lying.write_text("5 2\na 1 2\nb 3 4\n", encoding="utf-8")
    with pytest.raises(lx.LexiconError) as exc:
        lx.load_vectors(lying)
    assert "header (line 1) says 5 words, the file has 2" in _one_line(exc)
    assert lx.load_vectors(lying, max_words=1).words == ["a"]  # a partial read cannot check the count

    other = lx.synthetic_pair(100, 8, seed=1).tgt
    with pytest.raises(lx.LexiconError) as exc:
        lx.induce(pair.src, other)
    assert "dimension mismatch" in _one_line(exc)
    tiny = pair.tgt.top(5)
    with pytest.raises(lx.LexiconError) as exc:
        lx.induce(pair.src, tiny, method="robust")
    msg = _one_line(exc)
    assert "5 words" in msg and "at least 20" in msg
    with pytest.raises(lx.LexiconError):
        lx.induce(pair.src, pair.tgt.top(0), method="robust")
    with pytest.raises(lx.LexiconError) as exc:
        lx.induce(pair.src, pair.tgt, method="dictionary")
    assert "lexicon_from_dictionary" in _one_line(exc)
    with pytest.raises(lx.LexiconError) as exc:
        lx.induce(pair.src, pair.tgt, method="procrustes")
    _one_line(exc)
    with pytest.raises(lx.LexiconError) as exc:
        lx.induce(pair.src, pair.tgt, method="procrustes", seed_dictionary=[("nope", "nada")])
    _one_line(exc)
    with pytest.raises(lx.LexiconError) as exc:
        lx.induce(pair.src, pair.tgt, normalize="renorm,whiten")
    assert "whiten" in _one_line(exc)
    with pytest.raises(lx.LexiconError):
        lx.induce(pair.src, pair.tgt, no_such_option=1)
    with pytest.raises(lx.LexiconError):
        lx.translate(pair.src, pair.tgt, np.eye(3), ["s0"])
    bad = tmp_path / "bad.txt"
    bad.write_text("a b c\n", encoding="utf-8")
    with pytest.raises(lx.LexiconError) as exc:
        lx.load_muse_dictionary(bad)
    assert "line 1" in _one_line(exc)
    with pytest.raises(lx.LexiconError):
        lx.evaluate_dictionary(pair.src, pair.tgt, pair.rotation, [("x", "y")])
