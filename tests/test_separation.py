"""The separation figure on true-positive estimates, by hand and through a folder."""
import numpy as np
import pytest

from s5bench.metrics.separation import tp_separation_gains
from s5bench.metrics.signal import best_scaled


def orthogonal_pair(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    s, noise = rng.standard_normal(n), rng.standard_normal(n)
    noise -= np.dot(noise, s) / np.dot(s, s) * s  # exactly orthogonal
    return 100 * s / np.linalg.norm(s), 100 * noise / np.linalg.norm(noise)  # ‖·‖ = 100: eps is negligible


def test_half_the_interference_removed_gains_three_db_over_the_best_scaled_mixture():
    """‖s‖ = ‖n‖, s ⟂ n, x0 = s + n: α = 1/2, α·x0 − s = (n − s)/2, error ‖s‖²/2, SNR 3.01 dB;
    ŝ = s + n/2: error ‖s‖²/4, SNR 6.02 dB; the gain is 10·log10(2) = 3.01 dB."""
    s, n = orthogonal_pair()
    x0 = s + n
    np.testing.assert_allclose(best_scaled(x0, s), 0.5 * x0)
    (label, gain), = tp_separation_gains(x0, [("Speech", s)], [("Speech", s + 0.5 * n)])
    assert label == "Speech" and gain == pytest.approx(10 * np.log10(2), abs=1e-6)
    # a rescaled mixture gains nothing, whatever its scale; the best one scores exactly 0
    (_, zero), = tp_separation_gains(x0, [("Speech", s)], [("Speech", 0.5 * x0)])
    assert zero == pytest.approx(0.0, abs=1e-9)
    (_, worse), = tp_separation_gains(x0, [("Speech", s)], [("Speech", 0.9 * x0)])
    assert worse < 0


def test_only_true_positives_are_paired_and_repeats_take_their_best_pairing():
    s1, n = orthogonal_pair(seed=1)
    s2 = np.roll(s1, 700)
    x0 = s1 + s2 + n
    gains = tp_separation_gains(x0, [("Dog", s1), ("Speech", s2)], [("Speech", s2), ("Bell", x0)])
    assert [lab for lab, _ in gains] == ["Speech"]  # Dog missed and Bell a false alarm: no pair
    assert gains[0][1] > 20  # a perfect estimate
    # 2026: two Speech references and two estimates, given crossed: each is paired with its own
    crossed = tp_separation_gains(x0, [("Speech", s1), ("Speech", s2)], [("Speech", s2), ("Speech", s1)])
    assert len(crossed) == 2 and min(g for _, g in crossed) > 20


def test_stage_separation_reads_a_run_folder(tiny_test_set, tmp_path):
    """Oracle references copied as a stage's estimates separate perfectly; channel 0 of the
    mixture as every estimate gains at most 0 dB."""
    import shutil

    import soundfile as sf

    from s5bench.common.layout import group_by_mixture, list_mixtures
    from s5bench.metrics.separation import stage_separation

    oracle = tiny_test_set / "oracle_target"
    perfect, mixture = tmp_path / "perfect" / "estimate", tmp_path / "mixture" / "estimate"
    perfect.mkdir(parents=True)
    mixture.mkdir(parents=True)
    mixtures = list_mixtures(tiny_test_set / "soundscape")
    for mix, refs in group_by_mixture(oracle, mixtures, "oracle target").items():
        wave, sr = sf.read(mixtures[mix])
        for _, ref in refs:
            shutil.copy(ref, perfect / ref.name)
            sf.write(mixture / ref.name, wave[:, 0], sr, subtype="FLOAT")
    table = stage_separation(tiny_test_set, tmp_path, ["perfect", "mixture"])
    n_refs = len(list(oracle.glob("*.wav")))
    assert list(table["tp_pairs"]) == [n_refs, n_refs]
    perfect_gain, mixture_gain = table["sep_gain_mean"]
    assert perfect_gain > 30 and mixture_gain <= 1e-6
