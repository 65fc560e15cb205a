"""summary_ci.csv beside a scored folder's summary.csv, and its printed line. Kept apart from the
tables' modules so that scoring (runners/evaluate.py, run_system.py) loads no pandas (0.2 s)."""
from __future__ import annotations

from pathlib import Path

from s5bench.common.audio import write_text_atomic
from s5bench.metrics.folders import table_csv
from s5bench.metrics.intervals import Contributions, aggregate, figure_intervals, plus_minus

SUMMARY_INTERVALS = "summary_ci.csv"


def write_summary_intervals(c: Contributions, folder: str | Path, n_resamples: int, seed: int) -> list[dict] | None:
    """<folder>/summary_ci.csv: one row per figure with its 95 % bootstrap interval over the
    mixtures (columns metric, value, ci_low, ci_high, n_mixtures).

    Args:
        c: the folder's contributions. folder: where summary.csv is.
        n_resamples: bootstrap resamples. seed: their seed.

    Returns:
        The rows written; None without resamples (an earlier run's file is then removed).
    """
    if not n_resamples:
        (Path(folder) / SUMMARY_INTERVALS).unlink(missing_ok=True)
        return None
    values, bounds = aggregate(c), figure_intervals(c, n_resamples, seed)
    rows = [{"metric": m, "value": values[m], "ci_low": bounds[m][0], "ci_high": bounds[m][1], "n_mixtures": len(c)}
            for m in c.metrics]
    write_text_atomic(Path(folder) / SUMMARY_INTERVALS, table_csv(rows))
    return rows


def summary_intervals_text(rows: list[dict]) -> str:
    """`CA-SDRi 5.75 ± 0.41, SNRi …` (95 % bootstrap interval over n mixtures).

    Args:
        rows: as `write_summary_intervals` returns them.

    Returns:
        One line.
    """
    items = ", ".join(f"{r['metric']} {plus_minus(r['value'], r['ci_low'], r['ci_high'])}" for r in rows)
    return f"{items} (± : half-width of the 95 % bootstrap interval over {int(rows[0]['n_mixtures'])} mixtures)"
