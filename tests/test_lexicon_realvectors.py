"""Unsupervised lexicon induction on real vectors: English onto English from disjoint halves of WMT news text.

Two fastText spaces (dim 100, 10 epochs, min_count 3, one thread, seeds 1 and 2) trained on disjoint halves of
$LINGUALIFT_SHARED_DATA/monolingual/en, aligned without supervision (default `induce`: robust init, the
adversarial one only as a fallback), scored on MUSE's en-en test split next to supervised Procrustes from the
en-en train split on the same vectors (see `lingualift_core.lexicon.realcheck`). About a minute on 2 cores.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lingualift_core.lexicon.realcheck import TEST_SPLIT, TRAIN_SPLIT, run_real_check

#: "within a few points": unsupervised P@1 may trail the supervised upper bound by at most this much.
MAX_GAP = 0.05


def test_unsupervised_p1_close_to_supervised_on_real_english_halves(shared_data: Path) -> None:
    mono = shared_data / "monolingual" / "en"
    bli = shared_data / "bli" / "muse_format"
    missing = [p for p in (mono, bli / TEST_SPLIT, bli / TRAIN_SPLIT) if not p.exists()]
    if missing or not list(mono.glob("*.eng")):
        need = ", ".join(str(p) for p in missing) or f"{mono}/*.eng"
        pytest.skip(f"real-vector check needs {need} (set LINGUALIFT_SHARED_DATA)")
    report = run_real_check(shared_data)
    unsup, sup = report["unsupervised"], report["supervised_procrustes"]
    summary = {k: report[k] for k in ("vocab", "test_split", "seconds")}
    summary.update(unsup=unsup["precision_at_1_csls"], sup=sup["precision_at_1_csls"], chosen=unsup["method_chosen"])
    # the check means something: enough test words, the halves are disjoint and the spaces independent
    assert report["test_split"]["n_src_words"] >= 300, summary
    assert report["corpus"]["lines"][0] > 5000 and report["corpus"]["lines"][1] > 5000, report["corpus"]
    assert report["identity_map"]["precision_at_1_nn"] < 0.02, report["identity_map"]
    assert sup["precision_at_1_csls"] >= 0.3, summary
    # the claim: unsupervised within a few points of the supervised upper bound, for both retrievals
    assert unsup["precision_at_1_csls"] >= sup["precision_at_1_csls"] - MAX_GAP, summary
    assert unsup["precision_at_1_nn"] >= sup["precision_at_1_nn"] - MAX_GAP, summary
    assert unsup["init_decision"]["ran"][0] == "robust"
