"""Optional BSS-eval SDR through mir_eval, for users who want the classic figure beside CA-SDRi.

Off by default: mir_eval's `bss_eval_sources` fits a 512-tap distortion filter per source and
costs on the order of a second per 10 s target at 32 kHz, hundreds of times the plain SNR.
"""
from __future__ import annotations

import numpy as np


def bss_sdr(est: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """BSS-eval SDR in dB of each (est[i], ref[i]) pair, evaluated pair by pair (no permutation search).

    Args:
        est: estimates of shape (sources, samples), or one (samples,) waveform.
        ref: references of the same shape, each not all zeros; any sample rate (the same for both).

    Returns:
        SDR in dB, shape (sources,).

    Raises:
        ValueError: If a reference is all zeros, or the shapes differ (from mir_eval).
    """
    from mir_eval.separation import bss_eval_sources

    est = np.atleast_2d(np.asarray(est, dtype=np.float64))
    ref = np.atleast_2d(np.asarray(ref, dtype=np.float64))
    out = np.empty(len(ref))
    for i in range(len(ref)):
        out[i] = bss_eval_sources(ref[i:i + 1], est[i:i + 1], compute_permutation=False)[0][0]
    return out
