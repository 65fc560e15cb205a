"""SNR, SI-SNR and SA-SDR over the last axis, for numpy arrays and torch tensors alike.

Numpy inputs are computed in float64. Torch tensors keep their dtype, device and autograd
graph, so the training losses use these same functions.

`eps` defaults to float32's machine epsilon, the value torchmetrics (and therefore the
official DCASE 2025 Task 4 evaluation, which feeds it float32 audio) adds to both energies.
"""
from __future__ import annotations

import numpy as np

EPS_FLOAT32 = float(np.finfo(np.float32).eps)


def _is_torch(x) -> bool:
    return type(x).__module__.startswith("torch")


def _log10(x):
    if _is_torch(x):
        import torch

        return torch.log10(x)
    return np.log10(x)


def _prepare(est, ref):
    if _is_torch(est) or _is_torch(ref):
        if not (_is_torch(est) and _is_torch(ref)):
            raise TypeError("est and ref must both be numpy arrays or both torch tensors")
    else:
        est = np.asarray(est, dtype=np.float64)
        ref = np.asarray(ref, dtype=np.float64)
    if est.shape[-1] != ref.shape[-1]:
        raise ValueError(f"length mismatch: estimate has {est.shape[-1]} samples, reference {ref.shape[-1]}")
    return est, ref


def best_scaled(mix, ref):
    """α·x₀ with α = ⟨x₀, s⟩/‖x₀‖², the least-squares gain of each row of the mixture onto its
    reference (last axis; the figure `sep_gain` compares an estimate with)."""
    if _is_torch(mix):
        return (mix * ref).sum(-1, keepdim=True) / mix.pow(2).sum(-1, keepdim=True).clamp(min=1e-20) * mix
    mix, ref = np.asarray(mix, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    return (mix * ref).sum(-1, keepdims=True) / np.maximum((mix * mix).sum(-1, keepdims=True), 1e-20) * mix


def snr(est, ref, eps: float = EPS_FLOAT32):
    """10·log10((‖s‖² + eps) / (‖s − ŝ‖² + eps)); no scale invariance, no mean removal."""
    est, ref = _prepare(est, ref)
    signal = (ref ** 2).sum(-1)
    noise = ((ref - est) ** 2).sum(-1)
    return 10 * _log10((signal + eps) / (noise + eps))


def si_snr(est, ref, eps: float = EPS_FLOAT32, zero_mean: bool = True):
    """Scale-invariant SNR: ŝ is compared with its projection α·s on the (mean-removed) reference."""
    est, ref = _prepare(est, ref)
    if zero_mean:
        est = est - est.mean(-1)[..., None]
        ref = ref - ref.mean(-1)[..., None]
    alpha = ((est * ref).sum(-1) + eps) / ((ref ** 2).sum(-1) + eps)
    target = alpha[..., None] * ref
    noise = target - est
    return 10 * _log10(((target ** 2).sum(-1) + eps) / ((noise ** 2).sum(-1) + eps))


def sa_sdr(est, ref, eps: float = EPS_FLOAT32):
    """Source-aggregated SDR over the last two axes (sources, samples): 10·log10(Σ‖s‖² / Σ‖s − ŝ‖²)."""
    est, ref = _prepare(est, ref)
    signal = (ref ** 2).sum((-2, -1))
    noise = ((ref - est) ** 2).sum((-2, -1))
    return 10 * _log10((signal + eps) / (noise + eps))
