"""The paired bootstrap's intervals, metrics/intervals.py against scipy.stats.bootstrap on the same
job (runners/bench_bootstrap.py): a synthetic data set's contributions, scipy's way, the timing."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np
from scipy import stats

from s5bench.metrics.intervals import Contributions, figure_intervals, interval_tail

T = TypeVar("T")
METRICS = ("CA-SDRi", "CAPI-SDRi", "SNRi", "Acc_mix", "Acc_src")


def synthetic_contributions(n: int, seed: int = 0) -> Contributions:
    """Five figures' per-mixture (num, den) for n mixtures, shaped like a scored data set's.

    Args:
        n: mixtures.
        seed: the draw's seed.

    Returns:
        The contributions of METRICS: CA-SDRi and CAPI-SDRi (a mean; CAPI-SDRi with 10 % mixtures
        without a value), SNRi (a sum over 0-3 targets over their number), Acc_mix (a mean of 0/100)
        and Acc_src (pooled TP over TP + FP + FN).
    """
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
    Generator(seed) each, as figure_intervals uses for every figure).

    Args:
        c: the contributions.
        n_resamples: bootstrap resamples.
        seed: the resamples' seed.

    Returns:
        {metric: (low, high)}, the 95 % expanded percentile intervals (metrics/intervals.interval_tail).
    """
    def ratio(num, den, axis=-1):
        return num.sum(axis) / den.sum(axis)

    out = {}
    for k, metric in enumerate(c.metrics):
        # the harness's expanded interval is scipy's percentile interval at confidence 1 − 2·tail
        ci = stats.bootstrap((c.num[:, k], c.den[:, k]), ratio, paired=True, vectorized=True, method="percentile",
                             confidence_level=1 - 2 * interval_tail(len(c.num)),
                             n_resamples=n_resamples, rng=np.random.default_rng(seed)).confidence_interval
        out[metric] = (float(ci.low), float(ci.high))
    return out


def best_time(fn: Callable[[], T], repeats: int) -> tuple[float, T]:
    """The shortest wall time of `repeats` calls of `fn`, and its last result.

    Args:
        fn: the timed call.
        repeats: calls (at least 1).

    Returns:
        (seconds, the last call's result).
    """
    t0 = time.perf_counter()
    result = fn()
    best = time.perf_counter() - t0
    for _ in range(repeats - 1):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def compare_bootstraps(mixtures: int, resamples: int, repeats: int, seed: int = 0) -> list[str]:
    """Time both on one synthetic job, best of `repeats` each.

    Args:
        mixtures: mixtures of the synthetic data set.
        resamples: bootstrap resamples.
        repeats: timed calls of each.
        seed: the data's and the resamples' seed.

    Returns:
        The lines to print: each one's time, their ratio and the largest difference of the bounds.
    """
    c = synthetic_contributions(mixtures, seed)
    ours, mine = best_time(lambda: figure_intervals(c, resamples, seed), repeats)
    theirs, ref = best_time(lambda: with_scipy(c, resamples, seed), repeats)
    gap = max(abs(a - b) for m in METRICS for a, b in zip(mine[m], ref[m]))
    return [f"{resamples} resamples x {mixtures} mixtures x {len(METRICS)} figures, one core, best of {repeats}:",
            f"  harness (metrics/intervals.py)  {ours * 1000:8.1f} ms",
            f"  scipy.stats.bootstrap           {theirs * 1000:8.1f} ms",
            f"  ratio scipy / harness           {theirs / ours:8.1f}x   (largest difference of the bounds: {gap:.1e})"]
