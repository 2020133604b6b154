"""Lazy re-exports for the library's packages (PEP 562).

A package ``__init__`` names what it exports and the submodule that defines each name; importing the package
then imports none of its submodules, and ``from lingualift_core.model import PromptTemplate`` imports only the
module that defines it. This keeps each stage's import closure, and so its DVC code dependencies
(``tests/test_dvc_deps.py``), to the files it really uses, and keeps torch out of stages that do not train.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """`(__getattr__, __dir__)` for `package`, whose `exports` map a public name to the relative submodule that
    defines it (e.g. ``{"PromptTemplate": ".template"}``)."""
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(exports[name], package), name)
        namespace[name] = value  # later lookups are plain attribute hits
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
