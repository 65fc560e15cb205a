"""The label metrics of the S5 task on label multisets (`silence` never counts): the counts of one
mixture, Acc_src and Acc_mix over a data set. Definitions as in metrics/scene.py's docstring."""
from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING

from s5bench.common.labels import SILENCE

if TYPE_CHECKING:
    from collections.abc import Iterable


def label_counts(ref_labels: Iterable[str], est_labels: Iterable[str]) -> tuple[int, int, int]:
    """True positives, false positives and false negatives of one mixture's label multisets.

    `silence` is removed from both sides; a class given twice on both sides counts twice.

    Args:
        ref_labels: the reference labels of the mixture.
        est_labels: the estimated labels (`silence` for empty slots).

    Returns:
        (TP, FP, FN).

    Example:
        >>> from s5bench.metrics.accuracy import label_counts
        >>> label_counts(["Speech", "Speech", "Dishes"], ["Speech", "Blender", "silence"])
        (1, 1, 2)
    """
    ref = Counter(lab for lab in ref_labels if lab != SILENCE)
    est = Counter(lab for lab in est_labels if lab != SILENCE)
    tp = sum((ref & est).values())
    return tp, sum(est.values()) - tp, sum(ref.values()) - tp


def acc_src(ref_label_lists: Iterable[Iterable[str]], est_label_lists: Iterable[Iterable[str]]) -> float:
    """Acc_src in %: 100·ΣTP / (ΣTP + ΣFP + ΣFN) pooled over mixtures (the official 2026 label metric).

    Args:
        ref_label_lists: the reference labels of each mixture.
        est_label_lists: the estimated labels of each mixture, in the same order.

    Returns:
        The pooled accuracy in % (0-100); NaN when no mixture has a label on either side.

    Raises:
        ValueError: If the two lists have different lengths.

    Example:
        >>> from s5bench.metrics.accuracy import acc_src
        >>> round(acc_src([["Speech", "Dishes"], []], [["Speech"], ["Blender"]]), 2)  # 1 / (1 + 1 + 1)
        33.33
    """
    counts = [label_counts(r, e) for r, e in zip(ref_label_lists, est_label_lists, strict=True)]
    tp, fp, fn = (sum(c[k] for c in counts) for k in range(3))
    return 100.0 * tp / (tp + fp + fn) if tp + fp + fn else math.nan


def acc_mix(ref_label_lists: Iterable[Iterable[str]], est_label_lists: Iterable[Iterable[str]]) -> float:
    """Acc_mix in %: the share of mixtures whose estimated label multiset equals the reference's.

    Order does not matter and `silence` is removed; a class twice must be estimated twice.

    Args:
        ref_label_lists: the reference labels of each mixture.
        est_label_lists: the estimated labels of each mixture, in the same order.

    Returns:
        The percentage of mixtures (0-100).

    Raises:
        ValueError: If there is no mixture, or the two lists have different lengths.

    Example:
        >>> from s5bench.metrics.accuracy import acc_mix
        >>> acc_mix([["Speech", "Dishes"], ["Blender"]], [["Dishes", "Speech", "silence"], ["Speech"]])
        50.0
    """
    pairs = list(zip(ref_label_lists, est_label_lists, strict=True))
    if not pairs:
        raise ValueError("acc_mix of an empty data set")
    hits = sum(label_counts(r, e)[1:] == (0, 0) for r, e in pairs)
    return 100.0 * hits / len(pairs)
