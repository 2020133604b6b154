"""Typed config: every params file in the repo loads; bad values fail with one line naming key and value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from lingualift_core.config import ConfigError, Params, load_params, parse_params, section_to_dict
from lingualift_core.profiles import _sections, apply_profile_file

REPO = Path(__file__).resolve().parents[1]
PARAM_FILES = [REPO / "params.yaml", *sorted((REPO / "configs").glob("*.yaml"))]
PARAM_FILES = [p for p in PARAM_FILES if not p.name.startswith("accelerate")]


@pytest.mark.parametrize("path", PARAM_FILES, ids=lambda p: p.name)
def test_every_params_file_loads(path: Path) -> None:
    params = load_params(path)
    # round trip: the validated form parses back to the same object
    assert parse_params(section_to_dict(params)) == params


def _leaves(data: Any, cls: type = Params, prefix: str = "") -> dict[str, Any]:
    """Dotted key -> value of a params-shaped mapping, descending into config sections only."""
    out: dict[str, Any] = {}
    sections = _sections(cls)
    for key, value in data.items():
        if sections.get(key) is not None and isinstance(value, dict):
            out.update(_leaves(value, sections[key], f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def test_params_yaml_is_the_config_defaults_key_for_key() -> None:
    """One home for every default: params.yaml parses to exactly the dataclasses' defaults (every key of every
    section), so a profile applied to it is the profile on top of the defaults."""
    data = yaml.safe_load((REPO / "params.yaml").read_text())
    defaults = _leaves(section_to_dict(Params()))
    parsed = _leaves(section_to_dict(parse_params(data)))
    assert {k: (v, defaults[k]) for k, v in parsed.items() if v != defaults[k]} == {}
    assert set(parsed) == set(defaults)
    assert len(defaults) > 250  # every section's every key, nested sections included


@pytest.mark.parametrize("name", ["tiny", "paper", "toy_dev"])
def test_profiles_list_only_what_they_change(name: str) -> None:
    profile = yaml.safe_load((REPO / "configs" / f"{name}.yaml").read_text())
    defaults = _leaves(section_to_dict(Params()))
    listed = _leaves(section_to_dict_partial(profile))
    same = sorted(k for k, v in listed.items() if v == defaults[k])
    assert same == [], f"configs/{name}.yaml repeats defaults: {same}"


def section_to_dict_partial(data: dict) -> dict:
    """A partial params mapping in the validated form (tuples as lists, nested configs as dicts), same keys."""
    full = section_to_dict(parse_params(data))

    def keep(part: Any, whole: Any, cls: type) -> Any:
        sections = _sections(cls)
        return {k: keep(v, whole[k], sections[k]) if sections.get(k) is not None and isinstance(v, dict) else whole[k]
                for k, v in part.items()}
    return keep(data, full, Params)


def test_applying_a_profile_keeps_comments_and_equals_the_profile_on_the_defaults(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text((REPO / "params.yaml").read_text())
    profile = REPO / "configs" / "tiny.yaml"
    written = apply_profile_file(profile, params)
    assert written == len(_leaves(yaml.safe_load(profile.read_text())))
    text = params.read_text()
    assert "# ---- evaluation (lingualift_core/stages/evaluate.py)" in text  # params.yaml's comments stay
    assert load_params(params) == parse_params(yaml.safe_load(profile.read_text()))
    with pytest.raises(ConfigError, match=r"bad.yaml: stage1.train.max_stesp: unknown key"):
        bad = tmp_path / "bad.yaml"
        bad.write_text("stage1:\n  train:\n    max_stesp: 3\n")
        apply_profile_file(bad, params)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"tokenize": {"batch_sise": 10}}, "tokenize.batch_sise: unknown key; allowed keys of tokenize:"),
        ({"tokenize": {"batch_size": "10"}}, "tokenize.batch_size: got '10', expected int"),
        ({"tokenize": {"batch_size": 0}}, "tokenize.batch_size: got 0, allowed range [1, 1000000]"),
        ({"tokenize": {"use_blis": 1}}, "tokenize.use_blis: got 1, expected bool"),
        ({"prepare": {"source": "web"}}, "prepare.source: got 'web', expected 'synthetic' | 'local' | 'hub'"),
        ({"prepare": {"synthetic": {"math_test": 5}}}, "prepare.synthetic.math_test: got 5, allowed range"),
        ({"tokenizer": {}}, "tokenizer: unknown section; allowed sections:"),
        ({"pipeline": {"languages": ["en", "xq"], "targets": ["xq"]}}, "unknown language code 'xq'"),
        ({"pipeline": {"languages": ["qaa", "en"], "targets": ["en"]}}, "must start with the pivot 'en'"),
        ({"pipeline": {"languages": ["en", "qaa"], "targets": ["qab"]}}, "pipeline.targets: got ['qab']"),
        ({"prepare": {"synthetic": {"sentences_low": 30000}}}, "resource levels need high >= medium >= low"),
    ],
)
def test_bad_values_fail_with_one_line(data: dict, message: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_params(data)
    text = str(err.value)
    assert message in text
    assert "\n" not in text


def test_config_is_frozen() -> None:
    params = parse_params({})
    with pytest.raises(AttributeError):
        params.tokenize.batch_size = 3  # type: ignore[misc]


def test_missing_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="params file not found"):
        load_params(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("tokenize: [unclosed\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_params(bad)
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("tokenize:\n  batch_size: -1\n")
    with pytest.raises(ConfigError, match=r"wrong.yaml:2:3: tokenize.batch_size: got -1"):
        load_params(wrong)
    section = tmp_path / "section.yaml"
    section.write_text("pipeline:\n  seed: 1\ncodeswitch: 0.8\n")
    with pytest.raises(ConfigError, match=r"section.yaml:3:1: codeswitch: got 0.8, expected a mapping"):
        load_params(section)
    nested = tmp_path / "nested.yaml"
    nested.write_text("evaluate:\n  benchmarks:\n    math:\n      max_per_lang: -2\n")
    with pytest.raises(ConfigError, match=r"nested.yaml:4:7: evaluate.benchmarks.math.max_per_lang"):
        load_params(nested)


def test_benchmark_split_only_for_sources_with_splits():
    with pytest.raises(ConfigError, match=r"split: got 'dev' for source 'artifact'"):
        parse_params({"evaluate": {"benchmarks": {"math": {"source": "artifact", "split": "dev"}}}})
    ok = parse_params({"evaluate": {"benchmarks": {"math": {"source": "xnli", "path": "x", "split": "dev"}}}})
    assert ok.evaluate.benchmarks["math"].split == "dev"


def test_batch_split_is_checked_at_config_time() -> None:
    ok = {"train": {"global_batch_size": 64, "micro_batch_size": 16}}
    assert parse_params({"stage1": {**ok, "processes": 2}}).stage1.processes == 2
    with pytest.raises(ConfigError, match=r"stage1.train.global_batch_size: .*not divisible.*world size 3"):
        parse_params({"stage1": {**ok, "processes": 3}})
    with pytest.raises(ConfigError, match=r"mono_sft.train.global_batch_size"):
        parse_params({"mono_sft": {"processes": 5, "train": {"global_batch_size": 32, "micro_batch_size": 16}}})
