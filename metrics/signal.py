"""SNR, SI-SNR and SA-SDR over the last axis, for numpy arrays and torch tensors alike.

Numpy inputs are computed in float64. Torch tensors keep their dtype, device and autograd
graph, so the training losses use these same functions.

`eps` defaults to float32's machine epsilon, the value torchmetrics (and therefore the
official DCASE 2025 Task 4 evaluation, which feeds it float32 audio) adds to both energies.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Union, overload

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt
    import torch

    # What a numpy input gives back: float64 arrays, a numpy scalar where the leading axes are empty.
    Float64Array = npt.NDArray[np.float64]
    Float64Result = Union[np.float64, npt.NDArray[np.float64]]

EPS_FLOAT32 = float(np.finfo(np.float32).eps)


def _is_torch(x: object) -> bool:
    return type(x).__module__.startswith("torch")


def _log10(x: Any) -> Any:  # an array or a tensor (the overloads below say which gives which)
    if _is_torch(x):
        import torch

        return torch.log10(x)
    return np.log10(x)


def _prepare(est: Any, ref: Any) -> tuple[Any, Any]:
    if _is_torch(est) or _is_torch(ref):
        if not (_is_torch(est) and _is_torch(ref)):
            raise TypeError("est and ref must both be numpy arrays or both torch tensors")
    else:
        est = np.asarray(est, dtype=np.float64)
        ref = np.asarray(ref, dtype=np.float64)
    if est.shape[-1] != ref.shape[-1]:
        raise ValueError(f"length mismatch: estimate has {est.shape[-1]} samples, reference {ref.shape[-1]}")
    return est, ref


@overload
def best_scaled(mix: torch.Tensor, ref: torch.Tensor) -> torch.Tensor: ...


@overload
def best_scaled(mix: npt.ArrayLike, ref: npt.ArrayLike) -> Float64Array: ...


def best_scaled(mix: Any, ref: Any) -> Any:
    """The mixture rescaled by its least-squares gain onto the reference: α·x₀ with α = ⟨x₀, s⟩/‖x₀‖².

    This is what a rescaled copy of the mixture can score at best; the separation figure
    `sep_gain` compares an estimate with it. The gain is computed per row over the last axis;
    an all-zero row gives zeros (‖x₀‖² is floored at 1e-20).

    Args:
        mix: mixture channel x₀ of shape ``(..., samples)``, any sample rate (the same as ``ref``).
            A torch tensor, or anything numpy can read.
        ref: reference s broadcastable with ``mix``, shape ``(..., samples)``.

    Returns:
        α·x₀ of the broadcast shape ``(..., samples)``: float64 numpy for numpy input; for a torch
        ``mix``, a tensor of its dtype and device (``ref`` must then be a tensor too).

    Example:
        >>> import numpy as np
        >>> from s5bench.metrics.signal import best_scaled
        >>> best_scaled(np.array([2.0, 0.0, 2.0, 0.0]), np.array([1.0, 1.0, 1.0, 1.0]))  # α = 4 / 8
        array([1., 0., 1., 0.])
    """
    if _is_torch(mix):
        return (mix * ref).sum(-1, keepdim=True) / mix.pow(2).sum(-1, keepdim=True).clamp(min=1e-20) * mix
    mix, ref = np.asarray(mix, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    return (mix * ref).sum(-1, keepdims=True) / np.maximum((mix * mix).sum(-1, keepdims=True), 1e-20) * mix


@overload
def snr(est: torch.Tensor, ref: torch.Tensor, eps: float = ...) -> torch.Tensor: ...


@overload
def snr(est: npt.ArrayLike, ref: npt.ArrayLike, eps: float = ...) -> Float64Result: ...


def snr(est: Any, ref: Any, eps: float = EPS_FLOAT32) -> Any:
    """Signal-to-noise ratio in dB: 10·log10((‖s‖² + eps) / (‖s − ŝ‖² + eps)) over the last axis.

    No scale invariance and no mean removal: a rescaled estimate loses. The challenge's SDRi
    figures are differences of this SNR. With the default ``eps`` a perfect estimate scores
    10·log10((‖s‖² + eps) / eps), not infinity.

    Args:
        est: estimate ŝ of shape ``(..., samples)``, any sample rate (the same as ``ref``).
        ref: reference s, shape broadcastable with ``est``, the same number of samples.
        eps: added to both energies (in squared sample units); default float32's machine epsilon,
            as the official evaluation.

    Returns:
        SNR in dB of shape ``(...)`` (the broadcast leading axes): float64 numpy (a numpy scalar
        for 1-d input) for numpy input; for torch tensors a tensor of their dtype and device that
        keeps the autograd graph.

    Raises:
        TypeError: If one of ``est`` and ``ref`` is a torch tensor and the other is not.
        ValueError: If their last axes (numbers of samples) differ.

    Example:
        >>> import numpy as np
        >>> from s5bench.metrics.signal import snr
        >>> ref = np.array([5.0, 5.0, 5.0, 5.0])  # energy 100
        >>> noise = np.array([0.5, -0.5, 0.5, -0.5])  # energy 1
        >>> float(snr(ref + noise, ref, eps=0.0))  # 10·log10(100 / 1)
        20.0
        >>> snr(np.stack([ref + noise, ref]), ref).round(4)  # a perfect estimate: 10·log10(100 / eps)
        array([20.    , 89.2369])
    """
    est, ref = _prepare(est, ref)
    signal = (ref ** 2).sum(-1)
    noise = ((ref - est) ** 2).sum(-1)
    return 10 * _log10((signal + eps) / (noise + eps))


@overload
def si_snr(est: torch.Tensor, ref: torch.Tensor, eps: float = ..., zero_mean: bool = ...) -> torch.Tensor: ...


@overload
def si_snr(est: npt.ArrayLike, ref: npt.ArrayLike, eps: float = ..., zero_mean: bool = ...) -> Float64Result: ...


def si_snr(est: Any, ref: Any, eps: float = EPS_FLOAT32, zero_mean: bool = True) -> Any:
    """Scale-invariant SNR in dB: ŝ compared with its projection α·s on the reference, over the last axis.

    With α = (⟨ŝ, s⟩ + eps) / (‖s‖² + eps), the figure is 10·log10((‖α·s‖² + eps) / (‖α·s − ŝ‖² + eps)),
    so any rescaling of the estimate scores the same. Both signals are first made zero-mean
    (``zero_mean``).

    Args:
        est: estimate ŝ of shape ``(..., samples)``, any sample rate (the same as ``ref``).
        ref: reference s, shape broadcastable with ``est``, the same number of samples.
        eps: added to the energies and to the inner product; default float32's machine epsilon.
        zero_mean: remove each row's mean from both signals first.

    Returns:
        SI-SNR in dB of shape ``(...)``: float64 numpy for numpy input, a tensor of the inputs'
        dtype and device (with its autograd graph) for torch tensors.

    Raises:
        TypeError: If one of ``est`` and ``ref`` is a torch tensor and the other is not.
        ValueError: If their last axes (numbers of samples) differ.

    Example:
        >>> import numpy as np
        >>> from s5bench.metrics.signal import si_snr, snr
        >>> ref = np.array([1.0, -1.0, 1.0, -1.0])  # zero mean, energy 4
        >>> noise = np.array([0.5, 0.5, -0.5, -0.5])  # zero mean, orthogonal to ref, energy 1
        >>> est = 5 * ref + noise  # α = 5: the scaled target has energy 100, the residual 1
        >>> round(float(si_snr(est, ref)), 4)
        20.0
        >>> round(float(snr(est, ref)), 4)  # plain SNR counts the scale as error: 10·log10(4 / (64 + 1))
        -12.1085
    """
    est, ref = _prepare(est, ref)
    if zero_mean:
        est = est - est.mean(-1)[..., None]
        ref = ref - ref.mean(-1)[..., None]
    alpha = ((est * ref).sum(-1) + eps) / ((ref ** 2).sum(-1) + eps)
    target = alpha[..., None] * ref
    noise = target - est
    return 10 * _log10(((target ** 2).sum(-1) + eps) / ((noise ** 2).sum(-1) + eps))


@overload
def sa_sdr(est: torch.Tensor, ref: torch.Tensor, eps: float = ...) -> torch.Tensor: ...


@overload
def sa_sdr(est: npt.ArrayLike, ref: npt.ArrayLike, eps: float = ...) -> Float64Result: ...


def sa_sdr(est: Any, ref: Any, eps: float = EPS_FLOAT32) -> Any:
    """Source-aggregated SDR in dB: 10·log10((Σ‖s‖² + eps) / (Σ‖s − ŝ‖² + eps)) over sources and samples.

    Energies are pooled over the sources before the ratio, so a silent or quiet source cannot
    dominate the figure as it does a mean of per-source SNRs (the USS training loss).

    Args:
        est: estimates of shape ``(..., sources, samples)``, any sample rate (the same as ``ref``).
        ref: references, shape broadcastable with ``est``, the same number of samples.
        eps: added to both pooled energies; default float32's machine epsilon.

    Returns:
        SA-SDR in dB of shape ``(...)`` (the leading axes without sources and samples): float64
        numpy for numpy input, a tensor of the inputs' dtype and device for torch tensors.

    Raises:
        TypeError: If one of ``est`` and ``ref`` is a torch tensor and the other is not.
        ValueError: If their last axes (numbers of samples) differ.

    Example:
        >>> import numpy as np
        >>> from s5bench.metrics.signal import sa_sdr
        >>> ref = np.array([[3.0, 3.0, 3.0, 3.0], [4.0, 4.0, 4.0, 4.0]])  # energies 36 + 64 = 100
        >>> est = ref + np.array([[0.5, -0.5, 0.5, -0.5], [0.0, 0.0, 0.0, 0.0]])  # error energy 1 + 0
        >>> round(float(sa_sdr(est, ref)), 4)  # 10·log10(100 / 1)
        20.0
    """
    est, ref = _prepare(est, ref)
    signal = (ref ** 2).sum((-2, -1))
    noise = ((ref - est) ** 2).sum((-2, -1))
    return 10 * _log10((signal + eps) / (noise + eps))
