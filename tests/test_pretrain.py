"""Tiny base models: tokenizers, config builders, MLM/CLM pre-training, copy sequences, save/load."""

from __future__ import annotations

import itertools
import os
import random
import sys
from pathlib import Path

import pytest
import torch
from transformers import AutoModel, AutoModelForCausalLM, AutoTokenizer, BertConfig, LlamaConfig

from lingualift_core.model.tiny import (
    ENCODER_SPECIAL_TOKENS,
    LLM_SEP_TOKEN,
    LLM_SPECIAL_TOKENS,
    base_encoder,
    check_tokenizer_config,
    tiny_encoder_config,
    tiny_llm_config,
    train_tokenizer,
    train_word_tokenizer,
)
from lingualift_core.train.pretrain import (
    build_copy_sequences,
    copy_accuracy,
    copy_share,
    lr_factor,
    mask_tokens,
    mlm_accuracy,
    pack_documents,
    pretrain_encoder_mlm,
    pretrain_llm_clm,
    task_accuracy,
)

SUBJ = ["the cat", "a dog", "my sister", "the farmer", "our teacher", "a small boy"]
VERB = ["sees", "likes", "buys", "carries", "paints", "finds"]
OBJ = ["the apple", "a red ball", "the house", "a book", "some bread", "the green door"]


def english(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        s = f"{rng.choice(SUBJ)} {rng.choice(VERB)} {rng.choice(OBJ)}."
        out.append(s[0].upper() + s[1:])
    return out


def math(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        a, b = rng.randint(2, 99), rng.randint(2, 99)
        out.append(f"Tom has {a} apples and buys {b} more. {a} + {b} = {a + b}. The answer is {a + b}.")
    return out


def toy(n: int, seed: int = 2) -> list[str]:
    rng = random.Random(seed)
    greek = [chr(c) for c in range(0x03B1, 0x03CA)]
    cyr = [chr(c) for c in range(0x0430, 0x0450)]
    out = []
    for i in range(n):
        letters = greek if i % 2 else cyr
        out.append(" ".join("".join(rng.choice(letters) for _ in range(rng.randint(2, 5))) for _ in range(5)) + ".")
    return out


@pytest.fixture(scope="module")
def enc_texts() -> list[str]:
    return english(300) + math(100) + toy(200)


@pytest.fixture(scope="module")
def llm_texts() -> list[str]:
    return english(300) + math(100)


@pytest.fixture(scope="module")
def enc_tok(enc_texts):
    return train_tokenizer(enc_texts, vocab_size=300, kind="encoder")


@pytest.fixture(scope="module")
def llm_tok(llm_texts):
    return train_tokenizer(llm_texts, vocab_size=200, kind="llm")


def small_enc_cfg(tok) -> BertConfig:
    return tiny_encoder_config(len(tok), hidden=32, layers=2, heads=2, max_positions=64)


def small_llm_cfg(tok) -> LlamaConfig:
    return tiny_llm_config(len(tok), hidden=32, layers=2, heads=2, max_positions=128)


# ------------------------------------------------------------------------------------------ tokenizers
def test_tokenizer_round_trip_and_special_ids(enc_tok, llm_tok):
    for tok, specials in ((enc_tok, ENCODER_SPECIAL_TOKENS), (llm_tok, LLM_SPECIAL_TOKENS)):
        assert tok.convert_ids_to_tokens(list(range(len(specials)))) == list(specials)
        for s in ["The cat sees a book.", "Tom has 42 apples and buys 7 more. 42 + 7 = 49."]:
            ids = tok(s)["input_ids"]
            assert tok.decode(ids, skip_special_tokens=True) == s
    s = "αβγ δεζ. жив."
    assert enc_tok.decode(enc_tok(s)["input_ids"], skip_special_tokens=True) == s
    assert "[UNK]" not in enc_tok.convert_ids_to_tokens(enc_tok(s)["input_ids"])


def test_special_token_layout(enc_tok, llm_tok):
    ids = enc_tok("the cat")["input_ids"]
    assert ids[0] == enc_tok.cls_token_id == 2 and ids[-1] == enc_tok.sep_token_id == 3
    assert (enc_tok.pad_token_id, enc_tok.unk_token_id, enc_tok.mask_token_id) == (0, 1, 4)
    ids = llm_tok("the cat")["input_ids"]
    assert ids[0] == llm_tok.bos_token_id == 1 and ids[-1] != llm_tok.eos_token_id
    assert (llm_tok.pad_token_id, llm_tok.eos_token_id, llm_tok.unk_token_id) == (0, 2, 3)
    assert llm_tok.convert_tokens_to_ids(LLM_SEP_TOKEN) == 4
    # <sep> is one token and absorbs surrounding spaces: both halves tokenise identically
    ids = llm_tok("the cat <sep> the cat", add_special_tokens=False)["input_ids"]
    k = ids.index(4)
    assert ids[:k] == ids[k + 1:]


def test_digits_are_split(enc_tok, llm_tok):
    for tok in (enc_tok, llm_tok):
        toks = tok.convert_ids_to_tokens(tok("is 12345 and 90.", add_special_tokens=False)["input_ids"])
        digits = [t for t in toks if any(c.isdigit() for c in t)]
        assert digits == list("12345") + list("90")


def test_llm_left_padding_encoder_right_padding(enc_tok, llm_tok):
    b = llm_tok(["the cat", "the cat sees a book"], padding=True)
    assert llm_tok.padding_side == "left"
    assert b["attention_mask"][0][0] == 0 and b["attention_mask"][0][-1] == 1
    assert b["input_ids"][0][0] == llm_tok.pad_token_id
    b = enc_tok(["the cat", "the cat sees a book"], padding=True)
    assert b["attention_mask"][0][-1] == 0 and b["attention_mask"][0][0] == 1


def test_tokenizer_save_load(tmp_path, llm_tok, enc_tok):
    for name, tok in (("llm", llm_tok), ("enc", enc_tok)):
        tok.save_pretrained(tmp_path / name)
        re = AutoTokenizer.from_pretrained(tmp_path / name)
        assert re.padding_side == tok.padding_side
        assert re.all_special_tokens == tok.all_special_tokens
        s = ["the cat sees 42 apples <sep> ok", "a dog"]
        assert re(s, padding=True)["input_ids"] == tok(s, padding=True)["input_ids"]


def test_tokenizer_errors():
    with pytest.raises(ValueError, match="no non-empty text"):
        train_tokenizer([], vocab_size=100, kind="llm")
    with pytest.raises(ValueError, match="no non-empty text"):
        train_tokenizer(["", "  "], vocab_size=100, kind="encoder")
    with pytest.raises(ValueError, match="too small"):
        train_tokenizer(english(20), vocab_size=10, kind="llm")
    with pytest.raises(ValueError, match="kind"):
        train_tokenizer(english(20), vocab_size=100, kind="decoder")
    with pytest.raises(TypeError):
        train_tokenizer("a single string", vocab_size=100, kind="llm")


# -------------------------------------------------------------------------------------------- configs
def test_config_builders():
    e = tiny_encoder_config(500, hidden=64, layers=3, heads=4)
    assert isinstance(e, BertConfig)
    assert (e.vocab_size, e.hidden_size, e.num_hidden_layers, e.num_attention_heads) == (500, 64, 3, 4)
    assert e.intermediate_size == 256 and e.pad_token_id == 0
    d = tiny_llm_config(500, hidden=64, layers=2, heads=4, kv_heads=2)
    assert isinstance(d, LlamaConfig) and d.tie_word_embeddings
    assert (d.pad_token_id, d.bos_token_id, d.eos_token_id) == (0, 1, 2)
    assert d.num_key_value_heads == 2 and d.intermediate_size % 32 == 0
    assert not tiny_llm_config(500, tie_embeddings=False).tie_word_embeddings
    with pytest.raises(ValueError, match="divisible"):
        tiny_encoder_config(500, hidden=30, heads=4)
    with pytest.raises(ValueError, match="vocab_size"):
        tiny_llm_config(0)


def test_check_tokenizer_config(llm_tok):
    check_tokenizer_config(llm_tok, small_llm_cfg(llm_tok))
    with pytest.raises(ValueError, match="smaller than the tokenizer"):
        check_tokenizer_config(llm_tok, tiny_llm_config(len(llm_tok) - 1, hidden=32, heads=2))
    with pytest.raises(ValueError, match="eos_token_id"):
        check_tokenizer_config(llm_tok, tiny_llm_config(len(llm_tok), hidden=32, heads=2, eos_token_id=5))


# ----------------------------------------------------------------------------------- data utilities
def test_mask_tokens_respects_specials():
    ids = torch.tensor([[2, 10, 11, 12, 13, 14, 15, 16, 3, 0, 0]] * 64)
    mask = (ids != 0).long()
    gen = torch.Generator().manual_seed(0)
    inp, labels = mask_tokens(ids, mask, special_ids=[0, 1, 2, 3, 4], mask_id=4, vocab_size=50, generator=gen)
    chosen = labels != -100
    assert not chosen[:, [0, 8, 9, 10]].any()  # CLS, SEP, padding never predicted
    assert chosen.any(dim=1).all()  # at least one per row
    assert torch.equal(labels[chosen], ids[chosen])
    assert (inp[~chosen] == ids[~chosen]).all()
    assert 0.1 < chosen[:, 1:8].float().mean() < 0.35
    assert not torch.isin(inp[chosen & (inp != 4)], torch.tensor([0, 1, 2, 3])).any()


def test_build_copy_sequences():
    src = english(30)
    seqs = build_copy_sequences(src, 60, seed=3, max_sentences=2, scramble_fraction=0.5, random_fraction=0.0)
    assert len(seqs) == 60
    assert seqs == build_copy_sequences(src, 60, seed=3, max_sentences=2, scramble_fraction=0.5,
                                        random_fraction=0.0)
    bags = {tuple(sorted(x.split())) for x in src}
    bags |= {tuple(sorted(f"{x} {y}".split())) for x, y in itertools.permutations(src, 2)}
    joined = set(src) | {f"{x} {y}" for x, y in itertools.permutations(src, 2)}
    scrambled = 0
    for s in seqs:
        a, b = s.split(f" {LLM_SEP_TOKEN} ")
        assert a == b  # the second half is an exact copy
        assert tuple(sorted(a.split())) in bags  # made of 1-2 source sentences
        scrambled += a not in joined
    assert 10 < scrambled < 50
    plain = build_copy_sequences(src, 20, seed=1, max_sentences=1, scramble_fraction=0.0, random_fraction=0.0)
    assert all(s.split(f" {LLM_SEP_TOKEN} ")[0] in src for s in plain)
    types = {w for x in src for w in x.split()}
    rand = build_copy_sequences(src, 20, seed=1, max_sentences=1, scramble_fraction=0.0, random_fraction=1.0)
    for s in rand:
        a, b = s.split(f" {LLM_SEP_TOKEN} ")
        assert a == b and set(a.split()) <= types
    assert sum(s.split(f" {LLM_SEP_TOKEN} ")[0] in src for s in rand) < 5
    with pytest.raises(ValueError):
        build_copy_sequences(["", " "], 3)
    with pytest.raises(ValueError):
        build_copy_sequences(src, 3, scramble_fraction=0.6, random_fraction=0.6)


def test_pack_documents_keeps_documents_whole():
    rng = random.Random(0)
    docs = [[rng.randint(5, 9)] * rng.randint(1, 20) for _ in range(200)] + [[7] * 50]
    windows = pack_documents(docs, 32)
    assert all(0 < len(w) <= 32 for w in windows)
    assert sum(len(w) for w in windows) == sum(len(d) for d in docs)
    assert sum(len(w) for w in windows) / (32 * len(windows)) > 0.85  # little padding


def test_lr_schedule():
    f = [lr_factor(s, 100, 0.1, 0.1) for s in range(100)]
    assert f[0] == pytest.approx(0.1) and f[9] == pytest.approx(1.0)
    assert f[-1] == pytest.approx(0.1, abs=0.01) and all(a >= b for a, b in zip(f[9:], f[10:]))


def test_copy_share_schedule():
    assert [copy_share(s, 100, 0.3, None, 0.4) for s in (1, 50, 100)] == [0.3, 0.3, 0.3]
    shares = [copy_share(s, 100, 0.4, 0.8, 0.4) for s in range(1, 101)]
    assert shares[0] == pytest.approx(0.8) and shares[40] == pytest.approx(0.4) and shares[-1] == pytest.approx(0.4)
    assert all(a >= b for a, b in zip(shares, shares[1:]))


# --------------------------------------------------------------------------------------- pretraining
def test_encoder_pretraining_lowers_loss_and_saves(tmp_path, enc_texts, enc_tok):
    calls = []
    model, hist = pretrain_encoder_mlm(enc_texts, enc_tok, small_enc_cfg(enc_tok), steps=40, batch_size=16,
                                       lr=3e-3, seq_len=32, seed=0, num_threads=1,
                                       on_step=lambda s, t, m: calls.append((s, t, m["loss"])))
    assert len(hist) == 40 and [h["step"] for h in hist] == list(range(1, 41))
    assert set(hist[0]) == {"step", "loss", "lr"} and len(calls) == 40 and calls[-1][:2] == (40, 40)
    first = sum(h["loss"] for h in hist[:5]) / 5
    last = sum(h["loss"] for h in hist[-5:]) / 5
    assert last < first - 0.5
    assert not model.training
    acc = mlm_accuracy(model, enc_tok, english(20, seed=9), num_threads=1)
    assert 0.0 <= acc <= 1.0

    base = base_encoder(model)
    base.save_pretrained(tmp_path / "enc")
    enc_tok.save_pretrained(tmp_path / "enc")
    loaded = AutoModel.from_pretrained(tmp_path / "enc")
    b = enc_tok(["the cat sees a book.", "αβγ"], padding=True, return_tensors="pt")
    with torch.no_grad():
        out = loaded(**b).last_hidden_state
        ref = model.bert(**b).last_hidden_state
    assert out.shape == (2, b["input_ids"].shape[1], 32)
    torch.testing.assert_close(out, ref)


def test_llm_pretraining_lowers_loss_and_saves(tmp_path, llm_texts, llm_tok):
    model, hist = pretrain_llm_clm(llm_texts, llm_tok, small_llm_cfg(llm_tok), steps=40, batch_size=8,
                                   lr=3e-3, seq_len=64, seed=0, copy_fraction=0.3, num_threads=1)
    first = sum(h["loss"] for h in hist[:5]) / 5
    last = sum(h["loss"] for h in hist[-5:]) / 5
    assert last < first - 0.5
    model.save_pretrained(tmp_path / "llm")
    llm_tok.save_pretrained(tmp_path / "llm")
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path / "llm")
    b = llm_tok(["the cat", "Tom has 4 apples."], padding=True, return_tensors="pt")
    with torch.no_grad():
        torch.testing.assert_close(loaded(**b).logits, model(**b).logits)
    assert loaded.get_input_embeddings().weight.data_ptr() == loaded.get_output_embeddings().weight.data_ptr()


def test_llm_pretraining_without_copy(llm_texts, llm_tok):
    _, hist = pretrain_llm_clm(llm_texts, llm_tok, small_llm_cfg(llm_tok), steps=2, batch_size=4, lr=1e-3,
                               seq_len=48, seed=0, copy_fraction=0.0, num_threads=1)
    assert len(hist) == 2


def test_copy_accuracy_batch_invariant(llm_tok):
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(small_llm_cfg(llm_tok)).eval()
    sents = english(6, seed=4) + ["a dog."]
    one = copy_accuracy(model, llm_tok, sents, batch_size=1, num_threads=1, return_details=True)
    many = copy_accuracy(model, llm_tok, sents, batch_size=7, num_threads=1, return_details=True)
    assert one == many and one["n"] == 7 and 0.0 <= one["token_accuracy"] <= 1.0
    assert llm_tok.padding_side == "left"


def test_pretraining_is_deterministic(llm_texts, llm_tok, enc_texts, enc_tok):
    def llm(seed):
        m, _ = pretrain_llm_clm(llm_texts, llm_tok, small_llm_cfg(llm_tok), steps=4, batch_size=4, lr=1e-3,
                                seq_len=48, seed=seed, copy_fraction=0.3, num_threads=1)
        return m.state_dict()

    def enc(seed):
        m, _ = pretrain_encoder_mlm(enc_texts, enc_tok, small_enc_cfg(enc_tok), steps=4, batch_size=4, lr=1e-3,
                                    seq_len=32, seed=seed, num_threads=1)
        return m.state_dict()

    for fn in (llm, enc):
        torch.manual_seed(123)
        a = fn(0)
        state = torch.random.get_rng_state()
        b = fn(0)
        c = fn(1)
        assert all(torch.equal(a[k], b[k]) for k in a)
        assert not all(torch.equal(a[k], c[k]) for k in a)
    assert torch.equal(state, torch.random.get_rng_state())  # caller's RNG state untouched


def test_pretraining_errors(llm_tok, enc_tok, llm_texts):
    with pytest.raises(ValueError, match="no non-empty"):
        pretrain_llm_clm([], llm_tok, small_llm_cfg(llm_tok), steps=1, batch_size=2, lr=1e-3, seq_len=32, seed=0,
                         copy_fraction=0.1)
    with pytest.raises(ValueError, match="no non-empty"):
        pretrain_encoder_mlm(["", " "], enc_tok, small_enc_cfg(enc_tok), steps=1, batch_size=2, lr=1e-3,
                             seq_len=32, seed=0)
    with pytest.raises(ValueError, match="copy_fraction"):
        pretrain_llm_clm(llm_texts, llm_tok, small_llm_cfg(llm_tok), steps=1, batch_size=2, lr=1e-3, seq_len=32,
                         seed=0, copy_fraction=1.0)
    with pytest.raises(ValueError, match="mask token"):
        pretrain_encoder_mlm(llm_texts, llm_tok, small_llm_cfg(llm_tok), steps=1, batch_size=2, lr=1e-3,
                             seq_len=32, seed=0)
    with pytest.raises(ValueError, match="max_position_embeddings"):
        pretrain_llm_clm(llm_texts, llm_tok, small_llm_cfg(llm_tok), steps=1, batch_size=2, lr=1e-3, seq_len=4096,
                         seed=0, copy_fraction=0.1)
    with pytest.raises(ValueError, match="smaller than the tokenizer"):
        pretrain_encoder_mlm(llm_texts, enc_tok, tiny_encoder_config(10, hidden=32, heads=2), steps=1,
                             batch_size=2, lr=1e-3, seq_len=32, seed=0)


# ------------------------------------------------------------------------------------- word-level tokens
def test_word_tokenizer_whole_numbers_round_trip_and_specials():
    texts = ["Tom has 5 apples at home .", "how many apples does Tom have now ?"]
    tok = train_word_tokenizer(texts, kind="llm", max_number=60)
    ids = tok("Tom has 17 apples . <sep> 60 + 0 = 60 .", add_special_tokens=False)["input_ids"]
    pieces = tok.convert_ids_to_tokens(ids)
    # "+" and "=" were never seen: unknown words, but every number is a token of its own
    assert pieces == ["Tom", "has", "17", "apples", ".", "<sep>", "60", "<unk>", "0", "<unk>", "60", "."]
    for number in range(61):  # every number in range is one token, never <unk>
        assert tok.convert_ids_to_tokens(tok(str(number), add_special_tokens=False)["input_ids"]) == [str(number)]
    assert tok.convert_ids_to_tokens(tok("61", add_special_tokens=False)["input_ids"]) == ["<unk>"]
    assert tok.decode(tok(texts[1])["input_ids"], skip_special_tokens=True) == texts[1]
    assert [tok.pad_token_id, tok.bos_token_id, tok.eos_token_id] == [0, 1, 2]
    enc = train_word_tokenizer(texts + ["βα γδ ."], kind="encoder", max_number=10)
    assert enc.convert_ids_to_tokens(enc("βα zz 7")["input_ids"]) == ["[CLS]", "βα", "[UNK]", "7", "[SEP]"]
    with pytest.raises(ValueError):
        train_word_tokenizer(texts, kind="llm", max_number=-1)


def test_layout_placeholder_is_one_llm_token():
    """The layout-only copies cost one token per word, as the English text does (layout_sft's records)."""
    from lingualift_core.toyworld import layout_only

    tok = train_word_tokenizer(["Tom has 5 apples at home ."], kind="llm", max_number=60)
    text = layout_only("Tom has 17 apples . Tom finds 3 apples .")
    assert tok.convert_ids_to_tokens(tok(text, add_special_tokens=False)["input_ids"]) == (
        ["<unk>", "<unk>", "17", "<unk>", ".", "<unk>", "<unk>", "3", "<unk>", "."])


def test_llm_streams_get_their_share_and_are_validated(llm_texts, llm_tok):
    task = math(50, seed=5)
    model, hist = pretrain_llm_clm(llm_texts, llm_tok, small_llm_cfg(llm_tok), steps=3, batch_size=8, lr=1e-3,
                                   seq_len=64, seed=0, copy_fraction=0.25, copy_fraction_start=None,
                                   streams=[(task, 0.5)], num_threads=1)
    assert len(hist) == 3
    with pytest.raises(ValueError, match="below 1"):
        pretrain_llm_clm(llm_texts, llm_tok, small_llm_cfg(llm_tok), steps=1, batch_size=8, lr=1e-3, seq_len=64,
                         copy_fraction=0.5, copy_fraction_start=None, streams=[(task, 0.6)], num_threads=1)
    with pytest.raises(ValueError, match="streams"):
        pretrain_llm_clm(llm_texts, llm_tok, small_llm_cfg(llm_tok), steps=1, batch_size=8, lr=1e-3, seq_len=64,
                         streams=[([" "], 0.2)], num_threads=1)


def test_task_accuracy_reads_answers_batch_invariant(llm_tok):
    model = AutoModelForCausalLM.from_config(small_llm_cfg(llm_tok))
    rows = [{"instruction": "Solve.", "input": f"Tom has {i} apples.", "answer": i} for i in range(5)]
    a = task_accuracy(model, llm_tok, rows, max_new_tokens=4, batch_size=5, num_threads=1)
    b = task_accuracy(model, llm_tok, rows, max_new_tokens=4, batch_size=1, num_threads=1)
    assert a["n"] == 5 and a["accuracy"] == b["accuracy"] and a["examples"] == b["examples"]


def _both_models() -> dict[str, dict[str, torch.Tensor]]:
    """A few steps of each pre-training on the module's texts (rebuilt here: spawned workers have no fixtures)."""
    enc_t, llm_t = english(300) + math(100) + toy(200), english(300) + math(100)
    enc_tok, llm_tok = train_tokenizer(enc_t, vocab_size=300, kind="encoder"), train_tokenizer(llm_t, vocab_size=200, kind="llm")
    llm, _ = pretrain_llm_clm(llm_t, llm_tok, small_llm_cfg(llm_tok), steps=6, batch_size=6, lr=3e-3, seq_len=48,
                              seed=0, copy_fraction=0.3, num_threads=1)
    enc, _ = pretrain_encoder_mlm(enc_t, enc_tok, small_enc_cfg(enc_tok), steps=6, batch_size=6, lr=3e-3,
                                  seq_len=32, seed=0, num_threads=1)
    return {"llm": llm.state_dict(), "enc": enc.state_dict()}


def _data_parallel_worker(rank: int, world: int, port: int, out: str, gloo: bool = False) -> None:
    import torch.distributed as dist

    if gloo:  # the gloo all-reduce instead of the shared-memory sum
        import lingualift_core.train.pretrain as pretrain

        pretrain.host_sum_available = lambda: False
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        from lingualift_core.train import pretrain

        states = {**_both_models(), "host_sum": pretrain.host_sum_available()}  # collective: every rank asks
        if rank == 0:
            torch.save(states, out)
    finally:
        dist.destroy_process_group()


def test_data_parallel_pretraining_equals_one_process(tmp_path):
    import socket

    one = _both_models()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # 6 rows over 2 processes (3 + 3) and, for the uneven split, 4 processes (2 + 2 + 1 + 1); the gradients are
    # summed in shared memory (train/host_sum.py)
    for world in (2, 4):
        torch.multiprocessing.spawn(_data_parallel_worker, args=(world, port + world, str(tmp_path / "dp.pt")),
                                    nprocs=world)
        dp = torch.load(tmp_path / "dp.pt")
        for part in ("llm", "enc"):
            assert one[part].keys() == dp[part].keys()
            for k in one[part]:
                assert torch.allclose(one[part][k], dp[part][k], atol=2e-5, rtol=1e-4), (world, part, k)
    # two processes: a + b, bit for bit what gloo's all-reduce gives
    torch.multiprocessing.spawn(_data_parallel_worker, args=(2, port + 5, str(tmp_path / "gloo.pt"), True), nprocs=2)
    gloo = torch.load(tmp_path / "gloo.pt")
    torch.multiprocessing.spawn(_data_parallel_worker, args=(2, port + 6, str(tmp_path / "shm.pt")), nprocs=2)
    shm = torch.load(tmp_path / "shm.pt")
    assert shm["host_sum"] and not gloo["host_sum"]
    for part in ("llm", "enc"):
        assert all(torch.equal(gloo[part][k], shm[part][k]) for k in gloo[part]), part


def test_number_features_move_only_number_rows_by_the_scaled_norm():
    from lingualift_core.model.tiny import add_number_features, number_token_values

    tok = train_word_tokenizer(["Tom has 12 apples .", "12 + 3 = 15 ."], kind="llm", max_number=20)
    values = number_token_values(tok)
    assert sorted(values.values()) == list(range(21))
    assert tok.convert_tokens_to_ids("12") in values and tok.pad_token_id not in values
    cfg = tiny_llm_config(len(tok), hidden=64, layers=1, heads=2, max_positions=32)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(cfg)
    before = model.get_input_embeddings().weight.detach().clone()
    assert add_number_features(model, tok, 0.0) == 0
    assert torch.equal(model.get_input_embeddings().weight, before)
    assert add_number_features(model, tok, 3.0) == 21
    after = model.get_input_embeddings().weight.detach()
    moved = {i for i in range(len(tok)) if not torch.equal(after[i], before[i])}
    assert moved == set(values)
    for i in values:
        assert (after[i] - before[i]).norm() == pytest.approx(3.0 * before[i].norm().item(), rel=1e-5)
    # the added direction is the value's (cos, sin) pairs over NUMBER_PERIODS
    from math import cos, pi, sin

    from lingualift_core.model.tiny import NUMBER_PERIODS

    f = {n: after[i] - before[i] for i, n in values.items()}
    want = torch.zeros(64)
    want[: 2 * len(NUMBER_PERIODS)] = torch.tensor(
        [g(2 * pi * 7 / p) for p in NUMBER_PERIODS for g in (cos, sin)])
    torch.testing.assert_close(f[7] / f[7].norm(), want / want.norm())
    with pytest.raises(ValueError, match="scale must be >= 0"):
        add_number_features(model, tok, -1.0)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only")
def test_a_spawned_replica_ends_with_the_stage_process(tmp_path):
    """A killed `base_models` stage takes its spawned replica with it (not left waiting in a collective)."""
    import subprocess
    import textwrap
    import time

    pid_file = tmp_path / "child.pid"
    script = tmp_path / "stage.py"
    script.write_text(textwrap.dedent(f"""
        import multiprocessing, os, time

        def child(parent):
            from lingualift_core.train.tiny_base import end_with_parent
            end_with_parent(parent)
            open({str(pid_file)!r}, "w").write(str(os.getpid()))
            time.sleep(60)

        if __name__ == "__main__":
            p = multiprocessing.get_context("spawn").Process(target=child, args=(os.getpid(),))
            p.start()
            while not os.path.exists({str(pid_file)!r}):
                time.sleep(0.05)
            os._exit(0)  # the stage dies without joining its child
    """))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    subprocess.run([sys.executable, str(script)], env=env, check=True, timeout=60)
    child = int(pid_file.read_text())

    def alive() -> bool:
        try:
            return Path(f"/proc/{child}/stat").read_text().split()[2] != "Z"  # a zombie has ended
        except FileNotFoundError:
            return False

    deadline = time.monotonic() + 10
    while alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    ended = not alive()
    if not ended:
        os.kill(child, 9)
    assert ended
