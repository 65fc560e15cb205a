"""A complete minimal s5bench plug-in: every mixture's channel 0 as one estimate with one label."""
import torch

from s5bench.common.labels import SILENCE
from s5bench.systems.base import SlotOutput, System


class MixtureAsSource(System):
    """Answers each mixture with one slot: the mixture's channel 0, labelled `label`."""

    stages = ("final",)  # the names this system answers at; the last is its final answer

    def __init__(self, label: str = "Speech", probability: float = 1.0):
        super().__init__()
        self.label, self.probability = label, probability

    def forward(self, mixture: torch.Tensor, batch) -> dict[str, SlotOutput]:
        B, _, T = mixture.shape  # (batch, 4 channels, samples) at self.sample_rate (32 kHz)
        waveforms = torch.zeros(B, 3, T)  # 3 slots per mixture
        waveforms[:, 0] = mixture[:, 0]
        labels = [[self.label, SILENCE, SILENCE] for _ in range(B)]
        probabilities = torch.tensor([[self.probability, 1.0, 1.0]]).expand(B, 3)
        return {"final": SlotOutput(labels, waveforms, probabilities)}
