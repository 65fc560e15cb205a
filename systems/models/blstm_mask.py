"""A classic reference separator for learnability checks, not part of any system: the uPIT
BLSTM (Kolbæk et al., 2017) on the 4 channels' log power, one sigmoid magnitude mask per output
on the mixture's channel 0 (its phase kept).

It plugs into the same training tasks as the paper's models, so that a flat validation
`sep_gain` curve can be told apart: if this independent model, trained on the same stream with
the same loss, does not beat the best-scaled mixture either, the data costs more training than
was given; if it does, the paper's model (or our implementation of it) is at fault.

- `task: uss` -> `BLSTMMaskUSS`: the USS interface (6 objects, class and silence logits).
- `task: separator` -> `BLSTMMaskSeparator`: the ResUNetK interface, one output per queried
  slot, the slot's one-hot appended to every frame's features (oracle labels in training).
"""
from __future__ import annotations

import torch
from torch import nn

from s5bench.common.labels import LABELS

from .blocks import MultiChannelSTFT

N_CLASSES = len(LABELS)


class _BLSTMMasks(nn.Module):
    """(B, 4, T) mixture [+ (B, cond) per-utterance conditioning] -> (B, n_masks, T) masked
    channel 0, and the BLSTM's time-pooled state (B, 2·hidden)."""

    def __init__(self, n_masks, cond_dim=0, hidden=128, layers=2, n_fft=1024, hop=512):
        super().__init__()
        self.stft = MultiChannelSTFT(n_fft, hop)
        n_bins = n_fft // 2 + 1
        self.n_masks = n_masks
        self.inp = nn.Linear(4 * n_bins + cond_dim, hidden)
        self.rnn = nn.LSTM(hidden, hidden, layers, batch_first=True, bidirectional=True)
        self.masks = nn.Linear(2 * hidden, n_masks * n_bins)

    def forward(self, mixture, cond=None):
        B, _, T = mixture.shape
        spec = self.stft(mixture)  # (B, 4, F, N)
        logpow = torch.log(spec.abs().pow(2) + 1e-10)
        logpow = (logpow - logpow.mean((1, 2, 3), keepdim=True)) / 4  # level-free features, about unit range
        frames = logpow.permute(0, 3, 1, 2).flatten(2)  # (B, N, 4·F)
        if cond is not None:
            frames = torch.cat([frames, cond[:, None].expand(-1, frames.shape[1], -1)], dim=-1)
        h, _ = self.rnn(torch.tanh(self.inp(frames)))
        masks = torch.sigmoid(self.masks(h)).reshape(B, -1, self.n_masks, spec.shape[2]).permute(0, 2, 3, 1)
        wave = self.stft.inverse(masks * spec[:, :1], T)  # (B, n_masks, T)
        return wave, h.mean(1)


class BLSTMMaskUSS(nn.Module):
    """(B, 4, T) -> waveforms (B, S, T), class logits (B, S, 18), silence logit (B, S).

    Args:
        n_foreground: foreground objects (the first outputs).
        n_interference: interference objects (after the foreground).
        n_noise: noise objects (last); S = n_foreground + n_interference + n_noise.
        **kw: options of the shared mask network: hidden (BLSTM width, 128), layers (2),
            n_fft (1024) and hop (512) of the STFT in samples.
    """

    def __init__(self, n_foreground: int = 3, n_interference: int = 2, n_noise: int = 1, **kw: int):
        super().__init__()
        self.n_fg, self.n_int = n_foreground, n_interference
        self.n_objects = n_foreground + n_interference + n_noise
        self.net = _BLSTMMasks(self.n_objects, **kw)
        width = 2 * self.net.rnn.hidden_size
        self.class_decoder = nn.Linear(width, self.n_objects * N_CLASSES)
        self.silence_decoder = nn.Linear(width, self.n_objects)

    def forward(self, mixture: torch.Tensor) -> dict[str, torch.Tensor]:
        """Separate a mixture into S objects, each a magnitude mask on channel 0.

        Args:
            mixture: first-order ambisonic mixtures of shape (batch, 4, samples) at 32 kHz.

        Returns:
            `waveforms` (batch, S, samples), channel 0 masked once per object (same rate and
            scale as the mixture); `class_logits` (batch, S, 18); `silence_logit` (batch, S).
        """
        wave, pooled = self.net(mixture)
        return {"waveforms": wave,
                "class_logits": self.class_decoder(pooled).reshape(len(wave), self.n_objects, N_CLASSES),
                "silence_logit": self.silence_decoder(pooled)}


class BLSTMMaskSeparator(nn.Module):
    """(B, 4, T) mixture + (B, n_slots·18) query -> (B, n_slots, 1, T); slots whose one-hot is
    all zero come out as zeros (as ResUNetK's).

    Args:
        n_slots: number of queried slots per mixture.
        **kw: options of the shared mask network: hidden (BLSTM width, 128), layers (2),
            n_fft (1024) and hop (512) of the STFT in samples.
    """

    def __init__(self, n_slots: int = 3, **kw: int):
        super().__init__()
        self.n_slots = n_slots
        self.net = _BLSTMMasks(1, cond_dim=N_CLASSES, **kw)

    def forward(self, mixture: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        """Extract one source per queried slot, each a magnitude mask on channel 0.

        Args:
            mixture: first-order ambisonic mixtures of shape (batch, 4, samples) at 32 kHz.
            query: class one-hots of shape (batch, n_slots·18) or (batch, n_slots, 18), zeros for a
                silent slot.

        Returns:
            Waveforms of shape (batch, n_slots, 1, samples), zeros for the silent slots.
        """
        B, C, T = mixture.shape
        onehots = query.reshape(B * self.n_slots, N_CLASSES)
        repeated = mixture.repeat_interleave(self.n_slots, dim=0)
        wave, _ = self.net(repeated, onehots)  # (B·n_slots, 1, T)
        wave = wave[:, 0] * (onehots.abs().sum(-1, keepdim=True) > 0)
        return wave.reshape(B, self.n_slots, 1, T)
