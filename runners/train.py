"""Train one component of a system from the on-the-fly scene stream.

    s5bench train --config uss_tiny [--work runs/uss_tiny] [--device cuda] [--steps N]
        [--amp bfloat16] [--log-every 50] [--num-workers 15]
    torchrun --nproc_per_node 4 -m s5bench.runners.train --config uss_paper --device cuda

Resumes from <work>/last.pt when it exists; logs to <work>/log.csv; exports the best checkpoint
to the config's `export` path with the command, data seed and training time recorded in it.
"""
from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from s5bench.common.arguments import at_least
from s5bench.common.cpu_memory import keep_freed_memory
from s5bench.common.errors import S5Error, command
from s5bench.systems.training.export import export
from s5bench.systems.training.recipes import known_train_configs, load_train_config
from s5bench.systems.training.trainer import logged_seconds, train


def _main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True, help=f"a file or one of: {', '.join(known_train_configs())}")
    ap.add_argument("--work", help="work folder (default runs/<config name>)")
    ap.add_argument("--device", default="cpu", help="torch device to train on (cpu, cuda)")
    ap.add_argument("--steps", type=at_least(1), help="override the config's number of steps")
    ap.add_argument("--amp", choices=("off", "bfloat16", "float16"),
                    help="override the config's mixed precision on a GPU (the CPU always runs float32)")
    ap.add_argument("--log-every", type=at_least(1),
                    help="a log row every N steps (the loss is read back to the host only then)")
    ap.add_argument("--num-workers", type=at_least(0), help="override the config's data worker processes")
    ap.add_argument("--export", help="override the config's export path ('' for none)")
    ap.add_argument("--export-only", action="store_true",
                    help="export <work>/best.pt to the config's export path without training "
                         "(e.g. after stopping early)")
    ap.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = ap.parse_args(argv)
    keep_freed_memory()
    cfg = load_train_config(args.config)
    if args.steps is not None:
        cfg["steps"] = args.steps
    if args.export is not None:
        cfg["export"] = args.export or None
    if args.amp is not None:
        cfg["amp"] = args.amp != "off"
        cfg["amp_dtype"] = cfg["amp_dtype"] if args.amp == "off" else args.amp
    for key in ("log_every", "num_workers"):
        if getattr(args, key) is not None:
            cfg[key] = getattr(args, key)
    work = args.work or f"runs/{cfg['name']}"
    words = argv if argv is not None else sys.argv[1:]
    command = "s5bench train " + " ".join(shlex.quote(a) for a in words)
    if args.export_only:
        if not cfg["export"]:
            raise S5Error(f"--export-only: training config {args.config} names no `export` path (give --export PATH)")
        # the run's training time is in its log: the record's train_seconds must not be empty
        print(export(cfg, Path(work), command=command + "  (exported from the last validated step)",
                     seconds=logged_seconds(Path(work) / "log.csv")))
        return
    result = train(cfg, work, device=args.device, progress=not args.no_progress, command=command)
    print(result)
    return 0


main = command(_main)  # the one error boundary (common/errors.py): `error: …` and exit status 2


if __name__ == "__main__":
    sys.exit(main())
