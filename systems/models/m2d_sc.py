"""M2D-SC: the self-guided pipeline's single-label source classifier (docs/task.md §6).

M2D encoder -> time-mean features -> BatchNorm (no affine) -> cosine similarity with 18 class
weight vectors. Training: ArcFace (s = 32, m = 0.5) on active sources plus KL to uniform on
silent ones (step 1), then an energy hinge (step 2). At inference the logits are s·cos θ, the
class is their argmax, and a source whose energy E = −log Σ exp(logits) exceeds its class's
threshold (calibrated on validation data, stored with the checkpoint) is silence.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from s5bench.common.labels import LABELS, SILENCE

from .m2d import M2DEncoder


def energy(logits: torch.Tensor) -> torch.Tensor:
    """E(x) = −log Σ_k exp(l_k): low for confident (in-class) inputs, high for silence.

    Args:
        logits: class logits of shape (..., K).

    Returns:
        Energies of shape (...).
    """
    return -torch.logsumexp(logits, dim=-1)


class EnergySourceClassifier(nn.Module):
    """The SC's head, whatever computes its features: BatchNorm (no affine) -> cosine similarity
    with one weight vector per class, logits s·cos θ, and per-class energy thresholds for silence.
    A subclass sets `self.encoder` and implements `features(wave) -> (N, feature_d)`.

    Args:
        feature_d: width of the features.
        n_classes: number of classes (18).
        scale: the logits' scale s.
    """

    thresholds: torch.Tensor  # buffer

    def __init__(self, feature_d: int, n_classes: int = len(LABELS), scale: float = 32.0):
        super().__init__()
        self.head_norm = nn.BatchNorm1d(feature_d, affine=False)
        self.class_weight = nn.Parameter(torch.randn(n_classes, feature_d) * 0.01)
        self.scale = scale
        # per-class energy thresholds; +inf until calibrated (nothing is called silence)
        self.register_buffer("thresholds", torch.full((n_classes,), float("inf")))

    def features(self, wave: torch.Tensor) -> torch.Tensor:
        """The encoder's features of single sources (a subclass's to implement).

        Args:
            wave: single-source waveforms of shape (N, samples) at 32 kHz.

        Returns:
            Features of shape (N, feature_d).

        Raises:
            NotImplementedError: Always, in this base class.
        """
        raise NotImplementedError

    def cosine(self, wave: torch.Tensor) -> torch.Tensor:
        """(N, T) -> (N, 18) cosine similarities.

        Args:
            wave: single-source waveforms of shape (N, samples) at 32 kHz.

        Returns:
            Cosines in [−1, 1] between the normalised features and each class's weight, shape (N, n_classes).
        """
        z = self.head_norm(self.features(wave))
        return F.normalize(z, dim=-1) @ F.normalize(self.class_weight, dim=-1).T

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """Class logits s·cos θ.

        Args:
            wave: single-source waveforms of shape (N, samples) at 32 kHz.

        Returns:
            Logits of shape (N, n_classes).
        """
        return self.scale * self.cosine(wave)

    @torch.no_grad()
    def classify(self, wave: torch.Tensor) -> tuple[list[str], torch.Tensor]:
        """(N, T) -> labels (class or `silence`) and energies (N,).

        Args:
            wave: single-source waveforms of shape (N, samples) at 32 kHz.

        Returns:
            N labels (the argmax class, or `silence` where the energy exceeds that class's
            threshold) and the energies, shape (N,).
        """
        labels, e, _ = self.classify_scored(wave)
        return labels, e

    @torch.no_grad()
    def classify_scored(self, wave: torch.Tensor) -> tuple[list[str], torch.Tensor, torch.Tensor]:
        """(N, T) -> labels (class or `silence`), energies (N,) and each input's softmax
        probability (N,) of its most likely class (the class it is labelled with unless silent).

        Args:
            wave: single-source waveforms of shape (N, samples) at 32 kHz.

        Returns:
            N labels, the energies (N,) and the top-class softmax probabilities (N,) in [0, 1].
        """
        logits = self(wave)
        e = energy(logits)
        k = logits.argmax(-1)
        silent = e > self.thresholds[k]
        p = torch.softmax(logits, -1).gather(-1, k[:, None])[:, 0]
        return [SILENCE if s else LABELS[int(i)] for i, s in zip(k, silent)], e, p


class M2DSC(EnergySourceClassifier):
    """M2D encoder, its frame features averaged over time.

    Args:
        n_classes: number of classes (18).
        scale: the logits' scale s.
        **encoder_kw: M2DEncoder's arguments (input_size, patch_size, sr, embed_dim, depth, num_heads).
    """

    def __init__(self, n_classes: int = len(LABELS), scale: float = 32.0, **encoder_kw):
        encoder = M2DEncoder(**encoder_kw)
        super().__init__(encoder.feature_d, n_classes, scale)
        self.encoder = encoder

    def features(self, wave: torch.Tensor) -> torch.Tensor:
        """The M2D encoder's frame features averaged over time.

        Args:
            wave: single-source waveforms of shape (N, samples) at 32 kHz.

        Returns:
            Features of shape (N, feature_d) (3,840 for ViT-B).
        """
        return self.encoder(wave).mean(1)


def calibrate_thresholds(energies: torch.Tensor, predicted: torch.Tensor, is_active: torch.Tensor,
                         n_classes: int = len(LABELS)) -> torch.Tensor:
    """Per class, the energy threshold that best separates active sources from silent ones
    among the inputs predicted as that class (most correct decisions; midpoint between the two
    energies that bound it). Classes without both kinds fall back to the global threshold.

    Args:
        energies: energies of the calibration inputs, shape (N,).
        predicted: their predicted class indices, shape (N,).
        is_active: bool, shape (N,): True for an active source, False for a silent input.
        n_classes: number of classes.

    Returns:
        Thresholds of shape (n_classes,) (float32); an input above its class's threshold is silence.
        With no inputs at all, every threshold is +inf.
    """

    def best(e, act):
        order = torch.argsort(e)
        e, act = e[order], act[order].float()
        # threshold after position i: inputs 0..i called active, the rest silence
        correct = torch.cumsum(act, 0) + (1 - act).flip(0).cumsum(0).flip(0).roll(-1)
        correct[-1] = act.sum()
        i = int(correct.argmax())
        return float((e[i] + e[i + 1]) / 2) if i + 1 < len(e) else float(e[i]) + 1.0

    glob = best(energies, is_active) if len(energies) else float("inf")
    out = torch.full((n_classes,), glob)
    for k in range(n_classes):
        sel = predicted == k
        if sel.any() and is_active[sel].any() and (~is_active[sel]).any():
            out[k] = best(energies[sel], is_active[sel])
    return out
