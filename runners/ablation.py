"""Regenerate the paper's Table 1: the self-guided pipeline's ablation stages.

    python runners/ablation.py --config fss3_cp3            # one stage (the submission)
    python runners/ablation.py --all                        # the five stages, one pass of the pipeline
    python runners/ablation.py --all --data DIR --system self_guided_paper --device cuda
    torchrun --nproc_per_node 2 runners/ablation.py --all   # mixtures sharded over ranks

Without --data, the built-in synthetic test set (seed 0; its first 20 mixtures unless --n says
otherwise, --n 100 for all) is generated on first use under data/ and reused. Writes
results/table1.csv (+ .md, .meta.json, .png), results/table1_per_mixture/<stage>.csv,
results/table1_per_class.png, results/table1_separation.csv (per stage, what the true-positive
estimates add beyond a rescaled mixture: metrics/separation.py; printed under the table), and
the web report results/report/index.html (--no-report skips it). Measured figures and the
paper's (columns `published_*`) are never in the same column. Interrupted runs resume.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from s5bench.common.arguments import at_least
from s5bench.common.audio import write_text_atomic
from s5bench.common.cpu_memory import keep_freed_memory
from s5bench.common.editions import add_edition_argument, ranking_metric
from s5bench.common.provenance import data_fingerprint
from s5bench.metrics.separation import stage_separation
from s5bench.runners.published import PUBLISHED_TABLE1
from s5bench.runners.report import build_report
from s5bench.runners.run_folders import (
    BUILTIN,
    build_with,
    builtin_test_set,
    check_test_set,
    copy_per_mixture,
    provenance,
    run_dir_for,
)
from s5bench.runners.table_files import plot_per_class, plot_table1, write_table
from s5bench.systems.distributed import shard_info
from s5bench.systems.run import run_system
from s5bench.systems.self_guided import iterations_for, stage_names

TABLE1 = stage_names(3)
COLUMNS = ["config", "CA-SDRi", "SNRi", "Acc_src", "Acc_mix", "published_CA-SDRi", "published_SNRi",
           "published_Acc_src"]


def parse_stage(name: str) -> str:
    name = name.strip().lower().replace("+", "_")
    k = None
    try:
        k = iterations_for(name)
    except ValueError:
        pass
    if k is None or name not in stage_names(max(k, 3)):
        raise ValueError(f"unknown ablation config {name!r}; known: {', '.join(TABLE1)} "
                         "(and fss{k}_cp{k} for k > 3)")
    return name


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument("--config", help=f"one stage: {', '.join(TABLE1)} or fss<k>_cp<k>")
    which.add_argument("--all", action="store_true", help="the five stages of Table 1")
    ap.add_argument("--data", help="test set in the official layout (default: the built-in synthetic one)")
    ap.add_argument("--n", type=at_least(1), default=BUILTIN["n"],
                    help="mixtures of the built-in set (default 20; 100 = all)")
    ap.add_argument("--system", default="self_guided_cpu",
                    help="a self-guided system config (configs/systems); default: the CPU size class")
    ap.add_argument("--out", default="results")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch-size", type=at_least(1), default=4)
    ap.add_argument("--jobs", type=at_least(1), default=2, help="scoring processes")
    ap.add_argument("--no-report", action="store_true", help="skip the web report (results/report/index.html)")
    add_edition_argument(ap)
    args = ap.parse_args(argv)
    keep_freed_memory()
    try:
        stages = list(TABLE1) if args.all else [parse_stage(args.config)]
        data = check_test_set(args.data) if args.data else builtin_test_set(args.n, edition=args.edition)
        iterations = max(iterations_for(s) for s in stages)
        system, cfg = build_with(args.system, iterations=iterations)
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    rank, _ = shard_info()
    results = Path(args.out)
    fingerprint = data_fingerprint(data)
    run_dir = run_dir_for(args.system, cfg, fingerprint, results, args.edition)
    t0 = time.perf_counter()
    try:
        summaries = run_system(system, data, run_dir, device=args.device, batch_size=args.batch_size,
                               jobs=args.jobs, stages=stages, edition=args.edition)
    except (FileNotFoundError, ValueError) as err:  # a bad file of the data set: named, no traceback
        print(f"error: {err}", file=sys.stderr)
        return 2
    if rank > 0:
        return 0
    assert summaries is not None  # rank 0 scores (check_test_set: the set has its oracle targets)
    metric = ranking_metric(args.edition)
    rows = []
    for stage in stages:
        pub = PUBLISHED_TABLE1.get(stage, (float("nan"),) * 3)
        s = summaries[stage]
        rows.append({"config": stage, metric: s[metric], "SNRi": s["SNRi"], "Acc_src": s["Acc_src"],
                     "Acc_mix": s["Acc_mix"], "published_CA-SDRi": pub[0], "published_SNRi": pub[1],
                     "published_Acc_src": pub[2]})
        copy_per_mixture(run_dir, stage, results / "table1_per_mixture" / f"{stage}.csv")
    df = pd.DataFrame(rows, columns=["config", metric] + COLUMNS[2:])
    note = (f"Measured: {args.system} on {data} ({summaries[stages[0]]['n_mixtures']} mixtures, "
            f"scored as the DCASE {args.edition} edition). "
            "`published_*`: the paper's Table 1 (dev test set, paper-size models), shown for reference, "
            "not measured here. dB for CA-SDRi/SNRi, % for accuracies.")
    csv = results / "table1.csv"
    write_table(df, csv, "Table 1: ablation of the self-guided pipeline", note,
                **provenance(args.system, cfg, data, fingerprint, stages=stages, run_dir=str(run_dir),
                             edition=args.edition, seed=BUILTIN["seed"] if not args.data else None,
                             seconds=time.perf_counter() - t0))
    plot_table1(df, results / "table1.png")
    plot_per_class(run_dir / stages[-1] / "per_class.csv", results / "table1_per_class.png",
                   f"per-class CA-SDRi, {stages[-1]} ({args.system})")
    print(df.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    separation = stage_separation(data, run_dir, stages, args.edition)
    write_text_atomic(results / "table1_separation.csv", separation.to_csv(index=False, float_format="%.4f"))
    print("\nseparation beyond a rescaled mixture, SNR(est, ref) - SNR(a*x0, ref) on true-positive estimates "
          "(mean dB, pairs): " + ", ".join(f"{r['config']} {r['sep_gain_mean']:+.2f} ({r['tp_pairs']})"
                                           for r in separation.to_dict("records")))
    print(f"\nwritten: {csv} (+ .md, .meta.json, .png), {results / 'table1_separation.csv'}, "
          f"{results / 'table1_per_mixture'}/")
    if not args.no_report:
        print(f"report: {build_report(results, progress=False)} (open it in a browser)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
