"""The paper-size components on a GPU: parity with the CPU, training and inference cost, and the
CPU-size USS trained for a wall budget (benchmarks/gpu/).

    s5bench bench-gpu --device cuda --out results/gpu          # about 8 minutes (the parts' budgets)
    s5bench bench-gpu --device cpu --tiny --out /tmp/gpu_tiny   # tiny shapes, seconds (what CI runs)
    bash runners/gpu_session.sh                                  # the one command for the GPU machine

Writes under --out: parity.csv, training.csv, inference.csv, uss_curve.csv, uss_curve.png,
<recipe>_gpu.pt (the USS's best checkpoint on its validation scenes) and report.md, each part's
files as soon as it is done. docs/gpu.md says what each figure means.
"""
from __future__ import annotations

import argparse
import os
import shlex
import sys

from s5bench.benchmarks.gpu.run import PARTS, run_bench
from s5bench.common.arguments import at_least
from s5bench.common.errors import command


def _main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda", help="the GPU to measure on (torch device name)")
    ap.add_argument("--tiny", action="store_true", help="tiny recipes and shapes (seconds on a CPU)")
    ap.add_argument("--out", default="results/gpu", help="folder of the results")
    ap.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    for part in PARTS:
        ap.add_argument(f"--{part}-seconds", type=float, help=f"wall budget of part {part}")
    ap.add_argument("--workers", type=at_least(0), default=max((os.cpu_count() or 2) - 1, 1),
                    help="data worker processes (default: all cores but one)")
    ap.add_argument("--stream-seconds", type=float, default=30.0, help="time to measure the data stream")
    ap.add_argument("--clip-seconds", type=float, help="clip length of parity and inference")
    ap.add_argument("--uss-recipe", default="uss_cpu", help="the recipe of part uss (e.g. uss_cpu_wide96)")
    ap.add_argument("--uss-stems", help="a stem corpus for part uss (default: the generator's scenes)")
    args = ap.parse_args(argv)
    budgets = {p: getattr(args, f"{p}_seconds") for p in PARTS if getattr(args, f"{p}_seconds") is not None}
    words = sys.argv[1:] if argv is None else argv
    path = run_bench(args.out, args.device, args.tiny, [p for p in args.parts.split(",") if p], budgets,
                     args.workers, args.stream_seconds, args.clip_seconds, args.uss_recipe, args.uss_stems,
                     command="s5bench bench-gpu " + " ".join(shlex.quote(w) for w in words))
    print(path)
    return 0


main = command(_main)  # the one error boundary (common/errors.py): `error: …` and exit status 2


if __name__ == "__main__":
    sys.exit(main())
