"""Stage `inputs`: validates the whole params file, then fingerprints every file or folder that params name.

DVC hashes what `dvc.yaml` lists, but a stage also reads files whose paths are params values (MGSM folders,
pretrained `.vec` files, dictionaries, local corpora, local model folders). This stage runs on every
`dvc repro` (`always_changed`) and writes one manifest per stage, `data/inputs/<stage>.json`, holding a
content fingerprint of each such path; every stage lists its manifest as a dependency. So:

- editing a params-named input changes exactly the manifests of the stages whose params name it, and DVC
  reruns those stages and their dependents (and nothing else: unchanged manifests keep their hashes);
- a params error stops the run here, before DVC has removed any stage's outputs.

Which params a stage reads comes from its `params:` list in `dvc.yaml` (one place). Strings that name an
existing path are fingerprinted, except paths inside the outputs of a `dvc.yaml` stage (DVC tracks those).
In a per-language stage (`name@lang`), a mapping keyed by language codes contributes only that language.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from lingualift_core import artifacts
from lingualift_core.config import Params, section_to_dict
from lingualift_core.stages.common import Paths, write_meta

log = logging.getLogger("lingualift.inputs")

# the params keys each stage reads (a section name: all of it): dvc.yaml `params` and run_meta.json's `config`
# list exactly these (tests/test_dvc_deps.py; the end-to-end test audits the reads)
PARAMS: dict[str, tuple[str, ...]] = {
    "inputs": (),
}

STAGE = "inputs"
_CHUNK = 1 << 20
_FULL_HASH_LIMIT = 1 << 30  # larger files (model shards): size + first and last MiB, so a 13 GB folder is quick


def stage_params(dvc_file: Path, params: Mapping[str, Any]) -> dict[str, list[str]]:
    """Expanded stage name -> the params keys its `dvc.yaml` entry declares (foreach items substituted)."""
    doc = yaml.safe_load(dvc_file.read_text(encoding="utf-8")) or {}
    out: dict[str, list[str]] = {}
    for name, spec in (doc.get("stages") or {}).items():
        if "foreach" in spec:
            items = _lookup(params, spec["foreach"])
            if not isinstance(items, (list, tuple)):
                raise ValueError(f"{dvc_file}: stage {name}: foreach {spec['foreach']!r} is not a list in params")
            for item in items:
                out[f"{name}@{item}"] = [k.replace("${item}", str(item)) for k in _keys(spec["do"])]
        else:
            out[name] = _keys(spec)
    return out


def stage_outs(dvc_file: Path, params: Mapping[str, Any]) -> list[str]:
    """Every output path of `dvc.yaml` (foreach items substituted), relative to the project root."""
    doc = yaml.safe_load(dvc_file.read_text(encoding="utf-8")) or {}
    outs: list[str] = []
    for spec in (doc.get("stages") or {}).values():
        body = spec.get("do", spec)
        items = _lookup(params, spec["foreach"]) if "foreach" in spec else [None]
        for entry in body.get("outs", []) + body.get("metrics", []) + body.get("plots", []):
            path = next(iter(entry)) if isinstance(entry, Mapping) else entry
            outs += [path if item is None else path.replace("${item}", str(item)) for item in items]
    return outs


def _keys(spec: Mapping[str, Any]) -> list[str]:
    keys: list[str] = []
    for entry in spec.get("params", []):
        if isinstance(entry, Mapping):  # {other_params_file: [keys]}
            for listed in entry.values():
                keys += list(listed or [])
        else:
            keys.append(entry)
    return keys


def _lookup(params: Mapping[str, Any], ref: Any) -> Any:
    """`${a.b}` or `a.b` in the params mapping (None when absent)."""
    key = re.sub(r"^\$\{(.*)\}$", r"\1", str(ref)) if isinstance(ref, str) else ref
    if not isinstance(key, str):
        return ref
    value: Any = params
    for part in key.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def named_paths(value: Any, key: str, lang: str | None, langs: set[str]) -> Iterator[tuple[str, str]]:
    """(params key, string) for every string leaf under `value`; mappings keyed by language codes keep only
    `lang` when one is given."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, Mapping):
        by_lang = lang is not None and value and set(map(str, value)) <= langs
        for k, v in value.items():
            if not by_lang or str(k) == lang:
                yield from named_paths(v, f"{key}.{k}", lang, langs)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from named_paths(v, f"{key}[{i}]", lang, langs)


def fingerprint(path: Path) -> dict[str, Any]:
    """Content fingerprint of a file or folder (hidden entries skipped): kind, files, bytes, md5."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()
                                                  and not any(part.startswith(".") for part in p.relative_to(path).parts))
    digest = hashlib.md5()
    size = 0
    for f in files:
        n = f.stat().st_size
        size += n
        digest.update(f"{f.relative_to(path) if f != path else f.name}\0{n}\0{_file_md5(f, n)}\n".encode())
    return {"kind": "file" if path.is_file() else "folder", "files": len(files), "bytes": size,
            "md5": digest.hexdigest()}


def _file_md5(path: Path, size: int) -> str:
    h = hashlib.md5()
    with path.open("rb") as fh:
        if size <= _FULL_HASH_LIMIT:
            for block in iter(lambda: fh.read(_CHUNK), b""):
                h.update(block)
        else:
            h.update(fh.read(_CHUNK))
            fh.seek(size - _CHUNK)
            h.update(fh.read(_CHUNK))
    return h.hexdigest()


def manifests(params: Params, root: Path) -> dict[str, dict[str, Any]]:
    """Stage name -> {params key: {path, kind, files, bytes, md5}} of the existing paths its params name."""
    root = root.resolve()
    raw = {name: section_to_dict(getattr(params, name)) for name in params.__dataclass_fields__}
    dvc_file = root / "dvc.yaml"
    if not dvc_file.is_file():
        raise FileNotFoundError(f"{dvc_file}: missing; stage {STAGE} reads each stage's params from it")
    tracked = [(root / p).resolve() for p in stage_outs(dvc_file, raw)]
    langs = {str(x) for x in params.pipeline.languages}
    out: dict[str, dict[str, Any]] = {}
    for stage, keys in stage_params(dvc_file, raw).items():
        if stage == STAGE:
            continue
        lang = stage.split("@", 1)[1] if "@" in stage else None
        found: dict[str, Any] = {}
        for key in keys:
            for name, text in named_paths(_lookup(raw, key), key, lang, langs):
                path = _existing(root, text)
                if path is None or path == root or any(path == t or t in path.parents or path in t.parents
                                                       for t in tracked):
                    continue
                found[name] = {"path": text, **fingerprint(path)}
        out[stage] = dict(sorted(found.items()))
    return out


def _existing(root: Path, text: str) -> Path | None:
    if not text or len(text) > 4096 or "\n" in text or "\0" in text:
        return None
    path = Path(text).expanduser()
    path = (path if path.is_absolute() else root / path).resolve()
    return path if path.exists() else None


def leftover_checkpoints(paths: Paths) -> list[str]:
    """One line per `data/checkpoints/<stage>` folder: a training stage removes its checkpoints once its model is
    saved, so any left are from an unfinished run (also when DVC later restored the stage from its cache)."""
    notes = []
    root = paths.data / "checkpoints"
    for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
        notes.append(f"{folder} ({size / 2**20:.0f} MiB): checkpoints of an unfinished {folder.name} run; the next "
                     f"{folder.name} run resumes from them when its inputs and params match and discards them "
                     "otherwise; delete the folder to free the space")
    return notes


def run(params: Params, root: Path) -> dict:
    """Writes `data/inputs/<stage>.json` for every stage of `dvc.yaml`; returns {stage: number of inputs}."""
    paths = Paths(root)
    found = manifests(params, root)
    with artifacts.atomic_dir(paths.data / STAGE) as out:
        for stage, inputs in found.items():
            artifacts.write_json(out / f"{stage}.json", {"stage": stage, "inputs": inputs})
        write_meta(out, STAGE, params, PARAMS[STAGE])
    for note in leftover_checkpoints(paths):
        log.warning("inputs: %s", note)
    named = {stage: len(inputs) for stage, inputs in found.items() if inputs}
    log.info("inputs: params valid; %d stages, %d params-named inputs%s", len(found), sum(named.values()),
             f" ({', '.join(f'{s}: {n}' for s, n in named.items())})" if named else "")
    return named
