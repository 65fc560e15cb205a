"""Is a difference real? Per-mixture contributions of every S5 metric, paired bootstrap intervals
over mixtures, a paired permutation p-value and the smallest detectable difference.

Every data-set figure of `metrics.aggregate.summarize` is a ratio of sums over mixtures, Σnum / Σden,
with one (num, den) pair per mixture and metric:
- CA-SDRi / CAPI-SDRi: (value, 1), or (0, 0) for a mixture without any label (NaN, left out of the
  mean as in `summarize`);
- SNRi: (Σ SNRi of its active targets, number of active targets): the mean is over targets;
- Acc_mix: (100 · labels equal, 1);
- Acc_src: (100 · TP, TP + FP + FN): the official pooled ratio, not a mean of per-mixture ratios.
Resampling mixtures and recomputing Σnum / Σden per resample therefore reproduces the official
aggregation on every resample (a mean of per-mixture ratios would not).

Intervals are expanded percentile intervals (Hesterberg, "What teachers should know about the
bootstrap", The American Statistician 69, 2015): the quantiles of the resampled figures, taken
further out than α/2 so that for n mixtures they are as wide as a Student t interval would be,
α'/2 = Φ(−√(n/(n−1)) · t_(n−1, 1−α/2)). The plain percentile interval is too narrow at small n
(its spread uses 1/n instead of 1/(n−1) and z instead of t): nominal 95 % covered 88–91 % at n = 8
and 91–93 % at n = 20 (tests/test_intervals.py measures n = 8, 20 and 100); the expansion brings
that to 93–96 % and widens the interval by about 1.7 % at n = 100. Like the percentile interval, it needs nothing
but the resampled figures: it is the same for a ratio of sums, for a difference of two systems and
for every metric from one set of resamples, it stays inside the range the figures can take, and it
is `scipy.stats.bootstrap(method="percentile")` at confidence 1 − α' on the same resamples (a test).

A difference is marked significant only when its interval excludes 0 *and* the paired permutation
test gives p < α: at small n, and when few mixtures differ at all (a 0/100 figure), a bootstrap
interval may exclude 0 where the exact test cannot reject, and a mark must not contradict either
figure printed beside it. Below `min_mixtures` (6 at 95 %) no paired test can reach p < α.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

# scipy.stats is imported inside the functions that use it: a scoring run that draws no interval
# (contributions, aggregate) does not pay the ~0.2 s of importing it
from s5bench.common.arguments import MAX_RESAMPLES
from s5bench.common.editions import ranking_metric
from s5bench.common.errors import S5Error

from .distributions import normal_cdf, normal_quantile, student_t_quantile
from .scene import MixtureScore

if TYPE_CHECKING:  # a table is handed in; a scoring run need not load pandas (0.2 s)
    import numpy.typing as npt
    import pandas as pd

N_RESAMPLES = 2000
LEVEL = 0.95
POWER = 0.8
# Drawn mixture indices held at once (32 MiB as int64): any number of resamples up to
# MAX_RESAMPLES is drawn and counted in blocks of this size, so memory does not grow with
# --bootstrap × mixtures. At 2,000 resamples one block holds up to 2,097 mixtures: one draw.
CHUNK = 1 << 22


@dataclass(frozen=True)
class Contributions:
    """Per-mixture (numerator, denominator) of each metric: figure = 100-free Σnum / Σden."""

    metrics: tuple[str, ...]
    mixtures: tuple[str, ...]
    num: np.ndarray  # (n_mixtures, n_metrics)
    den: np.ndarray  # (n_mixtures, n_metrics)

    def __len__(self) -> int:
        return len(self.mixtures)


def metric_names(edition: int) -> tuple[str, ...]:
    """The measured figures of an edition, in the order of `summary_columns`.

    Args:
        edition: 2025 or 2026.

    Returns:
        (ranking metric, "SNRi", "Acc_mix", "Acc_src"): the ranking metric is CA-SDRi (2025) or CAPI-SDRi (2026).
    """
    return (ranking_metric(edition), "SNRi", "Acc_mix", "Acc_src")


def _build(edition: int, names: Iterable[str], capi: npt.ArrayLike, snri_sum: npt.ArrayLike, n_targets: npt.ArrayLike,
           match: npt.ArrayLike, tp: npt.ArrayLike, fp: npt.ArrayLike, fn: npt.ArrayLike) -> Contributions:
    capi = np.asarray(capi, dtype=float)
    defined = np.isfinite(capi)
    num = np.column_stack([np.where(defined, capi, 0.0), snri_sum, 100.0 * np.asarray(match, dtype=float),
                           100.0 * np.asarray(tp, dtype=float)])
    den = np.column_stack([defined.astype(float), n_targets, np.ones(len(capi)),
                           np.asarray(tp, float) + np.asarray(fp, float) + np.asarray(fn, float)])
    return Contributions(metric_names(edition), tuple(names), num.astype(float), den.astype(float))


def contributions(scores: list[MixtureScore]) -> Contributions:
    """Per-mixture contributions of scored mixtures (one edition).

    Args:
        scores: the `MixtureScore`s of a data set, as `summarize` takes them.

    Returns:
        Contributions whose `aggregate` equals `summarize(scores)` figure by figure.

    Raises:
        S5Error: no scores, or scores of several editions.
    """
    if not scores:
        raise S5Error("no mixtures to compute contributions of")
    editions = {s.edition for s in scores}
    if len(editions) > 1:
        raise S5Error(f"scores of several editions cannot be pooled: {sorted(editions)}")
    return _build(editions.pop(), [s.soundscape for s in scores], [s.capi_sdri for s in scores],
                  [float(np.sum(s.snri)) for s in scores], [len(s.snri) for s in scores],
                  [s.label_match for s in scores], [s.tp for s in scores], [s.fp for s in scores],
                  [s.fn for s in scores])


def contributions_from_table(per_mixture: pd.DataFrame, edition: int, where: str = "per-mixture table"
                             ) -> Contributions:
    """Per-mixture contributions read back from a stage's per_mixture.csv (`MixtureScore.row`).

    Args:
        per_mixture: the table (columns soundscape, ca_sdri or capi_sdri, snri, label_match, n_ref, tp, fp, fn).
        edition: 2025 or 2026 (names the ranking metric's column).
        where: the file, for error messages.

    Returns:
        Contributions (SNRi's sum is the row's mean times its number of targets).

    Raises:
        S5Error: a column is missing or the table is empty.
    """
    col = ranking_metric(edition).lower().replace("-", "_")
    missing = [c for c in ("soundscape", col, "snri", "label_match", "n_ref", "tp", "fp", "fn")
               if c not in per_mixture.columns]
    if missing or per_mixture.empty:
        raise S5Error(f"{where}: " + (f"no column(s) {', '.join(missing)}" if missing else "no mixtures"))
    table: Any = per_mixture  # pandas declares few of its types (as in breakdown.py)
    n_ref = table["n_ref"].to_numpy(dtype=float)
    snri_sum = np.where(n_ref > 0, table["snri"].to_numpy(dtype=float) * n_ref, 0.0)
    match = table["label_match"].astype(str).str.lower().eq("true")
    return _build(edition, table["soundscape"].astype(str), table[col], snri_sum, n_ref, match,
                  table["tp"], table["fp"], table["fn"])


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def aggregate(c: Contributions) -> dict[str, float]:
    """The data-set figures, Σnum / Σden per metric.

    Args:
        c: a data set's contributions.

    Returns:
        {metric: figure} in the order of `c.metrics`, NaN where no mixture has a denominator (e.g. the ranking
        metric when no mixture has a label).
    """
    return dict(zip(c.metrics, map(float, _ratio(c.num.sum(axis=0), c.den.sum(axis=0)))))


def check_resamples(n_resamples: int) -> None:
    """Refuses a number of resamples out of 1 to MAX_RESAMPLES (the runners refuse other values of
    --bootstrap up front: reaching this is a bug of the caller).

    Args:
        n_resamples: bootstrap or permutation resamples asked for.

    Raises:
        ValueError: If n_resamples is below 1 or above MAX_RESAMPLES.
    """
    if not 1 <= n_resamples <= MAX_RESAMPLES:
        raise ValueError(f"bootstrap resamples must be 1 to {MAX_RESAMPLES}, not {n_resamples}")


def _draws(n: int, n_resamples: int, seed: int) -> Iterator[np.ndarray]:
    """The drawn mixture indices in blocks of at most CHUNK (rows of n), from one Generator(seed);
    a single block, the same draw as numpy's `integers(0, n, (n_resamples, n))`, when they fit."""
    check_resamples(n_resamples)
    rng = np.random.default_rng(seed)
    rows = max(1, CHUNK // max(n, 1))
    for start in range(0, n_resamples, rows):
        yield rng.integers(0, n, (min(rows, n_resamples - start), n))


def resample_indices(n: int, n_resamples: int = N_RESAMPLES, seed: int = 0) -> np.ndarray:
    """Mixture indices drawn with replacement from numpy's Generator(seed), all blocks at once.

    The same draw as `scipy.stats.bootstrap(..., rng=np.random.default_rng(seed))` makes while
    n_resamples · n ≤ CHUNK (beyond, the blocks that `bootstrap_figures` draws one by one).

    Args:
        n: mixtures.
        n_resamples: resamples, 1 to MAX_RESAMPLES.
        seed: numpy Generator seed.

    Returns:
        (n_resamples, n) int64 indices in [0, n).

    Raises:
        ValueError: If n_resamples is out of range.
    """
    return np.concatenate(list(_draws(n, n_resamples, seed)))


def resampled_figures(num: np.ndarray, den: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """The figures of every resample, Σnum / Σden over the drawn mixtures.

    Args:
        num: (n, k) numerators (k: metrics, or metrics of both sides of a comparison).
        den: (n, k) denominators.
        idx: (n_resamples, n) drawn mixture indices (`resample_indices`).

    Returns:
        (n_resamples, k) figures, NaN where a resample has no denominator: how often each mixture is
        drawn (one bincount) times the contributions (one matrix product for all k columns).
    """
    b, n = int(idx.shape[0]), int(idx.shape[1])
    flat = idx + n * np.arange(b)[:, None]  # resample r's indices moved to r·n … r·n + n − 1: one bincount for all
    counts = np.reshape(np.bincount(flat.ravel(), minlength=b * n), (b, n)).astype(float)
    return _ratio(counts @ num, counts @ den)


def bootstrap_figures(num: np.ndarray, den: np.ndarray, n_resamples: int = N_RESAMPLES, seed: int = 0
                      ) -> np.ndarray:
    """`resampled_figures` of n_resamples draws of the n mixtures, block by block (`CHUNK`).

    Args:
        num: (n, k) numerators.
        den: (n, k) denominators.
        n_resamples: bootstrap resamples, 1 to MAX_RESAMPLES.
        seed: numpy Generator seed.

    Returns:
        (n_resamples, k) figures: memory beyond them stays under a few CHUNKs whatever n_resamples.

    Raises:
        ValueError: n_resamples out of range.
    """
    return np.concatenate([resampled_figures(num, den, idx) for idx in _draws(len(num), n_resamples, seed)])


def interval_tail(n: int, level: float = LEVEL) -> float:
    """The share of resampled figures left out on each side of an n-mixture interval:
    Φ(−√(n/(n−1)) · t_(n−1, 1−α/2)), the expanded percentile interval's α'/2 (0.0057 at n = 8,
    0.0231 at n = 100, → α/2 = 0.025 as n grows); α/2 for one mixture (every resample is the same).

    Args:
        n: mixtures.
        level: confidence level (1 − α).

    Returns:
        α'/2, in (0, α/2].
    """
    alpha = 1 - level
    if n < 2:
        return alpha / 2
    return normal_cdf(-math.sqrt(n / (n - 1)) * student_t_quantile(n - 1, 1 - alpha / 2))


def _percentile(theta: np.ndarray, n: int, level: float) -> tuple[np.ndarray, np.ndarray]:
    tail = interval_tail(n, level)
    if not np.isnan(theta).any():
        low, high = np.quantile(theta, [tail, 1 - tail], axis=0)
        return low, high
    # a figure with nothing to count in any resample (e.g. SNRi of mixtures without targets) has no
    # interval: NaN bounds, without numpy's all-NaN warning
    some = ~np.isnan(theta).all(axis=0)
    low, high = np.full(theta.shape[1:], np.nan), np.full(theta.shape[1:], np.nan)
    if some.any():
        low[some], high[some] = np.nanquantile(theta[:, some], [tail, 1 - tail], axis=0)
    return low, high


def figure_intervals(c: Contributions, n_resamples: int = N_RESAMPLES, seed: int = 0,
                     level: float = LEVEL) -> dict[str, tuple[float, float]]:
    """Expanded percentile bootstrap interval of each figure, resampling mixtures.

    Args:
        c: the data set's contributions.
        n_resamples: bootstrap resamples (1 to MAX_RESAMPLES).
        seed: numpy Generator seed; the same seed and n draw the same mixtures for every system.
        level: confidence level.

    Returns:
        {metric: (low, high)}, NaN bounds for a figure that no resample has a denominator for.

    Raises:
        ValueError: If n_resamples is out of range.
    """
    theta = bootstrap_figures(c.num, c.den, n_resamples, seed)
    low, high = _percentile(theta, len(c), level)
    return {m: (float(lo), float(hi)) for m, lo, hi in zip(c.metrics, low, high)}


def paired(a: Contributions, b: Contributions) -> tuple[Contributions, Contributions]:
    """`b` reordered to `a`'s mixtures, so that row i of both sides is the same mixture.

    Args:
        a: one side's contributions (its order is kept).
        b: the other side's contributions.

    Returns:
        `a` itself and `b` with its rows in `a`'s mixture order.

    Raises:
        S5Error: If the two have different metrics (another edition), different mixtures, or a mixture
            appears twice.
    """
    if a.metrics != b.metrics:
        raise S5Error(f"cannot pair figures {a.metrics} with {b.metrics} (another edition?)")
    if set(a.mixtures) != set(b.mixtures) or len(set(a.mixtures)) != len(a):
        only = sorted(set(a.mixtures) ^ set(b.mixtures))[:3]
        raise S5Error(f"a paired comparison needs the same mixtures on both sides; differing: {only}")
    order = np.array([b.mixtures.index(m) for m in a.mixtures]) if a.mixtures != b.mixtures else np.arange(len(b))
    return a, Contributions(b.metrics, a.mixtures, b.num[order], b.den[order])


def influence(c: Contributions) -> np.ndarray:
    """Each mixture's linearised share of each figure R = Σnum / Σden: (num − R·den) / mean(den).

    For a plain mean (den = 1) it is the mixture's own value minus the figure; for a ratio of sums the
    delta-method term.

    Args:
        c: a data set's contributions.

    Returns:
        (n, k) influences (R taken as Σnum where Σden is 0; mean(den) as 1 where it is 0).
    """
    r = c.num.sum(axis=0) / np.where(c.den.sum(axis=0) > 0, c.den.sum(axis=0), 1.0)
    return (c.num - r * c.den) / np.where(c.den.mean(axis=0) > 0, c.den.mean(axis=0), 1.0)


def min_detectable(a: Contributions, b: Contributions, n: int | None = None, level: float = LEVEL,
                   power: float = POWER) -> dict[str, float]:
    """Smallest difference a paired comparison of n mixtures detects: (z_(1−α/2) + z_power)·sd/√n.

    Args:
        a: one side's contributions.
        b: the other side's, on the same mixtures (any order).
        n: mixtures to plan for (default: the pair's own number).
        level: two-sided confidence level.
        power: the chance of detecting a difference of that size.

    Returns:
        {metric: difference}, with sd the standard deviation of the per-mixture influence
        differences (for a mean: of the per-mixture differences).

    Raises:
        S5Error: If the two sides were not scored on the same mixtures (`paired`).
    """
    a, b = paired(a, b)
    sd = (influence(a) - influence(b)).std(axis=0, ddof=1)
    z = normal_quantile(1 - (1 - level) / 2) + normal_quantile(power)
    return dict(zip(a.metrics, map(float, z * sd / np.sqrt(n or len(a)))))


def permutation_p_values(a: Contributions, b: Contributions, n_resamples: int = N_RESAMPLES,
                         seed: int = 0) -> dict[str, float]:
    """Two-sided paired permutation p-value of each figure's difference a − b.

    Under no difference the two systems' results on a mixture are exchangeable, so each mixture's
    (num, den) pairs are swapped between the sides (`scipy.stats.permutation_test`,
    permutation_type="samples"; the sign-flip test for a mean, exact when 2^n ≤ n_resamples). Its
    smallest possible p-value is 2 / 2^m for m mixtures whose results differ (the observed assignment
    and its mirror image).

    Args:
        a: one side's contributions.
        b: the other side's, on the same mixtures (any order).
        n_resamples: random permutations, 1 to MAX_RESAMPLES (all of them when there are fewer).
        seed: numpy Generator seed.

    Returns:
        {metric: p-value}, NaN where the observed difference is not finite (a side without a denominator).

    Raises:
        ValueError: If n_resamples is out of range.
        S5Error: If the two sides were not scored on the same mixtures (`paired`).
    """
    from scipy import stats  # lazily: see the note at the imports

    check_resamples(n_resamples)
    a, b = paired(a, b)
    n = len(a)
    # scipy draws all permutations at once unless batched: (n_resamples, 2n) indices, 1.6 GB for
    # 10^6 resamples of 100 mixtures; batches of CHUNK keep memory bounded (the default's one batch
    # leaves its p-values as they were)
    batch = None if n_resamples * 2 * n <= CHUNK else max(1, CHUNK // (2 * n))
    num, den = np.concatenate([a.num, b.num]), np.concatenate([a.den, b.den])
    permutation_test: Callable[..., Any] = vars(stats)["permutation_test"]  # typed here: scipy declares no types
    out: dict[str, float] = {}
    for k, metric in enumerate(a.metrics):
        def stat(x: npt.NDArray[np.intp], y: npt.NDArray[np.intp], axis: int = -1, k: int = k
                 ) -> np.ndarray:  # x, y: indices into the stacked sides
            return (_ratio(num[x, k].sum(axis), den[x, k].sum(axis))
                    - _ratio(num[y, k].sum(axis), den[y, k].sum(axis)))

        if not np.isfinite(stat(np.arange(n), np.arange(n) + n)):
            out[metric] = float("nan")
            continue
        res = permutation_test((np.arange(n), np.arange(n) + n), stat, permutation_type="samples",
                                     vectorized=True, n_resamples=n_resamples, batch=batch,
                                     rng=np.random.default_rng(seed))
        out[metric] = float(res.pvalue)
    return out


def compare(a: Contributions, b: Contributions, n_resamples: int = N_RESAMPLES, seed: int = 0,
            level: float = LEVEL, p_values: bool = True) -> list[dict[str, Any]]:
    """Paired comparison a − b of every figure: the same resampled mixtures for both sides.

    Args:
        a: one side's contributions.
        b: the other side's, on the same mixtures (any order).
        n_resamples: bootstrap (and permutation) resamples.
        seed: numpy Generator seed.
        level: confidence level.
        p_values: also the paired permutation p-value (NaN without).

    Returns:
        One dict per metric: metric, difference, ci_low, ci_high, p_value, n_mixtures,
        min_detectable, excludes_zero; a metric on which the two sides agree on every mixture
        has 0 difference and interval, p-value 1 (NaN without p_values) and min_detectable 0.

    Raises:
        ValueError: If n_resamples is out of range.
        S5Error: If the two sides were not scored on the same mixtures (`paired`).
    """
    a, b = paired(a, b)
    k = len(a.metrics)
    theta = bootstrap_figures(np.hstack([a.num, b.num]), np.hstack([a.den, b.den]), n_resamples, seed)
    low, high = _percentile(theta[:, :k] - theta[:, k:], len(a), level)
    diff = np.array(list(aggregate(a).values())) - np.array(list(aggregate(b).values()))
    p = permutation_p_values(a, b, n_resamples, seed) if p_values else {}
    mdd = min_detectable(a, b, level=level)
    # two stages that give the same result on every mixture (up to rounding in the last digits, e.g.
    # a pass that changed no label) differ by exactly 0: rounding noise is no difference
    same = (np.isclose(a.num, b.num, rtol=1e-12, atol=1e-9) & np.isclose(a.den, b.den, rtol=0, atol=0)).all(axis=0)
    assert isinstance(same, np.ndarray)  # (n_mixtures, n_metrics) reduced over the mixtures: one per metric
    diff, low, high = np.where(same, 0.0, diff), np.where(same, 0.0, low), np.where(same, 0.0, high)
    return [{"metric": m, "difference": float(diff[i]), "ci_low": float(low[i]), "ci_high": float(high[i]),
             "p_value": 1.0 if same[i] and p_values else p.get(m, float("nan")), "n_mixtures": len(a),
             "min_detectable": 0.0 if same[i] else mdd[m], "excludes_zero": bool(low[i] > 0 or high[i] < 0)}
            for i, m in enumerate(a.metrics)]


def min_mixtures(level: float = LEVEL) -> int:
    """The fewest paired mixtures on which a difference can be significant at `level`.

    The paired permutation (sign-flip) test's smallest p-value on n mixtures is 2 / 2^n: only the
    observed assignment and its mirror image are as extreme as the observation.

    Args:
        level: confidence level (1 − α).

    Returns:
        The smallest n with 2 / 2^n < α: 6 at 95 % (2/32 = 0.0625, 2/64 = 0.031).
    """
    n = 1
    while 2.0 ** (1 - n) >= 1 - level:
        n += 1
    return n


def significant(excludes_zero: bool, p_value: float, n_mixtures: int, level: float = LEVEL) -> bool:
    """Whether a paired difference is marked: its interval excludes 0, its permutation test gives
    p < 1 − level, and n_mixtures reaches `min_mixtures` (the mark never contradicts the interval
    or the p-value printed beside it; a NaN p-value marks nothing).

    Args:
        excludes_zero: the interval excludes 0 (`compare`'s excludes_zero).
        p_value: the paired permutation p-value.
        n_mixtures: mixtures compared.
        level: confidence level.

    Returns:
        True when all three hold.
    """
    return bool(excludes_zero) and p_value < 1 - level and n_mixtures >= min_mixtures(level)


def plus_minus(value: float, low: float, high: float, digits: int = 2) -> str:
    """`5.75 ± 0.41`: the figure and its interval's half-width (the bounds are in the CSVs).

    Args:
        value: the figure.
        low: its interval's lower bound.
        high: its interval's upper bound.
        digits: decimals printed.

    Returns:
        "value ± half-width"; the value alone when a bound is not finite; "" when the value is not finite.
    """
    if not np.isfinite(value):
        return ""
    if not (np.isfinite(low) and np.isfinite(high)):
        return f"{value:.{digits}f}"
    return f"{value:.{digits}f} ± {(high - low) / 2:.{digits}f}"
