"""The DCASE 2026 baseline as a system: an M2D-AT slot tagger (3 slots × 19-way softmax, on
channel 0 or on all four channels) names up to three targets, a class possibly twice; ResUNetK
extracts each slot queried by its one-hot (silence queried with zeros).

As the official `S5.predict_label_separate`: slots keep the tagger's order except that silent
slots move to the end (stable), and the separator gets the flattened 3 × 18 query.
"""
from __future__ import annotations

import torch

from s5bench.common.labels import SILENCE

from .base import SlotOutput, System
from .baseline import check_official_files
from .models.checkpoints import build_model, load_component, resolve
from .models.m2d import M2DEncoder
from .models.m2d_slots import pick_slot_labels
from .models.resunet import ResUNetK, strip_prefix
from .models.state_dicts import load_state_dict_strict, read_record
from .slots import dedupe, one_hots

OFFICIAL_SOURCES = {
    "separator": "resunetk.ckpt of the nttcslab/dcase2026_task4_baseline release",
    "tagger": "m2dat_1c.ckpt or m2dat_4c.ckpt of the nttcslab/dcase2026_task4_baseline release",
    "weight_file": "m2d_as_vit_base-80x1001p16x16p32k-240413_AS-FT_enconly.zip of the nttcslab/m2d v0.3.0 release",
}


def load_official_tagger(path, weight_file, n_channels: int, head_args: dict | None = None) -> torch.nn.Module:
    """A released 2026 tagger checkpoint (Lightning: keys under `model.`), loaded strictly.
    head_args: the official config's (track_input_dim 1024, track_hidden_dim 512)."""
    tagger = build_model("slot_tagger", {**M2DEncoder.weight_file_config(weight_file), **(head_args or {}),
                                         "n_channels": n_channels})
    state = read_record(path)
    state = strip_prefix(state.get("state_dict", state), "head.m2d_out_norm.running_mean")  # both taggers have it
    # the official front end's fixed STFT/mel tables (nnAudio) are not parameters here
    state = {k: v for k, v in state.items() if "to_spec." not in k}
    load_state_dict_strict(tagger, state, source=str(path))
    return tagger


def order_slots(labels: list[str]) -> list[str]:
    """Silent slots to the end, the others in their order (the official stable sort)."""
    return [x for x in labels if x != SILENCE] + [x for x in labels if x == SILENCE]


class Baseline2026(System):
    """tagger/separator: checkpoints exported by runners/train.py (tasks `slot_tagger`,
    `separator`), or, with `official: true`, the released `m2dat_1c.ckpt`/`m2dat_4c.ckpt`
    (`n_channels` 1 or 4, + `weight_file`) and `resunetk.ckpt`. Run on 2025 data, a class the
    tagger names twice keeps its most probable slot (2025 allows each class once)."""

    stages = ("final",)

    def __init__(self, tagger, separator, official=False, weight_file=None, n_channels=1, head_args=None):
        super().__init__()
        if official:
            tagger, separator, weight_file = (resolve(p) for p in (tagger, separator, weight_file))
            check_official_files({"tagger": tagger, "separator": separator, "weight_file": weight_file},
                                 OFFICIAL_SOURCES, "the 2026 baseline", "configs/systems/baseline2026_official.yaml")
            self.tagger = load_official_tagger(tagger, weight_file, int(n_channels), head_args)
            self.separator = ResUNetK()
            self.separator.load_official(separator)
        else:
            self.tagger, _ = load_component(tagger, expect_task="slot_tagger")
            self.separator, _ = load_component(separator, expect_task="separator")

    def forward(self, mixture, batch):
        probs = torch.softmax(self.tagger.mixture_logits(mixture), dim=-1)  # channel 0 or all four
        labels = pick_slot_labels(probs)
        if self.edition == 2025:
            labels = [dedupe(row, p.max(-1).values) for row, p in zip(labels, probs)]
        labels = [order_slots(row) for row in labels]
        query = one_hots(labels, mixture.device).reshape(len(labels), -1)
        return {"final": SlotOutput(labels, self.separator(mixture, query)[:, :, 0])}
