"""Synthetic pre-training documents that give the tiny LLM what a real LLM arrives with (pure library; the
`base_models` stage mixes them into the LLM's pre-training): translation-style instructions before a copy, and
arithmetic in the task's number range."""

from __future__ import annotations

from collections.abc import Sequence


def instruction_copies(sentences: Sequence[str], n: int, *, seed: int, scramble_fraction: float) -> list[str]:
    """`n` documents `"<instruction> A <sep> A"`: a translation-style instruction naming a real language, then a
    copy of an English sentence A (its words shuffled with probability `scramble_fraction`).

    A real LLM has read countless "Translate the following French text into English." prompts; the tiny LLM has
    not, and without these documents an instruction before the copy source breaks its copying (measured on the
    toy world: copy loss 1.2 nats per token without the instruction, 8.3 with it), which leaves stage 1 (whose
    paper layout puts the instruction before the encoder segment) at the LM prior. The toy languages' names
    never appear: the instruction names real languages only."""
    import random

    from lingualift_core.codeswitch.instructions import DEFAULT_TEMPLATES
    from lingualift_core.languages import all_languages
    from lingualift_core.model.tiny import LLM_SEP_TOKEN

    names = sorted({lang.name for lang in all_languages(include_toy=False)})
    pool = [t for t in sentences if t.strip()]
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        a = rng.choice(pool)
        if rng.random() < scramble_fraction:
            words = a.split()
            rng.shuffle(words)
            a = " ".join(words)
        instruction = rng.choice(DEFAULT_TEMPLATES).format(lang_name=rng.choice(names))
        out.append(f"{instruction} {a} {LLM_SEP_TOKEN} {a}")
    return out


def arithmetic_drills(n: int, *, seed: int, max_operand: int = 100, per_doc: int = 8) -> list[str]:
    """`n` documents of `per_doc` equations in the task solutions' format: "17 + 11 = 28. 40 - 13 = 27. ...".

    Sums below `max_operand`, differences of operands below it (never negative), small products.
    A real LLM knows arithmetic from pre-training; the tiny one sees a few thousand solved problems only, and
    after Mono-SFT it got 8 of 74 equations right in its own English solutions while the reasoning steps were
    mostly right (toy world, default size), so English accuracy, and with it any transfer, was capped by
    arithmetic rather than by language. Mixed into the text, 10,000 documents did not teach it within 800 steps
    (1% of "a op b =" completions right, as without them); as a stream of their own in every batch
    (`base_models.tiny.llm.arithmetic_fraction`) they do, and the embedded default uses them so."""
    import random

    rng = random.Random(seed)
    docs = []
    for _ in range(n):
        eqs = []
        for _ in range(per_doc):
            op = rng.choices("+-*", weights=(10, 10, 1))[0]
            if op == "*":
                a, b = rng.randrange(0, 21), rng.randrange(1, 6)
                eqs.append(f"{a} * {b} = {a * b}")
            else:
                a, b = rng.randrange(0, max_operand), rng.randrange(0, max_operand)
                if op == "+" and a + b >= max_operand:  # keep sums in the task's range
                    op = "-"
                if op == "-" and b > a:
                    a, b = b, a
                eqs.append(f"{a} {op} {b} = {a + b if op == '+' else a - b}")
        docs.append(". ".join(eqs) + ".")
    return docs
