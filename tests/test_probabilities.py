"""Each estimate's probability: SlotOutput carries one per slot (1.0 where a system gives none), the
built-in systems give their classifier's, moved with the slots where the slots are reordered; the
labels stay what they were."""
import math

import pytest
import torch
from test_baseline2026 import FixedTagger, RecordingSeparator

from s5bench.common.labels import LABEL_INDEX, N_CLASSES, SILENCE
from s5bench.systems import SlotOutput, System, build_system
from s5bench.systems.baseline2026 import Baseline2026
from s5bench.systems.models.m2d_sc import EnergySourceClassifier


class Fixed(System):
    def __init__(self, probabilities=None):
        super().__init__()
        self.probabilities = probabilities

    def forward(self, mixture, batch):
        B, _, T = mixture.shape
        return {"final": SlotOutput([["Speech", SILENCE, SILENCE]] * B, torch.zeros(B, 3, T), self.probabilities)}


def test_a_system_without_probabilities_gets_one_for_every_slot():
    out = Fixed().infer(torch.zeros(2, 4, 10), {})["final"]
    assert out.probabilities is not None and out.probabilities.tolist() == [[1.0] * 3] * 2


def test_probabilities_are_checked():
    out = Fixed([[0.25, 1.0, 0.0]]).infer(torch.zeros(1, 4, 10), {})["final"]
    assert out.probabilities is not None and out.probabilities.tolist() == [[0.25, 1.0, 0.0]]
    for bad, match in (([[0.5, 0.5]], r"shape \(1, 2\), expected \(1, 3\)"), ([[1.5, 1, 1]], r"in \[0, 1\]"),
                       ([[math.nan, 1, 1]], r"in \[0, 1\]")):
        with pytest.raises(ValueError, match=match):
            Fixed(bad).infer(torch.zeros(1, 4, 10), {})


def softmax_at(top: float, n: int = 19) -> tuple[float, float]:
    """(the probability of the entry with logit `top`, of each other entry) when all others are 0."""
    return math.exp(top) / (math.exp(top) + n - 1), 1 / (math.exp(top) + n - 1)


def test_the_2026_baseline_gives_each_slots_softmax_and_moves_it_with_the_slot(tmp_path):
    from s5bench.systems.models.checkpoints import build_model
    from s5bench.systems.models.state_dicts import save_checkpoint

    sep_cfg = {"channels": [4, 4, 8, 8, 8, 8], "cond_dim": 8, "n_fft": 256, "hop": 64}
    tag_cfg = {"embed_dim": 16, "depth": 1, "num_heads": 2, "track_input_dim": 8, "track_hidden_dim": 8}
    system = Baseline2026(
        save_checkpoint(tmp_path / "t.pt", build_model("slot_tagger", dict(tag_cfg)), {"task": "slot_tagger",
                                                                                      "model": tag_cfg}),
        save_checkpoint(tmp_path / "s.pt", build_model("separator", sep_cfg), {"task": "separator", "model": sep_cfg}))
    speech = LABEL_INDEX["Speech"]
    system.tagger = FixedTagger([[speech, 18, speech]])  # the picked entry of slot s has logit 5 − s
    system.separator = RecordingSeparator()
    (p0, _), (p1, _), (p2, q2) = softmax_at(5.0), softmax_at(4.0), softmax_at(3.0)
    out = system.infer(torch.randn(1, 4, 8000), {}, edition=2026)["final"]
    assert out.labels == [["Speech", "Speech", SILENCE]]  # slot 2 moved before the silent slot 1
    assert out.probabilities is not None
    torch.testing.assert_close(out.probabilities, torch.tensor([[p0, p2, p1]], dtype=torch.float64))
    out = system.infer(torch.randn(1, 4, 8000), {}, edition=2025)["final"]
    assert out.labels == [["Speech", SILENCE, SILENCE]]  # slot 2's Speech removed: its silence entry is q2
    assert out.probabilities is not None
    torch.testing.assert_close(out.probabilities, torch.tensor([[p0, p1, q2]], dtype=torch.float64))


class PresetTagger(torch.nn.Module):
    def __init__(self, probs):
        super().__init__()
        self.probs = probs

    def forward(self, wave):
        return self.probs


def test_the_2025_baseline_gives_its_taggers_sigmoid_of_each_chosen_class(tiny_systems):
    system = build_system(tiny_systems["baseline"])
    tags = torch.full((1, N_CLASSES), 0.1)
    tags[0, LABEL_INDEX["Cough"]], tags[0, LABEL_INDEX["Speech"]] = 0.75, 0.625
    system.tagger = PresetTagger(tags)
    out = system.infer(torch.randn(1, 4, 8000), {})["final"]
    assert out.labels == [["Cough", "Speech", SILENCE]]  # class-index order, as before
    assert out.probabilities is not None and out.probabilities.tolist() == [[0.75, 0.625, 1.0]]


class PresetSC(EnergySourceClassifier):
    """Logits given in advance, one row per input."""

    def __init__(self, logits):
        super().__init__(feature_d=4)
        self.logits = logits

    def forward(self, wave):
        return self.logits[: len(wave)]


def test_m2d_sc_gives_the_softmax_of_the_class_it_chose_and_the_same_labels():
    logits = torch.zeros(3, N_CLASSES)
    logits[0, LABEL_INDEX["Dishes"]] = 2.0
    logits[1, LABEL_INDEX["Pour"]] = 1.0
    logits[2, LABEL_INDEX["Speech"]] = 3.0
    sc = PresetSC(logits)
    sc.thresholds[LABEL_INDEX["Pour"]] = -10.0  # every Pour input's energy is above: silence
    labels, energies, probs = sc.classify_scored(torch.zeros(3, 10))
    assert labels == ["Dishes", SILENCE, "Speech"] and sc.classify(torch.zeros(3, 10))[0] == labels
    expected = [softmax_at(2.0, N_CLASSES)[0], softmax_at(1.0, N_CLASSES)[0], softmax_at(3.0, N_CLASSES)[0]]
    assert probs.tolist() == pytest.approx(expected)


def test_the_self_guided_pipeline_gives_every_stage_probabilities_and_keeps_its_labels(tiny_systems):
    system = build_system(tiny_systems["self_guided"])
    torch.manual_seed(0)
    mixture = torch.randn(2, 4, 16000) * 0.1
    outputs = system.infer(mixture, {})
    for stage, out in outputs.items():
        assert out.probabilities is not None and out.probabilities.shape == (2, 3), stage
        assert ((out.probabilities >= 0) & (out.probabilities <= 1)).all(), stage
    with torch.no_grad():
        waves = system(mixture, {"edition": 2025})["fss1_cp1"].waveforms  # the USS's, before silent slots are zeroed
        labels, probs = system.classify_scored(waves)
    assert labels == system.classify(waves) == outputs["fss1_cp1-1"].labels
    silent = torch.tensor([[lab == SILENCE for lab in row] for row in labels])
    assert (probs[silent] == 1.0).all()  # the SC has no silence class
    assert outputs["fss1_cp1-1"].probabilities is not None
    torch.testing.assert_close(outputs["fss1_cp1-1"].probabilities, probs.double())
