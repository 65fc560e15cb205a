"""The reference BLSTM mask networks (learnability checks): interfaces, bounds, pluggability."""
import csv
import math

import pytest
import torch
import yaml
from conftest import fixed_batch_losses, tiny_data_config

from s5bench.systems.models.blstm_mask import BLSTMMaskSeparator, BLSTMMaskUSS
from s5bench.systems.models.checkpoints import build_model, load_component
from s5bench.systems.training.recipes import load_train_config
from s5bench.systems.training.tasks import TASK_CLASSES
from s5bench.systems.training.trainer import build_state, streams, train, validate

TINY = {"hidden": 8, "layers": 1, "n_fft": 256, "hop": 128}


def test_uss_interface_and_outputs_are_channel_0_under_a_mask_between_0_and_1():
    torch.manual_seed(0)
    model = BLSTMMaskUSS(**TINY)
    mix = torch.randn(2, 4, 4000)
    out = model(mix)
    assert out["waveforms"].shape == (2, 6, 4000)
    assert out["class_logits"].shape == (2, 6, 18) and out["silence_logit"].shape == (2, 6)
    with torch.no_grad():  # saturate the masks: fully open gives channel 0, fully closed gives silence
        model.net.masks.weight.zero_()
        model.net.masks.bias.fill_(50.0)
        open_ = model(mix)["waveforms"]
        model.net.masks.bias.fill_(-50.0)
        closed = model(mix)["waveforms"]
    assert torch.allclose(open_, mix[:, :1].expand(-1, 6, -1), atol=1e-4)
    assert closed.abs().max() < 1e-12


def test_separator_queries_each_slot_and_silent_queries_give_zeros():
    torch.manual_seed(0)
    model = BLSTMMaskSeparator(**TINY)
    mix = torch.randn(2, 4, 4000)
    query = torch.zeros(2, 3, 18)
    query[0, 0, 4] = query[0, 1, 7] = query[1, 0, 4] = 1
    out = model(mix, query.reshape(2, -1))
    assert out.shape == (2, 3, 1, 4000)
    assert out[0, 2].abs().max() == 0 and out[1, 1:].abs().max() == 0
    assert out[0, 0].abs().max() > 0
    # the class is used: another class on the same mixture gives another output
    other = query.clone()
    other[0, 0, 4], other[0, 0, 5] = 0, 1
    assert not torch.allclose(model(mix, other.reshape(2, -1))[0, 0], out[0, 0])
    # each slot is computed from its own one-hot only: slot 0 of mixture 0 equals slot 0 of mixture 1
    same = model(torch.cat([mix[:1], mix[:1]]), query.reshape(2, -1))
    assert torch.allclose(same[0, 0], same[1, 0], atol=1e-6)


def test_build_model_names_the_known_reference_architectures():
    assert isinstance(build_model("uss", {"architecture": "blstm_mask", **TINY}), BLSTMMaskUSS)
    assert isinstance(build_model("separator", {"architecture": "blstm_mask", **TINY}), BLSTMMaskSeparator)
    with pytest.raises(ValueError, match="no architecture 'blstm_mask' for task 'tse'.*blstm_mask \\(task uss\\)"):
        build_model("tse", {"architecture": "blstm_mask"})
    with pytest.raises(ValueError, match="no architecture 'lstm'"):
        build_model("uss", {"architecture": "lstm"})


@pytest.mark.parametrize("task,cls", [("uss", BLSTMMaskUSS), ("separator", BLSTMMaskSeparator)])
def test_trains_with_the_tasks_of_the_paper_models_and_reloads(tmp_path, task, cls):
    data = tiny_data_config(tmp_path, duration=1.0)
    cfg = {"task": task, "model": {"architecture": "blstm_mask", **TINY}, "data": data["_path"], "steps": 2,
           "batch_size": 2, "val_every": 2, "val_size": 2, "lr": 1e-3, "export": str(tmp_path / "m.pt")}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    cfg = load_train_config(path)
    result = train(cfg, tmp_path / "work", progress=False, command="test")
    model, _ = load_component(result["export"], expect_task=task)
    assert isinstance(model, cls)
    rows = list(csv.DictReader((tmp_path / "work" / "log.csv").read_text().splitlines()))
    assert [r["split"] for r in rows] == ["train", "train", "val"]
    assert all(math.isfinite(float(r["loss"])) for r in rows)
    # the reloaded export is the trained model: on the validation scenes it gives the logged loss, which
    # the seeded model it started from does not
    task_obj, val = TASK_CLASSES[task](), streams(cfg, rank=0, world=1, start_step=0)[1]
    logged = float(rows[-1]["loss"])
    assert validate(model, task_obj, val, "cpu")["loss"] == pytest.approx(logged, rel=1e-5)
    assert validate(build_state(cfg, "cpu").model, task_obj, val, "cpu")["loss"] != pytest.approx(logged)
    # the model learns: steps on one fixed batch lower its loss at every step
    losses = fixed_batch_losses({**cfg, "lr": 1e-2}, 5)
    assert all(b < a for a, b in zip(losses, losses[1:])), losses


def test_learnability_runner_puts_logged_curves_beside_the_ceilings(tmp_path, capsys):
    import pandas as pd

    from s5bench.runners.learnability import main

    run = tmp_path / "runs" / "uss_tiny"
    run.mkdir(parents=True)
    (run / "log.csv").write_text("step,split,loss,sep_gain,seconds\n1,train,3.0,-2.0,1.5\n"
                                 "2,val,2.0,-0.5,3.0\n4,val,1.0,0.25,6.0\n")
    out = tmp_path / "out"
    assert main(["--config", "uss_tiny", "--n", "4", "--runs", "uss_tiny", "not_a_run",
                 "--work-root", str(tmp_path / "runs"), "--out", str(out)]) == 0
    curves = pd.read_csv(out / "curves.csv")
    assert curves["step"].tolist() == [2, 4]  # validation rows only
    assert curves["scenes_seen"].tolist() == [4, 8]  # steps × the recipe's batch size (2)
    ceil = pd.read_csv(out / "ceilings.csv").iloc[0]
    assert ceil["scenes"] == 4 and ceil["irm"] > 0  # an ideal mask beats the best-scaled mixture
    summary = (out / "summary.md").read_text()
    assert "| uss_tiny | 8 | 0.25 | 0.25 | 8 |" in summary
    assert (out / "curves.png").is_file()
    assert "skipped not_a_run" in capsys.readouterr().err
