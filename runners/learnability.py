"""Is a flat training curve our model's fault or the data's cost? Two readings side by side:

    s5bench learnability --config uss_tiny --runs uss_tiny probe_blstm_uss probe_blstm_separator

1. Ceilings: on the validation scenes of --config, the `sep_gain` (dB over the best-scaled
   mixture) of ideal masks on channel 0, i.e. what a mask-based separator could reach.
2. Curves: the validation `sep_gain` logged by each training run (runs/<config>/log.csv, or
   --work-root), against the number of training scenes it had seen. The probe_blstm_* runs are
   classic BLSTM mask networks trained on the same stream with the same tasks (see
   configs/train/probe_blstm_*.yaml).

Writes results/learnability/{ceilings.csv, curves.csv, summary.md, curves.png}.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from s5bench.benchmarks.learnability import learnability
from s5bench.common.arguments import at_least
from s5bench.common.errors import command


def build_parser() -> argparse.ArgumentParser:
    """The runner's arguments."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="uss_tiny", help="training config whose validation scenes to use")
    ap.add_argument("--n", type=at_least(1), default=32, help="validation scenes for the ceilings")
    ap.add_argument("--n-fft", type=at_least(1), default=1024, help="STFT size of the ideal masks")
    ap.add_argument("--hop", type=at_least(1), default=512, help="STFT hop of the ideal masks")
    ap.add_argument("--runs", nargs="*", default=[], help="training config names whose logs to read")
    ap.add_argument("--work-root", default="runs", help="folder holding the training runs named by --runs")
    ap.add_argument("--out", default=str(Path("results") / "learnability"), help="folder of the results")
    return ap


def _main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    print(learnability(args.config, args.n, args.n_fft, args.hop, args.runs, Path(args.work_root), Path(args.out)))
    return 0


main = command(_main)  # the one error boundary (common/errors.py): `error: …` and exit status 2


if __name__ == "__main__":
    sys.exit(main())
