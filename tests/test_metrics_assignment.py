"""metrics/assignment.py: the exhaustive assignment against scipy's Hungarian solver, and CAPI's pairing."""
import itertools

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from s5bench.metrics.assignment import best_assignment, best_class_pairing


@pytest.mark.parametrize("shape", [(r, e) for r in range(4) for e in range(4)] + [(2, 5), (4, 4), (6, 3)])
def test_best_assignment_is_scipys_on_random_matrices(shape):
    rng = np.random.default_rng(sum(shape))
    for _ in range(300):
        pair_snr = rng.normal(10.0, 8.0, shape)
        rows, cols = best_assignment(pair_snr)
        ref_rows, ref_cols = linear_sum_assignment(pair_snr, maximize=True)
        # random continuous matrices have one optimum: the same pairs, in scipy's order (rows increasing)
        assert (rows, cols) == ([int(i) for i in ref_rows], [int(j) for j in ref_cols])


def test_best_assignment_on_integer_matrices_reaches_scipys_sum():
    # small integers tie often: the pairs may differ, the summed SNR may not
    rng = np.random.default_rng(7)
    for r, e in itertools.product(range(1, 4), repeat=2):
        for _ in range(200):
            pair_snr = rng.integers(-3, 4, (r, e)).astype(float)
            rows, cols = best_assignment(pair_snr)
            ref_rows, ref_cols = linear_sum_assignment(pair_snr, maximize=True)
            assert len(rows) == min(r, e) and len(set(cols)) == len(cols) and rows == sorted(set(rows))
            assert pair_snr[rows, cols].sum() == pair_snr[ref_rows, ref_cols].sum()


def test_best_assignment_by_hand():
    assert best_assignment(np.array([[9.0, 8.0], [7.0, 1.0]])) == ([0, 1], [1, 0])  # 8 + 7 > 9 + 1
    assert best_assignment(np.array([[1.0], [5.0], [3.0]])) == ([1], [0])  # one estimate: the target it fits best
    assert best_assignment(np.zeros((0, 3))) == ([], [])
    assert best_assignment(np.array([[2.0, 2.0]])) == ([0], [0])  # a tie keeps the first


def test_best_class_pairing_by_hand():
    assert best_class_pairing(np.array([[1.0, 5.0], [4.0, 3.0]])) == ([0, 1], [1, 0])
    assert best_class_pairing(np.array([[1.0, 5.0, 6.0]])) == ([0], [2])
    assert best_class_pairing(np.array([[1.0], [5.0]])) == ([1], [0])


def test_best_pairing_exists_when_every_candidate_is_minus_infinity():
    """"The first with the largest mean": with every mean -inf (a silent reference scored without
    eps) that is the first candidate; it used to return None, which callers cannot unpack."""
    assert best_class_pairing(np.full((1, 1), -np.inf)) == ([0], [0])
    assert best_class_pairing(np.array([[-np.inf, -np.inf], [-np.inf, -np.inf]])) == ([0, 1], [0, 1])
    assert best_class_pairing(np.array([[1.0, 3.0], [2.0, 0.0]])) == ([0, 1], [1, 0])  # finite: unchanged
