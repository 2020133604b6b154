"""dvc.yaml lists exactly the project code each stage imports, so an edit makes exactly the stages it can change
stale: a missing dependency is a stale result that `dvc repro` calls up to date, an extra one a needless rerun.

The analysis (`tests/dvc_deps.py`) reads imports from the source; `python -m tests.dvc_deps --write` rewrites the
code deps in dvc.yaml when this test fails. That each stage reads only the params keys it declares is checked
by the end-to-end test (`LINGUALIFT_PARAMS_AUDIT`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dvc_deps import (  # tests/dvc_deps.py
    PACKAGE,
    REPO,
    closure,
    declared_code,
    dvc_stages,
    lazy_exports,
    rewrite_dvc_yaml,
    stage_code,
    stage_params,
    stages_importing,
    suggested_deps,
)
from lingualift_core.stages.run import STAGES


def _rel(paths) -> set[str]:
    return {str(p.relative_to(REPO)) for p in paths}


def test_every_stage_lists_exactly_the_code_it_imports() -> None:
    wrong = {}
    for name, body in dvc_stages().items():
        declared, needed = declared_code(body), stage_code(name)
        if declared != needed:
            wrong[name] = {"missing": sorted(_rel(needed - declared)), "extra": sorted(_rel(declared - needed))}
    assert not wrong, f"dvc.yaml code deps disagree with the imports (fix: python -m tests.dvc_deps --write): {wrong}"
    assert set(dvc_stages()) == set(STAGES)


def test_every_stage_lists_exactly_the_params_it_declares() -> None:
    wrong = {name: {"dvc.yaml": body.get("params", []), "PARAMS": stage_params(name)}
             for name, body in dvc_stages().items() if body.get("params", []) != stage_params(name)}
    assert not wrong, f"dvc.yaml params disagree with the stages' PARAMS (fix: python -m tests.dvc_deps --write): {wrong}"


def test_dvc_yaml_is_what_the_rewrite_writes() -> None:
    text = (REPO / "dvc.yaml").read_text(encoding="utf-8")
    assert rewrite_dvc_yaml(text) == text


def test_the_analysis_sees_function_level_relative_and_lazy_imports() -> None:
    base = _rel(closure([REPO / PACKAGE / "stages" / "base_models.py"]))
    # function-level: train/tiny_base.py imports train/pretrain.py inside its build functions
    assert "lingualift_core/train/pretrain.py" in base
    # a lazy package costs only the submodule a name comes from
    model_exports = lazy_exports(REPO / PACKAGE / "model" / "__init__.py")
    assert model_exports["PromptTemplate"] == "lingualift_core.model.template"
    config = _rel(closure([REPO / PACKAGE / "config.py"]))
    assert "lingualift_core/model/template.py" in config
    assert "lingualift_core/model/lingualift.py" not in config  # torch stays out of the config module
    # `from lingualift_core import lexicon as lx` then `lx.train_embeddings`: the attribute's module
    embeddings = _rel(stage_code("embeddings"))
    assert "lingualift_core/lexicon/embeddings.py" in embeddings
    assert "lingualift_core/lexicon/induction.py" not in embeddings
    # relative imports inside a package
    assert "lingualift_core/lexicon/errors.py" in _rel(closure([REPO / PACKAGE / "lexicon" / "embeddings.py"]))


def test_an_edit_reaches_exactly_the_importing_stages() -> None:
    """The three files the note shows: one every stage reads, one of the data stages, one of the models."""
    every = set(STAGES)
    assert stages_importing(REPO / PACKAGE / "config.py") == every
    assert stages_importing(REPO / PACKAGE / "text" / "vocab.py") == {"vocab"}
    trains = stages_importing(REPO / PACKAGE / "train" / "loop.py")
    assert {"stage1", "stage2", "no_stage1", "mono_sft", "layout_sft"} <= trains
    assert not trains & {"prepare", "tokenize", "vocab", "embeddings", "lexicon", "lexicon_report", "inputs"}


def test_suggested_deps_list_folders_only_when_wholly_needed() -> None:
    toyworld = set((REPO / PACKAGE / "toyworld").rglob("*.py"))
    listed = suggested_deps(toyworld | {REPO / PACKAGE / "config.py"})
    assert listed == ["lingualift_core/config.py", "lingualift_core/toyworld"]
    partial = suggested_deps(toyworld - {REPO / PACKAGE / "toyworld" / "layout.py"})
    assert "lingualift_core/toyworld" not in partial and "lingualift_core/toyworld/world.py" in partial


@pytest.mark.parametrize("module", sorted({target.split(":")[0] for target, _ in STAGES.values()}))
def test_what_python_imports_is_inside_the_static_closure(module: str) -> None:
    """Importing a stage module loads no project file the analysis misses (the analysis may list more: it also
    follows imports inside functions)."""
    code = ("import json, sys; import lingualift_core.stages.run, lingualift_core.stages.%s; "
            "print(json.dumps(sorted(m.__file__ for m in list(sys.modules.values()) "
            "if (getattr(m, '__name__', '') or '').startswith('lingualift_core') and getattr(m, '__file__', None))))"
            % module)
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    loaded = {Path(f).resolve() for f in json.loads(done.stdout)}
    static = closure([REPO / PACKAGE / "stages" / "run.py", REPO / PACKAGE / "stages" / f"{module}.py"])
    assert loaded - static == set()
