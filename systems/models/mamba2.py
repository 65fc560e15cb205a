"""Mamba-2 in plain PyTorch, with the parameter names and shapes of mamba_ssm's `Mamba2Simple`.

The selective state-space recurrence, per head h (state of size headdim × d_state):
    H_t = exp(Δ_t·A_h) · H_{t−1} + Δ_t · x_t ⊗ B_t,        y_t = H_t · C_t + D_h · x_t
is computed chunk by chunk (the SSD form of the Mamba-2 paper): inside a chunk as a masked
matrix product, across chunks by carrying the state — a handful of einsums instead of a Python
loop over time. On CUDA, when mamba_ssm is importable, its fused kernel computes the same
scan from the same parameters (`use_kernels`).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from s5bench.common.errors import S5Error


def _kernel_scan():
    try:
        # optional CUDA kernels, not a dependency (absent here, so unresolved for the type checker)
        from mamba_ssm.ops.triton.ssd_combined import (  # pyright: ignore[reportMissingImports]
            mamba_chunk_scan_combined,
        )
    except ImportError:
        return None
    return mamba_chunk_scan_combined


def _segment_sums(a: torch.Tensor) -> torch.Tensor:
    """(..., L) -> (..., L, L) with out[i, j] = a[j+1] + … + a[i] for j ≤ i, −inf above the diagonal."""
    L = a.shape[-1]
    c = torch.cumsum(a, dim=-1)
    out = c[..., :, None] - c[..., None, :]
    keep = torch.ones(L, L, dtype=torch.bool, device=a.device).tril()
    return out.masked_fill(~keep, float("-inf"))


def ssd_scan(x: torch.Tensor, dt: torch.Tensor, A: torch.Tensor, B: torch.Tensor, C: torch.Tensor, chunk: int = 64,
             initial_state: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Chunked selective scan. No D skip and no gating: the caller adds those.

    Args:
        x: inputs of shape (b, seq, h, p): batch, sequence, heads, head width.
        dt: positive steps Δ of shape (b, seq, h) (after softplus).
        A: negative decay rates of shape (h,).
        B: input projections of shape (b, seq, g, n), g groups shared by k = h/g heads each, n the state size.
        C: output projections of shape (b, seq, g, n).
        chunk: chunk length (the sequence is zero-padded to a multiple of it).
        initial_state: state before the first step, shape (b, h, p, n); None for zeros.

    Returns:
        y of shape (b, seq, h, p) and the final state of shape (b, h, p, n).
    """
    b, seq, h, p = x.shape
    g, n = B.shape[2], B.shape[3]
    k = h // g
    pad = (-seq) % chunk
    if pad:  # zero steps neither decay nor feed the state
        x, dt = F.pad(x, (0, 0, 0, 0, 0, pad)), F.pad(dt, (0, 0, 0, pad))
        B, C = F.pad(B, (0, 0, 0, 0, 0, pad)), F.pad(C, (0, 0, 0, 0, 0, pad))
    nc, q = x.shape[1] // chunk, chunk
    # Layout: batch, group, [heads of the group,] chunk, step. B and C are shared by the k heads
    # of a group, so they are never copied per head: products with them take the heads folded
    # into the last axis (k·p), products with per-head decays take the heads as a batch axis.
    xd = (x * dt[..., None]).reshape(b, nc, q, g, k, p)
    B = B.reshape(b, nc, q, g, n).permute(0, 3, 1, 2, 4)  # (b, g, c, q, n)
    C = C.reshape(b, nc, q, g, n).permute(0, 3, 1, 2, 4)
    a = (dt * A).reshape(b, nc, q, g, k).permute(0, 3, 4, 1, 2)  # (b, g, k, c, q) log-decays
    a_cum = torch.cumsum(a, dim=-1)

    # within each chunk: y_i = Σ_{j≤i} (C_i·B_j) exp(a_{j+1..i}) x_j Δ_j
    scores = (C @ B.transpose(-1, -2))[:, :, None] * torch.exp(_segment_sums(a))  # (b, g, k, c, q, q)
    y = scores @ xd.permute(0, 3, 4, 1, 2, 5)  # (b, g, k, c, q, p)

    # each chunk's contribution to the state at its end, heads folded: (b, g, c, n, k·p)
    to_end = torch.exp(a_cum[..., -1:] - a_cum)  # (b, g, k, c, q)
    weighted = xd * to_end.permute(0, 3, 4, 1, 2)[..., None]  # (b, c, q, g, k, p)
    chunk_states = B.transpose(-1, -2) @ weighted.permute(0, 3, 1, 2, 4, 5).reshape(b, g, nc, q, k * p)

    # carried across chunks, per head: (b, g, k, c+1, n·p)
    chunk_states = chunk_states.reshape(b, g, nc, n, k, p).permute(0, 1, 4, 2, 3, 5)
    if initial_state is None:
        initial_state = torch.zeros(b, h, p, n, dtype=x.dtype, device=x.device)
    init = initial_state.reshape(b, g, k, 1, p, n).transpose(-1, -2)
    states = torch.cat([init, chunk_states], dim=3).reshape(b, g, k, nc + 1, n * p)
    across = torch.exp(_segment_sums(F.pad(a_cum[..., -1], (1, 0))))  # (b, g, k, c+1, c+1)
    states = (across @ states).reshape(b, g, k, nc + 1, n, p)
    carried, final = states[:, :, :, :-1], states[:, :, :, -1].transpose(-1, -2).reshape(b, h, p, n)

    # what the state entering each chunk adds inside it: (C_i · state) · exp(a_cum_i), heads folded
    entering = C @ carried.permute(0, 1, 3, 4, 2, 5).reshape(b, g, nc, n, k * p)  # (b, g, c, q, k·p)
    entering = entering.reshape(b, g, nc, q, k, p) * torch.exp(a_cum).permute(0, 1, 3, 4, 2)[..., None]
    y = y.permute(0, 3, 4, 1, 2, 5) + entering.permute(0, 2, 3, 1, 4, 5)  # (b, c, q, g, k, p)
    return y.reshape(b, nc * q, h, p)[:, :seq], final


class RMSNormGated(nn.Module):
    """RMSNorm of x·silu(z) (mamba_ssm's norm_before_gate=False), parameter `weight`.

    Args:
        d: feature width.
        eps: added to the mean square before the root.
    """

    def __init__(self, d: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Gate, then normalise over the last axis.

        Args:
            x: features of shape (..., d).
            z: gate of the same shape.

        Returns:
            Tensor of x's shape.
        """
        x = x * F.silu(z)
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class Mamba2(nn.Module):
    """Drop-in for mamba_ssm.modules.mamba2_simple.Mamba2Simple (same state-dict keys).

    Args:
        d_model: input and output width.
        d_state: state size n per group.
        d_conv: width of the causal depthwise convolution.
        expand: inner width as a multiple of d_model.
        headdim: head width p; expand·d_model must be a multiple of it.
        ngroups: groups sharing B and C.
        A_init_range: range of the initial decay rates A (uniform, stored as log).
        dt_min: lower bound of the initial Δ (log-uniform).
        dt_max: upper bound of the initial Δ.
        dt_init_floor: floor of the initial Δ.
        bias: biases in the input and output projections.
        conv_bias: bias in the convolution.
        chunk_size: scan chunk length.
        use_kernels: use mamba_ssm's fused kernel on CUDA when it is importable.

    Raises:
        S5Error: If expand·d_model is not a multiple of headdim.
    """

    def __init__(self, d_model: int, d_state: int = 64, d_conv: int = 4, expand: int = 2, headdim: int = 128,
                 ngroups: int = 1, A_init_range: tuple[float, float] = (1, 16), dt_min: float = 0.001,
                 dt_max: float = 0.1, dt_init_floor: float = 1e-4, bias: bool = False, conv_bias: bool = True,
                 chunk_size: int = 64, use_kernels: bool = True):
        super().__init__()
        self.d_model, self.d_state, self.d_conv, self.expand = d_model, d_state, d_conv, expand
        self.d_inner = expand * d_model
        if self.d_inner % headdim:
            raise S5Error(f"d_inner = {self.d_inner} is not a multiple of headdim = {headdim}")
        self.headdim, self.ngroups, self.chunk_size = headdim, ngroups, chunk_size
        self.nheads = self.d_inner // headdim
        self.use_kernels = use_kernels
        d_in_proj = 2 * self.d_inner + 2 * ngroups * d_state + self.nheads
        self.in_proj = nn.Linear(d_model, d_in_proj, bias=bias)
        conv_dim = self.d_inner + 2 * ngroups * d_state
        self.conv1d = nn.Conv1d(conv_dim, conv_dim, d_conv, groups=conv_dim, padding=d_conv - 1, bias=conv_bias)
        # Δ initialised log-uniformly in [dt_min, dt_max]; dt_bias is softplus⁻¹ of it
        dt = torch.exp(torch.rand(self.nheads) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
        dt = dt.clamp(min=dt_init_floor)
        self.dt_bias = nn.Parameter(dt + torch.log(-torch.expm1(-dt)))
        self.A_log = nn.Parameter(torch.log(torch.empty(self.nheads).uniform_(*A_init_range)))
        self.D = nn.Parameter(torch.ones(self.nheads))
        self.norm = RMSNormGated(self.d_inner)
        self.out_proj = nn.Linear(self.d_inner, d_model, bias=bias)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        """u: (batch, length, d_model) -> same shape.

        Args:
            u: sequences of shape (batch, length, d_model).

        Returns:
            Tensor of shape (batch, length, d_model).
        """
        b, seq, _ = u.shape
        z, xBC, dt = torch.split(self.in_proj(u), [self.d_inner, self.d_inner + 2 * self.ngroups * self.d_state,
                                                    self.nheads], dim=-1)
        xBC = F.silu(self.conv1d(xBC.transpose(1, 2))[..., :seq].transpose(1, 2))
        x, B, C = torch.split(xBC, [self.d_inner, self.ngroups * self.d_state, self.ngroups * self.d_state], dim=-1)
        x = x.reshape(b, seq, self.nheads, self.headdim)
        B = B.reshape(b, seq, self.ngroups, self.d_state)
        C = C.reshape(b, seq, self.ngroups, self.d_state)
        A = -torch.exp(self.A_log.float())
        kernel = _kernel_scan() if (self.use_kernels and u.is_cuda) else None
        if kernel is not None:
            y = kernel(x, dt, A, B, C, chunk_size=self.chunk_size, D=self.D, z=None, dt_bias=self.dt_bias,
                       dt_softplus=True)
        else:
            dt = F.softplus(dt + self.dt_bias)
            y, _ = ssd_scan(x, dt, A, B, C, chunk=self.chunk_size)
            y = y + x * self.D[:, None]
        return self.out_proj(self.norm(y.reshape(b, seq, self.d_inner), z))
