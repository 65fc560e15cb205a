"""systems/segments.py and the pipeline's cut of a USS output holding two events far apart (2026)."""
import numpy as np
import pytest
import torch
import yaml

from s5bench.common.errors import S5Error
from s5bench.systems.segments import FRAME, active_runs, frame_energies, split_point
from s5bench.systems.self_guided import SelfGuided

SR = 32000


def bursts(spans, amplitudes=None, seconds=10.0, seed=0):
    """White noise in each (start_s, end_s) span, silence elsewhere."""
    rng = np.random.default_rng(seed)
    x = np.zeros(int(seconds * SR))
    for i, (a, b) in enumerate(spans):
        amp = 1.0 if amplitudes is None else amplitudes[i]
        x[int(a * SR):int(b * SR)] = amp * rng.standard_normal(int(b * SR) - int(a * SR))
    return x


def test_frame_energies_by_hand():
    assert frame_energies([1.0, 2.0, 3.0], frame=2).tolist() == [5.0, 9.0]  # the last frame is short
    assert frame_energies(np.ones(2 * FRAME)).tolist() == [FRAME, FRAME]


def test_frame_energies_refuses_what_is_not_a_mono_waveform():
    with pytest.raises(S5Error, match="mono waveform"):
        frame_energies(np.zeros((2, 100)))
    with pytest.raises(S5Error, match="frame of at least 1"):
        frame_energies(np.zeros(100), frame=0)


def test_active_runs_by_hand():
    assert active_runs([False, True, True, False, True]).tolist() == [[1, 3], [4, 5]]
    assert active_runs([0.5, 0.0, 2.0]).tolist() == [[0, 1], [2, 3]]  # truth values, not int8 casts
    assert active_runs([True, True]).tolist() == [[0, 2]]
    assert active_runs([False, False]).shape == (0, 2)


def test_split_point_cuts_in_the_middle_of_the_longest_gap():
    x = bursts([(1.0, 2.0), (2.5, 3.0), (6.0, 7.0)])
    # active frames 20-40, 50-60 and 120-140: the longest gap is frames 60-120, cut at frame 90
    assert split_point(x, min_gap_s=1.25) == 90 * FRAME
    assert split_point(x, min_gap_s=3.0) == 90 * FRAME  # exactly 3 s of silent frames
    assert split_point(x, min_gap_s=3.1) is None
    # two equally long gaps (frames 40-60 and 80-100): the first is taken
    assert split_point(bursts([(1.0, 2.0), (3.0, 4.0), (5.0, 6.0)]), min_gap_s=1.0) == 50 * FRAME


def test_split_point_leaves_one_event_alone():
    assert split_point(bursts([(1.0, 4.0)]), min_gap_s=1.0) is None
    assert split_point(bursts([(1.0, 2.0), (2.6, 3.0)]), min_gap_s=1.0) is None  # a pause inside an event
    assert split_point(np.zeros(SR), min_gap_s=1.0) is None


def test_split_point_threshold_and_share():
    # the second burst, 0.3 in amplitude: -10.5 dB, so active, but 8 % of the energy
    faint = bursts([(1.0, 2.0), (5.0, 6.0)], amplitudes=[1.0, 0.3])
    assert split_point(faint, min_gap_s=1.0) is None
    assert split_point(faint, min_gap_s=1.0, min_share=0.05) == 70 * FRAME
    faint_first = bursts([(1.0, 2.0), (5.0, 6.0)], amplitudes=[0.3, 1.0])
    assert split_point(faint_first, min_gap_s=1.0) is None
    assert split_point(faint_first, min_gap_s=1.0, min_share=0.05) == 70 * FRAME
    # 0.05 in amplitude is -26 dB: below a 20 dB threshold it is not activity, above a 30 dB one it is
    quiet = bursts([(1.0, 2.0), (5.0, 6.0)], amplitudes=[1.0, 0.05])
    assert split_point(quiet, min_gap_s=1.0, min_share=0.0) is None
    assert split_point(quiet, min_gap_s=1.0, threshold_db=30.0, min_share=0.0) == 70 * FRAME


def two_events(seconds):
    return torch.from_numpy(bursts([(0.5, 1.0), (4.0, 4.5)], seconds=seconds)).float()


class FixedUSS(torch.nn.Module):
    """A USS stand-in whose first foreground slot holds two bursts 3 s apart (and says so with its
    own class decoder); the others are silent."""
    n_fg = 3

    def forward(self, mixture):
        B, _, T = mixture.shape
        waves = torch.zeros(B, 5, T)
        waves[:, 0] = two_events(T / SR)
        silence = torch.full((B, 5), 10.0)
        silence[:, 0] = -10.0
        return {"waveforms": waves, "class_logits": torch.zeros(B, 5, 18), "silence_logit": silence}


class WholeMixtureTSE(torch.nn.Module):
    """A TSE stand-in that answers every query with the mixture's channel 0 (it hears all of it)."""

    def forward(self, mixture, enrollment, one_hot):
        return mixture[:, 0]


@pytest.fixture
def cutting_pipeline(tiny_systems, monkeypatch):
    args = yaml.safe_load(tiny_systems["self_guided"].read_text())["args"]
    system = SelfGuided(**args, split_gap_s=1.25)
    system.uss, system.tse = FixedUSS(), WholeMixtureTSE()

    def classify_scored(waves, keep=None, edition=2025):  # Cough wherever there is sound, but in `silenced`
        labels = [["Cough" if waves[b, s].abs().max() > 0 and (keep is None or keep[b][s])
                   and not (keep is not None and s in system.silenced) else "silence"
                   for s in range(waves.shape[1])] for b in range(waves.shape[0])]
        return labels, torch.tensor([[0.7, 0.2, 0.3]]).expand(waves.shape[0], 3)
    system.silenced = set()  # slots the re-classifications call silent
    monkeypatch.setattr(system, "classify_scored", classify_scored)
    return system


def test_pipeline_cuts_two_distant_events_into_two_targets_in_2026(cutting_pipeline):
    out = cutting_pipeline.infer(torch.randn(2, 4, 5 * SR), {}, edition=2026)
    cut = split_point(two_events(5.0).numpy(), 1.25)
    assert cut == 50 * FRAME  # frames 10-20 and 80-90 active
    # the USS's own stage keeps its output whole (the cut works on a copy)
    assert out["fss1_cp1"].labels[0][1:] == ["silence"] * 2
    assert torch.equal(out["fss1_cp1"].waveforms[:, 0], two_events(5.0).expand(2, -1))
    for stage in ("fss1_cp1-1", "fss2_cp1-1", "fss3_cp3"):
        assert out[stage].labels == [["Cough", "Cough", "silence"]] * 2, stage
        for w in out[stage].waveforms:
            # each part stays on its side of the cut, through every TSE pass
            assert w[0, cut:].abs().max() == 0 and w[0, :cut].abs().max() > 0, stage
            assert w[1, :cut].abs().max() == 0 and w[1, cut:].abs().max() > 0, stage
    # the second part has the first's probability of the class
    assert out["fss1_cp1-1"].probabilities[0].tolist() == pytest.approx([0.7, 0.7, 0.3])


def test_a_part_silenced_later_is_dropped_with_its_side(cutting_pipeline):
    cutting_pipeline.silenced = {1}
    out = cutting_pipeline.infer(torch.randn(1, 4, 5 * SR), {}, edition=2026)
    cut = 50 * FRAME
    assert out["fss2_cp2"].labels == [["Cough", "silence", "silence"]]
    w = out["fss3_cp3"].waveforms[0]
    assert w[0, :cut].abs().max() > 0 and w[0, cut:].abs().max() == 0 and w[1].abs().max() == 0


def test_pipeline_does_not_cut_in_2025_or_without_the_option(cutting_pipeline):
    mixture = torch.randn(1, 4, 5 * SR)
    with_option = cutting_pipeline.infer(mixture, {}, edition=2025)
    assert with_option["fss3_cp3"].labels == [["Cough", "silence", "silence"]]
    cutting_pipeline.split_gap_s = None
    without = cutting_pipeline.infer(mixture, {}, edition=2025)
    for stage, answer in without.items():  # 2025: the option changes nothing at any stage
        assert answer.labels == with_option[stage].labels, stage
        assert torch.equal(answer.waveforms, with_option[stage].waveforms), stage
    out = cutting_pipeline.infer(mixture, {}, edition=2026)
    assert out["fss3_cp3"].labels == [["Cough", "silence", "silence"]]
    assert torch.equal(out["fss3_cp3"].waveforms[0, 0], mixture[0, 0])  # the stand-in TSE's answer, whole


def test_split_needs_a_free_slot_and_leaves_its_inputs_alone():
    waves = two_events(5.0).expand(1, 3, -1).clone()
    before = waves.clone()
    labels = [["Cough", "Speech", "Dishes"]]
    w, lab, p, masks = SelfGuided.split_disjoint(waves, labels, torch.full((1, 3), 0.5), 1.25)
    assert lab == labels and torch.equal(w, before) and bool((masks == 1).all())
    labels = [["Cough", "silence", "silence"]]
    w, lab, p, masks = SelfGuided.split_disjoint(waves, labels, torch.full((1, 3), 0.5), 1.25)
    assert lab == [["Cough", "Cough", "silence"]] and labels == [["Cough", "silence", "silence"]]
    assert torch.equal(waves, before) and torch.equal(w[0, 0] + w[0, 1], before[0, 0])


def test_split_gap_must_be_positive(tiny_systems):
    args = yaml.safe_load(tiny_systems["self_guided"].read_text())["args"]
    with pytest.raises(S5Error, match="split_gap_s"):
        SelfGuided(**args, split_gap_s=0)
