"""Benchmark: scoring 2026-edition mixtures (CAPI-SDRi and the label metrics), the harness vs a
straightforward implementation of the official algorithm, on one core, in the same run.

    s5bench bench-capi --n 1000

Each mixture is drawn in memory (10 s, 32 kHz, float32, channel 0 only): 0–3 targets, a class
repeated with probability 0.5 when there are two or more (as the 2026 generator does), and
system-like estimates (noisy copies of the targets, some mislabelled, some missed, some false
alarms). Only the scoring is timed, mixture by mixture, for both:
  official-style - torch float32 SNR (torchmetrics' formula) of every combination of references
                   and permutation of estimates of each class, best mean raw SNR, zeros for
                   count mismatches; multiset label counts (docs/task.md §7);
  harness        - metrics.scene.score_mixture(edition=2026), which also computes SNRi.
Prints mixtures per second per core and the largest CAPI-SDRi difference between the two.
"""
from __future__ import annotations

import os
import sys

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core for both, before numpy and torch start their pools

import argparse  # noqa: E402

from s5bench.benchmarks.capi import SECONDS, compare_scorers  # noqa: E402
from s5bench.common.arguments import at_least  # noqa: E402
from s5bench.common.errors import command  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    """The runner's arguments."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=at_least(1), default=1000, help="mixtures scored")
    ap.add_argument("--seconds", type=float, default=SECONDS, help="length of each mixture in seconds")
    ap.add_argument("--seed", type=at_least(0), default=0, help="seed of the drawn mixtures")
    return ap


def _main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    print("\n".join(compare_scorers(args.n, args.seconds, args.seed)))
    return 0


main = command(_main)  # the one error boundary (common/errors.py): `error: …` and exit status 2


if __name__ == "__main__":
    sys.exit(main())
