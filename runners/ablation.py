"""Regenerate the paper's Table 1: the self-guided pipeline's ablation stages.

    s5bench ablation --config fss3_cp3            # one stage (the submission)
    s5bench ablation --all                        # the five stages, one pass of the pipeline
    s5bench ablation --all --data DIR --system self_guided_paper --device cuda
    torchrun --nproc_per_node 2 -m s5bench.runners.ablation --all   # mixtures sharded over ranks

Without --data, the built-in synthetic test set (seed 0; its first 20 mixtures unless --n says
otherwise, --n 100 for all) is generated on first use under data/ and reused. Writes
results/table1.csv (+ .md, .meta.json, .png; each measured figure with its 95 % paired bootstrap
interval, `<metric>_ci_low`/`_ci_high`, shown as `5.75 ± 0.41`), results/table1_differences.csv
(each stage against the one before it and against fss1_cp1: difference, interval, permutation
p-value, the smallest detectable difference), results/table1_per_mixture/<stage>.csv,
results/table1_per_class.png, results/table1_separation.csv (per stage, what the true-positive
estimates add beyond a rescaled mixture: metrics/separation.py; printed under the table), and
the web report results/report/index.html (--no-report skips it). Measured figures and the
paper's (columns `published_*`, no interval) are never in the same column. Interrupted runs
resume. --bootstrap 0 leaves the intervals out.
"""
from __future__ import annotations

import argparse
import sys

from s5bench.common.arguments import add_table_arguments, resolve_n
from s5bench.common.errors import command
from s5bench.reporting.ablation import DEFAULT_SYSTEM, TABLE1, ablation
from s5bench.reporting.table_jobs import BUILTIN, TableOptions


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument("--config", help=f"one stage: {', '.join(TABLE1)} or fss<k>_cp<k>")
    which.add_argument("--all", action="store_true", help="the five stages of Table 1")
    ap.add_argument("--data", help="test set in the official layout (default: the built-in synthetic one)")
    defaults = "; ".join(f"{e}: {s}" for e, s in DEFAULT_SYSTEM.items())
    ap.add_argument("--system", help=f"a self-guided system config (configs/systems); default by edition: {defaults}")
    add_table_arguments(ap, n_default=BUILTIN["n"], report_path="results/report/index.html")
    return ap


def _main(argv=None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    resolve_n(ap, args, BUILTIN["n"])
    lines = ablation(None if args.all else args.config, args.data, args.system, TableOptions.from_args(args))
    if lines is not None:  # None: a torchrun rank other than 0
        print("\n".join(lines))
    return 0


main = command(_main)  # the one error boundary (common/errors.py): `error: …` and exit status 2


if __name__ == "__main__":
    sys.exit(main())
