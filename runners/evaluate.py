"""Score a folder of estimates against mixtures and oracle targets, in either edition.

    s5bench evaluate --soundscape-dir S --oracle-dir O --estimate-dir E --out-dir R [--edition 2026]

Files are `<mix>_<Label>.wav` (2025) or `<mix>_<i>_<Label>.wav` (2026; the 2025 form is read too).
Beside summary.csv, summary_ci.csv holds each figure's 95 % bootstrap interval over the mixtures
(--bootstrap N resamples, default 2000; 0: none).
"""
from __future__ import annotations

import argparse
import os
import sys

from s5bench.common.arguments import add_interval_arguments, at_least
from s5bench.common.atomic import check_writable
from s5bench.common.cpu_memory import keep_freed_memory
from s5bench.common.editions import add_edition_argument
from s5bench.common.errors import command
from s5bench.common.labels import SAMPLE_RATE
from s5bench.metrics.folders import score_folders, summary_markdown, write_reports, write_run_info
from s5bench.metrics.intervals import contributions
from s5bench.reporting.summary_intervals import summary_intervals_text, write_summary_intervals


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--soundscape-dir", required=True, help="folder of 4-channel mixtures <mix>.wav")
    ap.add_argument("--oracle-dir", required=True, help="folder of oracle targets <mix>[_<i>]_<Label>.wav")
    ap.add_argument("--estimate-dir", required=True, help="folder of estimates <mix>[_<i>]_<Label>.wav")
    ap.add_argument("--out-dir", required=True, help="where the CSVs and summary.md are written")
    ap.add_argument("--sr", type=at_least(1), default=SAMPLE_RATE, help="sample rate every file must have")
    ap.add_argument("--channels", type=at_least(1), default=4, help="channel count every mixture must have")
    ap.add_argument("--jobs", type=at_least(1), default=min(8, os.cpu_count() or 1), help="parallel reader processes")
    add_edition_argument(ap)
    ap.add_argument("--official-json", action="store_true",
                    help="also write results.json in the form of the official dev_set_test_results.json")
    add_interval_arguments(ap)
    return ap


def _main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    keep_freed_memory()
    check_writable(args.out_dir)  # before the scoring, not after it
    scores = score_folders(args.soundscape_dir, args.oracle_dir, args.estimate_dir,
                           sr=args.sr, channels=args.channels, jobs=args.jobs, edition=args.edition)
    summary = write_reports(scores, args.out_dir, official_json=args.official_json)
    write_run_info(args.out_dir, soundscape_dir=args.soundscape_dir, oracle_dir=args.oracle_dir,
                   estimate_dir=args.estimate_dir, edition=args.edition, stage="estimates")
    print(summary_markdown(summary))
    extra = ", results.json" if args.official_json else ""
    intervals = write_summary_intervals(contributions(scores), args.out_dir, args.bootstrap, args.seed)
    if intervals is not None:
        print(summary_intervals_text(intervals))
        extra += ", summary_ci.csv"
    print(f"wrote {args.out_dir}/per_mixture.csv, per_class.csv, summary.csv, summary.md{extra}")
    return 0


main = command(_main)  # the one error boundary (common/errors.py): `error: …` and exit status 2


if __name__ == "__main__":
    sys.exit(main())
