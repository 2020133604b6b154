"""Typed, validated configuration: one frozen dataclass per params.yaml section.

Every section is a frozen dataclass. `parse_section` turns a plain mapping (from YAML) into it and rejects
unknown keys, wrong types and out-of-range values with one line naming the key, the value and what is
allowed. Ranges and choices live next to the field (`field(metadata=...)`), so the schema is the code.

    params = load_params("params.yaml")       # -> Params
    params.tokenize.batch_size                # typed access
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import yaml


class ConfigError(ValueError):
    """A params value is missing, unknown, of the wrong type, or out of range."""


def _range(lo: float | None = None, hi: float | None = None, **extra: Any) -> dict[str, Any]:
    return {"range": (lo, hi), **extra}


def num(default: Any, lo: float | None = None, hi: float | None = None, doc: str = "") -> Any:
    """A numeric field with an inclusive range."""
    return field(default=default, metadata=_range(lo, hi, doc=doc))


def opt(default: Any, doc: str = "") -> Any:
    """A field without a range (strings, bools, lists, mappings)."""
    if isinstance(default, (list, dict)):
        frozen = tuple(default) if isinstance(default, list) else dict(default)
        return field(default_factory=lambda: frozen, metadata={"doc": doc})
    return field(default=default, metadata={"doc": doc})


def sub(cls: type) -> Any:
    """A nested section with its defaults."""
    return field(default_factory=cls)


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return " | ".join(repr(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        return " | ".join(_type_name(a) for a in get_args(tp))
    if origin is tuple:
        return f"list of {_type_name(get_args(tp)[0])}"
    if origin in (dict, Mapping):
        k, v = get_args(tp)
        return f"mapping {_type_name(k)} -> {_type_name(v)}"
    return getattr(tp, "__name__", str(tp))


def _convert(value: Any, tp: Any, key: str) -> Any:
    """Checks `value` against the annotation `tp` and returns it in the field's Python form."""
    origin = get_origin(tp)
    bad = ConfigError(f"{key}: got {value!r}, expected {_type_name(tp)}")
    if tp is Any:
        return value
    if origin is Literal:
        if value not in get_args(tp):
            raise bad
        return value
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(value, arg, key)
            except ConfigError:
                continue
        raise bad
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise bad
        (item_tp, *_rest) = get_args(tp)
        return tuple(_convert(v, item_tp, f"{key}[{i}]") for i, v in enumerate(value))
    if origin in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise bad
        k_tp, v_tp = get_args(tp)
        return {_convert(k, k_tp, key): _convert(v, v_tp, f"{key}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, Mapping):
            raise bad
        return parse_section(tp, value, key)
    if tp is bool:
        if not isinstance(value, bool):
            raise bad
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise bad
        return value
    raise ConfigError(f"{key}: unsupported annotation {tp!r} (a bug in lingualift_core.config)")


def parse_section(cls: type, data: Mapping[str, Any] | None, prefix: str, base: Any = None) -> Any:
    """Builds the frozen dataclass `cls` from `data`, validating every key under the dotted `prefix`.

    Keys absent from `data` take their value from `base` (an instance of `cls`) when given, else the field's
    default; so a nested section can default to a preset such as the paper's stage-2 recipe.
    """
    data = dict(data or {})
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"{prefix}.{unknown[0]}: unknown key; allowed keys of {prefix}: {', '.join(sorted(fields))}"
        )
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        key = f"{prefix}.{name}"
        nested_base = _nested_default(f, base)
        if name not in data:
            if base is not None:
                kwargs[name] = getattr(base, name)
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError(f"{key}: missing; expected {_type_name(hints[name])}")
            continue
        if nested_base is not None and isinstance(data[name], Mapping):
            value = parse_section(type(nested_base), data[name], key, nested_base)
        else:
            value = _convert(data[name], hints[name], key)
        lo, hi = f.metadata.get("range", (None, None))
        if value is not None and (lo is not None and value < lo or hi is not None and value > hi):
            allowed = f"[{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}]"
            raise ConfigError(f"{key}: got {value!r}, allowed range {allowed}")
        kwargs[name] = value
    try:
        return cls(**kwargs)
    except ConfigError as err:
        msg = str(err)
        raise ConfigError(msg if msg.startswith(prefix) else f"{prefix}: {msg}") from None
    except ValueError as err:  # library dataclasses validate themselves in __post_init__
        raise ConfigError(f"{prefix}: {str(err).splitlines()[0]}") from None


def _nested_default(f: dataclasses.Field, base: Any) -> Any:
    """The default instance of a nested-dataclass field (from `base` if given), else None."""
    if base is not None:
        value = getattr(base, f.name)
    elif f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
    else:
        value = f.default
    return value if dataclasses.is_dataclass(value) and not isinstance(value, type) else None


def section_to_dict(section: Any) -> Any:
    """The inverse of `parse_section`: plain dicts/lists suitable for YAML and run_meta.json."""
    if dataclasses.is_dataclass(section):
        return {f.name: section_to_dict(getattr(section, f.name)) for f in dataclasses.fields(section)}
    if isinstance(section, tuple):
        return [section_to_dict(v) for v in section]
    if isinstance(section, Mapping):
        return {k: section_to_dict(v) for k, v in section.items()}
    return section


# --------------------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PipelineConfig:
    """Languages and the global seed. `languages` lists every corpus to tokenize, pivot first."""

    seed: int = num(1234, 0, 2**31 - 1)
    pivot: str = opt("en", "the English pivot language")
    languages: tuple[str, ...] = opt(["en", "qaa", "qab", "qac", "qad", "qae", "qaf"])
    targets: tuple[str, ...] = opt(["qaa", "qab", "qac", "qad", "qae", "qaf"])

    def __post_init__(self) -> None:
        from lingualift_core.languages import get_language

        for code in self.languages:
            get_language(code)
        if not self.languages or self.languages[0] != self.pivot:
            raise ConfigError(
                f"pipeline.languages: got {list(self.languages)!r}, must start with the pivot {self.pivot!r}"
            )
        if list(self.targets) != list(self.languages[1:]):
            raise ConfigError(
                f"pipeline.targets: got {list(self.targets)!r}, must equal pipeline.languages without the "
                f"pivot: {list(self.languages[1:])!r} (DVC's foreach needs both lists spelled out)"
            )
        if len(set(self.languages)) != len(self.languages):
            raise ConfigError(f"pipeline.languages: got {list(self.languages)!r}, codes must be unique")


@dataclass(frozen=True)
class SyntheticDataConfig:
    """Sizes of the embedded synthetic world."""

    english_sentences: int = num(20000, 10, 10_000_000)
    sentences_high: int = num(20000, 10, 10_000_000, "monolingual sentences of a high-resource toy language")
    sentences_medium: int = num(6000, 10, 10_000_000)
    sentences_low: int = num(2000, 10, 10_000_000)
    math_train: int = num(4000, 10, 10_000_000, "English math SFT problems")
    math_test: int = num(200, 10, 100_000, "test problems, the same in every language")
    parallel_pairs: int = num(300, 10, 100_000, "en<->toy sentence pairs per language (evaluation only)")

    def __post_init__(self) -> None:
        if not self.sentences_high >= self.sentences_medium >= self.sentences_low:
            raise ConfigError(
                f"prepare.synthetic: sentences_high/medium/low = {self.sentences_high}/{self.sentences_medium}/"
                f"{self.sentences_low}; resource levels need high >= medium >= low"
            )


@dataclass(frozen=True)
class LocalDataConfig:
    """Real data read from local files into the same schemas as the synthetic world."""

    corpora: dict[str, str] = opt({}, "language -> plain-text file (one sentence per line, .xz allowed)")
    max_sentences: int = num(200000, 1, 1_000_000_000, "per corpus")
    math_train_jsonl: str | None = opt(None, "GSM8K-style JSON Lines (question, answer ending '#### N')")
    mgsm_dir: str | None = opt(None, "MGSM TSV folder (mgsm_<lang>.tsv)")
    msvamp_dir: str | None = opt(None, "MSVAMP JSON Lines folder")


@dataclass(frozen=True)
class HubDataConfig:
    """Hugging Face dataset ids (needs network access to the Hub)."""

    math_train: str = opt("meta-math/MetaMathQA")
    math_train_revision: str | None = opt(None)
    mgsm: str = opt("juletxara/mgsm")
    mgsm_revision: str | None = opt(None)


@dataclass(frozen=True)
class PrepareConfig:
    source: Literal["synthetic", "local", "hub"] = opt("synthetic")
    synthetic: SyntheticDataConfig = sub(SyntheticDataConfig)
    local: LocalDataConfig = sub(LocalDataConfig)
    hub: HubDataConfig = sub(HubDataConfig)


@dataclass(frozen=True)
class TokenizeConfig:
    """spaCy tokenization, streamed in batches."""

    batch_size: int = num(1000, 1, 1_000_000, "sentences per nlp.pipe batch and Parquet row group")
    english_model: str = opt("en_core_web_sm", "spaCy pipeline for the pivot; the PyPI copy is used if absent")
    use_blis: bool = opt(False, "thinc BLIS kernels (slower on small CPUs)")
    max_length: int = num(2000, 1, 1_000_000, "characters; longer lines fail naming the line")
    vocab_min_count: int = num(1, 1, 1_000_000, "English vocabulary: minimum frequency")


@dataclass(frozen=True)
class EmbeddingsConfig:
    """Monolingual word vectors per language: fastText skipgram on the tokenized corpus, or pretrained files."""

    source: Literal["train", "pretrained"] = opt("train")
    dim: int = num(100, 2, 4096)
    epochs: int = num(20, 1, 1000, "small corpora need more epochs than fastText's default 5")
    min_count: int = num(2, 1, 1_000_000)
    threads: int = num(2, 1, 256)
    max_words: int = num(200000, 20, 10_000_000, "keep the N most frequent words (MUSE: 200k)")
    lowercase: bool = opt(True, "English vocabulary and lexicons are lowercased")
    pretrained: dict[str, str] = opt({}, "language -> .vec / .bin file (source: pretrained)")


@dataclass(frozen=True)
class LexiconConfig:
    """Bilingual lexicon induction en -> X (MUSE-style; see lingualift_core.lexicon.induction for the defaults)."""

    method: Literal["unsupervised", "adversarial", "robust", "procrustes", "dictionary", "gold"] = opt(
        "unsupervised", "gold: the toy world's gold lexicon (an upper bound, embedded world only)")
    dictionaries: dict[str, str] = opt({}, "language -> MUSE-format `src tgt` file (dictionary / procrustes)")
    eval_dictionaries: dict[str, str] = opt({}, "language -> MUSE-format test split; toy languages use gold")
    normalize: str = opt("renorm,center,renorm")
    csls_k: int = num(10, 1, 1000)
    n_refinement: int = num(5, 0, 100)
    refine_max_rank: int = num(15000, 10, 10_000_000)
    criterion_words: int = num(10000, 10, 10_000_000)
    robust_vocab: int = num(4000, 10, 1_000_000)
    inits: tuple[str, ...] = opt(["adversarial", "robust"])
    adversarial_epochs: int = num(3, 0, 1000)
    adversarial_epoch_size: int = num(32000, 1, 100_000_000)
    threads: int = num(2, 1, 256)
    top_k: int = num(3, 1, 100, "translations kept per English word")
    threshold: float | None = opt(None, "keep translations with CSLS >= threshold (precision over coverage)")
    mutual_only: bool = opt(False)

    def __post_init__(self) -> None:
        bad = [i for i in self.inits if i not in ("adversarial", "robust")]
        if bad or not self.inits:
            raise ConfigError(f"lexicon.inits: got {list(self.inits)!r}, allowed: adversarial, robust (one or both)")


@dataclass(frozen=True)
class CodeswitchConfig:
    """POS-filtered code-switching of the English corpus and the stage-1 instruction records."""

    pos_group: str = opt("adp+noun", "a paper group (noun, verb, adp+noun, pron+aux+conj, content, ...)")
    ratio: float = num(0.8, 0.0, 1.0, "share of translatable candidates replaced (paper's best: 0.8)")
    top_k: int = num(1, 1, 100)
    selection: Literal["top1", "uniform", "proportional", "softmax"] = opt("top1")
    temperature: float = num(1.0, 1e-6, 1e6)
    max_sentences_per_lang: int | None = opt(None, "cap per language (language-balanced sampling)")
    min_replaced: int = num(0, 0, 1000, "drop sentences with fewer replacements")
    exclude_stop_words: bool = opt(False)
    holdout_sentences: int = num(100, 0, 1_000_000, "per language, kept out of stage 1 for the recall check")
    task_mix_share: float = num(0.0, 0.0, 0.9, "share of multilingual task records mixed in (paper App. E.6)")
    task_mix_file: str | None = opt(None, "Parquet/JSONL with instruction, input, output (task_mix_share > 0)")

    def __post_init__(self) -> None:
        from lingualift_core.codeswitch import known_groups_text, resolve_pos_group

        try:
            resolve_pos_group(self.pos_group)
        except ValueError:
            raise ConfigError(f"codeswitch.pos_group: got {self.pos_group!r}; known: {known_groups_text()}") from None
        if self.task_mix_share > 0 and not self.task_mix_file:
            raise ConfigError("codeswitch.task_mix_file: missing; task_mix_share > 0 needs the task records file")


_SECTIONS: dict[str, type] = {
    "pipeline": PipelineConfig,
    "prepare": PrepareConfig,
    "tokenize": TokenizeConfig,
    "embeddings": EmbeddingsConfig,
    "lexicon": LexiconConfig,
    "codeswitch": CodeswitchConfig,
}


@dataclass(frozen=True)
class Params:
    """All sections of a params file."""

    pipeline: PipelineConfig = sub(PipelineConfig)
    prepare: PrepareConfig = sub(PrepareConfig)
    tokenize: TokenizeConfig = sub(TokenizeConfig)
    embeddings: EmbeddingsConfig = sub(EmbeddingsConfig)
    lexicon: LexiconConfig = sub(LexiconConfig)
    codeswitch: CodeswitchConfig = sub(CodeswitchConfig)


def parse_params(data: Mapping[str, Any]) -> Params:
    """Validates a whole params mapping (top-level keys are sections)."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"params: got {type(data).__name__}, expected a mapping of sections")
    unknown = sorted(set(data) - set(_SECTIONS))
    if unknown:
        raise ConfigError(f"{unknown[0]}: unknown section; allowed sections: {', '.join(_SECTIONS)}")
    return Params(**{name: parse_section(_SECTIONS[name], value, name) for name, value in data.items()})


def load_params(path: str | Path) -> Params:
    """Reads and validates a params YAML file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: params file not found")
    with path.open(encoding="utf-8") as fh:
        try:
            data = yaml.safe_load(fh) or {}
        except yaml.YAMLError as err:
            raise ConfigError(f"{path}: invalid YAML: {str(err).splitlines()[0]}") from None
    try:
        return parse_params(data)
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None
