"""The world: English + toy languages built from one seed, and every data set the pipeline needs from it."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

from .english import CONCEPTS
from .frames import Frame, render_english
from .problems import (
    MATH_INSTRUCTION,
    MathProblem,
    generate_problem,
    math_concepts,
    problem_frames,
    solution_text,
)
from .sampler import CorpusSampler
from .specs import TOY_CODES, ToyLanguageSpec, toy_spec
from .topics import Topics, make_topics
from .toylang import ToyLanguage, build_toy_language

__all__ = ["World", "build_world", "DEFAULT_SIZES", "derive_seed"]

# Default sizes of the embedded world (sentences per corpus, problems per split).
DEFAULT_SIZES: dict[str, int] = {
    "english": 20_000,
    "high": 20_000,
    "medium": 6_000,
    "low": 2_000,
    "math_train": 4_000,
    "math_test": 200,
}


def derive_seed(*parts: object) -> int:
    """A stable 63-bit seed from any printable parts (no Python hash randomisation)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


class World:
    """English plus toy languages sharing one frame distribution. Build with :func:`build_world`.

    Every method that samples takes its own ``seed``; the same (world seed, method, language, seed) always
    gives the same output, and different languages never share a sample stream.
    """

    def __init__(
        self,
        seed: int,
        toy_codes: Sequence[str],
        *,
        zipf: float,
        n_topics: int,
        topic_width: float,
        topic_share: float,
        topic_zipf: float,
        doc_sentences: tuple[int, int],
    ) -> None:
        self.seed = seed
        self.toy_codes: tuple[str, ...] = tuple(toy_codes)
        self.topics: Topics | None = None
        if n_topics > 0:
            self.topics = make_topics(derive_seed(seed, "topics"), n_topics, topic_width, topic_share, topic_zipf)
        self._corpus = CorpusSampler(zipf, self.topics, doc_sentences)
        protected = math_concepts()
        self._toy: dict[str, ToyLanguage] = {
            code: build_toy_language(toy_spec(code), derive_seed(seed, "lexicon", code), protected)
            for code in self.toy_codes
        }

    # --------------------------------------------------------------------------------------- languages
    @property
    def languages(self) -> tuple[str, ...]:
        """``"en"`` followed by the toy language codes of this world."""
        return ("en",) + self.toy_codes

    def spec(self, lang: str) -> ToyLanguageSpec:
        self._check_toy(lang)
        return self._toy[lang].spec

    def toy_language(self, lang: str) -> ToyLanguage:
        self._check_toy(lang)
        return self._toy[lang]

    def _check_toy(self, lang: str) -> None:
        if lang not in self._toy:
            raise KeyError(f"{lang!r} is not a toy language of this world ({', '.join(self.toy_codes)})")

    def level(self, lang: str) -> str:
        """Resource level: ``"english"`` for en, else the toy language's level (high/medium/low)."""
        return "english" if lang == "en" else self.spec(lang).level

    def corpus_size(self, lang: str, sizes: dict[str, int] | None = None) -> int:
        """Monolingual corpus size of ``lang`` from ``sizes`` keyed by english/high/medium/low."""
        sizes = DEFAULT_SIZES if sizes is None else sizes
        return int(sizes[self.level(lang)])

    # ------------------------------------------------------------------------------------------ corpora
    def documents(self, lang: str, n: int, seed: int = 0) -> list[tuple[int, list[Frame]]]:
        """The documents behind ``sentences(lang, n, seed)``: (topic, frames) with ``n`` frames in all, drawn
        independently per language (topic 0 for all when the world has no topics)."""
        if lang != "en":
            self._check_toy(lang)
        rng = random.Random(derive_seed(self.seed, "corpus", lang, seed))
        return self._corpus.documents(rng, n)

    def frames(self, lang: str, n: int, seed: int = 0) -> list[Frame]:
        """The frames behind ``sentences(lang, n, seed)``: consecutive frames form documents of a few
        sentences on one topic (see :meth:`documents`)."""
        return [f for _, doc in self.documents(lang, n, seed) for f in doc]

    def render(self, frame: Frame, lang: str, rng: random.Random | None = None) -> str:
        """Text of one frame in ``lang`` (``rng`` picks toy synonyms; default: fixed per frame)."""
        if lang == "en":
            return render_english(frame)
        self._check_toy(lang)
        if rng is None:
            rng = random.Random(derive_seed(self.seed, "render", lang, repr(frame)))
        return self._toy[lang].render(frame, rng)

    def sentences(self, lang: str, n: int, seed: int = 0) -> list[str]:
        """Monolingual corpus of ``n`` sentences in ``lang`` (``"en"`` or a toy code)."""
        frames = self.frames(lang, n, seed)
        if lang == "en":
            return [render_english(f) for f in frames]
        rng = random.Random(derive_seed(self.seed, "render-corpus", lang, seed))
        render = self._toy[lang].render
        return [render(f, rng) for f in frames]

    def english_sentences(self, n: int, seed: int = 0) -> list[str]:
        return self.sentences("en", n, seed)

    def parallel_pairs(self, lang: str, n: int, seed: int = 0) -> list[tuple[str, str]]:
        """(English, toy) renderings of the same frames, for evaluation only (Tatoeba-like)."""
        self._check_toy(lang)
        rng = random.Random(derive_seed(self.seed, "parallel", lang, seed))
        toy = self._toy[lang]
        frames = self._corpus.frames(rng, n)
        return [(render_english(frame), toy.render(frame, rng)) for frame in frames]

    # --------------------------------------------------------------------------------------------- math
    def math_problems(
        self,
        n: int,
        seed: int = 0,
        split: str = "train",
        *,
        steps: tuple[int, int] = (1, 3),
        n_statements: tuple[int, ...] = (4, 5),
        long_share: float = 0.5,
        test_share: float = 0.1,
    ) -> list[MathProblem]:
        """``n`` English problems (abstract frames) of ``split`` ("train" or "test").

        Each problem has between ``steps[0]`` and ``steps[1]`` arithmetic steps (uniform), one of the
        ``n_statements`` counts (uniform; distractors fill what the story does not need), and the long
        wording style with probability ``long_share``. Splits never share a question text: a question
        belongs to the test split iff a hash of its English text falls in the lowest ``test_share``.
        """
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', not {split!r}")
        if steps[0] < 1 or steps[1] < steps[0] or not n_statements or min(n_statements) < steps[1] + 1:
            raise ValueError(f"need 1 <= steps[0] <= steps[1] and every n_statements >= steps[1] + 1, got "
                             f"steps={steps}, n_statements={n_statements}")
        rng = random.Random(derive_seed(self.seed, "math", split, seed))
        out: list[MathProblem] = []
        seen: set[str] = set()
        cut = int(test_share * 10_000)
        while len(out) < n:
            n_steps = rng.randint(steps[0], steps[1])
            m = rng.choice(n_statements)
            statements, question, answer = generate_problem(
                rng, steps=n_steps, n_statements=m, long=rng.random() < long_share
            )
            problem = MathProblem(f"{split}-{seed}-{len(out):05d}", statements, question, answer, n_steps, split)
            text = self.render_problem(problem, "en")
            in_test = derive_seed("split", text) % 10_000 < cut
            if in_test != (split == "test") or text in seen:
                continue
            seen.add(text)
            out.append(problem)
        return out

    def render_problem(self, problem: MathProblem, lang: str) -> str:
        """The question text of ``problem`` in ``lang`` (same wording choices for every call)."""
        frames = problem_frames(problem)
        if lang == "en":
            return " ".join(render_english(f) for f in frames)
        self._check_toy(lang)
        rng = random.Random(derive_seed(self.seed, "problem", problem.id, lang))
        toy = self._toy[lang]
        return " ".join(toy.render(f, rng) for f in frames)

    def solution(self, problem: MathProblem) -> str:
        """English chain-of-thought solution ending exactly "The answer is N."."""
        return solution_text(problem)

    def math_sft_records(self, n: int, seed: int = 0, **kwargs: object) -> list[dict[str, object]]:
        """English math SFT rows: instruction, input (question), output (CoT solution), answer (int)."""
        return [
            {
                "instruction": MATH_INSTRUCTION,
                "input": self.render_problem(p, "en"),
                "output": self.solution(p),
                "answer": p.answer,
            }
            for p in self.math_problems(n, seed, "train", **kwargs)  # type: ignore[arg-type]
        ]

    def math_benchmark(
        self, n: int, seed: int = 0, langs: Sequence[str] | None = None, **kwargs: object
    ) -> list[dict[str, object]]:
        """MGSM-like test set: the same ``n`` test problems in every language (English included).

        Rows: id, lang, question, answer (int), solution (English CoT), steps.
        """
        langs = self.languages if langs is None else tuple(langs)
        problems = self.math_problems(n, seed, "test", **kwargs)  # type: ignore[arg-type]
        rows = []
        for lang in langs:
            for p in problems:
                rows.append({
                    "id": p.id,
                    "lang": lang,
                    "question": self.render_problem(p, lang),
                    "answer": p.answer,
                    "solution": self.solution(p),
                    "steps": p.steps,
                })
        return rows

    # ---------------------------------------------------------------------------------------- lexicons
    def gold_lexicon(self, lang: str) -> list[tuple[str, str]]:
        """Gold en->toy lexicon: (English form as in text, lowercased; toy form), every inflected form and
        synonym; multi-word translations joined by a space. Sorted."""
        return sorted({(en, toy) for en, toy, _, _ in self._toy_entries(lang)})

    def _toy_entries(self, lang: str) -> list[tuple[str, str, str, str]]:
        self._check_toy(lang)
        return self._toy[lang].gold_entries()

    def vocabulary(self, lang: str) -> list[str]:
        """All word forms the grammar can produce in ``lang`` (English: lowercased; names excluded)."""
        if lang == "en":
            return sorted({f.lower() for c in CONCEPTS.values() for _, forms in c.forms for f in forms}
                          | {"do", "does", "did", "as", "many"})
        self._check_toy(lang)
        return self._toy[lang].vocabulary()


def build_world(
    seed: int = 0,
    toy_codes: Sequence[str] | None = None,
    *,
    zipf: float = 0.7,
    n_topics: int = 64,
    topic_width: float = 0.1,
    topic_share: float = 1.0,
    topic_zipf: float = 1.0,
    doc_sentences: tuple[int, int] = (1, 6),
) -> World:
    """Builds the world: English grammar plus the toy languages ``toy_codes`` (default: all six).

    Corpus structure (shared by every language; the math problems do not depend on it):

    - ``zipf`` >= 0: lemma weights ``1 / (rank + 1) ** zipf`` within each class (0 = uniform);
    - documents of ``doc_sentences`` = (min, max) sentences, each on one of ``n_topics`` topics (0 = no
      topics), points of a latent semantic map drawn with weight ``1 / (t + 1) ** topic_zipf``; a slot is
      filled with probability ``topic_share`` by a word weighted by its affinity to the topic (kernel width
      ``topic_width``; see ``topics.py``).
    """
    codes = TOY_CODES if toy_codes is None else tuple(toy_codes)
    for code in codes:
        toy_spec(code)
    if len(set(codes)) != len(codes):
        raise ValueError(f"duplicate toy codes in {codes}")
    if n_topics < 0:
        raise ValueError(f"n_topics must be >= 0 (0 = no topics), got {n_topics}")
    return World(seed, codes, zipf=zipf, n_topics=n_topics, topic_width=topic_width, topic_share=topic_share,
                 topic_zipf=topic_zipf, doc_sentences=doc_sentences)
