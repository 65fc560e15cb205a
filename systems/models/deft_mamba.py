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
    """Forward and time-flipped Mamba-2 branches, concatenated, Mish, Linear back to D."""

    # chunk 16: 10–20 % faster than 32 on the CPU at both sizes (same result to 1e-6); the
    # F-axis sequences (65 after unfold) pad to 80 instead of 96
    def __init__(self, dim, d_state=16, d_conv=4, expand=4, headdim=16, chunk_size=16):
        super().__init__()
        self.forward_mamba = Mamba2(dim, d_state=d_state, d_conv=d_conv, expand=expand, headdim=headdim,
                                    chunk_size=chunk_size)
        self.backward_mamba = Mamba2(dim, d_state=d_state, d_conv=d_conv, expand=expand, headdim=headdim,
                                     chunk_size=chunk_size)
        self.out = nn.Linear(2 * dim, dim)

    def forward(self, x):
        y = torch.cat([self.forward_mamba(x), self.backward_mamba(x.flip(1)).flip(1)], dim=-1)
        return self.out(F.mish(y))


class PlainFFN(nn.Module):
    def __init__(self, dim, expand=4):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, expand * dim), nn.Mish(), nn.Linear(expand * dim, dim))

    def forward(self, x):
        return self.net(x)


class HybridModule(nn.Module):
    """One axis of a DeFT block, applied to (N, L, D) sequences."""

    def __init__(self, dim, hidden, heads=4, unfold=4, mamba=True, mamba_kw=None):
        super().__init__()
        self.G = unfold if unfold and unfold > 1 else 1
        self.norm = nn.LayerNorm(dim)
        self.gated_conv = nn.Conv1d(dim * self.G, 2 * hidden, 1)  # over the unfolded G neighbours
        self.attn_norm = nn.LayerNorm(hidden)
        self.attn = MultiHeadSelfAttention(hidden, heads)
        self.ffn_norm = nn.LayerNorm(hidden)
        self.ffn = BiMambaFFN(hidden, **(mamba_kw or {})) if mamba else PlainFFN(hidden)
        self.deconv = nn.ConvTranspose1d(hidden, dim, self.G, stride=self.G)

    def forward(self, x):
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
    def __init__(self, dim, hidden, heads, unfold, f_mamba, f_unfold, mamba_kw):
        super().__init__()
        self.f_module = HybridModule(dim, hidden, heads, unfold if f_unfold else 1, f_mamba, mamba_kw)
        self.t_module = HybridModule(dim, hidden, heads, unfold, True, mamba_kw)

    def forward(self, x):
        """x: (B, D, F, N)."""
        B, D, Fb, N = x.shape
        x = self.f_module(x.permute(0, 3, 2, 1).reshape(B * N, Fb, D)).reshape(B, N, Fb, D)
        x = self.t_module(x.permute(0, 2, 1, 3).reshape(B * Fb, N, D)).reshape(B, Fb, N, D)
        return x.permute(0, 3, 1, 2)


class DeFTBackbone(nn.Module):
    """(B, in_planes, F, N) -> (B, D, F, N); optional per-block Res-FiLM conditioning."""

    def __init__(self, in_planes=8, dim=64, hidden=64, n_blocks=6, heads=4, unfold=4, f_mamba=True, f_unfold=True,
                 cond_dim=0, mamba_kw=None):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(in_planes, dim, 3, padding=1), nn.GroupNorm(1, dim))
        self.blocks = nn.ModuleList(DeFTBlock(dim, hidden, heads, unfold, f_mamba, f_unfold, mamba_kw)
                                    for _ in range(n_blocks))
        self.films = (nn.ModuleList(ResFiLM(cond_dim, dim) for _ in range(n_blocks))
                      if cond_dim else None)

    def forward(self, planes, cond=None):
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
    """(B, 4, T) -> waveforms (B, S, T), class logits (B, S, 18), silence probability (B, S)."""

    def __init__(self, dim=64, hidden=64, n_blocks=6, heads=4, unfold=4, n_fft=512, hop=256,
                 n_foreground=3, n_interference=2, n_noise=1, f_unfold=False, **mamba):
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

    def forward(self, mixture):
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
    """(B, 4, T) mixture, (B, T) enrollment, (B, 18) one-hot -> (B, T) target at channel 0."""

    def __init__(self, dim=64, hidden=64, n_blocks=6, heads=4, unfold=4, n_fft=512, hop=256, **mamba):
        super().__init__(n_fft, hop)
        self.backbone = DeFTBackbone(10, dim, hidden, n_blocks, heads, unfold, f_mamba=True, f_unfold=True,
                                     cond_dim=N_CLASSES, mamba_kw=_mamba_kw(mamba))
        self.audio_decoder = nn.Conv2d(dim, 4, 1)  # planes: mixture mask (re, im), enrollment mask (re, im)
        nn.init.zeros_(self.audio_decoder.weight)
        assert self.audio_decoder.bias is not None  # Conv2d's default bias=True
        with torch.no_grad():
            self.audio_decoder.bias.copy_(torch.tensor([0.0, 0.0, 1.0, 0.0]))  # start: the enrollment

    def forward(self, mixture, enrollment, one_hot):
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
