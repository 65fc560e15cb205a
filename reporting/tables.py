"""What the ablation (Table 1) and the leaderboard (Table 2) share when they write their results:
the table with its intervals, Markdown twin and provenance, the differences table with its printed
reading, and the closing web report."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from s5bench.metrics.intervals import LEVEL, Contributions, figure_intervals

from .differences import (
    below_detectable_warnings,
    differences,
    differences_text,
    insert_intervals,
    min_detectable_text,
    shown,
    write_differences,
)
from .table_files import write_table


def bootstrap_info(n_resamples: int, seed: int) -> dict:
    """The sidecar's record of how the intervals were drawn (None when they were not).

    Args:
        n_resamples: bootstrap resamples (0: no intervals).
        seed: their seed.

    Returns:
        {"bootstrap": None}, or {"bootstrap": {resamples, seed, method, level, module}}.
    """
    if not n_resamples:
        return {"bootstrap": None}
    return {"bootstrap": {"resamples": n_resamples, "seed": seed,
                          "method": "expanded percentile (metrics/intervals.interval_tail), paired over mixtures",
                          "level": LEVEL, "module": "s5bench.metrics.intervals"}}


def interval_note(n_resamples: int, seed: int, csv_name: str) -> str:
    """The table note's sentence on what `±` means (empty without intervals).

    Args:
        n_resamples: bootstrap resamples (0: no intervals).
        seed: their seed.
        csv_name: the CSV that holds the bounds.

    Returns:
        The sentence, with a leading space; "" when n_resamples is 0.
    """
    if not n_resamples:
        return ""
    return (f" ± : half-width of the 95 % paired bootstrap interval over mixtures ({n_resamples} resamples, "
            f"seed {seed}); bounds in {csv_name}.")


def cell_intervals(cells: list[tuple[Contributions | None, str]], n_resamples: int, seed: int
                   ) -> list[tuple[float, float]]:
    """(low, high) of each cell of a column: a (contributions, metric) pair, or (None, _) for a
    row without measurements (NaN). The same seed for every cell: the same resampled mixtures.

    Args:
        cells: the column's cells, top to bottom.
        n_resamples: bootstrap resamples.
        seed: their seed.

    Returns:
        One (low, high) per cell, in the metric's unit; (NaN, NaN) for a row without measurements.
    """
    nan = (float("nan"), float("nan"))
    cache: dict[int, dict] = {}
    out = []
    for contrib, metric in cells:
        if contrib is None:
            out.append(nan)
            continue
        if id(contrib) not in cache:
            cache[id(contrib)] = figure_intervals(contrib, n_resamples, seed)
        out.append(cache[id(contrib)][metric])
    return out


def write_measured_table(df: pd.DataFrame, csv_path: Path, title: str, note: str,
                         intervals: dict[str, list[tuple[float, float]]] | None, **sidecar: Any) -> pd.DataFrame:
    """Write a table (CSV with `<metric>_ci_low/_ci_high` beside each measured column that has
    intervals, Markdown showing `5.75 ± 0.41`, provenance sidecar); return the table as shown.

    Args:
        df: the table.
        csv_path: the CSV to write (`table_files.write_table`).
        title: the Markdown's heading.
        note: the Markdown's note.
        intervals: {column: one (low, high) per row}, or None.
        **sidecar: the provenance recorded beside the table.

    Returns:
        The table as shown: each figure with an interval as `value ± half-width` text (`differences.shown`).
    """
    if intervals:
        df = insert_intervals(df, intervals)
    display = shown(df)
    write_table(df, csv_path, title, note, display=display, **sidecar)
    return display


def printed(display: pd.DataFrame) -> str:
    """A table as printed on the terminal.

    Args:
        display: the table as shown (`write_measured_table`).

    Returns:
        Its text without the index, floats with 2 decimals, missing values empty.
    """
    return display.to_string(index=False, float_format=lambda v: f"{v:.2f}", na_rep="")


def differences_block(comparisons: list, metrics: list[str], n_resamples: int, seed: int, path: Path,
                      title: str, warn: bool = False) -> list[str]:
    """Write the paired differences table to `path`; return the lines to print under the table:
    the differences (* where the interval excludes 0), the smallest detectable difference and, with
    `warn`, a warning per comparison whose printed differences are below it. Nothing without
    resamples or comparisons (and an earlier run's table at `path` removed: it would not be this one's).

    Args:
        comparisons: (data set, a, b, a's contributions, b's contributions) (`differences.differences`).
        metrics: the figures to compare.
        n_resamples: bootstrap and permutation resamples (0: none).
        seed: their seed.
        path: the differences CSV (its Markdown beside it).
        title: the Markdown's heading.
        warn: add the warnings on differences below the smallest detectable one.

    Returns:
        The lines to print; empty without resamples or comparisons.
    """
    if not n_resamples or not comparisons:
        for stale in (Path(path), Path(path).with_suffix(".md")):
            stale.unlink(missing_ok=True)
        return []
    df = differences(comparisons, metrics, n_resamples, seed)
    write_differences(df, path, title)
    lines = ["", differences_text(df), min_detectable_text(df)]
    if warn:
        lines += below_detectable_warnings(df)
    return lines + [f"written: {path} (+ .md)"]


def report_lines(results: Path, no_report: bool) -> list[str]:
    """Build the web report of the results folder (unless asked not to); the line that says where.

    Args:
        results: the results folder.
        no_report: build no report.

    Returns:
        ["report: <index.html> (open it in a browser)"], or [] with no_report.

    Raises:
        ReportError: the folder cannot be reported on (`report.build_report`).
    """
    if no_report:
        return []
    from s5bench.reporting.report import build_report

    return [f"report: {build_report(results, progress=False)} (open it in a browser)"]
