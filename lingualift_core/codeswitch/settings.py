"""The code-switching settings: one class for the library's builder and the params section `codeswitch`
(`lingualift_core.config.CodeswitchConfig` adds the stage's own keys). Torch- and Arrow-free, so the config module
imports it cheaply. The defaults are the embedded default's; the paper's (adp+noun, 0.8) are in configs/paper.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass

from .pos_groups import known_groups_text, resolve_pos_group

# how a translation is drawn among a word's top_k (:mod:`.lexicon`)
SELECTIONS: tuple[str, ...] = ("top1", "uniform", "proportional", "softmax")


@dataclass(frozen=True)
class CodeSwitchConfig:
    """Settings of the code-switching builder.

    pos_group: a group name (:func:`.pos_groups.resolve_pos_group`), e.g. the paper's best ``adp+noun``; the toy
        world's math turns on verbs and function words, so the embedded default switches nearly every word class.
    ratio: probability that a candidate with a translation is replaced (the paper's best: 0.8).
    top_k / selection / temperature: how a translation is chosen (:mod:`.lexicon`).
    max_sentences_per_lang: cap on sentences written per language (None: all).
    min_replaced: drop sentences with fewer replaced tokens (0 keeps everything, unchanged sentences included).
    exclude_stop_words: never replace tokens flagged ``is_stop``.
    The seed of the draws is the builder's (`CodeSwitchBuilder(..., seed=)`), not a setting: the pipeline's
    seed is `pipeline.seed`.
    """

    pos_group: str = "content+adp+aux+det+pron+conj+part"
    ratio: float = 0.9
    top_k: int = 1
    selection: str = "top1"
    temperature: float = 1.0
    max_sentences_per_lang: int | None = None
    min_replaced: int = 0
    exclude_stop_words: bool = False

    def __post_init__(self) -> None:
        try:
            resolve_pos_group(self.pos_group)
        except ValueError:
            raise ValueError(f"pos_group: got {self.pos_group!r}; known: {known_groups_text()}") from None
        if not 0.0 <= float(self.ratio) <= 1.0:
            raise ValueError(f"ratio: got {self.ratio}, allowed [0, 1]")
        if self.selection not in SELECTIONS:
            raise ValueError(f"selection: got {self.selection!r}; allowed {', '.join(SELECTIONS)}")
        if int(self.top_k) < 1:
            raise ValueError(f"top_k: got {self.top_k}, allowed >= 1")
        if not self.temperature > 0:
            raise ValueError(f"temperature: got {self.temperature}, allowed > 0")
        if self.max_sentences_per_lang is not None and int(self.max_sentences_per_lang) < 0:
            raise ValueError(f"max_sentences_per_lang: got {self.max_sentences_per_lang}, allowed >= 0 or null")
        if int(self.min_replaced) < 0:
            raise ValueError(f"min_replaced: got {self.min_replaced}, allowed >= 0")

    @property
    def pos_tags(self) -> frozenset[str]:
        return resolve_pos_group(self.pos_group)
