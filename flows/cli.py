"""The `lingualift` command: run one pipeline stage (what `dvc.yaml` calls), or serve the Prefect deployment.

    lingualift stage prepare
    lingualift stage tokenize --lang qaa
    lingualift summary                    # the headline table of the last evaluation and the report's path
    lingualift profile configs/paper.yaml # merges a profile (the keys it changes) into params.yaml
    lingualift serve                      # serves the Prefect deployment `lingualift/full`
    lingualift flow --stages tokenize     # runs the Prefect flow in-process (no server needed)

Expected failures (bad params, missing or malformed inputs) print one line and exit with status 2; set
LINGUALIFT_DEBUG=1 for the traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from lingualift_core.stages.run import STAGES, run_stage

def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lingualift", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    st = sub.add_parser("stage", help="run one pipeline stage (called by dvc.yaml)")
    st.add_argument("name", choices=sorted(STAGES))
    st.add_argument("--lang", help="language code for per-language stages")
    st.add_argument("--params", type=Path, default=Path("params.yaml"))
    st.add_argument("--root", type=Path, default=Path("."), help="repository root (artifact paths are relative)")
    sm = sub.add_parser("summary", help="print the evaluation's headline table and the report's path")
    sm.add_argument("--root", type=Path, default=Path("."))
    sm.add_argument("--benchmark", default=None, help="default: the first benchmark")
    pr = sub.add_parser("profile", help="merge a profile (configs/*.yaml: the keys it changes) into params.yaml")
    pr.add_argument("file", type=Path)
    pr.add_argument("--params", type=Path, default=Path("params.yaml"))
    sv = sub.add_parser("serve", help="serve the Prefect deployment lingualift/full")
    sv.add_argument("--root", type=Path, default=Path("."))
    fl = sub.add_parser("flow", help="run the Prefect flow in-process")
    fl.add_argument("--stages", nargs="*", default=None, help="DVC stage names (default: all)")
    fl.add_argument("--force", action="store_true", help="rerun even if DVC finds the stage up to date")
    fl.add_argument("--set", dest="overrides", nargs="*", default=[], metavar="KEY=VALUE",
                    help="params overrides for this run only (params.yaml is restored afterwards), e.g. "
                         "tokenize.batch_size=500")
    fl.add_argument("--root", type=Path, default=Path("."))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from lingualift_core.stages.common import setup_logging

    setup_logging()
    try:
        if args.command == "stage":
            run_stage(args.name, args.root.resolve(), args.params, args.lang)
        elif args.command == "summary":
            from lingualift_core.stages.summary import closing_summary

            print(closing_summary(args.root.resolve(), args.benchmark))
        elif args.command == "profile":
            from lingualift_core.profiles import apply_profile_file

            written = apply_profile_file(args.file, args.params)
            print(f"{args.params}: {written} values from {args.file}")
        elif args.command == "serve":
            from flows.lingualift import serve

            serve(args.root.resolve())
        elif args.command == "flow":
            from flows.lingualift import lingualift, parse_overrides

            lingualift(stages=args.stages, force=args.force, overrides=parse_overrides(args.overrides),
                       root=str(args.root.resolve()))
    except (ValueError, OSError, ImportError) as err:
        if os.environ.get("LINGUALIFT_DEBUG"):
            raise
        print(f"lingualift: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
