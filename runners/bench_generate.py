"""Benchmark: rendering 10 s mixtures, the built-in engine vs a straightforward renderer.

    s5bench bench-generate --n 20 --positions 100

Both render the same plans from the same files on disk (source clips written from the
procedural bank into folders, 4-channel PCM noise, synthetic SOFA rooms stored uncompressed,
the layout in which the fork reads one measurement fastest), on one core:
  straightforward - the fork's algorithm (the baseline's SpatialScaper fork): per mixture the
                    room is opened and its positions read; per event one measurement, only the
                    excerpt's frames, one scipy.signal.fftconvolve over all channels and one for
                    the direct path, levels in float64;
  built-in        - data_gen.render.Renderer: rooms opened once per process, IR spectra cached
                    per (room, position), one rFFT per source, one batched inverse FFT for all
                    channels and the direct path, float32.
Prints mixtures per second per core for both, their ratio, and the largest difference between
the two renderings (they must agree).
"""
from __future__ import annotations

import argparse
import os
import sys

from s5bench.benchmarks.rendering import compare_renderers
from s5bench.common.arguments import at_least
from s5bench.common.errors import command


def build_parser() -> argparse.ArgumentParser:
    """The runner's arguments."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=at_least(1), default=20, help="mixtures rendered by each renderer")
    ap.add_argument("--positions", type=at_least(1), default=100, help="measured positions per SOFA room")
    ap.add_argument("--rooms", type=at_least(1), default=3, help="synthetic rooms the plans draw from")
    return ap


def _main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    print("\n".join(compare_renderers(args.n, args.positions, args.rooms)))
    return 0


main = command(_main)  # the one error boundary (common/errors.py): `error: …` and exit status 2


if __name__ == "__main__":
    sys.exit(main())
