"""Table 2 in the leaderboard's form: measured systems (their final stage) on each data set with
intervals, each system's paired difference from the first (the baseline), and the published rows."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from s5bench.common.cpu_memory import keep_freed_memory
from s5bench.common.editions import edition_of, ranking_metric, repeated_classes_allowed
from s5bench.common.errors import S5Error
from s5bench.common.provenance import data_fingerprint
from s5bench.metrics.intervals import Contributions
from s5bench.systems.distributed import shard_info
from s5bench.systems.registry import SystemConfig, load_system_config
from s5bench.systems.run import run_system
from s5bench.systems.run_folder import referenced_files, run_dir_for, system_code_fingerprint

from .differences import stage_contributions
from .published import PUBLISHED_LEADERBOARDS
from .scene_types import scene_type_table
from .table_identity import check_table_out, table_identity
from .table_jobs import BUILTIN, TableOptions, build_with, builtin_test_set, check_test_set
from .tables import (
    bootstrap_info,
    cell_intervals,
    differences_block,
    interval_note,
    printed,
    report_lines,
    write_measured_table,
)

DEFAULT_SYSTEMS = {2025: "baseline_cpu,self_guided_cpu",
                   2026: "baseline2026_cpu,self_guided2026_cpu,baseline_cpu,self_guided_cpu"}


def parse_data(items: list[str] | None, n: int, edition: int = 2025) -> dict:
    """{name: folder} from NAME=DIR items (a bare DIR is named after its folder); the built-in set
    of `n` mixtures without any.

    Args:
        items: the --data values, NAME=DIR or DIR (None or empty: the built-in set, generated on first use).
        n: mixtures of the built-in set.
        edition: the DCASE edition (whose built-in set, and its name).

    Returns:
        {name: the checked data folder (`check_test_set`)}, in the order given.

    Raises:
        S5Error: an empty name (`=DIR`), or a name given twice.
        FileNotFoundError: a folder, its mixtures or its oracle targets missing (`check_test_set`).
    """
    if not items:
        return {edition_of(edition).builtin_label: builtin_test_set(n, edition=edition)}
    out = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep:
            name, path = Path(item).name, item
        if not name:
            raise S5Error(f"--data {item}: a data set needs a name (NAME=DIR): it names the table's columns")
        if name in out:  # one column per name: a second set of the same name would replace the first unseen
            raise S5Error(f"--data: the name {name!r} is given twice ({out[name]} and {path}): each data set "
                          "needs its own name (NAME=DIR), which names its columns of the table")
        out[name] = check_test_set(path)
    return out


@dataclass(frozen=True)
class LeaderboardRun:
    """Every system's final stage on every data set, as Table 2 is written from it.

    Attributes:
        names: the system configs, the first the baseline. cfgs: their configs.
        data: {name: folder}. fingerprints: {name: the folder's fingerprint}.
        measured: {system: {data: the final stage's summary}}.
        run_dirs: {system: {data: {"run_dir", "stage"}}} (recorded in the table's provenance).
        contrib: {(system, data): the per-mixture contributions} (empty without intervals).
        started: time.perf_counter() when the runs began.
    """

    names: list[str]
    cfgs: dict[str, SystemConfig]
    data: dict[str, Path]
    fingerprints: dict[str, str]
    measured: dict[str, dict]
    run_dirs: dict[str, dict]
    contrib: dict[tuple[str, str], Contributions]
    started: float


def _cells(measured: list[Contributions], n_published: int, metric: str) -> list[tuple[Contributions | None, str]]:
    """A column's cells for `cell_intervals`: the measured rows', then none for each published row."""
    cells: list[tuple[Contributions | None, str]] = [(c, metric) for c in measured]
    return cells + [(None, metric)] * n_published


def leaderboard(systems: str | None, data_items: list[str] | None, options: TableOptions) -> list[str] | None:
    """Run each system over each data set and write Table 2 (+ table2_differences.csv).

    Args:
        systems: comma-separated system configs (None: the edition's defaults); the first is the
            baseline the differences are taken against.
        data_items: NAME=DIR test sets (None: the built-in one of `options.n` mixtures).
        options: how they run, where the results go, the intervals, the report.

    Returns:
        The lines to print, or None on a torchrun rank other than 0.

    Raises:
        ValueError, FileNotFoundError: an unknown system, a bad data set or checkpoint (named).
    """
    run = run_leaderboard(systems, data_items, options)
    return None if run is None else write_table2(run, options)


def run_leaderboard(systems: str | None, data_items: list[str] | None, options: TableOptions) -> LeaderboardRun | None:
    """Run each system's final stage over each data set, into their cached run folders (resumed).

    Args:
        systems, data_items, options: as `leaderboard`.

    Returns:
        The runs, or None on a torchrun rank other than 0.

    Raises:
        ValueError, FileNotFoundError: an unknown system, a bad data set or checkpoint (named), before
            any system runs.
        S5Error: the results folder holds a Table 2 of other inputs (`table_identity.check_table_out`).
    """
    keep_freed_memory()
    edition = options.run.edition
    names = [s for s in (systems or DEFAULT_SYSTEMS[edition]).split(",") if s]
    cfgs = {name: load_system_config(name) for name in names}
    data = parse_data(data_items, options.n, edition)
    # every system built before any runs: a broken plug-in or a missing checkpoint is named before the
    # others have run (or resumed) for minutes
    built = {name: build_with(name) for name in names}
    t0 = time.perf_counter()
    fingerprints = {d: data_fingerprint(p) for d, p in data.items()}
    check_table_out(options.out / "table2.csv",  # never over another run's Table 2
                    table_identity(cfgs, {d: (p, fingerprints[d]) for d, p in data.items()}, edition))
    measured, run_dirs, contrib = {name: {} for name in names}, {name: {} for name in names}, {}
    for name in names:
        system, cfg = built.pop(name)  # let go after its runs: one system at a time on the device
        final = system.stages[-1]
        for dname, path in data.items():
            run_dir = run_dir_for(name, cfg, fingerprints[dname], options.out, edition)
            run_dirs[name][dname] = {"run_dir": str(run_dir), "stage": final}
            summaries = run_system(system, path, run_dir, options.run, stages=[final],
                                   data_fingerprint=fingerprints[dname])
            if summaries is not None:
                measured[name][dname] = summaries[final]
                if options.bootstrap:
                    contrib[name, dname] = stage_contributions(run_dir, final, edition)
    if shard_info()[0] > 0:
        return None
    return LeaderboardRun(names, cfgs, data, fingerprints, measured, run_dirs, contrib, t0)


def write_table2(run: LeaderboardRun, options: TableOptions) -> list[str]:
    """Write Table 2 (table2.csv, .md, .meta.json), its paired differences from the baseline and
    (unless turned off) the web report.

    Args:
        run: the systems' runs (`run_leaderboard`).
        options: where the results go, the intervals, the report.

    Returns:
        The lines to print.
    """
    edition, bootstrap, seed, results = options.run.edition, options.bootstrap, options.seed, options.out
    names, cfgs, data, measured, contrib = run.names, run.cfgs, run.data, run.measured, run.contrib
    metric = ranking_metric(edition)
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
    published = PUBLISHED_LEADERBOARDS[edition]
    for rank_, team, e_sdr, e_acc, t_sdr, t_acc in published:
        rows.append({"system": team, "kind": "published", "published_rank": rank_,
                     **dict(zip(pub_cols, (e_sdr, e_acc, t_sdr, t_acc)))})
    df = pd.DataFrame(rows, columns=["system", "kind", "published_rank"] + data_cols + pub_cols)
    intervals = None
    if bootstrap:  # measured rows only; the published ones get none
        intervals = {f"{d}_{m}": cell_intervals(_cells([contrib[name, d] for name in names], len(published), m),
                                                bootstrap, seed)
                     for d in data for m in (metric, "Acc_mix")}
    note = ("kind = measured: run here, on " + ", ".join(f"{d} ({p})" for d, p in data.items()) +
            f" (scored as the DCASE {edition} edition). kind = published: the DCASE {edition} Task 4 "
            "leaderboard (" + edition_of(edition).published_source +
            "; official eval and dev test sets), for reference, never measured here."
            + interval_note(bootstrap, seed, "table2.csv"))
    display = write_measured_table(
        df, results / "table2.csv", "Table 2: leaderboard", note, intervals,
        systems={n: {"config": cfgs[n], "checkpoints": referenced_files(cfgs[n]),
                     "code_fingerprint": system_code_fingerprint(cfgs[n])} for n in names},
        data={d: {"path": str(p), "fingerprint": run.fingerprints[d]} for d, p in data.items()},
        runs=run.run_dirs, edition=edition, seed=BUILTIN["seed"], seconds=time.perf_counter() - run.started,
        **bootstrap_info(bootstrap, seed))
    comparisons = [(d, Path(name).stem, Path(names[0]).stem, contrib[name, d], contrib[names[0], d])
                   for d in data for name in names[1:] if bootstrap]
    lines = [printed(display)]
    lines += differences_block(comparisons, [metric, "SNRi", "Acc_src", "Acc_mix"], bootstrap, seed,
                               results / "table2_differences.csv", "Table 2: paired differences from the baseline")
    if repeated_classes_allowed(edition):  # 2026: scenes without a target or with a class twice
        lines += _scene_type_lines(run, options)
    return lines + report_lines(results, not options.report)


def _scene_type_lines(run: LeaderboardRun, options: TableOptions) -> list[str]:
    """Write table2_scene_types.csv (+ .md, sidecar) and return its printout."""
    stages = {(d, Path(name).stem): Path(run.run_dirs[name][d]["run_dir"]) / run.run_dirs[name][d]["stage"]
              for d in run.data for name in run.names}
    df, intervals = scene_type_table(stages, options.run.edition, options.bootstrap, options.seed)
    note = ("Each measured system's final stage on the mixtures of each scene type (no target, distinct "
            "classes, a class repeated); a group's figure is the whole set's ratio of sums restricted to it."
            + interval_note(options.bootstrap, options.seed, "table2_scene_types.csv"))
    display = write_measured_table(df, options.out / "table2_scene_types.csv", "Table 2 by scene type", note,
                                   intervals, edition=options.run.edition, **bootstrap_info(options.bootstrap,
                                                                                            options.seed))
    return ["", "Table 2 by scene type:", printed(display)]
