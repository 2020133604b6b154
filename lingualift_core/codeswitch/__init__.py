"""POS-filtered code-switched corpus and stage-1 instruction records (pure library, no I/O).

Typical use by the ``codeswitch`` stage::

    builder = CodeSwitchBuilder(CodeSwitchConfig(pos_group="adp+noun", ratio=0.8),
                                [TargetLanguage("de", "German"), TargetLanguage("th", "Thai", no_space=True)],
                                {"de": lexicon_de_table, "th": lexicon_th_table}, seed=0)
    for lang, batch in builder.run(parquet_file.iter_batches(batch_size=1024)):
        writers[lang].write_batch(batch)                      # CORPUS_SCHEMA
        records_writers[lang].write_table(stage1_records(batch, names))   # STAGE1_SCHEMA
    metrics = builder.metrics()                               # stats per language, warnings to log

See :mod:`.builder` for the rules (candidates, ratio, surface handling, determinism, caps), :mod:`.pos_groups`
for group names, :mod:`.instructions` for records and task mixing, :mod:`.analysis` for paper Table 18.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lingualift_core._lazy import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time each name is imported on first use
    from .analysis import PAPER_TABLE18, POS_DISTRIBUTION_SCHEMA, compare_with_paper, pos_counts, pos_distribution
    from .builder import (
        CORPUS_SCHEMA,
        SCHEMA_VERSION,
        CodeSwitchBuilder,
        LanguageStats,
        TargetLanguage,
        build_codeswitch_corpus,
    )
    from .instructions import (
        DEFAULT_TEMPLATES,
        STAGE1_SCHEMA,
        iter_stage1_records,
        mix_task_records,
        stage1_records,
        task_share,
        validate_templates,
    )
    from .lexicon import CodeSwitchLexicon
    from .settings import SELECTIONS, CodeSwitchConfig
    from .pos_groups import PAPER_GROUPS, POS_GROUPS, known_groups_text, resolve_pos_group

__all__ = [
    "CORPUS_SCHEMA",
    "DEFAULT_TEMPLATES",
    "PAPER_GROUPS",
    "PAPER_TABLE18",
    "POS_DISTRIBUTION_SCHEMA",
    "POS_GROUPS",
    "SCHEMA_VERSION",
    "SELECTIONS",
    "STAGE1_SCHEMA",
    "CodeSwitchBuilder",
    "CodeSwitchConfig",
    "CodeSwitchLexicon",
    "LanguageStats",
    "TargetLanguage",
    "build_codeswitch_corpus",
    "compare_with_paper",
    "iter_stage1_records",
    "known_groups_text",
    "mix_task_records",
    "pos_counts",
    "pos_distribution",
    "resolve_pos_group",
    "stage1_records",
    "task_share",
    "validate_templates",
]

__getattr__, __dir__ = lazy_exports(__name__, {
    "PAPER_TABLE18": ".analysis", "POS_DISTRIBUTION_SCHEMA": ".analysis", "compare_with_paper": ".analysis",
    "pos_counts": ".analysis", "pos_distribution": ".analysis",
    "CORPUS_SCHEMA": ".builder", "SCHEMA_VERSION": ".builder", "CodeSwitchBuilder": ".builder",
    "CodeSwitchConfig": ".settings", "LanguageStats": ".builder", "TargetLanguage": ".builder",
    "build_codeswitch_corpus": ".builder",
    "DEFAULT_TEMPLATES": ".instructions", "STAGE1_SCHEMA": ".instructions", "iter_stage1_records": ".instructions",
    "mix_task_records": ".instructions", "stage1_records": ".instructions", "task_share": ".instructions",
    "validate_templates": ".instructions",
    "SELECTIONS": ".settings", "CodeSwitchLexicon": ".lexicon",
    "PAPER_GROUPS": ".pos_groups", "POS_GROUPS": ".pos_groups", "known_groups_text": ".pos_groups",
    "resolve_pos_group": ".pos_groups",
})
