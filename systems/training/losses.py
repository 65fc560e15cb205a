"""Training losses of the baseline and of the self-guided pipeline (S5_REFERENCE §4, §6).

All take torch tensors, reduce to a scalar and are differentiable. Waveforms are (B, S, T).
"""
from __future__ import annotations

import itertools
import math

import torch
import torch.nn.functional as F

from s5bench.metrics.signal import sa_sdr, si_snr, snr

from ..models.m2d_sc import energy  # noqa: F401  (the SC's energy, used by its training losses)


def masked_snr_loss(est: torch.Tensor, ref: torch.Tensor, active: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """The baseline's loss: −(1/(B·S)) Σ m·SNR(ŝ, s), m = 1 for active slots only, with ε in the
    numerator and the denominator of the SNR."""
    num = ref.pow(2).sum(-1) + eps
    den = (ref - est).pow(2).sum(-1) + eps
    snr = 10 * torch.log10(num / den)
    return -(snr * active.to(snr)).sum() / active.numel()


def neg_sa_sdr(est: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """−SA-SDR over the (sources, samples) axes, averaged over the batch."""
    return -sa_sdr(est, ref).mean()


def neg_si_snr(est: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    return -si_snr(est, ref).mean()


def best_permutation(est: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Per batch item, the permutation of the S estimates that maximises SA-SDR against the S
    references (exhaustive: S ≤ 3 here). Returns (B, S) indices into the estimates."""
    S = est.shape[1]
    perms = torch.tensor(list(itertools.permutations(range(S))), device=est.device)
    with torch.no_grad():
        scores = torch.stack([sa_sdr(est[:, p], ref) for p in perms], dim=1)  # (B, P)
    return perms[scores.argmax(1)]


def gather_slots(x: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """x (B, S, ...) reordered per item by perm (B, S)."""
    idx = perm.reshape(perm.shape + (1,) * (x.ndim - 2)).expand(-1, -1, *x.shape[2:])
    return torch.gather(x, 1, idx)


def kl_to_uniform(logits: torch.Tensor) -> torch.Tensor:
    """KL(U ‖ softmax(logits)) averaged over rows: −log K − mean_k log p_k. Zero iff uniform."""
    if logits.numel() == 0:
        return logits.sum()
    logp = F.log_softmax(logits, dim=-1)
    K = logits.shape[-1]
    return (-math.log(K) - logp.mean(-1)).mean()


def arcface_logits(cosine: torch.Tensor, target: torch.Tensor, s: float = 32.0, m: float = 0.5) -> torch.Tensor:
    """Additive angular margin: the target class's cos θ becomes cos(θ + m), all scaled by s.
    cosine: (N, K) in [−1, 1]; target: (N,) class indices."""
    theta = torch.acos(cosine.clamp(-1 + 1e-7, 1 - 1e-7))
    onehot = F.one_hot(target, cosine.shape[-1]).to(cosine.dtype)
    return s * torch.cos(theta + m * onehot)


def arcface_loss(cosine, target, s: float = 32.0, m: float = 0.5) -> torch.Tensor:
    return F.cross_entropy(arcface_logits(cosine, target, s, m), target)


def energy_hinge(e_in: torch.Tensor, e_out: torch.Tensor, m_in: float = -6.0, m_out: float = -1.0) -> torch.Tensor:
    """Squared hinges: active sources pushed below m_in, silent ones above m_out. Each term is
    the mean over its rows (zero when a side has no rows)."""
    loss = e_in.new_zeros(())
    if e_in.numel():
        loss = loss + F.relu(e_in - m_in).pow(2).mean()
    if e_out.numel():
        loss = loss + F.relu(m_out - e_out).pow(2).mean()
    return loss


def pit_cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The 2026 tagger's loss: per item, the permutation of the S output slots with the smallest
    mean cross-entropy against the S target slots (class indices, silence included), averaged
    over the batch. logits (B, S, C), target (B, S) long."""
    B, S, C = logits.shape
    ce = torch.stack([F.cross_entropy(logits[:, j], target[:, i], reduction="none")
                      for i in range(S) for j in range(S)], dim=1).reshape(B, S, S)  # [b, target i, slot j]
    perms = list(itertools.permutations(range(S)))
    scores = torch.stack([ce[:, range(S), list(p)].mean(1) for p in perms], dim=1)  # (B, P)
    return scores.min(1).values.mean()


def class_aware_pit_snr_loss(est: torch.Tensor, ref: torch.Tensor, label_vector: torch.Tensor) -> torch.Tensor:
    """The 2026 separator's loss: negative SNR under the best permutation that only exchanges
    slots of equal (non-silent) labels; a silent slot stays in place and scores 0. The mean over
    the S slots, averaged over the batch. est, ref (B, S, T); label_vector (B, S, classes)."""
    B, S = est.shape[:2]
    silent = (label_vector == 0).all(-1)  # (B, S)
    same = (label_vector[:, :, None] == label_vector[:, None, :]).all(-1) & ~silent[:, :, None] & ~silent[:, None, :]
    big = torch.full((B, S, S), 1e9, dtype=est.dtype, device=est.device)
    neg = torch.stack([-snr(est[:, j], ref[:, i]) for i in range(S) for j in range(S)], dim=1).reshape(B, S, S)
    cost = torch.where(same, neg, big)
    diag = torch.arange(S, device=est.device)
    cost[:, diag, diag] = torch.where(silent, torch.zeros_like(silent, dtype=est.dtype), cost[:, diag, diag])
    perms = list(itertools.permutations(range(S)))
    scores = torch.stack([cost[:, range(S), list(p)].mean(1) for p in perms], dim=1)
    return scores.min(1).values.mean()
