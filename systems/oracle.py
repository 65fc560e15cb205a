"""Oracle systems that bound the metrics; they read the references from the batch."""
from __future__ import annotations

import torch

from s5bench.data_gen.schema import SystemBatch

from .base import SlotOutput, System


class OracleSources(System):
    """Oracle labels and oracle dry sources: the best any system can do (CA-SDRi ≈ 69 dB + the
    mixture's deficit, bounded by float32's eps in the SNR)."""

    stages = ("final",)

    def forward(self, mixture: torch.Tensor, batch: SystemBatch) -> dict[str, SlotOutput]:
        """The batch's own labels and targets.

        Args:
            mixture: tensor of shape (batch, 4, samples); sets the targets' dtype and device.
            batch: the data set's batch (its `labels` and `targets`).

        Returns:
            {"final": SlotOutput} of the true labels and the targets, shape (batch, 3, samples).
        """
        return {"final": SlotOutput(batch["labels"], batch["targets"].to(mixture))}


class OracleLabelsMixture(System):
    """Oracle labels, channel 0 of the mixture as every estimate: CA-SDRi = SNRi = 0 dB exactly,
    Acc_mix = Acc_src = 100 %. A separator must beat this to have separated anything."""

    stages = ("final",)

    def forward(self, mixture: torch.Tensor, batch: SystemBatch) -> dict[str, SlotOutput]:
        """The batch's own labels, each slot's waveform channel 0 of the mixture.

        Args:
            mixture: tensor of shape (batch, 4, samples).
            batch: the data set's batch (its `labels`, and `targets` for the number of slots).

        Returns:
            {"final": SlotOutput} of the true labels and channel 0 in every slot.
        """
        est = mixture[:, :1].expand(-1, batch["targets"].shape[1], -1).clone()
        return {"final": SlotOutput(batch["labels"], est)}


class AllSilence(System):
    """Predicts silence everywhere: every target a miss (CA-SDRi 0 dB, Acc_mix 0 %)."""

    stages = ("final",)

    def forward(self, mixture: torch.Tensor, batch: SystemBatch) -> dict[str, SlotOutput]:
        """Three silent slots per mixture.

        Args:
            mixture: tensor of shape (batch, 4, samples).
            batch: the data set's batch (not read).

        Returns:
            {"final": SlotOutput} of `silence` labels and zero waveforms, shape (batch, 3, samples).
        """
        B, _, T = mixture.shape
        return {"final": SlotOutput([["silence"] * 3 for _ in range(B)], torch.zeros(B, 3, T))}
