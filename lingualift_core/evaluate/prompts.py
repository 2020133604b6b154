"""Prompt templates: a prompt is an ``(instruction, input)`` pair.

The ``input`` is the task text in the target language; the ``instruction`` is the (English) task instruction.
How the pair reaches a model is the model's business:

- LinguaLIFT (paper layout) embeds the instruction with the LLM's embeddings and sends the input through the
  multilingual encoder; :meth:`PromptTemplate.parts` gives ``(text_before_input, input, text_after_input)`` so
  the encoder states take the input slot and the chain-of-thought trigger follows ``<enc_end>``.
- LLM-only systems (Mono-SFT, the layout floor, MT baselines) see the same pair rendered as one text by
  :meth:`PromptTemplate.render`, which is exactly ``before + input + after``.

The default math template is Alpaca-style zero-shot chain of thought (MetaMath's evaluation prompt with the
question under "### Instruction:"), ending ``### Response: Let's think step by step.``::

    Below is an instruction that describes a task. Write a response that appropriately completes the request.

    ### Instruction:
    {instruction}
    {input}

    ### Response: Let's think step by step.

An empty instruction is left out (then the question alone fills the instruction section, as in MetaMath).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from lingualift_core.sources.math import MATH_INSTRUCTION

__all__ = [
    "COT_TEMPLATE",
    "DIRECT_TEMPLATE",
    "MC_INSTRUCTION",
    "NLI_INSTRUCTION",
    "Prompt",
    "PromptTemplate",
    "XCOPA_QUESTIONS",
    "math_prompt",
    "mc_prompt",
    "nli_prompt",
    "prompts_for",
    "xcopa_prompt",
]

Prompt = tuple[str, str]
"""``(instruction, input)``."""

NLI_INSTRUCTION = (
    "Determine the relationship between the premise and the hypothesis. "
    "Answer with one word: entailment, neutral, or contradiction."
)
MC_INSTRUCTION = "Answer the following multiple-choice question. Reply with the letter of the correct option."
#: XCOPA's ``question`` field -> the English question appended to the premise.
XCOPA_QUESTIONS = {"cause": "What was the cause?", "effect": "What happened as a result?"}


@dataclass(frozen=True)
class PromptTemplate:
    """Alpaca-style layout; every piece is configurable.

    Attributes:
        preamble: the opening sentence ("Below is an instruction ...").
        instruction_header / response_header: the section headers.
        trigger: text after the response header ("Let's think step by step." for zero-shot CoT; "" for none).
        separator: between the instruction and the input inside the instruction section.
    """

    preamble: str = ("Below is an instruction that describes a task. "
                     "Write a response that appropriately completes the request.")
    instruction_header: str = "### Instruction:"
    response_header: str = "### Response:"
    trigger: str = "Let's think step by step."
    separator: str = "\n"

    def parts(self, instruction: str, input: str) -> tuple[str, str, str]:  # noqa: A002 - the field's name
        """``(before, input, after)`` with ``before + input + after == render(instruction, input)``."""
        before = f"{self.preamble}\n\n" if self.preamble else ""
        before += f"{self.instruction_header}\n"
        if instruction:
            before += instruction + self.separator
        after = f"\n\n{self.response_header}"
        if self.trigger:
            after += f" {self.trigger}"
        return before, input, after

    def render(self, instruction: str, input: str) -> str:  # noqa: A002
        """The whole prompt as one text (for LLM-only systems)."""
        before, text, after = self.parts(instruction, input)
        return before + text + after

    def render_pair(self, prompt: Prompt) -> str:
        return self.render(*prompt)

    def with_trigger(self, trigger: str) -> PromptTemplate:
        return replace(self, trigger=trigger)


COT_TEMPLATE = PromptTemplate()
DIRECT_TEMPLATE = PromptTemplate(trigger="")


def math_prompt(question: str, *, instruction: str = MATH_INSTRUCTION) -> Prompt:
    """Math word problem: the question (target language) is the input."""
    return instruction, question.strip()


def nli_prompt(premise: str, hypothesis: str, *, instruction: str = NLI_INSTRUCTION,
               premise_label: str = "Premise", hypothesis_label: str = "Hypothesis") -> Prompt:
    """NLI: ``Premise: ...\\nHypothesis: ...`` is the input; the instruction names the three labels."""
    return instruction, f"{premise_label}: {premise.strip()}\n{hypothesis_label}: {hypothesis.strip()}"


def mc_prompt(question: str, choices: Sequence[str], *, labels: Sequence[str] | None = None,
              instruction: str = MC_INSTRUCTION) -> Prompt:
    """Multiple choice: the question and the lettered options (``A. ...``) are the input."""
    labels = list(labels) if labels is not None else [chr(ord("A") + i) for i in range(len(choices))]
    if len(labels) != len(choices):
        raise ValueError(f"{len(choices)} choices but {len(labels)} labels")
    options = "\n".join(f"{label}. {choice.strip()}" for label, choice in zip(labels, choices))
    return instruction, f"{question.strip()}\n{options}"


def xcopa_prompt(premise: str, choices: Sequence[str], kind: str, *, instruction: str = MC_INSTRUCTION) -> Prompt:
    """XCOPA: premise + "What was the cause?" / "What happened as a result?" + options A/B."""
    if kind not in XCOPA_QUESTIONS:
        raise ValueError(f"XCOPA question kind must be 'cause' or 'effect', got {kind!r}")
    return mc_prompt(f"{premise.strip()} {XCOPA_QUESTIONS[kind]}", choices, instruction=instruction)


def prompts_for(task: str, rows: Sequence[Mapping[str, Any]], **kwargs: Any) -> list[Prompt]:
    """Prompts for loader rows of one task: ``math`` (question), ``nli`` (premise, hypothesis), ``mc``
    (question, choices, labels; XCOPA rows with ``kind`` cause/effect get the XCOPA question)."""
    if task == "math":
        return [math_prompt(row["question"], **kwargs) for row in rows]
    if task == "nli":
        return [nli_prompt(row["premise"], row["hypothesis"], **kwargs) for row in rows]
    if task == "mc":
        out = []
        for row in rows:
            if row.get("kind") in XCOPA_QUESTIONS:
                out.append(xcopa_prompt(row["question"], row["choices"], row["kind"], **kwargs))
            else:
                out.append(mc_prompt(row["question"], row["choices"], labels=row.get("labels"), **kwargs))
        return out
    raise ValueError(f"unknown task {task!r} (math, nli, mc)")
