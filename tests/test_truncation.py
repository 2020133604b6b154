"""Prompt truncation policy of ``PromptBuilder.tokenize``: keep the instruction and the encoder's special tokens,
cut the input's tail, count every cut (tiny word-level tokenizers, no model weights needed)."""

from __future__ import annotations

import pytest

from lingualift_core.model.batching import SEG_ENC, PromptBuilder, PromptTemplate, collate, row_length
from model_builders import toy_words, word_tokenizer

LLM_WORDS = toy_words(120)
ENC_WORDS = toy_words(150, prefix="x") + LLM_WORDS
INPUT = " ".join(f"x{i}" for i in range(20))
EOS = 3  # </s> in both word tokenizers


def bert_style_tokenizer():
    """A WordLevel tokenizer whose post-processor writes ``[CLS] text [SEP]`` (BERT / XLM-R style)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *ENC_WORDS])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    return PreTrainedTokenizerFast(tokenizer_object=tok, cls_token="[CLS]", sep_token="[SEP]", pad_token="[PAD]",
                                   unk_token="[UNK]")


def builder(encoder: str | None = "t5", **kwargs) -> PromptBuilder:
    enc_tok = {"t5": lambda: word_tokenizer(ENC_WORDS, append_eos=True), "bert": bert_style_tokenizer,
               None: lambda: None}[encoder]()
    return PromptBuilder(llm_tokenizer=word_tokenizer(LLM_WORDS), encoder_tokenizer=enc_tok, **kwargs)


def llm_ids(b: PromptBuilder, text: str) -> list[int]:
    return b.llm_tokenizer(text, add_special_tokens=False)["input_ids"]


def enc_content(b: PromptBuilder, text: str) -> list[int]:
    return b.encoder_tokenizer(text, add_special_tokens=False)["input_ids"]


def prompt_length(row) -> int:
    return row_length(row) - len(row["target"])


# ---------------------------------------------------------------- what is kept, what is cut


@pytest.mark.parametrize("max_length", [10, 12, 20])
def test_paper_layout_keeps_instruction_and_encoder_end_token(max_length) -> None:
    b = builder(max_length=max_length)
    row = b.tokenize({"instruction": "w1 w2 w3", "input": INPUT, "output": "w5 w6"})
    assert row["prefix"] == [b.bos_id] + llm_ids(b, "w1 w2 w3")  # the whole instruction
    assert row["enc"][-1] == EOS  # the encoder's end token survives
    keep = len(row["enc"]) - 1
    assert row["enc"][:-1] == enc_content(b, INPUT)[:keep] and keep >= 1  # the input's HEAD is kept
    assert prompt_length(row) == max_length - 1 and row_length(row) == max_length  # one response token left
    assert b.truncated_prompts == 1 and b.truncated_targets == 1 and b.truncated_rows == 1
    assert b.truncated_prompt_tokens == 20 - keep


def test_bert_style_encoder_keeps_start_and_end_tokens() -> None:
    b = builder("bert", max_length=12)
    row = b.tokenize({"instruction": "w1", "input": INPUT}, with_target=False)
    assert row["enc"][0] == 2 and row["enc"][-1] == 3  # [CLS] ... [SEP]
    assert row["enc"][1:-1] == enc_content(b, INPUT)[: len(row["enc"]) - 2]
    assert prompt_length(row) == 11 and b.truncated_prompts == 1 and b.truncated_targets == 0


def test_encoder_prompt_layout_keeps_the_instruction_tokens_in_the_encoder() -> None:
    b = builder(layout="encoder_prompt", max_length=12)
    row = b.tokenize({"instruction": "w1 w2 w3", "input": INPUT}, with_target=False)
    instruction = enc_content(b, "w1 w2 w3\n")
    assert row["prefix"] == [b.bos_id] and row["enc"][-1] == EOS
    assert row["enc"][: len(instruction)] == instruction
    assert row["enc"][len(instruction):-1] == enc_content(b, INPUT)[: len(row["enc"]) - 1 - len(instruction)]
    assert len(row["enc"]) - 1 > len(instruction)  # at least one input token
    assert prompt_length(row) == 11


def test_mono_sft_cuts_the_input_and_keeps_instruction_and_response_prefix() -> None:
    words = LLM_WORDS + [f"x{i}" for i in range(20)]
    b = PromptBuilder(llm_tokenizer=word_tokenizer(words), template=PromptTemplate(response_prefix="w9 :"),
                      max_length=12)
    row = b.tokenize({"instruction": "w1 w2", "input": INPUT, "output": "w5"})
    head, tail = [b.bos_id] + llm_ids(b, "w1 w2\n"), llm_ids(b, "w9 :")
    assert row["prefix"][: len(head)] == head and row["prefix"][-len(tail):] == tail
    body = row["prefix"][len(head):-len(tail)]
    assert body == llm_ids(b, INPUT)[: len(body)] and len(body) >= 1
    assert row["enc"] is None and prompt_length(row) == 11
    assert b.truncated_prompt_tokens == 20 - len(body) and b.truncated_rows == 1


@pytest.mark.parametrize("encoder,layout", [("t5", "paper"), ("bert", "paper"), ("t5", "encoder_prompt"),
                                            (None, "paper")])
def test_too_short_max_length_names_the_setting(encoder, layout) -> None:
    """When not even the instruction, the template and one input token fit: an error, not a silent cut."""
    b = builder(encoder, layout=layout, max_length=6)
    with pytest.raises(ValueError, match=r"max_length=6 is too short.*train\.max_length.*generation\.max_length"):
        b.tokenize({"instruction": "w1 w2 w3 w4 w5 w6", "input": INPUT, "output": "w5"})


def test_smallest_prompt_that_fits_keeps_one_input_token() -> None:
    # BOS + 3 instruction tokens + <enc_start> + 1 input token + </s> + <enc_end> = 8, plus one response position
    b = builder(max_length=9)
    row = b.tokenize({"instruction": "w1 w2 w3", "input": INPUT}, with_target=False)
    assert row["enc"] == enc_content(b, INPUT)[:1] + [EOS]
    with pytest.raises(ValueError, match="max_length=8 is too short.*need 8 LLM positions, plus one"):
        builder(max_length=8).tokenize({"instruction": "w1 w2 w3", "input": INPUT}, with_target=False)


def test_encoder_limit_cuts_the_tail_like_the_tokenizer_and_is_counted() -> None:
    b = builder(max_encoder_tokens=5)
    row = b.tokenize({"instruction": "w1", "input": INPUT, "output": "w5"})
    assert row["enc"] == b.encoder_tokenizer(INPUT, truncation=True, max_length=5)["input_ids"]
    assert row["enc"] == enc_content(b, INPUT)[:4] + [EOS]
    assert b.truncated_encoder_inputs == 1 and b.truncated_prompts == 0 and b.truncated_rows == 1
    bert = builder("bert", max_encoder_tokens=5)
    assert bert.tokenize({"input": INPUT}, with_target=False)["enc"] == [2] + enc_content(bert, INPUT)[:3] + [3]


def test_rows_that_fit_are_unchanged_and_not_counted() -> None:
    b = builder(max_length=64)
    row = b.tokenize({"instruction": "w1 w2", "input": "x3 x4", "output": "w5"})
    assert row == {"prefix": [b.bos_id] + llm_ids(b, "w1 w2"), "enc": b.encoder_tokenizer("x3 x4")["input_ids"],
                   "suffix": [], "target": llm_ids(b, "w5") + [EOS]}
    assert b.truncation_counts() == dict.fromkeys(
        ["truncated_rows", "truncated_prompts", "truncated_encoder_inputs", "truncated_targets",
         "truncated_prompt_tokens"], 0)


# ---------------------------------------------------------------- counting, callers


def test_counters_add_up_over_rows_and_count_each_row_once() -> None:
    b = builder(max_length=12)
    records = [
        {"instruction": "w1", "input": "x1 x2", "output": "w3"},            # fits
        {"instruction": "w1", "input": INPUT, "output": "w3 w4"},           # prompt and response cut
        {"instruction": "w1", "input": "x1 x2", "output": " ".join(["w3"] * 20)},  # response cut
        {"instruction": "w1", "input": INPUT},                                 # prompt cut (no target)
    ]
    rows = b.tokenize_many(records[:3]) + [b.tokenize(records[3], with_target=False)]
    assert all(row_length(r) <= 12 for r in rows)
    over = (1 + 1 + 1 + 20 + 1 + 1) - 11  # BOS, w1, <enc_start>, 20 inputs, </s>, <enc_end>; room for 11
    assert b.truncation_counts() == {"truncated_rows": 3, "truncated_prompts": 2, "truncated_encoder_inputs": 0,
                                     "truncated_targets": 2, "truncated_prompt_tokens": 2 * over}


def test_truncated_rows_collate_like_any_row() -> None:
    b = builder(max_length=12)
    rows = b.tokenize_many([{"instruction": "w1", "input": INPUT, "output": "w3 w4"},
                            {"instruction": "w1 w2", "input": "x1", "output": "w3"}])
    batch = collate(rows, llm_pad_id=b.llm_pad_id, enc_pad_id=b.enc_pad_id)
    assert batch["input_ids"].shape == (2, 12)
    for r, row in enumerate(rows):
        assert int((batch["segment_ids"][r] == SEG_ENC).sum()) == len(row["enc"])
    assert b._enc_ids(INPUT) == enc_content(b, INPUT) + [EOS]  # the warm start's caller: no limit hit, not counted
    assert b.truncated_encoder_inputs == 0
