"""The LinguaLIFT model: multilingual encoder + alignment layer + boundary vectors + decoder LLM.

One class serves stage 1, stage 2 and the mono-SFT baseline (``encoder=None``); which parts train is set with
:meth:`LinguaLIFTModel.set_trainable` and checked with :meth:`LinguaLIFTModel.trainable_parameter_names`.

Parameter names (what the trainable-set functions return) start with ``encoder.``, ``alignment.``, ``enc_start``,
``enc_end`` or ``llm.``.

Saved folder (:meth:`save_pretrained` / :meth:`from_pretrained`; no pickle anywhere)::

    lingualift_config.json     layout, alignment type, dims, template, base model sources + revisions
    alignment.safetensors      alignment layer + enc_start / enc_end (absent for mono-SFT)
    llm_tokenizer/  encoder_tokenizer/
    llm/                       standard Hugging Face folder (when saved rather than referenced)
    encoder/                   likewise
    run_meta.json              when the caller passes run_meta
    .complete                  written last (the folder is built under a temporary name and renamed)
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from .alignment import AlignmentLayer, embedding_std, init_boundary_vector
from .batching import (
    IGNORE_INDEX,
    LAYOUTS,
    SEG_ENC,
    SEG_ENC_END,
    SEG_ENC_START,
    PromptBuilder,
    PromptTemplate,
    position_ids_from_mask,
)
from .loading import (
    encoder_hidden_size,
    is_local_source,
    llm_hidden_size,
    load_encoder,
    load_llm,
    load_tokenizer,
)

FORMAT_VERSION = 1
CONFIG_NAME = "lingualift_config.json"
ALIGNMENT_WEIGHTS = "alignment.safetensors"
COMPLETE_MARKER = ".complete"
PARTS = ("encoder", "alignment", "llm")


@dataclass(frozen=True)
class LinguaLIFTConfig:
    """Architecture and provenance of a LinguaLIFT model (the JSON config of a saved folder)."""

    layout: str = "paper"
    alignment: str = "mlp"
    d_enc: int | None = None  # filled in from the encoder; a given value is checked against it
    d_llm: int | None = None  # filled in from the LLM; a given value is checked against it
    encoder_source: str | None = None  # hub id or local folder the encoder came from (None: built in memory)
    encoder_revision: str | None = None
    llm_source: str | None = None
    llm_revision: str | None = None
    template: PromptTemplate = field(default_factory=PromptTemplate)
    max_encoder_tokens: int = 512
    boundary_init_std: float | None = None  # None: the std of the LLM's input embedding matrix
    seed: int = 0  # initialisation of the alignment layer and boundary vectors

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise ValueError(f"unknown layout {self.layout!r}; expected one of {LAYOUTS}")
        if self.alignment not in ("mlp", "linear"):
            raise ValueError(f"unknown alignment layer type {self.alignment!r}; expected 'mlp' or 'linear'")
        if isinstance(self.template, Mapping):
            object.__setattr__(self, "template", PromptTemplate.from_dict(self.template))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["template"] = self.template.to_dict()
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "LinguaLIFTConfig":
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown LinguaLIFT config keys: {sorted(unknown)}")
        return cls(**dict(data))


@dataclass
class LinguaLIFTOutput:
    """Forward result. ``loss`` = ``loss_sum / (num_items_in_batch or num_tokens)``."""

    loss: torch.Tensor | None = None
    loss_sum: torch.Tensor | None = None
    num_tokens: torch.Tensor | None = None
    logits: torch.Tensor | None = None

    # dict-style access for Hugging Face Trainer compatibility
    def __getitem__(self, key: str | int) -> Any:
        if isinstance(key, int):
            return [v for v in (self.loss, self.logits) if v is not None][key]
        return getattr(self, key)

    def keys(self) -> list[str]:
        return [k for k in ("loss", "loss_sum", "num_tokens", "logits") if getattr(self, k) is not None]


def _is_peft(module: nn.Module) -> bool:
    return hasattr(module, "peft_config") and hasattr(module, "get_base_model")


class LinguaLIFTModel(nn.Module):
    """Encoder -> alignment layer -> LLM, with trainable ``<enc_start>`` / ``<enc_end>`` vectors.

    Build from loaded modules (``LinguaLIFTModel(llm, llm_tokenizer, encoder, encoder_tokenizer, config)``),
    from base model ids / folders (:meth:`from_base`) or from a saved folder (:meth:`from_pretrained`).
    ``encoder=None`` gives the mono-SFT baseline (the LLM alone, the input as LLM tokens).

    Initial trainable set: stage 1 (alignment + boundaries) with an encoder, the whole LLM without one.
    """

    def __init__(
        self,
        llm: nn.Module,
        llm_tokenizer: Any,
        encoder: nn.Module | None = None,
        encoder_tokenizer: Any | None = None,
        config: LinguaLIFTConfig | None = None,
    ) -> None:
        super().__init__()
        config = config or LinguaLIFTConfig()
        if (encoder is None) != (encoder_tokenizer is None):
            raise ValueError("pass both the encoder and its tokenizer, or neither (mono-SFT)")
        d_llm = llm_hidden_size(llm)
        llm_name = config.llm_source or type(llm).__name__
        if config.d_llm is not None and config.d_llm != d_llm:
            raise ValueError(
                f"alignment layer is configured for LLM hidden size {config.d_llm}, but LLM '{llm_name}' has "
                f"input embeddings of width {d_llm}"
            )
        d_enc = None
        if encoder is not None:
            d_enc = encoder_hidden_size(encoder)
            enc_name = config.encoder_source or type(encoder).__name__
            if config.d_enc is not None and config.d_enc != d_enc:
                raise ValueError(
                    f"alignment layer is configured for encoder hidden size {config.d_enc}, but encoder "
                    f"'{enc_name}' has hidden size {d_enc}"
                )
        self.config = replace(config, d_enc=d_enc, d_llm=d_llm)
        self.llm = llm
        self.llm_tokenizer = llm_tokenizer
        self.encoder = encoder
        self.encoder_tokenizer = encoder_tokenizer
        self._gradient_checkpointing = False
        self._modified = {"encoder": False, "llm": False}
        if encoder is not None:
            emb = llm.get_input_embeddings().weight
            std = config.boundary_init_std if config.boundary_init_std is not None else embedding_std(emb)
            self.config = replace(self.config, boundary_init_std=std)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(config.seed)
                self.alignment = AlignmentLayer(d_enc, d_llm, config.alignment)  # type: ignore[arg-type]
                gen = torch.Generator().manual_seed(config.seed + 1)
                self.enc_start = nn.Parameter(init_boundary_vector(d_llm, std, gen))
                self.enc_end = nn.Parameter(init_boundary_vector(d_llm, std, gen))
            device = emb.device
            self.alignment.to(device)
            self.enc_start.data = self.enc_start.data.to(device)
            self.enc_end.data = self.enc_end.data.to(device)
            self.set_trainable(encoder=False, alignment=True, llm=False)
        else:
            self.alignment = None
            self.enc_start = None
            self.enc_end = None
            self.set_trainable(encoder=False, alignment=False, llm=True)
        self._modified = {"encoder": False, "llm": False}

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_base(
        cls,
        llm: str,
        encoder: str | None = None,
        *,
        llm_revision: str | None = None,
        encoder_revision: str | None = None,
        layout: str = "paper",
        alignment: str = "mlp",
        template: PromptTemplate | None = None,
        max_encoder_tokens: int = 512,
        boundary_init_std: float | None = None,
        seed: int = 0,
        dtype: torch.dtype | None = None,
        local_files_only: bool = True,
    ) -> "LinguaLIFTModel":
        """Load the base LLM (and encoder) from hub ids or local folders; tokenizers from the same sources."""
        llm_model = load_llm(llm, revision=llm_revision, dtype=dtype, local_files_only=local_files_only)
        llm_tok = load_tokenizer(llm, revision=llm_revision, local_files_only=local_files_only, what="LLM tokenizer")
        enc_model = enc_tok = None
        if encoder is not None:
            enc_model = load_encoder(encoder, revision=encoder_revision, dtype=dtype, local_files_only=local_files_only)
            enc_tok = load_tokenizer(
                encoder, revision=encoder_revision, local_files_only=local_files_only, what="encoder tokenizer"
            )
        config = LinguaLIFTConfig(
            layout=layout,
            alignment=alignment,
            encoder_source=None if encoder is None else str(encoder),
            encoder_revision=encoder_revision,
            llm_source=str(llm),
            llm_revision=llm_revision,
            template=template or PromptTemplate(),
            max_encoder_tokens=max_encoder_tokens,
            boundary_init_std=boundary_init_std,
            seed=seed,
        )
        return cls(llm_model, llm_tok, enc_model, enc_tok, config)

    @torch.no_grad()
    def init_boundaries_from_tokens(self, start: str | None = None, end: str | None = None) -> None:
        """Initialise ``<enc_start>`` / ``<enc_end>`` from LLM token embeddings (e.g. a separator the LLM was
        pre-trained with) instead of the random embedding-scale init."""
        if not self.has_encoder:
            raise ValueError("a mono-SFT model has no boundary vectors")
        emb = self.llm.get_input_embeddings().weight
        for token, vec in ((start, self.enc_start), (end, self.enc_end)):
            if token is None:
                continue
            tid = self.llm_tokenizer.convert_tokens_to_ids(token)
            if tid is None or tid == self.llm_tokenizer.unk_token_id:
                raise ValueError(f"token {token!r} is not in the LLM vocabulary")
            vec.copy_(emb[tid].to(vec.dtype))

    # ------------------------------------------------------------------ properties
    @property
    def has_encoder(self) -> bool:
        return self.encoder is not None

    @property
    def device(self) -> torch.device:
        return self.llm.get_input_embeddings().weight.device

    def prompt_builder(self, max_length: int = 2048) -> PromptBuilder:
        """A :class:`PromptBuilder` with this model's tokenizers, layout and template."""
        return PromptBuilder(
            llm_tokenizer=self.llm_tokenizer,
            encoder_tokenizer=self.encoder_tokenizer,
            layout=self.config.layout,
            template=self.config.template,
            max_length=max_length,
            max_encoder_tokens=self.config.max_encoder_tokens,
        )

    def _causal_lm(self) -> nn.Module:
        return self.llm.get_base_model() if _is_peft(self.llm) else self.llm

    # ------------------------------------------------------------------ trainable parts
    @staticmethod
    def part_of(name: str) -> str:
        """Which part (``encoder`` / ``alignment`` / ``llm``) a parameter name belongs to."""
        if name.startswith("encoder."):
            return "encoder"
        if name.startswith("alignment.") or name in ("enc_start", "enc_end"):
            return "alignment"
        if name.startswith("llm."):
            return "llm"
        raise ValueError(f"parameter {name!r} belongs to no known part")

    def set_trainable(self, *, encoder: bool, alignment: bool, llm: bool | str) -> None:
        """Set ``requires_grad`` per part. ``llm``: True (all LLM weights, embeddings and lm_head included),
        False, or ``"lora"`` (only the LoRA adapters; call :meth:`apply_lora` first)."""
        if llm not in (True, False, "lora"):
            raise ValueError(f"llm must be True, False or 'lora', got {llm!r}")
        if llm == "lora" and not _is_peft(self.llm):
            raise ValueError("llm='lora' needs LoRA adapters: call apply_lora() first")
        if not self.has_encoder and (encoder or alignment):
            raise ValueError("this model has no encoder / alignment layer (mono-SFT): only the LLM can train")
        for name, p in self.named_parameters():
            part = self.part_of(name)
            if part == "encoder":
                p.requires_grad_(bool(encoder))
            elif part == "alignment":
                p.requires_grad_(bool(alignment))
            else:
                p.requires_grad_(bool(llm is True or (llm == "lora" and "lora_" in name)))
        if encoder:
            self._modified["encoder"] = True
        if llm:
            self._modified["llm"] = True
        self.train(self.training)

    def expected_trainable_names(self, *, encoder: bool, alignment: bool, llm: bool | str) -> frozenset[str]:
        """The parameter names that :meth:`set_trainable` with these flags makes trainable."""
        out = set()
        for name, _ in self.named_parameters():
            part = self.part_of(name)
            if (part == "encoder" and encoder) or (part == "alignment" and alignment):
                out.add(name)
            elif part == "llm" and (llm is True or (llm == "lora" and "lora_" in name)):
                out.add(name)
        return frozenset(out)

    def trainable_parameter_names(self) -> frozenset[str]:
        """Names of the parameters with ``requires_grad``."""
        return frozenset(n for n, p in self.named_parameters() if p.requires_grad)

    def train(self, mode: bool = True) -> "LinguaLIFTModel":
        """Frozen parts stay in eval mode (no dropout), except an LLM with gradient checkpointing on."""
        super().train(mode)
        if mode:
            if self.encoder is not None and not any(p.requires_grad for p in self.encoder.parameters()):
                self.encoder.eval()
            if not self._gradient_checkpointing and not any(p.requires_grad for p in self.llm.parameters()):
                self.llm.eval()
        return self

    def enable_gradient_checkpointing(self) -> None:
        """Non-reentrant activation checkpointing in the LLM (and the encoder when it trains)."""
        def enable(module: nn.Module) -> None:
            if hasattr(module, "activation_checkpointing_enable"):  # transformers >= 5.x name
                module.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
            else:
                module.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})

        enable(self._causal_lm())
        if self.encoder is not None and any(p.requires_grad for p in self.encoder.parameters()):
            if getattr(self.encoder, "supports_gradient_checkpointing", False):
                enable(self.encoder)
        self._gradient_checkpointing = True
        self.train(self.training)

    def apply_lora(
        self,
        r: int = 16,
        alpha: int = 32,
        dropout: float = 0.05,
        target_modules: Sequence[str] = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"),
    ) -> None:
        """Wrap the LLM with peft LoRA adapters (then ``set_trainable(..., llm='lora')``)."""
        from peft import LoraConfig, get_peft_model

        if _is_peft(self.llm):
            raise ValueError("the LLM already has LoRA adapters")
        cfg = LoraConfig(
            r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=list(target_modules), task_type="CAUSAL_LM"
        )
        flags = self._flags()
        self.llm = get_peft_model(self.llm, cfg)
        self.set_trainable(encoder=flags[0], alignment=flags[1], llm="lora")

    def merge_lora(self) -> None:
        """Merge LoRA adapters into the LLM weights in place (the LLM becomes a plain Hugging Face model)."""
        if _is_peft(self.llm):
            self.llm = self.llm.merge_and_unload()
            self._modified["llm"] = True

    def _flags(self) -> tuple[bool, bool]:
        enc = self.encoder is not None and any(p.requires_grad for p in self.encoder.parameters())
        ali = self.alignment is not None and any(p.requires_grad for p in self.alignment.parameters())
        return enc, ali

    # ------------------------------------------------------------------ forward
    def encode_padded(self, enc_input_ids: torch.Tensor, enc_attention_mask: torch.Tensor) -> torch.Tensor:
        """Encoder last hidden state ``[B, Le, d_enc]`` (no grad when the encoder is frozen)."""
        assert self.encoder is not None
        trains = any(p.requires_grad for p in self.encoder.parameters())
        ctx = contextlib.nullcontext() if trains and torch.is_grad_enabled() else torch.no_grad()
        with ctx:
            return self.encoder(input_ids=enc_input_ids, attention_mask=enc_attention_mask).last_hidden_state

    def encode(self, enc_input_ids: torch.Tensor, enc_attention_mask: torch.Tensor) -> torch.Tensor:
        """Encoder states of the non-pad encoder positions, row-major: ``[sum(mask), d_enc]``."""
        hidden = self.encode_padded(enc_input_ids, enc_attention_mask)
        return hidden[enc_attention_mask.bool()]

    def embed_inputs(
        self,
        input_ids: torch.Tensor,
        segment_ids: torch.Tensor | None = None,
        enc_input_ids: torch.Tensor | None = None,
        enc_attention_mask: torch.Tensor | None = None,
        encoder_states: torch.Tensor | None = None,
        aligned_noise: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The LLM input embeddings of a collated batch (encoder states and boundary vectors spliced in).

        ``aligned_noise`` ``[n_enc_slots, d_llm]`` (training only): added to the aligned states after scaling each
        row by its state's RMS, so it perturbs every state by the same relative amount whatever its norm."""
        embeds = self.llm.get_input_embeddings()(input_ids)
        if segment_ids is None or not self.has_encoder:
            return embeds
        enc_slots = segment_ids == SEG_ENC
        if encoder_states is None:
            if enc_input_ids is None or enc_attention_mask is None:
                raise ValueError("batch has an encoder segment but no enc_input_ids / encoder_states")
            encoder_states = self.encode(enc_input_ids, enc_attention_mask)
        n_slots = int(enc_slots.sum())
        if encoder_states.shape[0] != n_slots:
            raise ValueError(
                f"batch has {n_slots} encoder slots but {encoder_states.shape[0]} encoder states "
                "(collator and encoder disagree)"
            )
        aligned = self.alignment(encoder_states).to(embeds.dtype)  # type: ignore[misc]
        if aligned_noise is not None:
            if aligned_noise.shape != aligned.shape:
                raise ValueError(f"aligned_noise has shape {tuple(aligned_noise.shape)}, the aligned encoder states "
                                 f"{tuple(aligned.shape)}")
            rms = aligned.detach().float().pow(2).mean(-1, keepdim=True).sqrt()
            aligned = aligned + (aligned_noise.float() * rms).to(aligned.dtype)
        embeds = embeds.masked_scatter(enc_slots.unsqueeze(-1), aligned)
        embeds = torch.where((segment_ids == SEG_ENC_START).unsqueeze(-1), self.enc_start.to(embeds.dtype), embeds)
        embeds = torch.where((segment_ids == SEG_ENC_END).unsqueeze(-1), self.enc_end.to(embeds.dtype), embeds)
        return embeds

    def _selective_head_ok(self) -> bool:
        cfg = self._causal_lm().config
        return not (getattr(cfg, "final_logit_softcapping", None) or getattr(cfg, "logit_scale", None))

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        position_ids: torch.Tensor | None = None,
        segment_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        enc_input_ids: torch.Tensor | None = None,
        enc_attention_mask: torch.Tensor | None = None,
        encoder_states: torch.Tensor | None = None,
        aligned_noise: torch.Tensor | None = None,
        num_items_in_batch: int | torch.Tensor | None = None,
        return_logits: bool = False,
        **_: Any,
    ) -> LinguaLIFTOutput:
        """Causal-LM loss over the labelled positions (token mean, or ``sum / num_items_in_batch`` when given,
        which makes gradient accumulation exact). ``lm_head`` runs only on labelled positions unless
        ``return_logits``."""
        if position_ids is None:
            position_ids = position_ids_from_mask(attention_mask)
        embeds = self.embed_inputs(input_ids, segment_ids, enc_input_ids, enc_attention_mask, encoder_states,
                                   aligned_noise)
        out = LinguaLIFTOutput()
        if return_logits or not self._selective_head_ok():
            logits = self.llm(
                inputs_embeds=embeds, attention_mask=attention_mask, position_ids=position_ids, use_cache=False
            ).logits
            out.logits = logits
            if labels is None:
                return out
            sel = labels[:, 1:] != IGNORE_INDEX
            picked = logits[:, :-1][sel].float()
        else:
            base = self._causal_lm()
            hidden = base.get_decoder()(
                inputs_embeds=embeds, attention_mask=attention_mask, position_ids=position_ids, use_cache=False
            ).last_hidden_state
            if labels is None:
                out.logits = base.get_output_embeddings()(hidden)
                return out
            sel = labels[:, 1:] != IGNORE_INDEX
            picked = base.get_output_embeddings()(hidden[:, :-1][sel]).float()
        targets = labels[:, 1:][sel]
        loss_sum = F.cross_entropy(picked, targets, reduction="sum")
        n = sel.sum()
        denom = num_items_in_batch if num_items_in_batch is not None else n.clamp(min=1)
        if isinstance(denom, torch.Tensor):
            denom = denom.to(loss_sum.device)
        out.loss = loss_sum / denom
        out.loss_sum = loss_sum.detach()
        out.num_tokens = n
        return out

    # ------------------------------------------------------------------ generation
    @torch.no_grad()
    def generate_ids(
        self,
        batch: Mapping[str, torch.Tensor],
        *,
        max_new_tokens: int = 256,
        stop_strings: Sequence[str] | None = None,
        **generate_kwargs: Any,
    ) -> torch.Tensor:
        """Standard Hugging Face ``generate`` on ``inputs_embeds`` (greedy unless overridden); returns the new
        token ids ``[B, T]`` (pad after EOS). ``position_ids`` from the mask, exactly as in training."""
        dev = self.device
        b = {k: v.to(dev) for k, v in batch.items() if isinstance(v, torch.Tensor)}
        embeds = self.embed_inputs(
            b["input_ids"], b.get("segment_ids"), b.get("enc_input_ids"), b.get("enc_attention_mask"),
            b.get("encoder_states"),
        )
        tok = self.llm_tokenizer
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        kwargs: dict[str, Any] = dict(
            do_sample=False,
            num_beams=1,
            max_new_tokens=max_new_tokens,
            eos_token_id=tok.eos_token_id,
            pad_token_id=pad,
        )
        if not generate_kwargs.get("do_sample", False):
            kwargs.update(temperature=None, top_p=None, top_k=None)
        kwargs.update(generate_kwargs)
        if stop_strings:
            from transformers import StoppingCriteriaList

            criteria = list(kwargs.pop("stopping_criteria", None) or [])
            criteria.append(StopOnStrings(tok, stop_strings))
            kwargs["stopping_criteria"] = StoppingCriteriaList(criteria)
        out = self.llm.generate(
            inputs_embeds=embeds, attention_mask=b["attention_mask"], position_ids=b["position_ids"], **kwargs
        )
        return out

    @torch.no_grad()
    def generate(
        self,
        records: Sequence[Mapping[str, Any]],
        *,
        batch_size: int = 8,
        max_new_tokens: int = 256,
        stop_strings: Sequence[str] | None = None,
        max_length: int = 4096,
        **generate_kwargs: Any,
    ) -> list[str]:
        """Greedy responses for ``records`` (``instruction`` / ``input``), in input order. Rows are batched by
        prompt length; results equal batch size 1. Text is cut before the first stop string."""
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        was_training = self.training
        self.eval()
        try:
            builder = self.prompt_builder(max_length=max_length)
            rows = builder.tokenize_many(records, with_target=False)
            order = sorted(range(len(rows)), key=lambda i: -_prompt_len(rows[i]))
            texts: list[str | None] = [None] * len(rows)
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                batch = builder.collate([rows[i] for i in idx], with_labels=False)
                ids = self.generate_ids(
                    batch, max_new_tokens=max_new_tokens, stop_strings=stop_strings, **generate_kwargs
                )
                for i, text in zip(idx, self.llm_tokenizer.batch_decode(ids, skip_special_tokens=True)):
                    texts[i] = _cut_at_stop(text, stop_strings)
            return [t or "" for t in texts]
        finally:
            self.train(was_training)

    # ------------------------------------------------------------------ save / load
    def save_pretrained(
        self,
        path: str | os.PathLike[str],
        *,
        save_encoder: bool | str = "auto",
        save_llm: bool | str = "auto",
        run_meta: Mapping[str, Any] | None = None,
    ) -> Path:
        """Write the model folder atomically (see module doc).

        ``save_llm`` / ``save_encoder``: True copies the part as a standard Hugging Face sub-folder, False refers
        to its source (hub id + revision, or the local folder as given); "auto" saves it when it was trained, was
        built in memory, or came from a local folder, and refers to hub ids otherwise. LoRA adapters are merged
        into the LLM in place before saving (the saved LLM is a plain model folder)."""
        path = Path(path)
        tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        cfg = self.config.to_dict()
        if _is_peft(self.llm):
            self.merge_lora()

        def decide(flag: bool | str, part: str, source: str | None) -> bool:
            if flag == "auto":
                return self._modified[part] or source is None or is_local_source(source)
            return bool(flag)

        parts: dict[str, Any] = {}
        llm_in = decide(save_llm, "llm", self.config.llm_source)
        if llm_in:
            self.llm.save_pretrained(tmp / "llm", safe_serialization=True)
            self.llm_tokenizer.save_pretrained(tmp / "llm")
        parts["llm"] = {"in_folder": llm_in, "base_source": self.config.llm_source}
        self.llm_tokenizer.save_pretrained(tmp / "llm_tokenizer")
        if self.has_encoder:
            enc_in = decide(save_encoder, "encoder", self.config.encoder_source)
            if enc_in:
                self.encoder.save_pretrained(tmp / "encoder", safe_serialization=True)  # type: ignore[union-attr]
            parts["encoder"] = {"in_folder": enc_in, "base_source": self.config.encoder_source}
            self.encoder_tokenizer.save_pretrained(tmp / "encoder_tokenizer")
            tensors = {f"alignment.{k}": v.detach().contiguous().cpu() for k, v in self.alignment.state_dict().items()}
            tensors["enc_start"] = self.enc_start.detach().contiguous().cpu()
            tensors["enc_end"] = self.enc_end.detach().contiguous().cpu()
            save_file(tensors, str(tmp / ALIGNMENT_WEIGHTS), metadata={"format": "pt"})
        doc = {"format_version": FORMAT_VERSION, "model_type": "lingualift", "config": cfg, "parts": parts}
        (tmp / CONFIG_NAME).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
        if run_meta is not None:
            (tmp / "run_meta.json").write_text(json.dumps(dict(run_meta), indent=2, sort_keys=True, default=str) + "\n")
        (tmp / COMPLETE_MARKER).write_text("ok\n")
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
        return path

    @classmethod
    def from_pretrained(
        cls,
        path: str | os.PathLike[str],
        *,
        dtype: torch.dtype | None = None,
        encoder_source: str | None = None,
        llm_source: str | None = None,
        local_files_only: bool = True,
    ) -> "LinguaLIFTModel":
        """Load a folder written by :meth:`save_pretrained`. ``encoder_source`` / ``llm_source`` override where
        referenced (not saved) base models are loaded from (e.g. a local folder instead of a hub id)."""
        path = Path(path)
        cfg_file = path / CONFIG_NAME
        if not cfg_file.is_file():
            raise FileNotFoundError(f"not a LinguaLIFT model folder (no {CONFIG_NAME}): {path}")
        doc = json.loads(cfg_file.read_text())
        if doc.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"unsupported LinguaLIFT folder format {doc.get('format_version')!r} in {path}")
        config = LinguaLIFTConfig.from_dict(doc["config"])
        parts = doc["parts"]

        def resolve(part: str, override: str | None) -> tuple[str, str | None]:
            if parts[part]["in_folder"]:
                return str(path / part), None
            src = override or parts[part]["base_source"]
            if src is None:
                raise ValueError(f"{path}: the {part} was neither saved nor given a source")
            return src, getattr(config, f"{part}_revision")

        llm_src, llm_rev = resolve("llm", llm_source)
        if not parts["llm"]["in_folder"]:
            config = replace(config, llm_source=llm_src)
        llm = load_llm(llm_src, revision=llm_rev, dtype=dtype, local_files_only=local_files_only)
        llm_tok = load_tokenizer(str(path / "llm_tokenizer"), what="LLM tokenizer")
        enc = enc_tok = None
        if "encoder" in parts:
            enc_src, enc_rev = resolve("encoder", encoder_source)
            enc = load_encoder(enc_src, revision=enc_rev, dtype=dtype, local_files_only=local_files_only)
            enc_tok = load_tokenizer(str(path / "encoder_tokenizer"), what="encoder tokenizer")
            if not parts["encoder"]["in_folder"]:
                config = replace(config, encoder_source=enc_src)
        try:
            model = cls(llm, llm_tok, enc, enc_tok, config)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc
        if enc is not None:
            tensors = load_file(str(path / ALIGNMENT_WEIGHTS))
            ali = {k[len("alignment."):]: v for k, v in tensors.items() if k.startswith("alignment.")}
            model.alignment.load_state_dict(ali, strict=True)  # type: ignore[union-attr]
            with torch.no_grad():
                model.enc_start.copy_(tensors["enc_start"])  # type: ignore[union-attr]
                model.enc_end.copy_(tensors["enc_end"])  # type: ignore[union-attr]
            if dtype is not None:
                model.alignment.to(dtype)  # type: ignore[union-attr]
                model.enc_start.data = model.enc_start.data.to(dtype)  # type: ignore[union-attr]
                model.enc_end.data = model.enc_end.data.to(dtype)  # type: ignore[union-attr]
        # a part stored in the folder may differ from its base: keep saving it in the folder ("auto")
        model._modified = {
            "encoder": bool(parts.get("encoder", {}).get("in_folder")),
            "llm": bool(parts["llm"]["in_folder"]),
        }
        return model


class StopOnStrings:
    """Stopping criterion: a row is done once its decoded continuation contains a stop string.

    Works with any tokenizer (HF's built-in ``stop_strings`` needs a tokenizer that can spell arbitrary text, which
    word-level tokenizers cannot). Only the last ``window`` generated tokens are decoded at each step."""

    def __init__(self, tokenizer: Any, stop_strings: Sequence[str], window: int = 64) -> None:
        self.tokenizer = tokenizer
        self.stop_strings = [s for s in stop_strings if s]
        self.window = window

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor | None = None, **_: Any) -> torch.Tensor:
        # with inputs_embeds generation, input_ids holds the generated tokens only
        tails = self.tokenizer.batch_decode(input_ids[:, -self.window :], skip_special_tokens=True)
        return torch.tensor(
            [any(s in t for s in self.stop_strings) for t in tails], dtype=torch.bool, device=input_ids.device
        )


def _prompt_len(row: Mapping[str, Any]) -> int:
    enc = row["enc"]
    return len(row["prefix"]) + (0 if enc is None else len(enc) + 2) + len(row["suffix"])


def _cut_at_stop(text: str, stop_strings: Iterable[str] | None) -> str:
    if not stop_strings:
        return text
    cut = len(text)
    for s in stop_strings:
        i = text.find(s)
        if i >= 0:
            cut = min(cut, i)
    return text[:cut]
