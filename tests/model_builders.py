"""Random-weight models built from config and word-level tokenizers, for tests and benchmarks (test scaffolding:
kept out of the library).

(The pipeline's pre-trained tiny base models live in ``lingualift_core.model.tiny``.) Nothing here downloads.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import torch

SPECIALS = ("<pad>", "<unk>", "<s>", "</s>")


def word_tokenizer(
    words: Iterable[str],
    *,
    append_eos: bool = False,
    model_max_length: int = 4096,
):
    """A WordLevel tokenizer (whitespace + punctuation split) over ``words``, wrapped in a fast tokenizer with
    ``<pad>``=0, ``<unk>``=1, ``<s>``=2 (bos), ``</s>``=3 (eos). ``append_eos`` adds ``</s>`` after every text
    when special tokens are requested (T5-style encoders)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab: dict[str, int] = {t: i for i, t in enumerate(SPECIALS)}
    for w in words:
        if w not in vocab:
            vocab[w] = len(vocab)
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()])
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=False)  # joins with spaces
    if append_eos:
        tok.post_processor = processors.TemplateProcessing(
            single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", vocab["</s>"])]
        )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        model_max_length=model_max_length,
    )


def random_llama(
    vocab_size: int,
    *,
    hidden_size: int = 32,
    num_layers: int = 2,
    num_heads: int = 4,
    num_kv_heads: int = 2,
    intermediate_size: int | None = None,
    max_position_embeddings: int = 4096,
    tie_word_embeddings: bool = False,
    bos_token_id: int = 2,
    eos_token_id: int = 3,
    pad_token_id: int = 0,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
):
    """A randomly initialised ``LlamaForCausalLM`` (sdpa attention)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=hidden_size,
        intermediate_size=intermediate_size or 4 * hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_kv_heads,
        max_position_embeddings=max_position_embeddings,
        tie_word_embeddings=tie_word_embeddings,
        bos_token_id=bos_token_id,
        eos_token_id=eos_token_id,
        pad_token_id=pad_token_id,
        attn_implementation="sdpa",
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(cfg)
    return model.to(dtype)


def random_t5_encoder(
    vocab_size: int,
    *,
    d_model: int = 24,
    num_layers: int = 2,
    num_heads: int = 2,
    d_kv: int | None = None,
    d_ff: int | None = None,
    feed_forward_proj: str = "gated-gelu",
    pad_token_id: int = 0,
    eos_token_id: int = 3,
    seed: int = 0,
    mt5: bool = True,
    dtype: torch.dtype = torch.float32,
):
    """A randomly initialised ``MT5EncoderModel`` (or ``T5EncoderModel`` with ``mt5=False``)."""
    from transformers import MT5Config, MT5EncoderModel, T5Config, T5EncoderModel

    cfg_cls, model_cls = (MT5Config, MT5EncoderModel) if mt5 else (T5Config, T5EncoderModel)
    cfg = cfg_cls(
        vocab_size=vocab_size,
        d_model=d_model,
        d_kv=d_kv or d_model // num_heads,
        d_ff=d_ff or 2 * d_model,
        num_layers=num_layers,
        num_heads=num_heads,
        feed_forward_proj=feed_forward_proj,
        pad_token_id=pad_token_id,
        eos_token_id=eos_token_id,
        decoder_start_token_id=pad_token_id,
        is_encoder_decoder=True,
        tie_word_embeddings=False,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = model_cls(cfg)
    return model.to(dtype)


def random_bert_encoder(
    vocab_size: int,
    *,
    hidden_size: int = 24,
    num_layers: int = 2,
    num_heads: int = 2,
    pad_token_id: int = 0,
    max_position_embeddings: int = 512,
    seed: int = 0,
):
    """A randomly initialised ``BertModel`` without pooler."""
    from transformers import BertConfig, BertModel

    cfg = BertConfig(
        vocab_size=vocab_size,
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        intermediate_size=4 * hidden_size,
        pad_token_id=pad_token_id,
        max_position_embeddings=max_position_embeddings,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = BertModel(cfg, add_pooling_layer=False)
    return model


def toy_words(n: int = 200, prefix: str = "w") -> list[str]:
    """``n`` synthetic words ``w0 .. w{n-1}`` (plus a few punctuation marks)."""
    return [f"{prefix}{i}" for i in range(n)] + [".", ",", "?", ":", "\n"]


def tiny_lingualift(
    *,
    layout: str = "paper",
    alignment: str = "mlp",
    encoder: str | None = "t5",
    llm_words: Sequence[str] | None = None,
    enc_words: Sequence[str] | None = None,
    llm_hidden: int = 32,
    enc_hidden: int = 24,
    llm_layers: int = 2,
    enc_layers: int = 2,
    seed: int = 0,
    template=None,
):
    """A tiny random LinguaLIFT model (``encoder``: "t5", "bert" or None for mono-SFT) with word tokenizers."""
    from lingualift_core.model.lingualift import LinguaLIFTConfig, LinguaLIFTModel
    from lingualift_core.model.template import PromptTemplate

    llm_words = list(llm_words) if llm_words is not None else toy_words(120)
    llm_tok = word_tokenizer(llm_words)
    llm = random_llama(len(llm_tok), hidden_size=llm_hidden, num_layers=llm_layers, seed=seed)
    enc = enc_tok = None
    if encoder is not None:
        enc_words = list(enc_words) if enc_words is not None else toy_words(150, prefix="x") + llm_words
        if encoder == "t5":
            enc_tok = word_tokenizer(enc_words, append_eos=True)
            enc = random_t5_encoder(len(enc_tok), d_model=enc_hidden, num_layers=enc_layers, seed=seed + 1)
        elif encoder == "bert":
            enc_tok = word_tokenizer(enc_words, append_eos=True)
            enc = random_bert_encoder(len(enc_tok), hidden_size=enc_hidden, num_layers=enc_layers, seed=seed + 1)
        else:
            raise ValueError(f"unknown tiny encoder kind {encoder!r}")
    cfg = LinguaLIFTConfig(layout=layout, alignment=alignment, template=template or PromptTemplate(), seed=seed)
    return LinguaLIFTModel(llm, llm_tok, enc, enc_tok, cfg)
