"""The web report's figures: a clip's spectrogram, and the forest plot of a differences table (one
row per comparison, its paired 95 % interval as a line, zero marked)."""
from __future__ import annotations

import math
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from s5bench.metrics.intervals import significant

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SPEC_RANGE_DB = 80.0  # the colour scale spans the mixture's loudest bin down to this many dB below
SIGNIFICANT, NOT_SIGNIFICANT, BAND = "#1f5fa8", "#8a8a8a", "#e4e4e4"


def pyplot() -> ModuleType:
    """matplotlib.pyplot on the file-only Agg backend (no display needed).

    Returns:
        The matplotlib.pyplot module.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_spectrogram(db: np.ndarray, vmax: float, sr: int, seconds: float, path: Path) -> None:
    """A clip's spectrogram as a small PNG, its colour scale from vmax − 80 dB to vmax.

    Args:
        db: the spectrogram in dB, shape (frequencies, frames) (`report_audio.spectrogram_db`).
        vmax: the top of the colour scale in dB (shared by a mixture's clips).
        sr: the sample rate in Hz (the y axis runs to sr / 2, in kHz).
        seconds: the clip's length (the x axis).
        path: the PNG to write.
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.2, 1.3), dpi=72)
    ax.imshow(db, origin="lower", aspect="auto", cmap="magma", vmin=vmax - SPEC_RANGE_DB, vmax=vmax,
              extent=(0, seconds, 0, sr / 2000), interpolation="nearest")
    ax.set_ylabel("kHz", fontsize=7)
    ax.tick_params(labelsize=6)
    fig.tight_layout(pad=0.2)
    fig.savefig(path)
    plt.close(fig)


def comparison_labels(df: pd.DataFrame) -> list[str]:
    """One label per comparison (a row of the plot), in the table's order: `a − b`, with the data
    set's name when the table covers more than one.

    Args:
        df: a differences table (columns data, a, b, …).

    Returns:
        One label per distinct (data, a, b), in order of first appearance.
    """
    keys = list(dict.fromkeys(zip(df["data"], df["a"], df["b"])))
    several = len({d for d, _, _ in keys}) > 1
    return [f"{a} − {b}" + (f"  ({d})" if several else "") for d, a, b in keys]


def unit_of(metric: str) -> str:
    """The unit of a metric's differences.

    Args:
        metric: a metric's name (`CA-SDRi`, `Acc_mix`, …).

    Returns:
        "percentage points" for an accuracy (`Acc…`), else "dB".
    """
    return "percentage points" if metric.lower().startswith("acc") else "dB"


def forest_figure(df: pd.DataFrame) -> Figure:
    """A forest plot of a differences table: one panel per metric, one row per comparison (the same
    rows in every panel, the first on top), the difference as a dot (filled when the printed table
    marks it: `metrics.intervals.significant`), its 95 % interval as a line, the smallest
    detectable difference as a grey band around 0, and 0 as a vertical line.

    Args:
        df: a table with the columns of table1_differences.csv (data, a, b, metric, difference,
            ci_low, ci_high, p_value, n_mixtures, min_detectable, excludes_zero).

    Returns:
        The matplotlib figure (close it when done).
    """
    plt = pyplot()
    metrics = list(dict.fromkeys(df["metric"]))
    keys = list(dict.fromkeys(zip(df["data"], df["a"], df["b"])))
    labels = comparison_labels(df)
    y_of = {k: len(keys) - 1 - i for i, k in enumerate(keys)}
    fig, axes = plt.subplots(1, len(metrics), sharey=True, squeeze=False,
                             figsize=(1.6 + 2.9 * len(metrics), 0.9 + 0.34 * len(keys)), dpi=100)
    for ax, metric in zip(axes[0], metrics):
        for r in df[df["metric"] == metric].itertuples(index=False):
            y = y_of[(r.data, r.a, r.b)]
            if isinstance(r.min_detectable, (int, float)) and math.isfinite(r.min_detectable):
                ax.barh(y, 2 * r.min_detectable, left=-r.min_detectable, height=0.7, color=BAND, zorder=0)
            marked = significant(bool(r.excludes_zero), float(r.p_value), int(r.n_mixtures))
            colour = SIGNIFICANT if marked else NOT_SIGNIFICANT
            ax.hlines(y, r.ci_low, r.ci_high, color=colour, lw=2, zorder=2)
            ax.plot([r.difference], [y], "o", ms=6, color=colour, mfc=colour if marked else "white",
                    mew=1.5, zorder=3)
        ax.axvline(0, color="black", lw=0.9, zorder=1)
        ax.set_title(metric, fontsize=10)
        ax.set_xlabel(f"a − b ({unit_of(metric)})", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(axis="x", color="#f0f0f0", zorder=0)
        ax.set_ylim(-0.6, len(keys) - 0.4)
    axes[0][0].set_yticks(range(len(keys)), labels[::-1])
    fig.tight_layout()
    return fig


def plot_forest(df: pd.DataFrame, path: Path) -> Path:
    """Write `forest_figure(df)` as a PNG at `path` and return `path`.

    Args:
        df: a differences table (`forest_figure`).
        path: the PNG to write.

    Returns:
        `path`.
    """
    plt = pyplot()
    fig = forest_figure(df)
    fig.savefig(path)
    plt.close(fig)
    return path
