"""Evaluating saved models: the prompt a model reads, batched greedy generation, the answer-length budget.

Every system (LinguaLIFT, Mono-SFT, the layout floor) goes through the same :class:`ModelGenerator`: a
``generate_fn`` for :func:`lingualift_core.evaluate.generation.run_generation` built on
:meth:`LinguaLIFTModel.generate`, whose records are ``{"instruction", "input"}``. With an encoder the
input goes through it (paper layout); without one the LLM reads ``instruction + input`` as text.

Prompt styles (:func:`eval_template`):

- ``model``: the template saved with the model (what it was trained with), the zero-shot CoT ``trigger``
  (if any) appended to its response prefix. Training and evaluation then see the same frame by construction.
- ``alpaca``: the Alpaca-style zero-shot CoT frame of :class:`lingualift_core.evaluate.prompts.PromptTemplate`
  mapped onto the model's joiners, so that an LLM-only model reads exactly
  ``PromptTemplate.render(instruction, input)`` and LinguaLIFT reads the same text with the input's slot
  filled by ``<enc_start> A(Enc(input)) <enc_end>``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from lingualift_core.evaluate.prompts import COT_TEMPLATE, Prompt
from lingualift_core.evaluate.prompts import PromptTemplate as TextTemplate

__all__ = [
    "PROMPT_STYLES",
    "ModelGenerator",
    "eval_template",
    "render_prompt",
    "solution_token_budget",
]

PROMPT_STYLES: tuple[str, ...] = ("model", "alpaca")
ENC_START_MARK, ENC_END_MARK = "<enc_start>", "<enc_end>"


def _append(text: str, addition: str) -> str:
    if not addition:
        return text
    if text and not text[-1].isspace():
        return f"{text} {addition}"
    return text + addition


def eval_template(model_template: Any, *, style: str, trigger: str = "", alpaca: TextTemplate | None = None) -> Any:
    """The model-side template (``lingualift_core.model.PromptTemplate``) to evaluate with.

    Args:
        model_template: the template saved with the model.
        style: ``"model"`` or ``"alpaca"`` (see the module doc).
        trigger: zero-shot CoT trigger, e.g. ``"Let's think step by step."``; ``""`` for none. With ``alpaca``
            it replaces the text template's own trigger.
        alpaca: the text frame for ``alpaca`` (default: :data:`COT_TEMPLATE`).
    """
    if style == "model":
        return replace(model_template, response_prefix=_append(model_template.response_prefix, trigger))
    if style != "alpaca":
        raise ValueError(f"unknown prompt style {style!r}; expected one of {', '.join(PROMPT_STYLES)}")
    text = (alpaca or COT_TEMPLATE).with_trigger(trigger)
    before, _, after = text.parts("", "")
    # parts(instruction, input) = before + [instruction + separator] + input + after
    return replace(model_template, system=before, instruction_suffix=text.separator,
                   input_separator=text.separator, response_prefix=after)


def render_prompt(template: Any, prompt: Prompt, *, has_encoder: bool, layout: str = "paper") -> str:
    """The prompt as text, as the model reads it; the encoder's span is shown between ``<enc_start>`` and
    ``<enc_end>`` (paper layout: the input; ``encoder_prompt`` layout: instruction and input)."""
    instruction, text = prompt
    if not has_encoder:
        body = template.input_separator.join(p for p in (instruction, text) if p)
        return template.system + body + template.response_prefix
    if layout == "paper":
        head = template.system + (instruction + template.instruction_suffix if instruction else "")
        return f"{head}{ENC_START_MARK}{text}{ENC_END_MARK}{template.response_prefix}"
    inner = template.system + template.input_separator.join(p for p in (instruction, text) if p)
    return f"{ENC_START_MARK}{inner}{ENC_END_MARK}{template.response_prefix}"


def solution_token_budget(tokenizer: Any, solutions: Sequence[str | None], *, cap: int, margin: float = 1.25,
                          extra: int = 8) -> int:
    """``min(cap, ceil(margin * longest solution in tokens) + extra)``; ``cap`` when no solution text is given.

    Greedy decoding stops at EOS, but a model that never emits it runs to the limit, so the limit decides
    the worst-case cost of a batch: sizing it to the reference solutions keeps evaluation fast.
    """
    texts = [s for s in solutions if s]
    if not texts:
        return cap
    longest = max(len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"])
    return max(1, min(cap, math.ceil(margin * longest) + extra))


class ModelGenerator:
    """``generate_fn`` over a loaded :class:`~lingualift_core.model.LinguaLIFTModel`.

        gen = ModelGenerator(model, style="model", trigger="", batch_size=64, max_new_tokens=96,
                             stop_strings=["\\n\\n"])
        outputs = gen([(instruction, question), ...])     # list[str], same order
        gen.render((instruction, question))               # the prompt as the model reads it

    Batches are formed inside :meth:`LinguaLIFTModel.generate` by prompt length; outputs do not depend on the
    batch size (left padding with matching position ids), which the stage's tests check.
    """

    def __init__(self, model: Any, *, style: str = "model", trigger: str = "", alpaca: TextTemplate | None = None,
                 batch_size: int = 32, max_new_tokens: int = 256, stop_strings: Sequence[str] = (),
                 max_length: int = 4096) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.model = model
        self.template = eval_template(model.config.template, style=style, trigger=trigger, alpaca=alpaca)
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.stop_strings = [s for s in stop_strings if s]
        self.max_length = max_length

    @property
    def has_encoder(self) -> bool:
        return bool(self.model.has_encoder)

    def render(self, prompt: Prompt) -> str:
        return render_prompt(self.template, prompt, has_encoder=self.has_encoder, layout=self.model.config.layout)

    def __call__(self, prompts: Sequence[Prompt]) -> list[str]:
        records: list[Mapping[str, str]] = [{"instruction": p[0], "input": p[1]} for p in prompts]
        # the model's prompt builder reads the template from its config: swap it in for this call only, so the
        # saved template stays what the model was trained with (another generator on the same model starts
        # from it again)
        saved = self.model.config
        self.model.config = replace(saved, template=self.template)
        try:
            return self.model.generate(records, batch_size=self.batch_size, max_new_tokens=self.max_new_tokens,
                                       stop_strings=self.stop_strings or None, max_length=self.max_length)
        finally:
            self.model.config = saved
