"""What separation the training data allows: ideal time-frequency masks on the mixture's
channel 0, scored as `sep_gain` (dB over the best-scaled mixture), the figure the training
logs report for the models."""
from __future__ import annotations

import torch

from s5bench.metrics.signal import best_scaled, snr

from .tasks import separation_gain


@torch.no_grad()
def ideal_mask_gains(mix0: torch.Tensor, ref: torch.Tensor, n_fft: int = 1024, hop: int = 512) -> dict:
    """The mean `sep_gain` of three oracle masks built from the target S and the rest N = X − S of
    the mixture X (ideal ratio mask |S| / (|S| + |N|), phase-sensitive mask Re(S/X) clipped to
    [0, 1], ideal binary mask |S| > |N|), and the mean SNR of the best-scaled mixture itself (dB).
    Computed in float64.

    Args:
        mix0: the mixture's channel 0, shape (N, samples), one row per active target.
        ref: the targets (their channel-0 images), shape (N, samples).
        n_fft: STFT size (and Hann window) in samples.
        hop: STFT hop in samples.

    Returns:
        {"irm", "psm", "ibm": mean sep_gain in dB of each mask; "scaled_mixture_snr": mean SNR in dB
        of the best-scaled mixture}.
    """
    mix0, ref = mix0.double(), ref.double()
    window = torch.hann_window(n_fft, dtype=torch.float64)
    T = mix0.shape[-1]

    def stft(x):
        return torch.stft(x, n_fft, hop, window=window, return_complex=True)

    X, S = stft(mix0), stft(ref)
    N = X - S
    masks = {
        "irm": S.abs() / (S.abs() + N.abs()).clamp(min=1e-20),
        "psm": (S * X.conj()).real.div(X.abs().pow(2).clamp(min=1e-20)).clamp(0, 1),
        "ibm": (S.abs() > N.abs()).double(),
    }
    out = {name: separation_gain(torch.istft(m * X, n_fft, hop, window=window, length=T), ref, mix0)
           for name, m in masks.items()}
    out["scaled_mixture_snr"] = float(snr(best_scaled(mix0, ref), ref).mean())
    return out
