"""Build a listening and inspection report of a results folder: one static web page.

    s5bench report RESULTS_DIR [--mixtures mix_0003,mix_0042] [--random 3] [--seed 0]

RESULTS_DIR is a folder written by ablation.py or leaderboard.py (both build the report at the
end unless --no-report), run_system.py or evaluate.py. Writes RESULTS_DIR/report/ (index.html,
breakdown.csv, stage_changes.csv, audio/*.ogg, img/*.png); the page opens from the file system,
nothing fetched from the network. What it shows: reporting/report.py.
"""
from __future__ import annotations

import argparse
import sys

from s5bench.common.arguments import at_least
from s5bench.common.errors import command
from s5bench.reporting.report import build_report


def build_parser() -> argparse.ArgumentParser:
    """The runner's arguments."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", help="a results folder of ablation.py, leaderboard.py, run_system.py or evaluate.py")
    ap.add_argument("--mixtures", default="", help="comma-separated mixture names to add to the selection")
    ap.add_argument("--random", type=at_least(0), default=3, help="mixtures drawn at random besides best/median/worst")
    ap.add_argument("--seed", type=at_least(0), default=0, help="seed of the random selection")
    ap.add_argument("--no-progress", action="store_true", help="no progress bars")
    return ap


def _main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    index = build_report(args.results, [m for m in args.mixtures.split(",") if m], args.random, args.seed,
                         progress=not args.no_progress)
    size = sum(f.stat().st_size for f in index.parent.rglob("*") if f.is_file())
    print(f"report: {index} ({size / 1e6:.1f} MB)")
    return 0


main = command(_main)  # the one error boundary (common/errors.py): `error: …` and exit status 2


if __name__ == "__main__":
    sys.exit(main())
