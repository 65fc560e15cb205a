"""Part 2, training cost: forward + backward + optimiser step of each paper-size recipe at its own
batch size, in float32 and under bfloat16 autocast (STFT/iSTFT, losses and figures in float32),
through the trainer's own `train_step`; and the scene stream's rate with N worker processes.

Batches are synthetic (`common.synthetic_batch`, the recipe's scene length): the cost of a step
does not depend on the numbers. Recipes that start from files (`init`, `m2d_weights`, a frozen
USS for the TSE's enrollments) start from random weights of the same shapes instead, the TSE's
frozen USS included, so its cost is counted. A batch that does not fit in the device's memory
is halved until it does (`batch_size` < `recipe_batch`); `projected_hours` then counts the
recipe's scenes (as gradient accumulation over recipe_batch / batch_size steps would).
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, cast

import torch
from torch.utils.data import DataLoader

from s5bench.data_gen.stream import SceneStream, collate
from s5bench.systems.models.checkpoints import build_model
from s5bench.systems.training.recipes import TrainConfig, data_config, load_train_config
from s5bench.systems.training.tasks import SCTask, TSETask
from s5bench.systems.training.trainer import StepModule, build_state, train_step

from .common import (
    PAPER_RECIPES,
    TINY_RECIPES,
    Budget,
    free_device,
    median,
    n_params_m,
    peak_memory_gib,
    peak_memory_reset,
    synthetic_batch,
    timed_calls,
    to_device,
    write_csv,
)

COLUMNS = ("recipe", "task", "precision", "batch_size", "recipe_batch", "scene_s", "params_M", "trainable_M", "step_ms",
           "steps_timed", "scenes_per_s", "peak_mem_GiB", "recipe_steps", "projected_hours", "loss_finite",
           "stream_scenes_per_s", "stream_keeps_up", "status")
PRECISIONS = {"float32": None, "bfloat16": torch.bfloat16}


class TimingRecipe(TrainConfig):
    """A recipe as `recipe_for_timing` gives it.

    Attributes:
        _uss_model: the model arguments of the frozen USS a TSE or SC recipe's enrollments come from, or None.
    """

    _uss_model: dict[str, Any] | None


def recipe_for_timing(name: str, tiny: bool) -> TimingRecipe:
    """The recipe with its files dropped (random weights of the same shapes instead)."""
    cfg = cast(TimingRecipe, load_train_config(name))  # with "_uss_model" set below
    cfg["init"] = cfg["m2d_weights"] = None
    options = dict(cfg["task_options"] or {})
    cfg["_uss_model"] = None
    if options.get("uss_checkpoint"):
        uss_recipe = "uss_tiny" if tiny else "uss_paper"
        cfg["_uss_model"] = load_train_config(uss_recipe)["model"]
        options["uss_checkpoint"] = None
    cfg["task_options"] = options
    return cfg


def time_recipe(name: str, precision: str, device: str, tiny: bool, clip_s: float | None, budget: Budget,
                repeats: int, batch_size: int | None = None) -> dict:
    """Time `repeats` training steps of recipe `name` (after a warm-up) on synthetic batches.

    Args:
        precision: "float32" or "bfloat16" (autocast around the model calls).
        tiny: a tiny recipe (batch 2; a frozen USS of uss_tiny's shape for the TSE).
        clip_s: scene length (default: the recipe's data config's).
        budget: stops the timed steps early when spent (one at least).
        batch_size: overrides the recipe's (and tiny's 2).

    Returns:
        One training.csv row.
    """
    cfg = recipe_for_timing(name, tiny)
    cfg["amp"] = False  # autocast is set on the task below, so that the CPU can run it too
    # the recipes' data configs set scene.duration (a key DataConfig need not have)
    scene_s = clip_s or float(cast("dict[str, Any]", data_config(cfg))["scene"]["duration"])
    bs = batch_size or (2 if tiny else cfg["batch_size"])  # tiny 2: batch norm in training needs 2 values
    state = build_state(cfg, device)
    state.task.amp_dtype = PRECISIONS[precision]
    if cfg["_uss_model"] is not None:  # the TSE's enrollments come from a (frozen, random) USS
        torch.manual_seed(1)
        assert isinstance(state.task, (SCTask, TSETask))  # the tasks that take a uss_checkpoint
        state.task.uss = build_model("uss", cfg["_uss_model"]).to(device).eval().requires_grad_(False)
    wrapped = StepModule(state.model, state.task)
    batch = to_device(synthetic_batch(bs, scene_s, seed=2, repeated_class=cfg["task"] == "slot_tagger"), device)
    losses = []

    def step():
        losses.append(train_step(state, wrapped, batch, cfg, figures=False)[0])

    peak_memory_reset(device)
    times = timed_calls(step, device, repeats, budget, warmup=1 if tiny or device == "cpu" else 2)
    step_s = median(times)
    row = {"recipe": name, "task": cfg["task"], "precision": precision, "batch_size": bs,
           "recipe_batch": cfg["batch_size"], "scene_s": scene_s,
           "params_M": n_params_m(state.model), "trainable_M": sum(p.numel() for p in state.params) / 1e6,
           "step_ms": step_s * 1e3, "steps_timed": len(times), "scenes_per_s": bs / step_s,
           "peak_mem_GiB": peak_memory_gib(device), "recipe_steps": cfg["steps"],
           "projected_hours": cfg["steps"] * (cfg["batch_size"] / bs) * step_s / 3600,
           "loss_finite": bool(torch.isfinite(torch.stack(losses)).all()), "status": "done"}
    return row


def out_of_memory(err: BaseException) -> bool:
    return isinstance(err, torch.OutOfMemoryError) or "out of memory" in str(err)


def time_fitting(name: str, precision: str, device: str, tiny: bool, clip_s: float | None, budget: Budget,
                 repeats: int) -> dict:
    """time_recipe at the recipe's batch, halved after each out-of-memory error down to 1."""
    bs = None
    while True:
        try:
            return time_recipe(name, precision, device, tiny, clip_s, budget, repeats, batch_size=bs)
        except RuntimeError as err:
            if not out_of_memory(err):
                raise
            free_device(device)
            tried = bs or load_train_config(name)["batch_size"]
            if tried <= 1 or budget.over():
                raise
            bs = tried // 2
            print(f"training: {name} {precision}: out of memory at batch {tried}, trying {bs}", flush=True)


def stream_rate(workers: int, device: str, seconds: float, scene_s: float, batch_size: int = 4) -> dict:
    """Scenes per second of the generator's stream (builtin_train, `scene_s` scenes) through a
    DataLoader with `workers` processes (pinned memory on a GPU), over `seconds` after its first
    batch (the workers' start, not counted, is given as step_ms)."""
    # data_config reads only these keys of a recipe
    data = data_config(cast(TrainConfig, {"data": "builtin_train", "data_overrides": {"scene.duration": scene_s},
                                          "name": "bench"}))
    loader = DataLoader(SceneStream(data, seed=5), batch_size=batch_size, collate_fn=collate, num_workers=workers,
                        pin_memory=str(device).startswith("cuda"))
    t0 = time.perf_counter()
    it = iter(loader)
    to_device(next(it), device)
    first = time.perf_counter()
    budget = Budget(seconds)
    n = 0
    while n == 0 or not budget.over():
        to_device(next(it), device)
        n += batch_size
    elapsed = time.perf_counter() - first
    del it, loader
    return {"recipe": f"data stream ({workers} workers)", "task": "data", "batch_size": batch_size,
            "scene_s": scene_s, "scenes_per_s": n / elapsed, "steps_timed": n // batch_size,
            "step_ms": (time.perf_counter() - t0 - elapsed) * 1e3,  # time to the first batch (workers' start)
            "status": "done (step_ms: time to the first batch)"}


def run(out_dir: Path, device: str, tiny: bool, budget: Budget, workers: int, stream_seconds: float,
        repeats: int = 10) -> Path:
    """Every recipe × precision until the step budget is spent, then the stream for
    `stream_seconds`; training.csv rewritten after each row."""
    path = Path(out_dir) / "training.csv"
    recipes = TINY_RECIPES if tiny else PAPER_RECIPES
    clip_s = 0.25 if tiny else None
    jobs = [(r, p) for r in recipes for p in PRECISIONS]
    rows = []
    step_budget = Budget(max(budget.left() - 1.5 * stream_seconds, 0.0))  # + the workers' start

    def save():
        write_csv([{c: r.get(c) for c in COLUMNS} for r in rows], path)

    for i, (name, precision) in enumerate(jobs):
        if step_budget.over():
            rows.append({"recipe": name, "precision": precision, "status": "skipped: time budget spent"})
        elif precision != "float32" and not str(device).startswith("cuda"):
            # CPU autocast is slow and not what a GPU runs (tests/test_bench_gpu.py steps it once)
            rows.append({"recipe": name, "precision": precision, "status": "skipped: bfloat16 timed on CUDA only"})
        else:
            share = Budget(step_budget.left() / (len(jobs) - i))  # what is left, shared by what is left
            try:
                rows.append(time_fitting(name, precision, device, tiny, clip_s, share, repeats))
                free_device(device)  # the recipe's model and optimiser are gone: give their memory back
            except (RuntimeError, ValueError) as err:  # e.g. out of memory: the others still run
                free_device(device)
                rows.append({"recipe": name, "precision": precision,
                             "status": f"failed: {type(err).__name__}: {err}"[:300]})
            print(f"training: {rows[-1]}", flush=True)
        save()
    scene_s = 0.5 if tiny else 10.0
    try:
        stream = stream_rate(workers, device, min(stream_seconds, max(budget.left(), 1.0)), scene_s,
                             batch_size=1 if tiny else 4)
    except (RuntimeError, ValueError, OSError) as err:
        stream = {"recipe": f"data stream ({workers} workers)", "status": f"failed: {type(err).__name__}: {err}"[:300]}
    rows.append(stream)
    print(f"training: {stream}", flush=True)
    rate = float(stream.get("scenes_per_s", math.nan))  # a float when measured, NaN when the stream failed
    for r in rows[:-1]:
        if r.get("status") == "done":
            r["stream_scenes_per_s"] = rate
            r["stream_keeps_up"] = bool(rate >= r["scenes_per_s"]) if math.isfinite(rate) else None
    save()
    return path
