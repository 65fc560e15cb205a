import math

import pytest
import torch

from s5bench.systems.models.blocks import (
    FiLM,
    LogMel,
    MultiChannelSTFT,
    ResFiLM,
    complex_to_planes,
    hz_to_mel,
    mel_filterbank,
    planes_to_complex,
)
from s5bench.systems.models.state_dicts import load_checkpoint, save_checkpoint


def test_stft_round_trip_four_channels():
    stft = MultiChannelSTFT(n_fft=256, hop=64)
    x = torch.randn(2, 4, 4000, dtype=torch.float64)
    spec = stft(x)
    assert spec.shape == (2, 4, 129, 4000 // 64 + 1) and spec.is_complex()
    torch.testing.assert_close(stft.inverse(spec, 4000), x)
    planes = complex_to_planes(spec)
    assert planes.shape[1] == 8
    torch.testing.assert_close(planes_to_complex(planes), spec)


def test_slaney_mel_scale_and_filters_by_hand():
    assert hz_to_mel(500.0) == pytest.approx(7.5)  # 500 / (200/3)
    assert hz_to_mel(2000.0) == pytest.approx(15 + math.log(2) * 27 / math.log(6.4))
    fb = mel_filterbank(32000, 800, 80, 50.0, 16000.0)
    assert fb.shape == (401, 80) and fb.min() >= 0
    # area normalisation: a filter's weights times the 40 Hz bin spacing sum to about 1
    widths = (fb * 40.0).sum(0)
    assert widths[40:].sub(1).abs().max() < 0.02  # wide filters; narrow low ones sample coarsely
    # filter 0 spans [50 Hz, edge 2]; its peak is at edge 1 with height 2 / (edge2 − edge0)
    m = torch.linspace(hz_to_mel(50.0), hz_to_mel(16000.0), 82, dtype=torch.float64)
    edges = [float(v) * 200 / 3 for v in m[:3]]  # all below 1 kHz: linear part
    freqs = torch.linspace(0, 16000, 401, dtype=torch.float64)
    k = int(torch.argmin((freqs - edges[1]).abs()))
    expected = min((freqs[k] - edges[0]) / (edges[1] - edges[0]), (edges[2] - freqs[k]) / (edges[2] - edges[1]))
    assert fb[k, 0].item() == pytest.approx(float(expected) * 2 / (edges[2] - edges[0]), rel=1e-5)


def test_log_mel_of_a_tone_lights_the_right_band():
    sr = 32000
    t = torch.arange(sr) / sr
    mel = LogMel()(torch.sin(2 * math.pi * 1000 * t)[None])
    assert mel.shape == (1, 80, sr // 320 + 1)
    fb = mel_filterbank(sr, 800, 80, 50.0, 16000.0)
    assert mel[0, :, 50].argmax() == fb[25].argmax()  # 1 kHz is bin 25 of the 40 Hz grid


def test_film_starts_as_identity_and_conditions():
    x = torch.randn(3, 8, 5, 7)
    cond = torch.eye(3, 18)
    film, res = FiLM(18, 8), ResFiLM(18, 8)
    torch.testing.assert_close(film(x, cond), x)
    torch.testing.assert_close(res(x, cond), x)  # Res-FiLM is the identity too, not 2x
    with torch.no_grad():
        film.proj.bias[8:] = 1.0  # β = 1
        res.proj.bias[:8] = 0.5  # γ = 0.5
        res.proj.bias[8:] = 1.0  # β = 1
    torch.testing.assert_close(film(x, cond), x + 1)
    torch.testing.assert_close(res(x, cond), x + 0.5 * x + 1)  # x + (γ·x + β)


def test_checkpoint_round_trip_and_clear_mismatch(tmp_path):
    def build(cfg):
        return torch.nn.Sequential(torch.nn.Linear(cfg["d"], 2))

    model = build({"d": 3})
    path = save_checkpoint(tmp_path / "m.pt", model, {"d": 3}, thresholds=[1.0])
    loaded, record = load_checkpoint(path, build)
    assert record["thresholds"] == [1.0]
    torch.testing.assert_close(loaded[0].weight, model[0].weight)
    torch.save({"state_dict": {"0.weight": torch.zeros(2, 4), "extra": torch.zeros(1)}, "config": {"d": 3}},
               tmp_path / "bad.pt")
    message = r"missing keys \(1\): 0.bias(.|\n)*unexpected keys \(1\): extra(.|\n)*0.weight: shape"
    with pytest.raises(ValueError, match=message):
        load_checkpoint(tmp_path / "bad.pt", build)
