"""The 2026 baseline: the 4-channel tagger's official names and channel layout, strict loading of
released-style checkpoints, the system's slot rules, and the two 2026 training tasks."""
import pytest
import torch
from test_m2d import official_backbone_tensors

from s5bench.common.labels import LABEL_INDEX, SILENCE
from s5bench.systems.baseline2026 import Baseline2026, order_slots
from s5bench.systems.models.checkpoints import build_model
from s5bench.systems.models.m2d_slots import M2DSpatialSlotTagger
from s5bench.systems.models.state_dicts import save_checkpoint
from s5bench.systems.official import load_tagger_2026
from s5bench.systems.slots import one_hots
from s5bench.systems.training import losses
from s5bench.systems.training.tasks import SeparatorTask, SlotTaggerTask

D, DEPTH, TRACK_IN, TRACK_HIDDEN = 32, 1, 16, 8
FEATURE_D = 5 * D  # 5 frequency patches per time step
HEAD_ARGS = {"track_input_dim": TRACK_IN, "track_hidden_dim": TRACK_HIDDEN}


def official_spatial_tagger_tensors(n_channels=4):
    """M2dAtSpatial's state dict (catchan_average_linear head), written out from its published
    structure: the inner M2dAt keeps PortableM2D's head_norm, its head is an Identity."""
    t = {f"m2d.backbone.{k}": s for k, s in official_backbone_tensors(D, DEPTH).items()}
    t["m2d.backbone.norm_stats"] = (2,)
    t.update({"m2d.head_norm.running_mean": (FEATURE_D,), "m2d.head_norm.running_var": (FEATURE_D,),
              "m2d.head_norm.num_batches_tracked": ()})
    d = n_channels * FEATURE_D
    t.update({"head.m2d_out_norm.running_mean": (d,), "head.m2d_out_norm.running_var": (d,),
              "head.m2d_out_norm.num_batches_tracked": (),
              "head.linear.0.weight": (3 * TRACK_IN, d), "head.linear.0.bias": (3 * TRACK_IN,),
              "head.linear.1.weight": (3 * TRACK_IN,), "head.linear.1.bias": (3 * TRACK_IN,)})
    for i in range(3):
        p = f"head.tracks.{i}."
        t.update({p + "0.weight": (TRACK_HIDDEN, TRACK_IN), p + "0.bias": (TRACK_HIDDEN,),
                  p + "1.weight": (TRACK_HIDDEN,), p + "1.bias": (TRACK_HIDDEN,),
                  p + "3.weight": (19, TRACK_HIDDEN), p + "3.bias": (19,)})
    return t


def spatial_tagger():
    return M2DSpatialSlotTagger(n_channels=4, track_input_dim=TRACK_IN, track_hidden_dim=TRACK_HIDDEN,
                                embed_dim=D, depth=DEPTH, num_heads=2).eval()


def test_spatial_tagger_has_the_official_names_and_shapes():
    got = {k: tuple(v.shape) for k, v in spatial_tagger().state_dict().items()}
    assert got == official_spatial_tagger_tensors()


def test_spatial_tagger_concatenates_each_time_steps_channels_in_order():
    model = spatial_tagger()
    mix = torch.randn(2, 4, 16000) * 0.1
    with torch.no_grad():
        per_channel = [model.m2d.encoder(mix[:, c]) for c in range(4)]  # (B, frames, D) each
        expected = model.head(torch.cat(per_channel, dim=-1))  # [ch0 | ch1 | ch2 | ch3] per frame
        got = model.mixture_logits(mix)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="4-channel"):
        model.mixture_logits(mix[:, :2])


def write_released_tagger(tmp_path, n_channels=4, drop=None):
    """A released-style tagger checkpoint (Lightning: `model.` prefix, nnAudio front-end tables)
    and an M2D weight file, with random values."""
    g = torch.Generator().manual_seed(1)
    shapes = official_spatial_tagger_tensors(n_channels)
    state = {f"model.{k}": (torch.rand(s, generator=g) + 0.5 if s else torch.tensor(7)) for k, s in shapes.items()}
    state["model.m2d.to_spec.mel_basis"] = torch.zeros(80, 401)
    if drop:
        del state[f"model.{drop}"]
    tagger = tmp_path / "m2dat_4c.ckpt"
    torch.save({"state_dict": state, "epoch": 3}, tagger)
    folder = tmp_path / "m2d_as_vit_base-80x1001p16x16p32k-240413_AS-FT_enconly"
    folder.mkdir(exist_ok=True)
    weights = folder / "weights_ep69it3124-0.47998.pth"
    torch.save({k: torch.zeros(s) for k, s in official_backbone_tensors(D, DEPTH).items()}, weights)
    return tagger, weights, state


def test_released_4c_tagger_loads_strictly_with_its_values(tmp_path):
    path, weights, state = write_released_tagger(tmp_path)
    tagger = load_tagger_2026(path, weights, n_channels=4, head_args=HEAD_ARGS)
    own = tagger.state_dict()
    for key in ("m2d.backbone.blocks.0.attn.qkv.weight", "head.tracks.2.3.bias", "m2d.head_norm.running_var"):
        torch.testing.assert_close(own[key], state[f"model.{key}"])
    with torch.no_grad():
        probs = tagger.eval()(torch.randn(1, 4, 32000) * 0.1)
    assert probs.shape == (1, 3, 19)
    path, weights, _ = write_released_tagger(tmp_path, drop="head.tracks.1.3.weight")
    with pytest.raises(ValueError, match=r"head.tracks.1.3.weight"):
        load_tagger_2026(path, weights, n_channels=4, head_args=HEAD_ARGS)


def test_missing_released_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"args.tagger: .*m2dat_4c.ckpt(.|\n)*args.separator"):
        Baseline2026(tagger=tmp_path / "m2dat_4c.ckpt", separator=tmp_path / "resunetk.ckpt", official=True,
                     weight_file=tmp_path / "w.pth", n_channels=4)


def test_silent_slots_move_to_the_end_in_order():
    assert order_slots(["Speech", SILENCE, "Doorbell"]) == ["Speech", "Doorbell", SILENCE]
    assert order_slots([SILENCE, "Speech", "Speech"]) == ["Speech", "Speech", SILENCE]


class FixedTagger(torch.nn.Module):
    """Slot logits given in advance (rows of class indices, 18 = silence)."""

    def __init__(self, picks):
        super().__init__()
        self.picks = picks

    def mixture_logits(self, mixture):
        logits = torch.zeros(len(self.picks), 3, 19)
        for b, row in enumerate(self.picks):
            for s, i in enumerate(row):
                logits[b, s, i] = 5.0 - s  # earlier slots more confident
        return logits


class RecordingSeparator(torch.nn.Module):
    def forward(self, mixture, query):
        self.query = query
        return mixture[:, None, :1].repeat(1, 3, 1, 1) * query.reshape(len(query), 3, -1).sum(-1)[..., None, None]


def test_system_keeps_repeats_in_2026_and_dedupes_in_2025(tmp_path):
    sep_cfg = {"channels": [4, 4, 8, 8, 8, 8], "cond_dim": 8, "n_fft": 256, "hop": 64}
    tag_cfg = {"embed_dim": 16, "depth": 1, "num_heads": 2, "track_input_dim": 8, "track_hidden_dim": 8}
    sep, tag = build_model("separator", sep_cfg), build_model("slot_tagger", dict(tag_cfg))
    system = Baseline2026(save_checkpoint(tmp_path / "t.pt", tag, {"task": "slot_tagger", "model": tag_cfg}),
                          save_checkpoint(tmp_path / "s.pt", sep, {"task": "separator", "model": sep_cfg}))
    speech, bell = LABEL_INDEX["Speech"], LABEL_INDEX["Doorbell"]
    system.tagger = FixedTagger([[speech, 18, speech], [18, 18, 18], [bell, speech, 18]])
    system.separator = RecordingSeparator()
    mix = torch.randn(3, 4, 8000)
    out = system.infer(mix, {}, edition=2026)["final"]
    assert out.labels == [["Speech", "Speech", SILENCE], [SILENCE] * 3, ["Doorbell", "Speech", SILENCE]]
    torch.testing.assert_close(system.separator.query, one_hots(out.labels).reshape(3, -1))
    assert out.waveforms[1].abs().max() == 0 and out.waveforms[0, 1].abs().max() > 0
    out = system.infer(mix, {}, edition=2025)["final"]
    assert out.labels[0] == ["Speech", SILENCE, SILENCE]  # the first (more confident) Speech slot stays


def batch_2026():
    g = torch.Generator().manual_seed(3)
    labels = [["Speech", "Speech", SILENCE], [SILENCE] * 3]
    targets = torch.randn(2, 3, 4000, generator=g)
    targets[0, 2] = 0
    targets[1] = 0
    return {"mixture": torch.randn(2, 4, 4000, generator=g) + targets.sum(1, keepdim=True),
            "targets": targets, "label_vector": one_hots(labels),
            "active": torch.tensor([[True, True, False], [False, False, False]])}


def test_slot_tagger_task_is_pit_cross_entropy_with_silence_as_class_18():
    model = build_model("slot_tagger", {"embed_dim": 16, "depth": 1, "num_heads": 2, "track_input_dim": 8,
                                        "track_hidden_dim": 8}).eval()
    batch = batch_2026()
    loss, figures = SlotTaggerTask().step(model, batch)
    target = torch.tensor([[LABEL_INDEX["Speech"], LABEL_INDEX["Speech"], 18], [18, 18, 18]])
    expected = losses.pit_cross_entropy(model.mixture_logits(batch["mixture"]), target)
    torch.testing.assert_close(loss, expected)
    assert 0.0 <= figures["acc_mix"] <= 100.0


def test_separator_task_uses_the_class_aware_pit_loss_when_asked():
    model = build_model("separator", {"channels": [4, 4, 8, 8, 8, 8], "cond_dim": 8, "n_fft": 256, "hop": 64})
    batch = batch_2026()
    loss, _ = SeparatorTask(loss="class_aware_pit").step(model, batch)
    est = model(batch["mixture"], batch["label_vector"].reshape(2, -1))[:, :, 0]
    torch.testing.assert_close(loss, losses.class_aware_pit_snr_loss(est, batch["targets"], batch["label_vector"]))
    with pytest.raises(ValueError, match="separator loss 'sdr'"):
        SeparatorTask(loss="sdr").step(model, batch)
