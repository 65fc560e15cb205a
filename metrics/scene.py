"""Scene-level S5 metrics for both editions: CA-SDRi / CAPI-SDRi, SNRi, Acc_src, Acc_mix.

Definitions (docs/task.md §4 and §7; the official evaluation's):
- CAPI-SDRi (2026 ranking metric): per class c of C ∪ Ĉ, with E_c estimates and R_c references
  of c and k = min(E_c, R_c), the k reference–estimate pairs with the largest MEAN raw SNR(ŝ, s)
  (first maximum in the official enumeration order on ties) each score SNR(ŝ, s) − SNR(x₀, s);
  |E_c − R_c| zeros are added. The mixture's value is the mean of all these terms; a mixture
  with no label on either side has none (NaN here, null in the official JSON).
- CA-SDRi (2025 ranking metric) is the same computation: with no class repeated, every class
  has at most one pair, so CAPI-SDRi = CA-SDRi on 2025 data.
- SNRi (revised, both editions): each active target is matched to at most one non-silent
  estimate by the one-to-one assignment that maximises the summed raw SNR (waveforms only); a
  matched target scores SNR(ŝ, s) − SNR(x₀, s), an unmatched one 0 dB. Data-set mean over all
  active targets, so doing nothing scores exactly 0 dB.
- Acc_src (revised, both editions; the official 2026 label metric): pooled
  100·ΣTP/(ΣTP + ΣFP + ΣFN) over label multisets. Acc_mix: label multisets equal.
`silence` never counts as a label. 2025 refuses a class given twice (references or estimates);
2026 allows it.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations, permutations

import numpy as np
from scipy.optimize import linear_sum_assignment

from s5bench.common.editions import check_edition, edition_of, ranking_metric
from s5bench.common.labels import N_SLOTS, SILENCE, check_label

from .accuracy import label_counts
from .signal import EPS_FLOAT32


def _blas_dot(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


def _loop_dot(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.einsum("i,i->", a, b))


_dot = _blas_dot  # inner products of the scoring; see use_one_thread


def use_one_thread() -> None:
    """Score with numpy's own single-threaded loop instead of BLAS in this process (for good).

    BLAS threads would fight over the cores when several scoring processes run (`metrics.folders`
    calls this in each worker): 3-4x faster there, while BLAS is 4x faster for one process alone.
    The figures are the same either way up to float rounding."""
    global _dot
    _dot = _loop_dot


def _array(x) -> np.ndarray:
    """A numpy view of an array or a torch tensor, in its own dtype (rows are converted once, below)."""
    if type(x).__module__.startswith("torch"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _labelled(items, what: str, name: str, edition: int, allow_silence: bool) -> list[tuple[str, object]]:
    """A {label: wave} dict or a list of (label, wave) -> [(label, wave)] without silence."""
    pairs = list(items.items()) if isinstance(items, dict) else list(items)
    out = []
    for label, wave in pairs:
        check_label(label, where=f"{what} of {name}" if name else what)
        if label == SILENCE:
            if not allow_silence:
                raise ValueError(f"{name or 'mixture'}: 'silence' cannot be a reference target")
            continue
        out.append((label, wave))
    labels = [lab for lab, _ in out]
    if not edition_of(edition).repeated_classes and len(set(labels)) != len(labels):
        twice = sorted(lab for lab, n in Counter(labels).items() if n > 1)
        raise ValueError(f"{name or 'mixture'}: two {what} with label {twice[0]!r} (a class may occur only once "
                         "in the 2025 edition; score as 2026 for repeated classes)")
    return out


@dataclass
class MixtureScore:
    """One mixture's scores, from which the data-set figures and the per-class tables are built.

    Attributes:
        soundscape: the mixture's name.
        edition: 2025 or 2026 (the rules it was scored by).
        capi_sdri: CAPI-SDRi (2026) / CA-SDRi (2025) in dB; NaN when neither side has a label.
        snri: SNRi in dB of each reference target, in reference order (0 for one left unmatched).
        ref_labels, est_labels: the reference and the non-silent estimated labels, in input order.
        class_terms: per class, its terms of the ranking metric in dB (pair SDRi, 0 per miss or false alarm).
        pair_sdri: per class, the SDRi in dB of its matched reference-estimate pairs only.
    """

    soundscape: str
    edition: int
    capi_sdri: float  # CA-SDRi in 2025; NaN for a mixture without any label
    snri: list[float]  # one value per active target (0 for an unmatched one)
    ref_labels: list[str]
    est_labels: list[str]
    class_terms: dict[str, list[float]] = field(default_factory=dict)  # CAPI terms of each class
    pair_sdri: dict[str, list[float]] = field(default_factory=dict)  # SDRi of each matched pair, by class

    @property
    def ca_sdri(self) -> float:
        """The ranking metric in dB under its 2025 name (the same value as `capi_sdri`)."""
        return self.capi_sdri

    @property
    def tp(self) -> int:
        """True positives: labels in both multisets (a class twice on both sides counts twice)."""
        return label_counts(self.ref_labels, self.est_labels)[0]

    @property
    def fp(self) -> int:
        """False positives: estimated labels beyond the reference's (multisets)."""
        return label_counts(self.ref_labels, self.est_labels)[1]

    @property
    def fn(self) -> int:
        """False negatives: reference labels beyond the estimate's (multisets)."""
        return label_counts(self.ref_labels, self.est_labels)[2]

    @property
    def label_match(self) -> bool:
        """Whether the estimated label multiset equals the reference's (what Acc_mix counts)."""
        return Counter(self.ref_labels) == Counter(self.est_labels)

    def row(self) -> dict:
        """This mixture's row of `per_mixture.csv`.

        Returns:
            {"soundscape", the ranking metric ("ca_sdri" or "capi_sdri", dB), "snri" (mean, dB;
            NaN without targets), "acc_src" (%), "label_match", "n_ref", "n_est", "tp", "fp",
            "fn", "ref_labels", "est_labels" (';'-joined)}.
        """
        n = self.tp + self.fp + self.fn
        return {
            "soundscape": self.soundscape,
            ranking_metric(self.edition).lower().replace("-", "_"): self.capi_sdri,
            "snri": float(np.mean(self.snri)) if self.snri else math.nan,
            "acc_src": 100.0 * self.tp / n if n else math.nan,
            "label_match": self.label_match,
            "n_ref": len(self.ref_labels),
            "n_est": len(self.est_labels),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "ref_labels": ";".join(self.ref_labels),
            "est_labels": ";".join(self.est_labels),
        }


def best_class_pairing(pair_snr: np.ndarray) -> tuple[list[int], list[int]]:
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
        >>> from s5bench.metrics.scene import best_class_pairing
        >>> best_class_pairing(np.array([[1.0, 5.0], [4.0, 3.0]]))  # mean (5 + 4) / 2 beats (1 + 3) / 2
        ([0, 1], [1, 0])
    """
    R, E = pair_snr.shape
    k = min(R, E)
    best, best_mean = None, -math.inf
    for rows in combinations(range(R), k):
        for cols in permutations(range(E), k):
            mean = pair_snr[list(rows), list(cols)].mean()
            if best is None or mean > best_mean:  # the first stands when no mean beats it (all -inf)
                best, best_mean = (list(rows), list(cols)), mean
    assert best is not None  # combinations and permutations of k ≤ R, E yield at least one choice
    return best


def score_mixture(mixture, refs, ests, *, name: str = "", edition: int = 2025, n_slots: int = N_SLOTS,
                  eps: float = EPS_FLOAT32) -> MixtureScore:
    """Score one mixture: CA-SDRi / CAPI-SDRi, SNRi and the label multisets (module docstring).

    Args:
        mixture: channel 0 of the mixture, shape (samples,), or the multichannel mixture
            (channels, samples) whose row 0 is used; 32 kHz in the challenge (any rate, the same
            for all signals).
        refs: reference targets, {label: (samples,) waveform} or a list of (label, waveform);
            2026 lists may repeat a label.
        ests: estimates in the same form; `silence` estimates and a waveform of None are ignored.
        name: the mixture's name, used in error messages and kept in the score.
        edition: 2025 or 2026 (whether a class may occur twice).
        n_slots: the most non-silent estimates allowed.
        eps: added to both energies of every SNR (see `metrics.signal.snr`).

    Waveforms may be numpy arrays or torch tensors; they are compared in float64.

    Returns:
        The mixture's MixtureScore (all figures in dB).

    Raises:
        ValueError: If the edition is unknown; a label is unknown, or `silence` is a reference; a
            2025 class is given twice on one side; there are more than `n_slots` non-silent
            estimates; a waveform is not mono or not as long as the mixture; or a signal holds
            NaN or Inf. The message names the mixture and the signal.

    Example:
        >>> import numpy as np
        >>> from s5bench.metrics.scene import score_mixture
        >>> s = np.array([5.0, 5.0, 5.0, 5.0])  # the target, energy 100
        >>> x0 = s + np.array([5.0, -5.0, 5.0, -5.0])  # SNR(x0, s) = 10·log10(100 / 100) = 0 dB
        >>> est = s + np.array([0.5, -0.5, 0.5, -0.5])  # SNR(est, s) = 10·log10(100 / 1) = 20 dB
        >>> one = score_mixture(x0, {"Speech": s}, {"Speech": est, "Doorbell": np.zeros(4)})
        >>> round(one.capi_sdri, 4), (one.tp, one.fp, one.fn)  # (20 + 0 for the false alarm) / 2
        (10.0, (1, 1, 0))

        In 2026 a class may repeat: the second Speech target x0 − s is missed (a 0 term, SNRi 0).

        >>> two = score_mixture(x0, [("Speech", s), ("Speech", x0 - s)], [("Speech", est)], edition=2026)
        >>> round(two.capi_sdri, 4), [round(v, 4) for v in two.snri], (two.tp, two.fp, two.fn)
        (10.0, [20.0, 0.0], (1, 0, 1))
    """
    edition = check_edition(edition)
    x0, refs, ests = _checked_inputs(mixture, refs, ests, name, edition, n_slots)
    ref_labels, est_labels = [lab for lab, _ in refs], [lab for lab, _ in ests]
    if not refs:  # nothing to compare with: every estimate is a false alarm (a zero term)
        terms = {lab: [0.0] * est_labels.count(lab) for lab in sorted(set(est_labels))}
        return MixtureScore(name, edition, 0.0 if ests else math.nan, [], ref_labels, est_labels, terms,
                            {lab: [] for lab in terms})
    pair_snr, mix_snr = _pair_snrs(x0, refs, ests, name or "mixture", eps)
    improvement = pair_snr - np.asarray(mix_snr)[:, None]  # SDRi of every (reference, estimate) pair
    class_terms, pair_sdri = _capi_terms(ref_labels, est_labels, pair_snr, improvement)
    terms = [v for values in class_terms.values() for v in values]
    capi = float(np.mean(terms)) if terms else math.nan
    return MixtureScore(name, edition, capi, _snri_values(pair_snr, improvement), ref_labels, est_labels,
                        class_terms, pair_sdri)


def _checked_inputs(mixture, refs, ests, name: str, edition: int, n_slots: int):
    """Channel 0 of the mixture, and the labelled references and non-silent estimates, checked
    (labels, repeats by the edition's rule, the slot count; an estimate of a mixture without
    references checked for NaN here, the others from the Gram diagonal)."""
    where = name or "mixture"
    x0 = _array(mixture)
    x0 = x0[0] if x0.ndim == 2 else x0
    refs = _labelled(refs, "references", name, edition, allow_silence=False)
    ests = [(lab, w) for lab, w in _labelled(ests, "estimates", name, edition, allow_silence=True) if w is not None]
    if len(ests) > n_slots:
        raise ValueError(f"{where}: {len(ests)} non-silent estimates, at most {n_slots} slots allowed")
    if not refs:
        for lab, wave in ests:
            if not np.isfinite(_checked(wave, x0.shape[-1], f"estimate {lab!r} of {where}")).all():
                raise ValueError(f"estimate {lab!r} of {where}: contains NaN or Inf samples")
    return x0, refs, ests


def _pair_snrs(x0, refs, ests, where: str, eps: float) -> tuple[np.ndarray, list[float]]:
    """(SNR of every estimate against every reference (R, E), SNR of x₀ against each reference).

    Rows x₀, the references, the estimates are converted to float64 once; energies and the inner
    products that are needed come from BLAS dot products (each a single pass)."""
    n_ref, length = len(refs), x0.shape[-1]
    names = ([f"mixture {where}"] + [f"reference {lab!r} of {where}" for lab, _ in refs]
             + [f"estimate {lab!r} of {where}" for lab, _ in ests])
    rows = np.empty((len(names), length))
    rows[0] = x0
    for k, (what, (_, wave)) in enumerate(zip(names[1:], refs + ests), start=1):
        rows[k] = _checked(wave, length, what)
    energy = np.array([_dot(row, row) for row in rows])
    if not np.isfinite(energy).all():
        bad = int(np.flatnonzero(~np.isfinite(energy))[0])
        raise ValueError(f"{names[bad]}: contains NaN or Inf samples")

    def snr_rows(e: int, r: int) -> float:
        """SNR(row e, row r) in dB; the error energy from the inner product, or from an explicit
        difference where the estimate is so close that the subtraction would lose digits."""
        err = energy[r] + energy[e] - 2.0 * _dot(rows[r], rows[e])
        if err < 1e-3 * (energy[r] + energy[e]):  # above ≈ 27 dB: recompute exactly
            diff = rows[r] - rows[e]
            err = _dot(diff, diff)
        return float(10 * np.log10((energy[r] + eps) / (max(err, 0.0) + eps)))

    pair_snr = np.array([[snr_rows(1 + n_ref + j, 1 + i) for j in range(len(ests))] for i in range(n_ref)])
    return pair_snr.reshape(n_ref, len(ests)), [snr_rows(0, 1 + i) for i in range(n_ref)]


def _capi_terms(ref_labels, est_labels, pair_snr: np.ndarray, improvement: np.ndarray) -> tuple[dict, dict]:
    """CAPI-SDRi (= CA-SDRi without repeated classes): per class, the SDRi of its best pairing
    (largest mean raw SNR, official order) plus |E − R| zeros; and the pairs' SDRi alone."""
    class_terms, pair_sdri = {}, {}
    for lab in sorted(set(ref_labels) | set(est_labels)):
        ri = [i for i, x in enumerate(ref_labels) if x == lab]
        ej = [j for j, x in enumerate(est_labels) if x == lab]
        pairs = []
        if ri and ej:
            picked_refs, picked_ests = best_class_pairing(pair_snr[np.ix_(ri, ej)])
            pairs = [float(improvement[ri[r], ej[c]]) for r, c in zip(picked_refs, picked_ests)]
        pair_sdri[lab] = pairs
        class_terms[lab] = pairs + [0.0] * abs(len(ri) - len(ej))
    return class_terms, pair_sdri


def _snri_values(pair_snr: np.ndarray, improvement: np.ndarray) -> list[float]:
    """SNRi: the waveform-only one-to-one assignment of estimates to targets with the largest
    summed SNR; a matched target scores its SDRi, a target left over 0."""
    values = [0.0] * pair_snr.shape[0]
    if pair_snr.size:
        for i, j in zip(*linear_sum_assignment(pair_snr, maximize=True)):
            values[i] = float(improvement[i, j])
    return values


def _checked(wave, length: int, what: str) -> np.ndarray:
    """A mono waveform of the mixture's length (NaN/Inf are caught from the Gram diagonal)."""
    wave = _array(wave)
    if wave.ndim != 1:
        raise ValueError(f"{what}: expected a mono waveform, got shape {wave.shape}")
    if wave.shape[0] != length:
        raise ValueError(f"{what}: {wave.shape[0]} samples, the mixture has {length}")
    return wave


def ca_sdri(mixture, refs, ests, **kw) -> float:
    """CA-SDRi (2025) / CAPI-SDRi (2026) of one mixture in dB; `capi_sdri` is the same function.

    Args:
        mixture, refs, ests: as `score_mixture`'s (channel 0 (samples,) or (channels, samples);
            {label: waveform} or [(label, waveform)]).
        **kw: `score_mixture`'s keywords (name, edition, n_slots, eps).

    Returns:
        The mean of the class terms in dB: each matched pair's SDRi, 0 per miss or false alarm;
        NaN when neither side has a label.

    Raises:
        ValueError: As `score_mixture`.

    Example:
        >>> import numpy as np
        >>> from s5bench.metrics.scene import ca_sdri
        >>> s = np.array([5.0, 5.0, 5.0, 5.0])
        >>> x0 = s + np.array([5.0, -5.0, 5.0, -5.0])  # SNR(x0, s) = 0 dB
        >>> est = s + np.array([0.5, -0.5, 0.5, -0.5])  # SNR(est, s) = 20 dB
        >>> round(ca_sdri(x0, {"Speech": s}, {"Speech": est}), 4)  # SDRi 20 − 0
        20.0
        >>> round(ca_sdri(x0, {"Speech": s}, {"Doorbell": est}), 4)  # a miss and a false alarm
        0.0
    """
    return score_mixture(mixture, refs, ests, **kw).capi_sdri


capi_sdri = ca_sdri


def snri(mixture, refs, ests, **kw) -> list[float]:
    """SNRi in dB of each reference target of one mixture, whatever the labels.

    Each target is matched to at most one non-silent estimate by the one-to-one assignment of
    largest summed raw SNR (waveforms only); it scores SNR(ŝ, s) − SNR(x₀, s), or 0 if unmatched.

    Args:
        mixture, refs, ests: as `score_mixture`'s.
        **kw: `score_mixture`'s keywords (name, edition, n_slots, eps).

    Returns:
        One value in dB per reference, in reference order.

    Raises:
        ValueError: As `score_mixture`.

    Example:
        >>> import numpy as np
        >>> from s5bench.metrics.scene import snri
        >>> s = np.array([5.0, 5.0, 5.0, 5.0])
        >>> x0 = s + np.array([5.0, -5.0, 5.0, -5.0])  # SNR(x0, s) = 0 dB
        >>> est = s + np.array([0.5, -0.5, 0.5, -0.5])  # SNR(est, s) = 20 dB
        >>> [round(v, 4) for v in snri(x0, {"Speech": s}, {"Doorbell": est})]  # the label plays no part
        [20.0]
    """
    return score_mixture(mixture, refs, ests, **kw).snri
