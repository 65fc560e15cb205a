import math

import numpy as np
import pytest

from s5bench.metrics import acc_mix, acc_src, ca_sdri, per_class_table, score_mixture, snri, summarize
from s5bench.metrics.signal import EPS_FLOAT32

# Two orthogonal unit targets: x₀ = s1 + s2, so SNR(x₀, s_k) = 10·log10(1/1) = 0 dB exactly.
S1 = np.array([1.0, 0, 0, 0])
S2 = np.array([0, 1.0, 0, 0])
X0 = S1 + S2
E1 = np.array([1.0, 0.1, 0, 0])  # ‖s1 − ê1‖² = 0.01 → 20 dB
E2 = np.array([0.1, 1.0, 0, 0])  # 20 dB against s2
TWENTY = 10 * math.log10((1 + EPS_FLOAT32) / (0.01 + EPS_FLOAT32))
REFS = {"Speech": S1, "Dishes": S2}


def db(signal: float, noise: float) -> float:
    """SNR in dB from the two energies, with the metric's ε."""
    return 10 * math.log10((signal + EPS_FLOAT32) / (noise + EPS_FLOAT32))


def test_exact_labels_mean_of_improvements():
    s = score_mixture(X0, REFS, {"Speech": E1, "Dishes": E2})
    assert s.ca_sdri == pytest.approx(TWENTY, abs=1e-12)
    assert s.snri == pytest.approx([TWENTY, TWENTY], abs=1e-12)
    assert (s.tp, s.fp, s.fn) == (2, 0, 0) and s.label_match


def test_false_positive_counts_zero():
    s = score_mixture(X0, REFS, {"Speech": E1, "Dishes": E2, "Cough": np.array([0, 0, 1.0, 0])})
    assert s.ca_sdri == pytest.approx(2 * TWENTY / 3, abs=1e-12)
    assert (s.tp, s.fp, s.fn) == (2, 1, 0) and not s.label_match
    assert s.row()["acc_src"] == pytest.approx(100 * 2 / 3)


def test_false_negative_counts_zero_in_ca_sdri_and_snri():
    s = score_mixture(X0, REFS, {"Speech": E1})
    assert s.ca_sdri == pytest.approx(TWENTY / 2, abs=1e-12)
    # Dishes has no estimate: revised SNRi gives it 0 dB (a miss gains nothing)
    assert s.snri == pytest.approx([TWENTY, 0.0], abs=1e-12)
    assert (s.tp, s.fp, s.fn) == (1, 0, 1)


def test_swapped_labels_hurt_ca_sdri_not_snri():
    s = score_mixture(X0, REFS, {"Speech": E2, "Dishes": E1})
    # SNR(ê2, s1): ‖s1 − ê2‖² = 0.81 + 1 = 1.81
    swapped = db(1, 1.81)
    assert s.ca_sdri == pytest.approx(swapped, abs=1e-12)
    assert s.snri == pytest.approx([TWENTY, TWENTY], abs=1e-12)  # waveform-only assignment
    assert (s.tp, s.fp, s.fn) == (2, 0, 0)  # labels only: both classes present


def test_snri_matches_each_target_to_one_estimate_at_most():
    # one estimate close to s1 serves s1 only; s2 is left without one and scores 0
    s = score_mixture(X0, REFS, {"Cough": E1})
    assert s.snri == pytest.approx([TWENTY, 0.0], abs=1e-12)
    assert s.ca_sdri == 0.0  # no class in common: three zero terms


def test_silence_slots_are_ignored():
    a = score_mixture(X0, REFS, [("Speech", E1), ("silence", np.ones(4)), ("Dishes", E2)])
    b = score_mixture(X0, REFS, {"Speech": E1, "Dishes": E2})
    assert a.ca_sdri == b.ca_sdri and a.snri == b.snri and a.est_labels == b.est_labels


@pytest.mark.parametrize("edition", [2025, 2026])
def test_doing_nothing_scores_exactly_zero(edition):
    s = score_mixture(X0, REFS, [("silence", np.zeros(4))] * 3, edition=edition)
    assert s.ca_sdri == 0.0 and s.snri == [0.0, 0.0]
    summary = summarize([s, score_mixture(X0, {"Speech": S1}, {}, edition=edition)])
    assert summary["SNRi"] == 0.0 and summary["Acc_src"] == 0.0 and summary["Acc_mix"] == 0.0


def test_neither_reference_nor_estimate_is_nan():
    s = score_mixture(X0, {}, {})
    assert math.isnan(s.ca_sdri) and s.snri == [] and (s.tp, s.fp, s.fn) == (0, 0, 0) and s.label_match


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
    with pytest.raises(ValueError, match="two references with label 'Speech'"):
        score_mixture(X0, [("Speech", S1), ("Speech", S2)], {})
    with pytest.raises(ValueError, match="samples, the mixture has 4"):
        score_mixture(X0, REFS, {"Speech": np.zeros(5)})
    with pytest.raises(ValueError, match="NaN or Inf"):
        score_mixture(X0, REFS, {"Speech": np.array([np.nan, 0, 0, 0])})
    with pytest.raises(ValueError, match="at most 3 slots"):
        score_mixture(X0, REFS, {lab: E1 for lab in ["Speech", "Dishes", "Cough", "Typing"]})
    with pytest.raises(ValueError, match="at most 3 slots"):
        score_mixture(X0, REFS, [("Speech", E1)] * 4, edition=2026)
    with pytest.raises(ValueError, match="unknown edition 2024"):
        score_mixture(X0, REFS, {}, edition=2024)


def test_acc_mix_and_summary_by_hand():
    assert acc_mix([["Speech"], ["Dishes", "Cough"]], [["Speech", "silence"], ["Cough"]]) == 50.0
    scores = [score_mixture(X0, REFS, {"Speech": E1, "Dishes": E2}, name="a"),
              score_mixture(X0, REFS, {"Speech": E1}, name="b")]
    summary = summarize(scores)
    assert list(summary) == ["n_mixtures", "CA-SDRi", "SNRi", "Acc_mix", "Acc_src"]
    assert summary["n_mixtures"] == 2
    assert summary["CA-SDRi"] == pytest.approx((TWENTY + TWENTY / 2) / 2)
    assert summary["SNRi"] == pytest.approx((3 * TWENTY + 0) / 4)
    assert summary["Acc_mix"] == 50.0
    assert summary["Acc_src"] == pytest.approx(100 * 3 / 4)  # ΣTP 3, ΣFP 0, ΣFN 1
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


# ------------------------------------------------------------------ 2026 edition: CAPI-SDRi
def test_capi_two_references_of_one_class_and_one_estimate():
    # two Speech references (x₀ = s1 + s2: both at 0 dB), one Speech estimate close to s1:
    # the pairing with s1 (20 dB) wins over s2 (‖s2 − ê‖² = 1.81); one count-mismatch zero.
    refs = [("Speech", S1), ("Speech", S2)]
    s = score_mixture(X0, refs, [("Speech", E1)], edition=2026)
    assert s.capi_sdri == pytest.approx((TWENTY + 0.0) / 2, abs=1e-12)
    assert s.snri == pytest.approx([TWENTY, 0.0], abs=1e-12)
    assert (s.tp, s.fp, s.fn) == (1, 0, 1) and not s.label_match
    assert s.row()["capi_sdri"] == s.capi_sdri and "ca_sdri" not in s.row()


def test_capi_chooses_the_pairing_by_raw_snr_not_by_improvement():
    # s1 strong (SNR(x₀, s1) = +20 dB), s2 weak (−20 dB); the one estimate is nearer s1 in raw SNR
    # (10.46 vs −20.41 dB) but would gain more as s2's estimate (−0.41 vs −9.54 dB).
    s1, s2 = np.array([1.0, 0, 0, 0]), np.array([0, 0.1, 0, 0])
    x0, est = s1 + s2, np.array([1.0, 0, 0, 0.3])
    with_s1 = db(1, 0.09) - db(1, 0.01)
    with_s2 = db(0.01, 1.1) - db(0.01, 1.0)
    assert with_s2 > with_s1  # the improvement-based choice would differ
    s = score_mixture(x0, [("Cough", s1), ("Cough", s2)], [("Cough", est)], edition=2026)
    assert s.capi_sdri == pytest.approx(with_s1 / 2, abs=1e-12)


def test_capi_count_mismatch_adds_zeros_for_extra_estimates():
    s = score_mixture(X0, [("Speech", S1)], [("Speech", E2), ("Speech", E1)], edition=2026)
    assert s.capi_sdri == pytest.approx(TWENTY / 2, abs=1e-12)  # ê1 pairs with s1; ê2 is a zero
    assert (s.tp, s.fp, s.fn) == (1, 1, 0)


def test_capi_zero_target_mixtures():
    empty = score_mixture(X0, [], [("silence", np.zeros(4))] * 3, edition=2026)
    assert math.isnan(empty.capi_sdri) and empty.label_match
    with pytest.raises(ValueError, match="estimate 'Speech' of m: contains NaN"):
        score_mixture(X0, [], [("Speech", np.array([0, np.nan, 0, 0]))], name="m", edition=2026)
    false_alarm = score_mixture(X0, [], [("Speech", E1)], edition=2026)
    assert false_alarm.capi_sdri == 0.0 and (false_alarm.tp, false_alarm.fp, false_alarm.fn) == (0, 1, 0)
    good = score_mixture(X0, REFS, {"Speech": E1, "Dishes": E2}, edition=2026)
    summary = summarize([good, empty, false_alarm])  # no warning: empty answers are legal in 2026
    assert list(summary) == ["n_mixtures", "CAPI-SDRi", "SNRi", "Acc_mix", "Acc_src"]
    assert summary["CAPI-SDRi"] == pytest.approx((TWENTY + 0.0) / 2)  # the empty mixture has no value
    assert summary["Acc_mix"] == pytest.approx(200 / 3)
    assert summary["Acc_src"] == pytest.approx(100 * 2 / 3)  # ΣTP 2, ΣFP 1, ΣFN 0
    assert summary["SNRi"] == pytest.approx(TWENTY)  # only the good mixture has targets


def test_multiset_label_accuracies():
    refs, ests = [["Speech", "Speech", "Cough"], ["Cough"]], [["Speech", "Cough", "Cough"], ["Cough", "silence"]]
    assert acc_src(refs, ests) == pytest.approx(100 * 3 / 5)  # TP 2 + 1, FP 1, FN 1
    assert acc_mix(refs, ests) == 50.0
    # a set comparison would call the first mixture right
    assert acc_mix([["Speech", "Speech"]], [["Speech"]]) == 0.0


def test_2026_per_class_counts_repeated_classes():
    s = score_mixture(X0, [("Speech", S1), ("Speech", S2)], [("Speech", E1)], edition=2026)
    rows = {r["class"]: r for r in per_class_table([s])}
    assert (rows["Speech"]["n_ref"], rows["Speech"]["tp"], rows["Speech"]["fn"], rows["Speech"]["fp"]) == (2, 1, 1, 0)
    assert rows["Speech"]["ca_sdri_term"] == pytest.approx(TWENTY / 2)


def test_2025_data_scored_as_2026_gives_the_same_values():
    rng = np.random.default_rng(3)
    labels = ["Speech", "Typing", "Blender", "Cough"]
    for _ in range(50):
        n_ref, n_est = rng.integers(1, 4), rng.integers(0, 4)
        refs = {lab: rng.standard_normal(500) for lab in rng.choice(labels, n_ref, replace=False)}
        mixture = sum(refs.values()) + rng.standard_normal(500)
        ests = {lab: rng.standard_normal(500) + (refs[lab] if lab in refs else 0)
                for lab in rng.choice(labels, n_est, replace=False)}
        a, b = score_mixture(mixture, refs, ests), score_mixture(mixture, refs, ests, edition=2026)
        assert a.ca_sdri == b.capi_sdri and a.snri == b.snri


def _official_capi(mixture, refs, ests):
    """An independent formulation: torchmetrics' SNR (float32, as the official evaluation) and
    brute force over every choice of references and ordered estimates, per class."""
    import itertools

    import torch
    from torchmetrics.functional import signal_noise_ratio

    def t(x):
        return torch.tensor(np.asarray(x), dtype=torch.float32)

    labels = {lab for lab, _ in refs} | {lab for lab, _ in ests}
    if not labels:
        return None
    terms = []
    for lab in labels:
        r = [t(w) for x, w in refs if x == lab]
        e = [t(w) for x, w in ests if x == lab]
        k = min(len(r), len(e))
        best = None
        for rows in itertools.combinations(range(len(r)), k):
            for cols in itertools.permutations(range(len(e)), k):
                raw = [float(signal_noise_ratio(e[j], r[i])) for i, j in zip(rows, cols)]
                imp = [x - float(signal_noise_ratio(t(mixture), r[i])) for x, i in zip(raw, rows)]
                if k and (best is None or np.mean(raw) > best[0]):
                    best = (np.mean(raw), imp)
        terms += (best[1] if best else []) + [0.0] * abs(len(r) - len(e))
    return float(np.mean(terms))


def test_capi_agrees_with_an_independent_formulation():
    pytest.importorskip("torchmetrics")
    rng = np.random.default_rng(11)
    classes = ["Speech", "Typing", "Cough"]
    n_checked = 0
    for _ in range(300):
        refs = [(str(rng.choice(classes)), rng.standard_normal(256)) for _ in range(rng.integers(0, 4))]
        mixture = sum((w for _, w in refs), np.zeros(256)) + 0.5 * rng.standard_normal(256)
        ests = []
        for _ in range(rng.integers(0, 4)):
            if refs and rng.random() < 0.7:  # a noisy copy of some reference, sometimes mislabelled
                lab, w = refs[rng.integers(len(refs))]
                lab = lab if rng.random() < 0.8 else str(rng.choice(classes))
                ests.append((lab, w + rng.uniform(0.1, 1.0) * rng.standard_normal(256)))
            else:
                ests.append((str(rng.choice(classes)), rng.standard_normal(256)))
        mixture32 = mixture.astype(np.float32)  # the official code sees float32 audio
        refs32 = [(lab, w.astype(np.float32)) for lab, w in refs]
        ests32 = [(lab, w.astype(np.float32)) for lab, w in ests]
        expected = _official_capi(mixture32, refs32, ests32)
        got = score_mixture(mixture32, refs32, ests32, edition=2026).capi_sdri
        if expected is None:
            assert math.isnan(got)
        else:
            assert got == pytest.approx(expected, abs=1e-4)
            n_checked += 1
    assert n_checked > 250


def test_bss_sdr_is_high_for_good_estimate():
    pytest.importorskip("mir_eval")
    from s5bench.metrics.bss import bss_sdr

    rng = np.random.default_rng(0)
    ref = rng.standard_normal((1, 4000))
    out = bss_sdr(ref + 0.01 * rng.standard_normal((1, 4000)), ref)
    assert out.shape == (1,) and out[0] > 30
