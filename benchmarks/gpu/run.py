"""bench-gpu's driver: the parts in order, each with its own wall budget, each writing its CSV as
it goes and the Markdown summary after it; a part that fails or is interrupted leaves the others'
files (and its own rows so far) in place."""
from __future__ import annotations

import datetime
import time
import traceback
from pathlib import Path

import torch

from s5bench.common.errors import S5Error

from . import environment, inference, parity, report, training, uss_budget
from .common import Budget

PARTS = ("parity", "training", "inference", "uss")
# seconds per part: on a device (about 8 minutes in all) and at tiny shapes on a CPU (seconds)
BUDGETS = {"device": {"parity": 45, "training": 120, "inference": 40, "uss": 270},
           # tiny: caps far above an idle run (about 28 s in all), so a loaded CI machine still finishes each part
           "tiny": {"parity": 120, "training": 150, "inference": 60, "uss": 3}}


def check_device(device: str) -> None:
    """Raises S5Error for a CUDA device this process cannot use (before any part starts)."""
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise S5Error(f"device {device!r} asked for, but torch {torch.__version__} sees no CUDA device")


def run_bench(out_dir, device: str = "cuda", tiny: bool = False, parts=PARTS, budgets: dict | None = None,
              workers: int = 15, stream_seconds: float = 30.0, clip_s: float | None = None,
              uss_recipe: str = "uss_cpu", uss_stems: str | None = None, command: str = "") -> Path:
    """Run the chosen parts into out_dir; returns the path of report.md.

    Args:
        out_dir: output folder (created).
        device: "cuda", "cuda:N" or "cpu".
        tiny: tiny recipes and shapes (seconds on a CPU; what the tests run).
        parts: a subset of PARTS, run in PARTS order.
        budgets: seconds per part (default BUDGETS for the mode).
        workers: data worker processes for the stream rate and the USS run.
        stream_seconds: the stream's share of the training part.
        clip_s: clip length for parity and inference (default at paper size: 2 s for parity, whose
            CPU side is the slow one, 10 s for inference; 1 s at tiny shapes).
        uss_recipe: the recipe of part 4.
        uss_stems: a stem corpus for part 4 (default: the generator's scenes).
        command: the command line, for the summary.

    Raises:
        S5Error: an unknown part, or a CUDA device that is not there.
    """
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise S5Error(f"unknown part(s) {', '.join(unknown)}; the parts are {', '.join(PARTS)}")
    check_device(device)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    budgets = {**BUDGETS["tiny" if tiny else "device"], **(budgets or {})}
    t0 = time.monotonic()
    meta = {"command": command or "(library call)", "device": device, "tiny shapes": tiny,
            "started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "budgets (s)": ", ".join(f"{p} {budgets[p]}" for p in PARTS if p in parts)}
    env = environment.describe(device)
    print(f"environment: {env}", flush=True)
    calls = {
        "parity": lambda b: parity.run(out, device, tiny, b, clip_s or (1.0 if tiny else 2.0)),
        "training": lambda b: training.run(out, device, tiny, b, workers,
                                           min(stream_seconds, b.seconds / (5 if tiny else 2))),
        "inference": lambda b: inference.run(out, device, tiny, b, clip_s or (1.0 if tiny else 10.0)),
        "uss": lambda b: uss_budget.train_for(uss_recipe, out, device, tiny, b, workers, uss_stems),
    }
    path = report.write(out, env, meta)
    chosen = [p for p in PARTS if p in parts]
    # one deadline for the whole run: a part that overran shortens the parts after it
    deadline = time.monotonic() + sum(budgets[p] for p in chosen)
    try:
        for i, part in enumerate(chosen):
            started = time.monotonic()
            later = sum(budgets[p] for p in chosen[i + 1:])
            seconds = max(min(budgets[part], deadline - started - 0.5 * later), 0.2 * budgets[part])
            try:
                calls[part](Budget(seconds))
                meta[f"part {part}"] = f"done in {time.monotonic() - started:.0f} s (budget {seconds:.0f} s)"
            except Exception as err:  # noqa: BLE001 (the next part still runs; the traceback goes to the log)
                traceback.print_exc()
                meta[f"part {part}"] = f"failed after {time.monotonic() - started:.0f} s: {type(err).__name__}: {err}"
            meta["wall seconds"] = f"{time.monotonic() - t0:.0f}"
            meta["wall seconds"] = meta.pop("wall seconds")  # listed last
            path = report.write(out, env, meta)
            print(f"== part {part}: {meta[f'part {part}']}", flush=True)
    except KeyboardInterrupt:  # the session's time limit (SIGINT): keep the summary of what finished
        meta["stopped"] = f"interrupted after {time.monotonic() - t0:.0f} s"
        path = report.write(out, env, meta)
        raise
    return path
