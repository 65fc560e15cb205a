"""The system interface: 4-channel mixtures in, 3 labelled mono slots per mixture out.

A system may expose several named stages (e.g. `uss`, `tse1`, `tse2`) so that one run can be
scored at each; `stages` lists them in order and the last is the system's final answer.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from s5bench.common.editions import repeated_classes_allowed
from s5bench.common.labels import N_SLOTS, SAMPLE_RATE, SILENCE, check_label
from s5bench.data_gen.schema import Batch, SystemBatch


@dataclass
class SlotOutput:
    labels: list  # B lists of N_SLOTS labels (`silence` for empty slots)
    waveforms: torch.Tensor  # (B, N_SLOTS, T), channel 0; silent slots are zeroed by `checked`

    def checked(self, batch_size: int, length: int, where: str, edition: int = 2025) -> "SlotOutput":
        """Shapes, known labels, finite samples; a class in two slots is refused in 2025 only."""
        if tuple(self.waveforms.shape) != (batch_size, N_SLOTS, length):
            raise ValueError(f"{where}: waveforms of shape {tuple(self.waveforms.shape)}, expected "
                             f"({batch_size}, {N_SLOTS}, {length})")
        if len(self.labels) != batch_size or any(len(lb) != N_SLOTS for lb in self.labels):
            raise ValueError(f"{where}: expected {batch_size} lists of {N_SLOTS} labels, got {self.labels}")
        for lb in self.labels:
            real = [check_label(x, where=where) for x in lb if x != SILENCE]
            if len(set(real)) != len(real) and not repeated_classes_allowed(edition):
                raise ValueError(f"{where}: a label appears twice among the slots {lb} (allowed in the 2026 "
                                 "edition only)")
        if not torch.isfinite(self.waveforms).all():
            raise ValueError(f"{where}: NaN or Inf in the output waveforms")
        silent = torch.tensor([[x == SILENCE for x in lb] for lb in self.labels], device=self.waveforms.device)
        return SlotOutput(self.labels, self.waveforms.masked_fill(silent[..., None], 0.0))


class System(torch.nn.Module):
    """Subclass, set `stages`, implement `forward(mixture, batch) -> {stage: SlotOutput}`.

    mixture: (B, 4, T) float tensor. batch: the data set's batch (oracle systems read the
    references from it; real systems must not).
    """

    stages: tuple = ("final",)
    config_name: str = ""  # set by the registry to the config's name; runs fall back to the class name
    sample_rate: int = SAMPLE_RATE  # what the system takes and returns; the runners read and write at this rate

    def forward(self, mixture: torch.Tensor, batch: SystemBatch) -> dict[str, SlotOutput]:
        raise NotImplementedError

    @torch.no_grad()
    def infer(self, mixture: torch.Tensor, batch: Batch, edition: int = 2025) -> dict[str, SlotOutput]:
        self.eval()
        # the edition travels with the batch (batch["edition"]), not as the system's state
        outputs = self(mixture, SystemBatch(**batch, edition=edition))
        missing = set(self.stages) - set(outputs)
        if missing:
            raise ValueError(f"{type(self).__name__} returned no output for stage(s) {sorted(missing)}")
        B, _, T = mixture.shape
        return {s: outputs[s].checked(B, T, f"{type(self).__name__} stage {s!r}", edition) for s in self.stages}
