"""The CPU-size components: spatial features by hand, the band split, the TSE's start and class
clue, and a training step of each through its task."""
import math

import numpy as np
import pytest
import torch

from s5bench.metrics.signal import snr
from s5bench.systems.models.checkpoints import ARCHITECTURES, build_model
from s5bench.systems.models.cpu_separators import BandSplit, band_edges, spatial_features
from s5bench.systems.training.tasks import TASK_CLASSES


def test_the_intensity_planes_of_a_plane_wave_are_its_direction():
    """FOA (ACN W, Y, Z, X; SN3D) of a plane wave from unit direction d: W = s, (X, Y, Z) = s·d."""
    d = np.array([0.48, -0.6, 0.64])  # x, y, z
    s = torch.randn(1, 1, 33, 20, dtype=torch.complex64)
    foa = torch.cat([s, s * d[1], s * d[2], s * d[0]], dim=1)  # W, Y, Z, X
    planes = spatial_features(foa)
    assert planes.shape == (1, 7, 33, 20)
    for k, value in enumerate(d):  # x, y, z
        assert torch.allclose(planes[0, 4 + k], torch.full((33, 20), float(value)), atol=1e-5)
    # a diffuse field (independent channels) gives a much shorter vector than a plane wave
    diffuse = spatial_features(torch.randn(1, 4, 33, 200, dtype=torch.complex64))
    assert float(diffuse[0, 4:].pow(2).sum(0).sqrt().mean()) < 0.7


def test_the_bands_cover_every_bin_once_and_merge_puts_values_back():
    edges = band_edges(513)
    assert edges[0][0] == 0 and edges[-1][1] == 513 and len(edges) == 48
    assert all(a[1] == b[0] for a, b in zip(edges, edges[1:]))
    split = BandSplit(513, planes=7, dim=8, out_per_bin=2)
    with torch.no_grad():  # merge of a zero map with a bias that numbers every (output, bin)
        split.w_out.zero_()
        bias = split.b_out.view(len(edges), 2, -1)
        for k, (lo, hi) in enumerate(edges):
            for o in range(2):
                bias[k, o, :hi - lo] = torch.arange(lo, hi) + 1000 * o
    out = split.merge(torch.zeros(1, 3, len(edges), 8), 513)
    assert out.shape == (1, 2, 513, 3)
    assert torch.equal(out[0, 0, :, 0], torch.arange(513.0))
    assert torch.equal(out[0, 1, :, 2], torch.arange(513.0) + 1000)


def test_the_tse_starts_as_its_enrollment_and_hears_its_class():
    torch.manual_seed(0)
    tse = build_model("tse", {"architecture": "bandsplit", "dim": 8, "n_blocks": 1, "n_fft": 256, "hop": 128})
    mix, enr = torch.randn(2, 4, 8000) * 0.1, torch.randn(2, 8000) * 0.1
    hot = torch.zeros(2, 18)
    hot[:, 3] = 1
    with torch.no_grad():
        assert float(snr(tse(mix, enr, hot), enr).min()) > 40
    with torch.no_grad():  # once FiLM has learnt anything, the class changes the output
        for block in tse.blocks:
            block.film.weight.normal_()
    other = torch.zeros(2, 18)
    other[:, 7] = 1
    assert not torch.allclose(tse(mix, enr, hot), tse(mix, enr, other))


def test_a_lower_start_logit_starts_the_tse_as_mostly_its_enrollment_with_unsaturated_masks():
    """start_logit 2: the output starts ≈ sigmoid(2)·enrollment + sigmoid(−2)·mixture channel 0
    (w_out is scaled down, so the masks start nearly constant); 6 leaves sigmoid's slope at 0.0025."""
    torch.manual_seed(0)
    small = {"architecture": "bandsplit", "dim": 8, "n_blocks": 1, "n_fft": 256, "hop": 128}
    tse = build_model("tse", {**small, "start_logit": 2.0})
    mix, enr = torch.randn(2, 4, 8000) * 0.1, torch.randn(2, 8000) * 0.1
    hot = torch.zeros(2, 18)
    hot[:, 3] = 1
    expected = torch.sigmoid(torch.tensor(2.0)) * enr + torch.sigmoid(torch.tensor(-2.0)) * mix[:, 0]
    with torch.no_grad():
        out = tse(mix, enr, hot)
    edge = 256  # the STFT's first and last frames are not fully overlapped
    assert float(snr(out[:, edge:-edge], expected[:, edge:-edge]).min()) > 25
    assert float(snr(out, enr).min()) < 25  # not the enrollment alone any more


@pytest.mark.parametrize("task, architecture, model", [
    ("uss", "spatial_blstm", {"hidden": 16, "layers": 1, "n_fft": 256, "hop": 128}),
    ("uss", "bandsplit", {"dim": 8, "n_blocks": 1, "n_fft": 256, "hop": 128}),
    ("tse", "bandsplit", {"dim": 8, "n_blocks": 1, "n_fft": 256, "hop": 128}),
    ("sc", "cnn", {"channels": [4, 8]}),
    ("tagger", "cnn", {"channels": [4, 8]}),
    ("separator", "bandsplit", {"dim": 8, "n_blocks": 1, "n_fft": 256, "hop": 128}),
])
def test_each_cpu_component_trains_through_its_task(task, architecture, model, tiny_test_set):
    from s5bench.data_gen.stream import FolderScenes, collate

    assert (task, architecture) in ARCHITECTURES
    batch = collate([FolderScenes(tiny_test_set)[i] for i in range(2)])
    batch["interference"] = torch.zeros(2, 2, batch["mixture"].shape[-1])
    batch["noise"] = batch["mixture"][:, 0] * 0.1
    torch.manual_seed(0)
    net = build_model(task, {"architecture": architecture, **model})
    runner = TASK_CLASSES[task](**({"train_blocks": -1} if task in ("sc", "tagger") else {}))
    params = runner.trainable(net)
    loss, metrics = runner.step(net, batch)
    loss.backward()
    assert math.isfinite(float(loss.detach())) and metrics
    assert any(p.grad is not None and float(p.grad.abs().sum()) > 0 for p in params)


def test_the_cpu_separator_is_the_tse_network_with_the_mixture_as_enrollment():
    """Each queried slot equals the TSE network run on (mixture, its channel 0, the slot's one-hot);
    a zero query gives a silent slot."""
    torch.manual_seed(0)
    kw = {"architecture": "bandsplit", "dim": 8, "n_blocks": 1, "n_fft": 256, "hop": 128}
    sep = build_model("separator", kw)
    tse = build_model("tse", kw)
    tse.load_state_dict(sep.state_dict())
    with torch.no_grad():
        for block in sep.blocks:
            block.film.weight.normal_()
        tse.load_state_dict(sep.state_dict())
    mix = torch.randn(2, 4, 4000) * 0.1
    query = torch.zeros(2, 3, 18)
    query[0, 0, 4] = query[0, 1, 9] = query[1, 0, 2] = 1
    with torch.no_grad():
        out = sep(mix, query.reshape(2, -1))
        assert out.shape == (2, 3, 1, 4000)
        for b, s in ((0, 0), (0, 1), (1, 0)):
            torch.testing.assert_close(out[b, s, 0], tse(mix[b:b + 1], mix[b:b + 1, 0], query[b:b + 1, s])[0],
                                       atol=1e-5, rtol=1e-4)
        assert float(out[0, 2].abs().max()) == 0 and float(out[1, 1:].abs().max()) == 0
        assert not torch.allclose(out[0, 0], out[0, 1])  # the class changes the output


def test_the_cpu_tagger_gives_probabilities_the_baseline_picks_labels_from():
    from s5bench.systems.models.m2d import M2DTagger

    tagger = build_model("tagger", {"architecture": "cnn", "channels": [4, 8]}).eval()
    wave = torch.randn(3, 8000) * 0.1
    with torch.no_grad():
        probs = tagger(wave)
        torch.testing.assert_close(probs, torch.sigmoid(tagger.logits(wave)))
    assert probs.shape == (3, 18)
    labels = M2DTagger.pick_labels(probs)
    assert all(len(row) == 3 and row[0] != "silence" for row in labels)  # at least one class per mixture


CPU_TINY = {
    "uss": {"architecture": "bandsplit", "dim": 8, "n_blocks": 1, "n_fft": 256, "hop": 128},
    "tse": {"architecture": "bandsplit", "dim": 8, "n_blocks": 1, "n_fft": 256, "hop": 128},
    "sc": {"architecture": "cnn", "channels": [4, 8]},
    "tagger": {"architecture": "cnn", "channels": [4, 8]},
    "separator": {"architecture": "bandsplit", "dim": 8, "n_blocks": 1, "n_fft": 256, "hop": 128},
}


def test_the_cpu_size_systems_run_through_the_pipeline_and_the_baseline(tmp_path):
    """self_guided_cpu and baseline_cpu are the existing system classes over CPU-size files: every
    stage comes out, silent slots are zeros, and the baseline extracts what its tagger picks."""
    from s5bench.systems.baseline import Baseline
    from s5bench.systems.models.state_dicts import save_checkpoint
    from s5bench.systems.self_guided import SelfGuided, stage_names

    torch.manual_seed(0)
    files = {task: save_checkpoint(tmp_path / f"{task}.pt", build_model(task, cfg), {"task": task, "model": cfg})
             for task, cfg in CPU_TINY.items()}
    mixture = torch.randn(2, 4, 8000) * 0.1
    pipeline = SelfGuided(uss=files["uss"], sc=files["sc"], tse=files["tse"], iterations=3)
    out = pipeline.infer(mixture, {})
    assert tuple(out) == stage_names(3)
    for stage in out.values():
        assert stage.waveforms.shape == (2, 3, 8000)
        for b, row in enumerate(stage.labels):
            for s, label in enumerate(row):
                if label == "silence":
                    assert float(stage.waveforms[b, s].abs().max()) == 0
    baseline = Baseline(tagger=files["tagger"], separator=files["separator"])
    final = baseline.infer(mixture, {})["final"]
    for b, row in enumerate(final.labels):
        for s, label in enumerate(row):
            assert (label == "silence") == (float(final.waveforms[b, s].abs().max()) == 0)


def _two_target_batch(T, seed, mix_noise, quiet_second=False):
    """A task batch of two scenes: classes 4 and 11 active in the first, class 7 in the second."""
    g = torch.Generator().manual_seed(seed)
    active = torch.tensor([[True, True, False], [True, False, False]])
    targets = torch.randn(2, 3, T, generator=g) * 0.1 * active[..., None]
    if quiet_second:
        targets[0, 1] *= 0.1  # a quiet target beside a loud one
    labels = torch.zeros(2, 3, 18)
    labels[0, 0, 4], labels[0, 1, 11], labels[1, 0, 7] = 1, 1, 1
    return {"mixture": torch.randn(2, 4, T, generator=g) * mix_noise + targets.sum(1, keepdim=True), "targets": targets,
            "active": active, "label_vector": labels, "interference": torch.randn(2, 2, T, generator=g) * 0.05,
            "noise": torch.randn(2, T, generator=g) * 0.01}


def test_the_sc_task_adds_the_tse_re_extraction_of_each_active_target():
    """With uss_checkpoint and tse_checkpoint, the SC's active inputs are the dry sources, the USS
    outputs and the TSE's re-extractions (each from its USS output and true class), computed here
    one target at a time."""
    from s5bench.systems.training.tasks import uss_foreground

    with pytest.raises(ValueError, match="needs uss_checkpoint"):
        TASK_CLASSES["sc"](tse_checkpoint="checkpoints/tse_cpu.pt")
    task = TASK_CLASSES["sc"](uss_checkpoint="checkpoints/uss_cpu.pt", tse_checkpoint="checkpoints/tse_cpu.pt")
    batch = _two_target_batch(T=16000, seed=3, mix_noise=0.1)
    labels = batch["label_vector"]
    active_in, classes, _ = task.inputs(batch)
    assert len(active_in) == 3 * 3 and classes.tolist() == [4, 11, 7] * 3
    fg = uss_foreground(task.uss, batch)
    for row, (b, s) in enumerate([(0, 0), (0, 1), (1, 0)]):
        with torch.no_grad():
            one = task.tse(batch["mixture"][b:b + 1], fg[b:b + 1, s], labels[b:b + 1, s])[0]
        assert torch.allclose(active_in[3 + row], fg[b, s], atol=1e-6)
        assert torch.allclose(active_in[6 + row], one, atol=1e-5)


def test_the_tse_task_validates_the_second_pass_on_its_own_outputs():
    """In eval mode the TSE task also runs the pipeline's second pass (its output as enrollment):
    the gain over the first pass and the two passes' separation figure, computed here by hand."""
    from s5bench.systems.training.tasks import separation_gain

    torch.manual_seed(0)
    tse = build_model("tse", CPU_TINY["tse"])
    with torch.no_grad():
        for block in tse.blocks:  # a TSE that has learnt something, so that passes differ
            block.film.weight.normal_()
    batch = _two_target_batch(T=8000, seed=5, mix_noise=0.05, quiet_second=True)
    task = TASK_CLASSES["tse"]()
    tse.eval()
    with torch.no_grad():
        _, figures = task.step(tse, batch)
    b_idx, s_idx = torch.nonzero(batch["active"], as_tuple=True)
    mix, hot, ref = batch["mixture"][b_idx], batch["label_vector"][b_idx, s_idx], batch["targets"][b_idx, s_idx]
    enr = batch["targets"][b_idx, s_idx] + 0.3 * batch["mixture"][b_idx, 0]  # the task's enrollment without a USS
    with torch.no_grad():
        first = tse(mix, enr, hot)
        second = tse(mix, first, hot)
    expected = float((snr(second, ref) - snr(first, ref)).mean())
    assert figures["second_pass_gain"] == pytest.approx(expected, abs=1e-4)
    assert figures["sep_gain_two_passes"] == pytest.approx(separation_gain(second, ref, mix[:, 0]), abs=1e-4)
    assert abs(expected) > 1e-3  # the second pass is not the first again
    tse.train()
    _, train_figures = task.step(tse, batch)
    assert "second_pass_gain" not in train_figures  # not paid for at every training step


def test_the_unrolled_tse_step_trains_both_passes_through_the_first():
    """unrolled_passes 2: the loss is (1 − w)·first pass + w·second pass, the second enrolled with
    the first's output, computed here by hand; the second pass's gradient reaches the parameters
    through the first pass too, so it differs from the detached (self-enrolment) version."""
    from s5bench.systems.training.losses import masked_snr_loss

    torch.manual_seed(0)
    tse = build_model("tse", CPU_TINY["tse"])
    with torch.no_grad():
        for block in tse.blocks:
            block.film.weight.normal_()
    batch = _two_target_batch(T=8000, seed=5, mix_noise=0.05, quiet_second=True)
    b_idx, s_idx = torch.nonzero(batch["active"], as_tuple=True)
    mix, hot, ref = batch["mixture"][b_idx], batch["label_vector"][b_idx, s_idx], batch["targets"][b_idx, s_idx]
    enr = ref + 0.3 * mix[:, 0]
    ones = torch.ones(len(ref), 1, dtype=torch.bool)

    def by_hand(detach):
        first = tse(mix, enr, hot)
        second = tse(mix, first.detach() if detach else first, hot)
        loss = 0.25 * masked_snr_loss(first[:, None], ref[:, None], ones) \
            + 0.75 * masked_snr_loss(second[:, None], ref[:, None], ones)
        grad = torch.autograd.grad(loss, tse.bands.w_in)[0]
        return loss, grad

    with pytest.raises(ValueError, match="unrolled_passes"):
        TASK_CLASSES["tse"](unrolled_passes=3)
    task = TASK_CLASSES["tse"](unrolled_passes=2, second_pass_weight=0.75)
    tse.train()
    loss, _ = task.step(tse, batch)
    grad = torch.autograd.grad(loss, tse.bands.w_in)[0]
    expected_loss, expected_grad = by_hand(detach=False)
    _, detached_grad = by_hand(detach=True)
    assert loss.item() == pytest.approx(expected_loss.item(), abs=1e-5)
    assert torch.allclose(grad, expected_grad, atol=1e-6)
    assert not torch.allclose(grad, detached_grad, atol=1e-6)
    single, _ = TASK_CLASSES["tse"]().step(tse, batch)  # one pass: the first pass's loss alone
    assert single.item() == pytest.approx(masked_snr_loss(tse(mix, enr, hot)[:, None], ref[:, None], ones).item(),
                                          abs=1e-5)
