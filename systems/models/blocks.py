"""Building blocks shared by the models: multichannel STFT, log-mel front end, FiLM, checkpoints."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from s5bench.common.errors import S5Error
from s5bench.common.labels import SAMPLE_RATE

from .precision import full_precision, to_float


# ---------------------------------------------------------------- STFT of 4-channel audio
class MultiChannelSTFT(nn.Module):
    """(B, C, T) audio <-> (B, C, F, frames) complex spectrogram, Hann window, centred frames.

    The transform is computed in float32 with autocast off, whatever the caller's precision.

    Args:
        n_fft: FFT size in samples; F = n_fft // 2 + 1 bins.
        hop: hop between frames in samples; frames = T // hop + 1.
        win: Hann window length in samples (None: n_fft).
    """

    window: torch.Tensor  # buffer

    def __init__(self, n_fft: int = 1024, hop: int = 160, win: int | None = None):
        super().__init__()
        self.n_fft, self.hop, self.win = n_fft, hop, win or n_fft
        self.register_buffer("window", torch.hann_window(self.win), persistent=False)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        """Short-time Fourier transform of every channel.

        Args:
            audio: waveforms of shape (batch, channels, samples), any sample rate (32 kHz in s5bench).

        Returns:
            Complex spectrogram (complex64 for float32 or lower-precision audio) of shape
            (batch, channels, n_fft // 2 + 1, frames).
        """
        B, C, T = audio.shape
        with full_precision():  # no FFT in low precision (a no-op without autocast)
            audio = to_float(audio)
            spec = torch.stft(audio.reshape(B * C, T), self.n_fft, self.hop, self.win, self.window.to(audio),
                              center=True, return_complex=True)
        return spec.reshape(B, C, *spec.shape[-2:])

    def inverse(self, spec: torch.Tensor, length: int) -> torch.Tensor:
        """Inverse STFT of every channel (overlap-add with the same window).

        Args:
            spec: complex (or real) spectrogram of shape (batch, channels, n_fft // 2 + 1, frames).
            length: number of samples to return per channel.

        Returns:
            Real waveforms (float32 for a complex64 spectrogram) of shape (batch, channels, length).
        """
        B, C, F, N = spec.shape
        with full_precision():
            spec = spec if spec.is_complex() else to_float(spec)
            out = torch.istft(spec.reshape(B * C, F, N), self.n_fft, self.hop, self.win, self.window.to(spec.real),
                              center=True, length=length)
        return out.reshape(B, C, length)


def complex_to_planes(spec: torch.Tensor) -> torch.Tensor:
    """(B, C, F, N) complex -> (B, 2C, F, N) real: real parts of every channel, then imaginary.

    Args:
        spec: complex spectrogram of shape (batch, channels, bins, frames).

    Returns:
        Real tensor of shape (batch, 2·channels, bins, frames): the real planes, then the imaginary ones.
    """
    return torch.cat([spec.real, spec.imag], dim=1)


def planes_to_complex(planes: torch.Tensor) -> torch.Tensor:
    """The inverse of `complex_to_planes`: (B, 2C, F, N) real -> (B, C, F, N) complex.

    Args:
        planes: real tensor of shape (batch, 2·channels, bins, frames), real planes first.

    Returns:
        Complex tensor of shape (batch, channels, bins, frames) (bfloat16/float16 planes are cast to
        float32 first).
    """
    c = planes.shape[1] // 2
    planes = to_float(planes)  # complex tensors exist in float32 only (no bfloat16)
    return torch.complex(planes[:, :c], planes[:, c:])


# ---------------------------------------------------------------- log-mel front end
def hz_to_mel(f: float) -> float:
    """Slaney's mel scale (librosa's default, which M2D's nnAudio front end uses): linear below
    1 kHz, logarithmic above.

    Args:
        f: frequency in Hz.

    Returns:
        The frequency in mels (15 mels at 1 kHz).
    """
    return f / (200.0 / 3) if f < 1000.0 else 15.0 + math.log(f / 1000.0) / (math.log(6.4) / 27.0)


def mel_to_hz(m: torch.Tensor) -> torch.Tensor:
    """The inverse of `hz_to_mel`, elementwise.

    Args:
        m: frequencies in (Slaney) mels, any shape.

    Returns:
        The frequencies in Hz, same shape and dtype.
    """
    return torch.where(m < 15.0, m * (200.0 / 3), 1000.0 * torch.exp((m - 15.0) * (math.log(6.4) / 27.0)))


def mel_filterbank(sr: int, n_fft: int, n_mels: int, f_min: float, f_max: float) -> torch.Tensor:
    """(n_fft//2+1, n_mels) triangular Slaney-mel filters with Slaney area normalisation
    (each filter scaled by 2 / its bandwidth in Hz).

    Args:
        sr: sample rate in Hz.
        n_fft: FFT size in samples.
        n_mels: number of mel bands.
        f_min: lower edge of the first band in Hz.
        f_max: upper edge of the last band in Hz.

    Returns:
        Float32 weights of shape (n_fft // 2 + 1, n_mels), frequency bins by bands.
    """
    freqs = torch.linspace(0, sr / 2, n_fft // 2 + 1, dtype=torch.float64)
    edges = mel_to_hz(torch.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2, dtype=torch.float64))
    lo, mid, hi = edges[:-2], edges[1:-1], edges[2:]
    rising = (freqs[:, None] - lo) / (mid - lo)
    falling = (hi - freqs[:, None]) / (hi - mid)
    tri = torch.clamp(torch.minimum(rising, falling), min=0.0)
    return (tri * (2.0 / (hi - lo))).float()


class LogMel(nn.Module):
    """M2D's front end: power mel spectrogram of a mono signal (periodic Hann window, centred
    reflect-padded frames), log(x + eps) with float32's eps, (x − mean) / std.
    Defaults: 32 kHz, n_fft = win = 800, hop 320, 80 bins over 50–16,000 Hz.

    Args:
        sr: sample rate of the input in Hz.
        n_fft: FFT and window size in samples.
        hop: hop between frames in samples.
        n_mels: number of mel bins.
        f_min: lower edge of the mel filters in Hz.
        f_max: upper edge of the mel filters in Hz.
        mean: subtracted from the log-mel values.
        std: divides the log-mel values after the mean is removed.
    """

    window: torch.Tensor  # buffers
    fbank: torch.Tensor

    def __init__(self, sr: int = SAMPLE_RATE, n_fft: int = 800, hop: int = 320, n_mels: int = 80, f_min: float = 50.0,
                 f_max: float = 16000.0, mean: float = -7.1, std: float = 4.2):
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self.register_buffer("fbank", mel_filterbank(sr, n_fft, n_mels, f_min, f_max), persistent=False)
        self.mean, self.std = mean, std

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """Normalised log-mel spectrogram, computed in float32 with autocast off.

        Args:
            wave: mono waveforms of shape (batch, samples) at `sr` (32 kHz by default).

        Returns:
            Float32 tensor of shape (batch, n_mels, samples // hop + 1).
        """
        with full_precision():  # spectrum, mel sums and log in float32 (a no-op without autocast)
            wave = to_float(wave)
            spec = torch.stft(wave, self.n_fft, self.hop, self.n_fft, self.window.to(wave), center=True,
                              return_complex=True).abs().pow(2)
            mel = torch.einsum("bfn,fm->bmn", spec, self.fbank.to(spec))
            return (torch.log(mel + torch.finfo(torch.float32).eps) - self.mean) / self.std


# ---------------------------------------------------------------- attention
class MultiHeadSelfAttention(nn.Module):
    """(N, L, D) -> (N, L, D): one qkv projection, scaled_dot_product_attention, output
    projection. Parameter names `qkv`, `proj` as in timm's ViT (M2D) and the DeFT modules.

    Args:
        dim: model width D.
        heads: number of attention heads (each of width dim // heads).

    Raises:
        S5Error: If dim is not a multiple of heads.
    """

    def __init__(self, dim: int, heads: int):
        super().__init__()
        if dim % heads:
            raise S5Error(f"width {dim} is not a multiple of {heads} heads")
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Self-attention over the sequence axis (no mask, no dropout).

        Args:
            x: sequences of shape (N, L, dim).

        Returns:
            Tensor of shape (N, L, dim).
        """
        n, length, d = x.shape
        q, k, v = self.qkv(x).reshape(n, length, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        return self.proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(n, length, d))


# ---------------------------------------------------------------- conditioning
class FiLM(nn.Module):
    """Feature-wise affine modulation of (B, C, ...) by a condition vector: (1 + γ)·x + β, with
    γ and β from a zero-initialised Linear, so it starts at the identity.

    Args:
        cond_dim: width of the condition vector (e.g. 18 for a class one-hot).
        channels: number of channels C modulated.
    """

    def __init__(self, cond_dim: int, channels: int):
        super().__init__()
        self.proj = nn.Linear(cond_dim, 2 * channels)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def gamma_beta(self, x: torch.Tensor, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """γ, β shaped to broadcast over x's axes after the channel axis.

        Args:
            x: features of shape (B, C, ...).
            cond: condition vectors of shape (B, cond_dim).

        Returns:
            γ and β, each of shape (B, C, 1, ..., 1) with x's number of axes.
        """
        gamma, beta = self.proj(cond).chunk(2, dim=-1)
        shape = (x.shape[0], x.shape[1]) + (1,) * (x.ndim - 2)
        return gamma.reshape(shape), beta.reshape(shape)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """(1 + γ)·x + β.

        Args:
            x: features of shape (B, C, ...).
            cond: condition vectors of shape (B, cond_dim).

        Returns:
            The modulated features, x's shape.
        """
        gamma, beta = self.gamma_beta(x, cond)
        return (1 + gamma) * x + beta


class ResFiLM(FiLM):
    """Residual FiLM, x + (γ·x + β), as in the TSE model's class conditioning: the identity at
    initialisation (γ = β = 0), so the residual stream keeps its scale through the blocks."""

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """x + γ·x + β.

        Args:
            x: features of shape (B, C, ...).
            cond: condition vectors of shape (B, cond_dim).

        Returns:
            The modulated features, x's shape.
        """
        gamma, beta = self.gamma_beta(x, cond)
        return x + gamma * x + beta
