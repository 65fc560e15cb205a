"""Run one or more systems over a test set (official layout), write estimates, score each stage.

    s5bench run --system oracle_sources,oracle_labels_mixture --data data/builtin_test \
        --out results/systems [--device cuda] [--batch-size 4] [--zip Author_Affil_task4_1_out]
    s5bench run --system my_system.yaml --data EVAL --out results/sub --edition 2026 \
        --zip Author_Affil_task4_1 --dev-test DEV_TEST

For each system: OUT/<system>/<stage>/estimate/*.wav, per_mixture.csv, per_class.csv,
summary.csv, summary.md, summary_ci.csv (each figure's 95 % bootstrap interval over the mixtures;
--bootstrap 0: none) (+ results.json with --official-json), and OUT/summary.csv with one row
per (system, stage), kept across calls (a system run again replaces its rows). Resumable. A
data folder with mixtures only (an evaluation set: no oracle_target/) gets its estimates and
the submission zip, and no scores. --zip in 2025: OUT/<system>/<name>.zip holding eval_out/; in
2026 (with --dev-test, the dev set's test split): the official package OUT/<system>/<name>/
(eval_out/, eval_results.json with each estimate's probability, dev_set_test_results.json) and
OUT/<system>/<name>.zip, checked as the organisers check it (s5bench validate).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from s5bench.common.arguments import add_interval_arguments, at_least
from s5bench.common.audio import write_text_atomic
from s5bench.common.cpu_memory import keep_freed_memory
from s5bench.common.editions import add_edition_argument, edition_of, summary_columns
from s5bench.common.errors import S5Error, command
from s5bench.common.layout import plain_name
from s5bench.common.locks import exclusive
from s5bench.reporting.differences import stage_contributions
from s5bench.reporting.summary_intervals import summary_intervals_text, write_summary_intervals
from s5bench.reporting.table_jobs import check_test_set
from s5bench.submission.from_run import write_run_package
from s5bench.submission.package import check_package_free
from s5bench.systems.distributed import shard_info
from s5bench.systems.registry import build_system
from s5bench.systems.run import RunOptions, check_outside, run_system, write_submission_zip
from s5bench.systems.run_folder import ESTIMATE_DIR

DEV_TEST_SUFFIX = "_dev_test"  # OUT/<system>_dev_test/: the 2026 package's run on the dev set's test split


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--system", required=True, help="comma-separated names in configs/systems/ or YAML paths")
    ap.add_argument("--data", required=True, help="folder with soundscape/ (and oracle_target/ to be scored)")
    ap.add_argument("--out", required=True, help="results folder: OUT/<system>/ per system and OUT/summary.csv")
    ap.add_argument("--device", default="cpu", help="torch device to run the systems on (cpu, cuda, cuda:1)")
    ap.add_argument("--batch-size", type=at_least(1), default=2, help="mixtures per batch")
    ap.add_argument("--jobs", type=at_least(1), default=2, help="scoring processes")
    ap.add_argument("--zip", default=None, metavar="NAME", help="also write the final stage as a submission: "
                    "<Author>_<Affil>_task4_<N>_out.zip (2025), or the official package <Author>_<Affil>_task4_<N>/ "
                    "and its .zip (2026, with --dev-test)")
    ap.add_argument("--dev-test", metavar="DIR", help="the dev set's test split (with oracle_target/): the 2026 "
                    "package's dev_set_test_results.json scores the system on it")
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
    package = edition_of(args.edition).package_results  # 2026: the official package, scored on --dev-test
    names = args.system.split(",")
    check_submission_arguments(args, package, names)  # refused before anything runs
    check_outside(args.out, args.data, ("--out", "--data"))
    for name in names:
        out = Path(args.out) / Path(name).stem
        system = build_system(name)
        summaries = run_system(system, args.data, out, options)
        if summaries is None:  # a torchrun rank other than 0: rank 0 scores and reports
            continue
        for stage, s in summaries.items():
            if s:  # empty: nothing to score against
                rows.append({"system": Path(name).stem, "stage": stage, **s})
                shown = write_summary_intervals(stage_contributions(out, stage, args.edition), out / stage,
                                                args.bootstrap, args.seed)
                if shown is not None:
                    intervals.append(f"{Path(name).stem} {stage}: {summary_intervals_text(shown)}")
        if args.zip and package:
            final = list(summaries)[-1]
            dev_out = Path(args.out) / f"{Path(name).stem}{DEV_TEST_SUFFIX}"
            dev = run_system(system, args.dev_test, dev_out, options, stages=[final])
            if dev is not None:  # rank 0 (or no torchrun): the dev-set test split's row, then the package
                rows.append({"system": dev_out.name, "stage": final, **dev[final]})
                path = write_run_package(args.zip, out, system, final, out, args.data, dev_out, args.dev_test,
                                         jobs=args.jobs)
                print(f"submission package: {out / args.zip}/ and {path} (the organisers' checks pass; "
                      f"dev-set test run in {dev_out})")
        elif args.zip:
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


def check_submission_arguments(args: argparse.Namespace, package: bool, names: list[str]) -> None:
    """Refuse --zip and --dev-test as given before anything runs: a name of the edition's form, the
    2026 package's dev-set test split with its references, no package already in the way."""
    if args.dev_test and not (args.zip and package):
        raise S5Error("--dev-test is for the 2026 package: give it with --edition 2026 "
                      "--zip <Author>_<Affil>_task4_<N>")
    if not args.zip:
        return
    if not package:
        plain_name(args.zip, "--zip name")
        return
    if not args.dev_test:
        raise S5Error("--zip in 2026 writes the official package, whose dev_set_test_results.json scores the "
                      "system on the dev set's test split: give it as --dev-test DIR")
    try:
        check_test_set(args.dev_test)
    except FileNotFoundError as err:
        raise S5Error(f"--dev-test {args.dev_test}: {err}") from None
    for name in names:
        check_package_free(Path(args.out) / Path(name).stem, args.zip)


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
        raise S5Error(f"{path} holds results with the columns {', '.join(old.columns)}, not "
                      f"{', '.join(new.columns)} (another edition?): write these to another --out")
    old = old.loc[~old["system"].isin(set(new["system"]))]
    kept = list(dict.fromkeys(old["system"]))
    return pd.concat([old, new], ignore_index=True) if len(old) else new, kept


main = command(_main)  # the one error boundary (common/errors.py): `error: …` and exit status 2


if __name__ == "__main__":
    sys.exit(main())
