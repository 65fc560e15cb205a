"""Benchmark: the paired bootstrap's 95 % intervals of five figures, metrics/intervals.py vs
scipy.stats.bootstrap on the same job, on one core, in the same run.

    s5bench bench-bootstrap [--mixtures 1000] [--resamples 2000] [--repeats 3]

The job: per-mixture contributions (numerator, denominator) of five figures of a synthetic data
set, shaped like the real ones: CA-SDRi and CAPI-SDRi (a mean; CAPI-SDRi with 10 % mixtures
without a value), SNRi (a sum over 0-3 targets over their number), Acc_mix (a mean of 0/100) and
Acc_src (pooled TP over TP + FP + FN). Both compute the percentile interval of each figure as a
ratio of sums on every resample, with the same resampled mixture indices (the same seed):
  harness - figure_intervals(): one bincount of the draws and one matrix product for all figures;
  scipy   - stats.bootstrap((num, den), ratio, paired=True, vectorized=True, method="percentile"),
            once per figure.
Prints the best time of each over --repeats, their ratio and the largest difference of the bounds.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core for both, before numpy starts its pools

import argparse  # noqa: E402
import sys  # noqa: E402

from s5bench.benchmarks.bootstrap import compare_bootstraps  # noqa: E402
from s5bench.common.arguments import at_least  # noqa: E402
from s5bench.common.errors import command  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    """The runner's arguments."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mixtures", type=at_least(2), default=1000, help="mixtures of the synthetic data set")
    ap.add_argument("--resamples", type=at_least(1), default=2000, help="bootstrap resamples per interval")
    ap.add_argument("--repeats", type=at_least(1), default=3, help="timed repeats of each method (the median is shown)")
    ap.add_argument("--seed", type=at_least(0), default=0, help="seed of the data set and of the resamples")
    return ap


def _main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    print("\n".join(compare_bootstraps(args.mixtures, args.resamples, args.repeats, args.seed)))
    return 0


main = command(_main)  # the one error boundary (common/errors.py): `error: …` and exit status 2


if __name__ == "__main__":
    sys.exit(main())
