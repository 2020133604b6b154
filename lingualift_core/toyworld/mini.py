"""The compact world of the embedded default: small enough that 1M-parameter models learn it on a CPU.

The grammar world (``world.py``) has a few hundred lemmas, three-step problems and digit-split numbers; the
tiny base models of the embedded default could not learn even its English task (README). This world keeps
what makes the LinguaLIFT result honest and drops everything else:

- English: ``names`` person names, ``objects`` plural nouns, gain verbs (the subject gets items) and loss
  verbs (the subject loses items), two transfer verbs (``gives N X to Q`` / ``takes N X from Q``), places,
  adjectives and a few other verbs; every token is separated by one space (numbers whole, punctuation
  standalone), so a word-level tokenizer reads it exactly.
- Problems: every statement has exactly seven tokens (``P VERB N X ADP PLACE .`` or ``P VERB N X to/from Q .``),
  the question is ``how many X does P have now ?``; kinds: one gain, one loss, one transfer (four
  role/direction variants), two steps of gain/loss. A distractor statement (another person or another
  object, with a number) stands at a random position with probability ``distractor_share``. Only the verb
  (and the role of the person asked about) decides the operation: no marker word belongs to one kind, and
  every object goes with at least one gain and one loss verb.
- Solutions (``solution_style``) restate the statements they use, then compute:
  ``Tom has 12 apples . Tom finds 3 apples . 12 + 3 = 15 . The answer is 15 .`` (a short chain of thought: reading
  is copying the right statement), or give the equations only; every intermediate value and every quantity is
  drawn so that adding and subtracting both stay in ``[0, max_answer]``: numbers never tell the operation.
- Toy languages: a one-to-one relexification of every English word (own script from ``specs.PHONOLOGIES``);
  names, numbers and punctuation are shared; a verb-final language (``word_order`` SOV in ``specs``) moves the
  main verb of every clause before the final punctuation, every other language keeps English order.
- Corpora: general sentences whose words co-occur with word-specific preferences (each gain/loss verb has its
  own objects and places), so that each word has its own distributional neighbourhood and unsupervised lexicon
  induction can tell the words apart. The English corpus also holds ``problem_text_share`` training-split
  problem texts without solutions (an English LLM has read such text); toy corpora hold no problems at all.
- Splits: a problem belongs to test / dev / train by a hash of its English text (``test_share``, ``dev_share``),
  so no test question text can appear in any training stream.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from .mini_spec import (
    _ADJECTIVES,
    _FEELINGS,
    _GAIN,
    _LOSS,
    _MOVES,
    _NAMES,
    _OBJECTS,
    _OTHER_VERBS,
    _PLACES,
    MiniWorldSpec,
)
from .specs import PHONOLOGIES, toy_spec
from .world import derive_seed

__all__ = ["MiniWorldSpec", "MiniProblem", "MiniWorld", "build_mini_world", "MINI_INSTRUCTION"]

MINI_INSTRUCTION = "Solve the following math problem step by step."

@dataclass(frozen=True)
class MiniProblem:
    """One problem: its English statements and question (token lists with the main verb's index), the
    answer, the reference solution and the kind."""

    id: str
    kind: str
    sentences: tuple[tuple[tuple[str, ...], int], ...]   # (tokens, index of the main verb) per sentence
    answer: int
    solution: str

    @property
    def text(self) -> str:
        return " ".join(" ".join(toks) for toks, _ in self.sentences)


def _toy_words(code: str, n: int, seed: int, taken: set[str]) -> list[str]:
    """``n`` distinct toy words of language ``code`` (1-3 syllables), none in ``taken``."""
    phon = PHONOLOGIES[code]
    rng = random.Random(seed)
    out: list[str] = []
    seen = set(taken)
    while len(out) < n:
        w = phon.word(rng, rng.choice((1, 2, 2, 2, 3)))
        if len(w) >= 2 and w not in seen:
            seen.add(w)
            out.append(w)
    return out


class MiniWorld:
    """English + toy languages of the compact world. Build with :func:`build_mini_world`."""

    def __init__(self, seed: int, toy_codes: Sequence[str], spec: MiniWorldSpec) -> None:
        self.seed, self.spec = seed, spec
        self.toy_codes = tuple(toy_codes)
        rng = random.Random(derive_seed(seed, "mini", "lexicon"))
        self.names = _NAMES[: spec.names]
        self.objects = _OBJECTS[: spec.objects]
        self.gain = _GAIN[: spec.gain_verbs]
        self.loss = _LOSS[: spec.loss_verbs]
        self.places = _PLACES[: spec.places]
        self.adjectives = _ADJECTIVES[: spec.adjectives]
        self.other_verbs = _OTHER_VERBS[: spec.other_verbs]
        self.verb_objects = self._preferences(rng)
        # every content word and name sits at a point of a latent map; a general sentence is about a random
        # point and fills each slot with words near it, so every word has its own co-occurrence profile in every
        # language (what lets unsupervised lexicon induction tell words of one class apart)
        mapped = (self.names + self.objects + self.gain + self.loss + self.places + self.adjectives
                  + self.other_verbs + _MOVES + _FEELINGS)
        self._point = {w: (rng.random(), rng.random()) for w in mapped}
        self._zipf = {}
        for cls in (self.names, self.objects, self.gain, self.loss, self.gain + self.loss, self.places,
                    self.adjectives, self.other_verbs, _MOVES, _FEELINGS):
            for rank, w in enumerate(cls):
                self._zipf.setdefault(w, 1.0 / (rank + 1) ** spec.zipf)
        words = sorted(set(self.objects + self.gain + self.loss + self.places + self.adjectives + self.other_verbs
                           + _MOVES + _FEELINGS + ("has", "gives", "takes", "to", "from", "at", "how", "many",
                                                   "does", "have", "now", "the", "is", "are", "with", "and",
                                                   "a", "lot", "of", "very")))
        self.english_words: tuple[str, ...] = tuple(words)
        self._lex: dict[str, dict[str, str]] = {}
        for code in self.toy_codes:
            toy_spec(code)
            forms = _toy_words(code, len(words), derive_seed(seed, "mini", "words", code), set(words))
            self._lex[code] = dict(zip(words, forms))

    def _preferences(self, rng: random.Random) -> dict[str, tuple[str, ...]]:
        """Objects each gain/loss verb goes with; every object gets >= 1 gain and >= 1 loss verb."""
        for _ in range(1000):
            objs = {v: tuple(sorted(rng.sample(self.objects, self.spec.verb_objects))) for v in self.gain + self.loss}
            ok = all(any(o in objs[v] for v in self.gain) and any(o in objs[v] for v in self.loss)
                     for o in self.objects)
            if ok:
                # two places per verb were drawn here before the semantic map replaced them; the draws stay so
                # that the default world (and the results the README reports) is unchanged
                for _ in self.gain + self.loss:
                    rng.sample(self.places, 2)
                return objs
        raise ValueError(f"verb_objects={self.spec.verb_objects} is too small to give every object a gain and a "
                         f"loss verb; raise it")

    # -------------------------------------------------------------------------------------------- render
    @property
    def languages(self) -> tuple[str, ...]:
        return ("en",) + self.toy_codes

    def level(self, lang: str) -> str:
        return "english" if lang == "en" else toy_spec(lang).level

    def render(self, tokens: Sequence[str], verb: int, lang: str) -> str:
        """One sentence in ``lang``: word-by-word relexification; verb-final languages move the main verb
        (index ``verb``) before the closing punctuation."""
        if lang == "en":
            return " ".join(tokens)
        lex = self._lex[lang]
        words = [lex.get(t, t) for t in tokens]
        if toy_spec(lang).verb_final and 0 <= verb < len(words) - 1:
            v = words.pop(verb)
            words.insert(len(words) - 1, v)
        return " ".join(words)

    def gold_lexicon(self, lang: str) -> list[tuple[str, str]]:
        """Gold en->toy pairs for every English word of the world (names, numbers, punctuation excluded)."""
        return sorted((en.lower(), toy) for en, toy in self._lex[lang].items())

    # ---------------------------------------------------------------------------------------- sentences
    def _statement(self, rng: random.Random, person: str, verb: str, n: int, obj: str,
                   other: str | None = None) -> tuple[tuple[str, ...], int]:
        if verb in ("gives", "takes"):
            assert other is not None
            return (person, verb, str(n), obj, "to" if verb == "gives" else "from", other, "."), 1
        return (person, verb, str(n), obj, "at", rng.choice(self.places), "."), 1

    def _pick(self, rng: random.Random, words: Sequence[str], topic: tuple[float, float] | None,
              exclude: Sequence[str] = ()) -> str:
        """A word of ``words`` weighted by its Zipf weight and, with a topic, its closeness on the map."""
        pool = [w for w in words if w not in exclude]
        if topic is None:
            return rng.choices(pool, weights=[self._zipf[w] for w in pool])[0]
        two_w2 = 2.0 * self.spec.topic_width ** 2
        weights = []
        for w in pool:
            x, y = self._point[w]
            d2 = (x - topic[0]) ** 2 + (y - topic[1]) ** 2
            weights.append(self._zipf[w] * (2.718281828 ** (-d2 / two_w2) + 1e-3))
        return rng.choices(pool, weights=weights)[0]

    def general_sentence(self, rng: random.Random, topic: tuple[float, float] | None = None
                         ) -> tuple[tuple[str, ...], int]:
        """One corpus sentence: a template whose slots are filled near a point of the semantic map (``topic``,
        default a random one)."""
        if topic is None and self.spec.topic_width > 0:
            topic = (rng.random(), rng.random())
        pick = lambda words, exclude=(): self._pick(rng, words, topic, exclude)  # noqa: E731
        p = pick(self.names)
        q = pick(self.names, (p,))
        lo, hi = self.spec.min_quantity, self.spec.max_quantity
        r = rng.random()
        if r < 0.35:
            verb = pick(self.gain + self.loss)
            return (p, verb, str(rng.randint(lo, hi)), pick(self.objects), "at", pick(self.places), "."), 1
        if r < 0.45:
            return (p, pick(self.gain + self.loss), "a", "lot", "of", pick(self.objects), "."), 1
        if r < 0.55:
            return (p, "has", str(rng.randint(0, self.spec.max_answer)), pick(self.objects), "at",
                    pick(self.places), "."), 1
        if r < 0.63:
            verb = rng.choice(("gives", "takes"))
            return self._statement(rng, p, verb, rng.randint(lo, hi), pick(self.objects), q)
        if r < 0.73:
            return (p, pick(self.other_verbs), "the", pick(self.adjectives), pick(self.objects), "."), 1
        if r < 0.81:
            return ("the", pick(self.objects), "are", "very", pick(self.adjectives), "."), -1
        if r < 0.89:
            return (p, pick(_MOVES), "to", pick(self.places), "with", q, "."), 1
        if r < 0.95:
            return (p, "is", pick(_FEELINGS), "and", q, "is", pick(_FEELINGS), "."), 1
        return ("how", "many", pick(self.objects), "does", p, "have", "now", "?"), 5

    # ----------------------------------------------------------------------------------------- problems
    def _problem(self, rng: random.Random, kind: str,
                 extra_distractors: int = 0) -> tuple[list[tuple[tuple[str, ...], int]], int, str] | None:
        """(statements with the question last, answer, solution) of one problem of `kind`, or None when the drawn
        quantities leave [0, max_answer]; `extra_distractors` more distractor statements than the spec's."""
        s = self.spec
        lo, hi, top = s.min_quantity, s.max_quantity, s.max_answer
        p, q, d = rng.sample(self.names, 3)
        obj, obj2 = rng.sample(self.objects, 2)
        sents: list[tuple[tuple[str, ...], int]] = []
        eqs: list[str] = []

        def has(person: str, n: int) -> tuple[tuple[str, ...], int]:
            return self._statement(rng, person, "has", n, obj)

        # every quantity is drawn so that BOTH operations stay in [0, top]: the numbers never tell a gain from a
        # loss (a layout-only reader would otherwise know "gain" whenever the change exceeds the amount)
        def change(value: int, gain: bool) -> int | None:
            pool = [v for v in (self.gain if gain else self.loss) if obj in self.verb_objects[v]]
            most = min(hi, value, top - value)
            if most < lo:
                return None
            n = rng.randint(lo, most)
            new = value + n if gain else value - n
            verb = rng.choice(pool)
            sents.append(self._statement(rng, p, verb, n, obj))
            eqs.append(f"{p} {verb} {n} {obj} .")
            eqs.append(f"{value} {'+' if gain else '-'} {n} = {new} .")
            return new

        a = rng.randint(lo, hi)
        asked = p
        if kind in ("gain", "loss"):
            sents.append(has(p, a))
            eqs.append(f"{p} has {a} {obj} .")
            value = change(a, kind == "gain")
        elif kind == "two_step":
            sents.append(has(p, a))
            eqs.append(f"{p} has {a} {obj} .")
            mid = change(a, rng.random() < 0.5)
            value = None if mid is None else change(mid, rng.random() < 0.5)
        else:  # transfer: P gives to / takes from Q; the question asks about P or Q
            c = rng.randint(lo, hi)
            most = min(hi, a, c, top - a, top - c)
            if most < lo:
                return None
            n = rng.randint(lo, most)
            verb = rng.choice(("gives", "takes"))
            asked = rng.choice((p, q))
            sents += [has(p, a), has(q, c)]
            sents.append(self._statement(rng, p, verb, n, obj, q))
            p_after, q_after = (a - n, c + n) if verb == "gives" else (a + n, c - n)
            if not (0 <= p_after <= top and 0 <= q_after <= top):
                return None
            start, value = (a, p_after) if asked == p else (c, q_after)
            gain = value > start
            eqs.append(f"{asked} has {start} {obj} .")
            eqs.append(f"{p} {verb} {n} {obj} {'to' if verb == 'gives' else 'from'} {q} .")
            eqs.append(f"{start} {'+' if gain else '-'} {n} = {value} .")
        if value is None:
            return None
        # the spec's distractor (drawn first, so that without extra distractors the problems are the spec's), then
        # the extra ones of reading practice; each names another person or another object, never one used before
        people, things = [x for x in self.names if x not in (p, q, d)], [x for x in self.objects if x not in (obj, obj2)]
        for i in range(int(rng.random() < s.distractor_share) + extra_distractors):
            other, thing = (d, obj2) if i == 0 else (people.pop(rng.randrange(len(people))),
                                                      things.pop(rng.randrange(len(things))))
            if rng.random() < 0.5:
                distractor = self._statement(rng, other, rng.choice(("has",) + self.gain + self.loss),
                                             rng.randint(lo, hi), obj)
            else:
                distractor = self._statement(rng, rng.choice((p, other)), "has", rng.randint(lo, hi), thing)
            sents.insert(rng.randint(0, len(sents)), distractor)
        sents.append((("how", "many", obj, "does", asked, "have", "now", "?"), 5))
        if s.solution_style == "equations":
            eqs = [e for e in eqs if "=" in e]
        solution = " ".join(eqs) + f" The answer is {value} ."
        return sents, value, solution

    def _split_of(self, text: str) -> str:
        h = derive_seed("mini-split", text) % 10_000
        if h < self.spec.test_share * 10_000:
            return "test"
        if h < (self.spec.test_share + self.spec.dev_share) * 10_000:
            return "dev"
        return "train"

    def problems(self, n: int, split: str, seed: int = 0, extra_distractors: int = 0) -> list[MiniProblem]:
        """``n`` distinct problems of ``split`` (train / dev / test), kinds in equal shares; ``extra_distractors``:
        that many distractor statements more than the spec's (reading practice; its own random stream)."""
        if split not in ("train", "dev", "test"):
            raise ValueError(f"split must be train, dev or test, not {split!r}")
        room = min(len(self.names) - 3, len(self.objects) - 2)  # unused people / objects of a problem
        if not 0 <= extra_distractors <= room:
            raise ValueError(f"extra_distractors must be in [0, {room}] for this world's names and objects, not "
                             f"{extra_distractors}")
        rng = random.Random(derive_seed(self.seed, "mini", "problems", split, seed)
                            if not extra_distractors else
                            derive_seed(self.seed, "mini", "problems", split, seed, "extra", extra_distractors))
        kinds = tuple(self.spec.kinds)
        out: list[MiniProblem] = []
        seen: set[str] = set()
        attempts = 0
        while len(out) < n:
            attempts += 1
            if attempts > 200 * n + 10_000:
                raise ValueError(f"cannot draw {n} distinct {split} problems from this world (got {len(out)}); "
                                 "raise the quantity range, the number of names/objects, or the split share")
            kind = kinds[len(out) % len(kinds)]
            made = self._problem(rng, kind, extra_distractors)
            if made is None:
                continue
            sents, answer, solution = made
            text = " ".join(" ".join(t) for t, _ in sents)
            if text in seen or self._split_of(text) != split:
                continue
            seen.add(text)
            out.append(MiniProblem(f"{split}-{len(out):05d}", kind, tuple(sents), answer, solution))
        return out

    def problem_text(self, problem: MiniProblem, lang: str) -> str:
        return " ".join(self.render(toks, verb, lang) for toks, verb in problem.sentences)

    # ------------------------------------------------------------------------------------------- corpora
    def sentences(self, lang: str, n: int, seed: int = 0) -> list[str]:
        """Monolingual corpus of ``n`` lines. English: a ``problem_text_share`` of them are training-split
        problem texts (no solutions); toy languages: general sentences only."""
        rng = random.Random(derive_seed(self.seed, "mini", "corpus", lang, seed))
        n_problems = round(n * self.spec.problem_text_share) if lang == "en" else 0
        out = []
        for _ in range(n - n_problems):
            topic = (rng.random(), rng.random()) if self.spec.topic_width > 0 else None
            k = rng.randint(1, self.spec.line_sentences)
            out.append(" ".join(self.render(*self.general_sentence(rng, topic), lang) for _ in range(k)))
        if n_problems:
            out += [p.text for p in self.problems(n_problems, "train", seed=seed + 7919)]
            random.Random(derive_seed(self.seed, "mini", "corpus-order", seed)).shuffle(out)
        return out

    def parallel_pairs(self, lang: str, n: int, seed: int = 0) -> list[tuple[str, str]]:
        """(English, toy) renderings of the same general sentences: evaluation only."""
        rng = random.Random(derive_seed(self.seed, "mini", "parallel", lang, seed))
        out = []
        for _ in range(n):
            toks, verb = self.general_sentence(rng)
            out.append((self.render(toks, verb, "en"), self.render(toks, verb, lang)))
        return out

    def sft_records(self, n: int, seed: int = 0, split: str = "train",
                    extra_distractors: int = 0) -> list[dict[str, object]]:
        """English task rows: instruction, input (question), output (solution), answer."""
        return [{"instruction": MINI_INSTRUCTION, "input": p.text, "output": p.solution, "answer": p.answer}
                for p in self.problems(n, split, seed, extra_distractors)]

    def benchmark(self, n: int, seed: int = 0, langs: Sequence[str] | None = None,
                  split: str = "test") -> list[dict[str, object]]:
        """The same ``n`` problems of ``split`` in every language: id, lang, question, answer, solution."""
        langs = self.languages if langs is None else tuple(langs)
        problems = self.problems(n, split, seed)
        return [{"id": p.id, "lang": lang, "question": self.problem_text(p, lang), "answer": p.answer,
                 "solution": p.solution} for lang in langs for p in problems]


def build_mini_world(seed: int, toy_codes: Sequence[str], spec: MiniWorldSpec | None = None) -> MiniWorld:
    """The compact world for ``toy_codes`` (any of ``specs.TOY_CODES``) from ``seed``."""
    if len(set(toy_codes)) != len(toy_codes):
        raise ValueError(f"duplicate toy codes in {list(toy_codes)}")
    return MiniWorld(seed, toy_codes, spec or MiniWorldSpec())
