import math

import numpy as np
import pytest
import torch

from s5bench.metrics import EPS_FLOAT32, sa_sdr, si_snr, snr


def test_snr_hand_value():
    ref = np.array([1.0, 0, 0, 0])
    est = np.array([0.5, 0, 0, 0])
    # ‖s‖² = 1, ‖s − ŝ‖² = 0.25 → 10·log10(4)
    assert snr(est, ref, eps=0.0) == pytest.approx(10 * math.log10(4), abs=1e-12)
    expected = 10 * math.log10((1 + EPS_FLOAT32) / (0.25 + EPS_FLOAT32))
    assert snr(est, ref) == pytest.approx(expected, abs=1e-12)


def test_snr_exact_estimate_is_finite_and_eps_bound():
    ref = np.array([1.0, 0, 0, 0])
    assert snr(ref, ref) == pytest.approx(10 * math.log10((1 + EPS_FLOAT32) / EPS_FLOAT32), abs=1e-9)


def test_snr_of_zero_estimate_is_exactly_zero():
    ref = np.random.default_rng(0).standard_normal(100)
    assert snr(np.zeros(100), ref) == 0.0


def test_si_snr_hand_value():
    ref = np.array([1.0, -1.0, 1.0, -1.0])  # zero mean
    est = np.array([2.0, -2.0, 2.0, -1.0])
    est_c = est - est.mean()
    alpha = est_c @ ref / (ref @ ref)
    target = alpha * ref
    expected = 10 * math.log10((target @ target) / ((target - est_c) @ (target - est_c)))
    assert si_snr(est, ref, eps=0.0) == pytest.approx(expected, abs=1e-10)


def test_scale_changes_snr_not_si_snr():
    rng = np.random.default_rng(1)
    ref = rng.standard_normal(1000)
    est = ref + 0.3 * rng.standard_normal(1000)
    assert si_snr(3.0 * est, ref, eps=0.0) == pytest.approx(si_snr(est, ref, eps=0.0), abs=1e-9)
    assert abs(snr(3.0 * est, ref) - snr(est, ref)) > 1.0


def test_sa_sdr_hand_value():
    ref = np.array([[1.0, 0], [0, 2.0]])
    est = np.array([[1.0, 1.0], [0, 2.0]])
    # Σ‖s‖² = 5, Σ‖s − ŝ‖² = 1
    assert sa_sdr(est, ref, eps=0.0) == pytest.approx(10 * math.log10(5), abs=1e-12)


def test_batched_shapes_and_torch_gradients():
    ref = torch.randn(2, 3, 64, dtype=torch.float64)
    est = (ref + 0.1 * torch.randn_like(ref)).requires_grad_(True)
    out = snr(est, ref)
    assert out.shape == (2, 3)
    out.sum().backward()
    assert est.grad is not None and torch.isfinite(est.grad).all()
    np.testing.assert_allclose(out.detach().numpy(), snr(est.detach().numpy(), ref.numpy()), atol=1e-10)
    assert sa_sdr(est, ref).shape == (2,)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_agrees_with_torchmetrics(dtype):
    tm = pytest.importorskip("torchmetrics.functional.audio")
    g = torch.Generator().manual_seed(3)
    ref = torch.randn(4, 32000, generator=g, dtype=dtype)
    est = ref + 0.5 * torch.randn(4, 32000, generator=g, dtype=dtype)
    eps = float(torch.finfo(dtype).eps)
    # ours in float64 on the same float values; torchmetrics computes in `dtype`
    ours = snr(est.double().numpy(), ref.double().numpy(), eps=eps)
    theirs = tm.signal_noise_ratio(est, ref).double().numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-3 if dtype == torch.float32 else 1e-9)
    ours_si = si_snr(est.double().numpy(), ref.double().numpy(), eps=eps)
    theirs_si = tm.scale_invariant_signal_noise_ratio(est, ref).double().numpy()
    np.testing.assert_allclose(ours_si, theirs_si, atol=1e-3 if dtype == torch.float32 else 1e-9)


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="length mismatch"):
        snr(np.zeros(3), np.zeros(4))


def test_default_epsilon_is_float32_machine_epsilon():
    import inspect

    import numpy as np

    assert EPS_FLOAT32 == float(np.finfo(np.float32).eps) == 2.0 ** -23  # torchmetrics' eps for float32 audio
    assert inspect.signature(snr).parameters["eps"].default == EPS_FLOAT32
    assert inspect.signature(si_snr).parameters["eps"].default == EPS_FLOAT32
    assert inspect.signature(sa_sdr).parameters["eps"].default == EPS_FLOAT32


def test_runners_started_by_tests_import_the_installed_package():
    """A subprocess (as the runner tests start them) imports the same installed modules as the tests,
    and only under the one namespace: the folders are not top-level packages."""
    import subprocess
    import sys

    import s5bench.metrics
    import s5bench.systems

    probe = ("import importlib.util, s5bench.metrics, s5bench.systems; "
             "print(s5bench.metrics.__file__, s5bench.systems.__file__, importlib.util.find_spec('metrics'))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd="/", check=True).stdout
    assert out.split() == [s5bench.metrics.__file__, s5bench.systems.__file__, "None"], out
