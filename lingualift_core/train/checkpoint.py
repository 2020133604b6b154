"""Training checkpoints for exact resume: safetensors + JSON only (no pickle anywhere).

Layout of ``<checkpoint_dir>/step-00000042/``::

    trainable.safetensors   the trainable parameters, by model parameter name
    optimizer.safetensors   per-parameter optimizer state tensors, key "<param name>::<state key>"
    rng_rank<r>.safetensors torch CPU (and CUDA) generator states of process r
    rng_rank<r>.json        Python `random` and NumPy generator states of process r
    state.json              step, train config, dataset fingerprint, trainable names, optimizer param-group
                            hyper-parameters, scheduler state, loss / lr history, counters
    .complete               written last; the folder is built under a temporary name and renamed
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from .config import RESUME_IGNORED_KEYS

CKPT_FORMAT_VERSION = 1
COMPLETE = ".complete"
PREFIX = "step-"


class ConfigMismatchError(ValueError):
    """Resuming from a checkpoint made with a different configuration or data."""


def checkpoint_name(step: int) -> str:
    return f"{PREFIX}{step:08d}"


def list_checkpoints(checkpoint_dir: str | Path) -> list[Path]:
    """Complete checkpoints under ``checkpoint_dir``, oldest first."""
    root = Path(checkpoint_dir)
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and p.name.startswith(PREFIX) and (p / COMPLETE).is_file()]
    return sorted(found, key=lambda p: int(p.name[len(PREFIX):]))


def latest_checkpoint(checkpoint_dir: str | Path) -> Path | None:
    found = list_checkpoints(checkpoint_dir)
    return found[-1] if found else None


def _rng_tensors() -> dict[str, torch.Tensor]:
    out = {"torch_cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            out[f"torch_cuda_{i}"] = s
    return out


def _rng_json() -> dict[str, Any]:
    pv, pstate, pgauss = random.getstate()
    nkind, nstate, npos, nhas, ncached = np.random.get_state()
    return {
        "python": [pv, list(pstate), pgauss],
        "numpy": [nkind, [int(x) for x in nstate], int(npos), int(nhas), float(ncached)],
    }


def restore_rng(folder: Path, rank: int) -> bool:
    """Restore this process's generator states; False when the checkpoint has none for ``rank``."""
    tfile, jfile = folder / f"rng_rank{rank}.safetensors", folder / f"rng_rank{rank}.json"
    if not (tfile.is_file() and jfile.is_file()):
        return False
    tensors = load_file(str(tfile))
    torch.set_rng_state(tensors["torch_cpu"])
    if torch.cuda.is_available():
        states = [tensors[k] for k in sorted(tensors) if k.startswith("torch_cuda_")]
        if len(states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(states)
    data = json.loads(jfile.read_text())
    pv, pstate, pgauss = data["python"]
    random.setstate((pv, tuple(pstate), pgauss))
    nkind, nstate, npos, nhas, ncached = data["numpy"]
    np.random.set_state((nkind, np.asarray(nstate, dtype=np.uint32), npos, nhas, ncached))
    return True


def write_rank_rng(tmp: Path, rank: int) -> None:
    save_file(_rng_tensors(), str(tmp / f"rng_rank{rank}.safetensors"))
    (tmp / f"rng_rank{rank}.json").write_text(json.dumps(_rng_json()))


def optimizer_tensors(
    optimizer: torch.optim.Optimizer,
    names: Mapping[torch.nn.Parameter, str],
    gather: Callable[[torch.Tensor], torch.Tensor] = lambda t: t,
    keep: bool = True,
) -> tuple[dict[str, torch.Tensor], dict[str, dict[str, Any]]]:
    """Split optimizer state into tensors (safetensors) and scalars (JSON), keyed by parameter name.

    ``gather`` turns a shard into the full tensor (FSDP); it runs in parameter-name order, the same on every
    process. ``keep=False`` (processes that do not write): take part in the gathers, keep nothing."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for p, state in sorted(optimizer.state.items(), key=lambda item: names[item[0]]):
        name = names[p]
        for k, v in sorted(state.items()):
            if isinstance(v, torch.Tensor):
                full = gather(v.detach())
                if keep:
                    tensors[f"{name}::{k}"] = full.contiguous().cpu()
            else:
                scalars.setdefault(name, {})[k] = v
    return tensors, scalars


def load_optimizer_state(
    optimizer: torch.optim.Optimizer,
    params_by_name: Mapping[str, torch.nn.Parameter],
    tensors: Mapping[str, torch.Tensor],
    scalars: Mapping[str, Mapping[str, Any]],
    param_groups: list[dict[str, Any]],
    layout: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = lambda p, v: v.to(p.device),
) -> None:
    """Restores optimizer state saved by :func:`optimizer_tensors`; ``layout(param, full)`` places a full state
    tensor like its parameter (FSDP: this process's shard). Tensors are read and placed one at a time."""
    names = {key.rpartition("::")[0] for key in tensors} | set(scalars)
    unknown = names - set(params_by_name)
    if unknown:
        raise ConfigMismatchError(f"checkpoint has optimizer state for unknown parameters: {sorted(unknown)[:5]}")
    if len(param_groups) != len(optimizer.param_groups):
        raise ConfigMismatchError("checkpoint optimizer has a different number of parameter groups")
    state: dict[str, dict[str, Any]] = {}
    for key in tensors:
        name, _, k = key.rpartition("::")
        p, v = params_by_name[name], tensors[key]
        if k == "step":  # AdamW keeps its step count as a CPU scalar tensor
            state.setdefault(name, {})[k] = v
        else:
            state.setdefault(name, {})[k] = layout(p, v.to(dtype=p.dtype if v.is_floating_point() else v.dtype))
    for name, extra in scalars.items():
        state.setdefault(name, {}).update(extra)
    for name, st in state.items():
        optimizer.state[params_by_name[name]] = st
    for group, saved in zip(optimizer.param_groups, param_groups):
        for k, v in saved.items():
            group[k] = tuple(v) if isinstance(v, list) else v


def compare_configs(saved: Mapping[str, Any], current: Mapping[str, Any], where: str) -> None:
    """Raise :class:`ConfigMismatchError` naming the first differing key (ignoring bookkeeping keys)."""
    for key in sorted(set(saved) | set(current)):
        if key in RESUME_IGNORED_KEYS:
            continue
        a, b = saved.get(key, "<absent>"), current.get(key, "<absent>")
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
            a, b = list(a), list(b)
        if a != b:
            raise ConfigMismatchError(
                f"cannot resume from {where}: config key '{key}' differs (checkpoint: {a!r}, this run: {b!r})"
            )


def finalize(tmp: Path, final: Path, keep: int) -> None:
    """Mark ``tmp`` complete, move it to ``final`` and prune old checkpoints beyond ``keep``."""
    (tmp / COMPLETE).write_text("ok\n")
    if final.exists():
        shutil.rmtree(final)
    tmp.rename(final)
    found = list_checkpoints(final.parent)
    for old in found[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


def write_main_files(
    tmp: Path,
    *,
    trainable: Mapping[str, torch.Tensor],
    opt_tensors: Mapping[str, torch.Tensor],
    state: Mapping[str, Any],
) -> None:
    save_file({k: v.detach().contiguous().cpu() for k, v in trainable.items()}, str(tmp / "trainable.safetensors"))
    save_file(dict(opt_tensors), str(tmp / "optimizer.safetensors"))
    (tmp / "state.json").write_text(json.dumps(dict(state), indent=1, default=_json_default))


def _json_default(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.item() if obj.numel() == 1 else obj.tolist()
    if isinstance(obj, (np.integer, np.floating)):
        return obj.item()
    if isinstance(obj, tuple):
        return list(obj)
    raise TypeError(f"not JSON serialisable in a checkpoint: {type(obj).__name__}")


class LazyTensors(Mapping[str, torch.Tensor]):
    """A safetensors file read one tensor at a time: on resume every process reads the checkpoint, and none of
    them should hold all of a 7B model's full parameters and optimizer moments at once."""

    def __init__(self, path: Path) -> None:
        self._path = str(path)
        with safe_open(self._path, framework="pt") as f:
            self._keys = list(f.keys())

    def __getitem__(self, key: str) -> torch.Tensor:
        if key not in self._keys:
            raise KeyError(key)
        with safe_open(self._path, framework="pt") as f:
            return f.get_tensor(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


def read_checkpoint(folder: Path) -> tuple[dict[str, Any], LazyTensors, LazyTensors]:
    """(state, trainable parameters, optimizer tensors) of a complete checkpoint; tensors load on access."""
    if not (folder / COMPLETE).is_file():
        raise FileNotFoundError(f"not a complete checkpoint: {folder}")
    state = json.loads((folder / "state.json").read_text())
    if state.get("format_version") != CKPT_FORMAT_VERSION:
        raise ConfigMismatchError(f"unsupported checkpoint format {state.get('format_version')!r} in {folder}")
    return state, LazyTensors(folder / "trainable.safetensors"), LazyTensors(folder / "optimizer.safetensors")
