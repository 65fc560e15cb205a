"""Table 1: the self-guided pipeline's ablation stages, measured on one test set, with intervals,
the paired differences between stages, the plots, the separation figure and the report."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from s5bench.common.audio import write_text_atomic
from s5bench.common.cpu_memory import keep_freed_memory
from s5bench.common.editions import ranking_metric
from s5bench.common.errors import S5Error
from s5bench.common.provenance import data_fingerprint
from s5bench.metrics.separation import stage_separation
from s5bench.systems.distributed import shard_info
from s5bench.systems.registry import SystemConfig
from s5bench.systems.run import run_system
from s5bench.systems.run_folder import run_dir_for
from s5bench.systems.self_guided import iterations_for, stage_names

from .differences import stage_contributions
from .published import PUBLISHED_TABLE1
from .table_files import named_rows, plot_per_class, plot_table1
from .table_identity import check_table_out, table_identity
from .table_jobs import (
    BUILTIN,
    TableOptions,
    build_with,
    builtin_test_set,
    check_test_set,
    copy_per_mixture,
    provenance,
)
from .tables import (
    bootstrap_info,
    cell_intervals,
    differences_block,
    interval_note,
    printed,
    report_lines,
    write_measured_table,
)

TABLE1 = stage_names(3)
# the pipeline each edition's Table 1 runs when no --system is given: the one trained for it
DEFAULT_SYSTEM = {2025: "self_guided_cpu", 2026: "self_guided2026_cpu"}
PUBLISHED_COLUMNS = ["published_CA-SDRi", "published_SNRi", "published_Acc_src"]
MEASURED = ["SNRi", "Acc_src", "Acc_mix"]  # after the edition's ranking metric


def parse_stage(name: str) -> str:
    """A stage name (`fss2_cp1-1`, `FSS2+CP1-1`) checked against the pipeline's stages.

    Args:
        name: the stage as given (any case, `+` for `_`, surrounding spaces ignored).

    Returns:
        The stage's name, lower-case with `_` (`fss2_cp1-1`).

    Raises:
        S5Error: an unknown stage, naming the known ones.
    """
    name = name.strip().lower().replace("+", "_")
    k = None
    try:
        k = iterations_for(name)
    except ValueError:
        pass
    if k is None or name not in stage_names(max(k, 3)):
        raise S5Error(f"unknown ablation config {name!r}; known: {', '.join(TABLE1)} "
                      "(and fss{k}_cp{k} for k > 3)")
    return name


def stage_comparisons(stages: list[str]) -> list[tuple[str, str]]:
    """(a, b) pairs of Table 1's differences: each stage against the one before it and against the
    first stage fss1_cp1 (once where the two are the same).

    Args:
        stages: the stages run, in Table 1's order.

    Returns:
        The (a, b) pairs, difference = a − b, in the order the differences table lists them.
    """
    pairs = []
    for i in range(1, len(stages)):
        pairs.append((stages[i], stages[i - 1]))
        if TABLE1[0] in stages and stages[i - 1] != TABLE1[0] and stages[i] != TABLE1[0]:
            pairs.append((stages[i], TABLE1[0]))
    return pairs


@dataclass(frozen=True)
class AblationRun:
    """The pipeline's pass over a test set, as Table 1 is written from it.

    Attributes:
        system: the self-guided system config's name. cfg: its config, as run.
        data: the test set. builtin: whether it is the built-in one.
        fingerprint: the test set's fingerprint.
        run_dir: the cached run folder. stages: the stages run, in Table 1's order.
        summaries: {stage: summary}. started: time.perf_counter() when the run began.
    """

    system: str
    cfg: SystemConfig
    data: Path
    builtin: bool
    fingerprint: str
    run_dir: Path
    stages: list[str]
    summaries: dict
    started: float


def ablation(config: str | None, data_dir: str | None, system: str | None, options: TableOptions
             ) -> list[str] | None:
    """Run the pipeline once over a test set and write Table 1 and its companions.

    Args:
        config: one stage, or None for the five stages of Table 1.
        data_dir: a test set in the official layout, or None for the built-in one of `options.n` mixtures.
        system: a self-guided system config (None: the edition's `DEFAULT_SYSTEM`).
        options: how it runs, where the results go, the intervals, the report.

    Returns:
        The lines to print, or None on a torchrun rank other than 0.

    Raises:
        ValueError, FileNotFoundError: an unknown stage or system, a bad data set (named).
    """
    run = run_ablation(config, data_dir, system, options)
    return None if run is None else write_table1(run, options)


def run_ablation(config: str | None, data_dir: str | None, system: str | None, options: TableOptions
                 ) -> AblationRun | None:
    """Run the pipeline's stages once over a test set, into its cached run folder (resumed).

    Args:
        config, data_dir, system, options: as `ablation`.

    Returns:
        The run, or None on a torchrun rank other than 0.

    Raises:
        ValueError, FileNotFoundError: an unknown stage or system, a bad data set (named).
        S5Error: the results folder holds a Table 1 of other inputs (`table_identity.check_table_out`).
    """
    keep_freed_memory()
    edition = options.run.edition
    stages = list(TABLE1) if config is None else [parse_stage(config)]
    data = check_test_set(data_dir) if data_dir else builtin_test_set(options.n, edition=edition)
    system = system or DEFAULT_SYSTEM[options.run.edition]
    built, cfg = build_with(system, iterations=max(iterations_for(s) for s in stages))
    fingerprint = data_fingerprint(data)
    check_table_out(options.out / "table1.csv",  # never over another run's Table 1
                    table_identity({system: cfg}, {"test set": (data, fingerprint)}, edition))
    run_dir = run_dir_for(system, cfg, fingerprint, options.out, edition)
    t0 = time.perf_counter()
    summaries = run_system(built, data, run_dir, options.run, stages=stages, data_fingerprint=fingerprint)
    if shard_info()[0] > 0:
        return None
    assert summaries is not None  # rank 0 (or no torchrun) gets them
    return AblationRun(system, cfg, data, not data_dir, fingerprint, run_dir, stages, summaries, t0)


def write_table1(run: AblationRun, options: TableOptions) -> list[str]:
    """Write Table 1 (table1.csv, .md, .meta.json, .png), its differences, per-mixture and per-class
    files, the separation figure and (unless turned off) the web report.

    Args:
        run: the pipeline's pass (`run_ablation`).
        options: where the results go, the intervals, the report.

    Returns:
        The lines to print.
    """
    edition, bootstrap, seed, results = options.run.edition, options.bootstrap, options.seed, options.out
    system, data, run_dir, stages, summaries = run.system, run.data, run.run_dir, run.stages, run.summaries
    metric = ranking_metric(edition)
    rows = []
    for stage in stages:
        s = summaries[stage]
        rows.append({"config": stage, metric: s[metric], **{m: s[m] for m in MEASURED},
                     **dict(zip(PUBLISHED_COLUMNS, PUBLISHED_TABLE1.get(stage, (float("nan"),) * 3)))})
        copy_per_mixture(run_dir, stage, results / "table1_per_mixture" / f"{stage}.csv")
    df = pd.DataFrame(rows, columns=["config", metric, *MEASURED, *PUBLISHED_COLUMNS])
    contrib = {stage: stage_contributions(run_dir, stage, edition) for stage in stages} if bootstrap else {}
    intervals = {m: cell_intervals([(contrib[s], m) for s in stages], bootstrap, seed)
                 for m in (metric, *MEASURED)} if bootstrap else None
    note = (f"Measured: {system} on {data} ({summaries[stages[0]]['n_mixtures']} mixtures, "
            f"scored as the DCASE {edition} edition). "
            "`published_*`: the paper's Table 1 (dev test set, paper-size models), shown for reference, "
            "not measured here. dB for CA-SDRi/SNRi, % for accuracies."
            + interval_note(bootstrap, seed, "table1.csv"))
    csv = results / "table1.csv"
    display = write_measured_table(
        df, csv, "Table 1: ablation of the self-guided pipeline", note, intervals,
        **provenance(system, run.cfg, data, run.fingerprint, stages=stages, run_dir=str(run_dir), edition=edition,
                     seed=BUILTIN["seed"] if run.builtin else None, seconds=time.perf_counter() - run.started),
        **bootstrap_info(bootstrap, seed))
    plot_table1(df, results / "table1.png")
    plot_per_class(run_dir / stages[-1] / "per_class.csv", results / "table1_per_class.png",
                   f"per-class CA-SDRi, {stages[-1]} ({system})")
    lines = [printed(display)]
    comparisons = [(Path(data).name, a, b, contrib[a], contrib[b]) for a, b in stage_comparisons(stages)
                   if bootstrap]
    lines += differences_block(comparisons, [metric, *MEASURED], bootstrap, seed,
                               results / "table1_differences.csv",
                               "Table 1: paired differences between stages", warn=True)
    separation = stage_separation(data, run_dir, stages, edition)
    write_text_atomic(results / "table1_separation.csv", separation.to_csv(index=False, float_format="%.4f"))
    lines.append("\nseparation beyond a rescaled mixture, SNR(est, ref) - SNR(a*x0, ref) on true-positive estimates "
                 "(mean dB, pairs): " + ", ".join(f"{r.config} {r.sep_gain_mean:+.2f} ({r.tp_pairs})"
                                                  for r in named_rows(separation)))
    lines.append(f"\nwritten: {csv} (+ .md, .meta.json, .png), {results / 'table1_separation.csv'}, "
                 f"{results / 'table1_per_mixture'}/")
    return lines + report_lines(results, not options.report)
