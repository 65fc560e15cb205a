"""The DCASE 2026 baseline's tagger: M2D-AT with 3 output slots × 19-way softmax (18 classes and
silence), trained with permutation-invariant cross-entropy (`training.losses.pit_cross_entropy`).

The head has the 2026 baseline's parameter names (its `HeadAvgLinear`, `head_layer:
average_linear`): the encoder's features averaged over time -> `m2d_out_norm` (BatchNorm, no
affine) -> `linear` (Linear D -> 3·1024, LayerNorm, ReLU) -> per slot `tracks.<i>` (Linear
1024 -> 512, LayerNorm, ReLU, Linear 512 -> 19). Slot i's argmax is its label; index 18 is
silence. A class may come out in several slots (2026).
"""
from __future__ import annotations

import torch
from torch import nn

from common.labels import LABELS, SILENCE

from .m2d import M2DTagger

N_SLOT_CLASSES = len(LABELS) + 1  # the 18 classes, then silence
SLOT_LABELS = tuple(LABELS) + (SILENCE,)


class SlotHead(nn.Module):
    def __init__(self, feature_d: int, n_slots: int = 3, n_classes: int = N_SLOT_CLASSES,
                 track_input_dim: int = 1024, track_hidden_dim: int = 512):
        super().__init__()
        self.n_slots, self.track_input_dim = n_slots, track_input_dim
        self.m2d_out_norm = nn.BatchNorm1d(feature_d, affine=False)
        self.linear = nn.Sequential(nn.Linear(feature_d, track_input_dim * n_slots),
                                    nn.LayerNorm(track_input_dim * n_slots), nn.ReLU())
        self.tracks = nn.ModuleList(
            nn.Sequential(nn.Linear(track_input_dim, track_hidden_dim), nn.LayerNorm(track_hidden_dim), nn.ReLU(),
                          nn.Linear(track_hidden_dim, n_classes)) for _ in range(n_slots))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """(B, frames, D) encoder features -> (B, n_slots, n_classes) logits."""
        x = self.linear(self.m2d_out_norm(features.mean(1)))
        x = x.reshape(len(x), self.n_slots, self.track_input_dim)
        return torch.stack([track(x[:, i]) for i, track in enumerate(self.tracks)], dim=1)


class M2DSlotTagger(M2DTagger):
    """The 1-channel 2026 tagger (`M2dAt`): channel 0 -> 3 slot labels (repeats allowed)."""

    def __init__(self, n_slots: int = 3, track_input_dim: int = 1024, track_hidden_dim: int = 512, **encoder_kw):
        super().__init__(**encoder_kw)
        self.head = SlotHead(self.encoder.feature_d, n_slots, N_SLOT_CLASSES, track_input_dim, track_hidden_dim)

    def logits(self, wave: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(wave))

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """(B, T) channel-0 audio -> (B, n_slots, 19) slot probabilities."""
        return torch.softmax(self.logits(wave), dim=-1)

    @staticmethod
    def pick_labels(probs: torch.Tensor) -> list[list[str]]:
        """Each slot's most probable entry (silence included)."""
        return [[SLOT_LABELS[int(i)] for i in row] for row in probs.argmax(-1)]
