"""LinguaLIFT model: layout, batching, generation, save/load, errors (tiny random models built from config)."""

from __future__ import annotations

import random

import pytest
import torch

from lingualift_core.model import (
    AlignmentLayer,
    LinguaLIFTConfig,
    LinguaLIFTModel,
    ModelLoadError,
    PromptTemplate,
    load_encoder,
    load_llm,
)
from lingualift_core.model.batching import IGNORE_INDEX, SEG_ENC, SEG_PAD
from model_builders import random_t5_encoder, tiny_lingualift, word_tokenizer


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matmuls: threads only add overhead (and contention on a shared CPU)
    yield
    torch.set_num_threads(old)


def make_records(n: int, seed: int = 0, with_output: bool = True) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        k = rng.randint(1, 9)
        xs = [f"x{rng.randint(0, 60)}" for _ in range(k)]
        rec = {"instruction": " ".join(f"w{rng.randint(0, 30)}" for _ in range(rng.randint(0, 4))), "input": " ".join(xs)}
        if with_output:
            rec["output"] = " ".join(f"w{rng.randint(0, 100)}" for _ in range(rng.randint(1, 7)))
        out.append(rec)
    return out


# ---------------------------------------------------------------- alignment layer and boundaries
def test_alignment_layer_shapes():
    mlp = AlignmentLayer(24, 32, "mlp")
    assert [tuple(p.shape) for p in mlp.parameters()] == [(48, 24), (48,), (32, 48), (32,)]
    assert isinstance(mlp.net[1], torch.nn.GELU)
    lin = AlignmentLayer(24, 32, "linear")
    assert [tuple(p.shape) for p in lin.parameters()] == [(32, 24), (32,)]
    assert mlp(torch.randn(3, 24)).shape == (3, 32)
    with pytest.raises(ValueError, match="expects encoder hidden size 24"):
        mlp(torch.randn(3, 16))
    with pytest.raises(ValueError, match="unknown alignment"):
        AlignmentLayer(24, 32, "conv")


def test_boundary_vectors_at_embedding_scale():
    m = tiny_lingualift()
    emb_std = m.llm.get_input_embeddings().weight.std().item()
    for v in (m.enc_start, m.enc_end):
        assert v.shape == (32,)
        assert 0.5 * emb_std < v.std().item() < 2.0 * emb_std  # not std 1.0
    assert m.config.boundary_init_std == pytest.approx(emb_std, rel=1e-5)
    assert not torch.equal(m.enc_start, m.enc_end)


def test_boundaries_from_tokens():
    m = tiny_lingualift()
    m.init_boundaries_from_tokens(end="w7")
    emb = m.llm.get_input_embeddings().weight
    assert torch.equal(m.enc_end, emb[m.llm_tokenizer.convert_tokens_to_ids("w7")])
    with pytest.raises(ValueError, match="not in the LLM vocabulary"):
        m.init_boundaries_from_tokens(start="nonexistent-token")


# ---------------------------------------------------------------- batching
@pytest.mark.parametrize("layout", ["paper", "encoder_prompt"])
def test_collate_left_padding_positions_labels(layout):
    m = tiny_lingualift(layout=layout)
    b = m.prompt_builder()
    recs = make_records(6, seed=1)
    rows = b.tokenize_many(recs)
    batch = b.collate(rows)
    ids, mask, pos, seg, labels = (batch[k] for k in ("input_ids", "attention_mask", "position_ids", "segment_ids", "labels"))
    assert ids.shape == mask.shape == pos.shape == seg.shape == labels.shape
    embeds = m.embed_inputs(ids, seg, batch["enc_input_ids"], batch["enc_attention_mask"])
    assert embeds.shape[:2] == mask.shape  # attention mask length == embedding length
    eos = m.llm_tokenizer.eos_token_id
    for r, row in enumerate(rows):
        n = int(mask[r].sum())
        # left padding only: zeros then ones, never a pad inside the row
        assert mask[r, : mask.shape[1] - n].sum() == 0 and mask[r, mask.shape[1] - n :].all()
        assert (seg[r, mask.shape[1] - n :] != SEG_PAD).all()
        assert torch.equal(pos[r], (mask[r].cumsum(0) - 1).clamp(min=0))
        # encoder pads dropped: the row has exactly len(enc) encoder slots
        assert int((seg[r] == SEG_ENC).sum()) == len(row["enc"]) == int(batch["enc_attention_mask"][r].sum())
        # labels: -100 on pads and the whole prompt, the response + EOS labelled, EOS last
        t = len(row["target"])
        assert (labels[r, :-t] == IGNORE_INDEX).all()
        assert labels[r, -t:].tolist() == row["target"] and row["target"][-1] == eos
        assert ids[r, mask.shape[1] - n] == m.llm_tokenizer.bos_token_id  # BOS first
    if layout == "encoder_prompt":
        assert all(row["prefix"] == [m.llm_tokenizer.bos_token_id] for row in rows)
        assert all(row["suffix"] == [] for row in rows)


def test_paper_layout_order():
    m = tiny_lingualift()
    b = m.prompt_builder()
    row = b.tokenize({"instruction": "w1 w2", "input": "x3 x4", "output": "w5"})
    tok = m.llm_tokenizer
    assert row["prefix"] == [tok.bos_token_id] + tok("w1 w2", add_special_tokens=False)["input_ids"]
    assert row["enc"] == m.encoder_tokenizer("x3 x4")["input_ids"]  # encoder's own specials kept (T5: </s>)
    assert row["target"] == tok("w5", add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    seg = b.collate([row])["segment_ids"][0].tolist()
    assert seg == [1, 1, 1, 2, 3, 3, 3, 4, 1, 1]  # [BOS, instr, <enc_start>, A(Enc(x)), <enc_end>, response, EOS]


def test_mono_sft_prompt_has_input_as_llm_tokens():
    m = tiny_lingualift(encoder=None, llm_words=[f"w{i}" for i in range(50)] + [f"x{i}" for i in range(61)])
    b = m.prompt_builder()
    row = b.tokenize({"instruction": "w1", "input": "x3 x4", "output": "w5"})
    assert row["enc"] is None
    tok = m.llm_tokenizer
    assert row["prefix"] == [tok.bos_token_id] + tok("w1\nx3 x4", add_special_tokens=False)["input_ids"]
    batch = b.collate([row])
    assert "enc_input_ids" not in batch
    assert m(**batch).loss.isfinite()


def test_truncation_keeps_prompt():
    m = tiny_lingualift()
    b = m.prompt_builder(max_length=12)
    row = b.tokenize({"instruction": "w1", "input": "x1 x2", "output": " ".join(["w3"] * 20)})
    from lingualift_core.model import row_length

    assert row_length(row) == 12 and b.truncated_targets == 1


# ---------------------------------------------------------------- batch == batch size 1
@pytest.mark.parametrize("layout,encoder", [("paper", "t5"), ("encoder_prompt", "t5"), ("paper", "bert"), ("paper", None)])
def test_batched_forward_equals_single(layout, encoder):
    m = tiny_lingualift(layout=layout, encoder=encoder, llm_words=[f"w{i}" for i in range(101)] + [f"x{i}" for i in range(61)])
    m.eval()
    b = m.prompt_builder()
    rows = b.tokenize_many(make_records(5, seed=2))
    with torch.no_grad():
        full = m(**b.collate(rows), return_logits=True)
        bl = full.logits
        for r, row in enumerate(rows):
            one = b.collate([row])
            lo = m(**one, return_logits=True).logits[0]
            t = len(row["target"])
            # logits predicting the target tokens (positions -t-1 .. -2)
            torch.testing.assert_close(bl[r, -t - 1 : -1], lo[-t - 1 : -1], atol=1e-5, rtol=1e-4)
        # selective-lm_head loss equals the full-logits loss
        loss_sel = m(**b.collate(rows)).loss
        assert torch.allclose(loss_sel, full.loss, atol=1e-6)


@pytest.mark.parametrize("layout,encoder", [("paper", "t5"), ("encoder_prompt", "t5"), ("paper", None)])
def test_batched_generation_equals_single(layout, encoder):
    m = tiny_lingualift(layout=layout, encoder=encoder, llm_words=[f"w{i}" for i in range(101)] + [f"x{i}" for i in range(61)], seed=3)
    recs = make_records(7, seed=4, with_output=False)
    batched = m.generate(recs, batch_size=4, max_new_tokens=8)
    single = [m.generate([r], batch_size=1, max_new_tokens=8)[0] for r in recs]
    assert batched == single
    assert any(s for s in single)


def test_generation_token_ids_batched_equal_single():
    m = tiny_lingualift(seed=5)
    m.eval()
    b = m.prompt_builder()
    rows = b.tokenize_many(make_records(4, seed=6, with_output=False), with_target=False)
    ids = m.generate_ids(b.collate(rows, with_labels=False), max_new_tokens=6)
    for r, row in enumerate(rows):
        one = m.generate_ids(b.collate([row], with_labels=False), max_new_tokens=6)[0]
        n = min(len(one), ids.shape[1])
        assert ids[r, :n].tolist() == one[:n].tolist()


def test_training_logits_equal_generation_logits():
    """Same position_ids in training and generation: teacher-forced logits at the response positions equal the
    logits HF generate produced for those tokens."""
    m = tiny_lingualift(seed=7)
    m.eval()
    b = m.prompt_builder()
    recs = make_records(3, seed=8, with_output=False)
    rows = b.tokenize_many(recs, with_target=False)
    gen = m.generate_ids(
        b.collate(rows, with_labels=False), max_new_tokens=5, output_logits=True, return_dict_in_generate=True,
        eos_token_id=None,
    )
    seqs, gen_logits = gen.sequences, torch.stack(gen.logits, dim=1)  # [B, T, V]
    train_rows = []
    for r, rec in enumerate(recs):
        out_ids = seqs[r].tolist()
        row = b.tokenize(dict(rec, output_ids=out_ids))
        train_rows.append(row)
    batch = b.collate(train_rows)
    with torch.no_grad():
        logits = m(**batch, return_logits=True).logits
    T = seqs.shape[1]
    # the target is out_ids + EOS: logits at positions -T-2 .. -3 predict out_ids
    torch.testing.assert_close(logits[:, -T - 2 : -2], gen_logits, atol=1e-4, rtol=1e-4)


def test_stop_strings_cut_output():
    m = tiny_lingualift(seed=3)
    rec = make_records(1, seed=4, with_output=False)
    full = m.generate(rec, max_new_tokens=8, min_new_tokens=8)[0]
    words = full.split()
    assert len(words) >= 3
    stop = words[2]
    cut = m.generate(rec, max_new_tokens=8, min_new_tokens=8, stop_strings=[stop])[0]
    assert stop not in cut.split()
    assert cut.split() == words[: words.index(stop)]


# ---------------------------------------------------------------- save / load
@pytest.mark.parametrize("layout,alignment,encoder", [("paper", "mlp", "t5"), ("encoder_prompt", "linear", "bert"), ("paper", "mlp", None)])
def test_save_load_round_trip(tmp_path, layout, alignment, encoder):
    m = tiny_lingualift(
        layout=layout, alignment=alignment, encoder=encoder, seed=11,
        llm_words=[f"w{i}" for i in range(101)] + [f"x{i}" for i in range(61)],
        template=PromptTemplate(instruction_suffix=" :", response_prefix=" ?"),
    )
    m.eval()
    recs = make_records(4, seed=12)
    folder = m.save_pretrained(tmp_path / "model", run_meta={"seed": 11})
    assert (folder / ".complete").is_file() and (folder / "run_meta.json").is_file()
    assert not list(folder.rglob("*.bin")) and not list(folder.rglob("*.pt")) and not list(folder.rglob("*.pkl"))
    assert (folder / "llm" / "config.json").is_file()  # standard HF model folder
    m2 = LinguaLIFTModel.from_pretrained(folder)
    m2.eval()
    assert m2.config == m.config
    b1, b2 = m.prompt_builder(), m2.prompt_builder()
    batch1, batch2 = b1.collate(b1.tokenize_many(recs)), b2.collate(b2.tokenize_many(recs))
    for k in batch1:
        assert torch.equal(batch1[k], batch2[k])
    with torch.no_grad():
        assert torch.equal(m(**batch1, return_logits=True).logits, m2(**batch2, return_logits=True).logits)
    assert m.generate(recs, max_new_tokens=5) == m2.generate(recs, max_new_tokens=5)


def test_save_references_hub_ids_and_loads_local_override(tmp_path):
    m = tiny_lingualift(seed=13)
    m.llm.save_pretrained(tmp_path / "base_llm")
    m.llm_tokenizer.save_pretrained(tmp_path / "base_llm")
    m.encoder.save_pretrained(tmp_path / "base_enc")
    m.encoder_tokenizer.save_pretrained(tmp_path / "base_enc")
    m1 = LinguaLIFTModel.from_base(llm=str(tmp_path / "base_llm"), encoder=str(tmp_path / "base_enc"), seed=13)
    folder = m1.save_pretrained(tmp_path / "stage1", save_llm=False, save_encoder=False)
    assert not (folder / "llm").exists() and not (folder / "encoder").exists()
    m2 = LinguaLIFTModel.from_pretrained(folder)
    recs = make_records(3, seed=14)
    assert m1.generate(recs, max_new_tokens=4) == m2.generate(recs, max_new_tokens=4)
    # a referenced hub id that is not available offline -> one-line error naming it
    import json

    cfg = json.loads((folder / "lingualift_config.json").read_text())
    cfg["parts"]["llm"]["base_source"] = "some-org/missing-llm"
    (folder / "lingualift_config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelLoadError, match="some-org/missing-llm.*no hub access"):
        LinguaLIFTModel.from_pretrained(folder)
    m3 = LinguaLIFTModel.from_pretrained(folder, llm_source=str(tmp_path / "base_llm"))
    assert m3.generate(recs, max_new_tokens=4) == m1.generate(recs, max_new_tokens=4)


# ---------------------------------------------------------------- errors
def test_hidden_size_mismatch_errors(tmp_path):
    m = tiny_lingualift()
    with pytest.raises(ValueError, match="encoder hidden size 16.*has hidden size 24"):
        LinguaLIFTModel(m.llm, m.llm_tokenizer, m.encoder, m.encoder_tokenizer, LinguaLIFTConfig(d_enc=16))
    with pytest.raises(ValueError, match="LLM hidden size 64.*width 32"):
        LinguaLIFTModel(m.llm, m.llm_tokenizer, m.encoder, m.encoder_tokenizer, LinguaLIFTConfig(d_llm=64))
    # a saved alignment layer loaded against an encoder of another width
    folder = m.save_pretrained(tmp_path / "m", save_encoder=True)
    other = random_t5_encoder(len(m.encoder_tokenizer), d_model=16, num_layers=1)
    other.save_pretrained(tmp_path / "enc16")
    import json

    cfg = json.loads((folder / "lingualift_config.json").read_text())
    cfg["parts"]["encoder"] = {"in_folder": False, "base_source": str(tmp_path / "enc16")}
    (folder / "lingualift_config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="encoder hidden size 24.*hidden size 16"):
        LinguaLIFTModel.from_pretrained(folder)


def test_half_precision_checkpoints_load_as_float32(tmp_path):
    """Llama-2-7B is stored in float16; transformers 5 would keep that dtype, the training loop needs fp32."""
    from model_builders import random_llama, random_t5_encoder

    random_llama(40, dtype=torch.float16).save_pretrained(tmp_path / "llm16")
    random_t5_encoder(40, dtype=torch.bfloat16).save_pretrained(tmp_path / "enc16")
    assert load_llm(str(tmp_path / "llm16")).dtype == torch.float32
    assert load_encoder(str(tmp_path / "enc16")).dtype == torch.float32
    assert load_llm(str(tmp_path / "llm16"), dtype=torch.bfloat16).dtype == torch.bfloat16


def test_offline_load_error_names_id():
    with pytest.raises(ModelLoadError, match=r"LLM 'nobody/no-such-llm' .*no hub access.*local model folder"):
        load_llm("nobody/no-such-llm")
    with pytest.raises(ModelLoadError, match=r"encoder 'nobody/no-such-encoder'"):
        load_encoder("nobody/no-such-encoder", revision="abc123")
    with pytest.raises(ModelLoadError) as info:
        LinguaLIFTModel.from_base(llm="nobody/no-such-llm", encoder="nobody/no-such-encoder")
    assert "\n" not in str(info.value)


def test_bad_layout_and_tokenizer_pairing():
    m = tiny_lingualift()
    with pytest.raises(ValueError, match="unknown layout"):
        LinguaLIFTConfig(layout="interleaved")
    with pytest.raises(ValueError, match="both the encoder and its tokenizer"):
        LinguaLIFTModel(m.llm, m.llm_tokenizer, m.encoder, None)


def test_word_tokenizer_specials():
    tok = word_tokenizer(["a", "b"], append_eos=True)
    assert (tok.pad_token_id, tok.unk_token_id, tok.bos_token_id, tok.eos_token_id) == (0, 1, 2, 3)
    assert tok("a b z")["input_ids"] == [4, 5, 1, 3]
