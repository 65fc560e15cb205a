"""Benchmark: the cost of one training scene (data + forward + backward + optimiser step) of each
CPU-size USS candidate, against the tiny DeFT-Mamba USS, measured in one run on one thread.

    s5bench bench-training [--steps 6] [--stems data/stems_train]

Each model is trained for `--steps` steps of its recipe's batch on the USS task (the real loss,
PIT and metrics); the data cost is measured separately for the generator's scene stream and, with
`--stems`, for remixes of a stem corpus. Medians over the steps (the first is dropped: warm-up);
ratios are taken against `uss_tiny` in the same process, so a busy machine inflates the times
but not the ratios. Writes results/bench_training.csv.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one thread per process, as the training runs use

import argparse  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from s5bench.benchmarks.training_cost import RECIPES, training_cost_table  # noqa: E402
from s5bench.common.arguments import at_least  # noqa: E402
from s5bench.common.audio import write_text_atomic  # noqa: E402
from s5bench.common.errors import command  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    """The runner's arguments."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=at_least(1), default=6, help="training steps per model (the first is dropped)")
    ap.add_argument("--recipes", default=",".join(RECIPES), help="comma-separated training recipes to measure")
    ap.add_argument("--stems", help="a stem corpus (data_gen/stem_corpus.py) to time remixing too")
    ap.add_argument("--out", default="results/bench_training.csv", help="the CSV written")
    return ap


def _main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    names = args.recipes.split(",")
    df = training_cost_table(names, args.steps, args.stems)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.out, df.to_csv(index=False, float_format="%.4f"))
    print(df.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"\nseconds per training scene, medians of {args.steps} steps on one thread; ratios against "
          f"{names[0]} (data from the generator) in the same run. Written: {args.out}")
    return 0


main = command(_main)  # the one error boundary (common/errors.py): `error: …` and exit status 2


if __name__ == "__main__":
    sys.exit(main())
