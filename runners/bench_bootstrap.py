"""Benchmark: the paired bootstrap's 95 % intervals of five figures, metrics/intervals.py vs
scipy.stats.bootstrap on the same job, on one core, in the same run.

    python runners/bench_bootstrap.py [--mixtures 1000] [--resamples 2000] [--repeats 3]

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
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import TypeVar  # noqa: E402

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

from s5bench.common.arguments import at_least  # noqa: E402
from s5bench.metrics.intervals import Contributions, figure_intervals  # noqa: E402

T = TypeVar("T")
METRICS = ("CA-SDRi", "CAPI-SDRi", "SNRi", "Acc_mix", "Acc_src")


def synthetic_contributions(n: int, seed: int = 0) -> Contributions:
    """Five figures' per-mixture (num, den) for n mixtures, shaped like a scored data set's."""
    rng = np.random.default_rng(seed)
    targets = rng.integers(0, 4, n)
    capi_defined = rng.random(n) > 0.1
    tp = rng.binomial(targets, 0.7)
    fp, fn = rng.integers(0, 2, n), targets - tp
    num = np.column_stack([rng.normal(6, 4, n), np.where(capi_defined, rng.normal(6, 4, n), 0.0),
                           rng.normal(8, 3, n) * targets, 100.0 * (fp + fn == 0), 100.0 * tp])
    den = np.column_stack([np.ones(n), capi_defined.astype(float), targets.astype(float), np.ones(n),
                           (tp + fp + fn).astype(float)])
    return Contributions(METRICS, tuple(f"mix{i}" for i in range(n)), num, den)


def with_scipy(c: Contributions, n_resamples: int, seed: int) -> dict[str, tuple[float, float]]:
    """The same intervals, one scipy.stats.bootstrap call per figure (the same draw: a fresh
    Generator(seed) each, as figure_intervals uses for every figure)."""
    def ratio(num, den, axis=-1):
        return num.sum(axis) / den.sum(axis)

    out = {}
    for k, metric in enumerate(c.metrics):
        ci = stats.bootstrap((c.num[:, k], c.den[:, k]), ratio, paired=True, vectorized=True, method="percentile",
                             n_resamples=n_resamples, rng=np.random.default_rng(seed)).confidence_interval
        out[metric] = (float(ci.low), float(ci.high))
    return out


def best_time(fn: Callable[[], T], repeats: int) -> tuple[float, T]:
    """The shortest wall time in seconds of `repeats` (at least 1) calls of `fn`, and its last result."""
    t0 = time.perf_counter()
    result = fn()
    best = time.perf_counter() - t0
    for _ in range(repeats - 1):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mixtures", type=at_least(2), default=1000)
    ap.add_argument("--resamples", type=at_least(1), default=2000)
    ap.add_argument("--repeats", type=at_least(1), default=3)
    ap.add_argument("--seed", type=int, default=0)
    return ap


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    c = synthetic_contributions(args.mixtures, args.seed)
    ours, mine = best_time(lambda: figure_intervals(c, args.resamples, args.seed), args.repeats)
    theirs, ref = best_time(lambda: with_scipy(c, args.resamples, args.seed), args.repeats)
    gap = max(abs(a - b) for m in METRICS for a, b in zip(mine[m], ref[m]))
    print(f"{args.resamples} resamples x {args.mixtures} mixtures x {len(METRICS)} figures, one core, "
          f"best of {args.repeats}:")
    print(f"  harness (metrics/intervals.py)  {ours * 1000:8.1f} ms")
    print(f"  scipy.stats.bootstrap           {theirs * 1000:8.1f} ms")
    print(f"  ratio scipy / harness           {theirs / ours:8.1f}x   (largest difference of the bounds: {gap:.1e})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
