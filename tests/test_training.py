"""runners/train.py: every task trains a few steps, resumes, exports; DDP with two gloo processes;
a work folder resumes only its own run (recipes.training_identity)."""
import csv
import math

import pytest
import torch
import yaml
from conftest import TINY_MODELS, fixed_batch, fixed_batch_losses, tiny_data_config, torchrun

from s5bench.common.errors import S5Error
from s5bench.systems.models.checkpoints import load_component
from s5bench.systems.training.recipes import load_train_config
from s5bench.systems.training.tasks import TASK_CLASSES, frozen, uss_foreground
from s5bench.systems.training.trainer import build_state, streams, train, validate


def write_config(tmp_path, task, steps=2, **extra):
    data = tiny_data_config(tmp_path, duration=1.0)
    cfg = {"task": task, "model": TINY_MODELS[task], "data": data["_path"], "steps": steps, "batch_size": 2,
           "val_every": 2, "val_size": 2, "lr": 1e-3, "export": str(tmp_path / f"{task}.pt"), **extra}
    path = tmp_path / f"{task}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def read_log(path):
    with open(path) as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("task", ["tagger", "slot_tagger", "separator", "uss", "sc"])
def test_each_task_trains_and_exports(tmp_path, task):
    cfg = load_train_config(write_config(tmp_path, task))
    result = train(cfg, tmp_path / "work", progress=False, command="test")
    model, record = load_component(result["export"], expect_task=task)
    assert record["training"]["command"] == "test" and record["training"]["steps"] == 2
    rows = read_log(tmp_path / "work" / "log.csv")
    assert [r["split"] for r in rows] == ["train", "train", "val"]
    assert all(math.isfinite(float(r["loss"])) for r in rows)  # no NaN or Inf
    if task == "sc":
        assert torch.isfinite(model.thresholds).all()  # calibrated at export


def test_tse_trains_on_uss_enrollments(tmp_path):
    uss = train(load_train_config(write_config(tmp_path, "uss")), tmp_path / "uss_work", progress=False)["export"]
    cfg = load_train_config(write_config(tmp_path, "tse", task_options={"uss_checkpoint": uss}))
    result = train(cfg, tmp_path / "work", progress=False)
    model, _ = load_component(result["export"], expect_task="tse")
    rows = read_log(tmp_path / "work" / "log.csv")
    assert [r["split"] for r in rows] == ["train", "train", "val"]
    assert all(math.isfinite(float(r["loss"])) for r in rows)
    # the export is the trained model: on the same validation scenes (USS enrollments) it gives the logged loss
    task = TASK_CLASSES["tse"](**cfg["task_options"])
    val = streams(cfg, rank=0, world=1, start_step=0)[1]
    assert validate(model, task, val, "cpu")["loss"] == pytest.approx(float(rows[-1]["loss"]), rel=1e-5)
    # ... and not the seeded model it started from
    assert validate(build_state(cfg, "cpu").model, task, val, "cpu")["loss"] != pytest.approx(float(rows[-1]["loss"]))
    # the enrollments are the USS's outputs, and the TSE's output depends on its enrollment
    batch = fixed_batch(cfg)
    enr = task.enrollments(batch)
    assert torch.equal(enr, uss_foreground(frozen(uss), batch))
    act = batch["active"]
    b_idx, s_idx = torch.nonzero(act, as_tuple=True)
    mix, hot = batch["mixture"][b_idx], batch["label_vector"][b_idx, s_idx]
    with torch.no_grad():
        out = model(mix, enr[act], hot)
        assert out.shape == batch["targets"][act].shape and torch.isfinite(out).all()
        other = model(mix, batch["targets"][act], hot)  # another enrollment of the same targets
    assert (other - out).norm() > 0.1 * out.norm()
    # steps on one fixed batch (with the USS enrollments) lower its loss at every step
    losses = fixed_batch_losses({**cfg, "lr": 1e-2}, 5)
    assert all(b < a for a, b in zip(losses, losses[1:])), losses


def test_training_resumes_where_it_stopped(tmp_path):
    path = write_config(tmp_path, "separator", steps=2)
    train(load_train_config(path), tmp_path / "work", progress=False)
    cfg = load_train_config(path)
    cfg["steps"] = 4
    result = train(cfg, tmp_path / "work", progress=False)
    steps = [int(r["step"]) for r in read_log(tmp_path / "work" / "log.csv") if r["split"] == "train"]
    assert steps == [1, 2, 3, 4] and result["steps"] == 4


@pytest.mark.parametrize("task", ["uss", "separator"])
def test_the_same_recipe_twice_gives_the_same_checkpoint_and_validation(tmp_path, task):
    """What checkpoints/README.md promises: re-running a command reproduces its checkpoint."""
    path = write_config(tmp_path, task, steps=2)
    runs = [train(load_train_config(path), tmp_path / f"work{i}", progress=False) for i in range(2)]
    logs = [read_log(tmp_path / f"work{i}" / "log.csv") for i in range(2)]
    strip = [[{k: v for k, v in row.items() if k != "seconds"} for row in log] for log in logs]
    assert strip[0] == strip[1] and runs[0]["best_val_score"] == runs[1]["best_val_score"]
    states = [torch.load(tmp_path / f"work{i}" / "best.pt", weights_only=False)["state_dict"] for i in range(2)]
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


def test_learning_rate_follows_the_milestones_also_after_a_resume(tmp_path):
    from s5bench.systems.training.trainer import learning_rate

    cfg = {"lr": 1e-3, "lr_gamma": 0.5, "lr_milestones": [3, 5]}
    assert [learning_rate(cfg, s) for s in range(6)] == [1e-3, 1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4]
    path = write_config(tmp_path, "separator", steps=2)
    train(load_train_config(path), tmp_path / "work", progress=False)  # no milestones
    cfg = load_train_config(path)
    cfg.update(steps=4, lr_milestones=[3], lr_gamma=0.5)
    train(cfg, tmp_path / "work", progress=False)
    saved = torch.load(tmp_path / "work" / "last.pt", weights_only=False)
    assert saved["optimizer"]["param_groups"][0]["lr"] == pytest.approx(5e-4)  # step 4 used the decayed rate


def test_resume_after_a_stop_between_validations_rewrites_the_log(tmp_path):
    """A run stopped after step 3 with its last state saved at step 2 resumes from step 2: the
    log must not keep step 3 twice, and its seconds keep counting from the first session."""
    import shutil
    path = write_config(tmp_path, "separator", steps=2)
    work = tmp_path / "work"
    train(load_train_config(path), work, progress=False)
    shutil.copy(work / "last.pt", tmp_path / "last_at_2.pt")
    cfg = load_train_config(path)
    cfg["steps"] = 3
    train(cfg, work, progress=False)
    shutil.copy(tmp_path / "last_at_2.pt", work / "last.pt")  # the state of step 3 was lost
    cfg["steps"] = 4
    train(cfg, work, progress=False)
    rows = read_log(work / "log.csv")
    assert [(int(r["step"]), r["split"]) for r in rows] == [(1, "train"), (2, "train"), (2, "val"), (3, "train"),
                                                           (4, "train"), (4, "val")]
    seconds = [float(r["seconds"]) for r in rows]
    assert seconds == sorted(seconds) and seconds[0] > 0


def test_frozen_tagger_trains_the_head_only(tmp_path):
    cfg = load_train_config(write_config(tmp_path, "tagger", task_options={"train_blocks": 0}))
    torch.manual_seed(0)
    result = train(cfg, tmp_path / "work", progress=False)
    trained, _ = load_component(result["export"])
    torch.manual_seed(0)
    from s5bench.systems.models.checkpoints import build_model
    fresh = build_model("tagger", TINY_MODELS["tagger"])
    assert torch.equal(trained.state_dict()["backbone.blocks.0.attn.qkv.weight"],
                       fresh.state_dict()["backbone.blocks.0.attn.qkv.weight"])
    assert not torch.equal(trained.state_dict()["head.weight"], fresh.state_dict()["head.weight"])


def test_unknown_training_config_lists_the_known_ones():
    with pytest.raises(FileNotFoundError, match="known: .*uss_tiny"):
        load_train_config("no_such_config")


def test_ddp_two_gloo_processes(tmp_path):
    path = write_config(tmp_path, "separator", steps=2)
    proc = torchrun("train.py", ["--config", path, "--work", tmp_path / "work", "--no-progress"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    _, record = load_component(tmp_path / "separator.pt", expect_task="separator")
    assert record["training"]["world_size"] == 2
    rows = read_log(tmp_path / "work" / "log.csv")
    assert [r["split"] for r in rows] == ["train", "train", "val"]  # rank 0 alone logs


def test_each_torchrun_rank_takes_its_own_gpu(monkeypatch):
    from s5bench.systems.distributed import local_device
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_RANK", "3")
    assert local_device("cuda") == "cuda:3"
    assert local_device("cuda:1") == "cuda:1" and local_device("cpu") == "cpu"  # an explicit choice stays
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert local_device("cuda") == "cuda"


def test_export_only_records_the_runs_training_seconds_from_its_log(tmp_path):
    """A stopped run exported with --export-only keeps its training time (train_seconds not empty)."""
    import subprocess
    import sys

    from conftest import ROOT

    path = write_config(tmp_path, "separator", steps=2)
    train(load_train_config(path), tmp_path / "work", progress=False)
    logged = float(read_log(tmp_path / "work" / "log.csv")[-1]["seconds"])
    (tmp_path / "separator.pt").unlink()
    r = subprocess.run([sys.executable, str(ROOT / "runners" / "train.py"), "--config", str(path), "--work",
                        str(tmp_path / "work"), "--export-only"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    _, record = load_component(tmp_path / "separator.pt", expect_task="separator")
    assert record["training"]["train_seconds"] == round(logged, 1) and logged > 0
    assert record["training"]["command"].endswith("(exported from the last validated step)")


def test_log_rows_with_more_keys_than_the_header_read_back_under_their_names(tmp_path):
    """Validation rows carry figures the training rows lack (the unrolled TSE's two passes): the
    header grows to hold them, so a resume's rewind reads every row back under its own names."""
    from s5bench.systems.training.trainer import _log, _rewind_log
    path = tmp_path / "log.csv"
    _log(path, {"step": 1, "split": "train", "loss": 0.5, "seconds": 1.0})
    _log(path, {"step": 2, "split": "val", "loss": 0.4, "sep_gain_two_passes": 2.5, "seconds": 2.0})
    _log(path, {"step": 3, "split": "train", "loss": 0.3, "seconds": 3.0})
    assert _rewind_log(path, 2) == 2.0
    rows = read_log(path)
    assert [(r["step"], r["sep_gain_two_passes"], r["seconds"]) for r in rows] == [("1", "", "1.0"),
                                                                                   ("2", "2.5", "2.0")]


def test_a_log_row_longer_than_its_header_is_named(tmp_path):
    from s5bench.common.errors import S5Error
    from s5bench.systems.training.trainer import logged_seconds
    path = tmp_path / "log.csv"
    path.write_text("step,split,loss,seconds\n1,train,0.5,1.0\n2,val,0.4,2.5,2.0\n")
    with pytest.raises(S5Error, match="log.csv: the row of step 2 has more cells"):
        logged_seconds(path)


def test_export_only_without_an_export_path_is_a_named_error(tmp_path, capsys):
    """It used to reach Path(None) in the export (a TypeError, shown as a bug in s5bench)."""
    from s5bench.runners.train import main

    path = write_config(tmp_path, "separator")
    cfg = yaml.safe_load(path.read_text())
    del cfg["export"]
    path.write_text(yaml.safe_dump(cfg))
    assert main(["--config", str(path), "--work", str(tmp_path / "w"), "--export-only"]) == 2
    assert "names no `export` path" in capsys.readouterr().err


def test_a_training_work_folder_resumes_only_its_own_run(tmp_path):
    from s5bench.systems.training.recipes import load_train_config
    from s5bench.systems.training.trainer import train

    path = write_config(tmp_path, "separator", steps=2)
    work = tmp_path / "work"
    train(load_train_config(path), work, progress=False)
    other = load_train_config(path)
    other.update(steps=4, lr=5e-4)  # another recipe under the same name and folder
    with pytest.raises(S5Error, match=r"work/last.pt was written by another training run \(recipe\.lr differ\)"):
        train(other, work, progress=False)
    longer = load_train_config(path)
    longer["steps"] = 3  # running the same recipe longer is a resume
    assert train(longer, work, progress=False)


def test_a_resume_may_change_how_the_run_logs_but_not_what_it_trains():
    from s5bench.systems.training.recipes import load_train_config, training_identity

    cfg = load_train_config("uss_tiny")
    same = training_identity(cfg)
    assert training_identity({**cfg, "log_every": 50, "steps": cfg["steps"] * 2}) == same
    assert training_identity({**cfg, "lr": cfg["lr"] * 2}) != same
