"""The English vocabulary: word statistics over tokenized batches and why a word must not be code-switched
(spaCy-free: the `vocab` stage reads the tokenized artifact, it does not tokenize)."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa

CONTENT_POS = frozenset({"NOUN", "VERB", "ADJ", "ADV"})
_NUMERIC_ENTS = frozenset({"DATE", "TIME", "CARDINAL", "ORDINAL", "QUANTITY", "MONEY", "PERCENT"})


def exclusion_reason(word: str, pos: str, is_stop: bool, like_num: bool, ent_share: float,
                     numeric_ent_share: float) -> str:
    """Why a vocabulary word must not be code-switched ('' when it may be).

    Stop words are excluded only for content POS: in English almost every adposition, pronoun,
    auxiliary and conjunction is a stop word, and code-switching needs them.
    """
    if pos in ("PUNCT", "SYM", "SPACE") or not any(ch.isalnum() for ch in word):
        return "punctuation"
    if like_num or pos == "NUM" or numeric_ent_share > 0.5:
        return "number"
    if ent_share > 0.5 or pos == "PROPN":
        return "entity"
    if is_stop and pos in CONTENT_POS:
        return "stop_word"
    return ""


class VocabularyCounter:
    """Accumulates word statistics over tokenized English batches (lowercased forms).

    Memory is O(vocabulary), not O(corpus): feed it the batches as they stream past.
    """

    def __init__(self) -> None:
        self.count: Counter[str] = Counter()
        self.pos: dict[str, Counter[str]] = {}
        self.ent: Counter[str] = Counter()
        self.numeric_ent: Counter[str] = Counter()
        self.stop: dict[str, bool] = {}
        self.num: dict[str, bool] = {}

    def update(self, batch: pa.RecordBatch) -> None:
        cols = batch.to_pydict()
        for tokens, pos, iob, ent, stop, num in zip(cols["tokens"], cols["pos"], cols["ent_iob"],
                                                    cols["ent_type"], cols["is_stop"], cols["like_num"],
                                                    strict=True):
            for tok, p, i, e, s, n in zip(tokens, pos, iob, ent, stop, num, strict=True):
                word = tok.lower()
                if not word.strip():
                    continue
                self.count[word] += 1
                self.pos.setdefault(word, Counter())[p] += 1
                if i in ("B", "I"):
                    self.ent[word] += 1
                    if e in _NUMERIC_ENTS:
                        self.numeric_ent[word] += 1
                self.stop[word] = s
                self.num[word] = self.num.get(word, False) or n

    def table(self, min_count: int = 1) -> pa.Table:
        """(word, count, majority pos, exclude), most frequent first, ties by word."""
        rows = []
        for word, c in sorted(self.count.items(), key=lambda kv: (-kv[1], kv[0])):
            if c < min_count:
                continue
            pos = self.pos[word].most_common(1)[0][0]
            reason = exclusion_reason(word, pos, self.stop[word], self.num[word], self.ent[word] / c,
                                      self.numeric_ent[word] / c)
            rows.append((word, c, pos, reason))
        words, counts, poss, reasons = (list(x) for x in zip(*rows, strict=True)) if rows else ([],) * 4
        return pa.table({"word": pa.array(words, pa.string()), "count": pa.array(counts, pa.int64()),
                         "pos": pa.array(poss, pa.string()), "exclude": pa.array(reasons, pa.string())})
