"""CPU-size source classifier (SC): the framework of M2D-SC (cosine head, ArcFace + KL-to-uniform
training, the energy E(x) = −log Σ exp(l_k) with class-specific silence thresholds, the energy
hinge) on a small CNN over log-mel instead of the 85 M-parameter M2D ViT, which cannot be trained
from scratch on a CPU. Departure, and why: a few convolution blocks learn to tell 18 classes of
isolated sounds within minutes of one core; the head, the losses and the silence decision are
the paper's (`m2d_sc.EnergySourceClassifier`).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from s5bench.common.labels import LABELS

from .blocks import LogMel
from .m2d_sc import EnergySourceClassifier
from .m2d_slots import N_SLOT_CLASSES, SlotHead, pick_slot_labels


class CNNEncoder(nn.Module):
    """(N, T) audio -> (N, 2·channels[-1]) features: log-mel (64 bins), conv blocks (3×3, BatchNorm,
    ReLU, 2×2 max-pool), then the mean over frequency and the mean and max over time.

    Args:
        channels: output widths of the conv blocks, one block each.
        n_mels: log-mel bins (n_fft 1024, hop 320 samples at 32 kHz).
    """

    def __init__(self, channels: Sequence[int] = (32, 64, 96, 128), n_mels: int = 64):
        super().__init__()
        self.to_lms = LogMel(n_mels=n_mels, n_fft=1024, hop=320)
        layers, c_in = [], 1
        for c in channels:
            layers += [nn.Conv2d(c_in, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d(2)]
            c_in = c
        self.convs = nn.Sequential(*layers)
        self.feature_d = 2 * channels[-1]

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """Pooled CNN features of mono audio.

        Args:
            wave: mono waveforms of shape (N, samples) at 32 kHz.

        Returns:
            Features of shape (N, feature_d), feature_d = 2·channels[-1]: the time mean, then the time max.
        """
        h = self.convs(self.to_lms(wave)[:, None]).mean(2)  # (N, C, frames)
        return torch.cat([h.mean(-1), h.amax(-1)], dim=-1)


class CNNSC(EnergySourceClassifier):
    """The CPU-size SC: `CNNEncoder` features under the M2D-SC head (`EnergySourceClassifier`).

    Args:
        n_classes: number of classes (18).
        scale: the logits' scale s (logits = s·cos θ).
        channels: the CNN's conv block widths.
        n_mels: log-mel bins.
    """

    def __init__(self, n_classes: int = len(LABELS), scale: float = 32.0,
                 channels: Sequence[int] = (32, 64, 96, 128), n_mels: int = 64):
        encoder = CNNEncoder(tuple(channels), n_mels)
        super().__init__(encoder.feature_d, n_classes, scale)
        self.encoder = encoder

    def features(self, wave: torch.Tensor) -> torch.Tensor:
        """The CNN's features, before the head's BatchNorm.

        Args:
            wave: single-source waveforms of shape (N, samples) at 32 kHz.

        Returns:
            Features of shape (N, 2·channels[-1]).
        """
        return self.encoder(wave)


class CNNTagger(nn.Module):
    """The CPU-size baseline's audio tagger (M2D-AT's role): the SC's log-mel CNN on the mixture's
    channel 0 with a linear multi-label head; `logits` and `forward` (probabilities) as M2DTagger,
    so the baseline system and the tagger task use it unchanged.

    Args:
        n_classes: number of classes (18).
        channels: the CNN's conv block widths.
        n_mels: log-mel bins.
    """

    def __init__(self, n_classes: int = len(LABELS), channels: Sequence[int] = (32, 64, 96, 128), n_mels: int = 64):
        super().__init__()
        self.encoder = CNNEncoder(tuple(channels), n_mels)
        self.head = nn.Linear(self.encoder.feature_d, n_classes)

    def logits(self, wave: torch.Tensor) -> torch.Tensor:
        """Multi-label class logits.

        Args:
            wave: the mixtures' channel 0, shape (batch, samples) at 32 kHz.

        Returns:
            Logits of shape (batch, n_classes).
        """
        return self.head(self.encoder(wave))

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """Per-class probabilities (independent sigmoids).

        Args:
            wave: the mixtures' channel 0, shape (batch, samples) at 32 kHz.

        Returns:
            Probabilities in [0, 1] of shape (batch, n_classes).
        """
        return torch.sigmoid(self.logits(wave))


class CNNSlotTagger(nn.Module):
    """The CPU-size 2026 tagger (the official 2026 `M2dAt`'s role): the SC's log-mel CNN on the
    mixture's channel 0 and the 2026 baseline's slot head (`m2d_slots.SlotHead`: 3 slots × 19
    entries, index 18 silence), trained with PIT cross-entropy (task `slot_tagger`). It answers a
    label multiset: a class may fill two slots, and every slot may be silent (no target).

    Args:
        channels: the CNN's conv block widths (the SC's and `CNNTagger`'s by default, so the
            encoder can start from a trained CPU tagger: recipe key `init_modules: [encoder]`).
        n_mels: log-mel bins.
        track_input_dim, track_hidden_dim: the slot head's widths.
    """

    def __init__(self, channels: Sequence[int] = (32, 64, 96, 128), n_mels: int = 64, track_input_dim: int = 128,
                 track_hidden_dim: int = 64):
        super().__init__()
        self.encoder = CNNEncoder(tuple(channels), n_mels)
        self.head = SlotHead(self.encoder.feature_d, 3, N_SLOT_CLASSES, track_input_dim, track_hidden_dim)

    def logits(self, wave: torch.Tensor) -> torch.Tensor:
        """Slot logits of channel-0 audio.

        Args:
            wave: the mixtures' channel 0, shape (B, samples) at 32 kHz.

        Returns:
            (B, 3, 19) logits (index 18: silence).
        """
        return self.head(self.encoder(wave)[:, None])  # one "frame": the CNN pools over time itself

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """(B, T) channel-0 audio -> (B, 3, 19) slot probabilities.

        Args:
            wave: the mixtures' channel 0, shape (B, samples) at 32 kHz.

        Returns:
            Probabilities of shape (B, 3, 19), a softmax per slot (index 18: silence).
        """
        return torch.softmax(self.logits(wave), dim=-1)

    def mixture_logits(self, mixture: torch.Tensor) -> torch.Tensor:
        """(B, 4, T) mixture -> (B, 3, 19) logits, from the reference channel 0.

        Args:
            mixture: mixtures of shape (B, 4, samples) at 32 kHz; only channel 0 is read.

        Returns:
            Logits of shape (B, 3, 19) (index 18: silence).
        """
        return self.logits(mixture[:, 0])

    pick_labels = staticmethod(pick_slot_labels)
