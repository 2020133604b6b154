"""The compact world's English word lists and its size spec (``prepare.synthetic.mini``), apart from the generator in
:mod:`.mini` so that the config module validates the spec without importing the world builders."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["DEFAULT_KINDS", "KINDS", "MiniWorldSpec"]

_NAMES = ("Tom", "Mia", "Sam", "Ana", "Ben", "Eva", "Leo", "Zoe", "Max", "Ida", "Tim", "Amy", "Dan", "Lea",
          "Bob", "Kim", "Ned", "Ivy", "Joe", "Ada")
_OBJECTS = ("apples", "pears", "eggs", "cookies", "cakes", "marbles", "stickers", "coins", "cards", "stamps",
            "shells", "flowers", "books", "pens", "cups", "balls")
_GAIN = ("finds", "buys", "gets", "wins", "picks", "makes", "collects", "bakes")
_LOSS = ("loses", "eats", "sells", "drops", "breaks", "uses", "hides", "burns")
_PLACES = ("home", "school", "work", "church", "camp", "market", "night", "noon", "lunch", "dawn")
_ADJECTIVES = ("red", "big", "small", "old", "new", "green", "blue", "round", "nice", "cheap")
_OTHER_VERBS = ("likes", "sees", "counts", "wants", "needs", "paints", "washes", "keeps")
_MOVES = ("walks", "runs", "goes", "drives", "rides")
_FEELINGS = ("happy", "sad", "tired", "glad", "busy")
KINDS = ("gain", "loss", "transfer", "two_step")
# transfer is left out by default: the 0.8M-parameter LLM restated the asked person's count right in ~50% of
# two-person problems and chose the direction at chance (README, "The compact world")
DEFAULT_KINDS = ("gain", "loss", "two_step")


@dataclass(frozen=True)
class MiniWorldSpec:
    """Sizes and ranges of the compact world (validated in ``__post_init__``; ``prepare.synthetic.mini``)."""

    names: int = 16
    objects: int = 12
    gain_verbs: int = 6
    loss_verbs: int = 6
    places: int = 6
    adjectives: int = 6
    other_verbs: int = 6
    verb_objects: int = 6          # objects each gain/loss verb goes with
    min_quantity: int = 2
    max_quantity: int = 20
    max_answer: int = 60
    topic_width: float = 0.15      # kernel width of the semantic map (general sentences); 0: no topics
    zipf: float = 0.8              # lemma weights 1 / (rank + 1) ** zipf within each class
    line_sentences: int = 5        # a corpus line holds 1..line_sentences sentences about one topic
    solution_style: str = "restate"  # restate: copy the statements used, then compute | equations: equations only
    distractor_share: float = 0.6
    problem_text_share: float = 0.0
    test_share: float = 0.1
    dev_share: float = 0.05
    kinds: tuple[str, ...] = field(default=DEFAULT_KINDS)

    def __post_init__(self) -> None:
        limits = {"names": len(_NAMES), "objects": len(_OBJECTS), "gain_verbs": len(_GAIN), "loss_verbs": len(_LOSS),
                  "places": len(_PLACES), "adjectives": len(_ADJECTIVES), "other_verbs": len(_OTHER_VERBS)}
        for key, hi in limits.items():
            v = getattr(self, key)
            if not 2 <= v <= hi:
                raise ValueError(f"{key}={v}: allowed 2..{hi}")
        if not 1 <= self.verb_objects <= self.objects:
            raise ValueError(f"verb_objects={self.verb_objects}: allowed 1..objects ({self.objects})")
        if not 1 <= self.min_quantity < self.max_quantity <= self.max_answer:
            raise ValueError(f"need 1 <= min_quantity < max_quantity <= max_answer, got {self.min_quantity}, "
                             f"{self.max_quantity}, {self.max_answer}")
        if self.solution_style not in ("restate", "equations"):
            raise ValueError(f"solution_style={self.solution_style!r}: allowed restate, equations")
        unknown = [k for k in self.kinds if k not in KINDS]
        if unknown or not self.kinds:
            raise ValueError(f"kinds={list(self.kinds)}: allowed a non-empty subset of {list(KINDS)}")
        if not 1 <= self.line_sentences <= 16:
            raise ValueError(f"line_sentences={self.line_sentences}: allowed 1..16")
        if not 0.0 <= self.topic_width <= 10.0 or not 0.0 <= self.zipf <= 5.0:
            raise ValueError(f"topic_width={self.topic_width}, zipf={self.zipf}: allowed [0, 10] and [0, 5]")
        for key in ("distractor_share", "problem_text_share"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                raise ValueError(f"{key}={getattr(self, key)}: allowed [0, 1]")
        if not (0.0 < self.test_share and 0.0 <= self.dev_share and self.test_share + self.dev_share < 0.5):
            raise ValueError(f"test_share={self.test_share}, dev_share={self.dev_share}: need test_share > 0, "
                             "dev_share >= 0 and a sum below 0.5")
