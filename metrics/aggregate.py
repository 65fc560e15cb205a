"""Data-set figures from the scores of single mixtures (metrics/scene.py): the label counts and
accuracies (Acc_src, Acc_mix), the summary a results table reports, and the per-class table.
Definitions as in scene.py's docstring."""
from __future__ import annotations

import math
import warnings
from collections import Counter
from typing import TYPE_CHECKING

import numpy as np

from s5bench.common.editions import edition_of, ranking_metric
from s5bench.common.labels import LABELS, SILENCE

if TYPE_CHECKING:
    from .scene import MixtureScore


def label_counts(ref_labels, est_labels) -> tuple[int, int, int]:
    """(TP, FP, FN) of one mixture's label multisets, silence removed."""
    ref = Counter(lab for lab in ref_labels if lab != SILENCE)
    est = Counter(lab for lab in est_labels if lab != SILENCE)
    tp = sum((ref & est).values())
    return tp, sum(est.values()) - tp, sum(ref.values()) - tp


def acc_src(ref_label_lists, est_label_lists) -> float:
    """Pooled 100·ΣTP/(ΣTP+ΣFP+ΣFN) over mixtures (the official 2026 label metric)."""
    counts = [label_counts(r, e) for r, e in zip(ref_label_lists, est_label_lists, strict=True)]
    tp, fp, fn = (sum(c[k] for c in counts) for k in range(3))
    return 100.0 * tp / (tp + fp + fn) if tp + fp + fn else math.nan


def acc_mix(ref_label_lists, est_label_lists) -> float:
    """Percentage of mixtures whose predicted label multiset equals the true one (silence removed)."""
    pairs = list(zip(ref_label_lists, est_label_lists, strict=True))
    if not pairs:
        raise ValueError("acc_mix of an empty data set")
    hits = sum(label_counts(r, e)[1:] == (0, 0) for r, e in pairs)
    return 100.0 * hits / len(pairs)


def summarize(scores: list[MixtureScore]) -> dict:
    """The data set's figures: n_mixtures, CA-SDRi (2025) or CAPI-SDRi (2026), SNRi, Acc_mix, Acc_src."""
    if not scores:
        raise ValueError("no mixtures to summarise")
    editions = {s.edition for s in scores}
    if len(editions) > 1:
        raise ValueError(f"scores of several editions cannot be summarised together: {sorted(editions)}")
    edition = editions.pop()
    values = np.array([s.capi_sdri for s in scores])
    n_nan = int(np.isnan(values).sum())
    if n_nan and not edition_of(edition).repeated_classes:  # 2026: no label on either side is legal
        warnings.warn(f"{n_nan} mixture(s) have neither reference nor estimated targets; their CA-SDRi is "
                      "undefined (NaN, as in the official code) and they are left out of the CA-SDRi mean")
    snri_all = [v for s in scores for v in s.snri]
    refs, ests = [s.ref_labels for s in scores], [s.est_labels for s in scores]
    return {
        "n_mixtures": len(scores),
        ranking_metric(edition): float(np.nanmean(values)) if n_nan < len(scores) else math.nan,
        "SNRi": float(np.mean(snri_all)) if snri_all else math.nan,
        "Acc_mix": acc_mix(refs, ests),
        "Acc_src": acc_src(refs, ests),
    }


def per_class_table(scores: list[MixtureScore]) -> list[dict]:
    """One row per class: reference count, TP/FP/FN (multisets: a class twice counts twice), mean
    SDRi over its matched pairs and its mean ranking-metric term (pair SDRi, 0 per miss or false alarm)."""
    rows = []
    for lab in LABELS:
        pairs = [v for s in scores for v in s.pair_sdri.get(lab, [])]
        terms = [v for s in scores for v in s.class_terms.get(lab, [])]
        n_ref = sum(s.ref_labels.count(lab) for s in scores)
        n_est = sum(s.est_labels.count(lab) for s in scores)
        tp = sum(min(s.ref_labels.count(lab), s.est_labels.count(lab)) for s in scores)
        rows.append({
            "class": lab,
            "n_ref": n_ref,
            "tp": tp,
            "fp": n_est - tp,
            "fn": n_ref - tp,
            "mean_sdri_tp": float(np.mean(pairs)) if pairs else math.nan,
            "ca_sdri_term": float(np.mean(terms)) if terms else math.nan,
        })
    return rows
