"""Stage `base_models`: the frozen multilingual encoder and the English LLM that LinguaLIFT starts from.

`base_models.source` picks them:
- `tiny` (the embedded default): BPE tokenizers are trained and a BERT encoder (masked LM on every corpus) and
  a Llama LLM (causal LM on English text plus `A <sep> A` copy documents) are pre-trained here; both are saved
  as standard Hugging Face folders with their tokenizers under `data/models/base/{encoder,llm}/`.
- `hub` (the paper: mT5-XL encoder + Llama-2-7B): nothing is copied. The stage checks that both configs and
  tokenizers load (offline unless `hub.local_files_only: false`) and records the ids and revisions; the next
  stages load the weights by id. An id may also be a local folder (a pre-downloaded snapshot).

Either way the stage writes `data/models/base/models.json`, the one place later stages read the sources from
(`base_sources`); a local source is stored relative to `data/models/base/` so the folder can move.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lingualift_core import artifacts
from lingualift_core.config import ConfigError, Params
from lingualift_core.stages.common import Paths, Progress, setup_logging, write_meta, write_metrics
from lingualift_core.train.tiny_base import build_tiny

log = logging.getLogger("lingualift.base_models")

# the params keys each stage reads (a section name: all of it): dvc.yaml `params` and run_meta.json's `config`
# list exactly these (tests/test_dvc_deps.py; the end-to-end test audits the reads)
PARAMS: dict[str, tuple[str, ...]] = {
    "base_models": ("pipeline.seed", "pipeline.pivot", "pipeline.languages", "base_models"),
}

MODELS_FILE = "models.json"
PARTS = ("encoder", "llm")


def base_dir(paths: Paths) -> Path:
    """`data/models/base/`: the stage's single output folder."""
    return paths.data / "models" / "base"


def plot_file(paths: Paths, name: str) -> Path:
    """`data/plots/<name>.json`: a DVC plot ([{step, loss, lr}, ...])."""
    return paths.data / "plots" / f"{name}.json"


@dataclass(frozen=True)
class BaseSource:
    """Where one base model is loaded from: a hub id (with revision) or an absolute local folder."""

    source: str
    revision: str | None
    local: bool


def base_sources(paths: Paths) -> dict[str, BaseSource]:
    """The `encoder` and `llm` sources recorded by this stage (local folders resolved to absolute paths)."""
    folder = artifacts.require_complete(base_dir(paths))
    doc = json.loads((folder / MODELS_FILE).read_text(encoding="utf-8"))
    out = {}
    for part in PARTS:
        entry = doc[part]
        source = str((folder / entry["source"]).resolve()) if entry["local"] else entry["source"]
        out[part] = BaseSource(source, entry.get("revision"), bool(entry["local"]))
    return out


def write_plot(path: Path, history: Sequence[Mapping[str, Any]]) -> Path:
    """A DVC plot file: one {step, loss, lr} row per optimiser step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{"step": int(h["step"]), "loss": round(float(h["loss"]), 6), "lr": float(h["lr"])} for h in history]
    return artifacts.write_json(path, rows)


@contextlib.contextmanager
def _progress(desc: str, total: int, log_every: int) -> Iterator[Callable[[int, int, Mapping[str, Any]], None]]:
    """A progress bar over one model's pre-training, and its `on_step` (a log line every `log_every` steps)."""
    with Progress(f"base_models:{desc}", total=total) as bar:
        def on_step(step: int, total: int, metrics: Mapping[str, Any]) -> None:
            bar.update(1)
            if log_every and (step % log_every == 0 or step == total):
                log.info("%s step %d/%d loss %.4f lr %.3g", desc, step, total, metrics["loss"], metrics["lr"])

        yield on_step


def read_texts(paths: Paths, params: Params) -> dict[str, Any]:
    """Corpora per language and the English task texts (questions; problems with solutions)."""
    corpora = {}
    for lang in params.pipeline.languages:
        table = artifacts.read_table(paths.corpus(lang), artifacts.CORPUS, columns=["text"])
        texts = [t for t in table.column("text").to_pylist() if t and t.strip()]
        if not texts:
            raise ConfigError(f"base_models: corpus {paths.corpus(lang)} has no text; check the prepare stage")
        corpora[lang] = texts
    columns = ["instruction", "input", "output"]
    sft = artifacts.read_table(paths.math_sft, artifacts.SFT, columns=columns).slice(
        0, params.base_models.tiny.task_problems).to_pylist()
    # reading practice (problems with one more distractor) joins the LLM's task stream; prepare writes it for the
    # compact world only
    reading = (artifacts.read_table(paths.math_reading, artifacts.SFT, columns=columns).to_pylist()
               if paths.math_reading.is_file() else [])
    dev = (artifacts.read_table(paths.math_dev, artifacts.SFT, columns=["instruction", "input", "answer"]).to_pylist()
           if paths.math_dev.is_file() else [])
    return {"corpora": corpora, "questions": [r["input"] for r in sft], "dev": dev,
            "problems": [f"{r['instruction']}\n{r['input']}\n{r['output']}" for r in sft + reading]}


def check_hub(params: Params) -> dict[str, Any]:
    """Loads both configs and tokenizers (no weights) so that a wrong id fails here, in one line."""
    from transformers import AutoConfig

    from lingualift_core.model.loading import ModelLoadError, load_tokenizer

    hub = params.base_models.hub
    out: dict[str, Any] = {"source": "hub"}
    for part, source, revision in (("encoder", hub.encoder, hub.encoder_revision),
                                   ("llm", hub.llm, hub.llm_revision)):
        kw: dict[str, Any] = {"local_files_only": hub.local_files_only}
        if revision:
            kw["revision"] = revision
        try:
            config = AutoConfig.from_pretrained(source, **kw)
            tok = load_tokenizer(source, revision=revision, local_files_only=hub.local_files_only,
                                 what=f"{part} tokenizer")
        except ModelLoadError as err:
            raise ConfigError(f"base_models.hub.{part}: {err}") from None
        except (OSError, ValueError) as err:
            raise ConfigError(f"base_models.hub.{part}: cannot load the config of {source!r} "
                              f"({str(err).splitlines()[0][:200]}); pass a local folder or allow downloads") from None
        hidden = next((getattr(config, k) for k in ("d_model", "hidden_size")
                       if isinstance(getattr(config, k, None), int)), None)
        out[part] = {"id": source, "revision": revision, "model_type": config.model_type, "hidden_size": hidden,
                     "vocab_size": len(tok), "commit": getattr(config, "_commit_hash", None)}
    return out


def run(params: Params, root: Path) -> dict:
    """Builds (`tiny`) or records (`hub`) the base models in `data/models/base/`; returns the metrics."""
    paths = Paths(root)
    cfg = params.base_models
    t0, c0 = time.perf_counter(), time.process_time()
    log.info("base_models: source=%s", cfg.source)
    plots = {part: plot_file(paths, f"base_models_{part}_loss") for part in PARTS}
    with artifacts.atomic_dir(base_dir(paths)) as out:
        if cfg.source == "tiny":
            texts = read_texts(paths, params)
            metrics = build_tiny(cfg.tiny, params.pipeline.seed, params.pipeline.pivot, texts, out,
                                 progress=_progress, init=setup_logging)
            for part in PARTS:
                write_plot(plots[part], metrics[part].pop("history"))
            doc = {part: {"source": part, "revision": None, "local": True} for part in PARTS}
        else:
            metrics = check_hub(params)
            hub = cfg.hub
            doc = {"encoder": {"source": hub.encoder, "revision": hub.encoder_revision, "local": False},
                   "llm": {"source": hub.llm, "revision": hub.llm_revision, "local": False}}
            for part in PARTS:  # no loss curves: keep the declared plot outputs present and empty
                write_plot(plots[part], [])
        metrics["seconds"] = round(time.perf_counter() - t0, 1)
        metrics["cpu_seconds"] = round(time.process_time() - c0, 1)
        artifacts.write_json(out / MODELS_FILE, doc)
        write_meta(out, "base_models", params, PARAMS["base_models"], {"metrics": metrics, "models": doc})
    write_metrics(paths, "base_models", metrics)
    log.info("base_models: done in %.0f s", metrics["seconds"])
    return metrics
