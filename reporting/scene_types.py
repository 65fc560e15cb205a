"""Table 2's breakdown by scene type (2026 edition): each measured system's ranking metric, Acc_mix
and Acc_src on the mixtures without a target, with distinct classes, and with a class repeated
(`metrics.breakdown.scene_type`), each figure with its 95 % interval over that group's mixtures.

A group's figure is the same ratio of sums as the whole set's (`metrics.intervals.Contributions`),
restricted to the group; CAPI-SDRi has no value on mixtures without a target that were answered
with nothing, so that row's CAPI-SDRi is the false alarms' (0 dB each) or empty.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from s5bench.common.editions import ranking_metric
from s5bench.common.errors import S5Error
from s5bench.metrics.breakdown import SCENE_TYPES, labels_of, scene_type
from s5bench.metrics.intervals import Contributions, contributions_from_table, figure_intervals

FIGURES = ("Acc_mix", "Acc_src")  # after the edition's ranking metric
MIN_FOR_INTERVAL = 2  # an interval over mixtures needs at least two of them


def subset(c: Contributions, keep: np.ndarray) -> Contributions:
    """The contributions of the mixtures where `keep` is True.

    Args:
        c: a data set's contributions.
        keep: (n_mixtures,) bool, in `c`'s mixture order.

    Returns:
        Contributions of those mixtures only.
    """
    return Contributions(c.metrics, tuple(m for m, k in zip(c.mixtures, keep) if k), c.num[keep], c.den[keep])


def _figure(c: Contributions, metric: str) -> float:
    k = c.metrics.index(metric)
    den = float(c.den[:, k].sum())
    return float(c.num[:, k].sum()) / den if den > 0 else math.nan


def scene_type_table(stages: dict[tuple[str, str], Path], edition: int, n_resamples: int, seed: int
                     ) -> tuple[pd.DataFrame, dict[str, list[tuple[float, float]]] | None]:
    """One row per (data set, system, scene type) of the scored stages.

    Args:
        stages: {(data name, system name): the stage folder holding per_mixture.csv}, in table order.
        edition: 2025 or 2026 (names the ranking metric).
        n_resamples: bootstrap resamples for the intervals (0: none). seed: their seed.

    Returns:
        (table with columns data, system, scene_type, n_mixtures, the ranking metric, Acc_mix,
        Acc_src; intervals {column: one (low, high) per row} or None without resamples). A group
        with fewer than 2 mixtures gets NaN bounds.

    Raises:
        ValueError: a per_mixture.csv lacks a column (named).
    """
    metric = ranking_metric(edition)
    columns = (metric, *FIGURES)
    rows, bounds = [], {col: [] for col in columns}
    for (data_name, system), folder in stages.items():
        path = Path(folder) / "per_mixture.csv"
        table = pd.read_csv(path)
        if "ref_labels" not in table.columns:
            raise S5Error(f"{path}: no column ref_labels")
        contrib = contributions_from_table(table, edition, where=str(path))
        types = np.array([scene_type(labels_of(cell)) for cell in table["ref_labels"]])
        for kind in SCENE_TYPES:
            group = subset(contrib, types == kind)
            rows.append({"data": data_name, "system": system, "scene_type": kind, "n_mixtures": len(group),
                         **{col: _figure(group, col) for col in columns}})
            nan = (math.nan, math.nan)
            found = (figure_intervals(group, n_resamples, seed) if n_resamples and len(group) >= MIN_FOR_INTERVAL
                     else {})
            for col in columns:
                bounds[col].append(found.get(col, nan))
    df = pd.DataFrame(rows, columns=["data", "system", "scene_type", "n_mixtures", *columns])
    return df, (bounds if n_resamples else None)
