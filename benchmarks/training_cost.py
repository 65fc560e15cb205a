"""The cost of one training scene of each CPU-size USS candidate against the tiny DeFT-Mamba USS
(runners/bench_training.py): data (the generator's stream, a stem corpus's remixes) and model
(forward, loss, backward, AdamW step), medians over steps, ratios against the first recipe."""
from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Iterable, Iterator
from typing import Any, cast

import pandas as pd
import torch

from s5bench.data_gen.schema import TrainingBatch
from s5bench.data_gen.stem_corpus import StemStream
from s5bench.data_gen.stream import SceneStream, collate
from s5bench.systems.models.checkpoints import build_model
from s5bench.systems.training.recipes import data_config, load_train_config
from s5bench.systems.training.tasks import TASK_CLASSES

RECIPES = ("uss_tiny", "cpu_uss_bandsplit", "cpu_uss_spatial_blstm", "probe_blstm_uss")


def batches(stream: Iterable, batch_size: int) -> Iterator[TrainingBatch]:
    """Endless batches of `batch_size` examples of `stream`, collated."""
    it = iter(stream)
    while True:
        yield collate(list(itertools.islice(it, batch_size)))


def data_seconds(stream: Iterable, batch_size: int, steps: int) -> list[float]:
    """Seconds per scene of drawing batches from a stream (the first batch dropped).

    Args:
        stream: a scene stream.
        batch_size: scenes per batch.
        steps: timed batches.

    Returns:
        `steps` times, seconds per scene.
    """
    gen, out = batches(stream, batch_size), []
    for _ in range(steps + 1):
        t = time.perf_counter()
        next(gen)
        out.append((time.perf_counter() - t) / batch_size)
    return out[1:]


def model_seconds(name: str, batch: TrainingBatch, steps: int) -> tuple[list[float], int]:
    """Seconds per scene of forward + loss + backward + AdamW of a recipe's model (the first step dropped).

    Args:
        name: a training recipe.
        batch: one collated batch.
        steps: timed steps.

    Returns:
        (`steps` times in seconds per scene, the model's parameter count).
    """
    cfg = load_train_config(name)
    torch.manual_seed(0)
    model = build_model(cfg["task"], cfg["model"])
    task = TASK_CLASSES[cfg["task"]](**cast("dict[str, Any]", cfg["task_options"]))  # the shipped recipes give one
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"])
    out = []
    for _ in range(steps + 1):
        t = time.perf_counter()
        loss, _ = task.step(model, batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        out.append((time.perf_counter() - t) / len(batch["mixture"]))
    return out[1:], sum(p.numel() for p in model.parameters())


def training_cost_table(names: list[str], steps: int, stems: str | None = None) -> pd.DataFrame:
    """One row per recipe: parameters, batch, the medians of model and data seconds per scene, their
    totals, and the ratios against the first recipe (data from the generator).

    Args:
        names: training recipes, the first the reference of the ratios.
        steps: timed steps of each.
        stems: a stem corpus whose remixes are timed too (None: the generator only).

    Returns:
        The table (columns as results/bench_training.csv).
    """
    base = load_train_config(names[0])
    data = data_config(base)
    generator = statistics.median(data_seconds(SceneStream(data, seed=123), base["batch_size"], steps))
    remix = (statistics.median(data_seconds(StemStream(stems, seed=123), base["batch_size"], steps))
             if stems else None)
    rows = []
    for name in names:
        cfg = load_train_config(name)
        batch = next(batches(SceneStream(data_config(cfg), seed=7), cfg["batch_size"]))
        times, n_params = model_seconds(name, batch, steps)
        model = statistics.median(times)
        rows.append({"recipe": name, "parameters": n_params, "batch": cfg["batch_size"], "model_s": model,
                     "generator_data_s": generator, "stems_data_s": remix,
                     "total_generator_s": model + generator,
                     "total_stems_s": model + remix if remix is not None else None})
    df = pd.DataFrame(rows)
    ref = df.iloc[0]
    df["model_x_cheaper"] = ref["model_s"] / df["model_s"]
    df["total_x_cheaper_generator"] = ref["total_generator_s"] / df["total_generator_s"]
    if remix is not None:
        df["total_x_cheaper_stems"] = ref["total_generator_s"] / df["total_stems_s"]
    return df
