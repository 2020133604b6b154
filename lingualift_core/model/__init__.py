"""lingualift_core.model: alignment layer, boundary vectors, the combined model, batching, save/load.

API::

    from lingualift_core.model import LinguaLIFTModel, LinguaLIFTConfig, PromptTemplate
    model = LinguaLIFTModel.from_base(llm="path/or/id", encoder="path/or/id", layout="paper", alignment="mlp")
    model.generate([{"instruction": ..., "input": ...}], max_new_tokens=64)
    model.save_pretrained(folder); LinguaLIFTModel.from_pretrained(folder)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lingualift_core._lazy import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time each name is imported on first use
    from .alignment import AlignmentLayer, embedding_std, init_boundary_vector
    from .batching import (
        LAYOUTS,
        LinguaLIFTCollator,
        PromptBuilder,
        TokenizedRecord,
        collate,
        position_ids_from_mask,
        row_length,
    )
    from .template import PromptTemplate
    from .lingualift import LinguaLIFTConfig, LinguaLIFTModel, LinguaLIFTOutput
    from .loading import ModelLoadError, load_encoder, load_llm, load_tokenizer

__all__ = [
    "LAYOUTS",
    "AlignmentLayer",
    "LinguaLIFTCollator",
    "LinguaLIFTConfig",
    "LinguaLIFTModel",
    "LinguaLIFTOutput",
    "ModelLoadError",
    "PromptBuilder",
    "PromptTemplate",
    "TokenizedRecord",
    "collate",
    "embedding_std",
    "init_boundary_vector",
    "load_encoder",
    "load_llm",
    "load_tokenizer",
    "position_ids_from_mask",
    "row_length",
]

__getattr__, __dir__ = lazy_exports(__name__, {
    "AlignmentLayer": ".alignment", "embedding_std": ".alignment", "init_boundary_vector": ".alignment",
    "LAYOUTS": ".batching", "LinguaLIFTCollator": ".batching", "PromptBuilder": ".batching",
    "PromptTemplate": ".template", "TokenizedRecord": ".batching", "collate": ".batching",
    "position_ids_from_mask": ".batching", "row_length": ".batching",
    "LinguaLIFTConfig": ".lingualift", "LinguaLIFTModel": ".lingualift", "LinguaLIFTOutput": ".lingualift",
    "ModelLoadError": ".loading", "load_encoder": ".loading", "load_llm": ".loading", "load_tokenizer": ".loading",
})
