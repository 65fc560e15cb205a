"""Benchmark: scoring a test set from its files, whole process on one CPU, against the official 2025
scoring loop's algorithm and against a plain read of the same files (benchmarks/scoring.py).

    s5bench generate --config builtin_test --n 187 --seed 0 --jobs 1 --out /tmp/s5_scoring
    s5bench bench-evaluate --data /tmp/s5_scoring --rounds 5

Estimates are written beside the data set on the first run (`<data>_estimates/`: noisy copies of
most targets, some misses, some false alarms). Each contender is its own Python process, pinned
to one CPU; they take turns round after round. Prints each one's median wall-clock and CPU time,
the paired ratios, and the largest CA-SDRi difference between the harness and the official loop
(float32 there, float64 here).
"""
from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import tempfile
from pathlib import Path

from s5bench.benchmarks.scoring import contenders, official_loop, paired_ratio, paired_runs, write_estimates
from s5bench.common.arguments import at_least
from s5bench.common.errors import S5Error, command
from s5bench.common.layout import ORACLE_DIR, SOUNDSCAPE_DIR


def _main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="a 2025 test set in the official layout (runners/generate.py)")
    ap.add_argument("--estimates", help="the estimates' folder (default <data>_estimates, written if missing)")
    ap.add_argument("--rounds", type=at_least(1), default=5, help="timed rounds (default %(default)s)")
    ap.add_argument("--cpu", type=int, default=max(os.sched_getaffinity(0)), help="the CPU every process is "
                    "pinned to (default: the highest this process may use)")
    args = ap.parse_args(argv)
    data = Path(args.data)
    if not (data / SOUNDSCAPE_DIR).is_dir() or not (data / ORACLE_DIR).is_dir():
        raise S5Error(f"--data {data}: no {SOUNDSCAPE_DIR}/ and {ORACLE_DIR}/ folders (make a test set with "
                      "runners/generate.py)")
    estimates = Path(args.estimates or f"{data}_estimates")
    if not estimates.is_dir():
        print(f"writing estimates to {estimates}: {write_estimates(data, estimates)} files")
    folders = (data / SOUNDSCAPE_DIR, data / ORACLE_DIR, estimates)
    n_files = sum(len(list(f.glob("*.wav"))) for f in folders)
    with tempfile.TemporaryDirectory() as out:
        runs = contenders(*folders, Path(out))
        load_before = os.getloadavg()
        times = paired_runs(runs, args.rounds, args.cpu)
        load_after = os.getloadavg()
        with open(Path(out) / "per_mixture.csv", newline="") as f:
            scored = {row["soundscape"]: float(row["ca_sdri"] or "nan") for row in csv.DictReader(f)}
    official = official_loop(*folders)
    worst = max(abs(official[m] - scored[m]) for m in official)
    print(f"{len(official)} mixtures, {n_files} files; every process pinned to CPU {args.cpu} of "
          f"{os.cpu_count()}; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after; "
          f"{args.rounds} rounds after one untimed")
    for name, runs_of in times.items():
        print(f"  {name:14s} wall {statistics.median(t.wall for t in runs_of):6.2f} s   "
              f"CPU {statistics.median(t.cpu for t in runs_of):6.2f} s   (medians)")
    for field in ("wall", "cpu"):
        print(f"{field:4s}: evaluate is {paired_ratio(times['official loop'], times['evaluate'], field):.2f}x faster "
              f"than the official loop, and takes {paired_ratio(times['evaluate'], times['plain read'], field):.2f}x "
              "a plain read (medians of the paired ratios)")
    print(f"largest CA-SDRi difference from the official loop (float32): {worst:.1e} dB")
    return 0


main = command(_main)  # the one error boundary (common/errors.py): `error: …` and exit status 2


if __name__ == "__main__":
    sys.exit(main())
