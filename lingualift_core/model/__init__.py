"""lingualift_core.model: alignment layer, boundary vectors, the combined model, batching, save/load.

API::

    from lingualift_core.model import LinguaLIFTModel, LinguaLIFTConfig, PromptTemplate
    model = LinguaLIFTModel.from_base(llm="path/or/id", encoder="path/or/id", layout="paper", alignment="mlp")
    model.generate([{"instruction": ..., "input": ...}], max_new_tokens=64)
    model.save_pretrained(folder); LinguaLIFTModel.from_pretrained(folder)
"""

from .alignment import AlignmentLayer, embedding_std, init_boundary_vector
from .batching import (
    LAYOUTS,
    LinguaLIFTCollator,
    PromptBuilder,
    PromptTemplate,
    TokenizedRecord,
    collate,
    position_ids_from_mask,
    row_length,
)
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
