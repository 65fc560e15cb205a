"""Inference speed per model and per pipeline stage: CPU real-time factor (compute seconds per
second of audio; < 1 is faster than real time), tiny and paper/official sizes, randomly
initialised (weights do not change the cost).

    s5bench bench-speed [--seconds 10] [--paper-seconds 4] [--device cpu] [--out results/speed.csv]
    s5bench bench-speed --sizes tiny --allocator both --out results/speed_allocator.csv

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
from pathlib import Path

import torch

from s5bench.benchmarks.speed import speed_table
from s5bench.common.arguments import at_least
from s5bench.common.audio import write_text_atomic
from s5bench.common.errors import command


def build_parser() -> argparse.ArgumentParser:
    """The runner's arguments."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10.0, help="clip length for the tiny models")
    ap.add_argument("--paper-seconds", type=float, default=4.0, help="clip length for the paper-size models")
    ap.add_argument("--sizes", default="tiny,paper", help="comma-separated model sizes to time (tiny, paper)")
    ap.add_argument("--device", default="cpu", help="torch device to run on")
    ap.add_argument("--repeats", type=at_least(1), default=2, help="timed calls per model (the median is shown)")
    ap.add_argument("--allocator", choices=("kept", "glibc", "both"), default="kept",
                    help="CPU memory allocator settings (see common/cpu_memory.py)")
    ap.add_argument("--out", default="results/speed.csv", help="the CSV written")
    return ap


def _main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    df = speed_table(args.sizes.split(","), args.seconds, args.paper_seconds, args.device, args.repeats,
                     args.allocator)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out, df.to_csv(index=False, float_format="%.4f"))
    print(f"device {args.device}, torch threads {torch.get_num_threads()}")
    print(df.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


main = command(_main)  # the one error boundary (common/errors.py): `error: …` and exit status 2


if __name__ == "__main__":
    sys.exit(main())
