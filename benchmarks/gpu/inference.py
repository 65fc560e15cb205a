"""Part 3, inference: real-time factor (compute seconds per second of audio) of the self-guided
pipeline at paper size, stage by stage, and of the paper-size 2025 baseline (M2D-AT tagger +
ResUNetK), on one 10-s clip, in one process, and their ratio (column x_baseline).

As runners/bench_speed.py counts them: the stages are cumulative model calls with all 3 slots
active (the worst case): fss1_cp1 = USS; fss1_cp1-1 = + 3 SC; fss2_cp1-1 = + 3 TSE;
fss2_cp2 = + 3 SC; fss3_cp3 = + 3 TSE + 3 SC. Random weights (they do not change the cost).
"""
from __future__ import annotations

import contextlib
from pathlib import Path

import torch

from ..model_calls import model_calls
from .common import Budget, free_device, median, n_params_m, timed_calls, write_csv

COLUMNS = ("what", "precision", "audio_s", "compute_s", "RTF", "x_baseline", "params_M", "calls_timed", "status")



def stage_times(t: dict[str, float]) -> dict[str, float]:
    """Cumulative compute of the pipeline's five stages from the time of each model call."""
    stages = {"fss1_cp1": t["uss"]}
    stages["fss1_cp1-1"] = stages["fss1_cp1"] + t["sc x3"]
    stages["fss2_cp1-1"] = stages["fss1_cp1-1"] + t["tse x3"]
    stages["fss2_cp2"] = stages["fss2_cp1-1"] + t["sc x3"]
    stages["fss3_cp3"] = stages["fss2_cp2"] + t["tse x3"] + t["sc x3"]
    return stages


@torch.no_grad()
def measure(device: str, tiny: bool, seconds: float, precision: str, budget: Budget, repeats: int) -> list[dict]:
    models, calls = model_calls("tiny" if tiny else "paper", seconds, device)
    amp = (torch.autocast(torch.device(device).type, dtype=torch.bfloat16) if precision == "bfloat16"
           else contextlib.nullcontext())
    t, n = {}, {}
    with amp:
        for i, (key, fn) in enumerate(calls.items()):
            share = Budget(budget.left() / (len(calls) - i))
            times = timed_calls(fn, device, repeats, share)
            t[key], n[key] = median(times), len(times)
    params = {k: n_params_m(m) for k, m in models.items()}
    models.clear()
    free_device(device)
    base = t["tagger"] + t["separator"]

    def row(what, sec, p, calls_timed):
        return {"what": what, "precision": precision, "audio_s": seconds, "compute_s": sec, "RTF": sec / seconds,
                "x_baseline": sec / base, "params_M": p, "calls_timed": calls_timed, "status": "done"}

    names = {"uss": "uss", "sc x3": "sc", "tse x3": "tse", "tagger": "tagger", "separator": "separator"}
    rows = [row(f"model {k}", t[k], params[names[k]], n[k]) for k in calls]
    pipe = params["uss"] + params["sc"] + params["tse"]
    rows += [row(f"stage {s}", sec, pipe, None) for s, sec in stage_times(t).items()]
    rows.append(row("baseline (tagger + ResUNetK)", base, params["tagger"] + params["separator"], None))
    return rows


def run(out_dir: Path, device: str, tiny: bool, budget: Budget, seconds: float, repeats: int = 5) -> Path:
    """float32 first, then bfloat16 autocast with what is left; inference.csv after each."""
    path = Path(out_dir) / "inference.csv"
    rows = []
    for i, precision in enumerate(("float32", "bfloat16")):
        if budget.over():
            rows.append({"what": "all", "precision": precision, "status": "skipped: time budget spent"})
        else:
            try:
                rows += measure(device, tiny, seconds, precision, Budget(budget.left() / (2 - i)), repeats)
            except (RuntimeError, ValueError) as err:
                free_device(device)
                rows.append({"what": "all", "precision": precision,
                             "status": f"failed: {type(err).__name__}: {err}"[:300]})
        write_csv([{c: r.get(c) for c in COLUMNS} for r in rows], path)
        print(f"inference: {precision} done", flush=True)
    return path
