"""Scene-level S5 metrics: CA-SDRi, SNRi, Acc_src, Acc_mix and per-class breakdowns.

Definitions follow the official DCASE 2025 Task 4 evaluation (see S5_REFERENCE.md §4):
- CA-SDRi: mean over C ∪ Ĉ of P_k, with P_k = SNR(ŝ_k, s_k) − SNR(x₀, s_k) for a correctly
  detected class and 0 for a false positive or a false negative. `silence` is ignored.
- SNRi and Acc_src: the system's slots are matched to the active targets by the one-to-one
  assignment that maximises the summed SNR, on waveforms only (a slot labelled silence counts
  as a zero waveform, whose SNR is exactly 0 dB). Unmatched slots face silent reference slots.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from common.labels import LABELS, N_SLOTS, SILENCE, check_label

from .signal import EPS_FLOAT32, snr


def _as_numpy(x) -> np.ndarray:
    if type(x).__module__.startswith("torch"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def _as_slots(ests, n_slots: int, name: str) -> list[tuple[str, np.ndarray | None]]:
    """Normalise estimates (a {label: wave} dict or a list of (label, wave) slots) to slots."""
    items = list(ests.items()) if isinstance(ests, dict) else list(ests)
    slots, seen = [], set()
    for label, wave in items:
        check_label(label, where=f"estimates of {name}" if name else "estimates")
        if label == SILENCE:
            continue
        if label in seen:
            raise ValueError(f"{name or 'mixture'}: two estimates with label {label!r}")
        seen.add(label)
        slots.append((label, wave))
    if len(slots) > n_slots:
        raise ValueError(f"{name or 'mixture'}: {len(slots)} non-silent estimates, at most {n_slots} slots allowed")
    return slots + [(SILENCE, None)] * (n_slots - len(slots))


@dataclass
class MixtureScore:
    """Everything the data-set figures and the per-class tables are built from."""

    soundscape: str
    ca_sdri: float
    snri: list[float]
    slots_correct: int
    n_slots: int
    ref_labels: list[str]
    est_labels: list[str]
    class_sdri: dict[str, float] = field(default_factory=dict)  # SDRi of each true positive class

    @property
    def tp_labels(self) -> set[str]:
        return set(self.ref_labels) & set(self.est_labels)

    @property
    def fp_labels(self) -> set[str]:
        return set(self.est_labels) - set(self.ref_labels)

    @property
    def fn_labels(self) -> set[str]:
        return set(self.ref_labels) - set(self.est_labels)

    @property
    def label_match(self) -> bool:
        return set(self.ref_labels) == set(self.est_labels)

    def row(self) -> dict:
        return {
            "soundscape": self.soundscape,
            "ca_sdri": self.ca_sdri,
            "snri": float(np.mean(self.snri)) if self.snri else math.nan,
            "acc_src": 100.0 * self.slots_correct / self.n_slots,
            "label_match": self.label_match,
            "n_ref": len(self.ref_labels),
            "n_est": len(self.est_labels),
            "tp": len(self.tp_labels),
            "fp": len(self.fp_labels),
            "fn": len(self.fn_labels),
            "ref_labels": ";".join(self.ref_labels),
            "est_labels": ";".join(self.est_labels),
        }


def score_mixture(mixture, refs: dict, ests, *, name: str = "", n_slots: int = N_SLOTS,
                  eps: float = EPS_FLOAT32) -> MixtureScore:
    """Score one mixture.

    mixture: channel 0 of the mixture, (T,), or the multichannel mixture (C, T) whose row 0 is used.
    refs: {label: (T,) oracle target}. ests: {label: (T,)} or a list of (label, (T,)) slots;
    `silence` slots and missing slots are silent. Numpy arrays or torch tensors.
    """
    x0 = _as_numpy(mixture)
    x0 = x0[0] if x0.ndim == 2 else x0
    length = x0.shape[-1]
    ref_labels = [check_label(lab, where=f"references of {name}") for lab in refs]
    if SILENCE in ref_labels:
        raise ValueError(f"{name or 'mixture'}: 'silence' cannot be a reference target")
    ref_waves = np.array([_checked(refs[lab], length, f"reference {lab!r} of {name or 'mixture'}")
                          for lab in ref_labels]).reshape(len(ref_labels), length)
    slots = _as_slots(ests, n_slots, name)
    slot_waves = np.zeros((n_slots, length))
    for j, (lab, wave) in enumerate(slots):
        if lab != SILENCE and wave is not None:
            slot_waves[j] = _checked(wave, length, f"estimate {lab!r} of {name or 'mixture'}")
    est_labels = [lab for lab, _ in slots if lab != SILENCE]

    # SNR of every (reference, slot) pair, from inner products (one BLAS call), to choose the
    # assignment; the SNRs that are reported are then recomputed from explicit differences.
    ref_energy = np.einsum("it,it->i", ref_waves, ref_waves)
    slot_energy = np.einsum("jt,jt->j", slot_waves, slot_waves)
    err = np.maximum(ref_energy[:, None] + slot_energy[None, :] - 2.0 * ref_waves @ slot_waves.T, 0.0)
    pair_snr = 10 * np.log10((ref_energy[:, None] + eps) / (err + eps))  # (n_ref, n_slots)
    mix_snr = np.array([snr(x0, r, eps=eps) for r in ref_waves])

    def exact(i, j):
        return float(snr(slot_waves[j], ref_waves[i], eps=eps) - mix_snr[i])

    # CA-SDRi: label-matched pairs improve, every miss and false alarm scores 0.
    slot_of = {lab: j for j, (lab, _) in enumerate(slots) if lab != SILENCE}
    class_sdri = {lab: exact(i, slot_of[lab]) for i, lab in enumerate(ref_labels) if lab in slot_of}
    n_union = len(set(ref_labels) | set(est_labels))
    ca = sum(class_sdri.values()) / n_union if n_union else math.nan

    # SNRi and Acc_src: waveform-only assignment of slots to active targets.
    rows, cols = linear_sum_assignment(pair_snr, maximize=True) if len(ref_labels) else ([], [])
    snri_values = [exact(i, j) for i, j in zip(rows, cols)]
    correct = sum(slots[j][0] == ref_labels[i] for i, j in zip(rows, cols))
    unmatched = set(range(n_slots)) - set(cols)
    correct += sum(slots[j][0] == SILENCE for j in unmatched)
    return MixtureScore(name, ca, snri_values, int(correct), n_slots, ref_labels, est_labels, class_sdri)


def _checked(wave, length: int, what: str) -> np.ndarray:
    wave = _as_numpy(wave)
    if wave.ndim != 1:
        raise ValueError(f"{what}: expected a mono waveform, got shape {wave.shape}")
    if wave.shape[0] != length:
        raise ValueError(f"{what}: {wave.shape[0]} samples, the mixture has {length}")
    if not np.isfinite(wave).all():
        raise ValueError(f"{what}: contains NaN or Inf samples")
    return wave


def ca_sdri(mixture, refs: dict, ests, **kw) -> float:
    """CA-SDRi of one mixture in dB."""
    return score_mixture(mixture, refs, ests, **kw).ca_sdri


def snri(mixture, refs: dict, ests, **kw) -> list[float]:
    """SNRi in dB of each active target of one mixture, after the waveform-only assignment."""
    return score_mixture(mixture, refs, ests, **kw).snri


def acc_src(mixture, refs: dict, ests, **kw) -> float:
    """Percentage of the mixture's slots whose label is right after the assignment."""
    s = score_mixture(mixture, refs, ests, **kw)
    return 100.0 * s.slots_correct / s.n_slots


def acc_mix(ref_label_sets, est_label_sets) -> float:
    """Percentage of mixtures whose predicted label set equals the true one (silence ignored)."""
    pairs = list(zip(ref_label_sets, est_label_sets, strict=True))
    if not pairs:
        raise ValueError("acc_mix of an empty data set")
    hits = sum((set(r) - {SILENCE}) == (set(e) - {SILENCE}) for r, e in pairs)
    return 100.0 * hits / len(pairs)


def summarize(scores: list[MixtureScore]) -> dict:
    """The data set's figures: columns n_mixtures, CA-SDRi, SNRi, Acc_mix, Acc_src."""
    if not scores:
        raise ValueError("no mixtures to summarise")
    ca = np.array([s.ca_sdri for s in scores])
    n_nan = int(np.isnan(ca).sum())
    if n_nan:
        warnings.warn(f"{n_nan} mixture(s) have neither reference nor estimated targets; their CA-SDRi is "
                      "undefined (NaN, as in the official code) and they are left out of the CA-SDRi mean")
    snri_all = [v for s in scores for v in s.snri]
    return {
        "n_mixtures": len(scores),
        "CA-SDRi": float(np.nanmean(ca)) if n_nan < len(scores) else math.nan,
        "SNRi": float(np.mean(snri_all)) if snri_all else math.nan,
        "Acc_mix": acc_mix([s.ref_labels for s in scores], [s.est_labels for s in scores]),
        "Acc_src": 100.0 * sum(s.slots_correct for s in scores) / sum(s.n_slots for s in scores),
    }


def per_class_table(scores: list[MixtureScore]) -> list[dict]:
    """One row per class: support, TP/FP/FN counts, mean SDRi over true positives and the
    class's mean CA-SDRi term (its SDRi where detected, 0 for each miss or false alarm)."""
    rows = []
    for lab in LABELS:
        tp_values = [s.class_sdri[lab] for s in scores if lab in s.class_sdri]
        fp = sum(lab in s.fp_labels for s in scores)
        fn = sum(lab in s.fn_labels for s in scores)
        n_terms = len(tp_values) + fp + fn
        rows.append({
            "class": lab,
            "n_ref": len(tp_values) + fn,
            "tp": len(tp_values),
            "fp": fp,
            "fn": fn,
            "mean_sdri_tp": float(np.mean(tp_values)) if tp_values else math.nan,
            "ca_sdri_term": float(sum(tp_values) / n_terms) if n_terms else math.nan,
        })
    return rows
