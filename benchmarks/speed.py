"""Inference speed per model and per pipeline stage (runners/bench_speed.py): the five timed model
calls of one size class, the self-guided pipeline's stages as cumulative sums, the baseline."""
from __future__ import annotations

import time
from collections.abc import Callable

import pandas as pd
import torch

from s5bench.common.cpu_memory import keep_freed_memory

from .model_calls import model_calls


def timed(fn: Callable[[], object], repeats: int) -> float:
    """The shortest wall time in seconds of `repeats` calls of `fn`, after one warm-up call."""
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


@torch.no_grad()
def bench_size(size: str, seconds: float, device: str, repeats: int, allocator: str) -> list[dict]:
    """The rows of one size class: each model, each pipeline stage (all 3 slots active), the baseline.

    Args:
        size: "tiny" or "paper".
        seconds: clip length.
        device: where the models run.
        repeats: timed calls per model (the best is kept).
        allocator: "kept", "glibc" or "both" (common/cpu_memory.py; "both" adds the column x_glibc).

    Returns:
        One dict per row: size, allocator, what, audio_s, compute_s, RTF, x_baseline, params_M.
    """
    models, calls = model_calls(size, seconds, device)
    if allocator == "both":
        keep_freed_memory(False)
        t_glibc = {k: timed(f, repeats) for k, f in calls.items()}
    keep_freed_memory(allocator != "glibc")
    t = {k: timed(f, repeats) for k, f in calls.items()}
    rows = []
    base = t["tagger"] + t["separator"]

    def add(name, sec, params):
        rows.append({"size": size, "allocator": allocator.replace("both", "kept"), "what": name, "audio_s": seconds,
                     "compute_s": sec, "RTF": sec / seconds, "x_baseline": sec / base, "params_M": params})

    n = {k: sum(p.numel() for p in m.parameters()) / 1e6 for k, m in models.items()}
    pairs = (("uss", "uss"), ("sc x3", "sc"), ("tse x3", "tse"), ("tagger", "tagger"), ("separator", "separator"))
    for k, key in pairs:
        add(f"model {k}", t[k], n[key])
        if allocator == "both":
            rows[-1]["x_glibc"] = t_glibc[k] / t[k]
    stages = {"fss1_cp1": t["uss"]}
    stages["fss1_cp1-1"] = stages["fss1_cp1"] + t["sc x3"]
    stages["fss2_cp1-1"] = stages["fss1_cp1-1"] + t["tse x3"]
    stages["fss2_cp2"] = stages["fss2_cp1-1"] + t["sc x3"]
    stages["fss3_cp3"] = stages["fss2_cp2"] + t["tse x3"] + t["sc x3"]
    pipe_params = n["uss"] + n["sc"] + n["tse"]
    for name, sec in stages.items():
        add(f"stage {name}", sec, pipe_params)
    add("baseline (tagger + ResUNetK)", base, n["tagger"] + n["separator"])
    return rows


def speed_table(sizes: list[str], seconds: float, paper_seconds: float, device: str, repeats: int,
                allocator: str) -> pd.DataFrame:
    """`bench_size` of each size class, as one table.

    Args:
        sizes: size classes, e.g. ["tiny", "paper"].
        seconds: clip length of the tiny models.
        paper_seconds: clip length of the other sizes.
        device, repeats, allocator: as `bench_size`.

    Returns:
        The rows of every size, in order.
    """
    rows = []
    for size in sizes:
        sec = seconds if size == "tiny" else paper_seconds
        rows += bench_size(size, sec, device, repeats, allocator)
    return pd.DataFrame(rows)
