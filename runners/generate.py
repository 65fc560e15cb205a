"""Generate S5 mixtures in the official test layout.

    s5bench generate --config builtin_test --out data/builtin_test --n 100 --seed 0 --jobs 2
    s5bench generate --config dcase2025_official --from-metadata $S5_DEV_SET/metadata/valid --out OUT
    s5bench generate --config builtin_test --n 100 --seed 7 --out EVAL --references-out REFS  # hidden set
    s5bench generate --verify DIR

Writes soundscape/<mix>.wav (4-channel FOA), oracle_target/<mix>_<Label>.wav (dry targets at
channel 0), metadata/<mix>.json (the scene plan), index.json and manifest.json (every complete
mixture's files with their sizes and sha256; `--verify DIR` checks a folder against it);
--stems adds interference and noise stems; --plot writes spectrograms of the first mixture and its references.
Re-running keeps complete mixtures and redoes partial ones. Any --jobs gives the same files,
byte for byte (no timestamps in the headers), so the data fingerprint identifies a data set.
"""
from __future__ import annotations

import argparse
import os
import sys

from s5bench.common.arguments import at_least
from s5bench.common.audio import SUBTYPES
from s5bench.common.cpu_memory import keep_freed_memory
from s5bench.common.errors import S5Error, command
from s5bench.common.manifest import MANIFEST, verify_dataset
from s5bench.data_gen.config import load_config
from s5bench.data_gen.evaluation_set import check_apart, export_evaluation_set
from s5bench.data_gen.writer import generate_set, render_metadata_folder


def _main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--verify", metavar="DIR", help="check a data folder against its manifest.json (every "
                    "file's size and sha256), or by the layout rules when it has none, and exit")
    ap.add_argument("--config", help="name in configs/data/ or a YAML path")
    ap.add_argument("--out", help="the data set's folder (made if missing; a stopped run resumes into it)")
    ap.add_argument("--n", type=at_least(1), help="number of mixtures to draw (not with --from-metadata)")
    ap.add_argument("--from-metadata", metavar="DIR",
                    help="render every plan JSON in DIR (the fork's metadata, e.g. dev_set/metadata/valid) "
                         "with the recipe's banks, instead of drawing new scenes")
    ap.add_argument("--references-out", metavar="DIR",
                    help="write an evaluation set: the full set (references, plans, manifest) goes to DIR, and "
                         "--out gets the mixtures only (soundscape/ and its manifest), e.g. a hidden test set")
    ap.add_argument("--seed", type=at_least(0), default=0,
                    help="the set's seed: mixture i depends only on (recipe, seed, i)")
    ap.add_argument("--jobs", type=at_least(1), default=os.cpu_count() or 1,
                    help="worker processes (default: the CPU count); any number gives the same files")
    ap.add_argument("--stems", action="store_true", help="also write interference and noise stems")
    ap.add_argument("--plot", action="store_true", help="spectrograms of the first mixture and its references")
    ap.add_argument("--subtype", choices=SUBTYPES, default=None,
                    help="audio sample format (default: the config's `subtype`, else FLOAT; "
                         "the official sets are PCM_16)")
    args = ap.parse_args(argv)
    if args.verify:
        return verify(args.verify)
    if not (args.config and args.out):
        ap.error("--config and --out are required (or --verify DIR)")
    keep_freed_memory()
    try:  # S5Error and OSError go to the boundary as they are; an optional package missing gets the recipe named
        if (args.n is None) == (args.from_metadata is None):
            raise S5Error("give either --n (draw new scenes) or --from-metadata DIR (render existing plans)")
        cfg = load_config(args.config)
        full = args.references_out or args.out  # an evaluation set is made from a full one
        if args.references_out:
            check_apart(full, args.out)  # before anything is drawn
        if args.from_metadata:
            summary = render_metadata_folder(cfg, args.from_metadata, full, stems=args.stems,
                                             subtype=args.subtype)
        else:
            summary = generate_set(cfg, full, args.n, args.seed, jobs=args.jobs, stems=args.stems,
                                   subtype=args.subtype)
        if args.references_out:
            n_eval = export_evaluation_set(full, args.out)
    except ImportError as err:
        raise S5Error(f"data config {args.config}: {err} (an optional package it needs is not installed)") from err
    print(f"{summary['made']} made, {summary['kept']} kept from an earlier run "
          f"({summary['redone']} partial ones redone), {summary['total']} in {args.out}, "
          f"{summary['seconds']:.1f} s")
    if args.references_out:
        print(f"evaluation set: {n_eval} mixtures in {args.out} (mixtures only); references and plans in {full}")
    print("targets per class made now: " + ", ".join(f"{k} {v}" for k, v in summary["class_counts"].items()))
    for line in summary["sources"]:
        print(f"sources, {line}")
    for line in summary["warnings"]:
        print(f"warning: {line}", file=sys.stderr)
    if args.plot:
        from s5bench.data_gen.plots import plot_mixture

        path = plot_mixture(args.out)
        print(f"spectrograms: {path}")
    return 0


def verify(folder) -> int:
    verdict = verify_dataset(folder, checksums=True)  # a DatasetError (an S5Error) goes to the boundary
    if not verdict.ok:
        raise S5Error(verdict.message())
    how = (f"every file's size and sha256 match its {MANIFEST}" if verdict.has_manifest else
           f"no {MANIFEST}: the layout rules hold, but completeness cannot be verified")
    print(f"{folder}: {verdict.n_mixtures} mixtures, {how}")
    return 0


main = command(_main)  # the one error boundary (common/errors.py): `error: …` and exit status 2


if __name__ == "__main__":
    sys.exit(main())
