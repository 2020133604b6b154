"""Bilingual lexicon induction without parallel data (en -> X), and the fastText embeddings it starts from.

Typical use (the `lexicon` stage)::

    from lingualift_core import lexicon as lx
    en = lx.train_fasttext(en_sentences, dim=300, epochs=5, min_count=5, threads=2, seed=0, max_words=200_000)
    de = lx.read_embeddings("data/embeddings/de.parquet")
    result = lx.induce(en, de, method="unsupervised", threads=2)        # robust; adversarial only as fallback
    table = lx.translate(en, de, result, english_vocabulary, top_k=1, threshold=0.0)
    metrics = lx.evaluate_dictionary(en, de, result, lx.load_muse_dictionary("en-de.5000-6500.txt"))

Modules: `embeddings` (Embeddings, fastText, .vec/.bin, Arrow storage), `induction` (normalisation, MUSE
adversarial init, VecMap-style robust init, Procrustes refinement, selection criterion), `lexicon`
(CSLS translation tables, MUSE dictionaries, P@k), `knn` (faiss search helpers), `synthetic` (pairs with
known ground truth), `realcheck` (the real-vector check: two English fastText spaces from disjoint halves of
the shared text, unsupervised vs supervised P@1 on MUSE's en-en split). Every error from bad input is a
one-line `LexiconError` (a ValueError).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lingualift_core._lazy import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time each name is imported on first use
    from .embeddings import (
        EMBEDDINGS_SCHEMA_VERSION,
        Embeddings,
        embeddings_from_table,
        embeddings_schema,
        embeddings_to_table,
        load_vectors,
        read_embeddings,
        train_fasttext,
        write_embeddings,
    )
    from .errors import LexiconError
    from .induction import (
        INIT_POLICIES,
        METHODS,
        NORMALIZE_DEFAULT,
        AdversarialConfig,
        InductionConfig,
        InductionResult,
        criterion,
        induce,
        min_vocabulary,
        normalize_vectors,
    )
    from .lexicon import (
        LEXICON_SCHEMA,
        LEXICON_SCHEMA_VERSION,
        evaluate_dictionary,
        lexicon_from_dictionary,
        load_muse_dictionary,
        translate,
    )
    from .synthetic import SyntheticPair, synthetic_pair

__all__ = [
    "EMBEDDINGS_SCHEMA_VERSION",
    "INIT_POLICIES",
    "LEXICON_SCHEMA",
    "LEXICON_SCHEMA_VERSION",
    "METHODS",
    "NORMALIZE_DEFAULT",
    "AdversarialConfig",
    "Embeddings",
    "InductionConfig",
    "InductionResult",
    "LexiconError",
    "SyntheticPair",
    "criterion",
    "embeddings_from_table",
    "embeddings_schema",
    "embeddings_to_table",
    "evaluate_dictionary",
    "induce",
    "lexicon_from_dictionary",
    "load_muse_dictionary",
    "load_vectors",
    "min_vocabulary",
    "normalize_vectors",
    "read_embeddings",
    "synthetic_pair",
    "train_fasttext",
    "translate",
    "write_embeddings",
]

__getattr__, __dir__ = lazy_exports(__name__, {
    "EMBEDDINGS_SCHEMA_VERSION": ".embeddings", "Embeddings": ".embeddings", "embeddings_from_table": ".embeddings",
    "embeddings_schema": ".embeddings", "embeddings_to_table": ".embeddings", "load_vectors": ".embeddings",
    "read_embeddings": ".embeddings", "train_fasttext": ".embeddings", "write_embeddings": ".embeddings",
    "LexiconError": ".errors",
    "INIT_POLICIES": ".induction", "METHODS": ".induction", "NORMALIZE_DEFAULT": ".induction",
    "AdversarialConfig": ".induction", "InductionConfig": ".induction", "InductionResult": ".induction",
    "criterion": ".induction", "induce": ".induction", "min_vocabulary": ".induction",
    "normalize_vectors": ".induction",
    "LEXICON_SCHEMA": ".lexicon", "LEXICON_SCHEMA_VERSION": ".lexicon", "evaluate_dictionary": ".lexicon",
    "lexicon_from_dictionary": ".lexicon", "load_muse_dictionary": ".lexicon", "translate": ".lexicon",
    "SyntheticPair": ".synthetic", "synthetic_pair": ".synthetic",
})
