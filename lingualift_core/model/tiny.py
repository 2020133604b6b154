"""Tiny base models for the embedded default: tokenizers, a multilingual encoder and an English decoder LLM.

In the embedded (synthetic-world) default no weights can be downloaded, so the `base_models` stage trains
its own tokenizers and pre-trains two small models from these configs (see `lingualift_core.train.pretrain`):

* the multilingual ENCODER is a BERT (`BertConfig`, masked LM). BERT is the fastest of the Hugging Face
  encoder families to train on a CPU at this size (plain matmuls, SDPA attention, no relative-position
  buckets as in T5), and `AutoModel.from_pretrained(folder)` returns a `BertModel` whose
  `last_hidden_state` (post-LayerNorm, unit scale) is what LinguaLIFT feeds to the alignment layer.
  Save the BASE encoder with `base_encoder(mlm_model).save_pretrained(folder)` so that loading with
  `AutoModel` neither drops an MLM head nor initialises a pooler at random.
* the English LLM is a Llama (`LlamaConfig`, causal LM) with TIED input/output embeddings by default:
  at this size the output matrix would otherwise be a large share of the parameters, and tying means a
  frozen LLM (stage 1) freezes `lm_head` together with the embeddings by construction.

Tokenizers (`train_tokenizer`) are BPE models from the `tokenizers` library with SentencePiece-style
`Metaspace` whitespace handling (exact decode round trip), punctuation isolated and every digit its own
token (numbers are compositional, which matters for the math tasks).

Special tokens (ids are fixed, configs built here default to them):
  encoder: [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4; `tok("x")` -> `[CLS] x [SEP]`; right padding.
  llm:     <pad>=0 <s>=1 </s>=2 <unk>=3 <sep>=4; `tok("x")` -> `<s> x` (Llama style, no EOS appended);
           left padding (batched generation). `<sep>` is the copy separator the LLM is pre-trained with
           (`sentence <sep> sentence </s>`, see `pretrain.build_copy_sequences`); it is a natural
           initialisation for the stage-1 `<enc_end>` boundary vector.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable
from typing import Literal

import torch
from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import BertConfig, BertModel, LlamaConfig, PreTrainedModel, PreTrainedTokenizerFast

__all__ = [
    "ENCODER_SPECIAL_TOKENS",
    "LLM_SPECIAL_TOKENS",
    "LLM_SEP_TOKEN",
    "train_tokenizer",
    "train_word_tokenizer",
    "tiny_encoder_config",
    "tiny_llm_config",
    "base_encoder",
    "check_tokenizer_config",
    "add_number_features",
    "number_token_values",
]

TokenizerKind = Literal["encoder", "llm"]

ENCODER_SPECIAL_TOKENS: tuple[str, ...] = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
LLM_SEP_TOKEN = "<sep>"
LLM_SPECIAL_TOKENS: tuple[str, ...] = ("<pad>", "<s>", "</s>", "<unk>", LLM_SEP_TOKEN)
_DIGITS = tuple("0123456789")
_METASPACE = "\u2581"  # "▁"


def _collect_texts(texts: Iterable[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("texts must be an iterable of strings, not a single string")
    out = []
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"texts[{i}] is {type(t).__name__}, expected str")
        if t.strip():
            out.append(t)
    if not out:
        raise ValueError("train_tokenizer: no non-empty text to train on")
    return out


def _alphabet(texts: list[str]) -> set[str]:
    chars: set[str] = set()
    for t in texts:
        chars.update(unicodedata.normalize("NFC", t))
    return {c for c in chars if not c.isspace() or c == "\n"}


def train_tokenizer(
    texts: Iterable[str],
    *,
    vocab_size: int,
    kind: TokenizerKind,
    min_frequency: int = 2,
    model_max_length: int = 512,
    show_progress: bool = False,
) -> PreTrainedTokenizerFast:
    """Train a BPE tokenizer for the tiny encoder (`kind="encoder"`) or the tiny LLM (`kind="llm"`).

    Pipeline: NFC normalisation; pre-tokenisation = Metaspace (spaces become "▁" attached to the next
    word; exact decoding), newline isolated, each digit isolated, punctuation isolated; BPE with an
    `<unk>`/`[UNK]` for characters never seen in training. The ten digits and "\\n" are always in the
    alphabet. Returns a `PreTrainedTokenizerFast` (save with `save_pretrained`, load with
    `AutoTokenizer.from_pretrained`). See the module docstring for special tokens and padding sides.

    Raises ValueError for empty input, an unknown kind, or a `vocab_size` too small to hold the special
    tokens plus every distinct character of the texts (BPE needs all of them as base symbols).
    """
    if kind not in ("encoder", "llm"):
        raise ValueError(f"kind must be 'encoder' or 'llm', got {kind!r}")
    data = _collect_texts(texts)
    specials = ENCODER_SPECIAL_TOKENS if kind == "encoder" else LLM_SPECIAL_TOKENS
    alphabet = _alphabet(data) | set(_DIGITS) | {"\n", _METASPACE}
    needed = len(specials) + len(alphabet)
    if vocab_size < needed:
        raise ValueError(
            f"vocab_size={vocab_size} is too small: {len(specials)} special tokens + {len(alphabet)} distinct "
            f"characters in the texts need at least {needed} (choose a few times that for useful merges)"
        )

    unk = "[UNK]" if kind == "encoder" else "<unk>"
    tok = Tokenizer(models.BPE(unk_token=unk))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=_METASPACE, prepend_scheme="always", split=True),
            pre_tokenizers.Split("\n", behavior="isolated"),
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.Punctuation(behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=_METASPACE, prepend_scheme="always", split=True)
    added = [AddedToken(s, special=True, normalized=False) for s in specials]
    if kind == "llm":
        # <sep> swallows the spaces around it so "a <sep> a" tokenises "a" identically on both sides.
        added[-1] = AddedToken(LLM_SEP_TOKEN, special=True, normalized=False, lstrip=True, rstrip=True)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=added,
        initial_alphabet=sorted(set(_DIGITS) | {"\n", _METASPACE}),
        show_progress=show_progress,
    )
    tok.train_from_iterator(data, trainer=trainer, length=len(data))
    for i, s in enumerate(specials):  # fixed ids are part of the contract with the config builders
        if tok.token_to_id(s) != i:
            raise RuntimeError(f"special token {s} got id {tok.token_to_id(s)}, expected {i}")

    return _wrap(tok, kind, model_max_length)


def _wrap(tok: Tokenizer, kind: TokenizerKind, model_max_length: int) -> PreTrainedTokenizerFast:
    """Post-processor (`[CLS] x [SEP]` / `<s> x`) and the transformers wrapper with the fixed special tokens."""
    if kind == "encoder":
        cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]",
            pair="[CLS] $A [SEP] $B:1 [SEP]:1",
            special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
        )
        return PreTrainedTokenizerFast(
            tokenizer_object=tok,
            pad_token="[PAD]",
            unk_token="[UNK]",
            cls_token="[CLS]",
            sep_token="[SEP]",
            mask_token="[MASK]",
            padding_side="right",
            truncation_side="right",
            model_max_length=model_max_length,
            clean_up_tokenization_spaces=False,  # exact round trip (" ." stays)
        )
    bos_id = tok.token_to_id("<s>")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s>:1 $B:1", special_tokens=[("<s>", bos_id)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        extra_special_tokens=[LLM_SEP_TOKEN],
        padding_side="left",
        truncation_side="right",
        model_max_length=model_max_length,
        clean_up_tokenization_spaces=False,  # exact round trip (" ." stays)
    )


def train_word_tokenizer(
    texts: Iterable[str],
    *,
    kind: TokenizerKind,
    max_number: int = 100,
    model_max_length: int = 512,
) -> PreTrainedTokenizerFast:
    """A word-level tokenizer for a closed synthetic vocabulary: every whitespace-separated word of `texts`
    (punctuation split off) is one token, and so is every number 0..`max_number` (whole-number tokens: a tiny
    model then learns `17 + 11 = 28` as one fact over three tokens, not over digit strings).

    Special tokens, ids, post-processing and padding sides are those of :func:`train_tokenizer`; words never seen
    map to the unknown token. Decoding joins tokens with one space, so text written with every token separated by
    one space (the compact world, ``toyworld.mini``) round-trips exactly.
    """
    if kind not in ("encoder", "llm"):
        raise ValueError(f"kind must be 'encoder' or 'llm', got {kind!r}")
    if max_number < 0:
        raise ValueError(f"max_number must be >= 0, got {max_number}")
    data = _collect_texts(texts)
    specials = ENCODER_SPECIAL_TOKENS if kind == "encoder" else LLM_SPECIAL_TOKENS
    unk = "[UNK]" if kind == "encoder" else "<unk>"
    tok = Tokenizer(models.WordLevel({}, unk_token=unk))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation(behavior="isolated")]
    )
    added = [AddedToken(s, special=True, normalized=False) for s in specials]
    if kind == "llm":
        added[-1] = AddedToken(LLM_SEP_TOKEN, special=True, normalized=False, lstrip=True, rstrip=True)
    numbers = " ".join(str(i) for i in range(max_number + 1))
    trainer = trainers.WordLevelTrainer(vocab_size=10_000_000, min_frequency=1, special_tokens=added,
                                        show_progress=False)
    tok.train_from_iterator([numbers, *data], trainer=trainer, length=len(data) + 1)
    for i, s in enumerate(specials):
        if tok.token_to_id(s) != i:
            raise RuntimeError(f"special token {s} got id {tok.token_to_id(s)}, expected {i}")
    return _wrap(tok, kind, model_max_length)


def tiny_encoder_config(
    vocab_size: int,
    *,
    hidden: int = 128,
    layers: int = 4,
    heads: int = 4,
    intermediate: int | None = None,
    max_positions: int = 128,
    dropout: float = 0.0,
    pad_token_id: int = 0,
) -> BertConfig:
    """A tiny BERT config for masked-LM pre-training of the multilingual encoder.

    `intermediate` defaults to 4 * hidden. Dropout defaults to 0: the tiny model is trained for a few
    thousand steps and underfits, so dropout only slows it down (the encoder is frozen afterwards).
    `type_vocab_size=1`: no segment embeddings are used. `pad_token_id` matches `train_tokenizer`.
    """
    _check_sizes(vocab_size, hidden, layers, heads, max_positions)
    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=intermediate or 4 * hidden,
        hidden_act="gelu",
        hidden_dropout_prob=dropout,
        attention_probs_dropout_prob=dropout,
        max_position_embeddings=max_positions,
        type_vocab_size=1,
        initializer_range=0.02,
        layer_norm_eps=1e-12,
        pad_token_id=pad_token_id,
        architectures=["BertModel"],
    )


def tiny_llm_config(
    vocab_size: int,
    *,
    hidden: int = 128,
    layers: int = 2,
    heads: int = 4,
    kv_heads: int | None = None,
    intermediate: int | None = None,
    max_positions: int = 512,
    tie_embeddings: bool = True,
    rope_theta: float = 10000.0,
    pad_token_id: int = 0,
    bos_token_id: int = 1,
    eos_token_id: int = 2,
) -> LlamaConfig:
    """A tiny Llama config for the English decoder LLM (causal LM).

    Embeddings are tied by default (see module docstring). `intermediate` defaults to
    round(8/3 * hidden) rounded up to a multiple of 32 (the usual SwiGLU sizing). Token ids default to
    the fixed ids of `train_tokenizer(kind="llm")`.
    """
    _check_sizes(vocab_size, hidden, layers, heads, max_positions)
    kv = kv_heads or heads
    if heads % kv:
        raise ValueError(f"heads={heads} must be a multiple of kv_heads={kv}")
    if intermediate is None:
        intermediate = -(-int(round(8 * hidden / 3)) // 32) * 32
    return LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        intermediate_size=intermediate,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv,
        hidden_act="silu",
        max_position_embeddings=max_positions,
        initializer_range=0.02,
        rms_norm_eps=1e-6,
        tie_word_embeddings=tie_embeddings,
        rope_parameters={"rope_type": "default", "rope_theta": float(rope_theta)},
        attention_bias=False,
        mlp_bias=False,
        pad_token_id=pad_token_id,
        bos_token_id=bos_token_id,
        eos_token_id=eos_token_id,
        architectures=["LlamaForCausalLM"],
    )


# periods (in units of 1) of the number features: short ones tell last digits and parity, long ones magnitude
NUMBER_PERIODS: tuple[int, ...] = (2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 25, 30, 40, 60, 100, 200, 400)


def number_token_values(tokenizer: PreTrainedTokenizerFast) -> dict[int, int]:
    """{token id: value} for every vocabulary token that is a whole number written in ASCII digits (a leading
    Metaspace `▁` allowed); special tokens excluded."""
    special = set(tokenizer.all_special_ids)
    out = {}
    for token, idx in tokenizer.get_vocab().items():
        text = token.lstrip(_METASPACE)
        if idx not in special and text.isascii() and text.isdigit():
            out[idx] = int(text)
    return out


def add_number_features(model: PreTrainedModel, tokenizer: PreTrainedTokenizerFast, scale: float) -> int:
    """Adds Fourier features of each number token's value to its input embedding row, in place; returns how many
    rows changed.

    Row e of the token for n becomes e + scale * |e| * f(n) / |f(n)|, with f(n) = [cos(2 pi n / p), sin(2 pi n / p)
    for p in NUMBER_PERIODS], cut or zero-padded to the hidden size. Why: whole-number tokens start as unrelated
    random vectors, and a 0.8M-parameter LLM then memorises each `a + b = c` fact on its own; with numbers that
    start on a shared circle per period, arithmetic becomes a rotation it can learn. Measured on the embedded
    world (one process, 2,000 steps): held-out arithmetic facts 0.96 right at scale 3 against 0.66-0.78 without
    (0.75 at scale 1); English dev accuracy before fine-tuning 0.87 against 0.75-0.81. A real LLM arrives with
    such structure; this gives the tiny one a little of it. With tied embeddings the output side gets it too.
    """
    if scale < 0:
        raise ValueError(f"number features: scale must be >= 0, got {scale}")
    values = number_token_values(tokenizer)
    if scale == 0 or not values:
        return 0
    weight = model.get_input_embeddings().weight
    hidden = weight.shape[1]
    with torch.no_grad():
        for idx, n in values.items():
            feats = torch.tensor([f(2 * math.pi * n / p) for p in NUMBER_PERIODS for f in (math.cos, math.sin)],
                                 dtype=weight.dtype)[:hidden]
            vec = torch.zeros(hidden, dtype=weight.dtype)
            vec[: feats.numel()] = feats
            weight[idx] += vec / vec.norm() * weight[idx].norm() * scale
    return len(values)


def _check_sizes(vocab_size: int, hidden: int, layers: int, heads: int, max_positions: int) -> None:
    for name, v in (("vocab_size", vocab_size), ("hidden", hidden), ("layers", layers), ("heads", heads),
                    ("max_positions", max_positions)):
        if not isinstance(v, int) or v <= 0:
            raise ValueError(f"{name} must be a positive int, got {v!r}")
    if hidden % heads:
        raise ValueError(f"hidden={hidden} must be divisible by heads={heads}")


def base_encoder(mlm_model: PreTrainedModel, *, seed: int = 0) -> BertModel:
    """The base `BertModel` of a `BertForMaskedLM`, ready for `save_pretrained`.

    The returned model shares the encoder weights of `mlm_model` and carries a pooler (initialised
    deterministically from `seed`; LinguaLIFT never uses it), so `AutoModel.from_pretrained(folder)` loads
    every weight without warnings about missing or unused parameters. Its config's `architectures` is
    `["BertModel"]`.
    """
    inner = getattr(mlm_model, "bert", None)
    if inner is None:
        if isinstance(mlm_model, BertModel):
            return mlm_model
        raise TypeError(f"expected a BertForMaskedLM (or BertModel), got {type(mlm_model).__name__}")
    config = inner.config.__class__.from_dict(inner.config.to_dict())
    config.architectures = ["BertModel"]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        base = BertModel(config, add_pooling_layer=True)
    missing, unexpected = base.load_state_dict(inner.state_dict(), strict=False)
    if unexpected or any(not k.startswith("pooler.") for k in missing):
        raise RuntimeError(f"encoder weights do not match: missing={missing}, unexpected={unexpected}")
    # share, do not copy: later changes to the MLM model are visible in the base model and vice versa
    base.embeddings = inner.embeddings
    base.encoder = inner.encoder
    return base.eval()


def check_tokenizer_config(tokenizer: PreTrainedTokenizerFast, config) -> None:
    """Raise ValueError when a tokenizer and a model config disagree on vocabulary or special ids."""
    n = len(tokenizer)
    if config.vocab_size < n:
        raise ValueError(f"config.vocab_size={config.vocab_size} is smaller than the tokenizer ({n} tokens)")
    if tokenizer.pad_token_id is not None and config.pad_token_id is not None:
        if tokenizer.pad_token_id != config.pad_token_id:
            raise ValueError(f"pad id mismatch: tokenizer {tokenizer.pad_token_id}, config {config.pad_token_id}")
    for attr in ("bos_token_id", "eos_token_id"):
        t, c = getattr(tokenizer, attr, None), getattr(config, attr, None)
        if t is not None and c is not None and t != c:
            raise ValueError(f"{attr} mismatch: tokenizer {t}, config {c}")
