"""Defects the type checker (pyright, .ci/run) found, each shown by a test that failed before its fix
(the stem corpus on the SpatialScaper engine is in test_stem_corpus.py)."""
import numpy as np
import pytest
import torch
from conftest import TINY_MODELS

from s5bench.metrics.assignment import best_class_pairing
from s5bench.systems.baseline import Baseline
from s5bench.systems.models.checkpoints import build_model, m2d_encoder
from s5bench.systems.models.m2d import M2DTagger
from s5bench.systems.models.m2d_slots import M2DSlotTagger


def test_best_pairing_exists_when_every_candidate_is_minus_infinity():
    """"The first with the largest mean": with every mean -inf (a silent reference scored without
    eps) that is the first candidate; it used to return None, which callers cannot unpack."""
    assert best_class_pairing(np.full((1, 1), -np.inf)) == ([0], [0])
    assert best_class_pairing(np.array([[-np.inf, -np.inf], [-np.inf, -np.inf]])) == ([0, 1], [0, 1])
    assert best_class_pairing(np.array([[1.0, 3.0], [2.0, 0.0]])) == ([0, 1], [1, 0])  # finite: unchanged


def test_a_baseline_without_the_tagger_it_needs_is_refused():
    """It used to fail inside Path(None) (trained) or build and crash on the first batch (official)."""
    with pytest.raises(ValueError, match="`tagger` unless `oracle_labels: true`"):
        Baseline(separator="checkpoints/separator_tiny.pt")
    with pytest.raises(ValueError, match="`tagger` unless `oracle_labels: true`"):
        Baseline(official=True, separator="nowhere/resunetk.ckpt")
    with pytest.raises(ValueError, match="needs `separator`"):
        Baseline(tagger="checkpoints/tagger_tiny.pt")
    assert Baseline(separator="checkpoints/separator_tiny.pt", oracle_labels=True).tagger is None


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
