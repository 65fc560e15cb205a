"""The two distribution functions the intervals need, without importing scipy.

`scipy.special` costs about 0.17 s to import (its array-API layer), more than a tenth of scoring a
187-mixture test set, for two numbers per run. The normal distribution is the standard library's
(`math.erfc`, and `statistics.NormalDist`'s quantile, Wichura's AS 241); Student's t quantile is found by Newton's
method on its distribution function, computed exactly for an integer number of degrees of
freedom by the finite series of Abramowitz & Stegun 26.7.3-4. `tests/test_intervals.py` checks
both against scipy.
"""
from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

_NORMAL = NormalDist()


def normal_cdf(x: float) -> float:
    """Φ(x), the standard normal distribution function.

    Args:
        x: the point.

    Returns:
        P(Z ≤ x) for a standard normal Z.

    Example:
        >>> from s5bench.metrics.distributions import normal_cdf
        >>> round(normal_cdf(1.959963984540054), 6)
        0.975
    """
    return 0.5 * math.erfc(-x / math.sqrt(2))  # erfc, not 1 + erf: no digits lost in the lower tail


def normal_quantile(p: float) -> float:
    """Φ⁻¹(p), the standard normal quantile.

    Args:
        p: a probability in (0, 1).

    Returns:
        The x with Φ(x) = p.

    Raises:
        ValueError: If p is not in (0, 1).

    Example:
        >>> from s5bench.metrics.distributions import normal_quantile
        >>> round(normal_quantile(0.975), 6)
        1.959964
    """
    if not 0 < p < 1:
        raise ValueError(f"a quantile needs a probability in (0, 1), got {p}")
    return _NORMAL.inv_cdf(p)


def _central_mass(t: float, df: int) -> float:
    """P(|T| ≤ t) for Student's t with `df` degrees of freedom (t ≥ 0), by A&S 26.7.3 (odd df) and
    26.7.4 (even df): a sum of df/2 terms in cos²θ, θ = atan(t/√df), summed in log space so that no
    product of many factors loses digits."""
    theta = math.atan(t / math.sqrt(df))
    cos2, sin = math.cos(theta) ** 2, math.sin(theta)
    if df == 1:
        return 2 * theta / math.pi
    # the k-th term's coefficient is the product of (j − 1)/j over j = first, first + 2, …
    first = 2 if df % 2 == 0 else 3
    j = np.arange(first, df - 1, 2, dtype=np.float64)
    log_terms = np.cumsum(np.log((j - 1) / j) + math.log(cos2)) if cos2 > 0 else np.full(len(j), -np.inf)
    series = float(np.exp(log_terms).sum())
    if df % 2 == 0:
        return sin * (1.0 + series)
    cos = math.sqrt(cos2)
    return 2 / math.pi * (theta + sin * cos * (1.0 + series))


def _density(t: float, df: int) -> float:
    """Student's t density at t."""
    log_norm = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    return math.exp(log_norm - (df + 1) / 2 * math.log1p(t * t / df))


def student_t_quantile(df: int, p: float) -> float:
    """The p-quantile of Student's t distribution with an integer number of degrees of freedom.

    Args:
        df: degrees of freedom, at least 1.
        p: a probability in [1e-6, 1 − 1e-6] (the intervals need p = 1 − α/2; further out, 2p − 1
            loses the digits this method needs).

    Returns:
        The t with P(T ≤ t) = p: scipy.special.stdtrit(df, p) to 1e-11 relative for 0.005 ≤ p ≤
        0.995 and df ≤ 1000, to 1e-10 up to a million df, and to 1e-7 out to p = 1e-6.

    Raises:
        ValueError: If df is not an integer ≥ 1 or p is outside [1e-6, 1 − 1e-6].

    Example:
        >>> from s5bench.metrics.distributions import student_t_quantile
        >>> round(student_t_quantile(1, 0.75), 12)  # Cauchy: tan(π/4)
        1.0
        >>> round(student_t_quantile(9, 0.975), 4)  # the table value
        2.2622
    """
    if df < 1 or int(df) != df:
        raise ValueError(f"Student's t quantile needs an integer df ≥ 1, got {df}")
    if not 1e-6 <= p <= 1 - 1e-6:
        raise ValueError(f"Student's t quantile is computed for p in [1e-6, 1 − 1e-6], got {p}")
    if p < 0.5:
        return -student_t_quantile(df, 1 - p)
    if p == 0.5:
        return 0.0
    df = int(df)
    if df == 1:
        return math.tan(math.pi * (p - 0.5))
    target = 2 * p - 1  # P(|T| ≤ t)
    # Newton from the normal quantile, which lies below t's: the mass is concave in t ≥ 0, so each
    # step from below stays below and the iteration climbs monotonically to the root.
    t = normal_quantile(p)
    for _ in range(100):
        step = (target - _central_mass(t, df)) / (2 * _density(t, df))
        if step <= 1e-13 * t:  # converged, or the mass's rounding (about 1e-13 for a long series) is reached
            break
        t += step
    return t
