"""Breakdowns of a scored stage that the official tools do not give, computed from its
`per_mixture.csv` and `per_class.csv` (the rows `write_reports` writes):

- by number of targets (0–3), and in 2026 by scene type (no target, distinct classes, a class
  repeated): the ranking metric (mean over the group's mixtures that have a value), SNRi (mean
  over the group's targets), Acc_mix and Acc_src (pooled TP / (TP + FP + FN)) — the `all` row
  is the stage's summary.csv;
- silence: of the slots a system answered as silence, the share that are truly silent
  (precision), and of the truly silent slots, the share answered as silence (recall). Slots are
  counted as multisets: a mixture with k references and e estimates has 3 − k silent slots, of
  which min(3 − k, 3 − e) are rightly answered;
- by class: TP, FP, FN, the mean SDRi of its matched pairs and its ranking-metric term (from
  per_class.csv), and its accuracy TP / (TP + FP + FN);
- slot outcomes of one mixture: each estimated label a true positive or a false alarm, each
  reference matched or missed (multisets, as Acc_src counts them).
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from s5bench.common.editions import edition_of
from s5bench.common.labels import N_SLOTS

# pandas declares few of its types: a table is handled as `Any` inside a function (`table: Any = rows`),
# and what leaves the function is typed (numbers, lists, dicts).

SCENE_TYPES = ("no target", "distinct classes", "a class repeated")


def labels_of(cell: object) -> list[str]:
    """The labels of a `ref_labels` / `est_labels` cell of per_mixture.csv as a list.

    Args:
        cell: the cell: ';'-joined labels; empty, None or NaN (as pandas reads an empty cell) for none.

    Returns:
        The labels in the cell's order.

    Example:
        >>> from s5bench.metrics.breakdown import labels_of
        >>> labels_of("Speech;Dishes"), labels_of(float("nan"))
        (['Speech', 'Dishes'], [])
    """
    return [] if cell is None or (isinstance(cell, float) and math.isnan(cell)) or cell == "" else str(cell).split(";")


def metric_column(per_mixture: pd.DataFrame) -> str:
    """The ranking metric's column of a per_mixture table: `capi_sdri` (2026) if present, else `ca_sdri`.

    Args:
        per_mixture: a stage's per_mixture.csv as a DataFrame.

    Returns:
        The column name.
    """
    return "capi_sdri" if "capi_sdri" in per_mixture.columns else "ca_sdri"


def scene_type(ref_labels: list[str]) -> str:
    """The scene type of a mixture from its reference labels (one of `SCENE_TYPES`).

    Args:
        ref_labels: the mixture's reference labels.

    Returns:
        "no target", "distinct classes" or "a class repeated".

    Example:
        >>> from s5bench.metrics.breakdown import scene_type
        >>> scene_type([]), scene_type(["Speech", "Dishes"]), scene_type(["Speech", "Speech"])
        ('no target', 'distinct classes', 'a class repeated')
    """
    if not ref_labels:
        return SCENE_TYPES[0]
    return SCENE_TYPES[2] if len(set(ref_labels)) < len(ref_labels) else SCENE_TYPES[1]


def group_figures(rows: pd.DataFrame, metric: str) -> dict[str, float]:
    """The summary figures of a group of per_mixture rows, plus silence precision and recall.

    Args:
        rows: per_mixture rows (columns n_ref, n_est, snri, tp, fp, fn, label_match and `metric`).
        metric: the ranking metric's column (`metric_column`).

    Returns:
        {"n_mixtures", "n_targets", "metric" (mean over the rows that have a value, dB), "SNRi"
        (mean over the targets, dB), "Acc_mix", "Acc_src", "silence_precision", "silence_recall"
        (%)}; a figure with nothing to count is NaN.

    Raises:
        KeyError: If a column is missing.

    Example:
        >>> import pandas as pd
        >>> from s5bench.metrics.breakdown import group_figures
        >>> rows = pd.DataFrame({"n_ref": [2, 0], "n_est": [1, 0], "ca_sdri": [6.0, float("nan")],
        ...                      "snri": [6.0, float("nan")], "tp": [1, 0], "fp": [0, 0], "fn": [1, 0],
        ...                      "label_match": [False, True]})
        >>> f = group_figures(rows, "ca_sdri")
        >>> [float(f[k]) for k in ("metric", "SNRi", "Acc_mix", "Acc_src")]  # Acc_src 1 / (1 + 0 + 1)
        [6.0, 6.0, 50.0, 50.0]
        >>> float(f["silence_precision"]), float(f["silence_recall"])  # 2 + 3 silent answers, 1 + 3 silent slots
        (80.0, 100.0)
    """
    table: Any = rows

    def numbers(column: str) -> npt.NDArray[np.float64]:
        return np.asarray(table[column], dtype=np.float64)

    n_ref, n_est = np.asarray(table["n_ref"], dtype=np.int64), np.asarray(table["n_est"], dtype=np.int64)
    values, snri = numbers(metric), numbers("snri")
    with_targets = n_ref > 0
    counted = float((numbers("tp") + numbers("fp") + numbers("fn")).sum())
    answered, truly = N_SLOTS - n_est, N_SLOTS - n_ref
    right = np.minimum(answered, truly)
    n_targets = int(n_ref.sum())
    return {
        "n_mixtures": len(table),
        "n_targets": n_targets,
        "metric": float(np.nanmean(values)) if np.isfinite(values).any() else math.nan,
        "SNRi": float((snri[with_targets] * n_ref[with_targets]).sum() / n_targets) if n_targets else math.nan,
        "Acc_mix": 100.0 * float(np.asarray(table["label_match"], dtype=bool).mean()) if len(table) else math.nan,
        "Acc_src": 100.0 * float(numbers("tp").sum()) / counted if counted else math.nan,
        "silence_precision": 100.0 * int(right.sum()) / int(answered.sum()) if answered.sum() else math.nan,
        "silence_recall": 100.0 * int(right.sum()) / int(truly.sum()) if truly.sum() else math.nan,
    }


def breakdown(per_mixture: pd.DataFrame, per_class: pd.DataFrame | None, edition: int) -> pd.DataFrame:
    """The breakdown table of a scored stage: all, by n_targets (0–3), by scene type (2026), by class.

    Args:
        per_mixture: the stage's per_mixture.csv as a DataFrame.
        per_class: its per_class.csv as a DataFrame, or None for no class rows.
        edition: 2025 or 2026 (scene-type rows in 2026 only).

    Returns:
        Columns "breakdown" (all | n_targets | scene_type | class), "group", and the figures of
        `group_figures` (class rows: n_targets, metric, mean_sdri_tp, Acc_src, tp, fp, fn); counts
        are nullable integers, figures in dB or %. Groups without a mixture are left out.

    Raises:
        S5Error: If the edition is unknown.
        KeyError: If a column is missing.
    """
    metric = metric_column(per_mixture)
    mixtures: Any = per_mixture
    out: list[dict[str, str | int | float]] = [{"breakdown": "all", "group": "all",
                                                **group_figures(per_mixture, metric)}]
    for k in range(N_SLOTS + 1):
        rows = mixtures.loc[mixtures["n_ref"] == k]
        if len(rows):
            out.append({"breakdown": "n_targets", "group": str(k), **group_figures(rows, metric)})
    if edition_of(edition).repeated_classes:  # scene types differ only where a class may repeat
        types = np.array([scene_type(labels_of(c)) for c in mixtures["ref_labels"]], dtype=object)
        for kind in SCENE_TYPES:
            rows = mixtures.loc[types == kind]
            if len(rows):
                out.append({"breakdown": "scene_type", "group": kind, **group_figures(rows, metric)})
    if per_class is not None:
        classes: Any = per_class
        for row in classes.to_dict("records"):
            tp, fp, fn = int(row["tp"]), int(row["fp"]), int(row["fn"])
            if tp + fp + fn:
                out.append({"breakdown": "class", "group": str(row["class"]), "n_targets": int(row["n_ref"]),
                            "metric": float(row["ca_sdri_term"]), "mean_sdri_tp": float(row["mean_sdri_tp"]),
                            "Acc_src": 100.0 * tp / (tp + fp + fn), "tp": tp, "fp": fp, "fn": fn})
    table: Any = pd.DataFrame(out)
    for col in ("n_mixtures", "n_targets", "tp", "fp", "fn"):
        if col in table:
            table[col] = table[col].astype("Int64")  # counts stay integers beside the class rows' blanks
    return table


def slot_outcomes(ref_labels: list[str], est_labels: list[str]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The outcome of each slot of one mixture, counted on label multisets as Acc_src counts them.

    Args:
        ref_labels: the reference labels.
        est_labels: the non-silent estimated labels.

    Returns:
        ([(label, "tp" | "false alarm")] per estimate, [(label, "matched" | "missed")] per reference).

    Example:
        >>> from s5bench.metrics.breakdown import slot_outcomes
        >>> slot_outcomes(["Speech", "Speech"], ["Speech", "Dishes"])
        ([('Speech', 'tp'), ('Dishes', 'false alarm')], [('Speech', 'matched'), ('Speech', 'missed')])
    """
    left = Counter(ref_labels)
    ests: list[tuple[str, str]] = []
    for lab in est_labels:
        ests.append((lab, "tp" if left[lab] > 0 else "false alarm"))
        left[lab] -= 1
    found = Counter(est_labels)
    refs: list[tuple[str, str]] = []
    for lab in ref_labels:
        refs.append((lab, "matched" if found[lab] > 0 else "missed"))
        found[lab] -= 1
    return ests, refs


def stage_changes(per_stage: Mapping[str, pd.DataFrame], threshold_db: float = 0.05) -> pd.DataFrame:
    """Per mixture and stage (after the first), the change of the ranking metric over the stage before.

    Args:
        per_stage: {stage: its per_mixture DataFrame}, in pipeline order.
        threshold_db: the largest change in dB counted as "unchanged".

    Returns:
        Columns "stage", "previous", "soundscape", "delta" (dB) and "verdict" ("helped", "hurt",
        "unchanged", or "no value" where either side is NaN); mixtures of both stages only.

    Example:
        >>> import pandas as pd
        >>> from s5bench.metrics.breakdown import stage_changes
        >>> a = pd.DataFrame({"soundscape": ["m0", "m1", "m2"], "ca_sdri": [5.0, 5.0, 5.0]})
        >>> b = pd.DataFrame({"soundscape": ["m0", "m1", "m2"], "ca_sdri": [5.25, 5.03125, 4.5]})
        >>> [(r["soundscape"], r["delta"], r["verdict"]) for r in stage_changes({"a": a, "b": b}).to_dict("records")]
        [('m0', 0.25, 'helped'), ('m1', 0.03125, 'unchanged'), ('m2', -0.5, 'hurt')]
    """
    names = list(per_stage)
    rows: list[dict[str, str | float]] = []
    for before, after in zip(names, names[1:]):
        a: Any = per_stage[before]
        b: Any = per_stage[after]
        metric = metric_column(a)
        merged = a[["soundscape", metric]].merge(b[["soundscape", metric]], on="soundscape", suffixes=("_a", "_b"))
        for r in merged.itertuples(index=False):
            delta = float(r[2]) - float(r[1])
            verdict = ("no value" if math.isnan(delta) else "helped" if delta > threshold_db
                       else "hurt" if delta < -threshold_db else "unchanged")
            rows.append({"stage": after, "previous": before, "soundscape": str(r[0]), "delta": delta,
                         "verdict": verdict})
    return pd.DataFrame(rows, columns=["stage", "previous", "soundscape", "delta", "verdict"])
