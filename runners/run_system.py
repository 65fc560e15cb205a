"""Run one or more systems over a test set (official layout), write estimates, score each stage.

    python runners/run_system.py --system oracle_sources,oracle_labels_mixture --data data/builtin_test \
        --out results/systems [--device cuda] [--batch-size 4] [--zip Author_Affil_task4_1_out] [--edition 2026]

For each system: OUT/<system>/<stage>/estimate/*.wav, per_mixture.csv, per_class.csv,
summary.csv, summary.md, summary_ci.csv (each figure's 95 % bootstrap interval over the mixtures;
--bootstrap 0: none) (+ results.json with --official-json), and OUT/summary.csv with one row
per (system, stage), kept across calls (a system run again replaces its rows). Resumable. A
data folder with mixtures only (an evaluation set: no oracle_target/) gets its estimates and
the submission zip, and no scores.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from s5bench.common.arguments import add_interval_arguments, at_least
from s5bench.common.audio import write_text_atomic
from s5bench.common.cpu_memory import keep_freed_memory
from s5bench.common.editions import add_edition_argument, summary_columns
from s5bench.common.errors import command
from s5bench.common.layout import plain_name
from s5bench.common.locks import exclusive
from s5bench.reporting.differences import stage_contributions
from s5bench.reporting.summary_intervals import summary_intervals_text, write_summary_intervals
from s5bench.systems.distributed import shard_info
from s5bench.systems.registry import build_system
from s5bench.systems.run import RunOptions, run_system, write_submission_zip
from s5bench.systems.run_folder import ESTIMATE_DIR


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--system", required=True, help="comma-separated names in configs/systems/ or YAML paths")
    ap.add_argument("--data", required=True, help="folder with soundscape/ (and oracle_target/ to be scored)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch-size", type=at_least(1), default=2)
    ap.add_argument("--jobs", type=at_least(1), default=2, help="scoring processes")
    ap.add_argument("--zip", default=None, help="also write <name>.zip of the final stage in submission form")
    ap.add_argument("--official-json", action="store_true", help="also write each stage's results.json "
                    "in the form of the official dev_set_test_results.json")
    add_edition_argument(ap)
    add_interval_arguments(ap)
    return ap


def _main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    keep_freed_memory()
    options = RunOptions.from_args(args)
    rows, intervals = [], []
    if args.zip:
        plain_name(args.zip, "--zip name")  # refused before anything runs
    for name in args.system.split(","):
        out = Path(args.out) / Path(name).stem
        summaries = run_system(build_system(name), args.data, out, options)
        if summaries is None:  # a torchrun rank other than 0: rank 0 scores and reports
            continue
        for stage, s in summaries.items():
            if s:  # empty: nothing to score against
                rows.append({"system": Path(name).stem, "stage": stage, **s})
                shown = write_summary_intervals(stage_contributions(out, stage, args.edition), out / stage,
                                                args.bootstrap, args.seed)
                if shown is not None:
                    intervals.append(f"{Path(name).stem} {stage}: {summary_intervals_text(shown)}")
        if args.zip:
            final = list(summaries)[-1]
            path = write_submission_zip(out / final / ESTIMATE_DIR, out / f"{args.zip}.zip", args.zip)
            print(f"submission zip: {path}")
    if shard_info()[0] > 0:
        return 0
    if not rows:
        print("no oracle targets: estimates written, nothing scored")
        return 0
    table = pd.DataFrame(rows, columns=["system", "stage"] + summary_columns(args.edition))
    table, kept = update_summary(Path(args.out) / "summary.csv", table)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    if intervals:
        print("\n".join(intervals))
    if kept:
        print(f"{Path(args.out) / 'summary.csv'} keeps the rows of systems run into it earlier: {', '.join(kept)} "
              "(a system run again replaces its own rows)")
    return 0


def update_summary(path: Path, new: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Merge this call's rows into `path` under a lock, so that two runs into one --out at once
    both keep their rows (read, merge and write are one step for the other writers)."""
    with exclusive(path.parent / ".summary.lock"):
        table, kept = merged_summary(path, new)
        write_text_atomic(path, table.to_csv(index=False))
    return table, kept


def merged_summary(path: Path, new: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The folder's summary with this call's systems replacing their earlier rows and the other
    systems' rows kept; and the names of those kept. A summary of the other edition is refused."""
    if not path.is_file():
        return new, []
    old = pd.read_csv(path)
    if list(old.columns) != list(new.columns):
        raise ValueError(f"{path} holds results with the columns {', '.join(old.columns)}, not "
                         f"{', '.join(new.columns)} (another edition?): write these to another --out")
    old = old.loc[~old["system"].isin(set(new["system"]))]
    kept = list(dict.fromkeys(old["system"]))
    return pd.concat([old, new], ignore_index=True) if len(old) else new, kept


main = command(_main)  # the one error boundary (common/errors.py): `error: …` and exit status 2


if __name__ == "__main__":
    sys.exit(main())
