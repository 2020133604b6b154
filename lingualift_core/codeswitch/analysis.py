"""POS distribution of English task inputs (paper Table 18).

spaCy splits the paper's CONJ into CCONJ and SCONJ; the table reports both and adds a derived ``CONJ`` row (their
sum, ``derived = True``) so the numbers can be compared with the paper's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc

from .builder import SCHEMA_VERSION, _iter_record_batches, _list_column

# Paper Table 18: POS counts in the English reasoning queries.
PAPER_TABLE18: dict[str, int] = {
    "NOUN": 84726,
    "VERB": 42451,
    "ADP": 37727,
    "PRON": 25012,
    "ADJ": 21790,
    "CONJ": 20764,
    "AUX": 16409,
    "ADV": 9150,
}

POS_DISTRIBUTION_SCHEMA = pa.schema(
    [
        pa.field("pos", pa.string(), nullable=False),
        pa.field("count", pa.int64(), nullable=False),
        pa.field("share", pa.float64(), nullable=False),
        pa.field("derived", pa.bool_(), nullable=False),
    ],
    metadata={"schema_version": SCHEMA_VERSION, "artifact": "pos_distribution"},
)
"""``share`` is count / all tokens (punctuation included); ``derived`` marks CONJ = CCONJ + SCONJ."""


def pos_counts(batches: pa.Table | pa.RecordBatch | Iterable[pa.RecordBatch | pa.Table]) -> Counter:
    """UPOS tag counts over the ``pos`` list column of tokenized batches (streamed)."""
    counts: Counter = Counter()
    for batch in _iter_record_batches(batches):
        _, values = _list_column(batch, "pos")
        if len(values) == 0:
            continue
        for row in pc.value_counts(values.cast(pa.string()).fill_null("X")).to_pylist():
            counts[row["values"]] += int(row["counts"])
    return counts


def pos_distribution(batches: pa.Table | pa.RecordBatch | Iterable[pa.RecordBatch | pa.Table]) -> pa.Table:
    """Table (:data:`POS_DISTRIBUTION_SCHEMA`) of counts per UPOS tag, plus CONJ = CCONJ + SCONJ, sorted by
    count (descending) then tag."""
    counts = pos_counts(batches)
    total = sum(counts.values())
    rows = [(tag, c, False) for tag, c in counts.items()]
    rows.append(("CONJ", counts.get("CCONJ", 0) + counts.get("SCONJ", 0), True))
    rows.sort(key=lambda r: (-r[1], r[0]))
    return pa.table(
        {
            "pos": [r[0] for r in rows],
            "count": pa.array([r[1] for r in rows], pa.int64()),
            "share": pa.array([r[1] / total if total else 0.0 for r in rows], pa.float64()),
            "derived": pa.array([r[2] for r in rows], pa.bool_()),
        },
        schema=POS_DISTRIBUTION_SCHEMA,
    )


def compare_with_paper(distribution: pa.Table) -> pa.Table:
    """The paper's Table 18 classes side by side: ours vs paper counts and shares among those eight classes."""
    ours = dict(zip(distribution.column("pos").to_pylist(), distribution.column("count").to_pylist()))
    tags = list(PAPER_TABLE18)
    our_total = sum(ours.get(t, 0) for t in tags)
    paper_total = sum(PAPER_TABLE18.values())
    return pa.table(
        {
            "pos": tags,
            "count": pa.array([ours.get(t, 0) for t in tags], pa.int64()),
            "paper_count": pa.array([PAPER_TABLE18[t] for t in tags], pa.int64()),
            "share": pa.array([ours.get(t, 0) / our_total if our_total else 0.0 for t in tags], pa.float64()),
            "paper_share": pa.array([PAPER_TABLE18[t] / paper_total for t in tags], pa.float64()),
        }
    )
