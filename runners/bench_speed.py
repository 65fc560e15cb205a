"""Inference speed per model and per pipeline stage: CPU real-time factor (compute seconds per
second of audio; < 1 is faster than real time), tiny and paper/official sizes, randomly
initialised (weights do not change the cost).

    python runners/bench_speed.py [--seconds 10] [--paper-seconds 4] [--device cpu] [--out results/speed.csv]
    python runners/bench_speed.py --sizes tiny --allocator both --out results/speed_allocator.csv

Per stage of the self-guided pipeline the cost is cumulative, with all 3 slots active (worst
case): fss1_cp1 = USS; fss1_cp1-1 = + 3 SC; fss2_cp1-1 = + 3 TSE; fss2_cp2 = + 3 SC;
fss3_cp3 = + 3 TSE + 3 SC. The baseline is tagger + ResUNetK; the pipeline's final stage is
given as a ratio to the baseline of the same size class (column x_baseline), measured in the
same process on the same clip.

On the CPU the runners keep freed memory in the process (common/cpu_memory.py);
`--allocator both` times every model first with glibc's own settings, then with freed memory
kept, and gives the ratio (column x_glibc: glibc time / kept time, > 1 means kept is faster).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd
import torch

from s5bench.common.arguments import at_least
from s5bench.common.audio import write_text_atomic
from s5bench.common.cpu_memory import keep_freed_memory
from s5bench.common.errors import cli
from s5bench.systems.model_calls import model_calls


def timed(fn, repeats: int) -> float:
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


@torch.no_grad()
def bench_size(size: str, seconds: float, device: str, repeats: int, allocator: str) -> list[dict]:
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10.0, help="clip length for the tiny models")
    ap.add_argument("--paper-seconds", type=float, default=4.0, help="clip length for the paper-size models")
    ap.add_argument("--sizes", default="tiny,paper")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeats", type=at_least(1), default=2)
    ap.add_argument("--allocator", choices=("kept", "glibc", "both"), default="kept",
                    help="CPU memory allocator settings (see common/cpu_memory.py)")
    ap.add_argument("--out", default="results/speed.csv")
    args = ap.parse_args(argv)
    rows = []
    for size in args.sizes.split(","):
        sec = args.seconds if size == "tiny" else args.paper_seconds
        rows += bench_size(size, sec, args.device, args.repeats, args.allocator)
    df = pd.DataFrame(rows)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out, df.to_csv(index=False, float_format="%.4f"))
    print(f"device {args.device}, torch threads {torch.get_num_threads()}")
    print(df.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    sys.exit(cli(main))
