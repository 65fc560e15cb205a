"""Losses against values computed by hand."""
import math

import numpy as np
import pytest
import torch

from s5bench.systems.training import losses

EPS32 = torch.finfo(torch.float32).eps


def test_masked_snr_counts_active_slots_only():
    ref = torch.tensor([[[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]]], dtype=torch.float64)
    est = torch.tensor([[[0.5, 0.0], [0.0, 0.0], [5.0, 5.0]]], dtype=torch.float64)
    active = torch.tensor([[True, True, False]])
    snr0 = 10 * math.log10((1 + 1e-8) / (0.25 + 1e-8))
    snr1 = 10 * math.log10((4 + 1e-8) / (4 + 1e-8))
    assert losses.masked_snr_loss(est, ref, active).item() == pytest.approx(-(snr0 + snr1) / 3, abs=1e-9)


def test_sa_sdr_aggregates_energies_over_sources():
    ref = torch.tensor([[[3.0, 0.0], [0.0, 1.0]]], dtype=torch.float64)
    est = torch.tensor([[[3.0, 1.0], [0.0, 0.0]]], dtype=torch.float64)
    # Σ‖s‖² = 10, Σ‖s − ŝ‖² = 1 + 1 = 2
    assert losses.neg_sa_sdr(est, ref).item() == pytest.approx(-10 * math.log10((10 + EPS32) / (2 + EPS32)), abs=1e-9)


def test_si_snr_ignores_scale_and_counts_orthogonal_noise():
    ref = torch.tensor([[1.0, -1.0, 1.0, -1.0]], dtype=torch.float64)
    noise = torch.tensor([[1.0, 1.0, -1.0, -1.0]], dtype=torch.float64)  # zero mean, orthogonal to ref
    assert losses.neg_si_snr(3 * ref + 3 * noise, ref).item() == pytest.approx(0.0, abs=1e-6)
    assert losses.neg_si_snr(2 * ref + noise, ref).item() == pytest.approx(-10 * math.log10(4), abs=1e-6)


def test_best_permutation_finds_the_swap():
    ref = torch.randn(2, 3, 50, dtype=torch.float64)
    est = ref[:, [2, 0, 1]] + 0.01 * torch.randn(2, 3, 50, dtype=torch.float64)
    perm = losses.best_permutation(est, ref)
    assert perm.tolist() == [[1, 2, 0], [1, 2, 0]]
    assert torch.allclose(losses.gather_slots(est, perm), ref, atol=0.1)


def test_kl_to_uniform():
    assert losses.kl_to_uniform(torch.zeros(2, 18)).item() == pytest.approx(0.0, abs=1e-6)
    logits = torch.log(torch.tensor([[1.0, 3.0]], dtype=torch.float64))  # p = (1/4, 3/4)
    expected = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)
    assert losses.kl_to_uniform(logits).item() == pytest.approx(expected, abs=1e-12)


def test_arcface_margin_on_the_target_only():
    cos = torch.tensor([[math.cos(0.3), math.cos(1.2)]], dtype=torch.float64)
    target = torch.tensor([0])
    logits = losses.arcface_logits(cos, target, s=32.0, m=0.5)
    assert logits[0, 0].item() == pytest.approx(32 * math.cos(0.8), abs=1e-6)
    assert logits[0, 1].item() == pytest.approx(32 * math.cos(1.2), abs=1e-6)
    a, b = 32 * math.cos(0.8), 32 * math.cos(1.2)
    expected = -a + math.log(math.exp(a) + math.exp(b))
    assert losses.arcface_loss(cos, target).item() == pytest.approx(expected, abs=1e-6)


def test_energy_and_hinge():
    logits = torch.log(torch.tensor([[1.0, 2.0, 1.0]], dtype=torch.float64))
    assert losses.energy(logits).item() == pytest.approx(-math.log(4.0), abs=1e-12)
    e_in = torch.tensor([-5.0, -7.0])  # −5 is 1 above m_in = −6; −7 is fine
    e_out = torch.tensor([-3.0, 0.0])  # −3 is 2 below m_out = −1; 0 is fine
    assert losses.energy_hinge(e_in, e_out).item() == pytest.approx((1 + 0) / 2 + (4 + 0) / 2)
    assert losses.energy_hinge(e_in[:0], e_out[:0]).item() == 0.0


def test_losses_are_differentiable():
    est = torch.randn(2, 3, 100, requires_grad=True)
    ref = torch.randn(2, 3, 100)
    (losses.neg_sa_sdr(est, ref) + losses.masked_snr_loss(est, ref, torch.ones(2, 3, dtype=torch.bool))).backward()
    assert torch.isfinite(est.grad).all() and est.grad.abs().sum() > 0


def test_pit_cross_entropy_picks_the_best_slot_order():
    import itertools

    import torch.nn.functional as F

    torch.manual_seed(0)
    logits = torch.randn(4, 3, 19)
    target = torch.tensor([[15, 15, 18], [0, 5, 18], [18, 18, 18], [3, 4, 5]])
    by_hand = []
    for b in range(4):
        by_hand.append(min(float(np.mean([float(F.cross_entropy(logits[b, p[i]][None], target[b, i][None]))
                                          for i in range(3)])) for p in itertools.permutations(range(3))))
    assert losses.pit_cross_entropy(logits, target).item() == pytest.approx(np.mean(by_hand), rel=1e-6)
    shuffled = logits[:, [2, 0, 1]]  # the output slots in another order: the same loss
    assert losses.pit_cross_entropy(shuffled, target).item() == pytest.approx(np.mean(by_hand), rel=1e-6)


def test_class_aware_pit_only_exchanges_slots_of_one_class():
    from s5bench.metrics.signal import snr

    g = torch.Generator().manual_seed(1)
    ref = torch.randn(1, 3, 400, generator=g)
    speech, cough = torch.eye(18)[15], torch.eye(18)[5]
    labels = torch.stack([speech, speech, cough])[None]
    est = ref[:, [1, 0, 2]] + 0.1 * torch.randn(1, 3, 400, generator=g)  # the two Speech slots swapped
    swapped = -(snr(est[0, 1], ref[0, 0]) + snr(est[0, 0], ref[0, 1]) + snr(est[0, 2], ref[0, 2])) / 3
    assert losses.class_aware_pit_snr_loss(est, ref, labels).item() == pytest.approx(swapped.item(), rel=1e-5)
    # a Speech estimate may not stand for the Cough reference, however close it is
    labels2 = torch.stack([speech, cough, torch.zeros(18)])[None]  # third slot silent: fixed, scores 0
    est2 = ref[:, [1, 0, 2]].clone()  # slot 0 holds ref 1 (Cough's), slot 1 holds ref 0
    fixed = -(snr(est2[0, 0], ref[0, 0]) + snr(est2[0, 1], ref[0, 1]) + 0.0) / 3
    assert losses.class_aware_pit_snr_loss(est2, ref, labels2).item() == pytest.approx(fixed.item(), rel=1e-5)


def test_the_permutation_solver_against_brute_force():
    import itertools

    from s5bench.systems.training.losses import best_assignment

    g = torch.Generator().manual_seed(0)
    for S in (1, 2, 3, 4, 5, 6):  # exhaustive up to 4 slots, Hungarian beyond
        cost = torch.rand(64, S, S, generator=g, dtype=torch.float64)
        perm, value = best_assignment(cost)
        for b in range(64):
            brute = min(sum(float(cost[b, i, p[i]]) for i in range(S)) / S for p in itertools.permutations(range(S)))
            assert float(value[b]) == pytest.approx(brute, abs=1e-12)
            assert sorted(perm[b].tolist()) == list(range(S))  # one estimate per reference
            assert float(cost[b, torch.arange(S), perm[b]].mean()) == pytest.approx(brute, abs=1e-12)
    cost = torch.rand(8, 3, 3, generator=g, requires_grad=True)
    best_assignment(cost)[1].sum().backward()  # the value is differentiable through the chosen entries
    assert int((cost.grad != 0).sum()) == 8 * 3


def test_best_permutation_maximises_sa_sdr():
    """The squared-error assignment equals the argmax of SA-SDR over every order (an independent
    formulation: SA-SDR computed for each permutation)."""
    import itertools

    from s5bench.metrics.signal import sa_sdr
    from s5bench.systems.training.losses import best_permutation

    g = torch.Generator().manual_seed(1)
    ref = torch.randn(32, 3, 400, generator=g)
    est = ref[:, torch.randperm(3, generator=g)] + 0.8 * torch.randn(32, 3, 400, generator=g)
    perm = best_permutation(est, ref)
    for b in range(32):
        scores = {p: float(sa_sdr(est[b:b + 1, list(p)], ref[b:b + 1])) for p in itertools.permutations(range(3))}
        assert tuple(perm[b].tolist()) == max(scores, key=scores.get)
