"""Typed, validated configuration: one frozen dataclass per params.yaml section.

Every section is a frozen dataclass. `parse_section` turns a plain mapping (from YAML) into it and rejects
unknown keys, wrong types and out-of-range values with one line naming the key, the value and what is
allowed. Ranges and choices live next to the field (`field(metadata=...)`), so the schema is the code.

    params = load_params("params.yaml")       # -> Params
    params.tokenize.batch_size                # typed access
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import types
import typing
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import yaml

from lingualift_core.codeswitch.settings import CodeSwitchConfig
from lingualift_core.toyworld.mini_spec import MiniWorldSpec


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
    if data is not None and not isinstance(data, Mapping):
        raise ConfigError(f"{prefix}: got {data!r}, expected a mapping of keys ({cls.__name__})")
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
    except ValueError as err:  # ConfigError too; library dataclasses validate themselves in __post_init__
        msg = str(err).splitlines()[0]
        if msg.startswith(prefix):
            raise ConfigError(msg) from None
        # "field: ..." from __post_init__ names a key of this section: give it its full dotted name
        raise ConfigError(f"{prefix}.{msg}" if msg.split(":", 1)[0] in fields else f"{prefix}: {msg}") from None


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


def select(params: Any, keys: Iterable[str]) -> dict[str, Any]:
    """The values of dotted `keys` (`"pipeline.seed"`, or a whole section `"tokenize"`) as one nested dict: what
    a stage records in run_meta.json are exactly the params it declares (dvc.yaml `params`)."""
    out: dict[str, Any] = {}
    for key in keys:
        value: Any = params
        for part in key.split("."):
            if not (dataclasses.is_dataclass(value) and part in {f.name for f in dataclasses.fields(value)}):
                raise KeyError(f"{key}: no such params key")
            value = getattr(value, part)
        *parents, last = key.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = section_to_dict(value)
    return out


@contextlib.contextmanager
def recorded_reads(params: Any) -> Iterator[set[str]]:
    """The dotted keys of `params` read inside the block (a value that is not a config section: reading
    `params.tokenize` records nothing, `params.tokenize.batch_size` records that key, and `asdict` of a section
    every key in it). Audits that a stage reads only the params it declares (`LINGUALIFT_PARAMS_AUDIT`)."""
    paths: dict[int, str] = {}

    def walk(node: Any, path: str) -> None:
        if dataclasses.is_dataclass(node) and not isinstance(node, type):
            paths[id(node)] = path
            for f in dataclasses.fields(node):
                walk(getattr(node, f.name), f"{path}.{f.name}" if path else f.name)
        elif isinstance(node, Mapping):
            for k, v in node.items():
                walk(v, f"{path}.{k}")

    walk(params, "")
    reads: set[str] = set()
    classes = _config_classes(params)
    own = {cls: cls.__dict__.get("__getattribute__") for cls in classes}

    def getattribute(self: Any, name: str) -> Any:
        value = object.__getattribute__(self, name)
        path = paths.get(id(self))
        if path is not None and name in type(self).__dataclass_fields__ and not (
                dataclasses.is_dataclass(value) and not isinstance(value, type)):
            reads.add(f"{path}.{name}" if path else name)
        return value

    for cls in classes:
        cls.__getattribute__ = getattribute
    try:
        yield reads
    finally:
        for cls, method in own.items():
            if method is None:
                del cls.__getattribute__
            else:
                cls.__getattribute__ = method


def _config_classes(node: Any) -> set[type]:
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        out = {type(node)}
        for f in dataclasses.fields(node):
            out |= _config_classes(object.__getattribute__(node, f.name))
        return out
    if isinstance(node, Mapping):
        return {c for v in node.values() for c in _config_classes(v)}
    return set()


# --------------------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PipelineConfig:
    """Languages and the global seed. `languages` lists every corpus to tokenize, pivot first."""

    seed: int = num(1234, 0, 2**31 - 1)
    pivot: str = opt("en", "the English pivot language")
    languages: tuple[str, ...] = opt(["en", "qaa", "qab", "qac", "qae"])
    targets: tuple[str, ...] = opt(["qaa", "qab", "qac", "qae"])

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


_MINI = MiniWorldSpec()  # the compact world's defaults live in the library


@dataclass(frozen=True)
class MiniWorldConfig:
    """The compact world (`lingualift_core.toyworld.mini`): lemma caps per word class, problem shape, ranges. The
    defaults are the library's (`MiniWorldSpec`), its checks run in `spec()`."""

    names: int = num(_MINI.names, 2, 20)
    objects: int = num(_MINI.objects, 2, 16)
    gain_verbs: int = num(_MINI.gain_verbs, 2, 8)
    loss_verbs: int = num(_MINI.loss_verbs, 2, 8)
    places: int = num(_MINI.places, 2, 10)
    adjectives: int = num(_MINI.adjectives, 2, 10)
    other_verbs: int = num(_MINI.other_verbs, 2, 8)
    verb_objects: int = num(_MINI.verb_objects, 1, 16, "objects each gain/loss verb goes with (word-specific contexts for BLI)")
    min_quantity: int = num(_MINI.min_quantity, 1, 1000)
    max_quantity: int = num(_MINI.max_quantity, 2, 1000)
    max_answer: int = num(_MINI.max_answer, 2, 1000, "every intermediate value and answer lies in [0, max_answer]")
    kinds: tuple[str, ...] = opt(list(_MINI.kinds), "problem kinds, equal shares")
    topic_width: float = num(_MINI.topic_width, 0.0, 10.0, "kernel width of the semantic map that general sentences are drawn "
                             "around (each word its own co-occurrence profile, what unsupervised BLI needs); 0: none")
    zipf: float = num(_MINI.zipf, 0.0, 5.0, "lemma weights 1 / (rank + 1) ** zipf within each word class")
    line_sentences: int = num(_MINI.line_sentences, 1, 16, "a corpus line holds 1..line_sentences sentences about one topic")
    solution_style: Literal["restate", "equations"] = opt(_MINI.solution_style, "restate: the solution copies the statements it "
                                                         "uses, then computes (a short chain of thought); equations: "
                                                         "equations only")
    distractor_share: float = num(_MINI.distractor_share, 0.0, 1.0, "problems with one distractor statement at a random position")
    problem_text_share: float = num(_MINI.problem_text_share, 0.0, 1.0, "share of the ENGLISH corpus that is training-split "
                                    "problem text without solutions (toy corpora hold no problems); it skews the "
                                    "English word vectors away from the toy ones (lexicon P@1 0.08 at 0.5)")
    test_share: float = num(_MINI.test_share, 0.001, 0.4, "hash share of problem texts reserved for test")
    dev_share: float = num(_MINI.dev_share, 0.0, 0.4, "hash share reserved for the English dev split (gates, tuning)")

    def spec(self):
        """The library's `MiniWorldSpec` (its own range checks raise ConfigError here)."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        try:
            return MiniWorldSpec(**fields)
        except ValueError as err:
            raise ConfigError(f"prepare.synthetic.mini: {err}") from None

    def __post_init__(self) -> None:
        self.spec()


@dataclass(frozen=True)
class SyntheticDataConfig:
    """Sizes of the embedded synthetic world; `world` picks the compact world or the grammar world."""

    world: Literal["mini", "grammar"] = opt("mini", "mini: compact world sized for the tiny models (default); "
                                            "grammar: the larger grammar world (toyworld.world)")
    mini: MiniWorldConfig = sub(MiniWorldConfig)
    math_dev: int = num(1000, 0, 100_000, "English dev problems (mini world): gates and tuning, never test")
    math_dev_langs: int = num(300, 0, 100_000, "mini world: the first N dev problems in every language "
                              "(benchmarks/math_dev.parquet): a transfer check disjoint from test "
                              "(configs/toy_dev.yaml evaluates it); 0: none")
    english_sentences: int = num(20000, 10, 10_000_000)
    sentences_high: int = num(20000, 10, 10_000_000, "monolingual sentences of a high-resource toy language")
    sentences_medium: int = num(8000, 10, 10_000_000)
    sentences_low: int = num(4000, 10, 10_000_000)
    math_train: int = num(20000, 10, 10_000_000, "English math SFT problems (training split); the base models "
                          "pre-train on the first `base_models.tiny.task_problems` of them")
    math_reading: int = num(4000, 0, 10_000_000, "mini world: English training-split problems with one distractor "
                            "more than the spec's (tasks/math_reading.parquet): reading practice in the base LLM's "
                            "pre-training only; 0: none")
    math_test: int = num(400, 10, 100_000, "test problems, the same in every language")
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
    processes: int = num(2, 1, 64, "spaCy worker processes for the tagged pivot (same output as 1)")


@dataclass(frozen=True)
class EmbeddingsConfig:
    """Monolingual word vectors per language: fastText skipgram on the tokenized corpus, or pretrained files."""

    source: Literal["train", "pretrained"] = opt("train")
    dim: int = num(100, 2, 4096)
    epochs: int = num(20, 1, 1000, "small corpora need more epochs than fastText's default 5")
    min_count: int = num(2, 1, 1_000_000)
    threads: int = num(1, 1, 256)
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
    n_refinement: int = num(30, 0, 1000, "max Procrustes iterations per init (stops early on convergence)")
    refine_max_rank: int = num(15000, 10, 10_000_000)
    criterion_words: int = num(10000, 10, 10_000_000)
    robust_vocab: int = num(4000, 10, 1_000_000)
    inits: tuple[str, ...] = opt(["adversarial", "robust"])
    init_policy: Literal["fallback", "all"] = opt("fallback", "fallback: the robust init first, the adversarial one "
                                                  "only when the robust criterion is below adversarial_if_below; "
                                                  "all: every init of `inits`, the criterion picks")
    adversarial_if_below: float = num(0.7, 0.0, 1.0, "fallback policy: run the adversarial init below this "
                                      "unsupervised criterion of the robust one")
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
class CodeswitchConfig(CodeSwitchConfig):
    """POS-filtered code-switching of the English corpus and the stage-1 instruction records: the library's
    builder settings (`codeswitch.settings.CodeSwitchConfig`, validated there) plus the stage's own keys."""

    holdout_sentences: int = num(100, 0, 1_000_000, "per language, kept out of stage 1 for the recall check")
    task_questions: int = num(4000, 0, 10_000_000, "code-switch the first N English training-split task questions "
                              "into stage-1 records too (inputs shaped like the test questions); 0: none")
    task_mix_share: float = num(0.0, 0.0, 0.9, "share of multilingual task records mixed in (paper App. E.6)")
    task_mix_file: str | None = opt(None, "Parquet/JSONL with instruction, input, output (task_mix_share > 0)")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.task_mix_share > 0 and not self.task_mix_file:
            raise ConfigError("codeswitch.task_mix_file: missing; task_mix_share > 0 needs the task records file")


# ---- base_models / stage1 / stage2 / mono_sft (+ layout_sft): lingualift_core/stages/{base_models,stage1,stage2,sft}.py
# library dataclasses nested in the sections below (importing them loads torch)
from lingualift_core.model.template import PromptTemplate
from lingualift_core.train.config import TrainConfig, mono_sft_config, stage1_config, stage2_config


@dataclass(frozen=True)
class HubModelsConfig:
    """The paper's base models by Hugging Face id (or a local snapshot folder), revisions pinned."""

    encoder: str = opt("google/mt5-xl", "encoder id or local folder (T5/mT5 load encoder-only)")
    encoder_revision: str | None = opt(None, "commit hash; null = whatever the local cache holds (not pinned)")
    llm: str = opt("meta-llama/Llama-2-7b-hf", "decoder LLM id or local folder")
    llm_revision: str | None = opt(None, "commit hash; null = not pinned")
    local_files_only: bool = opt(True, "true: never touch the network (the cache or a local folder must hold them)")


@dataclass(frozen=True)
class TinyEncoderConfig:
    """The embedded multilingual encoder: a BERT pre-trained with masked LM on every corpus."""

    vocab_size: int = num(12000, 64, 1_000_000, "BPE vocabulary over all languages' scripts")
    hidden: int = num(128, 8, 8192)
    layers: int = num(4, 1, 64)
    heads: int = num(4, 1, 128)
    max_positions: int = num(128, 16, 8192, "also the longest encoder input in stages 1/2")
    steps: int = num(2000, 1, 10_000_000)
    batch_size: int = num(64, 1, 65536)
    lr: float = num(1e-3, 1e-7, 1.0)
    seq_len: int = num(64, 8, 8192, "pre-training truncation length")
    warmup_ratio: float = num(0.05, 0.0, 0.5)
    math_text: bool = opt(True, "add the English task questions to the MLM text")
    precision: Literal["auto", "fp32", "bf16"] = opt("auto", "bf16: matrix products under bf16 autocast, attention "
                                                     "in fp32 (train/precision.py); auto: bf16 on CUDA or a CPU "
                                                     "with AMX / AVX512-BF16, else fp32")

    def __post_init__(self) -> None:
        if self.hidden % self.heads or self.seq_len > self.max_positions:
            raise ConfigError(f"base_models.tiny.encoder: hidden={self.hidden} must be divisible by heads="
                              f"{self.heads} and seq_len={self.seq_len} <= max_positions={self.max_positions}")


@dataclass(frozen=True)
class TinyLLMConfig:
    """The embedded English LLM: a Llama pre-trained with causal LM on English text plus copy sequences."""

    vocab_size: int = num(2000, 64, 1_000_000, "BPE vocabulary over English text only")
    hidden: int = num(128, 8, 8192)
    layers: int = num(4, 1, 64)
    heads: int = num(4, 1, 128)
    max_positions: int = num(256, 16, 65536, "must hold instruction + encoder states + response")
    steps: int = num(2000, 1, 10_000_000)
    batch_size: int = num(32, 1, 65536)
    lr: float = num(2e-3, 1e-7, 1.0)
    seq_len: int = num(96, 8, 65536, "packing window")
    warmup_ratio: float = num(0.05, 0.0, 0.5)
    copy_fraction: float = num(0.2, 0.0, 0.95, "share of each batch's sequences that are `A <sep> A` copy "
                               "windows at the end of training (stage 1 needs a frozen LLM that copies from its "
                               "prefix)")
    copy_fraction_start: float | None = opt(0.3, "share at the start, decaying to copy_fraction (null: constant)")
    copy_decay_ratio: float = num(0.4, 0.0, 1.0, "share of the steps over which the copy share decays")
    copy_max_sentences: int = num(2, 1, 16)
    copy_scramble_fraction: float = num(0.25, 0.0, 1.0, "copy documents whose words are shuffled")
    copy_random_fraction: float = num(0.25, 0.0, 1.0, "copy documents of random words")
    instruction_copies: int = num(10000, 0, 10_000_000, "documents `<translation instruction> A <sep> A` added to "
                                  "the text (a real LLM knows such prompts; see base_models.instruction_copies)")
    arithmetic_drills: int = num(10000, 0, 10_000_000, "documents of 8 equations (`17 + 11 = 28.`) added to the text "
                                 "(a real LLM knows arithmetic; see base_models.arithmetic_drills)")
    math_text: bool = opt(True, "add the English task problems with solutions to the CLM text")
    task_fraction: float = num(0.45, 0.0, 0.9, "share of every batch's windows drawn from the task problems "
                               "(instruction, question, solution; their own stream, never cut by packing); 0: the "
                               "problems are plain text documents (math_text)")
    arithmetic_fraction: float = num(0.15, 0.0, 0.9, "share of every batch's windows drawn from the arithmetic "
                                     "drills (their own stream); 0: drills are plain text documents")
    number_features: float = num(3.0, 0.0, 100.0, "Fourier features of each number token's value added to its "
                                 "initial embedding, times the row's norm (0: off; model/tiny.py "
                                 "add_number_features)")
    compile_layers: bool = opt(False, "torch.compile the decoder layers while pre-training (needs a C++ compiler; "
                               "lingualift_core/train/compile.py)")
    precision: Literal["auto", "fp32", "bf16"] = opt("auto", "as base_models.tiny.encoder.precision")

    def __post_init__(self) -> None:
        if self.task_fraction + self.arithmetic_fraction + max(self.copy_fraction, self.copy_fraction_start or 0.0) >= 1.0:
            raise ConfigError(f"base_models.tiny.llm: task_fraction + arithmetic_fraction + the peak copy share = "
                              f"{self.task_fraction} + {self.arithmetic_fraction} + "
                              f"{max(self.copy_fraction, self.copy_fraction_start or 0.0)} must stay below 1")
        if self.arithmetic_fraction > 0 and self.arithmetic_drills == 0:
            raise ConfigError("base_models.tiny.llm.arithmetic_fraction > 0 needs arithmetic_drills > 0")
        if self.task_fraction > 0 and not self.math_text:
            raise ConfigError("base_models.tiny.llm.task_fraction > 0 needs math_text: true")
        if self.hidden % self.heads or self.seq_len > self.max_positions:
            raise ConfigError(f"base_models.tiny.llm: hidden={self.hidden} must be divisible by heads={self.heads} "
                              f"and seq_len={self.seq_len} <= max_positions={self.max_positions}")
        if self.copy_scramble_fraction + self.copy_random_fraction > 1.0:
            raise ConfigError(f"base_models.tiny.llm: copy_scramble_fraction + copy_random_fraction = "
                              f"{self.copy_scramble_fraction + self.copy_random_fraction}, must be <= 1")
        if self.copy_fraction_start is not None and not 0.0 <= self.copy_fraction_start < 1.0:
            raise ConfigError(f"base_models.tiny.llm.copy_fraction_start: got {self.copy_fraction_start}, "
                              "allowed [0, 1) or null")


@dataclass(frozen=True)
class TinyModelsConfig:
    threads: int = num(1, 1, 256, "torch intra-op threads")
    tokenizer: Literal["bpe", "word"] = opt("word", "bpe: BPE with single digits (any text) | word: one token per "
                                            "word and per number 0..max_number (closed synthetic vocabulary)")
    max_number: int = num(60, 0, 100_000, "word tokenizer: numbers 0..max_number are single tokens")
    parallel: bool = opt(False, "pre-train the encoder in a second process while this one trains the LLM")
    processes: int = num(2, 1, 64, "data-parallel processes (gloo, one core each): the LLM, then the encoder, each "
                         "on every process; the update equals the one-process update up to float summation order")
    eval_sentences: int = num(200, 1, 1_000_000, "held out per corpus for MLM / copy accuracy (not trained on)")
    task_problems: int = num(4000, 1, 10_000_000, "the first N English training problems in pre-training (the "
                             "LLM's task stream, the encoder's questions): the 0.8M LLM learns to read from ~7 "
                             "passes over 4,000 (English dev 0.84) better than from ~1.5 over 20,000 (0.74)")
    encoder: TinyEncoderConfig = sub(TinyEncoderConfig)
    llm: TinyLLMConfig = sub(TinyLLMConfig)

    def __post_init__(self) -> None:
        if self.processes > min(self.encoder.batch_size, self.llm.batch_size):
            raise ConfigError(f"base_models.tiny.processes: got {self.processes}; each process needs rows of every "
                              f"batch (at most {min(self.encoder.batch_size, self.llm.batch_size)})")
        if self.parallel and self.processes > 1:
            raise ConfigError("base_models.tiny.parallel: true and processes > 1 both use the cores; pick one "
                              "(processes: 2 splits every batch, parallel: true trains the two models side by side)")


@dataclass(frozen=True)
class BaseModelsConfig:
    """Where the base encoder and LLM come from: `tiny` builds and pre-trains them; `hub` names them by id."""

    source: Literal["tiny", "hub"] = opt("tiny")
    tiny: TinyModelsConfig = sub(TinyModelsConfig)
    hub: HubModelsConfig = sub(HubModelsConfig)


def _check_batch_split(section: str, train: TrainConfig, processes: int) -> None:
    """At config time, not when training starts: the global batch must split into micro-batches per process."""
    try:
        train.accumulation_steps(processes)
    except ValueError as err:
        raise ConfigError(f"{section}.train.global_batch_size: {err} (world size = {section}.processes)") from None


def _processes() -> Any:
    return num(2, 1, 64, "data-parallel processes on this machine (one core each on a CPU, gloo); > 1 relaunches "
               "the stage under `accelerate launch`; a GPU run uses configs/accelerate/*.yaml instead")


@dataclass(frozen=True)
class Stage1Config:
    """Stage 1 (language alignment): only the alignment layer and the boundary vectors train."""

    layout: Literal["paper", "encoder_prompt"] = opt("paper", "encoder_prompt: the authors' release "
                                                      "(whole prompt through the encoder)")
    alignment: Literal["mlp", "linear"] = opt("mlp", "linear: the paper's ablation (App. E.4)")
    template: PromptTemplate = field(default_factory=PromptTemplate)
    max_encoder_tokens: int | None = opt(None, "null: the encoder's max positions (512 without a limit)")
    boundary_init_std: float | None = opt(None, "null: the std of the LLM's input embeddings")
    init_start_token: str | None = opt(None, "initialise <enc_start> from this LLM token's embedding")
    init_end_token: str | None = opt("<sep>", "initialise <enc_end> from this LLM token (the tiny LLM's copy "
                                     "separator); null: random at embedding scale")
    match_embedding_scale: bool = opt(True, "rescale the fresh alignment layer so its outputs have the norm of "
                                      "the LLM's token embeddings (see train.alignment_init.match_embedding_scale)")
    warm_start_steps: int = num(300, 0, 1_000_000, "regress the alignment layer onto the LLM embeddings of tokens "
                                "both tokenizers share (English) before stage 1; 0: off (the paper)")
    warm_start_lr: float = num(3e-3, 1e-7, 1.0)
    warm_start_batch_size: int = num(256, 1, 1_000_000, "token pairs per warm-start step")
    save_llm: Literal["auto", "copy", "reference"] = opt("auto", "auto: copy local / trained LLMs into the "
                                                         "model folder, refer to hub ids")
    threads: int = num(1, 1, 256)
    processes: int = _processes()
    resume: bool = opt(True, "resume from data/checkpoints/stage1 when its inputs and config match")
    recall_per_lang: int = num(30, 0, 1_000_000, "held-out records per language for the reconstruction recall")
    recall_on_parallel: bool = opt(True, "also measure recall on whole target-language sentences of "
                                    "data/raw/parallel (what the test inputs look like); languages without pairs "
                                    "are skipped")
    eval_batch_size: int = num(32, 1, 4096)
    train: TrainConfig = field(default_factory=lambda: stage1_config(
        global_batch_size=64, micro_batch_size=32, max_steps=300, learning_rate=2e-3, max_length=512,
        length_group_window=8, compile_layers=False, checkpoint_every=100, log_every=25))

    def __post_init__(self) -> None:
        _check_batch_split("stage1", self.train, self.processes)


@dataclass(frozen=True)
class Stage2Config:
    """Stage 2 (task transfer): the LLM trains on English task data; encoder, alignment, boundaries frozen."""

    save_encoder: Literal["auto", "copy", "reference"] = opt("auto")
    threads: int = num(1, 1, 256)
    processes: int = _processes()
    resume: bool = opt(True)
    train: TrainConfig = field(default_factory=lambda: stage2_config(
        learning_rate=3e-4, global_batch_size=32, micro_batch_size=16, max_steps=350, max_length=512,
        length_group_window=8, checkpoint_every=50, log_every=25, aligned_noise=1.2))

    def __post_init__(self) -> None:
        _check_batch_split("stage2", self.train, self.processes)


@dataclass(frozen=True)
class NoStage1Config:
    """The `no_stage1` control: LinguaLIFT without stage 1. A fresh alignment layer (embedding-scale init, no
    warm start) trains together with the LLM on the English task data; encoder frozen. Layout and alignment
    architecture come from `stage1`."""

    threads: int = num(1, 1, 256)
    processes: int = _processes()
    resume: bool = opt(True)
    train: TrainConfig = field(default_factory=lambda: stage2_config(
        stage="no_stage1", train_alignment=True, learning_rate=3e-4, global_batch_size=32, micro_batch_size=16,
        max_steps=350, max_length=512, length_group_window=8, checkpoint_every=50, log_every=25))

    def __post_init__(self) -> None:
        _check_batch_split("no_stage1", self.train, self.processes)


@dataclass(frozen=True)
class MonoSFTConfig:
    """The English-only baseline (the LLM alone, the stage-2 recipe); `layout_sft` reuses this section."""

    template: PromptTemplate = field(default_factory=PromptTemplate)
    threads: int = num(1, 1, 256)
    processes: int = _processes()
    resume: bool = opt(True)
    train: TrainConfig = field(default_factory=lambda: mono_sft_config(
        learning_rate=3e-4, global_batch_size=32, micro_batch_size=16, max_steps=350, max_length=512,
        length_group_window=8, checkpoint_every=50, log_every=25))

    def __post_init__(self) -> None:
        _check_batch_split("mono_sft", self.train, self.processes)


# ---- evaluate: lingualift_core/stages/evaluate.py


@dataclass(frozen=True)
class EvalBenchmarkConfig:
    """One benchmark. Math: `source: artifact` reads a `math` Parquet file; mgsm / msvamp / mmwp read the
    benchmark's own folder with lingualift_core.sources. NLI: xnli (TSV folder). Multiple choice: xcopa, xcsqa
    (JSON Lines folders). Floor systems are evaluated on math only (the layout-only copies are math problems)."""

    source: Literal["artifact", "mgsm", "msvamp", "mmwp", "xnli", "xcopa", "xcsqa"] = opt("artifact")
    path: str = opt("data/raw/benchmarks/math_test.parquet", "file (artifact) or folder, relative to the root")
    split: str | None = opt(None, "xnli: test | dev, xcopa: test | val, xcsqa: dev | test (null: test, test, dev)")
    layout_path: str | None = opt("data/raw/benchmarks/math_test_layout.parquet",
                                  "layout-only copy for floor systems (math); null: built in memory "
                                  "(toyworld.layout_only)")
    id_prefix: str | None = opt(None, "keep rows whose id starts with this (e.g. mgsm- in a mixed math_test file)")
    langs: tuple[str, ...] | None = opt(None, "null: every language of the file")
    max_per_lang: int | None = opt(None, "the first N problems of each language (null: all)")

    def __post_init__(self) -> None:
        if self.max_per_lang is not None and self.max_per_lang < 1:
            raise ConfigError(f"max_per_lang: got {self.max_per_lang}, must be >= 1 or null")
        if self.split is not None and self.source not in ("xnli", "xcopa", "xcsqa"):
            raise ConfigError(f"split: got {self.split!r} for source {self.source!r}, which has no splits; "
                              "use null (split is for xnli, xcopa, xcsqa)")


@dataclass(frozen=True)
class EvalSystemConfig:
    """One evaluated system: a saved model folder (LinguaLIFTModel.from_pretrained)."""

    model: str = opt("data/models/stage2", "model folder, relative to the root")
    floor: bool = opt(False, "read the layout-only copies (the floor: transfer is real only above it)")


def _default_eval_systems() -> dict[str, EvalSystemConfig]:
    return {"lingualift": EvalSystemConfig("data/models/stage2"),
            "no_stage1": EvalSystemConfig("data/models/no_stage1"),
            "mono_sft": EvalSystemConfig("data/models/mono_sft"),
            "layout_only": EvalSystemConfig("data/models/layout_sft", floor=True)}


@dataclass(frozen=True)
class EvalPromptConfig:
    """The zero-shot prompt: `model` = each model's saved template (what it was trained with) + trigger;
    `alpaca` = the Alpaca-style frame ending `### Response: <trigger>`."""

    style: Literal["model", "alpaca"] = opt("model")
    instruction: str | None = opt(None, "null: the instruction of the English task data (data/raw/tasks/"
                                  "math_sft.parquet), i.e. what stage 2 trained with")
    trigger: str = opt("", "zero-shot CoT trigger, e.g. \"Let's think step by step.\" (the tiny LLM never saw one)")


@dataclass(frozen=True)
class EvalGenerationConfig:
    """Batched greedy decoding."""

    batch_size: int = num(64, 1, 4096, "prompts per generate batch (outputs do not depend on it)")
    max_new_tokens: int = num(64, 1, 16384, "upper bound of generated tokens")
    fit_to_solutions: bool = opt(False, "cap max_new_tokens at 1.25 x the longest reference solution + 8 tokens "
                                 "(benchmarks with solutions only)")
    stop_strings: tuple[str, ...] = opt(["\n\n", "###"], "cut the output before the first of these")
    max_length: int = num(2048, 8, 1_000_000, "longest prompt in LLM positions (longer prompts are truncated)")
    threads: int | None = opt(1, "torch intra-op threads (null: torch's default); 1 is fastest for tiny models "
                              "on a shared CPU")
    processes: int = num(2, 1, 64, "systems evaluated side by side, one process each (a 2-core CPU: 2; one GPU: "
                         "1); the predictions do not depend on it")
    device: str = opt("auto", "auto (cuda when available, else cpu), cpu, cuda, cuda:1, ...")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = opt("auto", "auto: bfloat16 on GPU, float32 on CPU")


@dataclass(frozen=True)
class EvalAlignmentConfig:
    """Alignment analyses: top-1 retrieval on parallel pairs, Spearman with task accuracy, t-SNE, grouping."""

    enabled: bool = opt(True)
    model: str = opt("data/models/stage1", "a model with an encoder: stage 1 or stage 2")
    source: Literal["artifact", "tatoeba"] = opt("artifact", "artifact: data/raw/parallel/en-<lang>.parquet")
    path: str = opt("data/raw/parallel", "folder of en-<lang>.parquet files or of Tatoeba files")
    langs: tuple[str, ...] | None = opt(None, "null: pipeline.targets (artifact: each needs a file; tatoeba: "
                                        "those with a test set)")
    max_pairs: int = num(300, 3, 1_000_000, "the first N pairs per language")
    kinds: tuple[Literal["aligned", "encoder", "llm_embeddings"], ...] = opt(["aligned", "encoder", "llm_embeddings"],
                                 "aligned (LLM input after the alignment layer), encoder, llm_embeddings")
    batch_size: int = num(64, 1, 4096)
    accuracy_system: str = opt("lingualift", "whose accuracy the retrieval is correlated with")
    accuracy_benchmark: str = opt("math")
    tsne: bool = opt(True, "t-SNE PNG of the `aligned` vectors (English + every language)")
    tsne_per_lang: int = num(100, 3, 100_000)
    tsne_perplexity: float = num(30.0, 1.0, 1000.0)
    tsne_max_iter: int = num(500, 250, 100_000)

    def __post_init__(self) -> None:
        if not self.kinds or len(set(self.kinds)) != len(self.kinds):
            raise ConfigError(f"kinds: got {list(self.kinds)!r}; name each representation once, at least one")
        if self.tsne and "aligned" not in self.kinds:
            raise ConfigError("kinds: tsne: true plots the `aligned` vectors; add aligned to kinds or set tsne: false")


@dataclass(frozen=True)
class EvalGatesConfig:
    """Preconditions of a meaningful transfer result, checked in the report (a missed gate is one warning line)."""

    base_llm_english_dev: float = num(0.5, 0.0, 1.0, "base LLM's own accuracy on the English dev split (before "
                                      "any fine-tuning): the tiny LLM must play Llama-2's part")
    base_llm_copy: float = num(0.8, 0.0, 1.0, "base LLM's held-out copy token accuracy (stage 1 needs copying)")
    stage1_recall: float = num(0.6, 0.0, 1.0, "stage-1 reconstruction recall on whole target-language "
                               "sentences, per language")


@dataclass(frozen=True)
class EvaluateConfig:
    """Stage `evaluate`: every system on every benchmark through the same code; reports and analyses."""

    benchmarks: dict[str, EvalBenchmarkConfig] = field(default_factory=lambda: {"math": EvalBenchmarkConfig()})
    systems: dict[str, EvalSystemConfig] = field(default_factory=_default_eval_systems)
    prompt: EvalPromptConfig = sub(EvalPromptConfig)
    generation: EvalGenerationConfig = sub(EvalGenerationConfig)
    english_in_high: bool = opt(True, "English counts in the high-resource average (the paper's MGSM tables)")
    alignment: EvalAlignmentConfig = sub(EvalAlignmentConfig)
    gates: EvalGatesConfig = sub(EvalGatesConfig)

    def __post_init__(self) -> None:
        if not self.benchmarks:
            raise ConfigError("evaluate.benchmarks: empty; name at least one benchmark")
        if not self.systems:
            raise ConfigError("evaluate.systems: empty; name at least one system")
        if all(s.floor for s in self.systems.values()):
            raise ConfigError("evaluate.systems: every system is a floor; add one that reads the benchmarks")
        for kind, names in (("benchmarks", self.benchmarks), ("systems", self.systems)):
            bad = [n for n in names if not (n[:1].isalnum() and n.isascii()
                                            and all(c.isalnum() or c in "_.-" for c in n))]
            if bad:
                raise ConfigError(f"evaluate.{kind}: name {bad[0]!r} must be letters, digits, '_', '-', '.' "
                                  "(it names files and table columns)")
        if self.alignment.enabled and self.alignment.accuracy_system not in self.systems:
            raise ConfigError(f"evaluate.alignment.accuracy_system: got {self.alignment.accuracy_system!r}; "
                              f"evaluated systems: {', '.join(self.systems)}")
        if self.alignment.enabled and self.alignment.accuracy_benchmark not in self.benchmarks:
            raise ConfigError(f"evaluate.alignment.accuracy_benchmark: got {self.alignment.accuracy_benchmark!r}; "
                              f"benchmarks: {', '.join(self.benchmarks)}")


_SECTIONS: dict[str, type] = {
    "pipeline": PipelineConfig,
    "prepare": PrepareConfig,
    "tokenize": TokenizeConfig,
    "embeddings": EmbeddingsConfig,
    "lexicon": LexiconConfig,
    "codeswitch": CodeswitchConfig,
    "base_models": BaseModelsConfig,
    "stage1": Stage1Config,
    "stage2": Stage2Config,
    "no_stage1": NoStage1Config,
    "mono_sft": MonoSFTConfig,
    "evaluate": EvaluateConfig,
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
    base_models: BaseModelsConfig = sub(BaseModelsConfig)
    stage1: Stage1Config = sub(Stage1Config)
    stage2: Stage2Config = sub(Stage2Config)
    no_stage1: NoStage1Config = sub(NoStage1Config)
    mono_sft: MonoSFTConfig = sub(MonoSFTConfig)
    evaluate: EvaluateConfig = sub(EvaluateConfig)


def parse_params(data: Mapping[str, Any]) -> Params:
    """Validates a whole params mapping (top-level keys are sections)."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"params: got {type(data).__name__}, expected a mapping of sections")
    unknown = sorted(set(data) - set(_SECTIONS))
    if unknown:
        raise ConfigError(f"{unknown[0]}: unknown section; allowed sections: {', '.join(_SECTIONS)}")
    return Params(**{name: parse_section(_SECTIONS[name], value, name) for name, value in data.items()})


def load_params(path: str | Path) -> Params:
    """Reads and validates a params YAML file; an error names the file, the key and its line:column."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: params file not found")
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ConfigError(f"{path}{where}: invalid YAML: {problem}") from None
    try:
        return parse_params(data)
    except ConfigError as err:
        msg = str(err)
        pos = yaml_position(text, msg.split(":", 1)[0])
        raise ConfigError(f"{path}{':%d:%d' % pos if pos else ''}: {msg}") from None


def yaml_position(text: str, dotted: str) -> tuple[int, int] | None:
    """1-based (line, column) of the deepest key of `dotted` (`a.b[2].c`) found in the YAML `text`, or None."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    found = None
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", dotted):
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == part), None)
            if match is None:
                break
            found, node = match[0].start_mark, match[1]
        elif isinstance(node, yaml.SequenceNode) and part.startswith("["):
            i = int(part[1:-1])
            if i >= len(node.value):
                break
            node = node.value[i]
            found = node.start_mark
        else:
            break
    return (found.line + 1, found.column + 1) if found is not None else None
