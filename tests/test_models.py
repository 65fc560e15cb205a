"""Shapes, gradients and official-checkpoint loading of the trainable models."""
import math

import pytest
import torch
from conftest import TINY_MODELS

from s5bench.systems.models.checkpoints import build_model, load_component
from s5bench.systems.models.m2d_sc import calibrate_thresholds
from s5bench.systems.models.resunet import ResUNetK
from s5bench.systems.models.state_dicts import save_checkpoint


def official_resunetk_shapes(cond=512, nfft=1024, c=(32, 64, 128, 256, 384, 384), label_len=54):
    """The official ResUNet30(4, 1, 3, 54) state-dict names and shapes, enumerated here from its
    published structure (independently of systems/models/resunet.py)."""
    s = {}

    def bn(p, n):
        for k in ("weight", "bias", "running_mean", "running_var"):
            s[f"{p}.{k}"] = (n,)
        s[f"{p}.num_batches_tracked"] = ()

    def res(p, cin, cout, film_path):
        bn(f"{p}.bn1", cin)
        bn(f"{p}.bn2", cout)
        s[f"{p}.conv1.weight"] = (cout, cin, 3, 3)
        s[f"{p}.conv2.weight"] = (cout, cout, 3, 3)
        if cin != cout:
            s[f"{p}.shortcut.weight"] = (cout, cin, 1, 1)
            s[f"{p}.shortcut.bias"] = (cout,)
        for beta, n in (("beta1", cin), ("beta2", cout)):
            s[f"film.{film_path}->{beta}.weight"] = (n, cond)
            s[f"film.{film_path}->{beta}.bias"] = (n,)

    bn("base.bn0", nfft // 2 + 1)
    s["base.pre_conv.weight"], s["base.pre_conv.bias"] = (c[0], 4, 1, 1), (c[0],)
    ins = [c[0]] + list(c[:-1])
    for i in range(6):
        res(f"base.encoder_block{i + 1}.conv_block1", ins[i], c[i], f"encoder_block{i + 1}->conv_block1")
    res("base.conv_block7a.conv_block1", c[5], c[5], "conv_block7a->conv_block1")
    dec_in = [c[5], c[5], c[4], c[3], c[2], c[1]]
    dec_out = [c[5], c[4], c[3], c[2], c[1], c[0]]
    ups = [(1, 2)] + [(2, 2)] * 5
    for i in range(6):
        p = f"base.decoder_block{i + 1}"
        s[f"{p}.conv1.weight"] = (dec_in[i], dec_out[i]) + ups[i]
        bn(f"{p}.bn1", dec_in[i])
        bn(f"{p}.bn2", dec_in[i])
        for beta in ("beta1", "beta2"):
            s[f"film.decoder_block{i + 1}->{beta}.weight"] = (dec_in[i], cond)
            s[f"film.decoder_block{i + 1}->{beta}.bias"] = (dec_in[i],)
        res(f"{p}.conv_block2", 2 * dec_out[i], dec_out[i], f"decoder_block{i + 1}->conv_block2")
    s["base.after_conv.weight"], s["base.after_conv.bias"] = (4 * 3 * 3, c[0], 1, 1), (36,)
    s["base.out_conv.weight"], s["base.out_conv.bias"] = (1, 4, 1, 1), (1,)
    s["label_embedding.0.weight"], s["label_embedding.0.bias"] = (cond, label_len), (cond,)
    s["label_embedding.1.weight"], s["label_embedding.1.bias"] = (cond,), (cond,)
    s["label_embedding.3.weight"], s["label_embedding.3.bias"] = (cond, cond), (cond,)
    s["label_embedding.4.weight"], s["label_embedding.4.bias"] = (cond,), (cond,)
    return s


def test_official_resunetk_checkpoint_loads_strictly(tmp_path):
    shapes = official_resunetk_shapes()
    state = {f"model.{k}": (0.1 * torch.rand(v) + 0.01 if v else torch.tensor(3)) for k, v in shapes.items()}
    state["model.base.stft.conv_real.weight"] = torch.randn(513, 1, 1024)  # torchlibrosa's frozen tables
    state["model.base.istft.ola_window"] = torch.randn(1024)
    torch.save({"state_dict": state, "epoch": 3}, tmp_path / "resunetk.ckpt")
    model = ResUNetK()
    dropped = model.load_official(tmp_path / "resunetk.ckpt")
    assert dropped == ["base.istft.ola_window", "base.stft.conv_real.weight"]
    assert torch.equal(model.state_dict()["base.encoder_block3.conv_block1.conv2.weight"],
                       state["model.base.encoder_block3.conv_block1.conv2.weight"])
    n = sum(p.numel() for p in model.parameters())
    assert 26.5e6 < n < 26.9e6  # ≈ 26.7 M, as published
    query = torch.zeros(1, 54)
    query[0, 4] = 1
    with torch.no_grad():
        out = model.eval()(torch.randn(1, 4, 16000), query)
    assert out.shape == (1, 3, 1, 16000) and out[0, 1:].abs().max() == 0  # empty slots are zeros


def test_mismatched_resunetk_checkpoint_lists_keys(tmp_path):
    shapes = official_resunetk_shapes()
    state = {k: torch.zeros(v) for k, v in shapes.items()}
    state.pop("film.decoder_block2->beta2.weight")
    state["film.extra.weight"] = torch.zeros(1)
    torch.save({"state_dict": state}, tmp_path / "bad.ckpt")
    with pytest.raises(ValueError) as err:
        ResUNetK().load_official(tmp_path / "bad.ckpt")
    msg = str(err.value)
    assert "bad.ckpt" in msg and "missing keys (1): film.decoder_block2->beta2.weight" in msg
    assert "unexpected keys (1): film.extra.weight" in msg


@pytest.mark.parametrize("task", ["uss", "tse", "separator"])
def test_separation_models_shapes_and_gradients(task):
    torch.manual_seed(0)
    model = build_model(task, TINY_MODELS[task])
    mix = torch.randn(2, 4, 8000)
    if task == "uss":
        out = model(mix)
        assert out["waveforms"].shape == (2, 6, 8000)
        assert out["class_logits"].shape == (2, 6, 18) and out["silence_logit"].shape == (2, 6)
        loss = out["waveforms"].pow(2).mean() + out["class_logits"].sum() + out["silence_logit"].sum()
    elif task == "tse":
        onehot = torch.eye(18)[:2]
        with torch.no_grad():  # the decoder starts at zero weights (output = enrollment); open the path
            model.audio_decoder.weight.normal_(0, 0.1)
        wave = model(mix, mix[:, 0], onehot)
        assert wave.shape == (2, 8000)
        loss = wave.pow(2).mean()
    else:
        wave = model(mix, torch.eye(54)[[0, 20]])
        assert wave.shape == (2, 3, 1, 8000)
        loss = wave.pow(2).mean()
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert sum(g is not None and bool(g.abs().sum() > 0) for g in grads) > 0.8 * len(grads)


def test_tse_output_depends_on_the_class():
    torch.manual_seed(0)
    model = build_model("tse", TINY_MODELS["tse"]).eval()
    for film in model.backbone.films:  # FiLM starts at identity; give it something to do
        torch.nn.init.normal_(film.proj.weight)
    torch.nn.init.normal_(model.audio_decoder.weight, std=0.1)  # and the decoder (it starts at zero)
    mix = torch.randn(1, 4, 4000)
    a = model(mix, mix[:, 0], torch.eye(18)[:1])
    b = model(mix, mix[:, 0], torch.eye(18)[1:2])
    assert not torch.allclose(a, b)


def test_mixture_gain_does_not_change_the_separation_up_to_scale():
    torch.manual_seed(0)
    model = build_model("uss", TINY_MODELS["uss"]).eval()
    mix = torch.randn(1, 4, 4000)
    with torch.no_grad():
        a = model(mix)["waveforms"]
        b = model(100 * mix)["waveforms"]
    assert torch.allclose(100 * a, b, rtol=1e-3, atol=1e-3)


def test_sc_classify_and_thresholds(tmp_path):
    torch.manual_seed(0)
    model = build_model("sc", TINY_MODELS["sc"]).eval()
    labels, e = model.classify(torch.randn(3, 16000))
    assert len(labels) == 3 and "silence" not in labels  # uncalibrated: +inf thresholds
    model.thresholds.fill_(-1e9)
    labels, _ = model.classify(torch.randn(3, 16000))
    assert labels == ["silence"] * 3
    path = save_checkpoint(tmp_path / "sc.pt", model, {"task": "sc", "model": TINY_MODELS["sc"]})
    loaded, _ = load_component(path, expect_task="sc")
    assert torch.equal(loaded.thresholds, model.thresholds)
    with pytest.raises(ValueError, match="a 'sc' checkpoint where a 'uss' one is needed"):
        load_component(path, expect_task="uss")


def test_calibrated_threshold_separates_by_hand():
    # class 0: active energies −9, −8; silent −2, −1 -> threshold midway between −8 and −2
    e = torch.tensor([-9.0, -8.0, -2.0, -1.0, -5.0, -4.0])
    pred = torch.tensor([0, 0, 0, 0, 1, 1])
    act = torch.tensor([True, True, False, False, True, False])
    th = calibrate_thresholds(e, pred, act, n_classes=3)
    assert th[0].item() == pytest.approx(-5.0)
    assert th[1].item() == pytest.approx(-4.5)
    # class 2 has no inputs: the global threshold (all six inputs together)
    assert th[2].item() == pytest.approx(calibrate_thresholds(e, torch.zeros(6, dtype=torch.long), act, 1)[0].item())


def test_tse_starts_as_its_enrollment_and_uss_masks_the_mixture():
    torch.manual_seed(0)
    tse = build_model("tse", TINY_MODELS["tse"]).eval()
    mix, enr = torch.randn(2, 4, 4000), torch.randn(2, 4000)
    hot = torch.eye(18)[:2]
    with torch.no_grad():
        out = tse(mix, enr, hot)
    torch.testing.assert_close(out, enr, atol=1e-5, rtol=1e-5)  # "return the enrollment" before training
    uss = build_model("uss", TINY_MODELS["uss"]).eval()
    with torch.no_grad():
        uss.audio_decoder.weight.zero_()
        uss.audio_decoder.bias.copy_(torch.tensor([0.5, 0.0]))  # a real mask of 0.5 everywhere
        waves = uss(mix)["waveforms"]
    torch.testing.assert_close(waves, 0.5 * mix[:, :1].expand_as(waves), atol=1e-5, rtol=1e-5)


def test_format_1_checkpoints_are_migrated_or_refused(tmp_path):
    """Files from before the checkpoint format was recorded (format 1): a DeFT-Mamba config's
    `decoder: mask` and `film_legacy_double: false` (what the shipped files record) are dropped and
    the file loads; one trained with the removed spectrum decoder or doubling Res-FiLM (or without
    the keys, whose format-1 default was the spectrum decoder) is refused, naming the option."""
    import torch as _torch

    model = build_model("tse", TINY_MODELS["tse"])
    path = save_checkpoint(tmp_path / "new.pt", model, {"task": "tse", "model": TINY_MODELS["tse"]})
    assert _torch.load(path, weights_only=False)["format"] == 2
    for name, extra, ok in (("mask", {"decoder": "mask", "film_legacy_double": False}, True),
                            ("spectrum", {"decoder": "spectrum", "film_legacy_double": False}, False),
                            ("doubled", {"decoder": "mask", "film_legacy_double": True}, False),
                            ("bare", {}, False)):
        old = tmp_path / f"{name}.pt"
        _torch.save({"state_dict": model.state_dict(), "config": {"task": "tse", "model": {**TINY_MODELS["tse"],
                                                                                         **extra}}}, old)
        if ok:
            loaded, _ = load_component(old)
            assert all(_torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), model.state_dict().values()))
        else:
            with pytest.raises(ValueError, match=r"no longer has .*retrain it"):
                load_component(old)
    for shipped in ("uss_tiny", "tse_tiny"):  # the shipped DeFT files are format 1 and load
        assert "format" not in _torch.load(f"checkpoints/{shipped}.pt", weights_only=False)
        load_component(f"checkpoints/{shipped}.pt")


def test_separation_gain_is_zero_for_a_rescaled_mixture_and_positive_when_separated():
    from s5bench.systems.training.tasks import separation_gain

    g = torch.Generator().manual_seed(0)
    s, n = torch.randn(3, 8000, generator=g), torch.randn(3, 8000, generator=g)
    mix = s + n
    assert separation_gain(0.5 * mix, s, mix) < 0.0  # a wrong gain is worse than the best one
    alpha = (mix * s).sum(-1, keepdim=True) / mix.pow(2).sum(-1, keepdim=True)
    assert separation_gain(alpha * mix, s, mix) == pytest.approx(0.0, abs=1e-6)  # the best gain: 0 (α in float32)
    assert separation_gain(s + 0.1 * n, s, mix) > 10.0


def test_2026_slot_tagger_has_the_official_head_names_and_slots():
    from s5bench.systems.models.m2d_slots import M2DSlotTagger

    cfg = {**TINY_MODELS["tagger"]}
    cfg["input_size"], cfg["patch_size"] = tuple(cfg["input_size"]), tuple(cfg["patch_size"])
    model = M2DSlotTagger(track_input_dim=16, track_hidden_dim=8, **cfg).eval()
    d = model.encoder.feature_d
    expected = {  # the 2026 baseline's HeadAvgLinear, enumerated from its published structure
        "head.m2d_out_norm.running_mean": (d,), "head.m2d_out_norm.running_var": (d,),
        "head.m2d_out_norm.num_batches_tracked": (),
        "head.linear.0.weight": (48, d), "head.linear.0.bias": (48,),
        "head.linear.1.weight": (48,), "head.linear.1.bias": (48,),
    }
    for i in range(3):
        expected.update({f"head.tracks.{i}.0.weight": (8, 16), f"head.tracks.{i}.0.bias": (8,),
                         f"head.tracks.{i}.1.weight": (8,), f"head.tracks.{i}.1.bias": (8,),
                         f"head.tracks.{i}.3.weight": (19, 8), f"head.tracks.{i}.3.bias": (19,)})
    got = {k: tuple(v.shape) for k, v in model.state_dict().items() if k.startswith("head.")}
    assert got == expected
    with torch.no_grad():
        probs = model(torch.randn(2, 16000))
    assert probs.shape == (2, 3, 19) and torch.allclose(probs.sum(-1), torch.ones(2, 3))
    labels = model.pick_labels(probs)
    assert len(labels) == 2 and all(len(row) == 3 for row in labels)


def test_ideal_mask_gains_by_hand_on_two_tones_in_separate_bands():
    from s5bench.systems.training.diagnostics import ideal_mask_gains

    t = torch.arange(32000) / 32000
    s = torch.sin(2 * math.pi * 500 * t)[None]  # target: 500 Hz
    n = torch.sin(2 * math.pi * 4000 * t)[None]  # the rest: 4 kHz, same power, orthogonal
    gains = ideal_mask_gains(s + n, s)
    # best gain α = ‖s‖²/‖s+n‖² = 1/2, so α(s+n) − s = (n − s)/2 has half the target's energy: 3.01 dB
    assert gains["scaled_mixture_snr"] == pytest.approx(10 * math.log10(2), abs=0.01)
    # the bands do not overlap: each ideal mask keeps the target's bins, far above the scaled mixture
    for name in ("irm", "psm", "ibm"):
        assert gains[name] > 25.0, name
    # the same target in white noise: masks help, but less (the noise shares the target's bins)
    g = torch.Generator().manual_seed(0)
    noisy = ideal_mask_gains(s + torch.randn(1, 32000, generator=g), s)
    assert 3.0 < noisy["irm"] < 25.0
