"""What each DVC stage's code really imports, read from the source (used by `test_dvc_deps.py`).

A stage runs `lingualift_core/stages/run.py` and its own module under `lingualift_core/stages/`; its code
dependencies are every project file those import, transitively, at any scope (function-level imports too),
with the packages' `__init__` files on the way. A package `__init__` that re-exports lazily
(`lingualift_core._lazy.lazy_exports`) costs only the submodules a name is taken from.

    python -m tests.dvc_deps            # prints each stage's code deps as dvc.yaml should list them
    python -m tests.dvc_deps --write    # rewrites the code deps in dvc.yaml (everything else stays as written)
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "lingualift_core"
RUNNER = REPO / PACKAGE / "stages" / "run.py"


def module_file(name: str) -> Path | None:
    """The project file of a dotted module name (None outside the package)."""
    if name != PACKAGE and not name.startswith(PACKAGE + "."):
        return None
    base = REPO.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def lazy_exports(init: Path) -> dict[str, str]:
    """Name -> absolute module of a lazily re-exporting package `__init__` ({} for an eager one)."""
    package = _module_name(init)
    for node in ast.walk(ast.parse(init.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "lazy_exports":
            exports = ast.literal_eval(node.args[1])
            return {name: package + mod if mod.startswith(".") else mod for name, mod in exports.items()}
    return {}


def _chain(name: str) -> set[Path]:
    """Files that `import name` runs: every package `__init__` on the way, then the module."""
    parts = name.split(".")
    return {f for i in range(1, len(parts) + 1) if (f := module_file(".".join(parts[:i]))) is not None}


def _runtime_nodes(tree: ast.AST):
    """Every node except those under `if TYPE_CHECKING:` (imports for type checkers only)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and getattr(child.test, "id", None) == "TYPE_CHECKING":
                todo.extend(child.orelse)
            else:
                todo.append(child)


@functools.cache
def direct_imports(path: Path) -> frozenset[Path]:
    """Project files that running `path` imports directly (any scope)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: set[Path] = set()
    bound: dict[str, dict[str, str]] = {}  # local name of a lazily exporting package -> its exports
    nodes = list(_runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))))
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                out |= _chain(alias.name)
                init = module_file(alias.name)
                if init is not None and init.name == "__init__.py" and lazy_exports(init):
                    if alias.asname:
                        bound[alias.asname] = lazy_exports(init)
                    else:  # `import a.b` then `a.b.X`: every export, conservatively
                        out |= {f for target in lazy_exports(init).values() for f in _chain(target)}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            out |= _chain(base)
            init = module_file(base)
            exports = lazy_exports(init) if init is not None and init.name == "__init__.py" else {}
            for alias in node.names:
                sub = module_file(f"{base}.{alias.name}")
                if sub is not None:  # `from package import submodule`
                    out |= _chain(f"{base}.{alias.name}")
                    if sub.name == "__init__.py" and lazy_exports(sub):
                        bound[alias.asname or alias.name] = lazy_exports(sub)
                elif alias.name in exports:
                    out |= _chain(exports[alias.name])
    for node in nodes:  # `lx.train_embeddings` after `from lingualift_core import lexicon as lx`
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound:
            target = bound[node.value.id].get(node.attr)
            if target is not None:
                out |= _chain(target)
    out.discard(path)
    return frozenset(out)


def closure(start: list[Path]) -> set[Path]:
    """`start` and every project file it imports, transitively."""
    seen: set[Path] = set()
    todo = list(start)
    while todo:
        path = todo.pop()
        if path not in seen:
            seen.add(path)
            todo.extend(direct_imports(path) - seen)
    return seen


def stage_entry(stage: str) -> list[Path]:
    """The files a `lingualift stage <stage>` run starts from."""
    from lingualift_core.stages.run import STAGES

    module = STAGES[stage][0].split(":")[0]
    return [RUNNER, REPO / PACKAGE / "stages" / f"{module}.py"]


def stage_code(stage: str) -> set[Path]:
    return closure(stage_entry(stage))


def stage_params(stage: str) -> list[str]:
    """The params keys `stage` declares (its module's `PARAMS[stage]`), read from the source."""
    module = stage_entry(stage)[1]
    for node in ast.parse(module.read_text(encoding="utf-8")).body:
        target = node.target if isinstance(node, ast.AnnAssign) else (node.targets[0] if isinstance(node, ast.Assign)
                                                                       else None)
        if getattr(target, "id", None) == "PARAMS":
            return list(ast.literal_eval(node.value)[stage])
    raise LookupError(f"{module}: no PARAMS declaration")


def dvc_stages() -> dict[str, dict]:
    """Stage name -> its dvc.yaml body (a `foreach` stage's `do`)."""
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    return {name: spec.get("do", spec) for name, spec in stages.items()}


def declared_code(body: dict) -> set[Path]:
    """The project .py files a stage's deps cover (a folder dep covers every .py file under it)."""
    out: set[Path] = set()
    for dep in body.get("deps", []):
        if not dep.startswith(PACKAGE):
            continue
        path = REPO / dep
        out |= set(path.rglob("*.py")) if path.is_dir() else {path}
    return out


def package_files() -> set[Path]:
    return set((REPO / PACKAGE).rglob("*.py"))


def suggested_deps(files: set[Path]) -> list[str]:
    """The shortest dvc.yaml listing of exactly `files`: a folder where every .py file under it is needed."""
    out: list[str] = []

    def visit(folder: Path) -> None:
        below = set(folder.rglob("*.py"))
        if below and below <= files and folder != REPO / PACKAGE:
            out.append(str(folder.relative_to(REPO)))
            return
        for child in sorted(folder.iterdir()):
            if child.is_dir() and child.name != "__pycache__":
                visit(child)
            elif child.suffix == ".py" and child in files:
                out.append(str(child.relative_to(REPO)))

    visit(REPO / PACKAGE)
    return out


def stages_importing(path: Path) -> set[str]:
    """The DVC stages whose code imports `path`."""
    return {name for name in dvc_stages() if path in stage_code(name)}


def rewrite_dvc_yaml(text: str) -> str:
    """`text` (dvc.yaml) with each stage's `- lingualift_core/...` deps replaced by `suggested_deps` (in place of
    the first one) and its `params` list by its declaration; comments, order and every other line stay."""
    out: list[str] = []
    stage, written, params_indent = None, set(), None
    for line in text.splitlines(keepends=True):
        stripped = line.lstrip()
        indent = line[:len(line) - len(stripped)]
        if params_indent is not None:
            if stripped.startswith("- ") and len(indent) > params_indent:
                continue  # the old params list
            params_indent = None
        if len(indent) == 2 and line.rstrip().endswith(":") and not stripped.startswith("#"):
            stage = line.strip()[:-1]
        if stage is not None and stripped.startswith(f"- {PACKAGE}/"):
            if stage not in written:
                out += [f"{indent}- {dep}\n" for dep in suggested_deps(stage_code(stage))]
                written.add(stage)
            continue
        out.append(line)
        if stage is not None and stripped.rstrip() == "params:":
            params_indent = len(indent)
            out += [f"{indent}  - {key}\n" for key in stage_params(stage)]
    return "".join(out)


if __name__ == "__main__":
    import sys

    if "--write" in sys.argv[1:]:
        path = REPO / "dvc.yaml"
        path.write_text(rewrite_dvc_yaml(path.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        for name in dvc_stages():
            print(f"{name}:")
            for dep in suggested_deps(stage_code(name)):
                print(f"  - {dep}")
