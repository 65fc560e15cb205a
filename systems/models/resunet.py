"""ResUNetK: the baseline's label-queried separator (ResUNet30 of AudioSep, as modified for S5).

4-channel mixture -> per-channel STFT magnitude and phase -> BatchNorm over frequency bins ->
1×1 conv -> 6 residual encoder stages, a bottleneck, 6 decoder stages with skips -> for every
slot and input channel a sigmoid magnitude mask and a phase rotation -> 1×1 conv mixing the 4
masked channels to 1 -> iSTFT. The query (3 one-hots, 54-d) goes through an MLP
(Linear→LN→ReLU twice) and per-layer linear maps that add a bias after each BatchNorm.

Module and parameter names follow the official model (`base.encoder_block1.conv_block1.bn1`,
`film.encoder_block1->conv_block1->beta1`, `label_embedding.0`, …) so that an official
checkpoint loads strictly; sizes are arguments so that a tiny CPU model has the same structure.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .precision import full_precision, to_float
from .state_dicts import load_state_dict_strict, read_record

OFFICIAL_CHANNELS = (32, 64, 128, 256, 384, 384)
# Frozen DFT tables of torchlibrosa's STFT/ISTFT in official checkpoints; torch.stft replaces them.
TRANSFORM_PREFIXES = ("base.stft.", "base.istft.")


class ConvBlockRes(nn.Module):
    """Two pre-activation 3×3 convs (BN, + FiLM bias, leaky ReLU, conv) with a residual path.

    Args:
        cin: input channels.
        cout: output channels (a 1×1 conv shortcut when they differ from cin).
        momentum: BatchNorm momentum.
    """

    def __init__(self, cin: int, cout: int, momentum: float):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin, momentum=momentum)
        self.bn2 = nn.BatchNorm2d(cout, momentum=momentum)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None
        self.film_channels = {"beta1": cin, "beta2": cout}

    def forward(self, x: torch.Tensor, film: dict) -> torch.Tensor:
        """The residual block, a FiLM bias added after each BatchNorm.

        Args:
            x: features of shape (B, cin, frames, bins).
            film: {"beta1": (B, cin, 1, 1), "beta2": (B, cout, 1, 1)} biases.

        Returns:
            Features of shape (B, cout, frames, bins).
        """
        h = self.conv1(F.leaky_relu(self.bn1(x) + film["beta1"], 0.01))
        h = self.conv2(F.leaky_relu(self.bn2(h) + film["beta2"], 0.01))
        return (self.shortcut(x) if self.shortcut is not None else x) + h


class EncoderBlock(nn.Module):
    """A ConvBlockRes followed by average pooling.

    Args:
        cin: input channels.
        cout: output channels.
        downsample: pooling factors (frames, bins).
        momentum: BatchNorm momentum.
    """

    def __init__(self, cin: int, cout: int, downsample: tuple[int, int], momentum: float):
        super().__init__()
        self.conv_block1 = ConvBlockRes(cin, cout, momentum)
        self.downsample = downsample

    def forward(self, x: torch.Tensor, film: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """Encode and pool.

        Args:
            x: features of shape (B, cin, frames, bins).
            film: {"conv_block1": the ConvBlockRes's biases}.

        Returns:
            The pooled features (B, cout, frames / downsample[0], bins / downsample[1]) and the
            features before pooling (B, cout, frames, bins), the decoder's skip.
        """
        h = self.conv_block1(x, film["conv_block1"])
        return F.avg_pool2d(h, self.downsample), h


class DecoderBlock(nn.Module):
    """BN + FiLM bias, leaky ReLU, transposed conv upsampling, then a ConvBlockRes on [upsampled, skip].

    Args:
        cin: input channels.
        cout: output channels (and the skip's).
        upsample: upsampling factors (frames, bins).
        momentum: BatchNorm momentum.
    """

    def __init__(self, cin: int, cout: int, upsample: tuple[int, int], momentum: float):
        super().__init__()
        self.conv1 = nn.ConvTranspose2d(cin, cout, upsample, stride=upsample, bias=False)
        self.bn1 = nn.BatchNorm2d(cin, momentum=momentum)
        self.conv_block2 = ConvBlockRes(2 * cout, cout, momentum)
        # Present (and conditioned) in the official model although its forward never uses it;
        # kept so that official checkpoints load strictly.
        self.bn2 = nn.BatchNorm2d(cin, momentum=momentum)
        self.film_channels = {"beta1": cin, "beta2": cin}

    def forward(self, x: torch.Tensor, skip: torch.Tensor, film: dict) -> torch.Tensor:
        """Upsample and merge with the encoder's skip.

        Args:
            x: features of shape (B, cin, frames, bins).
            skip: the matching encoder features, (B, cout, frames·upsample[0], bins·upsample[1]).
            film: {"beta1": (B, cin, 1, 1), "beta2": unused, "conv_block2": the ConvBlockRes's biases}.

        Returns:
            Features of shape (B, cout, frames·upsample[0], bins·upsample[1]).
        """
        h = self.conv1(F.leaky_relu(self.bn1(x) + film["beta1"], 0.01))
        return self.conv_block2(torch.cat([h, skip], dim=1), film["conv_block2"])


def film_layout(module: nn.Module, path: tuple[str, ...] = ()) -> list:
    """(path, channels) of every FiLM bias in `module`, in the official pre-order.

    Args:
        module: a module whose blocks declare `film_channels` ({bias name: channels}).
        path: the names leading to `module` (prepended to every path).

    Returns:
        (path, channels) pairs, path a tuple of submodule names ending with the bias name,
        e.g. (("encoder_block1", "conv_block1", "beta1"), 32).
    """
    out = [(path + (k,), c) for k, c in getattr(module, "film_channels", {}).items()]
    for name, child in module.named_children():
        out += film_layout(child, path + (name,))
    return out


class ResUNetBase(nn.Module):
    """The ResUNet30 body: STFT front end, 6 encoder stages, bottleneck, 6 decoder stages, mask heads, iSTFT.

    Args:
        in_channels: input audio channels (4).
        out_channels: output channels per slot (1).
        n_slots: output slots.
        channels: widths of the 6 encoder stages.
        n_fft: STFT size (and window) in samples.
        hop: STFT hop in samples.
        momentum: BatchNorm momentum.
    """

    window: torch.Tensor  # buffer

    def __init__(self, in_channels: int = 4, out_channels: int = 1, n_slots: int = 3,
                 channels: Sequence[int] = OFFICIAL_CHANNELS, n_fft: int = 1024, hop: int = 160,
                 momentum: float = 0.01):
        super().__init__()
        self.in_channels, self.out_channels, self.n_slots = in_channels, out_channels, n_slots
        self.n_fft, self.hop = n_fft, hop
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self.time_ratio = 2 ** 5  # frames padded to a multiple of the five 2× time poolings
        c = list(channels)
        self.bn0 = nn.BatchNorm2d(n_fft // 2 + 1, momentum=momentum)
        self.pre_conv = nn.Conv2d(in_channels, c[0], 1)
        downs = [(2, 2)] * 5 + [(1, 2)]
        cins = [c[0]] + c[:-1]
        for i in range(6):
            setattr(self, f"encoder_block{i + 1}", EncoderBlock(cins[i], c[i], downs[i], momentum))
        self.conv_block7a = EncoderBlock(c[5], c[5], (1, 1), momentum)
        for i in range(6):  # decoder i takes the previous stage's width and returns encoder 6−i's
            setattr(self, f"decoder_block{i + 1}",
                    DecoderBlock(c[5] if i == 0 else c[6 - i], c[5 - i], downs[5 - i], momentum))
        self.K = 3  # magnitude mask, real and imaginary parts of the phase rotation
        self.after_conv = nn.Conv2d(c[0], in_channels * self.K * n_slots, 1)
        self.out_conv = nn.Conv2d(in_channels, out_channels, 1)

    def spectrogram(self, wave: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(B, C, T) -> magnitude, cos, sin, each (B, C, frames, bins).

        Args:
            wave: waveforms of shape (B, in_channels, samples) at 32 kHz.

        Returns:
            Magnitude (floored at 1e-5), cos and sin of the phase, each of shape
            (B, in_channels, samples // hop + 1, n_fft // 2 + 1).
        """
        B, C, T = wave.shape
        with full_precision():  # no FFT in low precision (a no-op without autocast)
            wave = to_float(wave)
            spec = torch.stft(wave.reshape(B * C, T), self.n_fft, self.hop, self.n_fft, self.window.to(wave),
                              center=True, pad_mode="reflect", return_complex=True)
            spec = spec.reshape(B, C, *spec.shape[-2:]).transpose(-1, -2)
            mag = (spec.real ** 2 + spec.imag ** 2).clamp(min=1e-10).sqrt()
            return mag, spec.real / mag, spec.imag / mag

    def forward(self, wave: torch.Tensor, film: dict, slot_mask: torch.Tensor) -> torch.Tensor:
        """Separate every slot from the mixture.

        Args:
            wave: mixtures of shape (B, in_channels, samples) at 32 kHz.
            film: the FiLM biases, nested as `ResUNetK.film_biases` gives them.
            slot_mask: (B, n_slots) weights for each slot's output (1 for a queried slot, 0 for a silent one).

        Returns:
            Waveforms of shape (B, n_slots, out_channels, samples).
        """
        mag, cos_in, sin_in = self.spectrogram(wave)
        n_frames = mag.shape[2]
        x = self.bn0(mag.transpose(1, 3)).transpose(1, 3)
        x = F.pad(x, (0, 0, 0, -n_frames % self.time_ratio))[..., :-1]  # 513 -> 512 bins
        x = self.pre_conv(x)
        skips = []
        for i in range(6):
            x, h = getattr(self, f"encoder_block{i + 1}")(x, film[f"encoder_block{i + 1}"])
            skips.append(h)
        x, _ = self.conv_block7a(x, film["conv_block7a"])
        for i in range(6):
            x = getattr(self, f"decoder_block{i + 1}")(x, skips[5 - i], film[f"decoder_block{i + 1}"])
        x = F.pad(self.after_conv(x), (0, 1))[:, :, :n_frames]
        return self.to_waveform(x, mag, cos_in, sin_in, wave.shape[-1], slot_mask)

    def to_waveform(self, x: torch.Tensor, mag: torch.Tensor, cos_in: torch.Tensor, sin_in: torch.Tensor,
                    length: int, slot_mask: torch.Tensor) -> torch.Tensor:
        """Apply the decoder's masks and phase rotations to the input spectrogram and invert it.

        Args:
            x: decoder output of shape (B, n_slots·in_channels·3, frames, bins): per slot and input
                channel a magnitude mask logit and the real and imaginary parts of a phase rotation.
            mag: input magnitude, (B, in_channels, frames, bins).
            cos_in: cos of the input phase, same shape.
            sin_in: sin of the input phase, same shape.
            length: samples of the output.
            slot_mask: (B, n_slots) weights for each slot's output.

        Returns:
            Waveforms of shape (B, n_slots, out_channels, length).
        """
        B, _, N, Fb = x.shape
        x = x.reshape(B, self.n_slots, self.in_channels, self.K, N, Fb)
        mask_mag = torch.sigmoid(x[:, :, :, 0])
        re, im = torch.tanh(x[:, :, :, 1]), torch.tanh(x[:, :, :, 2])
        norm = (re ** 2 + im ** 2).sqrt().clamp(min=1e-10)
        m_cos, m_sin = re / norm, im / norm
        out_cos = cos_in[:, None] * m_cos - sin_in[:, None] * m_sin  # angle(X) + angle(M)
        out_sin = sin_in[:, None] * m_cos + cos_in[:, None] * m_sin
        out_mag = F.relu(mag[:, None] * mask_mag)
        shape = (B * self.n_slots, self.in_channels, N, Fb)
        real = self.out_conv((out_mag * out_cos).reshape(shape))
        imag = self.out_conv((out_mag * out_sin).reshape(shape))
        with full_precision():
            real, imag = to_float(real), to_float(imag)
            spec = torch.complex(real, imag).reshape(-1, N, Fb).transpose(1, 2)
            wave = torch.istft(spec, self.n_fft, self.hop, self.n_fft, self.window.to(real), center=True,
                               length=length)
        wave = wave.reshape(B, self.n_slots, self.out_channels, length)
        return wave * slot_mask[:, :, None, None]


class ResUNetK(nn.Module):
    """(B, 4, T) mixture + (B, n_slots·18) query -> (B, n_slots, 1, T); slots whose one-hot is all
    zero come out as zeros.

    Args:
        in_channels: input audio channels (4).
        out_channels: output channels per slot (1).
        n_slots: queried slots per mixture.
        n_classes: classes per one-hot (18).
        channels: widths of the 6 encoder stages (OFFICIAL_CHANNELS for the released model).
        cond_dim: width of the query embedding.
        n_fft: STFT size in samples.
        hop: STFT hop in samples.
    """

    def __init__(self, in_channels: int = 4, out_channels: int = 1, n_slots: int = 3, n_classes: int = 18,
                 channels: Sequence[int] = OFFICIAL_CHANNELS, cond_dim: int = 512, n_fft: int = 1024, hop: int = 160):
        super().__init__()
        self.n_slots, self.n_classes = n_slots, n_classes
        self.base = ResUNetBase(in_channels, out_channels, n_slots, channels, n_fft, hop)
        self.label_embedding = nn.Sequential(
            nn.Linear(n_slots * n_classes, cond_dim), nn.LayerNorm(cond_dim), nn.ReLU(),
            nn.Linear(cond_dim, cond_dim), nn.LayerNorm(cond_dim), nn.ReLU())
        self.film_paths = film_layout(self.base)
        self.film = nn.Module()
        for path, ch in self.film_paths:
            self.film.add_module("->".join(path), nn.Linear(cond_dim, ch))

    def film_biases(self, cond: torch.Tensor) -> dict:
        """Every FiLM bias of the body from the query embedding.

        Args:
            cond: query embeddings of shape (B, cond_dim).

        Returns:
            Nested dicts following `film_paths` (e.g. out["encoder_block1"]["conv_block1"]["beta1"]),
            each leaf of shape (B, channels, 1, 1).
        """
        out: dict = {}
        for path, _ in self.film_paths:
            node = out
            for key in path[:-1]:
                node = node.setdefault(key, {})
            node[path[-1]] = getattr(self.film, "->".join(path))(cond)[:, :, None, None]
        return out

    def forward(self, mixture: torch.Tensor, label_vector: torch.Tensor) -> torch.Tensor:
        """Extract one source per queried slot.

        Args:
            mixture: first-order ambisonic mixtures of shape (B, in_channels, samples) at 32 kHz.
            label_vector: class one-hots of shape (B, n_slots·n_classes) or (B, n_slots, n_classes),
                zeros for a silent slot.

        Returns:
            Waveforms of shape (B, n_slots, out_channels, samples), zeros for the silent slots.
        """
        slot_mask = (label_vector.reshape(-1, self.n_slots, self.n_classes).sum(-1) != 0).to(mixture)
        film = self.film_biases(self.label_embedding(label_vector.reshape(len(label_vector), -1).to(mixture)))
        return self.base(mixture, film, slot_mask)

    def load_official(self, path) -> list[str]:  # path: str | Path (baseline.py passes an Optional)
        """Load the baseline's checkpoint (`resunetk.ckpt`, a Lightning file whose keys may carry a
        prefix such as `model.`). The frozen STFT tables are set aside and returned.

        Args:
            path: the checkpoint file.

        Returns:
            The sorted names of the tensors left aside (under TRANSFORM_PREFIXES).

        Raises:
            S5Error: If the file cannot be read, or the rest of its tensors do not fit the model.
        """
        record = read_record(path)
        state = record.get("state_dict", record)
        state = strip_prefix(state, next(iter(self.state_dict())))
        dropped = sorted(k for k in state if k.startswith(TRANSFORM_PREFIXES))
        load_state_dict_strict(self, {k: v for k, v in state.items() if k not in dropped}, source=str(Path(path)))
        return dropped


def strip_prefix(state: dict, own_key: str) -> dict:
    """Remove the prefix (e.g. `model.`) that a training wrapper put before the model's keys.

    Args:
        state: a state dict.
        own_key: one key of the model's own state dict (its first).

    Returns:
        `state` itself if it has own_key or no key ends with "." + own_key; else the entries that
        carry the prefix found before own_key, without it.
    """
    if own_key in state:
        return state
    hits = [k for k in state if k.endswith("." + own_key)]
    if not hits:
        return state
    prefix = hits[0][: -len(own_key)]
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
