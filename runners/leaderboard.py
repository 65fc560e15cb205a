"""Table 2 in the leaderboard's form: systems as rows, CA-SDRi and Acc_mix on each data set.

    s5bench leaderboard                                   # CPU-size baseline + pipeline, built-in set
    s5bench leaderboard --systems baseline_cpu,self_guided_cpu,my_system \
        --data test=data/dev_set/test --data eval=path/to/eval_with_references

Measured rows (kind = measured) fill the `<data>_CA-SDRi` / `<data>_Acc_mix` columns; the paper's
leaderboard rows (kind = published) fill only `published_eval_*` / `published_test_*`. A system's
row is its final stage. Writes results/table2.csv (+ .md, .meta.json; each measured figure with its
95 % paired bootstrap interval, `<column>_ci_low`/`_ci_high`, shown as `5.75 ± 0.41`) and
results/table2_differences.csv (each system against the first one, the baseline, per data set:
difference, interval, permutation p-value, smallest detectable difference). Runs resume.
--bootstrap 0 leaves the intervals out.
"""
from __future__ import annotations

import argparse
import sys

from s5bench.common.arguments import add_table_arguments, resolve_n
from s5bench.common.errors import command
from s5bench.reporting.leaderboard import DEFAULT_SYSTEMS, leaderboard
from s5bench.reporting.table_jobs import BUILTIN, TableOptions


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = "; ".join(f"{e}: {s}" for e, s in DEFAULT_SYSTEMS.items())
    ap.add_argument("--systems", help="comma-separated system configs, the first the baseline of the differences "
                    f"(default: the CPU-size baseline and pipeline; in 2026 those for 2026 and for 2025: {defaults})")
    ap.add_argument("--data", action="append", help="NAME=DIR (repeatable); default: the built-in test set")
    add_table_arguments(ap, n_default=BUILTIN["n"])
    return ap


def _main(argv=None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    resolve_n(ap, args, BUILTIN["n"])
    lines = leaderboard(args.systems, args.data, TableOptions.from_args(args))
    if lines is not None:  # None: a torchrun rank other than 0
        print("\n".join(lines))
    return 0


main = command(_main)  # the one error boundary (common/errors.py): `error: …` and exit status 2


if __name__ == "__main__":
    sys.exit(main())
