import math

import numpy as np
import pytest

from metrics import acc_mix, acc_src, ca_sdri, per_class_table, score_mixture, snri, summarize
from metrics.signal import EPS_FLOAT32

# Two orthogonal unit targets: x₀ = s1 + s2, so SNR(x₀, s_k) = 10·log10(1/1) = 0 dB exactly.
S1 = np.array([1.0, 0, 0, 0])
S2 = np.array([0, 1.0, 0, 0])
X0 = S1 + S2
E1 = np.array([1.0, 0.1, 0, 0])  # ‖s1 − ê1‖² = 0.01 → 20 dB
E2 = np.array([0.1, 1.0, 0, 0])  # 20 dB against s2
TWENTY = 10 * math.log10((1 + EPS_FLOAT32) / (0.01 + EPS_FLOAT32))
REFS = {"Speech": S1, "Dishes": S2}


def test_exact_labels_mean_of_improvements():
    s = score_mixture(X0, REFS, {"Speech": E1, "Dishes": E2})
    assert s.ca_sdri == pytest.approx(TWENTY, abs=1e-12)
    assert s.snri == pytest.approx([TWENTY, TWENTY], abs=1e-12)
    assert s.slots_correct == 3 and s.label_match


def test_false_positive_counts_zero():
    s = score_mixture(X0, REFS, {"Speech": E1, "Dishes": E2, "Cough": np.array([0, 0, 1.0, 0])})
    assert s.ca_sdri == pytest.approx(2 * TWENTY / 3, abs=1e-12)
    assert s.fp_labels == {"Cough"} and not s.label_match
    assert s.slots_correct == 2  # the Cough slot faces a silent reference slot


def test_false_negative_counts_zero():
    s = score_mixture(X0, REFS, {"Speech": E1})
    assert s.ca_sdri == pytest.approx(TWENTY / 2, abs=1e-12)
    # Dishes is matched to a silent slot: SNR 0 dB, so SNRi = 0 − SNR(x₀, s2) = 0
    assert sorted(s.snri) == pytest.approx([0.0, TWENTY], abs=1e-12)
    assert s.slots_correct == 2  # Speech right; Dishes faces a silent slot (wrong); silent slot 3 vs silence (right)


def test_swapped_labels_hurt_ca_sdri_not_snri():
    s = score_mixture(X0, REFS, {"Speech": E2, "Dishes": E1})
    # SNR(ê2, s1): ‖s1 − ê2‖² = 0.81 + 1 = 1.81
    swapped = 10 * math.log10((1 + EPS_FLOAT32) / (1.81 + EPS_FLOAT32))
    assert s.ca_sdri == pytest.approx(swapped, abs=1e-12)
    assert s.snri == pytest.approx([TWENTY, TWENTY], abs=1e-12)  # waveform-only assignment
    assert s.slots_correct == 1  # only the silent third slot is right
    assert acc_src(X0, REFS, {"Speech": E2, "Dishes": E1}) == pytest.approx(100 / 3)


def test_silence_slots_are_ignored():
    a = score_mixture(X0, REFS, [("Speech", E1), ("silence", np.ones(4)), ("Dishes", E2)])
    b = score_mixture(X0, REFS, {"Speech": E1, "Dishes": E2})
    assert a.ca_sdri == b.ca_sdri and a.snri == b.snri and a.slots_correct == b.slots_correct == 3


def test_no_estimate_is_all_misses():
    s = score_mixture(X0, REFS, {})
    assert s.ca_sdri == 0.0
    assert s.snri == [0.0, 0.0]  # silent slot SNR 0 dB minus SNR(x₀, s) = 0 dB
    assert s.slots_correct == 1


def test_neither_reference_nor_estimate_is_nan():
    s = score_mixture(X0, {}, {})
    assert math.isnan(s.ca_sdri) and s.snri == [] and s.slots_correct == 3


def test_perfect_labels_ca_sdri_equals_mean_sdri_property():
    rng = np.random.default_rng(7)
    labels = ["Speech", "Typing", "Blender"]
    for n in (1, 2, 3):
        refs = {lab: rng.standard_normal(2000) for lab in labels[:n]}
        mixture = sum(refs.values()) + 0.5 * rng.standard_normal(2000)
        ests = {lab: w + rng.uniform(0.05, 0.3) * rng.standard_normal(2000) for lab, w in refs.items()}
        s = score_mixture(mixture, refs, ests)
        assert s.ca_sdri == pytest.approx(np.mean(s.snri), abs=1e-9)
        assert ca_sdri(mixture, refs, ests) == s.ca_sdri and snri(mixture, refs, ests) == s.snri


def test_multichannel_mixture_uses_channel_zero_and_torch_inputs():
    torch = pytest.importorskip("torch")
    mix4 = np.stack([X0, np.ones(4), np.ones(4), np.ones(4)])
    a = score_mixture(mix4, REFS, {"Speech": E1, "Dishes": E2})
    b = score_mixture(torch.tensor(X0), {k: torch.tensor(v) for k, v in REFS.items()},
                      {"Speech": torch.tensor(E1), "Dishes": torch.tensor(E2)})
    assert a.ca_sdri == pytest.approx(TWENTY) and b.ca_sdri == pytest.approx(TWENTY)


def test_bad_estimates():
    with pytest.raises(ValueError, match="unknown label 'Dog'"):
        score_mixture(X0, REFS, {"Dog": E1})
    with pytest.raises(ValueError, match="two estimates with label 'Speech'"):
        score_mixture(X0, REFS, [("Speech", E1), ("Speech", E2)])
    with pytest.raises(ValueError, match="samples, the mixture has 4"):
        score_mixture(X0, REFS, {"Speech": np.zeros(5)})
    with pytest.raises(ValueError, match="NaN or Inf"):
        score_mixture(X0, REFS, {"Speech": np.array([np.nan, 0, 0, 0])})
    with pytest.raises(ValueError, match="at most 3 slots"):
        score_mixture(X0, REFS, {lab: E1 for lab in ["Speech", "Dishes", "Cough", "Typing"]})


def test_acc_mix_and_summary_by_hand():
    assert acc_mix([["Speech"], ["Dishes", "Cough"]], [["Speech", "silence"], ["Cough"]]) == 50.0
    scores = [score_mixture(X0, REFS, {"Speech": E1, "Dishes": E2}, name="a"),
              score_mixture(X0, REFS, {"Speech": E1}, name="b")]
    summary = summarize(scores)
    assert summary["n_mixtures"] == 2
    assert summary["CA-SDRi"] == pytest.approx((TWENTY + TWENTY / 2) / 2)
    assert summary["SNRi"] == pytest.approx((3 * TWENTY + 0) / 4)
    assert summary["Acc_mix"] == 50.0
    assert summary["Acc_src"] == pytest.approx(100 * 5 / 6)
    rows = {r["class"]: r for r in per_class_table(scores)}
    assert rows["Speech"]["tp"] == 2 and rows["Dishes"]["tp"] == 1 and rows["Dishes"]["fn"] == 1
    assert rows["Dishes"]["mean_sdri_tp"] == pytest.approx(TWENTY)
    assert rows["Dishes"]["ca_sdri_term"] == pytest.approx(TWENTY / 2)
    assert rows["Cough"]["n_ref"] == 0 and math.isnan(rows["Cough"]["mean_sdri_tp"])


def test_summary_leaves_out_undefined_mixtures_with_warning():
    scores = [score_mixture(X0, REFS, {"Speech": E1, "Dishes": E2}), score_mixture(X0, {}, {})]
    with pytest.warns(UserWarning, match="neither reference nor estimated"):
        summary = summarize(scores)
    assert summary["CA-SDRi"] == pytest.approx(TWENTY)


def test_bss_sdr_is_high_for_good_estimate():
    pytest.importorskip("mir_eval")
    from metrics.bss import bss_sdr

    rng = np.random.default_rng(0)
    ref = rng.standard_normal((1, 4000))
    out = bss_sdr(ref + 0.01 * rng.standard_normal((1, 4000)), ref)
    assert out.shape == (1,) and out[0] > 30
