import pytest
import torch
from conftest import TINY_MODELS

from s5bench.common.labels import LABELS
from s5bench.systems.models.checkpoints import build_model, m2d_encoder
from s5bench.systems.models.m2d import M2DEncoder, M2DTagger, parse_weight_folder
from s5bench.systems.models.m2d_slots import M2DSlotTagger

D, DEPTH = 64, 2  # a tiny configuration of the same architecture


def official_backbone_tensors(dim, depth, grid=(5, 62), patch=16):
    """The key names and shapes of an official M2D backbone, written out here independently."""
    t = {"cls_token": (1, 1, dim), "pos_embed": (1, 1 + grid[0] * grid[1], dim),
         "patch_embed.proj.weight": (dim, 1, patch, patch), "patch_embed.proj.bias": (dim,),
         "norm.weight": (dim,), "norm.bias": (dim,)}
    for i in range(depth):
        b = f"blocks.{i}."
        t.update({b + "norm1.weight": (dim,), b + "norm1.bias": (dim,), b + "attn.qkv.weight": (3 * dim, dim),
                  b + "attn.qkv.bias": (3 * dim,), b + "attn.proj.weight": (dim, dim), b + "attn.proj.bias": (dim,),
                  b + "norm2.weight": (dim,), b + "norm2.bias": (dim,), b + "mlp.fc1.weight": (4 * dim, dim),
                  b + "mlp.fc1.bias": (4 * dim,), b + "mlp.fc2.weight": (dim, 4 * dim), b + "mlp.fc2.bias": (dim,)})
    return t


def test_full_size_shapes_are_the_official_ones():
    enc = M2DEncoder()
    shapes = {k: tuple(v.shape) for k, v in enc.backbone.state_dict().items()}
    expected = official_backbone_tensors(768, 12)
    expected["norm_stats"] = (2,)
    assert shapes == expected
    assert enc.feature_d == 3840
    assert sum(p.numel() for p in enc.backbone.parameters()) == pytest.approx(85.5e6, rel=0.02)


def test_official_weight_file_loads_strictly(tmp_path):
    g = torch.Generator().manual_seed(0)
    state = {f"module.ar.runtime.backbone.{k}": torch.randn(s, generator=g) * 0.02
             for k, s in official_backbone_tensors(D, DEPTH).items()}
    state["module.ar.runtime.backbone.norm_stats"] = torch.tensor([-6.0, 5.0])
    state["module.head.mlp.mlp.0.weight"] = torch.zeros(527, D)  # an EVAR head: left aside
    folder = tmp_path / "m2d_as_vit_base-80x1001p16x16p32k-240213_AS-FT_enconly"
    folder.mkdir()
    path = folder / "weights_ep69it3124-0.47998.pth"
    torch.save({"model": state}, path)
    cfg = M2DEncoder.weight_file_config(path)
    assert cfg == {"input_size": (80, 1001), "patch_size": (16, 16), "sr": 32000, "embed_dim": D, "depth": DEPTH,
                   "num_heads": 1}
    tagger = M2DTagger(**cfg)
    left = tagger.encoder.load_official(path)
    assert left == ["module.head.mlp.mlp.0.weight"]
    torch.testing.assert_close(tagger.backbone.norm_stats, torch.tensor([-6.0, 5.0]))
    torch.testing.assert_close(tagger.backbone.blocks[1].mlp.fc2.bias,
                               state["module.ar.runtime.backbone.blocks.1.mlp.fc2.bias"])
    tagger.eval()
    probs = tagger(torch.randn(2, 32000 * 10) * 0.01)
    assert probs.shape == (2, len(LABELS)) and ((probs > 0) & (probs < 1)).all()
    keys = set(tagger.state_dict())
    assert {"backbone.pos_embed", "head_norm.running_mean", "head.weight"} <= keys
    assert not any(k.startswith("encoder.") for k in keys)


def test_mismatched_weight_file_lists_missing_and_unexpected(tmp_path):
    state = {k: torch.zeros(s) for k, s in official_backbone_tensors(D, DEPTH).items()}
    del state["blocks.1.mlp.fc1.weight"]
    state["pos_embed"] = torch.zeros(1, 100, D)
    folder = tmp_path / "m2d_vit_base-80x1001p16x16p32k-x"
    folder.mkdir()
    torch.save(state, folder / "w.pth")
    enc = M2DEncoder(embed_dim=D, depth=DEPTH, num_heads=1)
    with pytest.raises(ValueError, match=r"missing keys \(1\): blocks.1.mlp.fc1.weight(.|\n)*pos_embed: shape"):
        enc.load_official(folder / "w.pth")
    with pytest.raises(ValueError, match="does not say the M2D input"):
        parse_weight_folder("weights")


def test_tagger_label_rule():
    p = torch.zeros(3, 18)
    p[0, [15, 2]] = torch.tensor([0.9, 0.6])  # two above threshold: class-index order
    p[1, 7] = 0.3  # none above: the top one
    p[2, [0, 1, 2, 3]] = torch.tensor([0.9, 0.8, 0.7, 0.95])  # four above: the top three
    assert M2DTagger.pick_labels(p) == [["Blender", "Speech", "silence"], ["Dishes", "silence", "silence"],
                                        ["AlarmClock", "BicycleBell", "Buzzer"]]


def test_tiny_tagger_state_dict_round_trip_and_short_input():
    a = M2DTagger(embed_dim=D, depth=DEPTH, num_heads=2)
    b = M2DTagger(embed_dim=D, depth=DEPTH, num_heads=2)
    b.load_state_dict(a.state_dict())
    a.eval(), b.eval()
    x = torch.randn(1, 32000 * 3)  # a 3 s clip uses the first positions
    torch.testing.assert_close(a(x), b(x))
    feats = a.encoder(x)
    assert feats.shape == (1, 19, 5 * D)  # 301 frames padded to 304 = 19 patches of 16


def test_a_slot_tagger_picks_labels_with_its_base_class_signature():
    """M2DSlotTagger is an M2DTagger: its pick_labels takes the base's arguments (it used to raise
    TypeError on `threshold`) and refuses the ones that do not apply to slots, by name."""
    probs = torch.tensor([[[0.0] * 18 + [1.0], [1.0] + [0.0] * 18, [0.0] * 18 + [1.0]]])
    assert M2DSlotTagger.pick_labels(probs) == M2DSlotTagger.pick_labels(probs, threshold=0.5)
    assert M2DSlotTagger.pick_labels(probs)[0][1] == M2DTagger.pick_labels(probs[:, 1, :18])[0][0]
    with pytest.raises(ValueError, match="threshold, n_min and n_max"):
        M2DSlotTagger.pick_labels(probs, threshold=0.3)


def test_the_m2d_encoder_of_a_model_without_one_is_a_clear_error():
    """A CPU-size CNN classifier has no M2D encoder: its own CNN encoder used to be returned as if it
    were one (an `m2d_weights:` or freezing option then failed inside it)."""
    assert m2d_encoder(build_model("sc", TINY_MODELS["sc"])) is not None
    with pytest.raises(ValueError, match="CNNSC has no M2D encoder"):
        m2d_encoder(build_model("sc", {"architecture": "cnn"}))
