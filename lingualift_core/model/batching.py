"""Prompt layout, record tokenization and batch collation for LinguaLIFT (and the mono-SFT baseline).

Record format (one training / evaluation example)::

    {"instruction": str, "input": str, "output": str}     # "output" (English) is absent / ignored for generation

``output_ids`` (a list of LLM token ids, no EOS) may replace ``output``.

Layouts (``LinguaLIFTConfig.layout``):

- ``paper`` (default):  ``[BOS, Emb(system + instruction + instruction_suffix), <enc_start>, A(Enc(input)),
  <enc_end>, Emb(response_prefix), response, EOS]``
- ``encoder_prompt`` (the authors' release, LangBridge-style): the whole prompt through the encoder;
  ``[BOS, <enc_start>, A(Enc(system + instruction + input_separator + input)), <enc_end>, Emb(response_prefix),
  response, EOS]``
- no encoder (mono-SFT): ``[BOS, Emb(system + instruction + input_separator + input + response_prefix), response,
  EOS]``

With the default template (all joiners empty except ``input_separator``) the paper layout is exactly
``[BOS, Emb(instruction), <enc_start>, A(Enc(x)), <enc_end>, response]``.

Truncation (``PromptBuilder.tokenize``), so that prompt + at least one response token fit ``max_length``:

- the encoder input is first cut to ``max_encoder_tokens`` (its tail; the encoder's own special tokens -- T5's
  ``</s>``, BERT's ``[CLS]`` / ``[SEP]`` -- are kept);
- a prompt still longer than ``max_length - 1`` LLM positions loses the TAIL of its input, cut before the
  encoder's end token: the instruction, the template text, the encoder's start / end tokens and at least the
  input's first token are always kept (``encoder_prompt`` layout: the encoder tokens of system + instruction
  are kept too; no encoder: the LLM tokens of the input are cut, the instruction and the response prefix kept);
  when even that does not fit, ``ValueError`` names ``max_length``;
- then the response is cut to what is left (its EOS too when cut).

Nothing is cut silently: the builder counts rows (``truncated_prompts``, ``truncated_encoder_inputs``,
``truncated_targets``, ``truncated_rows`` = distinct rows with any cut) and the prompt tokens cut
(``truncated_prompt_tokens``); :meth:`PromptBuilder.truncation_counts` returns them all.

Batching: each row is built unpadded, then the whole combined sequence is LEFT-padded; the encoder's own padded
positions are dropped when building a row (so no pad sits inside a row); ``attention_mask`` has exactly the
embedding length; ``position_ids = clamp(cumsum(mask) - 1, min=0)`` (the same formula Hugging Face generation uses
for left-padded inputs); ``labels`` are -100 on the prompt and on padding, and EOS is a target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence, TypedDict

import torch

from lingualift_core.model.template import PromptTemplate

# segment ids of the combined sequence
SEG_PAD, SEG_TOKEN, SEG_ENC_START, SEG_ENC, SEG_ENC_END = 0, 1, 2, 3, 4
LAYOUTS = ("paper", "encoder_prompt")
IGNORE_INDEX = -100


class TokenizedRecord(TypedDict):
    prefix: list[int]  # LLM ids before the encoder segment (BOS first)
    enc: list[int] | None  # encoder ids (None: no encoder segment)
    suffix: list[int]  # LLM ids after <enc_end>, still prompt
    target: list[int]  # response ids + EOS (empty for generation)


def _join(*parts: str, sep: str) -> str:
    return sep.join(p for p in parts if p)


@dataclass
class PromptBuilder:
    """Turns records into :class:`TokenizedRecord` rows for one model (its tokenizers, layout and template)."""

    llm_tokenizer: Any
    encoder_tokenizer: Any | None = None
    layout: str = "paper"
    template: PromptTemplate = field(default_factory=PromptTemplate)
    max_length: int = 2048
    max_encoder_tokens: int = 512
    # truncation counters (see the module doc); they add up over every tokenize() call of this builder
    truncated_targets: int = 0  # rows whose response (or its EOS) was cut
    truncated_prompts: int = 0  # rows whose prompt was cut to fit max_length
    truncated_encoder_inputs: int = 0  # rows whose encoder input was cut to max_encoder_tokens
    truncated_prompt_tokens: int = 0  # input tokens cut to fit max_length, over all rows
    truncated_rows: int = 0  # distinct rows with any of the cuts above

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise ValueError(f"unknown layout {self.layout!r}; expected one of {LAYOUTS}")
        if self.max_length < 4:
            raise ValueError(f"max_length must be at least 4, got {self.max_length}")
        tok = self.llm_tokenizer
        self.bos_id = tok.bos_token_id
        self.eos_id = tok.eos_token_id
        if self.eos_id is None:
            raise ValueError("the LLM tokenizer has no eos token; EOS is a training target and must exist")
        pad = tok.pad_token_id
        self.llm_pad_id = pad if pad is not None else self.eos_id
        if self.encoder_tokenizer is not None:
            epad = self.encoder_tokenizer.pad_token_id
            self.enc_pad_id = epad if epad is not None else 0

    @property
    def has_encoder(self) -> bool:
        return self.encoder_tokenizer is not None

    def _llm_ids(self, text: str) -> list[int]:
        if not text:
            return []
        return list(self.llm_tokenizer(text, add_special_tokens=False)["input_ids"])

    def _enc_parts(self, text: str) -> tuple[list[int], list[int], list[int], bool]:
        """``(leading special ids, content ids, trailing special ids, cut)`` of ``text`` for the encoder; the
        content is cut at its tail to fit ``max_encoder_tokens`` with the special tokens (``cut``)."""
        enc = self.encoder_tokenizer(text, add_special_tokens=True, return_special_tokens_mask=True)
        ids, special = list(enc["input_ids"]), list(enc["special_tokens_mask"])
        lead = 0
        while lead < len(ids) and special[lead]:
            lead += 1
        trail = 0
        while trail < len(ids) - lead and special[len(ids) - 1 - trail]:
            trail += 1
        head, content, tail = ids[:lead], ids[lead:len(ids) - trail], ids[len(ids) - trail:]
        room = self.max_encoder_tokens - len(head) - len(tail)
        if len(content) <= room:
            return head, content, tail, False
        if room < 1:
            raise ValueError(
                f"max_encoder_tokens={self.max_encoder_tokens} leaves no room for the encoder input next to its "
                f"{len(head) + len(tail)} special tokens; raise stage1.max_encoder_tokens"
            )
        return head, content[:room], tail, True

    def _enc_ids(self, text: str) -> list[int]:
        """Encoder ids of ``text`` with its special tokens, cut to ``max_encoder_tokens`` (not counted: for
        callers outside :meth:`tokenize`)."""
        lead, content, trail, _ = self._enc_parts(text)
        return lead + content + trail

    def _no_room(self, needed: int) -> ValueError:
        return ValueError(
            f"max_length={self.max_length} is too short for this prompt: its instruction and template, the "
            f"encoder's boundary and special tokens and one input token need {needed} LLM positions, plus one for "
            "the response; raise max_length (<stage>.train.max_length when training, "
            "evaluate.generation.max_length when generating) or shorten the instruction"
        )

    def _fit_llm_input(self, instruction: str, inp: str, bos: list[int], budget: int) -> tuple[list[int], int]:
        """No encoder: the prompt ``bos + system + instruction + separator + input + response_prefix`` with the
        input's LLM tokens cut at their tail to fit ``budget``; returns (prefix, tokens cut). The three parts are
        tokenized apart here (only for prompts that need the cut)."""
        t = self.template
        head = bos + self._llm_ids(t.system + instruction + (t.input_separator if instruction and inp else ""))
        body, tail = self._llm_ids(inp), self._llm_ids(t.response_prefix)
        keep = budget - len(head) - len(tail)
        if keep < 1 or not body:
            raise self._no_room(len(head) + len(tail) + 1)
        return head + body[:keep] + tail, max(0, len(body) - keep)

    def tokenize(self, record: Mapping[str, Any], with_target: bool = True) -> TokenizedRecord:
        """One record -> :class:`TokenizedRecord`, truncated by the policy of the module doc (and counted)."""
        instruction = str(record.get("instruction") or "")
        inp = str(record.get("input") or "")
        t = self.template
        bos = [self.bos_id] if self.bos_id is not None else []
        parts: tuple[list[int], list[int], list[int], bool] | None = None
        protected = 0  # leading encoder content tokens that are instruction, not input (encoder_prompt layout)
        if not self.has_encoder:
            text = t.system + _join(instruction, inp, sep=t.input_separator) + t.response_prefix
            prefix, suffix = bos + self._llm_ids(text), []
        elif self.layout == "paper":
            head = t.system + (instruction + t.instruction_suffix if instruction else "")
            prefix, parts, suffix = bos + self._llm_ids(head), self._enc_parts(inp), self._llm_ids(t.response_prefix)
        else:  # encoder_prompt
            text = t.system + _join(instruction, inp, sep=t.input_separator)
            prefix, parts, suffix = bos, self._enc_parts(text), self._llm_ids(t.response_prefix)
        enc_cut = parts is not None and parts[3]

        target: list[int] = []
        if with_target:
            if record.get("output_ids") is not None:
                target = [int(i) for i in record["output_ids"]] + [self.eos_id]
            else:
                target = self._llm_ids(str(record.get("output") or "")) + [self.eos_id]

        enc_len = 0 if parts is None else len(parts[0]) + len(parts[1]) + len(parts[2]) + 2
        prompt_len = len(prefix) + enc_len + len(suffix)
        budget = self.max_length - 1  # keep room for at least one target token
        prompt_cut = prompt_len > budget
        if prompt_cut:
            over = prompt_len - budget
            if parts is None:
                prefix, over = self._fit_llm_input(instruction, inp, bos, budget)
                prompt_cut = over > 0  # the parts tokenized apart may fit without a cut
            else:
                lead, content, trail, _ = parts
                if self.layout == "encoder_prompt" and inp:
                    head_text = t.system + (instruction + t.input_separator if instruction else "")
                    protected = len(self.encoder_tokenizer(head_text, add_special_tokens=False)["input_ids"])
                keep = len(content) - over
                if keep < protected + 1:
                    raise self._no_room(prompt_len - len(content) + protected + 1)
                parts = (lead, content[:keep], trail, enc_cut)
            self.truncated_prompts += int(prompt_cut)
            self.truncated_prompt_tokens += over
        enc = None if parts is None else parts[0] + parts[1] + parts[2]
        prompt_len = len(prefix) + (0 if enc is None else len(enc) + 2) + len(suffix)
        target_cut = prompt_len + len(target) > self.max_length
        if target_cut:
            self.truncated_targets += 1
            target = target[: max(0, self.max_length - prompt_len)]
        self.truncated_encoder_inputs += int(enc_cut)
        self.truncated_rows += int(prompt_cut or target_cut or enc_cut)
        return {"prefix": prefix, "enc": enc, "suffix": suffix, "target": target}

    def truncation_counts(self) -> dict[str, int]:
        """The truncation counters (rows, and prompt tokens cut) over every row tokenized so far."""
        return {
            "truncated_rows": self.truncated_rows,
            "truncated_prompts": self.truncated_prompts,
            "truncated_encoder_inputs": self.truncated_encoder_inputs,
            "truncated_targets": self.truncated_targets,
            "truncated_prompt_tokens": self.truncated_prompt_tokens,
        }

    def tokenize_many(self, records: Sequence[Mapping[str, Any]], with_target: bool = True) -> list[TokenizedRecord]:
        return [self.tokenize(r, with_target=with_target) for r in records]

    def collate(self, rows: Sequence[TokenizedRecord], with_labels: bool = True) -> dict[str, torch.Tensor]:
        return collate(
            rows,
            llm_pad_id=self.llm_pad_id,
            enc_pad_id=getattr(self, "enc_pad_id", 0),
            with_labels=with_labels,
        )


def row_length(row: TokenizedRecord) -> int:
    """Length of the combined LLM sequence of one row (prompt + target)."""
    enc = row["enc"]
    return len(row["prefix"]) + (0 if enc is None else len(enc) + 2) + len(row["suffix"]) + len(row["target"])


def position_ids_from_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """``clamp(cumsum(mask) - 1, min=0)``: what HF generation computes for left-padded prompts."""
    return (attention_mask.long().cumsum(-1) - 1).clamp(min=0)


def collate(
    rows: Sequence[TokenizedRecord],
    *,
    llm_pad_id: int,
    enc_pad_id: int = 0,
    with_labels: bool = True,
) -> dict[str, torch.Tensor]:
    """Left-pad the combined sequences of ``rows`` (see module doc). Encoder inputs are right-padded."""
    if not rows:
        raise ValueError("cannot collate an empty batch")
    has_enc = rows[0]["enc"] is not None
    if any((r["enc"] is not None) != has_enc for r in rows):
        raise ValueError("a batch mixes rows with and without an encoder segment")
    lengths = [row_length(r) if with_labels else row_length(r) - len(r["target"]) for r in rows]
    L = max(lengths)
    B = len(rows)
    input_ids = torch.full((B, L), llm_pad_id, dtype=torch.long)
    segment_ids = torch.zeros((B, L), dtype=torch.long)
    labels = torch.full((B, L), IGNORE_INDEX, dtype=torch.long)
    for b, (row, n) in enumerate(zip(rows, lengths)):
        e = row["enc"]
        ne = 0 if e is None else len(e)
        target = row["target"] if with_labels else []
        ids = row["prefix"] + ([llm_pad_id] * (ne + 2) if e is not None else []) + row["suffix"] + target
        seg = [SEG_TOKEN] * len(row["prefix"])
        if e is not None:
            seg += [SEG_ENC_START] + [SEG_ENC] * ne + [SEG_ENC_END]
        seg += [SEG_TOKEN] * (len(row["suffix"]) + len(target))
        start = L - n
        input_ids[b, start:] = torch.tensor(ids, dtype=torch.long)
        segment_ids[b, start:] = torch.tensor(seg, dtype=torch.long)
        if target:
            labels[b, L - len(target):] = torch.tensor(target, dtype=torch.long)
    attention_mask = (segment_ids != SEG_PAD).long()
    batch = {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "position_ids": position_ids_from_mask(attention_mask),
        "segment_ids": segment_ids,
    }
    if with_labels:
        batch["labels"] = labels
    if has_enc:
        Le = max(1, max(len(r["enc"]) for r in rows))
        enc_ids = torch.full((B, Le), enc_pad_id, dtype=torch.long)
        enc_mask = torch.zeros((B, Le), dtype=torch.long)
        for b, r in enumerate(rows):
            if r["enc"]:
                enc_ids[b, : len(r["enc"])] = torch.tensor(r["enc"], dtype=torch.long)
                enc_mask[b, : len(r["enc"])] = 1
        batch["enc_input_ids"] = enc_ids
        batch["enc_attention_mask"] = enc_mask
    return batch


class LinguaLIFTCollator:
    """Callable collator (e.g. for a Hugging Face ``Trainer``): raw records or tokenized rows -> batch tensors."""

    def __init__(self, builder: PromptBuilder, with_labels: bool = True) -> None:
        self.builder = builder
        self.with_labels = with_labels

    def __call__(self, features: Sequence[Mapping[str, Any]]) -> dict[str, torch.Tensor]:
        rows = [
            f if "prefix" in f else self.builder.tokenize(f, with_target=self.with_labels)  # type: ignore[misc]
            for f in features
        ]
        return self.builder.collate(rows, with_labels=self.with_labels)  # type: ignore[arg-type]
