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
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, TypeVar, Union, cast

import numpy as np
import numpy.typing as npt

from s5bench.common.editions import check_edition, edition_of
from s5bench.common.errors import S5Error
from s5bench.common.labels import N_SLOTS, SILENCE, check_label

from .assignment import best_assignment, best_class_pairing
from .gram import Dot, Gram, gram_of_rows
from .mixture_score import MixtureScore
from .signal import EPS_FLOAT32

if TYPE_CHECKING:
    import torch

    # A waveform as the scoring functions take it: anything numpy reads, or a torch tensor.
    Waveform = Union[npt.ArrayLike, torch.Tensor]

FloatArray = npt.NDArray[np.float64]
W = TypeVar("W")  # what a label comes with: a waveform, or a path


def blas_dot(a: FloatArray, b: FloatArray) -> float:
    """The inner product of two rows through BLAS: the fastest for one scoring process.

    Args:
        a: a float64 row, shape (samples,).
        b: another, of the same shape.

    Returns:
        ⟨a, b⟩.
    """
    return float(a @ b)


def loop_dot(a: FloatArray, b: FloatArray) -> float:
    """The inner product of two rows through numpy's own single-threaded loop.

    For scoring worker processes: BLAS threads in several processes fight over the cores (3-4x
    slower there), while BLAS is 4x faster for one process alone. The figures are the same
    either way up to float rounding.

    Args:
        a: a float64 row, shape (samples,).
        b: another, of the same shape.

    Returns:
        ⟨a, b⟩.
    """
    return float(np.einsum("i,i->", a, b))


def _array(x: Waveform) -> npt.NDArray[np.generic]:
    """A numpy view of an array or a torch tensor, in its own dtype (rows are converted once, below)."""
    if type(x).__module__.startswith("torch"):
        return cast("torch.Tensor", x).detach().cpu().numpy()
    return np.asarray(x)


def _check_labels(labels: list[str], what: str, name: str, edition: int) -> None:
    """Known labels, none `silence`, and no class twice where the edition forbids it."""
    for label in labels:
        check_label(label, where=f"{what} of {name}" if name else what)
        if label == SILENCE:
            raise S5Error(f"{name or 'mixture'}: 'silence' cannot be a reference target" if what == "references"
                          else f"{name or 'mixture'}: a 'silence' estimate has no waveform to score")
    if not edition_of(edition).repeated_classes and len(set(labels)) != len(labels):
        twice = sorted(lab for lab, n in Counter(labels).items() if n > 1)
        raise S5Error(f"{name or 'mixture'}: two {what} with label {twice[0]!r} (a class may occur only once "
                      "in the 2025 edition; score as 2026 for repeated classes)")


def _labelled(items: Mapping[str, W] | Iterable[tuple[str, W]], what: str, name: str, edition: int,
              allow_silence: bool) -> list[tuple[str, W]]:
    """A {label: wave} dict or a list of (label, wave) -> [(label, wave)] without silence."""
    if isinstance(items, Mapping):
        pairs = list(cast("Mapping[str, W]", items).items())
    else:
        pairs = list(items)
    out: list[tuple[str, W]] = []
    for label, wave in pairs:
        check_label(label, where=f"{what} of {name}" if name else what)
        if label == SILENCE:
            if not allow_silence:
                raise S5Error(f"{name or 'mixture'}: 'silence' cannot be a reference target")
            continue
        out.append((label, wave))
    _check_labels([lab for lab, _ in out], what, name, edition)
    return out


def score_mixture(mixture: Waveform, refs: Mapping[str, Waveform] | Iterable[tuple[str, Waveform]],
                  ests: Mapping[str, Waveform | None] | Iterable[tuple[str, Waveform | None]], *, name: str = "",
                  edition: int = 2025, n_slots: int = N_SLOTS, eps: float = EPS_FLOAT32,
                  dot: Dot = blas_dot) -> MixtureScore:
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
        dot: the inner product of two float64 rows (`blas_dot`, or `loop_dot` where several processes score at once).

    Waveforms may be numpy arrays or torch tensors; they are compared in float64.

    Returns:
        The mixture's MixtureScore (all figures in dB).

    Raises:
        S5Error: If the edition is unknown; a label is unknown, or `silence` is a reference; a
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
    where = name or "mixture"
    x0 = _array(mixture)
    x0 = x0[0] if x0.ndim == 2 else x0
    ref_items = _labelled(refs, "references", name, edition, allow_silence=False)
    est_items = [(lab, w) for lab, w in _labelled(ests, "estimates", name, edition, allow_silence=True)
                 if w is not None]
    if len(est_items) > n_slots:
        raise S5Error(f"{where}: {len(est_items)} non-silent estimates, at most {n_slots} slots allowed")
    row_names = ([f"mixture {where}"] + [f"reference {lab!r} of {where}" for lab, _ in ref_items]
                 + [f"estimate {lab!r} of {where}" for lab, _ in est_items])
    length = x0.shape[-1]
    rows = np.empty((len(row_names), length))  # x0, the references, the estimates: converted to float64 once
    rows[0] = _checked(x0, length, row_names[0])
    for k, (what, (_, wave)) in enumerate(zip(row_names[1:], [*ref_items, *est_items]), start=1):
        rows[k] = _checked(wave, length, what)
    return score_rows(rows, [lab for lab, _ in ref_items], [lab for lab, _ in est_items], name=name,
                      edition=edition, n_slots=n_slots, row_names=row_names, eps=eps, dot=dot)


def score_rows(rows: FloatArray, ref_labels: list[str], est_labels: list[str], *, name: str = "",
               edition: int = 2025, n_slots: int = N_SLOTS, row_names: list[str] | None = None,
               eps: float = EPS_FLOAT32, dot: Dot = blas_dot) -> MixtureScore:
    """Score one mixture whose signals are the rows of one float64 matrix (`score_mixture`'s work).

    The energies and the inner products that are needed come from `dot` (each a single pass over
    two rows); the error energy of a pair closer than ≈ 27 dB is recomputed from its explicit
    difference, where the inner product would lose digits. The matrix is only read.

    Args:
        rows: shape (1 + R + E, samples): channel 0 of the mixture, the R references, the E
            non-silent estimates; any sample rate (the same for all).
        ref_labels: the references' labels, in row order (2026: a label may repeat).
        est_labels: the estimates' labels, in row order, `silence` left out.
        name: the mixture's name, used in error messages and kept in the score.
        edition: 2025 or 2026 (whether a class may occur twice).
        n_slots: the most estimates allowed.
        row_names: what to call each row in an error message (default "mixture <name>",
            "reference 'Speech' of <name>", …; `metrics.folders` gives the file paths).
        eps: added to both energies of every SNR (see `metrics.signal.snr`).
        dot: the inner product of two rows (`blas_dot`, or `loop_dot` where several processes score at once).

    Returns:
        The mixture's MixtureScore (all figures in dB).

    Raises:
        S5Error: If the edition or a label is unknown; `silence` is given on either side; a
            2025 class is given twice on one side; there are more than `n_slots` estimates; or a
            row holds NaN or Inf (the message names it).
        ValueError: If the number of rows is not 1 + R + E (the caller's bug).

    Example:
        >>> import numpy as np
        >>> from s5bench.metrics.scene import score_rows
        >>> s = np.array([5.0, 5.0, 5.0, 5.0])  # SNR(x0, s) = 0 dB and SNR(est, s) = 20 dB, as in score_mixture
        >>> rows = np.stack([s + [5.0, -5.0, 5.0, -5.0], s, s + [0.5, -0.5, 0.5, -0.5]])
        >>> round(score_rows(rows, ["Speech"], ["Speech"]).capi_sdri, 4)
        20.0
    """
    edition = check_edition(edition)
    _check_answer(ref_labels, est_labels, name, edition, n_slots)
    _check_row_count(int(rows.shape[0]) if rows.ndim == 2 else -1, ref_labels, est_labels, name)
    return _score(gram_of_rows(rows, len(ref_labels), dot), ref_labels, est_labels, name, edition, row_names, eps)


def score_gram(gram: Gram, ref_labels: list[str], est_labels: list[str], *, name: str = "", edition: int = 2025,
               n_slots: int = N_SLOTS, row_names: list[str] | None = None, eps: float = EPS_FLOAT32) -> MixtureScore:
    """Score one mixture from the inner products of its signals (`metrics.gram`: `metrics.folders`
    computes them from the files in one pass, without a float64 copy of each file).

    Args:
        gram: the products of channel 0 of the mixture, the R references and the E estimates.
        ref_labels: the references' labels, in row order (2026: a label may repeat).
        est_labels: the estimates' labels, in row order, `silence` left out.
        name: the mixture's name, used in error messages and kept in the score.
        edition: 2025 or 2026 (whether a class may occur twice).
        n_slots: the most estimates allowed.
        row_names: what to call each signal in an error message (as `score_rows`).
        eps: added to both energies of every SNR (see `metrics.signal.snr`).

    Returns:
        The mixture's MixtureScore (all figures in dB): `score_rows`' on the same signals, to
        the order of the sums (about 1e-13 dB).

    Raises:
        S5Error: As `score_rows`.
        ValueError: If the Gram is not of 1 + R + E signals (the caller's bug).

    Example:
        >>> import numpy as np
        >>> from s5bench.metrics.gram import gram_of_sources
        >>> from s5bench.metrics.scene import score_gram
        >>> s = np.array([5.0, 5.0, 5.0, 5.0])  # as in score_rows
        >>> gram = gram_of_sources([s + [5.0, -5.0, 5.0, -5.0], s, s + [0.5, -0.5, 0.5, -0.5]], 1)
        >>> round(score_gram(gram, ["Speech"], ["Speech"]).capi_sdri, 4)
        20.0
    """
    edition = check_edition(edition)
    _check_answer(ref_labels, est_labels, name, edition, n_slots)
    _check_row_count(len(gram.energy), ref_labels, est_labels, name)
    return _score(gram, ref_labels, est_labels, name, edition, row_names, eps)


def _check_answer(ref_labels: list[str], est_labels: list[str], name: str, edition: int, n_slots: int) -> None:
    """Known labels, no `silence`, no 2025 class twice, and no more estimates than slots."""
    _check_labels(ref_labels, "references", name, edition)
    _check_labels(est_labels, "estimates", name, edition)
    if len(est_labels) > n_slots:
        raise S5Error(f"{name or 'mixture'}: {len(est_labels)} non-silent estimates, at most {n_slots} slots allowed")


def _check_row_count(n_rows: int, ref_labels: list[str], est_labels: list[str], name: str) -> None:
    if n_rows != 1 + len(ref_labels) + len(est_labels):
        raise ValueError(f"{name or 'mixture'}: {n_rows} signal row(s) for 1 mixture, {len(ref_labels)} "
                         f"reference(s) and {len(est_labels)} estimate(s)")


def _score(gram: Gram, ref_labels: list[str], est_labels: list[str], name: str, edition: int,
           row_names: list[str] | None, eps: float) -> MixtureScore:
    """The scores from checked labels and their signals' products."""
    where = name or "mixture"
    bad = [k for k, e in enumerate(gram.energy) if not math.isfinite(e)]
    if bad:
        names = row_names or ([f"mixture {where}"] + [f"reference {lab!r} of {where}" for lab in ref_labels]
                              + [f"estimate {lab!r} of {where}" for lab in est_labels])
        raise S5Error(f"{names[bad[0]]}: contains NaN or Inf samples")
    n_ref = len(ref_labels)
    if not n_ref:  # nothing to compare with: every estimate is a false alarm (a zero term)
        terms = {lab: [0.0] * est_labels.count(lab) for lab in sorted(set(est_labels))}
        return MixtureScore(name, edition, 0.0 if est_labels else math.nan, [], list(ref_labels), list(est_labels),
                            terms, {lab: [] for lab in terms})
    pair_snr, mix_snr = _pair_snrs(gram, n_ref, eps)
    improvement = pair_snr - mix_snr[:, None]  # SDRi of every (reference, estimate) pair
    class_terms, pair_sdri = _capi_terms(ref_labels, est_labels, pair_snr, improvement)
    terms = [v for values in class_terms.values() for v in values]
    capi = float(np.mean(terms)) if terms else math.nan
    return MixtureScore(name, edition, capi, _snri_values(pair_snr, improvement), list(ref_labels),
                        list(est_labels), class_terms, pair_sdri)


def _pair_snrs(gram: Gram, n_ref: int, eps: float) -> tuple[FloatArray, FloatArray]:
    """(SNR of every estimate against every reference (R, E), SNR of x₀ against each reference (R,)), dB."""
    energy = [float(e) for e in gram.energy]
    n_est = len(energy) - 1 - n_ref

    def snr(reference: int, other: int, inner: float) -> float:
        """SNR(row other, row reference) in dB; the error energy from the inner product, or from an
        explicit difference where the two are so close that the subtraction would lose digits."""
        err = energy[reference] + energy[other] - 2.0 * inner
        if err < 1e-3 * (energy[reference] + energy[other]):  # above ≈ 27 dB: recompute exactly
            err = gram.difference_energy(reference, other)
        return float(10 * np.log10((energy[reference] + eps) / (max(err, 0.0) + eps)))

    pair_snr = np.empty((n_ref, n_est))
    for i in range(n_ref):
        for j in range(n_est):
            pair_snr[i, j] = snr(1 + i, 1 + n_ref + j, float(gram.ref_est[i, j]))
    return pair_snr, np.array([snr(1 + i, 0, float(gram.mixture_ref[i])) for i in range(n_ref)])


def _capi_terms(ref_labels: list[str], est_labels: list[str], pair_snr: FloatArray,
                improvement: FloatArray) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """CAPI-SDRi (= CA-SDRi without repeated classes): per class, the SDRi of its best pairing
    (largest mean raw SNR, official order) plus |E − R| zeros; and the pairs' SDRi alone."""
    class_terms: dict[str, list[float]] = {}
    pair_sdri: dict[str, list[float]] = {}
    for lab in sorted(set(ref_labels) | set(est_labels)):
        ri = [i for i, x in enumerate(ref_labels) if x == lab]
        ej = [j for j, x in enumerate(est_labels) if x == lab]
        pairs: list[float] = []
        if ri and ej:
            picked_refs, picked_ests = best_class_pairing(pair_snr[np.ix_(ri, ej)])
            pairs = [float(improvement[ri[r], ej[c]]) for r, c in zip(picked_refs, picked_ests)]
        pair_sdri[lab] = pairs
        class_terms[lab] = pairs + [0.0] * abs(len(ri) - len(ej))
    return class_terms, pair_sdri


def _snri_values(pair_snr: FloatArray, improvement: FloatArray) -> list[float]:
    """SNRi: the waveform-only one-to-one assignment of estimates to targets with the largest
    summed SNR; a matched target scores its SDRi, a target left over 0."""
    values = [0.0] * pair_snr.shape[0]
    for i, j in zip(*best_assignment(pair_snr)):
        values[i] = float(improvement[i, j])
    return values


def _checked(wave: Waveform, length: int, what: str) -> npt.NDArray[np.generic]:
    """A mono waveform of the mixture's length (NaN/Inf are caught from the energies)."""
    array = _array(wave)
    if array.ndim != 1:
        raise S5Error(f"{what}: expected a mono waveform, got shape {array.shape}")
    if array.shape[0] != length:
        raise S5Error(f"{what}: {array.shape[0]} samples, the mixture has {length}")
    return array


def ca_sdri(mixture: Waveform, refs: Mapping[str, Waveform] | Iterable[tuple[str, Waveform]],
            ests: Mapping[str, Waveform | None] | Iterable[tuple[str, Waveform | None]], *, name: str = "",
            edition: int = 2025, n_slots: int = N_SLOTS, eps: float = EPS_FLOAT32) -> float:
    """CA-SDRi (2025) / CAPI-SDRi (2026) of one mixture in dB; `capi_sdri` is the same function.

    Args:
        mixture: channel 0 of the mixture (samples,), or the mixture (channels, samples).
        refs: the reference targets, {label: waveform} or [(label, waveform)].
        ests: the estimates in the same form (`silence` and None ignored).
        name: the mixture's name, for error messages.
        edition: 2025 or 2026.
        n_slots: the most non-silent estimates allowed.
        eps: added to both energies of every SNR.

    Returns:
        The mean of the class terms in dB: each matched pair's SDRi, 0 per miss or false alarm;
        NaN when neither side has a label.

    Raises:
        S5Error: As `score_mixture`.

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
    return score_mixture(mixture, refs, ests, name=name, edition=edition, n_slots=n_slots, eps=eps).capi_sdri


capi_sdri = ca_sdri


def snri(mixture: Waveform, refs: Mapping[str, Waveform] | Iterable[tuple[str, Waveform]],
         ests: Mapping[str, Waveform | None] | Iterable[tuple[str, Waveform | None]], *, name: str = "",
         edition: int = 2025, n_slots: int = N_SLOTS, eps: float = EPS_FLOAT32) -> list[float]:
    """SNRi in dB of each reference target of one mixture, whatever the labels.

    Each target is matched to at most one non-silent estimate by the one-to-one assignment of
    largest summed raw SNR (waveforms only); it scores SNR(ŝ, s) − SNR(x₀, s), or 0 if unmatched.

    Args:
        mixture: channel 0 of the mixture (samples,), or the mixture (channels, samples).
        refs: the reference targets, {label: waveform} or [(label, waveform)].
        ests: the estimates in the same form (`silence` and None ignored).
        name: the mixture's name, for error messages.
        edition: 2025 or 2026.
        n_slots: the most non-silent estimates allowed.
        eps: added to both energies of every SNR.

    Returns:
        One value in dB per reference, in reference order.

    Raises:
        S5Error: As `score_mixture`.

    Example:
        >>> import numpy as np
        >>> from s5bench.metrics.scene import snri
        >>> s = np.array([5.0, 5.0, 5.0, 5.0])
        >>> x0 = s + np.array([5.0, -5.0, 5.0, -5.0])  # SNR(x0, s) = 0 dB
        >>> est = s + np.array([0.5, -0.5, 0.5, -0.5])  # SNR(est, s) = 20 dB
        >>> [round(v, 4) for v in snri(x0, {"Speech": s}, {"Doorbell": est})]  # the label plays no part
        [20.0]
    """
    return score_mixture(mixture, refs, ests, name=name, edition=edition, n_slots=n_slots, eps=eps).snri
