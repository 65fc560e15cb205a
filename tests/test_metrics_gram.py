"""metrics/gram.py: the products taken block by block from the signals as stored equal those of
whole float64 rows, and score the same; metrics/distributions.py: the normal and Student's t
functions agree with scipy's."""
import math

import numpy as np
import pytest
from scipy import special

from s5bench.metrics.distributions import normal_cdf, normal_quantile, student_t_quantile
from s5bench.metrics.gram import BLOCK, BlockBuffer, gram_of_rows, gram_of_sources
from s5bench.metrics.intervals import interval_tail
from s5bench.metrics.scene import blas_dot, score_gram, score_rows


def _stored(rng, wave, kind):
    """`wave` (float64 in [-1, 1)) as a file would hold it: 16-bit PCM, float32 at an address that is
    not 4-byte aligned (as a WAV file's samples usually are in the file), or channel 0 of a 4-channel block."""
    if kind == "pcm16":
        return np.round(wave * 32768).clip(-32768, 32767).astype(np.int16)
    if kind == "unaligned32":
        raw = np.empty(4 * len(wave) + 2, dtype=np.uint8)
        view = np.frombuffer(raw.data, dtype=np.float32, count=len(wave), offset=2)
        raw[2:] = wave.astype(np.float32).view(np.uint8)
        assert not view.flags.aligned
        return view
    block = rng.uniform(-1, 1, (len(wave), 4))
    block[:, 0] = wave
    return block[:, 0]  # strided


def _as_float64(source):
    return source * (1 / 32768) if source.dtype == np.int16 else source.astype(np.float64)


@pytest.mark.parametrize("length", [1, 100, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 17])
def test_blockwise_products_equal_whole_row_products(length):
    rng = np.random.default_rng(length)
    buffer = BlockBuffer()
    for n_ref, n_est in [(0, 2), (1, 0), (1, 1), (3, 3), (2, 3)]:
        kinds = rng.choice(["pcm16", "unaligned32", "strided64"], 1 + n_ref + n_est)
        sources = [_stored(rng, rng.uniform(-0.9, 0.9, length), kind) for kind in kinds]
        rows = np.stack([_as_float64(s) for s in sources])
        got, want = gram_of_sources(sources, n_ref, buffer), gram_of_rows(rows, n_ref, blas_dot)
        for field in ("energy", "mixture_ref", "ref_est"):
            assert getattr(got, field).shape == getattr(want, field).shape
            np.testing.assert_allclose(getattr(got, field), getattr(want, field), rtol=1e-12, atol=1e-12)
        for a, b in [(0, len(sources) - 1), (len(sources) - 1, 0)]:
            explicit = float(np.sum((rows[a] - rows[b]) ** 2))
            assert got.difference_energy(a, b) == pytest.approx(explicit, rel=1e-12, abs=1e-12)


def test_sources_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="one length expected"):
        gram_of_sources([np.zeros(4), np.zeros(3)], 1)


def test_scores_from_stored_signals_equal_those_from_rows():
    """Close pairs (the explicit-difference path), misses, false alarms and a repeated class."""
    rng = np.random.default_rng(7)
    buffer = BlockBuffer()
    for trial in range(40):
        length = int(rng.integers(50, 3 * BLOCK))
        labels = list(rng.choice(["Speech", "Cough", "Pour"], int(rng.integers(0, 4))))
        refs = [rng.uniform(-0.3, 0.3, length) for _ in labels]
        x0 = sum(refs, 0.2 * rng.uniform(-1, 1, length))
        est_labels = ([lab for lab in labels if rng.random() < 0.8] + (["Doorbell"] if rng.random() < 0.4 else []))[:3]
        ests = [refs[labels.index(lab)] + 10 ** -rng.uniform(0.5, 3) * rng.uniform(-1, 1, length)
                if lab in labels else rng.uniform(-0.1, 0.1, length) for lab in est_labels]
        kinds = rng.choice(["pcm16", "unaligned32", "strided64"], 1 + len(refs) + len(ests))
        sources = [_stored(rng, w, k) for w, k in zip([x0, *refs, *ests], kinds)]
        rows = np.stack([_as_float64(s) for s in sources])
        a = score_rows(rows, labels, est_labels, edition=2026)
        b = score_gram(gram_of_sources(sources, len(refs), buffer), labels, est_labels, edition=2026)
        assert (a.tp, a.fp, a.fn) == (b.tp, b.fp, b.fn)
        if math.isnan(a.capi_sdri):
            assert math.isnan(b.capi_sdri)
        else:
            assert b.capi_sdri == pytest.approx(a.capi_sdri, abs=1e-9)
        assert b.snri == pytest.approx(a.snri, abs=1e-9)


def test_a_nan_in_a_stored_signal_is_named():
    sources = [np.ones(10, dtype=np.float32), np.ones(10, dtype=np.float32), np.ones(10, dtype=np.float32)]
    sources[2][3] = np.nan
    with pytest.raises(ValueError, match="^est.wav: contains NaN or Inf samples"):
        score_gram(gram_of_sources(sources, 1), ["Speech"], ["Speech"], row_names=["mix.wav", "ref.wav", "est.wav"])
    with pytest.raises(ValueError, match="2 signal row"):
        score_gram(gram_of_sources(sources[:2], 1), ["Speech"], ["Speech"])


def test_normal_functions_agree_with_scipy():
    for x in np.linspace(-8, 8, 161):
        assert normal_cdf(float(x)) == pytest.approx(float(special.ndtr(x)), rel=1e-13, abs=1e-300)
    for p in [1e-12, 1e-6, 0.01, 0.025, 0.2, 0.5, 0.8, 0.975, 0.99, 1 - 1e-6]:
        assert normal_quantile(p) == pytest.approx(float(special.ndtri(p)), rel=1e-12, abs=1e-15)
    for bad in (0.0, 1.0, -0.1, math.nan):
        with pytest.raises(ValueError, match="probability in"):
            normal_quantile(bad)


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 6, 7, 9, 10, 19, 30, 99, 100, 186, 999, 1000])
def test_student_t_quantile_agrees_with_scipy(df):
    for p in [1e-6, 0.001, 0.005, 0.025, 0.1, 0.4, 0.5, 0.6, 0.9, 0.95, 0.975, 0.99, 0.995, 0.9995, 1 - 1e-6]:
        rel = 1e-11 if 0.005 <= p <= 0.995 else 1e-9  # far out, 2p − 1 itself loses digits
        assert student_t_quantile(df, p) == pytest.approx(float(special.stdtrit(df, p)), rel=rel, abs=1e-14)


def test_student_t_quantile_for_many_mixtures_and_bad_arguments():
    for df in (10_000, 100_000, 1_000_000):
        for p in (0.95, 0.975, 0.995):
            assert student_t_quantile(df, p) == pytest.approx(float(special.stdtrit(df, p)), rel=1e-10)
    for df in (1, 1_000_000):  # the far tails, where the method is least exact
        for p in (1e-6, 1 - 1e-6):
            assert student_t_quantile(df, p) == pytest.approx(float(special.stdtrit(df, p)), rel=1e-7)
    for df, p in [(0, 0.9), (2.5, 0.9), (3, 0.0), (3, 1.0), (5, 1e-20), (100_000, 1 - 1e-14)]:
        with pytest.raises(ValueError):
            student_t_quantile(df, p)


def test_interval_tail_is_the_expanded_percentile_formula():
    for n in (2, 3, 8, 20, 100, 187, 5000):
        for level in (0.9, 0.95, 0.99):
            want = special.ndtr(-math.sqrt(n / (n - 1)) * special.stdtrit(n - 1, 1 - (1 - level) / 2))
            assert interval_tail(n, level) == pytest.approx(float(want), rel=1e-10)
    assert interval_tail(1) == pytest.approx(0.025)
