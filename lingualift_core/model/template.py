"""The prompt template: literal text joiners of a LinguaLIFT prompt (torch-free: the config module reads it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping


@dataclass(frozen=True)
class PromptTemplate:
    """Literal text joiners of the prompt (all LLM tokens unless the layout sends them through the encoder)."""

    system: str = ""
    instruction_suffix: str = ""
    input_separator: str = "\n"
    response_prefix: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "PromptTemplate":
        data = dict(data or {})
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown prompt template keys: {sorted(unknown)}")
        return cls(**data)
