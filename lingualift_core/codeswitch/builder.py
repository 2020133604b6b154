"""POS-filtered code-switching of tokenized English sentences (LinguaLIFT stage-1 data).

For each English sentence and each target language, candidate tokens are those whose spaCy UPOS tag is in the
configured group (:mod:`.pos_groups`), that are not part of a named entity (``ent_iob`` B/I), not numbers
(``like_num``, NUM, or containing a digit), not punctuation, and (optionally) not stop words. Each candidate
with a translation in the language's lexicon (lookup by lowercased token) is replaced with probability ``ratio``
(an independent Bernoulli draw per token), by a translation chosen from the lexicon's top-k (:mod:`.lexicon`).

Surface handling: a replaced token keeps its trailing whitespace; a capitalised English token capitalises the
first letter of its translation, an all-caps token (two or more letters) upper-cases it (a no-op for scripts
without case). The pronoun "I" is always capitalised in English, so it only capitalises its translation at the
start of a sentence or after an opening punctuation mark. For ``no_space`` languages two adjacent replaced tokens
are joined without whitespace; between a replaced and an English token the original whitespace stays.

Randomness is counter-based (:mod:`.rng`): results depend on (seed, sentence id, language) only, never on batch
boundaries or sentence order. Work is vectorised per RecordBatch with pyarrow/numpy; the only Python loops run
per sentence id (hashing) and per distinct candidate word of a batch (lexicon lookup), so memory stays flat as
the corpus grows. With ``max_sentences_per_lang`` each language keeps the sentences with the smallest
per-language priority draw (bottom-k sampling: exact size, order independent, memory bounded by the cap) and
those rows are emitted at :meth:`CodeSwitchBuilder.finish`, sorted by that priority; without a cap rows are
emitted batch by batch in input order.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .lexicon import CodeSwitchLexicon
from .settings import CodeSwitchConfig
from .rng import (
    COUNTER_PRIORITY,
    COUNTER_TOKEN_BASE,
    draw_u64,
    draw_uniform,
    language_keys,
    sentence_keys,
)

SCHEMA_VERSION = "1"

SPAN_TYPE = pa.struct([pa.field("start", pa.int32()), pa.field("end", pa.int32())])

CORPUS_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("lang", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("target", pa.string(), nullable=False),
        pa.field("n_tokens", pa.int32(), nullable=False),
        pa.field("n_candidates", pa.int32(), nullable=False),
        pa.field("n_translatable", pa.int32(), nullable=False),
        pa.field("n_replaced", pa.int32(), nullable=False),
        pa.field("replaced_pos", pa.list_(pa.string()), nullable=False),
        pa.field("replaced_spans", pa.list_(SPAN_TYPE), nullable=False),
    ],
    metadata={"schema_version": SCHEMA_VERSION, "artifact": "codeswitch_corpus"},
)
"""Code-switched corpus, one table per language. ``source`` is the code-switched text, ``target`` the English
sentence; ``replaced_spans`` are [start, end) character (code point) offsets of the replaced words in ``source``;
``n_translatable`` counts candidates with a lexicon translation."""

REQUIRED_COLUMNS: tuple[str, ...] = ("id", "tokens", "whitespace", "pos", "ent_iob")

# Punctuation after which "I" starts a sentence (its translation is then capitalised).
_SENTENCE_OPENERS = (".", "!", "?", '"', "“", "”", "‘", "'", "(", "[", "«", "…", ":", ";", "-", "—", "–")


@dataclass(frozen=True)
class TargetLanguage:
    """A target language: ISO/local code, display name (used in instructions), and whether its script is
    written without spaces between words (th, ja, zh)."""

    code: str
    name: str
    no_space: bool = False

    def __post_init__(self) -> None:
        if not self.code or not isinstance(self.code, str):
            raise ValueError(f"language code must be a non-empty string, got {self.code!r}")
        if not self.name or not isinstance(self.name, str):
            raise ValueError(f"language name must be a non-empty string, got {self.name!r} for {self.code}")


def _safe_div(a: int, b: int) -> float:
    return float(a) / float(b) if b else 0.0


@dataclass
class LanguageStats:
    """Summary of one language's code-switched corpus (counts over the sentences written, except
    ``sentences_in`` and the ``dropped_*`` counts). Rates with a zero denominator are 0.0."""

    lang: str
    name: str
    lexicon_words: int
    sentences_in: int = 0
    sentences: int = 0
    dropped_min_replaced: int = 0
    dropped_cap: int = 0
    tokens: int = 0
    candidates: int = 0
    translatable: int = 0
    replaced: int = 0
    zero_candidate_sentences: int = 0
    unchanged_sentences: int = 0

    @property
    def candidate_rate(self) -> float:
        """candidates / tokens."""
        return _safe_div(self.candidates, self.tokens)

    @property
    def replacement_ratio(self) -> float:
        """replaced / candidates with a translation (compare with the configured ratio)."""
        return _safe_div(self.replaced, self.translatable)

    @property
    def lexicon_coverage(self) -> float:
        """candidates with a translation / candidates."""
        return _safe_div(self.translatable, self.candidates)

    @property
    def empty_lexicon(self) -> bool:
        return self.lexicon_words == 0

    @property
    def warnings(self) -> list[str]:
        """Plain-text problems the stage should log."""
        out = []
        if self.empty_lexicon:
            out.append(
                f"lexicon for {self.lang} ({self.name}) is empty: no token replaced, "
                f"{self.sentences} sentence(s) written unchanged"
            )
        elif self.candidates and not self.translatable:
            out.append(
                f"no candidate token of {self.lang} ({self.name}) has a translation in its lexicon "
                f"({self.lexicon_words} source words): no token replaced"
            )
        if self.sentences_in and not self.candidates and not self.empty_lexicon:
            out.append(f"no candidate tokens for {self.lang} ({self.name}) in {self.sentences} sentence(s)")
        return out

    def to_dict(self) -> dict:
        """JSON-ready metrics with stable keys."""
        return {
            "lang": self.lang,
            "name": self.name,
            "lexicon_words": self.lexicon_words,
            "empty_lexicon": self.empty_lexicon,
            "sentences_in": self.sentences_in,
            "sentences": self.sentences,
            "dropped_min_replaced": self.dropped_min_replaced,
            "dropped_cap": self.dropped_cap,
            "tokens": self.tokens,
            "candidates": self.candidates,
            "translatable": self.translatable,
            "replaced": self.replaced,
            "zero_candidate_sentences": self.zero_candidate_sentences,
            "unchanged_sentences": self.unchanged_sentences,
            "candidate_rate": self.candidate_rate,
            "replacement_ratio": self.replacement_ratio,
            "lexicon_coverage": self.lexicon_coverage,
            "warnings": self.warnings,
        }


# --------------------------------------------------------------------------------------------------------------
# Per-batch preparation (language independent)
# --------------------------------------------------------------------------------------------------------------


def _as_array(col: pa.Array | pa.ChunkedArray) -> pa.Array:
    return col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col


def _list_column(batch: pa.RecordBatch, name: str) -> tuple[np.ndarray, pa.Array]:
    """(lengths, flattened values) of a list column; null lists count as empty."""
    col = _as_array(batch.column(name))
    if not (pa.types.is_list(col.type) or pa.types.is_large_list(col.type)):
        raise TypeError(f"column {name!r} must be a list column, got {col.type}")
    if col.null_count:
        col = col.fill_null(pa.scalar([], col.type))
    offsets = np.asarray(col.offsets, dtype=np.int64)
    return np.diff(offsets), col.flatten()


def _strings(values: pa.Array, fill: str) -> pa.Array:
    values = values.cast(pa.string()) if values.type != pa.string() else values
    return values.fill_null(fill) if values.null_count else values


def _bools(values: pa.Array) -> np.ndarray:
    values = values.cast(pa.bool_()) if values.type != pa.bool_() else values
    if values.null_count:
        values = values.fill_null(False)
    return values.to_numpy(zero_copy_only=False)


@dataclass
class _Prepared:
    n: int
    ids: pa.Array
    id_list: list[str]
    offsets: np.ndarray  # int64, n + 1, starting at 0
    lengths: np.ndarray  # tokens per sentence
    tok: pa.Array
    ws: pa.Array
    pos: pa.Array
    tok_len: np.ndarray
    ws_len: np.ndarray
    sent_of_tok: np.ndarray
    pos_in_sent: np.ndarray
    last_of_sent: np.ndarray  # bool per token
    target: pa.Array
    base_keys: np.ndarray
    cand_idx: np.ndarray  # flat positions of candidates
    cand_codes: np.ndarray  # per candidate: index into cand_words
    cand_words: list[str]  # distinct lowercased candidate words
    cand_first_upper: np.ndarray
    cand_all_upper: np.ndarray
    n_cand: np.ndarray  # per sentence


def _prepare(batch: pa.RecordBatch, tags: frozenset[str], seed: int, exclude_stop: bool) -> _Prepared:
    missing = [c for c in REQUIRED_COLUMNS if c not in batch.schema.names]
    if missing:
        raise ValueError(
            f"tokenized batch lacks column(s) {missing}; has {batch.schema.names}, needs {list(REQUIRED_COLUMNS)}"
        )
    n = batch.num_rows
    ids = _strings(_as_array(batch.column("id")), "")
    lengths, tok = _list_column(batch, "tokens")
    tok = _strings(tok, "")
    flat: dict[str, pa.Array] = {}
    for name in ("whitespace", "pos", "ent_iob") + tuple(c for c in ("like_num", "is_stop") if c in batch.schema.names):
        lens, vals = _list_column(batch, name)
        if not np.array_equal(lens, lengths):
            bad = int(np.flatnonzero(lens != lengths)[0])
            raise ValueError(
                f"column {name!r} of sentence {ids[bad].as_py()!r} has {int(lens[bad])} items but "
                f"{int(lengths[bad])} tokens"
            )
        flat[name] = vals
    ws = _strings(flat["whitespace"], "")
    pos = _strings(flat["pos"], "X")
    iob = _strings(flat["ent_iob"], "")
    total = int(lengths.sum())
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    sent_of_tok = np.repeat(np.arange(n, dtype=np.int64), lengths)
    pos_in_sent = np.arange(total, dtype=np.int64) - offsets[:-1][sent_of_tok]
    last_of_sent = np.zeros(total, dtype=bool)
    nonempty = lengths > 0
    last_of_sent[offsets[1:][nonempty] - 1] = True

    # English target text
    offsets32 = pa.array(offsets.astype(np.int32), pa.int32())
    target = pc.binary_join(pa.ListArray.from_arrays(offsets32, pc.binary_join_element_wise(tok, ws, "")), "")

    # candidates
    pos_enc = pos.dictionary_encode()
    member = np.array([t in tags for t in pos_enc.dictionary.to_pylist()], dtype=bool)
    cand = member[pos_enc.indices.to_numpy(zero_copy_only=False)] if total else np.zeros(0, bool)
    if total:
        cand &= ~pc.is_in(iob, value_set=pa.array(["B", "I"])).to_numpy(zero_copy_only=False)
        if "like_num" in flat:
            cand &= ~_bools(flat["like_num"])
        if exclude_stop and "is_stop" in flat:
            cand &= ~_bools(flat["is_stop"])
    cand_idx = np.flatnonzero(cand)
    cand_tok = tok.take(pa.array(cand_idx, pa.int64()))
    if len(cand_idx):
        keep = ~pc.match_substring_regex(cand_tok, r"\d").to_numpy(zero_copy_only=False)
        keep &= pc.utf8_length(cand_tok).to_numpy(zero_copy_only=False) > 0
        if not keep.all():
            cand_idx = cand_idx[keep]
            cand_tok = cand_tok.filter(pa.array(keep))
    enc = pc.utf8_lower(cand_tok).dictionary_encode()
    cand_codes = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    cand_words = enc.dictionary.to_pylist()
    if len(cand_idx):
        first_upper = pc.utf8_is_upper(pc.utf8_slice_codeunits(cand_tok, 0, 1)).to_numpy(zero_copy_only=False)
        cand_len = pc.utf8_length(cand_tok).to_numpy(zero_copy_only=False)
        all_upper = pc.utf8_is_upper(cand_tok).to_numpy(zero_copy_only=False) & (cand_len >= 2)
        # "I" is capitalised anywhere in English: only sentence-initial "I" capitalises its translation
        is_i = pc.equal(cand_tok, "I").to_numpy(zero_copy_only=False)
        if is_i.any():
            where = cand_idx[is_i]
            prev_ok = pos_in_sent[where] == 0
            inner = ~prev_ok
            if inner.any():
                prev = tok.take(pa.array(where[inner] - 1, pa.int64()))
                opener = pc.is_in(pc.utf8_rtrim_whitespace(prev), value_set=pa.array(_SENTENCE_OPENERS))
                prev_ok[inner] = opener.to_numpy(zero_copy_only=False)
            first_upper = first_upper.copy()
            first_upper[np.flatnonzero(is_i)] = prev_ok
    else:
        first_upper = all_upper = np.zeros(0, dtype=bool)

    return _Prepared(
        n=n,
        ids=ids,
        id_list=ids.to_pylist(),
        offsets=offsets,
        lengths=lengths,
        tok=tok,
        ws=ws,
        pos=pos,
        tok_len=pc.utf8_length(tok).to_numpy(zero_copy_only=False).astype(np.int64),
        ws_len=pc.utf8_length(ws).to_numpy(zero_copy_only=False).astype(np.int64),
        sent_of_tok=sent_of_tok,
        pos_in_sent=pos_in_sent,
        last_of_sent=last_of_sent,
        target=target,
        base_keys=sentence_keys(ids.to_pylist(), seed),
        cand_idx=cand_idx,
        cand_codes=cand_codes,
        cand_words=cand_words,
        cand_first_upper=first_upper,
        cand_all_upper=all_upper,
        n_cand=np.bincount(sent_of_tok[cand_idx], minlength=n),
    )


def _apply_case(trans: pa.Array, first_upper: np.ndarray, all_upper: np.ndarray) -> pa.Array:
    if all_upper.any():
        trans = pc.if_else(pa.array(all_upper), pc.utf8_upper(trans), trans)
    cap = first_upper & ~all_upper
    if cap.any():
        capitalised = pc.binary_join_element_wise(
            pc.utf8_upper(pc.utf8_slice_codeunits(trans, 0, 1)), pc.utf8_slice_codeunits(trans, 1), ""
        )
        trans = pc.if_else(pa.array(cap), capitalised, trans)
    return trans


def _list_of(values: pa.Array, counts: np.ndarray) -> pa.ListArray:
    offsets = np.zeros(len(counts) + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values)


# --------------------------------------------------------------------------------------------------------------
# Per-language switching
# --------------------------------------------------------------------------------------------------------------


def _switch(
    prep: _Prepared, lang: TargetLanguage, lex: CodeSwitchLexicon, ratio: float
) -> tuple[pa.RecordBatch, np.ndarray, np.ndarray]:
    """Code-switch one prepared batch into ``lang``: (corpus batch, per-language sentence keys, n_replaced)."""
    n, total = prep.n, len(prep.tok)
    keys = language_keys(prep.base_keys, lang.code)
    gid = lex.lookup(prep.cand_words)[prep.cand_codes] if len(prep.cand_idx) else np.zeros(0, np.int64)
    has = gid >= 0
    tr_idx = prep.cand_idx[has]
    tr_keys = keys[prep.sent_of_tok[tr_idx]]
    tr_ctr = COUNTER_TOKEN_BASE + 2 * prep.pos_in_sent[tr_idx].astype(np.uint64)
    rep = draw_uniform(tr_keys, tr_ctr) < ratio
    rep_idx = tr_idx[rep]

    out_tok, out_ws = prep.tok, prep.ws
    tok_len = prep.tok_len
    ws_len = prep.ws_len
    if len(rep_idx):
        pick = lex.pick(gid[has][rep], draw_uniform(tr_keys[rep], tr_ctr[rep] + np.uint64(1)))
        trans = lex.targets.take(pa.array(pick, pa.int64()))
        trans = _apply_case(trans, prep.cand_first_upper[has][rep], prep.cand_all_upper[has][rep])
        mask = np.zeros(total, dtype=bool)
        mask[rep_idx] = True
        out_tok = pc.replace_with_mask(prep.tok, pa.array(mask), trans)
        tok_len = tok_len.copy()
        tok_len[rep_idx] = pc.utf8_length(trans).to_numpy(zero_copy_only=False)
        if lang.no_space:
            join = mask.copy()
            join[:-1] &= mask[1:]
            join[-1] = False
            join &= ~prep.last_of_sent
            if join.any():
                out_ws = pc.if_else(pa.array(join), "", prep.ws)
                ws_len = np.where(join, 0, ws_len)
    if out_tok is prep.tok and out_ws is prep.ws:
        source = prep.target
    else:
        offsets32 = pa.array(prep.offsets.astype(np.int32), pa.int32())
        pieces = pc.binary_join_element_wise(out_tok, out_ws, "")
        source = pc.binary_join(pa.ListArray.from_arrays(offsets32, pieces), "")

    # character spans of replaced words in the source
    piece_len = tok_len + ws_len
    excl = np.zeros(total + 1, dtype=np.int64)
    np.cumsum(piece_len, out=excl[1:])
    start = excl[rep_idx] - excl[prep.offsets[:-1]][prep.sent_of_tok[rep_idx]]
    end = start + tok_len[rep_idx]
    n_rep = np.bincount(prep.sent_of_tok[rep_idx], minlength=n)
    n_tr = np.bincount(prep.sent_of_tok[tr_idx], minlength=n)
    spans = pa.StructArray.from_arrays(
        [pa.array(start.astype(np.int32), pa.int32()), pa.array(end.astype(np.int32), pa.int32())],
        fields=list(SPAN_TYPE),
    )
    batch = pa.RecordBatch.from_arrays(
        [
            prep.ids,
            pa.repeat(pa.scalar(lang.code, pa.string()), n),
            source,
            prep.target,
            pa.array(prep.lengths.astype(np.int32), pa.int32()),
            pa.array(prep.n_cand.astype(np.int32), pa.int32()),
            pa.array(n_tr.astype(np.int32), pa.int32()),
            pa.array(n_rep.astype(np.int32), pa.int32()),
            _list_of(prep.pos.take(pa.array(rep_idx, pa.int64())), n_rep),
            _list_of(spans, n_rep),
        ],
        schema=CORPUS_SCHEMA,
    )
    return batch, keys, n_rep


class _CapBuffer:
    """Keeps the ``cap`` rows with the smallest (priority, id, source) seen so far, in bounded memory."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.batches: list[pa.RecordBatch] = []
        self.rows = 0
        self.threshold: int | None = None

    def add(self, batch: pa.RecordBatch, priority: np.ndarray) -> None:
        if self.cap == 0 or batch.num_rows == 0:
            return
        if self.threshold is not None:
            keep = priority <= np.uint64(self.threshold)
            if not keep.any():
                return
            batch, priority = batch.filter(pa.array(keep)), priority[keep]
        self.batches.append(batch.append_column("__priority", pa.array(priority, pa.uint64())))
        self.rows += batch.num_rows
        if self.rows >= 2 * self.cap:
            self._compact()

    def _compact(self) -> pa.Table:
        if not self.batches:
            return pa.Table.from_batches([], CORPUS_SCHEMA.append(pa.field("__priority", pa.uint64())))
        table = pa.Table.from_batches(self.batches)
        order = pc.sort_indices(
            table, sort_keys=[("__priority", "ascending"), ("id", "ascending"), ("source", "ascending")]
        )
        table = table.take(order[: self.cap]).combine_chunks()
        self.batches = table.to_batches()
        self.rows = table.num_rows
        if self.rows >= self.cap:
            self.threshold = int(table.column("__priority")[self.rows - 1].as_py())
        return table

    def finish(self) -> list[pa.RecordBatch]:
        table = self._compact().drop_columns(["__priority"])
        self.batches, self.rows = [], 0
        return [b for b in table.to_batches() if b.num_rows]


# --------------------------------------------------------------------------------------------------------------
# Streaming builder
# --------------------------------------------------------------------------------------------------------------


def _iter_record_batches(data: pa.Table | pa.RecordBatch | Iterable[pa.RecordBatch | pa.Table]):
    if isinstance(data, pa.RecordBatch):
        yield data
    elif isinstance(data, pa.Table):
        yield from data.to_batches()
    else:
        for item in data:
            if isinstance(item, pa.Table):
                yield from item.to_batches()
            else:
                yield item


class CodeSwitchBuilder:
    """Streams tokenized English RecordBatches into per-language code-switched corpora.

    ``lexicons`` maps each language code to a lexicon Table (columns src, tgt, rank, score; may be empty or None)
    or a prepared :class:`CodeSwitchLexicon` (which keeps its own top_k / selection). Use :meth:`run` (or :meth:`process` per batch, then
    :meth:`finish`) and write each yielded ``(lang, RecordBatch)`` to that language's output; :attr:`stats` is
    complete once :meth:`finish` has run.
    """

    def __init__(
        self,
        config: CodeSwitchConfig,
        languages: Sequence[TargetLanguage],
        lexicons: Mapping[str, pa.Table | CodeSwitchLexicon | None],
        *,
        seed: int = 0,
    ) -> None:
        self.config = config
        self.seed = seed  # of every draw (which tokens, which translation)
        self.languages = list(languages)
        codes = [lang.code for lang in self.languages]
        dup = sorted({c for c in codes if codes.count(c) > 1})
        if dup:
            raise ValueError(f"duplicate target language code(s): {dup}")
        missing = [c for c in codes if c not in lexicons]
        if missing:
            raise KeyError(f"no lexicon given for language(s) {missing} (pass an empty table for none)")
        self._tags = config.pos_tags
        self.lexicons: dict[str, CodeSwitchLexicon] = {}
        for lang in self.languages:
            lex = lexicons[lang.code]
            if not isinstance(lex, CodeSwitchLexicon):
                lex = CodeSwitchLexicon.from_table(
                    lex, top_k=config.top_k, selection=config.selection, temperature=config.temperature
                )
            self.lexicons[lang.code] = lex
        self.stats: dict[str, LanguageStats] = {
            lang.code: LanguageStats(lang.code, lang.name, len(self.lexicons[lang.code])) for lang in self.languages
        }
        cap = config.max_sentences_per_lang
        self._buffers = {lang.code: _CapBuffer(int(cap)) for lang in self.languages} if cap is not None else {}
        self._finished = False
        for lang in self.languages:
            if self.lexicons[lang.code].is_empty:
                warnings.warn(f"lexicon for {lang.code} ({lang.name}) is empty: no token will be replaced",
                              stacklevel=2)

    def _account(self, lang: str, batch: pa.RecordBatch) -> None:
        st = self.stats[lang]
        n_cand = batch.column("n_candidates").to_numpy()
        n_rep = batch.column("n_replaced").to_numpy()
        st.sentences += batch.num_rows
        st.tokens += int(batch.column("n_tokens").to_numpy().sum())
        st.candidates += int(n_cand.sum())
        st.translatable += int(batch.column("n_translatable").to_numpy().sum())
        st.replaced += int(n_rep.sum())
        st.zero_candidate_sentences += int((n_cand == 0).sum())
        st.unchanged_sentences += int((n_rep == 0).sum())

    def process(self, batch: pa.RecordBatch | pa.Table) -> list[tuple[str, pa.RecordBatch]]:
        """Code-switch one batch into every language; returns the rows ready to be written (none for capped
        languages, whose rows come out of :meth:`finish`)."""
        if self._finished:
            raise RuntimeError("CodeSwitchBuilder.process called after finish()")
        if isinstance(batch, pa.Table):
            out = []
            for b in batch.to_batches():
                out.extend(self.process(b))
            return out
        cfg = self.config
        prep = _prepare(batch, self._tags, self.seed, cfg.exclude_stop_words)
        out: list[tuple[str, pa.RecordBatch]] = []
        for lang in self.languages:
            st = self.stats[lang.code]
            st.sentences_in += prep.n
            if prep.n == 0:
                continue
            rows, keys, n_rep = _switch(prep, lang, self.lexicons[lang.code], float(cfg.ratio))
            if cfg.min_replaced:
                keep = n_rep >= cfg.min_replaced
                st.dropped_min_replaced += int((~keep).sum())
                if not keep.all():
                    rows, keys = rows.filter(pa.array(keep)), keys[keep]
            if lang.code in self._buffers:
                self._buffers[lang.code].add(rows, draw_u64(keys, COUNTER_PRIORITY))
            elif rows.num_rows:
                self._account(lang.code, rows)
                out.append((lang.code, rows))
        return out

    def finish(self) -> list[tuple[str, pa.RecordBatch]]:
        """Flush the capped languages (rows sorted by their priority draw) and complete the stats."""
        if self._finished:
            return []
        self._finished = True
        out: list[tuple[str, pa.RecordBatch]] = []
        for lang in self.languages:
            buf = self._buffers.get(lang.code)
            if buf is not None:
                for b in buf.finish():
                    self._account(lang.code, b)
                    out.append((lang.code, b))
            st = self.stats[lang.code]
            st.dropped_cap = st.sentences_in - st.dropped_min_replaced - st.sentences
        return out

    def run(
        self, batches: pa.Table | pa.RecordBatch | Iterable[pa.RecordBatch | pa.Table]
    ) -> Iterator[tuple[str, pa.RecordBatch]]:
        """Process every batch, then finish; yields ``(lang, RecordBatch)`` with :data:`CORPUS_SCHEMA`."""
        for batch in _iter_record_batches(batches):
            yield from self.process(batch)
        yield from self.finish()

    def metrics(self) -> dict:
        """JSON-ready summary: config and per-language stats (stable keys, for data/metrics/codeswitch.json)."""
        cfg = self.config
        return {
            "schema_version": SCHEMA_VERSION,
            "config": {
                "pos_group": cfg.pos_group,
                "pos_tags": sorted(self._tags),
                "ratio": cfg.ratio,
                "top_k": cfg.top_k,
                "selection": cfg.selection,
                "temperature": cfg.temperature,
                "seed": self.seed,
                "max_sentences_per_lang": cfg.max_sentences_per_lang,
                "min_replaced": cfg.min_replaced,
                "exclude_stop_words": cfg.exclude_stop_words,
            },
            "languages": {code: st.to_dict() for code, st in self.stats.items()},
            "warnings": [w for st in self.stats.values() for w in st.warnings],
        }


def build_codeswitch_corpus(
    batches: pa.Table | pa.RecordBatch | Iterable[pa.RecordBatch | pa.Table],
    languages: Sequence[TargetLanguage],
    lexicons: Mapping[str, pa.Table | CodeSwitchLexicon | None],
    config: CodeSwitchConfig | None = None,
    *,
    seed: int = 0,
) -> tuple[dict[str, pa.Table], dict[str, LanguageStats]]:
    """In-memory convenience around :class:`CodeSwitchBuilder`: one Table per language, and the stats."""
    builder = CodeSwitchBuilder(config or CodeSwitchConfig(), languages, lexicons, seed=seed)
    parts: dict[str, list[pa.RecordBatch]] = {lang.code: [] for lang in languages}
    for code, batch in builder.run(batches):
        parts[code].append(batch)
    tables = {code: pa.Table.from_batches(b, schema=CORPUS_SCHEMA) for code, b in parts.items()}
    return tables, builder.stats
