"""Pre-training the tiny base models of the embedded default (library): tokenizers, the BERT encoder (masked LM on
every corpus) and the Llama LLM (causal LM on English text, copies, task problems and arithmetic), in one
process, side by side, or data parallel over gloo; the models are saved as Hugging Face folders.

The `base_models` stage (`lingualift_core/stages/base_models.py`) reads the texts, passes a progress factory and
writes the loss curves and metrics.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lingualift_core.config import TinyModelsConfig
    from lingualift_core.train.pretrain import OnStep

log = logging.getLogger("lingualift.base_models")

# (desc, total steps, log every) -> a context manager yielding the `on_step` of one model's pre-training
ProgressFactory = Callable[[str, int, int], "AbstractContextManager[OnStep]"]


def _split(texts: list[str], n_eval: int) -> tuple[list[str], list[str]]:
    """(train, held out): the last `n_eval` texts (at most a tenth of them) are held out."""
    k = min(n_eval, len(texts) // 10)
    return (texts[: len(texts) - k], texts[len(texts) - k:]) if k else (texts, [])


def _tokenizer(cfg: TinyModelsConfig, texts: Sequence[str], kind: str, vocab_size: int, max_positions: int):
    """The tokenizer `base_models.tiny.tokenizer` asks for (`vocab_size` applies to BPE only)."""
    from lingualift_core.model.tiny import train_tokenizer, train_word_tokenizer

    if cfg.tokenizer == "word":
        return train_word_tokenizer(texts, kind=kind, max_number=cfg.max_number, model_max_length=max_positions)
    return train_tokenizer(texts, vocab_size=vocab_size, kind=kind, model_max_length=max_positions)


def build_tiny(cfg: TinyModelsConfig, seed: int, pivot: str, texts: Mapping[str, Any], out: Path, *,
               progress: ProgressFactory | None = None, init: Callable[[], None] | None = None) -> dict[str, Any]:
    """Trains the tokenizers, pre-trains both tiny models and saves them under `out/{encoder,llm}`.

    `texts`: {"corpora": {lang: [line, ...]}, "questions", "problems", "dev"} (the `base_models` stage reads them).
    `progress(desc, total, log_every)` gives the primary process an `on_step` for each model (a context manager;
    module-level, so that the spawned processes can receive it); `init` runs first in every spawned process.

    `base_models.tiny.processes` > 1: data parallel, every process (one core each) draws the same batches and
    trains on its share of their rows; the LLM first, then the encoder; this process (rank 0) evaluates and
    saves. `base_models.tiny.parallel`: the encoder trains in a second process while this one trains the LLM.
    Returns the metrics (accuracies on held-out text, final losses, parameter counts, seconds) and, under
    `history`, each model's loss curve."""
    split = {lang: _split(t, cfg.eval_sentences) for lang, t in texts["corpora"].items()}
    enc_args = (cfg, seed, split, texts["questions"], out, progress)
    llm_args = (cfg, seed, split[pivot], texts, out, progress)
    if cfg.processes > 1:
        llm_metrics, enc_metrics = _data_parallel(cfg.processes, llm_args, enc_args, init)
    elif cfg.parallel:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn, not fork: the parent may already hold torch's thread pools
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=init) as pool:
            encoder = pool.submit(_encoder_process, os.getpid(), enc_args)
            llm_metrics = build_llm(*llm_args)
            enc_metrics = encoder.result()
    else:
        enc_metrics = build_encoder(*enc_args)
        llm_metrics = build_llm(*llm_args)
    return {"source": "tiny", "encoder": enc_metrics, "llm": llm_metrics}


def _data_parallel(world: int, llm_args: tuple, enc_args: tuple, init: Callable[[], None] | None
                   ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Rank 0 here, ranks 1.. in spawned processes; each runs `build_llm` then `build_encoder` in one gloo group.
    Returns rank 0's (llm, encoder) metrics."""
    import multiprocessing
    import socket
    from concurrent.futures import ProcessPoolExecutor

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with ProcessPoolExecutor(max_workers=world - 1, mp_context=multiprocessing.get_context("spawn")) as pool:
        replicas = [pool.submit(_replica, rank, world, port, llm_args, enc_args, init, os.getpid())
                    for rank in range(1, world)]
        result = _replica(0, world, port, llm_args, enc_args, None)
        for r in replicas:
            r.result()  # a replica's failure surfaces here
    return result


def end_with_parent(parent: int) -> None:
    """Ends this spawned process when `parent` (the stage's process) ends: on Linux the kernel then sends it
    SIGTERM. Otherwise a replica whose stage was killed waits in a collective until the group's timeout, on a
    core. Elsewhere a no-op."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(pr_set_pdeathsig, signal.SIGTERM) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed for a base_models replica")
    if os.getppid() != parent:  # the parent ended before the call
        os.kill(os.getpid(), signal.SIGTERM)


def _encoder_process(parent: int, enc_args: tuple) -> dict[str, Any]:
    """`build_encoder` in the second process of `base_models.tiny.parallel`."""
    end_with_parent(parent)
    return build_encoder(*enc_args)


def _replica(rank: int, world: int, port: int, llm_args: tuple, enc_args: tuple, init: Callable[[], None] | None,
             parent: int | None = None) -> tuple[dict, dict]:
    """One process of `_data_parallel`; `parent`: the stage's process, for a spawned rank (it ends with it)."""
    from datetime import timedelta

    import torch.distributed as dist

    if parent is not None:
        end_with_parent(parent)
    if init is not None:
        init()
    # a bounded wait: a replica blocked in a collective after rank 0 failed ends instead of hanging the stage
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            timeout=timedelta(minutes=10))
    try:
        return build_llm(*llm_args), build_encoder(*enc_args)
    finally:
        dist.destroy_process_group()


def _reporting(progress: ProgressFactory | None, desc: str, steps: int) -> AbstractContextManager[OnStep | None]:
    """The `on_step` of one model's pre-training (a log line every tenth of the steps), or None without `progress`
    (a replica: rank 0 reports)."""
    return progress(desc, steps, max(1, steps // 10)) if progress else contextlib.nullcontext()


def _primary() -> bool:
    """False in the replicas of a data-parallel run (they train, rank 0 evaluates and saves)."""
    import torch.distributed as dist

    return not (dist.is_available() and dist.is_initialized() and dist.get_rank() != 0)


def build_encoder(cfg: TinyModelsConfig, seed: int, split: Mapping[str, tuple[list[str], list[str]]],
                  questions: Sequence[str], out: Path, progress: ProgressFactory | None = None) -> dict[str, Any]:
    """The multilingual encoder: tokenizer + masked LM on every language's corpus (+ the English task questions);
    saved under `out/encoder`; returns its metrics."""
    from lingualift_core.model.tiny import base_encoder, tiny_encoder_config
    from lingualift_core.train.precision import resolve_precision
    from lingualift_core.train.pretrain import mlm_accuracy, pretrain_encoder_mlm

    enc_cfg = cfg.encoder
    enc_precision = resolve_precision(enc_cfg.precision, "cpu", key="base_models.tiny.encoder.precision")
    t0, c0 = time.perf_counter(), time.process_time()
    enc_texts = [t for train, _ in split.values() for t in train]
    if enc_cfg.math_text:
        enc_texts += list(questions)
    enc_tok = _tokenizer(cfg, enc_texts, "encoder", enc_cfg.vocab_size, enc_cfg.max_positions)
    config = tiny_encoder_config(len(enc_tok), hidden=enc_cfg.hidden, layers=enc_cfg.layers, heads=enc_cfg.heads,
                                 max_positions=enc_cfg.max_positions)
    primary = _primary()
    with _reporting(progress if primary else None, "encoder", enc_cfg.steps) as on_step:
        mlm, history = pretrain_encoder_mlm(
            enc_texts, enc_tok, config, steps=enc_cfg.steps, batch_size=enc_cfg.batch_size, lr=enc_cfg.lr,
            seq_len=enc_cfg.seq_len, seed=seed, warmup_ratio=enc_cfg.warmup_ratio, num_threads=cfg.threads,
            on_step=on_step, bf16=enc_precision == "bf16")
    if not primary:
        return {}
    held = [t for _, h in split.values() for t in h]
    metrics = {
        "vocab_size": len(enc_tok),
        "parameters": sum(p.numel() for p in mlm.parameters()),
        "train_texts": len(enc_texts),
        "precision": enc_precision,
        "final_loss": _tail_mean(history),
        "mlm_accuracy": mlm_accuracy(mlm, enc_tok, held, seed=seed, num_threads=cfg.threads) if held else None,
        "mlm_accuracy_per_lang": {lang: round(mlm_accuracy(mlm, enc_tok, h, seed=seed, num_threads=cfg.threads), 4)
                                  for lang, (_, h) in split.items() if h},
        "steps": enc_cfg.steps,
        "seconds": round(time.perf_counter() - t0, 1),
        "cpu_seconds": round(time.process_time() - c0, 1),
    }
    base_encoder(mlm, seed=seed).save_pretrained(out / "encoder")
    enc_tok.save_pretrained(out / "encoder")
    metrics["history"] = history
    log.debug("encoder: %s", {k: v for k, v in metrics.items() if k != "mlm_accuracy_per_lang"})
    log.info("encoder: %d steps in %.0f s, held-out masked-word accuracy %s", metrics["steps"], metrics["seconds"],
             "-" if metrics["mlm_accuracy"] is None else f"{metrics['mlm_accuracy']:.3f}")
    return metrics


def build_llm(cfg: TinyModelsConfig, seed: int, english: tuple[list[str], list[str]], texts: Mapping[str, Any],
              out: Path, progress: ProgressFactory | None = None) -> dict[str, Any]:
    """The English LLM: tokenizer + causal LM on English text, copy documents, the task problems and arithmetic
    facts (each stream at its configured share); saved under `out/llm`; returns its metrics (with the gates:
    English dev accuracy before any fine-tuning, copy accuracy)."""
    from lingualift_core.model.tiny import tiny_llm_config
    from lingualift_core.train.corpora import arithmetic_drills, instruction_copies
    from lingualift_core.train.precision import resolve_precision
    from lingualift_core.train.pretrain import copy_accuracy, pretrain_llm_clm, task_accuracy

    llm_cfg = cfg.llm
    llm_precision = resolve_precision(llm_cfg.precision, "cpu", key="base_models.tiny.llm.precision")
    t0, c0 = time.perf_counter(), time.process_time()
    en_train, en_held = english
    problems = texts["problems"] if llm_cfg.math_text else []
    drills = arithmetic_drills(llm_cfg.arithmetic_drills, seed=seed + 3, max_operand=cfg.max_number + 1)
    llm_texts = list(en_train)
    llm_texts += instruction_copies(en_train, llm_cfg.instruction_copies, seed=seed + 2,
                                    scramble_fraction=llm_cfg.copy_scramble_fraction)
    streams = []
    for docs, share in ((problems, llm_cfg.task_fraction), (drills, llm_cfg.arithmetic_fraction)):
        if share > 0:
            streams.append((docs, share))
        else:
            llm_texts += docs
    llm_tok = _tokenizer(cfg, llm_texts + [d for docs, _ in streams for d in docs], "llm", llm_cfg.vocab_size,
                         llm_cfg.max_positions)
    config = tiny_llm_config(len(llm_tok), hidden=llm_cfg.hidden, layers=llm_cfg.layers, heads=llm_cfg.heads,
                             max_positions=llm_cfg.max_positions)
    primary = _primary()
    with _reporting(progress if primary else None, "llm", llm_cfg.steps) as on_step:
        llm, history = pretrain_llm_clm(
            llm_texts, llm_tok, config, steps=llm_cfg.steps, batch_size=llm_cfg.batch_size, lr=llm_cfg.lr,
            seq_len=llm_cfg.seq_len, seed=seed + 1, warmup_ratio=llm_cfg.warmup_ratio,
            copy_fraction=llm_cfg.copy_fraction, copy_fraction_start=llm_cfg.copy_fraction_start,
            copy_decay_ratio=llm_cfg.copy_decay_ratio, copy_sources=en_train,
            copy_max_sentences=llm_cfg.copy_max_sentences, copy_scramble_fraction=llm_cfg.copy_scramble_fraction,
            copy_random_fraction=llm_cfg.copy_random_fraction, streams=streams,
            num_threads=cfg.threads, compile_layers=llm_cfg.compile_layers,
            number_features=llm_cfg.number_features, bf16=llm_precision == "bf16",
            on_step=on_step)
    if not primary:
        return {}
    copy = (copy_accuracy(llm, llm_tok, en_held, num_threads=cfg.threads, return_details=True)
            if en_held else {"token_accuracy": None, "exact_match": None})
    dev = task_accuracy(llm, llm_tok, texts["dev"], num_threads=cfg.threads) if texts["dev"] else None
    metrics = {
        "english_dev_accuracy": dev["accuracy"] if dev else None,
        "english_dev_n": dev["n"] if dev else 0,
        "english_dev_examples": dev["examples"] if dev else [],
        "vocab_size": len(llm_tok),
        "parameters": sum(p.numel() for p in llm.parameters()),
        "train_texts": len(llm_texts),
        "precision": llm_precision,
        "final_loss": _tail_mean(history),
        "copy_accuracy": copy["token_accuracy"],
        "copy_exact_match": copy["exact_match"],
        "steps": llm_cfg.steps,
        "seconds": round(time.perf_counter() - t0, 1),
        "cpu_seconds": round(time.process_time() - c0, 1),
    }
    llm.save_pretrained(out / "llm")
    llm_tok.save_pretrained(out / "llm")
    metrics["history"] = history
    log.debug("llm: %s", {k: v for k, v in metrics.items() if k != "english_dev_examples"})
    log.info("llm: %d steps in %.0f s, English dev accuracy %s (gate: the task before any fine-tuning), copy "
             "accuracy %s", metrics["steps"], metrics["seconds"],
             *("-" if metrics[k] is None else f"{metrics[k]:.3f}" for k in ("english_dev_accuracy", "copy_accuracy")))
    return metrics


def _tail_mean(history: Sequence[Mapping[str, Any]], n: int = 20) -> float:
    """Mean loss of the last `n` steps (one step's loss is noisy)."""
    tail = [float(h["loss"]) for h in history[-n:]]
    return round(sum(tail) / len(tail), 5)
