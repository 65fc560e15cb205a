"""Benchmark: the cost of one training scene (data + forward + backward + optimiser step) of each
CPU-size USS candidate, against the tiny DeFT-Mamba USS, measured in one run on one thread.

    python runners/bench_training.py [--steps 6] [--stems data/stems_train]

Each model is trained for `--steps` steps of its recipe's batch on the USS task (the real loss,
PIT and metrics); the data cost is measured separately for the generator's scene stream and, with
`--stems`, for remixes of a stem corpus. Medians over the steps (the first is dropped: warm-up);
ratios are taken against `uss_tiny` in the same process, so a busy machine inflates the times
but not the ratios. Writes results/bench_training.csv.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one thread per process, as the training runs use

import argparse
import itertools
import statistics
import sys
import time
from pathlib import Path

import pandas as pd
import torch

from s5bench.common.arguments import at_least
from s5bench.common.audio import write_text_atomic
from s5bench.common.errors import cli
from s5bench.data_gen.stem_corpus import StemStream
from s5bench.data_gen.stream import SceneStream, collate
from s5bench.systems.models.checkpoints import build_model
from s5bench.systems.training.recipes import data_config, load_train_config
from s5bench.systems.training.tasks import TASK_CLASSES

RECIPES = ("uss_tiny", "cpu_uss_bandsplit", "cpu_uss_spatial_blstm", "probe_blstm_uss")


def batches(stream, batch_size: int):
    it = iter(stream)
    while True:
        yield collate(list(itertools.islice(it, batch_size)))


def data_seconds(stream, batch_size: int, steps: int) -> list[float]:
    """Seconds per scene of drawing batches from a stream (the first batch dropped)."""
    gen, out = batches(stream, batch_size), []
    for _ in range(steps + 1):
        t = time.perf_counter()
        next(gen)
        out.append((time.perf_counter() - t) / batch_size)
    return out[1:]


def model_seconds(name: str, batch, steps: int) -> tuple[list[float], int]:
    """Seconds per scene of forward + loss + backward + AdamW, and the model's parameter count."""
    cfg = load_train_config(name)
    torch.manual_seed(0)
    model = build_model(cfg["task"], cfg["model"])
    task = TASK_CLASSES[cfg["task"]](**cfg["task_options"])
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=at_least(1), default=6)
    ap.add_argument("--recipes", default=",".join(RECIPES))
    ap.add_argument("--stems", help="a stem corpus (data_gen/stem_corpus.py) to time remixing too")
    ap.add_argument("--out", default="results/bench_training.csv")
    args = ap.parse_args(argv)
    names = args.recipes.split(",")
    base = load_train_config(names[0])
    data = data_config(base)
    generator = statistics.median(data_seconds(SceneStream(data, seed=123), base["batch_size"], args.steps))
    remix = (statistics.median(data_seconds(StemStream(args.stems, seed=123), base["batch_size"], args.steps))
             if args.stems else None)
    rows = []
    for name in names:
        cfg = load_train_config(name)
        batch = next(batches(SceneStream(data_config(cfg), seed=7), cfg["batch_size"]))
        times, n_params = model_seconds(name, batch, args.steps)
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
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.out, df.to_csv(index=False, float_format="%.4f"))
    print(df.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"\nseconds per training scene, medians of {args.steps} steps on one thread; ratios against "
          f"{names[0]} (data from the generator) in the same run. Written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(cli(main))
