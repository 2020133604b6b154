"""Offline-friendly loading of the base encoder, LLM and tokenizers.

Every loader takes a Hugging Face id or a local folder. When the weights cannot be found locally (this project's
machines have no hub access), the Hugging Face error is wrapped in a :class:`ModelLoadError` with a one-line
message that names the id and says what to do (pass a local folder), the original exception chained.

Weights load in float32 unless a dtype is given: transformers 5 otherwise keeps the checkpoint's dtype
(Llama-2-7B's is float16), and the training loop keeps fp32 master weights (bf16 is an autocast / FSDP compute
dtype, not a storage dtype): AdamW steps of lr 2e-5 on float16 weights are mostly rounded away.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn


class ModelLoadError(RuntimeError):
    """A base model or tokenizer could not be loaded (typically: a hub id without hub access)."""


def is_local_source(source: str | os.PathLike[str] | None) -> bool:
    """True when ``source`` names an existing local folder (as opposed to a hub id)."""
    return source is not None and Path(source).is_dir()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _wrap(what: str, source: str, revision: str | None, exc: BaseException) -> ModelLoadError:
    rev = f" (revision {revision})" if revision else ""
    if is_local_source(source):
        msg = f"cannot load {what} from local folder '{source}'{rev}: {type(exc).__name__}: {_first_line(exc)}"
    else:
        msg = (
            f"cannot load {what} '{source}'{rev} offline: it is not a local folder and not in the local Hugging Face "
            f"cache, and there is no hub access here — pass a local model folder instead "
            f"({type(exc).__name__}: {_first_line(exc)})"
        )
    return ModelLoadError(msg)


def _common_kwargs(revision: str | None, local_files_only: bool) -> dict[str, Any]:
    kw: dict[str, Any] = {"local_files_only": local_files_only}
    if revision:
        kw["revision"] = revision
    return kw


def load_tokenizer(source: str, *, revision: str | None = None, local_files_only: bool = True, what: str = "tokenizer"):
    """``AutoTokenizer.from_pretrained`` with the offline error wrapped."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(source), **_common_kwargs(revision, local_files_only))
    except (OSError, ValueError, EnvironmentError, KeyError) as exc:
        raise _wrap(what, str(source), revision, exc) from exc


def load_encoder(
    source: str,
    *,
    revision: str | None = None,
    dtype: torch.dtype | None = None,
    local_files_only: bool = True,
) -> nn.Module:
    """Load a text encoder exposing ``last_hidden_state``.

    T5 / mT5 / UMT5 load as their encoder-only classes (no decoder weights); BERT, XLM-R, LaBSE, ... as their base
    model through ``AutoModelForTextEncoding`` (falling back to ``AutoModel`` for types not in that mapping).
    """
    from transformers import AutoConfig, AutoModel, AutoModelForTextEncoding

    kw = _common_kwargs(revision, local_files_only)
    try:
        config = AutoConfig.from_pretrained(str(source), **kw)
        load_kw = dict(kw, dtype=dtype or torch.float32)
        try:
            cls = AutoModelForTextEncoding._model_mapping[type(config)]
        except KeyError:
            cls = AutoModel
        if cls is AutoModel:
            return AutoModel.from_pretrained(str(source), config=config, **load_kw)
        return cls.from_pretrained(str(source), config=config, **load_kw)
    except (OSError, ValueError, EnvironmentError) as exc:
        raise _wrap("encoder", str(source), revision, exc) from exc


def load_llm(
    source: str,
    *,
    revision: str | None = None,
    dtype: torch.dtype | None = None,
    local_files_only: bool = True,
) -> nn.Module:
    """``AutoModelForCausalLM.from_pretrained`` with the offline error wrapped."""
    from transformers import AutoConfig, AutoModelForCausalLM

    kw = _common_kwargs(revision, local_files_only)
    try:
        # config first: fails fast offline (the Auto class's adapter lookup ignores local_files_only and retries
        # the network for ~30 s unless adapter_kwargs carries it)
        config = AutoConfig.from_pretrained(str(source), **kw)
        load_kw = dict(kw, config=config, adapter_kwargs={"local_files_only": local_files_only},
                       dtype=dtype or torch.float32)
        return AutoModelForCausalLM.from_pretrained(str(source), **load_kw)
    except (OSError, ValueError, EnvironmentError) as exc:
        raise _wrap("LLM", str(source), revision, exc) from exc


def encoder_hidden_size(encoder: nn.Module) -> int:
    """Width of the encoder's last hidden state."""
    cfg = encoder.config
    for key in ("d_model", "hidden_size", "emb_dim", "dim"):
        value = getattr(cfg, key, None)
        if isinstance(value, int) and value > 0:
            return value
    raise ValueError(f"cannot tell the hidden size of encoder type {type(encoder).__name__}")


def llm_hidden_size(llm: nn.Module) -> int:
    """Width of the LLM's input embeddings."""
    return int(llm.get_input_embeddings().weight.shape[-1])
