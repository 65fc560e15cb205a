import pytest
import torch
import torch.nn.functional as F

from s5bench.systems.models.mamba2 import Mamba2, ssd_scan


def plain_recurrence(x, dt, A, B, C, H0=None):
    """H_t = exp(Δ_t A) H_{t−1} + Δ_t x_t ⊗ B_t ; y_t = H_t C_t — one time step after another."""
    b, seq, h, p = x.shape
    g = B.shape[2]
    H = torch.zeros(b, h, p, B.shape[3], dtype=x.dtype) if H0 is None else H0
    ys = []
    for t in range(seq):
        Bt = B[:, t].repeat_interleave(h // g, dim=1)  # (b, h, n)
        Ct = C[:, t].repeat_interleave(h // g, dim=1)
        H = torch.exp(dt[:, t] * A)[..., None, None] * H + (dt[:, t, :, None] * x[:, t])[..., None] * Bt[:, :, None, :]
        ys.append(torch.einsum("bhpn,bhn->bhp", H, Ct))
    return torch.stack(ys, dim=1), H


@pytest.mark.parametrize("length, chunk, groups, with_initial_state",
                         [(50, 16, 1, False), (64, 64, 2, False), (7, 4, 1, False), (50, 16, 2, True), (9, 4, 4, True)])
def test_chunked_scan_matches_the_recurrence(length, chunk, groups, with_initial_state):
    g = torch.Generator().manual_seed(length)
    b, h, p, n = 2, 4, 3, 5
    x = torch.randn(b, length, h, p, generator=g, dtype=torch.float64)
    dt = F.softplus(torch.randn(b, length, h, generator=g, dtype=torch.float64))
    A = -torch.rand(h, generator=g, dtype=torch.float64) * 2
    B = torch.randn(b, length, groups, n, generator=g, dtype=torch.float64)
    C = torch.randn(b, length, groups, n, generator=g, dtype=torch.float64)
    H0 = torch.randn(b, h, p, n, generator=g, dtype=torch.float64) if with_initial_state else None
    y, final = ssd_scan(x, dt, A, B, C, chunk=chunk, initial_state=H0)
    y_ref, final_ref = plain_recurrence(x, dt, A, B, C, H0)
    torch.testing.assert_close(y, y_ref, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(final, final_ref, rtol=1e-9, atol=1e-9)


def test_parameter_names_and_shapes_match_mamba2simple():
    m = Mamba2(d_model=32, d_state=16, d_conv=4, expand=4, headdim=16)
    d_inner, nheads = 128, 8
    shapes = {k: tuple(v.shape) for k, v in m.state_dict().items()}
    assert shapes == {
        "in_proj.weight": (2 * d_inner + 2 * 16 + nheads, 32),
        "conv1d.weight": (d_inner + 2 * 16, 1, 4),
        "conv1d.bias": (d_inner + 2 * 16,),
        "dt_bias": (nheads,), "A_log": (nheads,), "D": (nheads,),
        "norm.weight": (d_inner,),
        "out_proj.weight": (32, d_inner),
    }


def test_layer_is_causal_and_trains():
    torch.manual_seed(0)
    m = Mamba2(d_model=16, d_state=8, expand=2, headdim=8, chunk_size=8)
    u = torch.randn(2, 30, 16)
    y = m(u)
    assert y.shape == u.shape
    u2 = u.clone()
    u2[:, 20:] = torch.randn(2, 10, 16)
    torch.testing.assert_close(m(u2)[:, :20], y[:, :20])  # the future does not leak into the past
    y.pow(2).mean().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in m.parameters())


@pytest.mark.skipif(not torch.cuda.is_available(),
                    reason="needs CUDA and mamba_ssm: GPU parity runs on a GPU machine only")
def test_gpu_parity_with_mamba_ssm():
    ref_mod = pytest.importorskip("mamba_ssm.modules.mamba2_simple", reason="mamba_ssm is not installed")
    torch.manual_seed(0)
    ref = ref_mod.Mamba2Simple(d_model=64, d_state=16, expand=4, headdim=16, chunk_size=64,
                               use_mem_eff_path=False).cuda()
    ours = Mamba2(d_model=64, d_state=16, expand=4, headdim=16, chunk_size=64, use_kernels=False).cuda()
    ours.load_state_dict(ref.state_dict(), strict=True)
    u = torch.randn(2, 300, 64, device="cuda")
    torch.testing.assert_close(ours(u), ref(u), rtol=1e-3, atol=1e-3)
