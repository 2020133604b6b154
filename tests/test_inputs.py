"""Stage `inputs`: manifests of the files params name, one per dvc.yaml stage (no DVC run needed)."""

from __future__ import annotations

import shutil
from pathlib import Path

from lingualift_core.config import load_params
from lingualift_core.stages import inputs

REPO = Path(__file__).resolve().parents[1]


def _root(tmp_path: Path, replace: dict[str, str]) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(REPO / "dvc.yaml", root / "dvc.yaml")
    text = (REPO / "params.yaml").read_text()
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    (root / "params.yaml").write_text(text)
    return root


def _manifests(root: Path) -> dict[str, bytes]:
    inputs.run(load_params(root / "params.yaml"), root)
    return {p.name: p.read_bytes() for p in (root / "data" / "inputs").glob("*.json") if p.name != "run_meta.json"}


def test_an_edited_named_file_changes_exactly_the_manifest_of_its_stage(tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    (ext / "dicts").mkdir(parents=True)
    (ext / "qaa.vec").write_text("1 2\nw 0.1 0.2\n")
    (ext / "dicts" / "en-qab.txt").write_text("cat kat\n")
    root = _root(tmp_path, {"  pretrained: {}": f"  pretrained: {{qaa: {ext / 'qaa.vec'}}}",
                            "  dictionaries: {}": f"  dictionaries: {{qab: {ext / 'dicts'}}}"})
    first = _manifests(root)
    assert set(first) == {f"{s}.json" for s in inputs.stage_params(root / "dvc.yaml", {
        "pipeline": {"languages": ["en", "qaa", "qab", "qac", "qae"], "targets": ["qaa", "qab", "qac", "qae"]}})
        if s != "inputs"}
    named = {name for name, body in first.items() if b'"path"' in body}
    # a mapping keyed by language: only that language's stage; a folder is fingerprinted file by file
    assert named == {"embeddings@qaa.json", "lexicon@qab.json"}
    (ext / "qaa.vec").write_text("1 2\nw 0.1 0.3\n")
    second = _manifests(root)
    assert {name for name in first if first[name] != second[name]} == {"embeddings@qaa.json"}
    (ext / "dicts" / "en-qab.txt").write_text("cat kot\n")
    third = _manifests(root)
    assert {name for name in first if second[name] != third[name]} == {"lexicon@qab.json"}
    assert _manifests(root) == third  # same files, same bytes: DVC sees nothing new


def test_paths_inside_dvc_outputs_are_left_to_dvc(tmp_path: Path) -> None:
    root = _root(tmp_path, {})
    (root / "data" / "raw" / "benchmarks").mkdir(parents=True)
    (root / "data" / "raw" / "benchmarks" / "math_test.parquet").write_bytes(b"x")
    found = inputs.manifests(load_params(root / "params.yaml"), root)
    assert found["evaluate"] == {} and found["prepare"] == {}


def test_leftover_checkpoints_are_reported(tmp_path: Path) -> None:
    from lingualift_core.stages.common import Paths

    paths = Paths(tmp_path)
    assert inputs.leftover_checkpoints(paths) == []
    (paths.data / "checkpoints" / "stage1" / "step-100").mkdir(parents=True)
    (paths.data / "checkpoints" / "stage1" / "step-100" / "w.bin").write_bytes(b"x" * 3 * 2**20)
    notes = inputs.leftover_checkpoints(paths)
    assert len(notes) == 1 and "stage1 (3 MiB): checkpoints of an unfinished stage1 run" in notes[0]


def test_every_stage_depends_on_its_manifest() -> None:
    import yaml

    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    for name, spec in stages.items():
        if name == "inputs":
            assert spec.get("always_changed") is True
            continue
        body, suffix = (spec["do"], "@${item}") if "foreach" in spec else (spec, "")
        assert f"data/inputs/{name}{suffix}.json" in body["deps"], name
