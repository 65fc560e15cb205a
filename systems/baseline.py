"""The official baseline as a system: M2D-AT tags the mixture, ResUNetK extracts each tagged
class (1–3 slots in class-index order, the rest silence)."""
from __future__ import annotations

from pathlib import Path

import torch

from s5bench.common.errors import S5Error
from s5bench.data_gen.schema import SystemBatch

from .base import SlotOutput, System
from .models.checkpoints import load_component, resolve
from .models.m2d import M2DTagger
from .models.resunet import ResUNetK
from .official import SOURCES_2025, check_official_files, load_tagger_2025
from .slots import label_probabilities, one_hots


class Baseline(System):
    """tagger/separator: checkpoints exported by runners/train.py, or, with `official: true`,
    the baseline repository's `m2dat.ckpt` (+ `weight_file`, the M2D .pth it was built on) and
    `resunetk.ckpt`. `oracle_labels: true` queries the separator with the true labels (the
    separator's own upper bound).

    Args:
        tagger: the M2D-AT checkpoint (not needed with `oracle_labels`).
        separator: the ResUNetK checkpoint.
        official: load the baseline repository's released files (checked to exist first).
        weight_file: the M2D weight file the released tagger was built on (with `official`).
        oracle_labels: query the separator with the batch's true labels instead of the tagger's.
        threshold: the tagger's sigmoid threshold for a class to be tagged.

    Raises:
        S5Error: no `separator`, or no `tagger` without `oracle_labels`.
        FileNotFoundError: with `official`, a released file is missing (`check_official_files`).
    """

    stages = ("final",)

    def __init__(self, tagger: str | Path | None = None, separator: str | Path | None = None, official: bool = False,
                 weight_file: str | Path | None = None, oracle_labels: bool = False, threshold: float = 0.5):
        super().__init__()
        self.oracle_labels, self.threshold = oracle_labels, threshold
        if separator is None or (tagger is None and not oracle_labels):
            raise S5Error("the baseline needs `separator`, and `tagger` unless `oracle_labels: true`")
        if official:
            if tagger is not None and weight_file is None:  # the released tagger is built on an M2D weight file
                raise S5Error("the official baseline's tagger needs `weight_file` (the M2D weight file it was "
                              "built on; see configs/systems/baseline_official.yaml)")
            tagger, separator, weight_file = (resolve(p) if p else None for p in (tagger, separator, weight_file))
            check_official_files({"separator": separator, "tagger": tagger, "weight_file": weight_file},
                                 SOURCES_2025, "the official baseline", "configs/systems/baseline_official.yaml")
            self.separator = ResUNetK()
            self.separator.load_official(separator)
            self.tagger = load_tagger_2025(tagger, weight_file) if tagger and weight_file else None
        else:
            self.separator, _ = load_component(separator, expect_task="separator")
            self.tagger = None if oracle_labels else load_component(tagger, expect_task="tagger")[0]

    def forward(self, mixture: torch.Tensor, batch: SystemBatch) -> dict[str, SlotOutput]:
        """The tagger's classes (or the true labels) extracted by the separator.

        Args:
            mixture: tensor of shape (batch, 4, samples) at 32 kHz.
            batch: the data set's batch (its `labels` read with `oracle_labels` only).

        Returns:
            {"final": SlotOutput}: the classes tagged with p ≥ threshold (at least the top 1, at
            most the top 3) in class-index order, the other slots silence; the separator's channel-0
            output per slot (queried with the slots' one-hots, flattened); the tagger's probability
            of each label (None with `oracle_labels`: 1.0 for every slot).
        """
        probabilities = None  # true labels: 1.0, as the official evaluation gives them
        if self.oracle_labels:
            labels = batch["labels"]
        else:
            assert self.tagger is not None  # __init__ refuses a config without one
            tags = self.tagger(mixture[:, 0])  # (B, 18) sigmoid
            labels = M2DTagger.pick_labels(tags, threshold=self.threshold)
            probabilities = label_probabilities(labels, tags)  # a padding silent slot: 1.0
        query = one_hots(labels, mixture.device).reshape(len(labels), -1)
        return {"final": SlotOutput(labels, self.separator(mixture, query)[:, :, 0], probabilities)}
