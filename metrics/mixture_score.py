"""One mixture's scores (`MixtureScore`): what `metrics.scene` computes and every data-set
figure, table and report is built from."""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from s5bench.common.editions import ranking_metric

from .accuracy import label_counts


@dataclass
class MixtureScore:
    """One mixture's scores, from which the data-set figures and the per-class tables are built.

    Attributes:
        soundscape: the mixture's name.
        edition: 2025 or 2026 (the rules it was scored by).
        capi_sdri: CAPI-SDRi (2026) / CA-SDRi (2025) in dB; NaN when neither side has a label.
        snri: SNRi in dB of each reference target, in reference order (0 for one left unmatched).
        ref_labels: the reference labels, in input order.
        est_labels: the non-silent estimated labels, in input order.
        class_terms: per class, its terms of the ranking metric in dB (pair SDRi, 0 per miss or false alarm).
        pair_sdri: per class, the SDRi in dB of its matched reference-estimate pairs only.
    """

    soundscape: str
    edition: int
    capi_sdri: float  # CA-SDRi in 2025; NaN for a mixture without any label
    snri: list[float]  # one value per active target (0 for an unmatched one)
    ref_labels: list[str]
    est_labels: list[str]
    class_terms: dict[str, list[float]] = field(default_factory=dict[str, list[float]])  # CAPI terms, by class
    pair_sdri: dict[str, list[float]] = field(default_factory=dict[str, list[float]])  # matched pairs' SDRi, by class

    @property
    def ca_sdri(self) -> float:
        """The ranking metric under its 2025 name.

        Returns:
            The same value as `capi_sdri`, dB.
        """
        return self.capi_sdri

    @property
    def tp(self) -> int:
        """True positives of the label multisets.

        Returns:
            The labels in both multisets (a class twice on both sides counts twice).
        """
        return label_counts(self.ref_labels, self.est_labels)[0]

    @property
    def fp(self) -> int:
        """False positives of the label multisets.

        Returns:
            The estimated labels beyond the reference's.
        """
        return label_counts(self.ref_labels, self.est_labels)[1]

    @property
    def fn(self) -> int:
        """False negatives of the label multisets.

        Returns:
            The reference labels beyond the estimate's.
        """
        return label_counts(self.ref_labels, self.est_labels)[2]

    @property
    def label_match(self) -> bool:
        """Whether the labels are right (what Acc_mix counts).

        Returns:
            True when the estimated label multiset equals the reference's.
        """
        return Counter(self.ref_labels) == Counter(self.est_labels)

    def row(self) -> dict[str, object]:
        """This mixture's row of `per_mixture.csv`.

        Returns:
            {"soundscape", the ranking metric ("ca_sdri" or "capi_sdri", dB), "snri" (mean, dB;
            NaN without targets), "acc_src" (%), "label_match", "n_ref", "n_est", "tp", "fp",
            "fn", "ref_labels", "est_labels" (';'-joined)}.
        """
        tp, fp, fn = label_counts(self.ref_labels, self.est_labels)  # once, not once per property
        return {
            "soundscape": self.soundscape,
            ranking_metric(self.edition).lower().replace("-", "_"): self.capi_sdri,
            "snri": float(np.mean(self.snri)) if self.snri else math.nan,
            "acc_src": 100.0 * tp / (tp + fp + fn) if tp + fp + fn else math.nan,
            "label_match": fp == fn == 0,
            "n_ref": len(self.ref_labels),
            "n_est": len(self.est_labels),
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "ref_labels": ";".join(self.ref_labels),
            "est_labels": ";".join(self.est_labels),
        }
