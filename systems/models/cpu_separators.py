"""CPU-size separators: backbones that learn within a few core-hours, behind the paper's USS
interface (6 objects: 3 foreground + 2 interference + 1 noise, a class decoder and a silence
branch per object), so that the USS task, its losses and the self-guided pipeline use them
unchanged.

Departures from DeFT-Mamba (the paper's model stays as it is at paper size, `deft_mamba.py`),
and why:
- Spatial features instead of raw complex planes. In first-order ambisonics the active
  intensity Re(W*·[X, Y, Z]) of a time-frequency bin points at the direction of arrival of
  whatever dominates it; the project's sources are static points, so bins of one source share
  one direction. A per-bin DeFT has to learn that relation from 8 raw planes; giving it as
  three normalised planes (in [-1, 1], a unit vector for a plane wave, shorter where the
  field is diffuse) saves the network that work. The log power of the four channels is kept.
- Magnitude masks on channel 0 (the mixture's phase kept), as the classic mask networks.
- `spatial_blstm`: a flat BLSTM over frames of all bins (the learnability probe's shape, with
  the spatial features). `bandsplit`: the frequency axis cut into ~48 bands (2 bins wide at
  low frequencies, 32 at the top); each band's features projected by its own Linear to D, then
  blocks that alternate a BLSTM over time (per band) and one over bands (per frame), so the
  compute a per-bin model spends on 513 bins buys a wider network.
- Class and silence heads per object read a per-object projection of the network's state
  pooled over time (and bands); PIT aligns the objects with the targets as for the paper's model.
- `BandSplitTSE`: the TSE of the framework on the same backbone: the mixture's spatial planes and
  the raw enrollment's (its log power and its log ratio to the mixture's W) side by side in every
  bin, the class one-hot through Res-FiLM (h + γ·h + β, identity at start) after every half of
  every block, and two magnitude masks out, one on the mixture's channel 0 and one on the
  enrollment, initialised so that the model starts by returning its enrollment (as the
  paper-size TSE's mask decoder does here).
"""
from __future__ import annotations

import torch
from torch import nn

from s5bench.common.labels import LABELS

from .blocks import MultiChannelSTFT

N_CLASSES = len(LABELS)
N_FEATURE_PLANES = 7  # log power of W, Y, Z, X + the intensity vector's 3 components


def spatial_features(spec: torch.Tensor) -> torch.Tensor:
    """(B, 4, F, N) complex FOA (ACN W, Y, Z, X) -> (B, 7, F, N) real: each channel's log power
    (mean removed, about unit range) and Re(W*·V) / (½(|W|² + |V|²)), V = (X, Y, Z).

    Args:
        spec: complex STFT of first-order ambisonics, shape (batch, 4, bins, frames), ACN order.

    Returns:
        Real features of shape (batch, 7, bins, frames): the 4 log powers (natural log, the mean over
        channels, bins and frames removed, divided by 4), then the intensity's x, y, z components.
    """
    power = spec.abs().pow(2)
    logpow = torch.log(power + 1e-10)
    logpow = (logpow - logpow.mean((1, 2, 3), keepdim=True)) / 4
    w, v = spec[:, 0:1], spec[:, [3, 1, 2]]  # V in x, y, z order
    energy = 0.5 * (power[:, 0:1] + power[:, 1:].sum(1, keepdim=True))
    intensity = (w.conj() * v).real / (energy + 1e-10)
    return torch.cat([logpow, intensity], dim=1)


def band_edges(n_bins: int) -> list[tuple[int, int]]:
    """Bands of 2 bins below bin 32, then 4, 8, 16 and 32 bins per octave-like region; the last
    band takes what is left (for n_fft 1024: 48 bands).

    Args:
        n_bins: number of frequency bins (n_fft // 2 + 1).

    Returns:
        (start, end) bin ranges, end exclusive, contiguous and covering 0..n_bins.
    """
    edges, start = [], 0
    for stop, width in ((32, 2), (64, 4), (128, 8), (256, 16), (n_bins, 32)):
        while start < min(stop, n_bins):
            end = min(start + width, n_bins)
            if n_bins - end < width // 2:  # fold a short remainder into the last band
                end = n_bins if stop >= n_bins else end
            edges.append((start, end))
            start = end
    return edges


class BandSplit(nn.Module):
    """(B, P, F, N) per-bin planes <-> (B, N, K, D) band embeddings, a Linear per band each way.

    Args:
        n_bins: frequency bins F (n_fft // 2 + 1); the K bands are `band_edges(n_bins)`.
        planes: feature planes P per bin on the way in.
        dim: band embedding width D.
        out_per_bin: values per bin on the way out (e.g. one mask per object).
    """

    index: torch.Tensor  # buffers
    valid: torch.Tensor

    def __init__(self, n_bins: int, planes: int, dim: int, out_per_bin: int):
        super().__init__()
        self.edges = band_edges(n_bins)
        width = max(e - s for s, e in self.edges)
        index = torch.zeros(len(self.edges), width, dtype=torch.long)
        valid = torch.zeros(len(self.edges), width, dtype=torch.bool)
        for k, (s, e) in enumerate(self.edges):
            index[k, :e - s] = torch.arange(s, e)
            valid[k, :e - s] = True
        self.register_buffer("index", index, persistent=False)
        self.register_buffer("valid", valid, persistent=False)
        K = len(self.edges)
        self.w_in = nn.Parameter(torch.randn(K, planes * width, dim) / (planes * width) ** 0.5)
        self.b_in = nn.Parameter(torch.zeros(K, dim))
        self.norm = nn.LayerNorm(dim)
        self.out_per_bin, self.width = out_per_bin, width
        self.w_out = nn.Parameter(torch.randn(K, dim, out_per_bin * width) / dim ** 0.5)
        self.b_out = nn.Parameter(torch.zeros(K, out_per_bin * width))

    def split(self, planes: torch.Tensor) -> torch.Tensor:
        """Embed each band: its bins' planes through the band's own Linear, then a LayerNorm.

        Args:
            planes: per-bin features of shape (B, P, F, N), F = n_bins, N frames.

        Returns:
            Band embeddings of shape (B, N, K, D).
        """
        B, P, F, N = planes.shape
        g = planes[:, :, self.index] * self.valid[..., None]  # (B, P, K, W, N)
        g = g.permute(0, 4, 2, 1, 3).reshape(B, N, len(self.edges), P * self.width)
        return self.norm(torch.einsum("bnki,kid->bnkd", g, self.w_in) + self.b_in)

    def merge(self, h: torch.Tensor, n_bins: int) -> torch.Tensor:
        """(B, N, K, D) -> (B, out_per_bin, F, N): each band's embedding back to its bins.

        Args:
            h: band embeddings of shape (B, N, K, D).
            n_bins: frequency bins F of the output.

        Returns:
            Per-bin values (pre-activation) of shape (B, out_per_bin, F, N).
        """
        B, N, K, _ = h.shape
        y = (torch.einsum("bnkd,kdo->bnko", h, self.w_out) + self.b_out).reshape(B, N, K, self.out_per_bin, -1)
        out = h.new_zeros(B, N, self.out_per_bin, n_bins)
        out[..., self.index[self.valid]] = y.permute(0, 1, 3, 2, 4)[..., self.valid]
        return out.permute(0, 2, 3, 1)


class DualPathBlock(nn.Module):
    """A BLSTM over time (each band) then over bands (each frame), each residual with a LayerNorm;
    optionally FiLM-conditioned (Res-FiLM: h + γ·h + β) after each half.

    Args:
        dim: band embedding width D (each BLSTM has dim // 2 units per direction).
        cond_dim: width of the condition vector; 0 for none (no FiLM).
    """

    def __init__(self, dim: int, cond_dim: int = 0):
        super().__init__()
        self.time_norm, self.band_norm = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.time_rnn = nn.LSTM(dim, dim // 2, batch_first=True, bidirectional=True)
        self.band_rnn = nn.LSTM(dim, dim // 2, batch_first=True, bidirectional=True)
        self.time_out, self.band_out = nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.film = nn.Linear(cond_dim, 2 * dim) if cond_dim else None
        if self.film is not None:
            nn.init.zeros_(self.film.weight)
            nn.init.zeros_(self.film.bias)

    def _film(self, h, cond):
        if self.film is None or cond is None:
            return h
        gamma, beta = self.film(cond)[:, None, None].chunk(2, dim=-1)
        return h + gamma * h + beta

    def forward(self, h: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """One time pass and one band pass.

        Args:
            h: band embeddings of shape (B, N frames, K bands, D).
            cond: condition vectors of shape (B, cond_dim), or None (no FiLM, also when cond_dim > 0).

        Returns:
            Tensor of h's shape.
        """
        B, N, K, D = h.shape
        t = self.time_norm(h).permute(0, 2, 1, 3).reshape(B * K, N, D)
        t = self.time_out(self.time_rnn(t)[0]).reshape(B, K, N, D).permute(0, 2, 1, 3)
        h = self._film(h + t, cond)
        f = self.band_norm(h).reshape(B * N, K, D)
        h = h + self.band_out(self.band_rnn(f)[0]).reshape(B, N, K, D)
        return self._film(h, cond)


class _ObjectHeads(nn.Module):
    """Per-object class logits (18) and silence logit from (B, S, E) pooled object embeddings."""

    def __init__(self, width: int):
        super().__init__()
        self.classes = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, N_CLASSES))
        self.silence = nn.Linear(width, 1)

    def forward(self, pooled):
        return self.classes(pooled), self.silence(pooled)[..., 0]


class SpatialBLSTMUSS(nn.Module):
    """Candidate A: a 2-layer BLSTM over frames of the 7 feature planes of every bin.

    Args:
        n_foreground: foreground objects (the first outputs).
        n_interference: interference objects (after the foreground).
        n_noise: noise objects (last).
        hidden: BLSTM units per direction.
        layers: BLSTM layers.
        n_fft: STFT size in samples.
        hop: STFT hop in samples.
        embed: width of each object's embedding for its class and silence heads.
    """

    def __init__(self, n_foreground: int = 3, n_interference: int = 2, n_noise: int = 1, hidden: int = 128,
                 layers: int = 2, n_fft: int = 1024, hop: int = 512, embed: int = 32):
        super().__init__()
        self.n_fg, self.n_int = n_foreground, n_interference
        self.n_objects = n_foreground + n_interference + n_noise
        self.stft = MultiChannelSTFT(n_fft, hop)
        n_bins = n_fft // 2 + 1
        self.inp = nn.Linear(N_FEATURE_PLANES * n_bins, hidden)
        self.rnn = nn.LSTM(hidden, hidden, layers, batch_first=True, bidirectional=True)
        self.masks = nn.Linear(2 * hidden, self.n_objects * n_bins)
        self.embed = nn.Linear(2 * hidden, self.n_objects * embed)
        self.heads = _ObjectHeads(embed)

    def forward(self, mixture: torch.Tensor) -> dict[str, torch.Tensor]:
        """Separate a mixture into S objects, each a magnitude mask on channel 0.

        Args:
            mixture: first-order ambisonic mixtures of shape (batch, 4, samples) at 32 kHz.

        Returns:
            `waveforms` (batch, S, samples): channel 0 masked once per object (same rate and scale as
            the mixture), S = n_foreground + n_interference + n_noise in that order;
            `class_logits` (batch, S, 18); `silence_logit` (batch, S).
        """
        B, _, T = mixture.shape
        spec = self.stft(mixture)
        F_, N = spec.shape[2:]
        frames = spatial_features(spec).permute(0, 3, 1, 2).flatten(2)  # (B, N, 7·F)
        h, _ = self.rnn(torch.tanh(self.inp(frames)))
        masks = torch.sigmoid(self.masks(h)).reshape(B, N, self.n_objects, F_).permute(0, 2, 3, 1)
        wave = self.stft.inverse(masks * spec[:, :1], T)
        pooled = self.embed(h).reshape(B, N, self.n_objects, -1).mean(1)
        logits, silence = self.heads(pooled)
        return {"waveforms": wave, "class_logits": logits, "silence_logit": silence}


class BandSplitUSS(nn.Module):
    """Candidate B: band-split spatial features, `n_blocks` dual-path BLSTM blocks of width `dim`,
    then per object a band-wise mask head and an embedding for its class and silence heads.

    Args:
        n_foreground: foreground objects (the first outputs).
        n_interference: interference objects (after the foreground).
        n_noise: noise objects (last).
        dim: band embedding width.
        n_blocks: dual-path blocks.
        n_fft: STFT size in samples.
        hop: STFT hop in samples.
    """

    def __init__(self, n_foreground: int = 3, n_interference: int = 2, n_noise: int = 1, dim: int = 48,
                 n_blocks: int = 2, n_fft: int = 1024, hop: int = 512):
        super().__init__()
        self.n_fg, self.n_int = n_foreground, n_interference
        self.n_objects = n_foreground + n_interference + n_noise
        self.stft = MultiChannelSTFT(n_fft, hop)
        self.n_bins = n_fft // 2 + 1
        self.bands = BandSplit(self.n_bins, N_FEATURE_PLANES, dim, out_per_bin=self.n_objects)
        self.blocks = nn.ModuleList(DualPathBlock(dim) for _ in range(n_blocks))
        self.object_embed = nn.Linear(dim, self.n_objects * dim)
        self.heads = _ObjectHeads(dim)

    def forward(self, mixture: torch.Tensor) -> dict[str, torch.Tensor]:
        """Separate a mixture into S objects, each a magnitude mask on channel 0.

        Args:
            mixture: first-order ambisonic mixtures of shape (batch, 4, samples) at 32 kHz.

        Returns:
            `waveforms` (batch, S, samples): channel 0 masked once per object (same rate and scale as
            the mixture), S = n_foreground + n_interference + n_noise in that order;
            `class_logits` (batch, S, 18); `silence_logit` (batch, S).
        """
        B, _, T = mixture.shape
        spec = self.stft(mixture)
        h = self.bands.split(spatial_features(spec))
        for block in self.blocks:
            h = block(h)
        masks = torch.sigmoid(self.bands.merge(h, self.n_bins))  # (B, S, F, N)
        wave = self.stft.inverse(masks * spec[:, :1], T)
        pooled = self.object_embed(h.mean((1, 2))).reshape(B, self.n_objects, -1)
        logits, silence = self.heads(pooled)
        return {"waveforms": wave, "class_logits": logits, "silence_logit": silence}


class BandSplitTSE(nn.Module):
    """(B, 4, T) mixture, (B, T) enrollment, (B, 18) one-hot -> (B, T) target at channel 0.

    Args:
        dim: band embedding width.
        n_blocks: dual-path blocks, each FiLM-conditioned on the class one-hot.
        n_fft: STFT size in samples.
        hop: STFT hop in samples.
        start_logit: initial mask logit: the mixture mask starts at sigmoid(−start_logit), the
            enrollment mask at sigmoid(+start_logit).
    """

    def __init__(self, dim: int = 48, n_blocks: int = 2, n_fft: int = 1024, hop: int = 512, start_logit: float = 6.0):
        super().__init__()
        self.stft = MultiChannelSTFT(n_fft, hop)
        self.n_bins = n_fft // 2 + 1
        self.bands = BandSplit(self.n_bins, N_FEATURE_PLANES + 2, dim, out_per_bin=2)
        self.blocks = nn.ModuleList(DualPathBlock(dim, cond_dim=N_CLASSES) for _ in range(n_blocks))
        # Start near "return the enrollment": mixture mask sigmoid(−start_logit), enrollment mask
        # sigmoid(+start_logit). At 6 (0.998) both sigmoids are saturated, their slope 0.0025, and
        # the masks barely train (tse_cpu's biases were still ±6.0 after 1,500 steps); at 2 the
        # start is 0.88·enrollment + 0.12·mixture and the slope 0.10.
        with torch.no_grad():
            self.bands.w_out.mul_(0.01)
            self.bands.b_out.view(len(self.bands.edges), 2, -1)[:, 0] = -float(start_logit)
            self.bands.b_out.view(len(self.bands.edges), 2, -1)[:, 1] = float(start_logit)

    def forward(self, mixture: torch.Tensor, enrollment: torch.Tensor, one_hot: torch.Tensor) -> torch.Tensor:
        """Extract the queried class: a magnitude mask on the mixture's channel 0 plus one on the enrollment.

        Args:
            mixture: first-order ambisonic mixtures of shape (batch, 4, samples) at 32 kHz.
            enrollment: a first estimate of the target, shape (batch, samples), same rate and length.
            one_hot: the target's class, shape (batch, 18).

        Returns:
            The target's waveform at channel 0, shape (batch, samples).
        """
        T = mixture.shape[-1]
        spec = self.stft(torch.cat([mixture, enrollment[:, None]], dim=1))
        mix, enr = spec[:, :4], spec[:, 4:]
        power_w, power_e = mix[:, :1].abs().pow(2), enr.abs().pow(2)
        logpow_w = torch.log(power_w + 1e-10)
        offset = logpow_w.mean((1, 2, 3), keepdim=True)
        enr_planes = torch.cat([(torch.log(power_e + 1e-10) - offset) / 4,
                                (torch.log(power_e + 1e-10) - logpow_w).clamp(-20, 20) / 4], dim=1)
        h = self.bands.split(torch.cat([spatial_features(mix), enr_planes], dim=1))
        cond = one_hot.to(h)
        for block in self.blocks:
            h = block(h, cond)
        masks = torch.sigmoid(self.bands.merge(h, self.n_bins))  # (B, 2, F, N)
        est = masks[:, :1] * mix[:, :1] + masks[:, 1:] * enr
        return self.stft.inverse(est, T)[:, 0]


class BandSplitSeparator(BandSplitTSE):
    """The CPU-size baseline's label-queried separator (the official baseline's ResUNetK role):
    the TSE's network with the mixture's own channel 0 in the enrollment's place, so the class
    one-hot is its only clue. Same backbone and budget as the pipeline's TSE, so the two systems
    differ by the framework (USS + SC + enrollment), not by the network.

    (B, 4, T) mixture, (B, 3·18) query (one one-hot per slot, zeros for a silent slot) ->
    (B, 3, 1, T), zeros where the query is zeros.

    Each slot is extracted on its own, so two slots queried with one class (2026) would get the
    same answer. With `occurrences` the k-th slot of a class (k = 0, 1, 2 in slot order) adds a
    learned vector `occurrence(k)` to its one-hot (zero at the start, so the model begins as the
    2025 one), which lets the two queries of a repeated class ask for two different sources; the
    class-aware PIT loss leaves free which one is which.

    Args:
        n_slots: queried slots per mixture.
        dim: band embedding width.
        n_blocks: dual-path blocks.
        n_fft: STFT size in samples.
        hop: STFT hop in samples.
        start_logit: initial mask logit (see `BandSplitTSE`).
        occurrences: add the learned occurrence vectors (2026 repeated classes).
    """

    def __init__(self, n_slots: int = 3, dim: int = 48, n_blocks: int = 2, n_fft: int = 1024, hop: int = 512,
                 start_logit: float = 6.0, occurrences: bool = False):
        super().__init__(dim, n_blocks, n_fft, hop, start_logit)
        self.n_slots = n_slots
        self.occurrence = None
        if occurrences:
            self.occurrence = nn.Embedding(n_slots, N_CLASSES)
            nn.init.zeros_(self.occurrence.weight)

    def forward(self, mixture: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        """Extract one source per queried slot.

        Args:
            mixture: first-order ambisonic mixtures of shape (batch, 4, samples) at 32 kHz.
            query: class one-hots of shape (batch, n_slots·18) or (batch, n_slots, 18), zeros for a
                silent slot.

        Returns:
            Waveforms at channel 0 of shape (batch, n_slots, 1, samples), zeros for the silent slots.
        """
        B, _, T = mixture.shape
        hots = query.reshape(B, self.n_slots, N_CLASSES)
        out = mixture.new_zeros(B, self.n_slots, 1, T)
        b_idx, s_idx = torch.nonzero(hots.sum(-1) > 0, as_tuple=True)
        if len(b_idx):
            mix, cond = mixture[b_idx], hots[b_idx, s_idx]
            if self.occurrence is not None:
                cond = cond + self.occurrence(occurrence_index(hots)[b_idx, s_idx])
            out[b_idx, s_idx, 0] = super().forward(mix, mix[:, 0], cond)
        return out


def occurrence_index(hots: torch.Tensor) -> torch.Tensor:
    """How many earlier slots of the same mixture carry the same (non-silent) query.

    Args:
        hots: (B, S, C) one query per slot, zeros for a silent slot.

    Returns:
        (B, S) long: 0 for the first slot of a class, 1 for the second, …; 0 for silent slots.

    Example:
        >>> h = torch.eye(3)[[0, 1, 0]][None]  # classes 0, 1, 0
        >>> occurrence_index(h).tolist()
        [[0, 0, 1]]
    """
    S = hots.shape[1]
    active = hots.abs().sum(-1) > 0
    same = (hots[:, :, None] == hots[:, None, :]).all(-1) & active[:, None, :] & active[:, :, None]
    earlier = torch.ones(S, S, dtype=torch.bool, device=hots.device).tril(-1)
    return (same & earlier).sum(-1)
