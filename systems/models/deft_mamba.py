"""DeFT-Mamba (Lee & Choi, ICASSP 2025) as described in docs/task.md §6; no code of it is public.

Input: the 4-channel complex STFT as 8 real planes -> Conv2d(8→D, 3×3) + GroupNorm. Then N_b
blocks, each a frequency-axis then a time-axis hybrid module:
    LayerNorm -> unfold of G neighbours (a strided group of G frames/bins) -> gated conv (GLU)
    -> multi-head self-attention -> feed-forward (bidirectional Mamba-2, Mish, Linear back)
    -> transposed conv back to the sequence length -> residual.
USS drops the unfold and the Mamba of the frequency module (plain feed-forward there).

- `DeFTMambaUSS`: object split Conv2d(D→D·S) into S = 6 objects (3 foreground, 2 interference,
  1 noise); an audio decoder Conv2d(D→2) gives each object's channel-0 complex spectrogram
  (then iSTFT); a class decoder gives 18 logits and a sigmoid branch the silence probability.
- `DeFTMambaTSE`: the enrollment's complex spectrogram (2 planes) is concatenated to the
  mixture's 8 before the first conv; the class one-hot modulates every block through Res-FiLM;
  one object out.

Mixtures are scaled to unit RMS (channel 0) on the way in and back on the way out, so the
model sees the same levels whatever the recording gain.

The decoder (our reading where the paper says only "Conv2d(D → 2) gives the complex spectrogram
of channel 0"): its planes are a complex ratio mask applied to the mixture's channel-0 STFT. For
the TSE there are two masks, on the mixture and on the enrollment (Conv2d(D → 4)), initialised to
pass the enrollment unchanged (mixture mask 0, enrollment mask 1), so the TSE starts as "return
the enrollment" and training can only refine it. (Regressing the spectrogram itself, the literal
reading, was tried: a tiny model trained for minutes on a CPU learns only a scaled copy of the
mixture that way; checkpoints of that form are no longer loaded, see checkpoints.migrate.)
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from s5bench.common.labels import LABELS

from .blocks import MultiChannelSTFT, MultiHeadSelfAttention, ResFiLM, complex_to_planes
from .mamba2 import Mamba2
from .precision import to_float

N_CLASSES = len(LABELS)


class BiMambaFFN(nn.Module):
    """Forward and time-flipped Mamba-2 branches, concatenated, Mish, Linear back to D.

    Args:
        dim: sequence width D.
        d_state: Mamba-2 state size per head.
        d_conv: Mamba-2 causal convolution width.
        expand: Mamba-2 inner width as a multiple of dim.
        headdim: Mamba-2 head width.
        chunk_size: Mamba-2 scan chunk length.
    """

    # chunk 16: 10–20 % faster than 32 on the CPU at both sizes (same result to 1e-6); the
    # F-axis sequences (65 after unfold) pad to 80 instead of 96
    def __init__(self, dim: int, d_state: int = 16, d_conv: int = 4, expand: int = 4, headdim: int = 16,
                 chunk_size: int = 16):
        super().__init__()
        self.forward_mamba = Mamba2(dim, d_state=d_state, d_conv=d_conv, expand=expand, headdim=headdim,
                                    chunk_size=chunk_size)
        self.backward_mamba = Mamba2(dim, d_state=d_state, d_conv=d_conv, expand=expand, headdim=headdim,
                                     chunk_size=chunk_size)
        self.out = nn.Linear(2 * dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Bidirectional Mamba-2 feed-forward.

        Args:
            x: sequences of shape (N, L, dim).

        Returns:
            Tensor of shape (N, L, dim).
        """
        y = torch.cat([self.forward_mamba(x), self.backward_mamba(x.flip(1)).flip(1)], dim=-1)
        return self.out(F.mish(y))


class PlainFFN(nn.Module):
    """Linear (D -> expand·D), Mish, Linear back: the feed-forward of the USS's frequency modules.

    Args:
        dim: sequence width D.
        expand: hidden width as a multiple of dim.
    """

    def __init__(self, dim: int, expand: int = 4):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, expand * dim), nn.Mish(), nn.Linear(expand * dim, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Position-wise feed-forward.

        Args:
            x: sequences of shape (..., dim).

        Returns:
            Tensor of x's shape.
        """
        return self.net(x)


class HybridModule(nn.Module):
    """One axis of a DeFT block, applied to (N, L, D) sequences.

    Args:
        dim: sequence width D.
        hidden: width inside the module (after the gated conv).
        heads: attention heads.
        unfold: neighbours G grouped by the unfold (≤ 1: no unfold).
        mamba: bidirectional Mamba-2 feed-forward if True, else `PlainFFN`.
        mamba_kw: Mamba-2 options for `BiMambaFFN` (None: its defaults).
    """

    def __init__(self, dim: int, hidden: int, heads: int = 4, unfold: int = 4, mamba: bool = True,
                 mamba_kw: dict | None = None):
        super().__init__()
        self.G = unfold if unfold and unfold > 1 else 1
        self.norm = nn.LayerNorm(dim)
        self.gated_conv = nn.Conv1d(dim * self.G, 2 * hidden, 1)  # over the unfolded G neighbours
        self.attn_norm = nn.LayerNorm(hidden)
        self.attn = MultiHeadSelfAttention(hidden, heads)
        self.ffn_norm = nn.LayerNorm(hidden)
        self.ffn = BiMambaFFN(hidden, **(mamba_kw or {})) if mamba else PlainFFN(hidden)
        self.deconv = nn.ConvTranspose1d(hidden, dim, self.G, stride=self.G)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Residual pass along the sequence axis (padded to a multiple of G, cut back after).

        Args:
            x: sequences of shape (N, L, dim).

        Returns:
            Tensor of shape (N, L, dim).
        """
        n, L, d = x.shape
        h = self.norm(x)
        pad = -L % self.G
        h = F.pad(h, (0, 0, 0, pad)).reshape(n, (L + pad) // self.G, self.G * d)  # unfold: G neighbours
        h = F.glu(self.gated_conv(h.transpose(1, 2)), dim=1).transpose(1, 2)
        h = h + self.attn(self.attn_norm(h))
        h = h + self.ffn(self.ffn_norm(h))
        h = self.deconv(h.transpose(1, 2)).transpose(1, 2)[:, :L]
        return x + h


class DeFTBlock(nn.Module):
    """One DeFT block: a hybrid module along frequency (per frame), then one along time (per bin).

    Args:
        dim: feature width D.
        hidden: width inside the hybrid modules.
        heads: attention heads.
        unfold: neighbours G grouped by the unfold (the time module always; the frequency one if f_unfold).
        f_mamba: the frequency module's feed-forward is Mamba-2 (else `PlainFFN`).
        f_unfold: the frequency module unfolds too.
        mamba_kw: Mamba-2 options (None: `BiMambaFFN`'s defaults).
    """

    def __init__(self, dim: int, hidden: int, heads: int, unfold: int, f_mamba: bool, f_unfold: bool,
                 mamba_kw: dict | None):
        super().__init__()
        self.f_module = HybridModule(dim, hidden, heads, unfold if f_unfold else 1, f_mamba, mamba_kw)
        self.t_module = HybridModule(dim, hidden, heads, unfold, True, mamba_kw)

    def forward(self, x):
        """Frequency pass, then time pass.

        Args:
            x: features of shape (B, D, F bins, N frames).

        Returns:
            Tensor of shape (B, D, F, N).
        """
        B, D, Fb, N = x.shape
        x = self.f_module(x.permute(0, 3, 2, 1).reshape(B * N, Fb, D)).reshape(B, N, Fb, D)
        x = self.t_module(x.permute(0, 2, 1, 3).reshape(B * Fb, N, D)).reshape(B, Fb, N, D)
        return x.permute(0, 3, 1, 2)


class DeFTBackbone(nn.Module):
    """(B, in_planes, F, N) -> (B, D, F, N); optional per-block Res-FiLM conditioning.

    Args:
        in_planes: real input planes (8: the 4 channels' real and imaginary parts).
        dim: feature width D.
        hidden: width inside the hybrid modules.
        n_blocks: DeFT blocks.
        heads: attention heads.
        unfold: neighbours grouped by the unfold.
        f_mamba: Mamba-2 feed-forward in the frequency modules.
        f_unfold: unfold in the frequency modules.
        cond_dim: condition width for a Res-FiLM before every block; 0 for none.
        mamba_kw: Mamba-2 options (None: `BiMambaFFN`'s defaults).
    """

    def __init__(self, in_planes: int = 8, dim: int = 64, hidden: int = 64, n_blocks: int = 6, heads: int = 4,
                 unfold: int = 4, f_mamba: bool = True, f_unfold: bool = True, cond_dim: int = 0,
                 mamba_kw: dict | None = None):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(in_planes, dim, 3, padding=1), nn.GroupNorm(1, dim))
        self.blocks = nn.ModuleList(DeFTBlock(dim, hidden, heads, unfold, f_mamba, f_unfold, mamba_kw)
                                    for _ in range(n_blocks))
        self.films = (nn.ModuleList(ResFiLM(cond_dim, dim) for _ in range(n_blocks))
                      if cond_dim else None)

    def forward(self, planes: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """Conv2d + GroupNorm encoder, then the blocks (each after its Res-FiLM when cond_dim > 0).

        Args:
            planes: real spectrogram planes of shape (B, in_planes, F bins, N frames).
            cond: condition vectors of shape (B, cond_dim); required when cond_dim > 0, ignored otherwise.

        Returns:
            Features of shape (B, dim, F, N).
        """
        x = self.encoder(planes)
        for i, block in enumerate(self.blocks):
            if self.films is not None:
                x = self.films[i](x, cond)
            x = block(x)
        return x


MAMBA_KEYS = ("d_state", "d_conv", "expand", "headdim", "chunk_size")


def _mamba_kw(cfg):
    """The Mamba-2 options among a model's extra keyword arguments; anything else is a typo."""
    unknown = sorted(set(cfg) - set(MAMBA_KEYS))
    if unknown:
        raise TypeError(f"unknown model option(s) {', '.join(map(repr, unknown))}; the Mamba-2 options are "
                        f"{', '.join(MAMBA_KEYS)}")
    return dict(cfg)


class _SpectralModel(nn.Module):
    def __init__(self, n_fft, hop):
        super().__init__()
        self.stft = MultiChannelSTFT(n_fft, hop)

    @staticmethod
    def gain(mixture):
        return mixture[:, :1].pow(2).mean(-1, keepdim=True).sqrt().clamp(min=1e-5)  # (B, 1, 1)


class DeFTMambaUSS(_SpectralModel):
    """(B, 4, T) -> waveforms (B, S, T), class logits (B, S, 18), silence logit (B, S).

    Args:
        dim: feature width D.
        hidden: width inside the hybrid modules.
        n_blocks: DeFT blocks.
        heads: attention heads.
        unfold: neighbours grouped by the time modules' unfold.
        n_fft: STFT size in samples.
        hop: STFT hop in samples.
        n_foreground: foreground objects (the first outputs).
        n_interference: interference objects (after the foreground).
        n_noise: noise objects (last).
        f_unfold: unfold in the frequency modules too (tiny CPU configurations).
        **mamba: Mamba-2 options (MAMBA_KEYS: d_state, d_conv, expand, headdim, chunk_size).

    Raises:
        TypeError: If `mamba` has a key outside MAMBA_KEYS.
    """

    def __init__(self, dim: int = 64, hidden: int = 64, n_blocks: int = 6, heads: int = 4, unfold: int = 4,
                 n_fft: int = 512, hop: int = 256, n_foreground: int = 3, n_interference: int = 2, n_noise: int = 1,
                 f_unfold: bool = False, **mamba: int):
        super().__init__(n_fft, hop)
        self.n_fg, self.n_int, self.n_noise = n_foreground, n_interference, n_noise
        self.n_objects = n_foreground + n_interference + n_noise
        self.dim = dim
        # The paper's USS has no unfold in its frequency modules; `f_unfold=True` (tiny CPU
        # configurations) adds it there too, cutting that module's sequence length by G.
        self.backbone = DeFTBackbone(8, dim, hidden, n_blocks, heads, unfold, f_mamba=False, f_unfold=f_unfold,
                                     mamba_kw=_mamba_kw(mamba))
        self.object_split = nn.Conv2d(dim, dim * self.n_objects, 1)
        self.audio_decoder = nn.Conv2d(dim, 2, 1)
        self.class_decoder = nn.Sequential(nn.Linear(dim, dim), nn.Mish(), nn.Linear(dim, N_CLASSES))
        self.silence_decoder = nn.Sequential(nn.Linear(dim, dim), nn.Mish(), nn.Linear(dim, 1))

    def forward(self, mixture: torch.Tensor) -> dict[str, torch.Tensor]:
        """Separate a mixture into S objects, each a complex ratio mask on channel 0.

        The mixture is scaled to unit RMS (channel 0) on the way in and the outputs scaled back.

        Args:
            mixture: first-order ambisonic mixtures of shape (batch, 4, samples) at 32 kHz.

        Returns:
            `waveforms` (batch, S, samples) at the mixture's scale, S = n_foreground +
            n_interference + n_noise in that order; `class_logits` (batch, S, 18);
            `silence_logit` (batch, S).
        """
        B, _, T = mixture.shape
        g = self.gain(mixture)
        spec = self.stft(mixture / g[:, :, :1])  # (B, 4, F, N)
        x = self.backbone(complex_to_planes(spec))
        _, D, Fb, N = x.shape
        obj = self.object_split(x).reshape(B * self.n_objects, D, Fb, N)
        planes = to_float(self.audio_decoder(obj))  # complex masks exist in float32 only (no bfloat16)
        mask = torch.complex(planes[:, :1], planes[:, 1:])  # (B·S, 1, F, N): a complex ratio mask
        out_spec = mask * spec[:, :1].repeat_interleave(self.n_objects, dim=0)  # on the mixture's channel 0
        wave = self.stft.inverse(out_spec, T).reshape(B, self.n_objects, T)
        pooled = obj.mean((-2, -1)).reshape(B, self.n_objects, D)
        return {"waveforms": wave * g,
                "class_logits": self.class_decoder(pooled),
                "silence_logit": self.silence_decoder(pooled)[..., 0]}


class DeFTMambaTSE(_SpectralModel):
    """(B, 4, T) mixture, (B, T) enrollment, (B, 18) one-hot -> (B, T) target at channel 0.

    Args:
        dim: feature width D.
        hidden: width inside the hybrid modules.
        n_blocks: DeFT blocks, each after a Res-FiLM on the class one-hot.
        heads: attention heads.
        unfold: neighbours grouped by the unfold (frequency and time modules).
        n_fft: STFT size in samples.
        hop: STFT hop in samples.
        **mamba: Mamba-2 options (MAMBA_KEYS: d_state, d_conv, expand, headdim, chunk_size).

    Raises:
        TypeError: If `mamba` has a key outside MAMBA_KEYS.
    """

    def __init__(self, dim: int = 64, hidden: int = 64, n_blocks: int = 6, heads: int = 4, unfold: int = 4,
                 n_fft: int = 512, hop: int = 256, **mamba: int):
        super().__init__(n_fft, hop)
        self.backbone = DeFTBackbone(10, dim, hidden, n_blocks, heads, unfold, f_mamba=True, f_unfold=True,
                                     cond_dim=N_CLASSES, mamba_kw=_mamba_kw(mamba))
        self.audio_decoder = nn.Conv2d(dim, 4, 1)  # planes: mixture mask (re, im), enrollment mask (re, im)
        nn.init.zeros_(self.audio_decoder.weight)
        assert self.audio_decoder.bias is not None  # Conv2d's default bias=True
        with torch.no_grad():
            self.audio_decoder.bias.copy_(torch.tensor([0.0, 0.0, 1.0, 0.0]))  # start: the enrollment

    def forward(self, mixture: torch.Tensor, enrollment: torch.Tensor, one_hot: torch.Tensor) -> torch.Tensor:
        """Extract the queried class: complex ratio masks on the mixture's channel 0 and on the enrollment.

        Mixture and enrollment are divided by the mixture's channel-0 RMS on the way in and the
        output multiplied by it.

        Args:
            mixture: first-order ambisonic mixtures of shape (batch, 4, samples) at 32 kHz.
            enrollment: a first estimate of the target, shape (batch, samples), same rate and length.
            one_hot: the target's class, shape (batch, 18).

        Returns:
            The target's waveform at channel 0, shape (batch, samples), at the mixture's scale.
        """
        T = mixture.shape[-1]
        g = self.gain(mixture)
        spec = self.stft(torch.cat([mixture, enrollment[:, None]], dim=1) / g[:, :, :1])
        planes = torch.cat([complex_to_planes(spec[:, :4]), complex_to_planes(spec[:, 4:])], dim=1)
        x = self.backbone(planes, one_hot.to(planes))
        out = to_float(self.audio_decoder(x))  # complex masks exist in float32 only (no bfloat16)
        mix_mask, enr_mask = torch.complex(out[:, :1], out[:, 1:2]), torch.complex(out[:, 2:3], out[:, 3:])
        est = mix_mask * spec[:, :1] + enr_mask * spec[:, 4:]
        wave = self.stft.inverse(est, T)[:, 0]
        return wave * g[:, 0]
