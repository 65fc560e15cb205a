"""CPU-size source classifier (SC): the framework of M2D-SC (cosine head, ArcFace + KL-to-uniform
training, the energy E(x) = −log Σ exp(l_k) with class-specific silence thresholds, the energy
hinge) on a small CNN over log-mel instead of the 85 M-parameter M2D ViT, which cannot be trained
from scratch on a CPU. Departure, and why: a few convolution blocks learn to tell 18 classes of
isolated sounds within minutes of one core; the head, the losses and the silence decision are
the paper's (`m2d_sc.EnergySourceClassifier`).
"""
from __future__ import annotations

import torch
from torch import nn

from s5bench.common.labels import LABELS

from .blocks import LogMel
from .m2d_sc import EnergySourceClassifier


class CNNEncoder(nn.Module):
    """(N, T) audio -> (N, channels[-1]) features: log-mel (64 bins), conv blocks (3×3, BatchNorm,
    ReLU, 2×2 max-pool), then the mean over frequency and the mean and max over time."""

    def __init__(self, channels=(32, 64, 96, 128), n_mels: int = 64):
        super().__init__()
        self.to_lms = LogMel(n_mels=n_mels, n_fft=1024, hop=320)
        layers, c_in = [], 1
        for c in channels:
            layers += [nn.Conv2d(c_in, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d(2)]
            c_in = c
        self.convs = nn.Sequential(*layers)
        self.feature_d = 2 * channels[-1]

    def forward(self, wave):
        h = self.convs(self.to_lms(wave)[:, None]).mean(2)  # (N, C, frames)
        return torch.cat([h.mean(-1), h.amax(-1)], dim=-1)


class CNNSC(EnergySourceClassifier):
    def __init__(self, n_classes: int = len(LABELS), scale: float = 32.0, channels=(32, 64, 96, 128), n_mels=64):
        encoder = CNNEncoder(tuple(channels), n_mels)
        super().__init__(encoder.feature_d, n_classes, scale)
        self.encoder = encoder

    def features(self, wave):
        return self.encoder(wave)


class CNNTagger(nn.Module):
    """The CPU-size baseline's audio tagger (M2D-AT's role): the SC's log-mel CNN on the mixture's
    channel 0 with a linear multi-label head; `logits` and `forward` (probabilities) as M2DTagger,
    so the baseline system and the tagger task use it unchanged."""

    def __init__(self, n_classes: int = len(LABELS), channels=(32, 64, 96, 128), n_mels=64):
        super().__init__()
        self.encoder = CNNEncoder(tuple(channels), n_mels)
        self.head = nn.Linear(self.encoder.feature_d, n_classes)

    def logits(self, wave: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(wave))

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(wave))
