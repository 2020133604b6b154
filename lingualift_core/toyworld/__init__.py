"""The embedded synthetic world: English, six toy languages, math word problems, gold evaluation data.

Everything is generated from seeds by a small grammar (no downloads), fast enough for a CPU-only run:

- English: a few hundred lemmas over all POS classes (nouns, verbs, adjectives, adverbs, pronouns,
  adpositions, auxiliaries, conjunctions, determiners), person names and numbers; sentences come from
  semantic frames (``frames.py``) drawn with selection restrictions (``sampler.py``) and rendered with real
  English inflection (3rd person -s, plurals, past tense, -ing, a/an).
- Toy languages (``specs.py``, fixed contract in .notes/TOYLANGS.md): own script, syllable structure, word
  order (SVO = English order, SOV verb-final with postpositions, VSO) and a seeded lexicon that is not a
  cipher (synonyms, two-word translations, untranslated English words, toy-only particles, suffix
  morphology). The SAME frame can be rendered in any language: that is where the translated test sets,
  the Tatoeba-like pairs and the gold lexicons come from.
- Monolingual corpora are sampled per language with their own seed from one frame distribution
  (comparable, never parallel); sizes follow the resource level (arguments; ``DEFAULT_SIZES``). That
  distribution has the structure that makes unsupervised lexicon induction work on real comparable
  corpora: Zipfian lemma frequencies within each class (``zipf``) and topics (``topics.py``): a corpus is
  a sequence of short documents, each on a topic that is a point of a latent semantic map shared by all
  languages, and words near the topic are drawn more often, so every word has its own neighbourhood.
  Measured (fastText dim 100, 20 epochs, ``lexicon.induce(method="robust")``): en->qaa and en->qab
  P@1 (CSLS) about 0.53 at the default sizes (0.15 and 0.03 without this structure).
- Numbers stay Arabic digits in every language; person names are shared and stay in Latin letters (like
  named entities in real text; the lexicon pipeline drops them like real names).
- Math word problems (``problems.py``): 1-3 steps with +, -, *, chain-of-thought solutions ending
  "The answer is N." (N >= 0). Which operation applies is carried by words only (gives/receives,
  finds/loses, more/fewer/times, to/from, which item, who is asked about); every statement of a problem
  has one shape and distractor statements with numbers stand at random positions, so the default test set
  has 4 layouts in every language and ``layout_floor`` (best digits-and-layout-only oracle) is about 0.13.

What a caller passes: a world ``seed`` (lexicons, i.e. the languages themselves) and, per data set, a size
``n`` and a sample ``seed``; corpus sizes per resource level come from a dict like ``DEFAULT_SIZES``
(``world.corpus_size(lang, sizes)``). Nothing is read from or written to disk.

Typical use::

    world = build_world(seed=0)                   # all six toy languages (corpus structure: see build_world)
    en = world.english_sentences(20_000, seed=0)
    qab = world.sentences("qab", world.corpus_size("qab"), seed=0)
    sft = world.math_sft_records(4_000, seed=0)  # instruction / input / output / answer
    bench = world.math_benchmark(200, seed=0)     # id / lang / question / answer / solution / steps
    lex = world.gold_lexicon("qab")               # [(english form, toy form), ...]
    pairs = world.parallel_pairs("qab", 500, seed=0)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lingualift_core._lazy import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time each name is imported on first use
    from .layout import layout_floor, layout_only, layout_report
    from .problems import MATH_INSTRUCTION, MathProblem, Question, Statement, solve
    from .specs import TOY_CODES, TOY_LANGUAGES, ToyLanguageSpec, toy_spec
    from .topics import Topics
    from .world import DEFAULT_SIZES, World, build_world, derive_seed

__all__ = [
    "DEFAULT_SIZES",
    "MATH_INSTRUCTION",
    "MathProblem",
    "Question",
    "Statement",
    "TOY_CODES",
    "TOY_LANGUAGES",
    "ToyLanguageSpec",
    "Topics",
    "World",
    "build_world",
    "derive_seed",
    "layout_floor",
    "layout_only",
    "layout_report",
    "solve",
    "toy_spec",
]

__getattr__, __dir__ = lazy_exports(__name__, {
    "layout_floor": ".layout", "layout_only": ".layout", "layout_report": ".layout",
    "MATH_INSTRUCTION": ".problems", "MathProblem": ".problems", "Question": ".problems", "Statement": ".problems",
    "solve": ".problems",
    "TOY_CODES": ".specs", "TOY_LANGUAGES": ".specs", "ToyLanguageSpec": ".specs", "toy_spec": ".specs",
    "Topics": ".topics",
    "DEFAULT_SIZES": ".world", "World": ".world", "build_world": ".world", "derive_seed": ".world",
})
