"""Intervals in the result tables: `<metric>_ci_low` / `_ci_high` columns, the paired differences
tables (table1_differences.csv, table2_differences.csv), and their printed forms (`5.75 ± 0.41`,
differences marked where both their interval and their permutation test exclude 0, `(too few)`
where the set is too small for any mark, the smallest detectable difference)."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from s5bench.common.audio import write_text_atomic
from s5bench.metrics.intervals import (
    Contributions,
    compare,
    contributions_from_table,
    min_mixtures,
    plus_minus,
    significant,
)

from .table_files import markdown_table, named_rows

DIFFERENCE_COLUMNS = ["data", "a", "b", "metric", "difference", "ci_low", "ci_high", "p_value", "n_mixtures",
                      "min_detectable", "excludes_zero"]
UNITS = {"SNRi": "dB", "CA-SDRi": "dB", "CAPI-SDRi": "dB", "Acc_src": "%", "Acc_mix": "%"}


def stage_contributions(run_dir: Path, stage: str, edition: int) -> Contributions:
    """A scored stage's per-mixture contributions, from <run_dir>/<stage>/per_mixture.csv.

    Args:
        run_dir: the run folder (systems/run.py's out_dir).
        stage: the stage's name.
        edition: 2025 or 2026.

    Returns:
        The stage's Contributions.

    Raises:
        FileNotFoundError: the stage was not scored.
    """
    path = Path(run_dir) / stage / "per_mixture.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the stage {stage!r} has no scores to draw intervals from")
    return contributions_from_table(pd.read_csv(path), edition, where=str(path))


def interval_columns(column: str) -> list[str]:
    """The names of a column's interval bounds.

    Args:
        column: a table's column, e.g. `SNRi`.

    Returns:
        [`<column>_ci_low`, `<column>_ci_high`].
    """
    return [f"{column}_ci_low", f"{column}_ci_high"]


def insert_intervals(df: pd.DataFrame, intervals: dict[str, list[tuple[float, float]]]) -> pd.DataFrame:
    """The table with `<column>_ci_low`, `<column>_ci_high` right after each column of `intervals`.

    Args:
        df: the table.
        intervals: column -> one (low, high) per row of df (NaN for rows without, e.g. published ones).

    Returns:
        A new table; the other columns and their order unchanged.
    """
    out = df.copy()
    for column, bounds in intervals.items():
        at = list(out.columns).index(column) + 1
        bounds = np.asarray(bounds, dtype=float).reshape(len(out), 2)
        for k, name in enumerate(interval_columns(column)):
            out.insert(at + k, name, bounds[:, k])
    return out


def shown(df: pd.DataFrame) -> pd.DataFrame:
    """The table as printed and in Markdown: each figure with an interval as `5.75 ± 0.41` (the
    half-width; the exact bounds stay in the CSV), the bound columns dropped.

    Args:
        df: a table with `<column>_ci_low` / `_ci_high` beside the columns that have intervals.

    Returns:
        A new table: those columns as text (`plus_minus`; NaN stays NaN), their bound columns
        removed; the other columns unchanged.
    """
    out = df.copy()
    for column in df.columns:
        low, high = interval_columns(column)
        if low in df.columns and high in df.columns:
            out[column] = [plus_minus(v, lo, hi) if pd.notna(v) else math.nan
                           for v, lo, hi in zip(df[column], df[low], df[high])]
            out = out.drop(columns=[low, high])
    return out


def differences(comparisons: list[tuple[str, str, str, Contributions, Contributions]], metrics: list[str],
                n_resamples: int, seed: int) -> pd.DataFrame:
    """The paired differences table, one row per (comparison, metric).

    Args:
        comparisons: (data set, a, b, a's contributions, b's contributions); difference = a − b.
        metrics: the figures to compare (names of the contributions' metrics).
        n_resamples: bootstrap and permutation resamples.
        seed: numpy Generator seed (the same for every comparison: the same resampled mixtures).

    Returns:
        A table with DIFFERENCE_COLUMNS (excludes_zero as true/false).
    """
    rows = []
    for data, a, b, ca, cb in comparisons:
        by_metric = {r["metric"]: r for r in compare(ca, cb, n_resamples=n_resamples, seed=seed)}
        rows += [{"data": data, "a": a, "b": b, **by_metric[m]} for m in metrics]  # in the table's order
    df = pd.DataFrame(rows, columns=DIFFERENCE_COLUMNS)
    df["excludes_zero"] = df["excludes_zero"].map({True: "true", False: "false"})
    return df


def mark_note(df: pd.DataFrame) -> str:
    """What the marks of a differences table mean; `(too few)` explained only where it occurs.

    Args:
        df: a differences table (`differences`).

    Returns:
        One sentence (no final full stop).
    """
    note = "*: the 95 % interval excludes 0 and the paired permutation test gives p < 0.05"
    if (df["n_mixtures"] < min_mixtures()).any():
        note += (f"; (too few): under {min_mixtures()} mixtures, with which no paired test can reach p < 0.05, "
                 "nothing is marked")
    return note


def _mark(row: Any) -> str:
    """` *`, ` (too few)` or nothing after a difference (a row of the differences table)."""
    if row.n_mixtures < min_mixtures():
        return " (too few)"
    return " *" if significant(row.excludes_zero == "true", row.p_value, row.n_mixtures) else ""


def write_differences(df: pd.DataFrame, path: Path, title: str = "Paired differences") -> Path:
    """The differences CSV and its Markdown twin (each difference with its interval and its mark,
    `_mark`).

    Args:
        df: a differences table (`differences`).
        path: the CSV to write; the Markdown goes beside it with the suffix `.md`.
        title: the Markdown's heading.

    Returns:
        `path`.
    """
    write_text_atomic(path, df.to_csv(index=False, float_format="%.4f"))
    view = pd.DataFrame({
        "data": df["data"], "a − b": [f"{a} − {b}" for a, b in zip(df["a"], df["b"])], "metric": df["metric"],
        "difference [95 % interval]": [f"{_signed(r.difference)} [{_signed(r.ci_low)}, {_signed(r.ci_high)}]{_mark(r)}"
                                       for r in named_rows(df)],
        "p_value": [f"{p:.3f}" for p in df["p_value"]], "n_mixtures": df["n_mixtures"],
        "min_detectable": df["min_detectable"]})
    note = ("Paired bootstrap over mixtures (expanded percentile, the same resampled mixtures for a and b) and a "
            f"paired permutation p-value; {mark_note(df)}. min_detectable: the smallest difference this number of "
            "mixtures detects with 95 % confidence and 80 % power.")
    write_text_atomic(path.with_suffix(".md"), markdown_table(view, title, note))
    return path


def _signed(v: float) -> str:
    return f"{v:+.2f}" if np.isfinite(v) else "nan"


def differences_text(df: pd.DataFrame) -> str:
    """One line per comparison, one column per metric: `+0.42 [+0.10, +0.75] p=0.012 *` (`_mark`),
    with the paired permutation p-value.

    Args:
        df: a differences table (`differences`).

    Returns:
        A heading, the marks' meaning and the table as text; "" for an empty table.
    """
    if df.empty:
        return ""
    many_sets = df["data"].nunique() > 1
    rows = {}
    for r in named_rows(df):
        key = (f"{r.data}: " if many_sets else "") + f"{r.a} − {r.b}"
        rows.setdefault(key, {})[r.metric] = (f"{_signed(r.difference)} [{_signed(r.ci_low)}, {_signed(r.ci_high)}]"
                                              f" p={r.p_value:.3f}{_mark(r)}")
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "difference (a − b)"
    return (f"paired differences, 95 % bootstrap interval over mixtures, permutation p-value\n{mark_note(df)}:\n"
            + table.to_string())


def min_detectable_text(df: pd.DataFrame, also_n: int = 100) -> str:
    """The smallest difference the run can detect (95 %, 80 % power) per metric: the median over
    its comparisons and their range, at the run's n and, scaled by √(n / also_n), at n = also_n.

    Args:
        df: a differences table (`differences`); n is its first row's n_mixtures.
        also_n: a second number of mixtures to scale the medians to (not shown when it is n).

    Returns:
        One line; "" for an empty table.
    """
    if df.empty:
        return ""
    n = int(df["n_mixtures"].iloc[0])
    med, low, high = {}, {}, {}  # per metric (the `metric` column holds their names, strings)
    for m, group in df.groupby("metric", sort=False):
        values = group["min_detectable"]
        med[str(m)], low[str(m)], high[str(m)] = values.median(), values.min(), values.max()
    at_n = ", ".join(f"{m} {v:.2f} {UNITS.get(m, '')} ({low[m]:.2f}–{high[m]:.2f})" for m, v in med.items())
    text = (f"smallest detectable difference at n = {n} mixtures (95 % confidence, 80 % power; median and range "
            f"over the comparisons): {at_n}")
    if also_n != n:
        scaled = ", ".join(f"{m} {v * math.sqrt(n / also_n):.2f}" for m, v in med.items())
        text += f"; at n = {also_n}: {scaled}"
    return text


def below_detectable_warnings(df: pd.DataFrame) -> list[str]:
    """`warning: …` for each comparison with printed differences smaller than the run can detect.

    Args:
        df: a differences table (`differences`).

    Returns:
        One line per (data, a, b) with a |difference| below its min_detectable, naming those metrics.
    """
    lines = []
    small = df.loc[df["difference"].abs() < df["min_detectable"]]
    for key, group in small.groupby(["data", "a", "b"], sort=False):
        assert isinstance(key, tuple)  # grouped by a list of columns: one (data, a, b) per group
        data, a, b = key
        items = ", ".join(f"{r.metric} {_signed(r.difference)} < {r.min_detectable:.2f}"
                          for r in named_rows(group))
        # an interval may still exclude 0 (a real difference, luckily found): the power is what is low
        lines.append(f"warning: {a} − {b} ({data}): below the smallest detectable difference for "
                     f"n = {int(group['n_mixtures'].iloc[0])}: {items}; runs of this size miss differences "
                     "this small more than 1 time in 5 (more mixtures, --n, to compare them reliably)")
    return lines
