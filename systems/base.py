"""The system interface: 4-channel mixtures in, 3 labelled mono slots per mixture out.

A system may expose several named stages (e.g. `uss`, `tse1`, `tse2`) so that one run can be
scored at each; `stages` lists them in order and the last is the system's final answer.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

import torch

from s5bench.common.editions import repeated_classes_allowed
from s5bench.common.errors import S5Error
from s5bench.common.labels import N_SLOTS, SAMPLE_RATE, SILENCE, check_label
from s5bench.data_gen.schema import Batch, SystemBatch

from .plugins import is_plugin, plugin_failure, plugin_root

# `class` is a keyword, hence the functional form for the required keys.
_SystemConfigRequired = TypedDict("_SystemConfigRequired", {"class": str, "name": str})


class SystemConfig(_SystemConfigRequired, total=False):
    """A system config as `load_system_config` returns it.

    Attributes:
        class: the System subclass, "package.module:ClassName".
        name: the config's name (default: the file's stem).
        args: the class's keyword arguments (null or absent: none); paths absolute outside configs/systems/.
    """

    args: dict[str, Any] | None


@dataclass
class SlotOutput:
    """A batch of answers: each mixture's N_SLOTS (3) labelled mono slots.

    Attributes:
        labels: one list of 3 labels per mixture, `silence` for an empty slot.
        waveforms: tensor of shape (batch, 3, samples), channel 0's image of each slot's source at
            the system's sample rate (32 kHz for the built-in systems).
        probabilities: None, or a tensor of shape (batch, 3): how sure the system is of each
            slot's label, in [0, 1] (the built-in systems give their classifier's probability of
            the label they chose). None means 1.0 for every slot, as the official evaluation
            gives waveforms read from files. The 2026 submission's `eval_results.json` carries them.

    An empty answer (a mixture with no target) is three `silence` labels; their waveforms are
    zeroed by `checked`, whatever the system put there.
    """

    labels: list  # B lists of N_SLOTS labels (`silence` for empty slots)
    waveforms: torch.Tensor  # (B, N_SLOTS, T), channel 0; silent slots are zeroed by `checked`
    probabilities: torch.Tensor | None = None  # (B, N_SLOTS) in [0, 1]; None: 1.0 for every slot

    def checked(self, batch_size: int, length: int, where: str, edition: int = 2025) -> "SlotOutput":
        """This output checked, with the waveforms of silent slots set to zero.

        Args:
            batch_size: the number of mixtures the output must answer.
            length: the number of samples each waveform must have (the mixtures').
            where: what produced it (system and stage), named in every error.
            edition: 2025 or 2026 (a class in two slots of one mixture is allowed in 2026 only).

        Returns:
            A new SlotOutput with the same labels, the silent slots' waveforms zeroed and the
            probabilities as a float tensor of shape (batch_size, 3) on the CPU (ones where none were given).

        Raises:
            S5Error: If the waveforms' shape is not (batch_size, 3, length); there are not
                batch_size lists of 3 labels; a label is unknown; a class fills two slots in 2025;
                a sample is NaN or Inf; the probabilities are not of shape (batch_size, 3) or not
                all in [0, 1]; or the edition is unknown.
        """
        if tuple(self.waveforms.shape) != (batch_size, N_SLOTS, length):
            raise S5Error(f"{where}: waveforms of shape {tuple(self.waveforms.shape)}, expected "
                          f"({batch_size}, {N_SLOTS}, {length})")
        if len(self.labels) != batch_size or any(len(lb) != N_SLOTS for lb in self.labels):
            raise S5Error(f"{where}: expected {batch_size} lists of {N_SLOTS} labels, got {self.labels}")
        for lb in self.labels:
            real = [check_label(x, where=where) for x in lb if x != SILENCE]
            if len(set(real)) != len(real) and not repeated_classes_allowed(edition):
                raise S5Error(f"{where}: a label appears twice among the slots {lb} (allowed in the 2026 "
                              "edition only)")
        if not torch.isfinite(self.waveforms).all():
            raise S5Error(f"{where}: NaN or Inf in the output waveforms")
        silent = torch.tensor([[x == SILENCE for x in lb] for lb in self.labels], device=self.waveforms.device)
        return SlotOutput(self.labels, self.waveforms.masked_fill(silent[..., None], 0.0),
                          checked_probabilities(self.probabilities, batch_size, where))


def checked_probabilities(probabilities: Any, batch_size: int, where: str) -> torch.Tensor:
    """A system's per-slot probabilities as a (batch_size, 3) float64 CPU tensor; None gives ones.

    Args:
        probabilities: None, or anything `torch.as_tensor` takes, of shape (batch_size, 3).
        batch_size: the number of mixtures answered.
        where: what produced them, named in every error.

    Returns:
        The probabilities (1.0 for every slot when None).

    Raises:
        S5Error: If the shape is not (batch_size, 3), or a value is not a number in [0, 1].
    """
    if probabilities is None:
        return torch.ones(batch_size, N_SLOTS, dtype=torch.float64)
    p = torch.as_tensor(probabilities).detach().to("cpu", torch.float64)
    if tuple(p.shape) != (batch_size, N_SLOTS):
        raise S5Error(f"{where}: probabilities of shape {tuple(p.shape)}, expected ({batch_size}, {N_SLOTS})")
    if not ((p >= 0) & (p <= 1)).all():  # NaN fails both comparisons
        raise S5Error(f"{where}: probabilities must lie in [0, 1], got {p.tolist()}")
    return p


class System(torch.nn.Module):
    """The base class of every system: subclass, set `stages`, implement `forward`.

    `forward(mixture, batch) -> {stage: SlotOutput}` takes mixture, a float tensor of shape
    (batch, 4, samples) (first-order ambisonics at `sample_rate`, 32 kHz for the built-in
    systems), and batch, the data set's batch (oracle systems read the references from it; real
    systems must not). Call `infer` rather than `forward` to get checked outputs.

    Attributes:
        stages: the names of the stages the system answers at, in order; the last is its final answer.
        config: the config it was built from (set by the registry).
        config_name: the name of the config it was built from (set by the registry).
        sample_rate: the rate in Hz the system takes and returns.

    The edition of a run (2025 or 2026) reaches `forward` as `batch["edition"]`, never as the
    system's state.
    """

    stages: tuple = ("final",)
    config: SystemConfig | None = None  # set by the registry to the config it was built from
    config_name: str = ""  # set by the registry to the config's name; runs fall back to the class name
    sample_rate: int = SAMPLE_RATE  # what the system takes and returns; the runners read and write at this rate

    def forward(self, mixture: torch.Tensor, batch: SystemBatch) -> dict[str, SlotOutput]:
        """The answers at every stage; subclasses implement it.

        Args:
            mixture: tensor of shape (batch, 4, samples) at `sample_rate`.
            batch: the data set's batch with `edition` (2025 or 2026: whether one class may fill
                several slots); oracle systems also read the references from it.

        Returns:
            {stage: SlotOutput} with an entry for every name in `stages`.

        Raises:
            NotImplementedError: In the base class.
        """
        raise NotImplementedError

    @torch.no_grad()
    def infer(self, mixture: torch.Tensor, batch: Batch, edition: int = 2025) -> dict[str, SlotOutput]:
        """Run the system in eval mode without gradients and check every stage's output.

        Args:
            mixture: tensor of shape (batch, 4, samples) at `sample_rate`.
            batch: the data set's batch, passed on to `forward` with `edition` added.
            edition: 2025 or 2026 (whether one class may fill several slots).

        Returns:
            {stage: SlotOutput} in `stages` order, each checked (`SlotOutput.checked`) against
            the mixture's batch size and length, silent slots zeroed.

        Raises:
            S5Error: If a stage has no output, or an output fails its check.
            S5Error: If a plug-in system's `forward` raises (the message names its file and line).
        """
        self.eval()
        try:  # the edition travels with the batch (batch["edition"]), not as the system's state
            outputs = self(mixture, SystemBatch(**batch, edition=edition))
        except Exception as err:
            if not is_plugin(self):  # a failure of s5bench's own systems stays a bug with its traceback
                raise
            raise S5Error(f"system {self.config_name or type(self).__name__}: {type(self).__name__}.forward "
                          f"failed: {plugin_failure(err, plugin_root(self))} (S5BENCH_TRACEBACK=1 shows the "
                          "whole traceback)") from err
        missing = set(self.stages) - set(outputs)
        if missing:
            raise S5Error(f"{type(self).__name__} returned no output for stage(s) {sorted(missing)}")
        B, _, T = mixture.shape
        return {s: outputs[s].checked(B, T, f"{type(self).__name__} stage {s!r}", edition) for s in self.stages}
