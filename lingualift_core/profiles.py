"""Profiles: override files that list only the params keys they change (`configs/tiny.yaml`, `configs/paper.yaml`),
and one run's overrides (the Prefect flow's `overrides`) that leave params.yaml as it was.

    lingualift profile configs/paper.yaml          # merges the profile into params.yaml (comments kept)
    with overridden_params(Path("params.yaml"), {"tokenize.batch_size": 500}): ...   # restored afterwards

`params.yaml` is the embedded default and equals the config dataclasses' defaults key for key
(`tests/test_config.py`), so a profile applied to it is the profile on top of the defaults. Config sections merge
key by key; every other value (a list, or a mapping such as `evaluate.benchmarks`) is replaced whole.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import shutil
import signal
import threading
from collections.abc import Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any

import yaml

from lingualift_core.config import ConfigError, Params, parse_params


def _sections(cls: type) -> dict[str, type | None]:
    """Field name -> the config class of a nested section (None for a plain value) of dataclass `cls`."""
    out: dict[str, type | None] = {}
    instance = cls()
    for f in dataclasses.fields(cls):
        value = getattr(instance, f.name)
        out[f.name] = type(value) if dataclasses.is_dataclass(value) and not isinstance(value, type) else None
    return out


def merge_into(base: MutableMapping[str, Any], override: Mapping[str, Any], cls: type = Params,
               prefix: str = "") -> int:
    """Writes `override` into `base` (both shaped like `cls`): sections recursively, other values whole. Returns
    the number of values written; an unknown key raises ConfigError naming it."""
    sections, written = _sections(cls), 0
    for key, value in override.items():
        dotted = f"{prefix}{key}"
        if key not in sections:
            raise ConfigError(f"{dotted}: unknown key; allowed keys{' of ' + prefix[:-1] if prefix else ''}: "
                              f"{', '.join(sections)}")
        nested = sections[key]
        if nested is not None and isinstance(value, Mapping) and isinstance(base.get(key), MutableMapping):
            written += merge_into(base[key], value, nested, dotted + ".")
        else:
            base[key] = value
            written += 1
    return written


def apply_profile(params_text: str, profile_text: str, profile_name: str = "profile") -> tuple[str, int]:
    """`params_text` with the profile's values merged in (comments and key order kept), validated; and the number
    of values written."""
    override = yaml.safe_load(profile_text) or {}
    if not isinstance(override, Mapping):
        raise ConfigError(f"{profile_name}: got {type(override).__name__}, expected a mapping of params sections")
    from ruamel.yaml import YAML  # round trip: comments and key order kept

    rt = YAML()
    rt.width = 120
    base = rt.load(params_text)
    try:
        written = merge_into(base, rt.load(profile_text) or {})
    except ConfigError as err:
        raise ConfigError(f"{profile_name}: {err}") from None
    out = io.StringIO()
    rt.dump(base, out)
    parse_params(yaml.safe_load(out.getvalue()))  # the merged file is valid, or this names the key
    return out.getvalue(), written


def apply_profile_file(profile: Path, params: Path) -> int:
    """Merges the profile file into the params file in place (atomically); returns the number of values written."""
    from lingualift_core import artifacts

    for path in (profile, params):
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
    text, written = apply_profile(params.read_text(encoding="utf-8"), profile.read_text(encoding="utf-8"),
                                  str(profile))
    tmp = artifacts.tmp_sibling(params)
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(params)
    return written


def nest(dotted: Mapping[str, Any]) -> dict[str, Any]:
    """{'tokenize.batch_size': 500} -> {'tokenize': {'batch_size': 500}}."""
    out: dict[str, Any] = {}
    for key, value in dotted.items():
        *parents, leaf = key.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def override_backup(params: Path) -> Path:
    """Where `overridden_params` keeps the original params file while overrides are in effect."""
    return params.with_name(f".{params.name}.before-overrides")


# set by `overridden_params` for the processes it starts (DVC, the stages): their backup is a live run's, not a
# killed one's
ACTIVE_ENV = "LINGUALIFT_OVERRIDES_IN_EFFECT"


def check_no_pending_overrides(params: Path) -> None:
    """Raises when a run with overrides was killed before it could restore `params` (its backup is still there):
    every later run would otherwise use the overrides as if they were the user's params."""
    backup = override_backup(params)
    if backup.exists() and os.environ.get(ACTIVE_ENV) != str(backup.resolve()):
        raise FileExistsError(f"{params}: holds the overrides of a run that was killed before it restored the "
                              f"file; its original is {backup}. Restore it with `mv {backup} {params}` (or delete "
                              "the backup to keep the overrides)")


@contextlib.contextmanager
def overridden_params(params: Path, overrides: Mapping[str, Any]) -> Iterator[None]:
    """`params` with the dotted-key `overrides` merged in (validated, comments kept) inside the block, and the
    original file back afterwards: on success, on an exception, and on SIGTERM (a cancelled Prefect run). A
    SIGKILL leaves the backup beside the file; the next run, and DVC's `inputs` stage, stop and say so."""
    check_no_pending_overrides(params)
    if not overrides:
        yield
        return
    text, _ = apply_profile(params.read_text(encoding="utf-8"), yaml.safe_dump(nest(overrides)), "overrides")
    from lingualift_core import artifacts

    backup = override_backup(params)
    tmp = artifacts.tmp_sibling(backup)
    shutil.copy2(params, tmp)
    tmp.replace(backup)  # the original, complete, before params.yaml changes
    previous = None
    if threading.current_thread() is threading.main_thread():
        def _terminate(signum: int, frame: Any) -> None:
            raise SystemExit(128 + signum)
        previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        tmp = artifacts.tmp_sibling(params)
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(params)
        os.environ[ACTIVE_ENV] = str(backup.resolve())
        yield
    finally:
        os.environ.pop(ACTIVE_ENV, None)
        os.replace(backup, params)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
