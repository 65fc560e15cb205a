"""The DCASE 2026 baseline's taggers: M2D-AT with 3 output slots × 19-way softmax (18 classes and
silence), trained with permutation-invariant cross-entropy (`training.losses.pit_cross_entropy`),
on channel 0 (`M2DSlotTagger`, the official `M2dAt` with `ref_channel: 0`) or on all four
channels (`M2DSpatialSlotTagger`, the official `M2dAtSpatial` with `head_layer:
catchan_average_linear`: one M2D encoder runs on each channel, the four feature vectors of a
time step are concatenated channel by channel, and the head sees 4·D features).

The head has the 2026 baseline's parameter names (its `HeadAvgLinear`, `head_layer:
average_linear`): the encoder's features averaged over time -> `m2d_out_norm` (BatchNorm, no
affine) -> `linear` (Linear D -> 3·1024, LayerNorm, ReLU) -> per slot `tracks.<i>` (Linear
1024 -> 512, LayerNorm, ReLU, Linear 512 -> 19). Slot i's argmax is its label; index 18 is
silence. A class may come out in several slots (2026).
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch
from torch import nn

from s5bench.common.errors import S5Error
from s5bench.common.labels import LABELS, SILENCE

from .m2d import M2DTagger

N_SLOT_CLASSES = len(LABELS) + 1  # the 18 classes, then silence
SLOT_LABELS = tuple(LABELS) + (SILENCE,)


def pick_slot_labels(probs: torch.Tensor) -> list[list[str]]:
    """Each slot's most probable entry (silence included).

    Args:
        probs: slot probabilities or logits of shape (B, slots, 19), index 18 silence.

    Returns:
        B lists of one label per slot (a class name or `silence`); a class may repeat.
    """
    return [[SLOT_LABELS[int(i)] for i in row] for row in probs.argmax(-1)]


class SlotHead(nn.Module):
    """The 2026 baseline's slot head (`HeadAvgLinear`): time mean -> `m2d_out_norm` -> `linear` ->
    one `tracks.<i>` MLP per slot.

    Args:
        feature_d: width of the encoder's frame features.
        n_slots: output slots.
        n_classes: entries per slot (19: the 18 classes and silence).
        track_input_dim: width of each slot's share of the shared Linear's output.
        track_hidden_dim: hidden width of each slot's MLP.
    """

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
        """(B, frames, D) encoder features -> (B, n_slots, n_classes) logits.

        Args:
            features: encoder frame features of shape (B, frames, feature_d).

        Returns:
            Logits of shape (B, n_slots, n_classes).
        """
        x = self.linear(self.m2d_out_norm(features.mean(1)))
        x = x.reshape(len(x), self.n_slots, self.track_input_dim)
        return torch.stack([track(x[:, i]) for i, track in enumerate(self.tracks)], dim=1)


class M2DSlotTagger(M2DTagger):
    """The 1-channel 2026 tagger (`M2dAt`): channel 0 -> 3 slot labels (repeats allowed).

    Args:
        n_slots: output slots.
        track_input_dim: the slot head's per-slot input width.
        track_hidden_dim: the slot head's hidden width.
        **encoder_kw: M2DEncoder's arguments (input_size, patch_size, sr, embed_dim, depth, num_heads).
    """

    def __init__(self, n_slots: int = 3, track_input_dim: int = 1024, track_hidden_dim: int = 512, **encoder_kw):
        super().__init__(**encoder_kw)
        self.head = SlotHead(self.encoder.feature_d, n_slots, N_SLOT_CLASSES, track_input_dim, track_hidden_dim)

    def logits(self, wave: torch.Tensor) -> torch.Tensor:
        """Slot logits of channel-0 audio.

        Args:
            wave: the mixtures' channel 0, shape (B, samples) at 32 kHz.

        Returns:
            Logits of shape (B, n_slots, 19) (index 18: silence).
        """
        return self.head(self.encoder(wave))

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """(B, T) channel-0 audio -> (B, n_slots, 19) slot probabilities.

        Args:
            wave: the mixtures' channel 0, shape (B, samples) at 32 kHz.

        Returns:
            Probabilities of shape (B, n_slots, 19), a softmax per slot (index 18: silence).
        """
        return torch.softmax(self.logits(wave), dim=-1)

    def mixture_logits(self, mixture: torch.Tensor) -> torch.Tensor:
        """(B, 4, T) mixture -> (B, n_slots, 19) logits, from the reference channel 0.

        Args:
            mixture: mixtures of shape (B, channels, samples) at 32 kHz; only channel 0 is read.

        Returns:
            Logits of shape (B, n_slots, 19) (index 18: silence).
        """
        return self.logits(mixture[:, 0])

    @staticmethod
    def pick_labels(probs: torch.Tensor, threshold: float = 0.5, n_min: int = 1, n_max: int = 3) -> list[list[str]]:
        """Each slot's most probable entry (`pick_slot_labels`). The base tagger's threshold and
        count limits do not apply to slots: only their defaults are accepted.

        Args:
            probs: slot probabilities of shape (B, n_slots, 19), as `forward` gives.
            threshold: must be 0.5 (the base tagger's default).
            n_min: must be 1.
            n_max: must be 3.

        Returns:
            B lists of one label per slot (a class name or `silence`).

        Raises:
            S5Error: for any other threshold, n_min or n_max.
        """
        if (threshold, n_min, n_max) != (0.5, 1, 3):
            raise S5Error("a slot tagger takes each slot's most probable entry: threshold, n_min and n_max "
                          "do not apply")
        return pick_slot_labels(probs)


class M2DSpatialSlotTagger(nn.Module):
    """The 4-channel 2026 tagger (`M2dAtSpatial`). Official names: `m2d.backbone.*`,
    `m2d.head_norm.*` (built by the official class, unused) and `head.*` (`SlotHead` on n·D).

    Args:
        n_channels: input channels, each through the one shared M2D encoder.
        n_slots: output slots.
        track_input_dim: the slot head's per-slot input width.
        track_hidden_dim: the slot head's hidden width.
        **encoder_kw: M2DEncoder's arguments (input_size, patch_size, sr, embed_dim, depth, num_heads).
    """

    def __init__(self, n_channels: int = 4, n_slots: int = 3, track_input_dim: int = 1024,
                 track_hidden_dim: int = 512, **encoder_kw):
        super().__init__()
        self.n_channels = n_channels
        self.m2d = M2DTagger(**encoder_kw)
        self.m2d.head = nn.Identity()  # as the official inner M2dAt (`head_layer: identity`)
        self.head = SlotHead(n_channels * self.m2d.encoder.feature_d, n_slots, N_SLOT_CLASSES, track_input_dim,
                             track_hidden_dim)

    def mixture_logits(self, mixture: torch.Tensor) -> torch.Tensor:
        """(B, C, T) mixture -> (B, n_slots, 19) logits.

        Args:
            mixture: mixtures of shape (B, n_channels, samples) at 32 kHz.

        Returns:
            Logits of shape (B, n_slots, 19) (index 18: silence).

        Raises:
            S5Error: If the mixture does not have n_channels channels.
        """
        B, C, T = mixture.shape
        if C != self.n_channels:
            raise S5Error(f"the spatial tagger takes {self.n_channels}-channel mixtures, got {C} channels")
        feats = self.m2d.encoder(mixture.reshape(B * C, T))  # (B·C, frames, D)
        _, frames, D = feats.shape
        feats = feats.reshape(B, C, frames, D).permute(0, 2, 1, 3).reshape(B, frames, C * D)
        return self.head(feats)

    def forward(self, mixture: torch.Tensor) -> torch.Tensor:
        """(B, C, T) mixture -> (B, n_slots, 19) slot probabilities.

        Args:
            mixture: mixtures of shape (B, n_channels, samples) at 32 kHz.

        Returns:
            Probabilities of shape (B, n_slots, 19), a softmax per slot (index 18: silence).

        Raises:
            S5Error: If the mixture does not have n_channels channels.
        """
        return torch.softmax(self.mixture_logits(mixture), dim=-1)

    pick_labels = staticmethod(pick_slot_labels)


@runtime_checkable
class SlotTagger(Protocol):
    """What a 2026 system asks of a slot tagger (`M2DSlotTagger`, `M2DSpatialSlotTagger`, the CPU
    size class's `cpu_classifier.CNNSlotTagger`)."""

    def mixture_logits(self, mixture: torch.Tensor) -> torch.Tensor:
        """Slot logits of a batch of mixtures.

        Args:
            mixture: mixtures of shape (B, channels, samples) at 32 kHz (4 channels in s5bench).

        Returns:
            Logits of shape (B, slots, 19) (index 18: silence).
        """
        ...


def as_slot_tagger(model: nn.Module, where: object) -> SlotTagger:
    """`model` typed as a slot tagger (1 or 4 channels).

    Args:
        model: a loaded model.
        where: what it was loaded from (its checkpoint), named in the error.

    Returns:
        The same model.

    Raises:
        S5Error: naming `where` (its checkpoint) if it is another model.
    """
    if not isinstance(model, SlotTagger):  # has mixture_logits: M2D's two slot taggers, the CPU size's CNN one
        raise S5Error(f"{where}: a {type(model).__name__}, not a slot tagger")
    return model
