"""Shared fixtures. The tests import the installed package (`pip install -e ".[test]" --config-settings
editable_mode=strict`, see README): nothing here touches sys.path or PYTHONPATH."""
import os
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def tiny_data_config(tmp_path, seed=0, duration=2.0, **overrides):
    """A small built-in recipe: 2 synthetic rooms of 6 positions with 0.1 s responses."""
    cfg = {
        "engine": "builtin",
        "sr": 32000,
        "targets": {"procedural": {"seed": seed + 1, "n_per_label": 5}},
        "interference": {"procedural": {"seed": seed + 2, "n_per_label": 3}},
        "noise": {"procedural": {"seed": seed + 3, "n_files": 3, "seconds": duration + 2}},
        "rooms": {"synthetic": {"n_rooms": 2, "n_positions": 6, "seed": 5, "ir_seconds": 0.1,
                                "max_order": 6, "cache_dir": str(tmp_path / "rooms")}},
        "scene": {"duration": duration},
    }
    cfg.update(overrides)
    path = tmp_path / "data.yaml"
    path.write_text(yaml.safe_dump(cfg))
    from s5bench.data_gen.config import load_config

    return load_config(path)


def evaluate_args(data: Path, est: Path, out: Path) -> list[str]:
    """The arguments of runners/evaluate.py that score the estimates in `est` on the data set `data`."""
    return ["--soundscape-dir", str(data / "soundscape"), "--oracle-dir", str(data / "oracle_target"),
            "--estimate-dir", str(est), "--out-dir", str(out), "--jobs", "1"]


@pytest.fixture
def tiny_cfg(tmp_path):
    return tiny_data_config(tmp_path)


@pytest.fixture(scope="session")
def tiny_test_set(tmp_path_factory):
    """Six 2-second mixtures in the official layout, made once per test session."""
    from s5bench.data_gen.writer import generate_set

    root = tmp_path_factory.mktemp("tiny_set")
    cfg = tiny_data_config(root)
    generate_set(cfg, root / "set", n=6, seed=0, jobs=1, progress=False)
    return root / "set"


# Tiny model sizes for tests: the real structures, a few thousand parameters each.
TINY_MODELS = {
    "uss": {"dim": 8, "hidden": 8, "n_blocks": 1, "heads": 2, "unfold": 4, "n_fft": 256, "hop": 128,
            "d_state": 4, "expand": 2, "headdim": 4, "f_unfold": True},
    "tse": {"dim": 8, "hidden": 8, "n_blocks": 1, "heads": 2, "unfold": 4, "n_fft": 256, "hop": 128,
            "d_state": 4, "expand": 2, "headdim": 4},
    "sc": {"input_size": [80, 1001], "patch_size": [16, 16], "embed_dim": 32, "depth": 1, "num_heads": 2},
    "tagger": {"input_size": [80, 1001], "patch_size": [16, 16], "embed_dim": 32, "depth": 1, "num_heads": 2},
    "slot_tagger": {"n_channels": 4, "embed_dim": 16, "depth": 1, "num_heads": 2, "track_input_dim": 8,
                    "track_hidden_dim": 8},
    "separator": {"channels": [4, 4, 8, 8, 8, 8], "cond_dim": 8, "n_fft": 256, "hop": 64},
}


def write_tiny_systems(folder) -> dict:
    """Randomly initialised tiny checkpoints of every component (seeded) and system configs that
    use them; returns {name: config path}."""
    import torch

    from s5bench.systems.models.checkpoints import build_model
    from s5bench.systems.models.state_dicts import save_checkpoint

    folder = Path(folder)
    torch.manual_seed(0)
    ckpt = {}
    for task, cfg in TINY_MODELS.items():
        ckpt[task] = save_checkpoint(folder / f"{task}.pt", build_model(task, cfg),
                                     {"task": task, "model": cfg})
    systems = {
        "self_guided": {"class": "s5bench.systems.self_guided:SelfGuided",
                        "args": {"uss": str(ckpt["uss"]), "sc": str(ckpt["sc"]), "tse": str(ckpt["tse"]),
                                 "iterations": 3}},
        "baseline": {"class": "s5bench.systems.baseline:Baseline", "args": {"tagger": str(ckpt["tagger"]),
                                                     "separator": str(ckpt["separator"])}},
    }
    out = {}
    for name, cfg in systems.items():
        out[name] = folder / f"{name}.yaml"
        out[name].write_text(yaml.safe_dump(cfg))
    return out


@pytest.fixture(scope="session")
def tiny_systems(tmp_path_factory):
    return write_tiny_systems(tmp_path_factory.mktemp("tiny_systems"))


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def runner(script: str) -> list[str]:
    """The command line that starts runners/<script> from the installed package (`python -m`)."""
    return [sys.executable, "-m", f"s5bench.runners.{Path(script).stem}"]


def torchrun(script, args, nproc=2, timeout=600):
    """Run a runner of the installed package under torchrun with `nproc` CPU processes (gloo)."""
    import os
    import subprocess

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc), "--master_addr",
           "127.0.0.1", "--master_port", str(free_port()), "-m", f"s5bench.runners.{Path(script).stem}",
           *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT)


def fixed_batch(cfg: dict) -> dict:
    """One batch of a training recipe's validation scenes (the same batch on every call)."""
    from torch.utils.data import DataLoader

    from s5bench.data_gen.stream import SceneStream, collate
    from s5bench.systems.training.recipes import data_config

    stream = SceneStream(data_config(cfg), seed=cfg["val_seed"], length=cfg["batch_size"])
    return next(iter(DataLoader(stream, batch_size=cfg["batch_size"], collate_fn=collate)))


def fixed_batch_losses(cfg: dict, n_steps: int) -> list[float]:
    """The training loss at each of `n_steps` optimiser steps on one fixed batch, from the recipe's
    seeded start (a model and task that learn lower it)."""
    from s5bench.systems.training.trainer import StepModule, build_state, train_step

    state = build_state(cfg, "cpu")  # on the CPU the task runs in full precision (task.amp_dtype None)
    batch, step = fixed_batch(cfg), StepModule(state.model, state.task)
    return [train_step(state, step, batch, cfg)[0] for _ in range(n_steps)]


# the console command as installed beside this interpreter (it starts without the working folder on
# sys.path, as a user's shell starts it), and an environment without PYTHONPATH
S5BENCH = [str(Path(sys.executable).parent / "s5bench")]
CLEAN_ENV = {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, "OMP_NUM_THREADS": "1"}


def s5bench(*args, cwd):
    """`s5bench ARGS…` in a fresh process from `cwd`, as a user runs it; the CompletedProcess (text)."""
    import subprocess

    return subprocess.run([*S5BENCH, *map(str, args)], capture_output=True, text=True, cwd=cwd, env=CLEAN_ENV,
                          timeout=600)


@pytest.fixture(scope="session")
def builtin_two(tmp_path_factory):
    """The first two mixtures of the built-in test set (seed 0), made with `s5bench generate` as a user
    makes them (about 10 s)."""
    work = tmp_path_factory.mktemp("builtin")
    r = s5bench("generate", "--config", "builtin_test", "--n", "2", "--seed", "0", "--jobs", "1", "--out", "set",
                cwd=work)
    assert r.returncode == 0, r.stderr
    return work / "set"
