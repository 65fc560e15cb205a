"""Table 2 in the leaderboard's form: systems as rows, CA-SDRi and Acc_mix on each data set.

    python runners/leaderboard.py                                   # CPU-size baseline + pipeline, built-in set
    python runners/leaderboard.py --systems baseline_cpu,self_guided_cpu,my_system \
        --data test=data/dev_set/test --data eval=path/to/eval_with_references

Measured rows (kind = measured) fill the `<data>_CA-SDRi` / `<data>_Acc_mix` columns; the paper's
leaderboard rows (kind = published) fill only `published_eval_*` / `published_test_*`. A system's
row is its final stage. Writes results/table2.csv (+ .md, .meta.json). Runs resume.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from s5bench.common.arguments import at_least
from s5bench.common.cpu_memory import keep_freed_memory
from s5bench.common.editions import add_edition_argument, edition_of, ranking_metric
from s5bench.common.errors import cli
from s5bench.common.provenance import data_fingerprint
from s5bench.runners.published import PUBLISHED_LEADERBOARDS
from s5bench.runners.report import build_report
from s5bench.runners.table_files import write_table
from s5bench.systems.distributed import shard_info
from s5bench.systems.registry import load_system_config
from s5bench.systems.run import run_system
from s5bench.systems.run_folders import (
    BUILTIN,
    build_with,
    builtin_test_set,
    check_test_set,
    checkpoint_hashes,
    run_dir_for,
    system_code_fingerprint,
)

DEFAULT_SYSTEMS = {2025: "baseline_cpu,self_guided_cpu", 2026: "baseline2026_tiny,baseline_cpu,self_guided_cpu"}


def parse_data(items, n, edition: int = 2025) -> dict:
    if not items:
        return {edition_of(edition).builtin_label: builtin_test_set(n, edition=edition)}
    out = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep:
            name, path = Path(item).name, item
        out[name] = check_test_set(path)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = "; ".join(f"{e}: {s}" for e, s in DEFAULT_SYSTEMS.items())
    ap.add_argument("--systems", help="comma-separated system configs (default: the CPU-size baseline and "
                    f"pipeline, with the tiny 2026 baseline in 2026: {defaults})")
    ap.add_argument("--data", action="append", help="NAME=DIR (repeatable); default: the built-in test set")
    ap.add_argument("--n", type=at_least(1), default=BUILTIN["n"],
                    help="mixtures of the built-in set (default 20; 100 = all)")
    ap.add_argument("--out", default="results")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch-size", type=at_least(1), default=4)
    ap.add_argument("--jobs", type=at_least(1), default=2)
    ap.add_argument("--no-report", action="store_true", help="skip the web report (<out>/report/index.html)")
    add_edition_argument(ap)
    args = ap.parse_args(argv)
    keep_freed_memory()
    names = [s for s in (args.systems or DEFAULT_SYSTEMS[args.edition]).split(",") if s]
    try:
        cfgs = {name: load_system_config(name) for name in names}
        data = parse_data(args.data, args.n, args.edition)
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    rank, _ = shard_info()
    results = Path(args.out)
    t0 = time.perf_counter()
    fingerprints = {d: data_fingerprint(p) for d, p in data.items()}
    measured = {name: {} for name in names}
    run_dirs = {name: {} for name in names}
    try:
        for name in names:
            system, cfg = build_with(name)
            final = system.stages[-1]
            for dname, path in data.items():
                run_dir = run_dir_for(name, cfg, fingerprints[dname], results, args.edition)
                run_dirs[name][dname] = {"run_dir": str(run_dir), "stage": final}
                summaries = run_system(system, path, run_dir, device=args.device, batch_size=args.batch_size,
                                       jobs=args.jobs, stages=[final], edition=args.edition)
                if summaries is not None:
                    measured[name][dname] = summaries[final]
    except (FileNotFoundError, ValueError) as err:  # a bad file or checkpoint: named, no traceback
        print(f"error: {err}", file=sys.stderr)
        return 2
    if rank > 0:
        return 0
    metric = ranking_metric(args.edition)
    data_cols = [f"{d}_{m}" for d in data for m in (metric, "Acc_mix")]
    pub_cols = [f"published_eval_{metric}", "published_eval_Acc_mix", f"published_test_{metric}",
                "published_test_Acc_mix"]
    rows = []
    for name in names:
        row = {"system": Path(name).stem, "kind": "measured", "published_rank": None}
        for d in data:
            row[f"{d}_{metric}"] = measured[name][d][metric]
            row[f"{d}_Acc_mix"] = measured[name][d]["Acc_mix"]
        rows.append(row)
    published = PUBLISHED_LEADERBOARDS[args.edition]
    for rank_, team, e_sdr, e_acc, t_sdr, t_acc in published:
        rows.append({"system": team, "kind": "published", "published_rank": rank_,
                     **dict(zip(pub_cols, (e_sdr, e_acc, t_sdr, t_acc)))})
    df = pd.DataFrame(rows, columns=["system", "kind", "published_rank"] + data_cols + pub_cols)
    note = ("kind = measured: run here, on " + ", ".join(f"{d} ({p})" for d, p in data.items()) +
            f" (scored as the DCASE {args.edition} edition). kind = published: the DCASE {args.edition} Task 4 "
            "leaderboard (" + edition_of(args.edition).published_source +
            "; official eval and dev test sets), for reference, never measured here.")
    write_table(df, results / "table2.csv", "Table 2: leaderboard", note,
                systems={n: {"config": cfgs[n], "checkpoints": checkpoint_hashes(cfgs[n]),
                             "code_fingerprint": system_code_fingerprint(cfgs[n])} for n in names},
                data={d: {"path": str(p), "fingerprint": fingerprints[d]} for d, p in data.items()},
                runs=run_dirs, edition=args.edition,
                seed=BUILTIN["seed"], seconds=time.perf_counter() - t0)
    print(df.to_string(index=False, float_format=lambda v: f"{v:.2f}", na_rep=""))
    if not args.no_report:
        print(f"report: {build_report(results, progress=False)} (open it in a browser)")
    return 0


if __name__ == "__main__":
    sys.exit(cli(main))
