"""The 2026 CPU-size components' training pieces: the duplicate-aware TSE loss, the CNN slot tagger,
the recipe's `init_modules`."""
import math

import pytest
import torch

from s5bench.common.labels import LABELS
from s5bench.metrics.signal import snr
from s5bench.systems.models.checkpoints import build_model
from s5bench.systems.training.tasks import TASK_CLASSES, class_aware_rows_loss


def _batch(labels, T=400, seed=0):
    """B=1 mixture, 3 slots; `labels` per slot (class index or None = silent)."""
    g = torch.Generator().manual_seed(seed)
    targets = torch.randn(1, 3, T, generator=g)
    hot = torch.zeros(1, 3, 18)
    active = torch.zeros(1, 3, dtype=torch.bool)
    for s, c in enumerate(labels):
        if c is None:
            targets[0, s] = 0
        else:
            hot[0, s, c], active[0, s] = 1, True
    return targets, hot, active


def test_the_class_aware_tse_loss_lets_two_queries_of_one_class_exchange_their_targets():
    targets, hot, active = _batch([4, 4, 7])
    noise = 0.1 * torch.randn(3, targets.shape[-1], generator=torch.Generator().manual_seed(1))
    est = targets[active] + noise  # each estimate near its own target
    swapped_same = est[[1, 0, 2]]   # the two class-4 estimates exchanged
    swapped_other = est[[2, 1, 0]]  # a class-4 and the class-7 estimate exchanged
    straight = class_aware_rows_loss(est, targets, hot, active)
    # by hand: the mean negative SNR of each estimate against its own target
    by_hand = -snr(est, targets[active]).mean()
    assert straight.item() == pytest.approx(by_hand.item(), abs=1e-5)
    assert class_aware_rows_loss(swapped_same, targets, hot, active).item() == pytest.approx(straight.item(), abs=1e-5)
    # across classes no exchange is allowed: the swapped pair is scored against the wrong targets
    wrong = class_aware_rows_loss(swapped_other, targets, hot, active)
    assert wrong.item() > straight.item() + 10
    assert wrong.item() == pytest.approx(-snr(swapped_other, targets[active]).mean().item(), abs=1e-4)


def test_the_class_aware_tse_loss_averages_over_active_targets_and_has_finite_gradients_with_silent_slots():
    targets, hot, active = _batch([4, None, 4])
    est = (targets[active] + 0.2 * torch.randn(2, targets.shape[-1])).requires_grad_(True)
    loss = class_aware_rows_loss(est, targets, hot, active)
    loss.backward()
    assert est.grad is not None and torch.isfinite(est.grad).all()
    assert loss.item() == pytest.approx(-snr(est.detach(), targets[active]).mean().item(), abs=1e-5)


def test_the_tse_task_takes_the_class_aware_loss_and_refuses_an_unknown_one():
    from s5bench.systems.training.tasks import TSETask

    with pytest.raises(ValueError, match="loss"):
        TSETask(loss="l1")
    assert TSETask(loss="class_aware_pit").options["loss"] == "class_aware_pit"


def test_the_cnn_slot_tagger_trains_through_the_slot_tagger_task_and_may_answer_nothing():
    torch.manual_seed(0)
    net = build_model("slot_tagger", {"architecture": "cnn", "channels": [4, 8], "track_input_dim": 8,
                                      "track_hidden_dim": 8})
    mixture = torch.randn(2, 4, 16000)
    targets, hot, active = _batch([3, 3, None], T=16000)
    batch = {"mixture": mixture, "label_vector": torch.cat([hot, torch.zeros(1, 3, 18)]),
             "active": torch.cat([active, torch.zeros(1, 3, dtype=torch.bool)])}  # 2nd mixture: no target
    task = TASK_CLASSES["slot_tagger"](train_blocks=-1)
    params = task.trainable(net)
    opt = torch.optim.Adam(params, lr=0.01)
    losses = []
    for _ in range(30):
        loss, figures = task.step(net, batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert math.isfinite(losses[-1]) and losses[-1] < 0.5 * losses[0]
    with torch.no_grad():  # batch statistics, as in training: 30 steps do not settle BatchNorm's running ones
        labels = net.pick_labels(net(mixture[:, 0]))
    assert sorted(labels[0]) == sorted([LABELS[3], LABELS[3], "silence"])  # one class named twice
    assert labels[1] == ["silence"] * 3  # learned: no target at all


def test_init_modules_takes_only_the_named_submodules_of_a_checkpoint(tmp_path):
    from s5bench.systems.models.state_dicts import load_submodules

    tagger = build_model("tagger", {"architecture": "cnn", "channels": [4, 8]})
    slot = build_model("slot_tagger", {"architecture": "cnn", "channels": [4, 8], "track_input_dim": 8,
                                       "track_hidden_dim": 8})
    head_before = {k: v.clone() for k, v in slot.head.state_dict().items()}
    load_submodules(slot, tagger.state_dict(), ["encoder"], source="t.pt")
    for k, v in tagger.encoder.state_dict().items():
        assert torch.equal(slot.encoder.state_dict()[k], v)
    assert all(torch.equal(slot.head.state_dict()[k], v) for k, v in head_before.items())
    with pytest.raises(ValueError, match="not a submodule"):
        load_submodules(slot, tagger.state_dict(), ["backbone"], source="t.pt")
    with pytest.raises(ValueError, match="does not fit"):
        load_submodules(slot, tagger.state_dict(), ["head"], source="t.pt")


def test_the_separators_occurrence_query_starts_as_the_2025_model_and_can_tell_two_queries_of_one_class_apart():
    from s5bench.systems.models.cpu_separators import BandSplitSeparator

    torch.manual_seed(0)
    kw = {"dim": 8, "n_blocks": 1, "n_fft": 256, "hop": 128, "start_logit": 0.0}
    plain, occ = BandSplitSeparator(**kw), BandSplitSeparator(occurrences=True, **kw)
    with torch.no_grad():  # a network that listens to its query (an untrained one barely does)
        plain.bands.w_out.normal_()
        for block in plain.blocks:
            block.film.weight.normal_()
    occ.load_state_dict({**plain.state_dict(), "occurrence.weight": occ.occurrence.weight}, strict=True)
    mixture = torch.randn(1, 4, 4000)
    query = torch.eye(18)[[5, 5, 2]].reshape(1, -1)  # class 5 twice, class 2 once
    with torch.no_grad():
        same = plain(mixture, query)
        assert torch.equal(occ(mixture, query), same)  # zero occurrence vectors: the 2025 model
        assert torch.equal(same[0, 0], same[0, 1])  # without them one class gets one answer
        occ.occurrence.weight.normal_()
        out = occ(mixture, query)
    assert not torch.allclose(out[0, 0], out[0, 1])  # the second query of class 5 asks for another source


def _recipe_2026(tmp_path, task, model, **extra):
    """A tiny recipe of the 2026 CPU-size pipeline's shape: 1-second 2026-rule scenes (0-3 targets,
    a class may repeat), the band-split separators and the CNN SC at a few hundred parameters."""
    import yaml
    from conftest import tiny_data_config

    scene = {"duration": 1.0, "edition": 2026, "n_targets": [0, 3], "n_interference": [0, 2], "dupse_rate": 0.5,
             "max_n_dupse": 2, "dupse_min_angle": 60.0}
    data = tiny_data_config(tmp_path, duration=1.0, scene=scene)
    cfg = {"task": task, "model": model, "data": data["_path"], "steps": 2, "batch_size": 2, "val_every": 2,
           "val_size": 2, "lr": 1e-3, "export": str(tmp_path / f"{task}.pt"), **extra}
    path = tmp_path / f"{task}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_a_training_step_of_each_2026_pipeline_model_at_tiny_shapes(tmp_path):
    """The recipes of configs/train/{tse2026_cpu,sc2026_cpu}.yaml at tiny shapes: the TSE with the
    class-aware PIT loss, both passes unrolled and USS enrollments; the SC on 0-3 targets with the
    USS's outputs and the TSE's re-extractions, its per-class thresholds calibrated at export."""
    import csv

    from s5bench.systems.models.checkpoints import load_component
    from s5bench.systems.training.recipes import load_train_config
    from s5bench.systems.training.trainer import train

    separator = {"architecture": "bandsplit", "dim": 8, "n_blocks": 1, "n_fft": 256, "hop": 128}

    def run(task, model, **extra):
        work = tmp_path / f"{task}_work"
        result = train(load_train_config(_recipe_2026(tmp_path, task, model, **extra)), work, progress=False)
        with open(work / "log.csv") as f:
            rows = list(csv.DictReader(f))
        assert [r["split"] for r in rows] == ["train", "train", "val"]
        assert all(math.isfinite(float(r["loss"])) for r in rows), rows
        return result["export"], rows

    uss, _ = run("uss", separator)
    tse, rows = run("tse", separator, task_options={"uss_checkpoint": uss, "mixture_enroll_prob": 0.1,
                                                   "unrolled_passes": 2, "loss": "class_aware_pit"})
    assert math.isfinite(float(rows[-1]["sep_gain_two_passes"]))  # the figure its recipe selects on
    sc, _ = run("sc", {"architecture": "cnn", "channels": [4, 8], "n_mels": 16}, calibration_size=4,
                task_options={"uss_checkpoint": uss, "tse_checkpoint": tse, "leak": 0.1})
    model, _ = load_component(sc, expect_task="sc")
    assert torch.isfinite(model.thresholds).all()  # the silence decision calibrated at export


@pytest.mark.parametrize("system", ["self_guided2026_cpu", "baseline2026_cpu"])
def test_the_shipped_2026_systems_answer_by_the_editions_rules(tmp_path, system):
    """At most 3 estimates a mixture, every stage's labels known classes or silence, the files named
    <mix>_<i>_<Label>.wav with i = 0 … k−1 (a repeated class is two files), on 2026-rule scenes."""
    import re

    from conftest import tiny_data_config

    from s5bench.data_gen.writer import generate_set
    from s5bench.systems import build_system
    from s5bench.systems.run import RunOptions, run_system

    scene = {"duration": 2.0, "edition": 2026, "n_targets": [0, 3], "n_interference": [0, 2], "dupse_rate": 0.5,
             "max_n_dupse": 2, "dupse_min_angle": 60.0}
    generate_set(tiny_data_config(tmp_path, scene=scene), tmp_path / "set", n=4, seed=3, jobs=1, progress=False)
    built = build_system(system)
    summaries = run_system(built, tmp_path / "set", tmp_path / "run", RunOptions(progress=False, edition=2026))
    for stage, summary in summaries.items():
        assert summary["n_mixtures"] == 4 and math.isfinite(summary["CAPI-SDRi"]), (stage, summary)
        names = [p.name for p in (tmp_path / "run" / stage / "estimate").glob("*.wav")]
        per_mixture: dict[str, list[tuple[int, str]]] = {}
        for name in names:
            found = re.fullmatch(r"(mix_\d+)_(\d)_(\w+)\.wav", name)
            assert found and found[3] in LABELS, name
            per_mixture.setdefault(found[1], []).append((int(found[2]), found[3]))
        for mixture, files in per_mixture.items():
            assert sorted(i for i, _ in files) == list(range(len(files))) and len(files) <= 3, (stage, mixture, files)
