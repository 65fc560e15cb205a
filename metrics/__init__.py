"""The challenge's metrics: signal-level SNR family and the scene-level S5 metrics."""
from .accuracy import acc_mix, acc_src, label_counts
from .aggregate import per_class_table, summarize
from .scene import MixtureScore, ca_sdri, capi_sdri, score_mixture, snri
from .signal import EPS_FLOAT32, sa_sdr, si_snr, snr

__all__ = [
    "EPS_FLOAT32", "snr", "si_snr", "sa_sdr", "MixtureScore", "score_mixture", "ca_sdri", "snri",
    "capi_sdri", "label_counts", "acc_src", "acc_mix", "summarize", "per_class_table",
]
