"""The two pairings of references and estimates the S5 metrics need, by exhaustive search over a
mixture's few slots (at most 3 on each side in the challenge):

- `best_class_pairing`: CAPI-SDRi's choice among the pairs of one class (largest MEAN raw SNR, the
  first maximum in the official enumeration order);
- `best_assignment`: SNRi's one-to-one assignment of estimates to targets (largest summed raw SNR).

Up to 3 × 3 the search visits at most 6 assignments, exactly what scipy's Hungarian solver would
find and cheaper than importing it (0.3 s per process); larger matrices, which no challenge file
layout produces, go to `scipy.optimize.linear_sum_assignment`.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from itertools import combinations, permutations

import numpy as np
import numpy.typing as npt

# Assignments enumerated by `best_assignment` before it hands the matrix to scipy (6! = 720: 6 × 6).
MAX_ENUMERATED = 720


def best_class_pairing(pair_snr: npt.NDArray[np.float64]) -> tuple[list[int], list[int]]:
    """The pairs of references and estimates of one class that CAPI-SDRi scores.

    Among every choice of k = min(R, E) references (combinations, in order) and ordered k
    estimates (permutations, in order), the first with the largest mean raw SNR, as the
    official code enumerates them.

    Args:
        pair_snr: raw SNR in dB of each (reference, estimate) pair of the class, shape (R, E),
            R ≥ 1 and E ≥ 1.

    Returns:
        (rows, cols): k reference indices and the k estimate indices paired with them.

    Example:
        >>> import numpy as np
        >>> from s5bench.metrics.assignment import best_class_pairing
        >>> best_class_pairing(np.array([[1.0, 5.0], [4.0, 3.0]]))  # mean (5 + 4) / 2 beats (1 + 3) / 2
        ([0, 1], [1, 0])
    """
    n_refs, n_ests = int(pair_snr.shape[0]), int(pair_snr.shape[1])
    k = min(n_refs, n_ests)
    best: tuple[list[int], list[int]] | None = None
    best_mean = -math.inf
    for rows in combinations(range(n_refs), k):
        for cols in permutations(range(n_ests), k):
            mean = float(pair_snr[list(rows), list(cols)].mean())
            if best is None or mean > best_mean:  # the first stands when no mean beats it (all -inf)
                best, best_mean = (list(rows), list(cols)), mean
    assert best is not None  # combinations and permutations of k ≤ R, E yield at least one choice
    return best


def best_assignment(pair_snr: npt.NDArray[np.float64]) -> tuple[list[int], list[int]]:
    """The one-to-one assignment of estimates to targets with the largest summed raw SNR.

    Every target is given at most one estimate and every estimate at most one target;
    min(R, E) pairs are made. Ties (equal sums to the last bit) keep the first assignment in
    the enumeration order (targets in order, each taking estimates in permutation order).

    Args:
        pair_snr: raw SNR in dB of each (target, estimate) pair, shape (R, E); either may be 0.

    Returns:
        (rows, cols): the target indices in increasing order and the estimate given to each, as
        `scipy.optimize.linear_sum_assignment(pair_snr, maximize=True)` returns them.

    Example:
        >>> import numpy as np
        >>> from s5bench.metrics.assignment import best_assignment
        >>> best_assignment(np.array([[9.0, 8.0], [7.0, 1.0]]))  # 8 + 7 beats 9 + 1
        ([0, 1], [1, 0])
        >>> best_assignment(np.array([[2.0, 5.0, 3.0]]))  # one target: its best estimate
        ([0], [1])
    """
    n_targets, n_ests = int(pair_snr.shape[0]), int(pair_snr.shape[1])
    if min(n_targets, n_ests) == 0:
        return [], []
    if math.perm(max(n_targets, n_ests), min(n_targets, n_ests)) > MAX_ENUMERATED:
        import scipy.optimize  # only for matrices beyond the challenge's slots

        solve: Callable[..., tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]]
        solve = vars(scipy.optimize)["linear_sum_assignment"]  # typed here: scipy declares no types
        rows, cols = solve(pair_snr, maximize=True)
        return [int(i) for i in rows], [int(j) for j in cols]
    values: list[list[float]] = pair_snr.tolist()
    best: tuple[list[int], list[int]] = [], []
    best_sum = -math.inf
    if n_targets <= n_ests:  # each target takes a distinct estimate
        for cols in permutations(range(n_ests), n_targets):
            total = sum(values[i][j] for i, j in enumerate(cols))
            if not best[0] or total > best_sum:
                best, best_sum = (list(range(n_targets)), list(cols)), total
        return best
    for rows in permutations(range(n_targets), n_ests):  # each estimate takes a distinct target
        total = sum(values[i][j] for j, i in enumerate(rows))
        if not best[0] or total > best_sum:
            pairs = sorted(zip(rows, range(n_ests)))
            best, best_sum = ([i for i, _ in pairs], [j for _, j in pairs]), total
    return best
