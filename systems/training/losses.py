"""Training losses of the baseline and of the self-guided pipeline (docs/task.md §4, §6).

All take torch tensors, reduce to a scalar and are differentiable. Waveforms are (B, S, T).
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from s5bench.metrics.signal import sa_sdr, si_snr, snr

from ..models.m2d_sc import energy  # noqa: F401  (the SC's energy, used by its training losses)


def masked_snr_loss(est: torch.Tensor, ref: torch.Tensor, active: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """The baseline's loss: −(1/(B·S)) Σ m·SNR(ŝ, s), m = 1 for active slots only, with ε = 1e-8
    (the baseline's) in the numerator and the denominator of the SNR.

    Args:
        est: estimated waveforms of shape (B, S, samples).
        ref: reference waveforms of the same shape.
        active: (B, S) bool (or 0/1) mask of the slots that count.
        eps: added to both energies of the SNR.

    Returns:
        The scalar loss in dB (the sum over active slots divided by all B·S slots).
    """
    value = snr(est, ref, eps=eps)
    return -(value * active.to(value)).sum() / active.numel()


def pairwise(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], est: torch.Tensor,
             ref: torch.Tensor) -> torch.Tensor:
    """(B, S_ref, S_est) costs fn(est[:, j], ref[:, i]) -> (B,) for every reference i and estimate j.

    Args:
        fn: cost of one estimate slot against one reference slot, (B, ...) × (B, ...) -> (B,).
        est: estimates of shape (B, S_est, ...).
        ref: references of shape (B, S_ref, ...).

    Returns:
        Costs of shape (B, S_ref, S_est).
    """
    S_ref, S_est = ref.shape[1], est.shape[1]
    return torch.stack([fn(est[:, j], ref[:, i]) for i in range(S_ref) for j in range(S_est)], dim=1
                       ).reshape(len(est), S_ref, S_est)


def best_assignment(cost: torch.Tensor, exhaustive_up_to: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    """The one permutation solver: per item, the one-to-one assignment of estimates to references
    with the smallest mean cost. Exhaustive over the S! permutations (first minimum in itertools
    order) up to `exhaustive_up_to` slots, the Hungarian algorithm (scipy) beyond.

    Args:
        cost: costs of shape (B, S, S) [item, reference i, estimate j].
        exhaustive_up_to: the largest S solved by trying every permutation.

    Returns:
        perm (B, S) long: the estimate assigned to each reference; value (B,): the mean cost of
        that assignment, differentiable through `cost`.
    """
    B, S, _ = cost.shape
    if S <= exhaustive_up_to:
        perms = torch.tensor(list(itertools.permutations(range(S))), device=cost.device)  # (P, S)
        scores = cost[:, torch.arange(S, device=cost.device)[None, :], perms].mean(-1)  # (B, P)
        perm = perms[scores.detach().argmin(1)]
    else:
        from scipy.optimize import linear_sum_assignment

        rows = [linear_sum_assignment(c)[1] for c in cost.detach().cpu().double().numpy()]
        perm = torch.as_tensor(np.array(rows), device=cost.device)
    value = torch.gather(cost, 2, perm[:, :, None])[..., 0].mean(1)
    return perm, value


def neg_sa_sdr(est: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """−SA-SDR over the (sources, samples) axes, averaged over the batch.

    Args:
        est: estimates of shape (B, S, samples).
        ref: references of the same shape.

    Returns:
        The scalar loss in dB.
    """
    return -sa_sdr(est, ref).mean()


def neg_si_snr(est: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """−SI-SNR (zero-mean) over the last axis, averaged over all leading axes.

    Args:
        est: estimates of shape (..., samples).
        ref: references of the same shape.

    Returns:
        The scalar loss in dB.
    """
    return -si_snr(est, ref).mean()


def best_permutation(est: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Per batch item, the permutation of the S estimates that maximises SA-SDR against the S
    references. SA-SDR's numerator Σ‖s_i‖² does not depend on the order, so this is the
    assignment with the smallest summed squared error. Computed without gradient.

    Args:
        est: estimates of shape (B, S, samples).
        ref: references of the same shape.

    Returns:
        (B, S) long indices into the estimates: the estimate of each reference.
    """
    with torch.no_grad():
        return best_assignment(pairwise(lambda e, r: (r - e).pow(2).sum(-1), est, ref))[0]


def gather_slots(x: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """x (B, S, ...) reordered per item by perm (B, S).

    Args:
        x: tensor of shape (B, S, ...).
        perm: (B, S) long indices into x's slot axis.

    Returns:
        Tensor of x's shape whose slot i is x[b, perm[b, i]].
    """
    idx = perm.reshape(perm.shape + (1,) * (x.ndim - 2)).expand(-1, -1, *x.shape[2:])
    return torch.gather(x, 1, idx)


def kl_to_uniform(logits: torch.Tensor) -> torch.Tensor:
    """KL(U ‖ softmax(logits)) averaged over rows: −log K − mean_k log p_k. Zero iff uniform.

    Args:
        logits: logits of shape (N, K); N may be 0.

    Returns:
        The scalar loss in nats (0, still in the graph, for an empty input).
    """
    if logits.numel() == 0:
        return logits.sum()
    logp = F.log_softmax(logits, dim=-1)
    K = logits.shape[-1]
    return (-math.log(K) - logp.mean(-1)).mean()


def arcface_logits(cosine: torch.Tensor, target: torch.Tensor, s: float = 32.0, m: float = 0.5) -> torch.Tensor:
    """Additive angular margin: the target class's cos θ becomes cos(θ + m), all scaled by s.

    Args:
        cosine: cosines of shape (N, K), in [−1, 1] (clamped just inside it before the arccos).
        target: (N,) long class indices.
        s: scale.
        m: angular margin in radians.

    Returns:
        Logits of shape (N, K).
    """
    theta = torch.acos(cosine.clamp(-1 + 1e-7, 1 - 1e-7))
    onehot = F.one_hot(target, cosine.shape[-1]).to(cosine.dtype)
    return s * torch.cos(theta + m * onehot)


def arcface_loss(cosine: torch.Tensor, target: torch.Tensor, s: float = 32.0, m: float = 0.5) -> torch.Tensor:
    """Cross-entropy of the ArcFace logits (`arcface_logits`), averaged over rows.

    Args:
        cosine: cosines of shape (N, K), in [−1, 1].
        target: (N,) long class indices.
        s: scale.
        m: angular margin in radians.

    Returns:
        The scalar loss in nats.
    """
    return F.cross_entropy(arcface_logits(cosine, target, s, m), target)


def energy_hinge(e_in: torch.Tensor, e_out: torch.Tensor, m_in: float = -6.0, m_out: float = -1.0) -> torch.Tensor:
    """Squared hinges: active sources pushed below m_in, silent ones above m_out. Each term is
    the mean over its rows (zero when a side has no rows).

    Args:
        e_in: energies of active sources, shape (N_in,).
        e_out: energies of silent inputs, shape (N_out,).
        m_in: margin the active energies should stay below.
        m_out: margin the silent energies should stay above.

    Returns:
        The scalar loss.
    """
    loss = e_in.new_zeros(())
    if e_in.numel():
        loss = loss + F.relu(e_in - m_in).pow(2).mean()
    if e_out.numel():
        loss = loss + F.relu(m_out - e_out).pow(2).mean()
    return loss


def pit_cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The 2026 tagger's loss: per item, the permutation of the S output slots with the smallest
    mean cross-entropy against the S target slots (class indices, silence included), averaged
    over the batch.

    Args:
        logits: slot logits of shape (B, S, C).
        target: (B, S) long class indices (silence included).

    Returns:
        The scalar loss in nats.
    """
    ce = pairwise(lambda slot, tgt: F.cross_entropy(slot, tgt, reduction="none"), logits, target)
    return best_assignment(ce)[1].mean()


def class_aware_pit_snr_loss(est: torch.Tensor, ref: torch.Tensor, label_vector: torch.Tensor) -> torch.Tensor:
    """The 2026 separator's loss: negative SNR under the best permutation that only exchanges
    slots of equal (non-silent) labels; a silent slot stays in place and scores 0. The mean over
    the S slots, averaged over the batch.

    Args:
        est: estimated waveforms of shape (B, S, samples).
        ref: reference waveforms of the same shape.
        label_vector: (B, S, classes) one-hot queries, zeros for a silent slot.

    Returns:
        The scalar loss in dB.
    """
    B, S = est.shape[:2]
    silent = (label_vector == 0).all(-1)  # (B, S)
    same = (label_vector[:, :, None] == label_vector[:, None, :]).all(-1) & ~silent[:, :, None] & ~silent[:, None, :]
    big = torch.full((B, S, S), 1e9, dtype=est.dtype, device=est.device)
    cost = torch.where(same, pairwise(lambda e, r: -snr(e, r), est, ref), big)
    diag = torch.arange(S, device=est.device)
    cost[:, diag, diag] = torch.where(silent, torch.zeros_like(silent, dtype=est.dtype), cost[:, diag, diag])
    return best_assignment(cost)[1].mean()
