"""The DCASE 2026 baseline as a system: an M2D-AT slot tagger (3 slots × 19-way softmax, on
channel 0 or on all four channels) names up to three targets, a class possibly twice; ResUNetK
extracts each slot queried by its one-hot (silence queried with zeros).

As the official `S5.predict_label_separate`: slots keep the tagger's order except that silent
slots move to the end (stable), and the separator gets the flattened 3 × 18 query.
"""
from __future__ import annotations

from pathlib import Path

import torch

from s5bench.common.editions import repeated_classes_allowed
from s5bench.common.errors import S5Error
from s5bench.common.labels import SILENCE
from s5bench.data_gen.schema import SystemBatch

from .base import SlotOutput, System
from .models.checkpoints import load_component, resolve
from .models.m2d_slots import as_slot_tagger, pick_slot_labels
from .models.resunet import ResUNetK
from .official import SOURCES_2026, check_official_files, load_tagger_2026
from .slots import dedupe, label_probabilities, one_hots


def order_slots(labels: list[str]) -> list[str]:
    """Silent slots to the end, the others in their order (the official stable sort).

    Args:
        labels: one mixture's slot labels.

    Returns:
        The same labels, the non-silent ones first.
    """
    return [labels[i] for i in slot_order(labels)]


def slot_order(labels: list[str]) -> list[int]:
    """The slots' indices in `order_slots`' order (to move their probabilities along).

    Args:
        labels: one mixture's slot labels.

    Returns:
        The indices of the non-silent slots, then of the silent ones, each in slot order.
    """
    return [i for i, x in enumerate(labels) if x != SILENCE] + [i for i, x in enumerate(labels) if x == SILENCE]


class Baseline2026(System):
    """tagger/separator: checkpoints exported by runners/train.py (tasks `slot_tagger`,
    `separator`), or, with `official: true`, the released `m2dat_1c.ckpt`/`m2dat_4c.ckpt`
    (`n_channels` 1 or 4, + `weight_file`) and `resunetk.ckpt`. Run on 2025 data, a class the
    tagger names twice keeps its most probable slot (2025 allows each class once).

    Args:
        tagger: the slot tagger's checkpoint (released or exported).
        separator: the ResUNetK checkpoint.
        official: load the released files (checked to exist first).
        weight_file: the M2D weight file the released tagger was built on (with `official`).
        n_channels: the released tagger's input channels, 1 or 4 (with `official`).
        head_args: the released slot head's sizes (with `official`; None: the defaults).

    Raises:
        FileNotFoundError: with `official`, a released file is missing (`check_official_files`).
    """

    stages = ("final",)

    def __init__(self, tagger: str | Path, separator: str | Path, official: bool = False,
                 weight_file: str | Path | None = None, n_channels: int = 1, head_args: dict | None = None):
        super().__init__()
        if official:
            if weight_file is None:  # the released tagger is built on an M2D weight file
                raise S5Error("the official 2026 baseline's tagger needs `weight_file` (the M2D weight file it was "
                              "built on; see configs/systems/baseline2026_official.yaml)")
            tagger, separator, weight_file = (resolve(p) for p in (tagger, separator, weight_file))
            check_official_files({"tagger": tagger, "separator": separator, "weight_file": weight_file},
                                 SOURCES_2026, "the 2026 baseline", "configs/systems/baseline2026_official.yaml")
            self.tagger = as_slot_tagger(load_tagger_2026(tagger, weight_file, int(n_channels), head_args), tagger)
            self.separator = ResUNetK()
            self.separator.load_official(separator)
        else:
            self.tagger = as_slot_tagger(load_component(tagger, expect_task="slot_tagger")[0], tagger)
            self.separator, _ = load_component(separator, expect_task="separator")

    def forward(self, mixture: torch.Tensor, batch: SystemBatch) -> dict[str, SlotOutput]:
        """Each slot's most probable entry of the tagger, extracted by the separator.

        Args:
            mixture: tensor of shape (batch, 4, samples) at 32 kHz.
            batch: the data set's batch; only its `edition` is read.

        Returns:
            {"final": SlotOutput}: the slots' labels (a class twice only in 2026; in 2025 the less
            probable slot becomes silence), silent slots last; the separator's channel-0 output per
            slot; each slot's softmax probability of its label (of silence for a silent slot).
        """
        probs = torch.softmax(self.tagger.mixture_logits(mixture), dim=-1)  # channel 0 or all four
        labels = pick_slot_labels(probs)
        if not repeated_classes_allowed(batch["edition"]):
            labels = [dedupe(row, p.max(-1).values) for row, p in zip(labels, probs)]
        # each slot's softmax probability of its label (silence is the 19th entry), as the official S5
        chosen = label_probabilities(labels, probs[..., :-1], probs[..., -1])
        orders = [slot_order(row) for row in labels]
        labels = [[row[i] for i in order] for row, order in zip(labels, orders)]
        chosen = torch.stack([p[order] for p, order in zip(chosen, orders)])
        query = one_hots(labels, mixture.device).reshape(len(labels), -1)
        return {"final": SlotOutput(labels, self.separator(mixture, query)[:, :, 0], chosen)}
