"""The self-guided pipeline (Kwon, Lee, Kim, Choi; DCASE 2025 Task 4, rank 1) as one system whose
named outputs are the paper's ablation stages (docs/task.md §5):

    fss1_cp1     USS waveforms, USS class-decoder labels (silence: the USS silence branch)
    fss1_cp1-1   USS waveforms, M2D-SC labels (silence: per-class energy thresholds)
    fss2_cp1-1   first TSE pass (enrollment = USS waveform, class = CP1-1 label), CP1-1 labels
    fss2_cp2     the same waveforms re-classified by M2D-SC
    fss3_cp3     second TSE pass (enrollment = FSS2 waveform, class = CP2 label), re-classified
    fss{k}_cp{k} further passes for `iterations` = k > 3

A slot labelled silence is not extracted (zeros). Each stage is taken from the one forward pass.
On 2026 data with `split_gap_s`, a labelled USS output whose activity has a silent gap that long is
cut there, and its second part fills a silent slot with the same class from fss1_cp1-1 on; every
TSE output of the two parts is kept to its own side of the cut (systems/segments.py), so a part
that a later classification silences is dropped with its side.
"""
from __future__ import annotations

from pathlib import Path

import torch

from s5bench.common.editions import repeated_classes_allowed
from s5bench.common.errors import S5Error
from s5bench.common.labels import SILENCE
from s5bench.data_gen.schema import SystemBatch

from .base import SlotOutput, System
from .models.checkpoints import load_as, load_component
from .models.m2d_sc import EnergySourceClassifier
from .segments import split_point
from .slots import argmax_labels, dedupe, label_probabilities, one_hots


def stage_names(iterations: int) -> tuple[str, ...]:
    """The stages a pipeline of `iterations` passes answers at, in order.

    Args:
        iterations: the number of separation passes, at least 1.

    Returns:
        fss1_cp1, fss1_cp1-1, then with 2 passes or more fss2_cp1-1, fss2_cp2, then fss{k}_cp{k}
        for k = 3 … iterations.

    Raises:
        S5Error: iterations < 1.
    """
    if iterations < 1:
        raise S5Error(f"iterations must be at least 1, not {iterations}")
    names = ["fss1_cp1", "fss1_cp1-1"]
    if iterations >= 2:
        names += ["fss2_cp1-1", "fss2_cp2"]
    names += [f"fss{k}_cp{k}" for k in range(3, iterations + 1)]
    return tuple(names)


def iterations_for(stage: str) -> int:
    """The number of passes a stage needs: fss{k}_… -> k.

    Args:
        stage: a stage name, e.g. `fss2_cp1-1`.

    Returns:
        k, read from the characters after `fss` before the first `_` (not checked to be a stage).

    Raises:
        S5Error: those characters are not a whole number.
    """
    try:
        return int(stage.split("_")[0][3:])
    except ValueError:
        raise S5Error(f"{stage!r} is not an ablation stage name like fss3_cp3") from None


class SelfGuided(System):
    """The self-guided pipeline: USS, then M2D-SC classification and TSE passes, one stage per step.

    Args:
        uss: the USS checkpoint (task `uss`: waveforms, class logits, silence logits per slot).
        sc: the M2D-SC source classifier's checkpoint (task `sc`).
        tse: the TSE checkpoint (task `tse`).
        iterations: separation passes, at least 1 (3: the paper's five stages).
        silence_threshold: the USS silence probability above which a slot is silent.
        split_gap_s: on 2026 data only, cut a labelled USS output at a silent gap at least this
            long (seconds) into two targets of its class, where a slot is free (None: never).
    """

    def __init__(self, uss: str | Path, sc: str | Path, tse: str | Path, iterations: int = 3,
                 silence_threshold: float = 0.5, split_gap_s: float | None = None):
        super().__init__()
        self.uss, _ = load_component(uss, expect_task="uss")
        self.sc = load_as(sc, "sc", EnergySourceClassifier)
        self.tse, _ = load_component(tse, expect_task="tse")
        self.iterations, self.silence_threshold = iterations, silence_threshold
        if split_gap_s is not None and not split_gap_s > 0:
            raise S5Error(f"split_gap_s must be a positive number of seconds or None, not {split_gap_s!r}")
        self.split_gap_s = split_gap_s
        self.stages = stage_names(iterations)

    def classify(self, waves: torch.Tensor, keep: list[list[bool]] | None = None,
                 edition: int = 2025) -> list[list[str]]:
        """M2D-SC on every slot: (B, S, T) -> labels; slots with keep False stay silent.

        Args:
            waves: the slots' waveforms, shape (B, S, T).
            keep: B lists of S flags; False makes a slot silent (None: keep all).
            edition: 2025 or 2026 (in 2025 a class in several slots keeps the slot of lowest M2D-SC
                energy, the most confident one).

        Returns:
            B lists of S labels.
        """
        return self.classify_scored(waves, keep, edition)[0]

    def classify_scored(self, waves: torch.Tensor, keep: list[list[bool]] | None = None,
                        edition: int = 2025) -> tuple[list[list[str]], torch.Tensor]:
        """`classify`'s labels and each slot's M2D-SC softmax probability of its label, (B, S)
        (1.0 for a silent slot: the SC has no silence class).

        Args:
            waves, keep, edition: as `classify`.

        Returns:
            (B lists of S labels, (B, S) probabilities).
        """
        B, S, T = waves.shape
        labels, energies, probs = self.sc.classify_scored(waves.reshape(B * S, T))
        out = []
        for b in range(B):
            row = labels[b * S:(b + 1) * S]
            if keep is not None:
                row = [lab if keep[b][s] else SILENCE for s, lab in enumerate(row)]
            # 2025: a class fills one slot; 2026: two objects of one class are two targets
            out.append(row if repeated_classes_allowed(edition) else dedupe(row, -energies[b * S:(b + 1) * S]))
        silent = torch.tensor([[lab == SILENCE for lab in row] for row in out], device=probs.device)
        return out, probs.reshape(B, S).masked_fill(silent, 1.0)

    def extract(self, mixture: torch.Tensor, enrollments: torch.Tensor, labels: list[list[str]]) -> torch.Tensor:
        """One TSE pass over the non-silent slots.

        Args:
            mixture: (B, 4, T) mixtures.
            enrollments: (B, S, T) each slot's current waveform.
            labels: B lists of S labels; the TSE is queried with each slot's class.

        Returns:
            (B, S, T) the extracted waveforms; zeros for silent slots.
        """
        out = torch.zeros_like(enrollments)
        hots = one_hots(labels, mixture.device)
        b_idx, s_idx = torch.nonzero(hots.sum(-1) > 0, as_tuple=True)
        if len(b_idx):
            out[b_idx, s_idx] = self.tse(mixture[b_idx], enrollments[b_idx, s_idx], hots[b_idx, s_idx])
        return out

    @staticmethod
    def split_disjoint(waves: torch.Tensor, labels: list[list[str]], probs: torch.Tensor, gap_s: float
                       ) -> tuple[torch.Tensor, list[list[str]], torch.Tensor, torch.Tensor]:
        """Cut each labelled slot that holds two events far apart in time (`split_point` with
        `gap_s`) into two slots of its class: the part after the cut moves to the first silent
        slot, while one is left. A part is not cut again. The inputs are left as they are.

        Args:
            waves: (B, S, T) the slots' waveforms.
            labels: B lists of S labels.
            probs: (B, S) each slot's probability of its label.
            gap_s: the shortest silent gap, in seconds, that separates two events.

        Returns:
            (waves, labels, probs) with the cut slots, as new objects, and (B, S, T) masks: 1 on
            each part's side of its cut, 1 everywhere for a slot not cut.
        """
        waves, probs = waves.clone(), probs.clone()
        labels = [list(row) for row in labels]
        masks = torch.ones_like(waves)
        for b, row in enumerate(labels):
            free = [s for s, lab in enumerate(row) if lab == SILENCE]
            for s, lab in enumerate(list(row)):
                if not free:
                    break
                if lab == SILENCE:
                    continue
                cut = split_point(waves[b, s].detach().float().cpu().numpy(), gap_s)
                if cut is None:
                    continue
                f = free.pop(0)
                row[f], probs[b, f] = lab, probs[b, s]
                masks[b, s, cut:] = 0
                masks[b, f, :cut] = 0
                waves[b, f] = waves[b, s] * masks[b, f]
                waves[b, s] = waves[b, s] * masks[b, s]
        return waves, labels, probs, masks

    def forward(self, mixture: torch.Tensor, batch: SystemBatch) -> dict[str, SlotOutput]:
        """Every stage of the pipeline from one pass (see the module's docstring).

        Args:
            mixture: tensor of shape (batch, 4, samples) at 32 kHz.
            batch: the data set's batch; only its `edition` is read.

        Returns:
            {stage: SlotOutput} for every name in `stages`.
        """
        edition = batch["edition"]
        res = self.uss(mixture)
        n_fg = self.uss.n_fg
        waves = res["waveforms"][:, :n_fg]
        p_silent = torch.sigmoid(res["silence_logit"][:, :n_fg])
        silent = p_silent > self.silence_threshold
        labels = argmax_labels(res["class_logits"][:, :n_fg], silent, unique=not repeated_classes_allowed(edition))
        # the USS class decoder's softmax of each label; its silence branch's sigmoid for a silent slot
        probs = label_probabilities(labels, torch.softmax(res["class_logits"][:, :n_fg], -1), p_silent)
        out = {"fss1_cp1": SlotOutput(labels, waves, probs)}
        labels, probs = self.classify_scored(waves, edition=edition)
        masks = None
        if self.split_gap_s is not None and repeated_classes_allowed(edition):
            waves, labels, probs, masks = self.split_disjoint(waves, labels, probs, self.split_gap_s)
        out["fss1_cp1-1"] = SlotOutput(labels, waves, probs)
        for k in range(2, self.iterations + 1):
            waves = self.extract(mixture, waves, labels)
            if masks is not None:  # the TSE hears the whole mixture: keep each part to its side
                waves = waves * masks
            keep = [[lab != SILENCE for lab in row] for row in labels]
            out[f"fss{k}_cp{k - 1}" if k > 2 else "fss2_cp1-1"] = SlotOutput(labels, waves, probs)
            labels, probs = self.classify_scored(waves, keep, edition)
            out[f"fss{k}_cp{k}"] = SlotOutput(labels, waves, probs)
        return out
