"""s5bench bench-gpu (benchmarks/gpu/): the whole script at tiny shapes on the CPU, as CI runs
it (columns, cpu-vs-cpu parity exactly 0, the USS run's exported checkpoint), its pieces against
hand-computed values, bfloat16 autocast steps through the training path, and a CUDA-only parity
check that skips without a GPU."""
import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from s5bench.benchmarks.gpu import inference, parity, training, uss_budget
from s5bench.benchmarks.gpu.common import COMPONENTS, Budget, synthetic_batch
from s5bench.runners.bench_gpu import main
from s5bench.runners.cli import COMMANDS
from s5bench.systems.models.checkpoints import load_component
from s5bench.systems.models.precision import full_precision, run_autocast, to_float

CHECKOUT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench_gpu")
    assert main(["--device", "cpu", "--tiny", "--out", str(out), "--workers", "1"]) == 0
    return out


def test_the_tiny_run_writes_every_file_with_its_columns(tiny_run):
    for name, module in (("parity.csv", parity), ("training.csv", training), ("inference.csv", inference),
                         ("uss_curve.csv", uss_budget)):
        assert list(pd.read_csv(tiny_run / name).columns) == list(module.COLUMNS), name
    assert (tiny_run / "uss_curve.png").stat().st_size > 0
    text = (tiny_run / "report.md").read_text()
    for heading in ("## 1. Parity", "## 2. Training cost", "## 3. Inference", "## 4. The CPU-size USS",
                    "pure-PyTorch Mamba-2", "SOFA round trip: ok"):
        assert heading in text
    assert len(list(tiny_run.iterdir())) <= 8  # what a device run can bring back


def test_cpu_against_cpu_parity_is_exactly_zero_for_every_component(tiny_run):
    df = pd.read_csv(tiny_run / "parity.csv")
    assert list(df["component"]) == list(COMPONENTS)
    assert (df["status"] == "done").all()
    assert (df["max_rel_diff"] == 0).all() and (df["max_abs_diff"] == 0).all()


def test_training_rows_time_a_real_step_and_compare_the_stream(tiny_run):
    df = pd.read_csv(tiny_run / "training.csv")
    done = df[df["status"] == "done"]
    assert set(done["recipe"]) == set(training.TINY_RECIPES)
    assert (done["step_ms"] > 0).all() and done["loss_finite"].all()
    # the CSV keeps 6 significant digits
    assert list(done["scenes_per_s"]) == pytest.approx(list(done["batch_size"] / (done["step_ms"] / 1e3)), rel=1e-4)
    scenes = done["recipe_steps"] * done["recipe_batch"] / done["batch_size"]  # steps at the batch timed
    assert list(done["projected_hours"]) == pytest.approx(list(scenes * done["step_ms"] / 3.6e6), rel=1e-4)
    stream = df[df["recipe"].str.startswith("data stream")].iloc[0]
    assert stream["scenes_per_s"] > 0
    assert (done["stream_keeps_up"] == (stream["scenes_per_s"] >= done["scenes_per_s"])).all()


def test_inference_stages_add_up_and_are_given_against_the_baseline(tiny_run):
    df = pd.read_csv(tiny_run / "inference.csv")
    f32 = df[df["precision"] == "float32"].set_index("what")["compute_s"]
    sc, tse = f32["model sc x3"], f32["model tse x3"]
    assert f32["stage fss3_cp3"] == pytest.approx(f32["model uss"] + 3 * sc + 2 * tse, rel=1e-4)
    base = f32["model tagger"] + f32["model separator"]
    assert f32["baseline (tagger + ResUNetK)"] == pytest.approx(base, rel=1e-4)
    rows = df[df["precision"] == "float32"]
    assert ((rows["x_baseline"] - rows["compute_s"] / base).abs() < 1e-3 * rows["x_baseline"]).all()
    assert list(rows["RTF"]) == pytest.approx(list(rows["compute_s"] / rows["audio_s"]), rel=1e-4)


def test_the_uss_run_logs_beside_the_cpu_curve_and_exports_its_best_checkpoint(tiny_run):
    df = pd.read_csv(tiny_run / "uss_curve.csv")
    cpu = df[df["run"].str.contains("the CPU run")]
    assert list(zip(cpu["scenes"], cpu["sep_gain"])) == list(uss_budget.CPU_CURVE)
    ours = df[~df["run"].str.contains("the CPU run")]
    assert len(ours) >= 1 and ours["sep_gain"].map(math.isfinite).all()
    model, record = load_component(tiny_run / "uss_cpu_gpu.pt", expect_task="uss")
    assert record["config"]["model"]["architecture"] == "bandsplit"
    assert "bench-gpu" in record["training"]["command"]
    assert record["training"]["best_step"] in set(ours["step"])


def test_the_cpu_curve_is_the_one_checkpoints_readme_records():
    text = (CHECKOUT / "checkpoints" / "README.md").read_text()
    assert "+0.13 / +0.73 / +1.14 / +1.64" in text  # steps 1,000-4,000
    assert "+1.54 at 5000" in text and "`sep_gain` +1.76 dB" in text


def test_relative_difference_by_hand():
    a = {"x": torch.tensor([1.0, -2.0]), "y": torch.tensor([4.0])}
    b = {"x": torch.tensor([1.0, -2.5]), "y": torch.tensor([4.0])}
    assert parity.relative_difference(a, b) == (0.25, "x", 0.5)  # 0.5 / max|a| = 2
    assert parity.relative_difference(a, a)[0] == 0.0
    with pytest.raises(ValueError, match="shapes"):
        parity.relative_difference(a, {"x": torch.zeros(3), "y": torch.zeros(1)})


def test_stage_times_by_hand():
    t = {"uss": 1.0, "sc x3": 0.1, "tse x3": 2.0}
    assert inference.stage_times(t) == pytest.approx(
        {"fss1_cp1": 1.0, "fss1_cp1-1": 1.1, "fss2_cp1-1": 3.1, "fss2_cp2": 3.2, "fss3_cp3": 5.3})


def test_synthetic_batch_has_the_stream_shapes_and_silent_slots():
    b = synthetic_batch(3, 0.01, seed=0, repeated_class=True)
    assert b["mixture"].shape == (3, 4, 320) and b["targets"].shape == (3, 3, 320)
    assert b["label_vector"].shape == (3, 3, 18) and b["interference"].shape == (3, 2, 320)
    assert not b["active"][0, 2] and b["targets"][0, 2].abs().sum() == 0 and b["label_vector"][0, 2].sum() == 0
    assert torch.equal(b["label_vector"][:, 0].argmax(-1), b["label_vector"][:, 1].argmax(-1))
    assert torch.equal(synthetic_batch(3, 0.01, seed=0)["mixture"], synthetic_batch(3, 0.01, seed=0)["mixture"])


@pytest.mark.parametrize("recipe", ["uss_tiny", "separator_tiny"])
def test_a_bfloat16_autocast_step_runs_the_training_path_with_a_finite_loss(recipe):
    row = training.time_recipe(recipe, "bfloat16", "cpu", True, 0.25, Budget(0), repeats=1)
    assert row["status"] == "done" and row["loss_finite"] and row["steps_timed"] == 1


def test_a_batch_that_does_not_fit_is_halved_until_it_does(monkeypatch):
    tried = []

    def fake(name, precision, device, tiny, clip_s, budget, repeats, batch_size=None):
        tried.append(batch_size)
        if (batch_size or 32) > 8:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return {"batch_size": batch_size}

    monkeypatch.setattr(training, "time_recipe", fake)
    assert training.time_fitting("sc_paper", "float32", "cuda", False, None, Budget(60), 1) == {"batch_size": 8}
    assert tried == [None, 16, 8]  # sc_paper's batch is 32
    monkeypatch.setattr(training, "time_recipe", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("shape")))
    with pytest.raises(RuntimeError, match="shape"):  # other errors are not retried
        training.time_fitting("sc_paper", "float32", "cuda", False, None, Budget(60), 1)


def test_precision_helpers_keep_float32_and_fft_out_of_autocast():
    x = torch.randn(2, 8)
    assert to_float(x) is x and to_float({"a": [x]})["a"][0] is x  # no copy without low precision
    assert to_float(x.bfloat16()).dtype == torch.float32
    lin = torch.nn.Linear(8, 8)
    assert run_autocast(lin, x, dtype=torch.bfloat16, device_type="cpu").dtype == torch.float32
    assert run_autocast(lin, x).dtype == torch.float32
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert lin(x).dtype == torch.bfloat16
        with full_precision():
            assert lin(x).dtype == torch.float32


def test_the_command_is_registered_and_refuses_a_missing_gpu(tmp_path, capsys):
    assert COMMANDS["bench-gpu"] == "bench_gpu"
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    assert main(["--device", "cuda", "--out", str(tmp_path)]) == 2
    assert "sees no CUDA device" in capsys.readouterr().err


def test_the_gpu_session_script_runs_the_bench_from_a_bare_checkout(tmp_path):
    """runners/gpu_session.sh with this Python (no wheels: they are cp312 builds for the GPU
    machine) and the bench's parity part at tiny shapes on the CPU: the log and report come back."""
    (tmp_path / "no_wheels").mkdir()
    env = {**os.environ, "PYTHON": sys.executable, "OUT": str(tmp_path / "out"), "BENCH_LIMIT_S": "300",
           "GPU_WHEELS": str(tmp_path / "no_wheels")}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(["bash", str(CHECKOUT / "runners" / "gpu_session.sh"), "--device", "cpu", "--tiny",
                           "--parts", "parity", "--workers", "0"], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = tmp_path / "out"
    log = (out / "log").read_text()
    assert "no gpu_wheels" in log and "== exit status 0" in log
    assert (out / "parity.csv").is_file() and (out / "report.md").is_file()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_parity_at_tiny_shapes_and_a_bfloat16_step(tmp_path):
    path = parity.run(tmp_path, "cuda", True, Budget(300), 1.0)
    df = pd.read_csv(path)
    assert (df["status"] == "done").all() and (df["max_rel_diff"] < 1e-3).all()
    row = training.time_recipe("uss_tiny", "bfloat16", "cuda", True, 0.5, Budget(60), repeats=2)
    assert row["loss_finite"] and row["peak_mem_GiB"] > 0


# (name:shape of every state-dict entry) digests of the paper-size models, as built at 7c4fadd:
# the paper-size path (and so the checkpoints it writes) must keep its names and shapes
PAPER_STATE_DICTS = {"uss_paper": ("dc8759864901c702", 3027061), "tse_paper": ("dd2b65649cca42d0", 4428164),
                     "sc_paper": ("860fc9bb8ab68b78", 85562114), "tagger_head": ("cdc83760d3596979", 85562132),
                     "separator_paper": ("9c156298fe5a4db3", 26740971)}


@pytest.mark.parametrize("recipe", sorted(PAPER_STATE_DICTS))
def test_paper_size_models_keep_their_checkpoint_names_and_shapes(recipe):
    import hashlib

    from s5bench.systems.models.checkpoints import build_model
    from s5bench.systems.training.recipes import load_train_config

    cfg = load_train_config(recipe)
    model = build_model(cfg["task"], cfg["model"])
    text = "\n".join(f"{k}:{tuple(v.shape)}" for k, v in model.state_dict().items())
    assert (hashlib.sha256(text.encode()).hexdigest()[:16], sum(p.numel() for p in model.parameters())) \
        == PAPER_STATE_DICTS[recipe]


@pytest.mark.parametrize("recipe", training.PAPER_RECIPES)
def test_each_paper_recipe_takes_a_training_step_at_tiny_shapes(recipe):
    """The paper-size models and tasks (frozen M2D blocks, the TSE's frozen USS) through the
    trainer's step on a 0.1-s batch of 2 on the CPU: a finite loss and changed weights."""
    from s5bench.systems.models.checkpoints import build_model
    from s5bench.systems.training.trainer import StepModule, build_state, train_step

    cfg = training.recipe_for_timing(recipe, tiny=False)
    state = build_state(cfg, "cpu")
    if cfg["_uss_model"] is not None:
        state.task.uss = build_model("uss", cfg["_uss_model"]).eval().requires_grad_(False)
    before = [p.detach().clone() for p in state.params]
    loss, _ = train_step(state, StepModule(state.model, state.task), synthetic_batch(2, 0.1, seed=3), cfg,
                         figures=False)
    assert torch.isfinite(loss) and state.step == 1
    assert any(not torch.equal(a, p) for a, p in zip(before, state.params))
