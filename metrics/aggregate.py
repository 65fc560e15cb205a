"""Data-set figures from the scores of single mixtures (metrics/scene.py): the summary a results
table reports and the per-class table. Definitions as in scene.py's docstring."""
from __future__ import annotations

import math
import warnings

import numpy as np

from s5bench.common.editions import edition_of, ranking_metric
from s5bench.common.labels import LABELS

from .accuracy import acc_mix, acc_src
from .mixture_score import MixtureScore


def summarize(scores: list[MixtureScore]) -> dict[str, float]:
    """The data set's figures, as summary.csv and the results tables give them.

    Args:
        scores: the scores of every mixture of the data set (`score_mixture`), all of one edition.

    Returns:
        {"n_mixtures": int, "CA-SDRi" (2025) or "CAPI-SDRi" (2026): mean over the mixtures that
        have a value, dB; "SNRi": mean over all reference targets, dB; "Acc_mix": %; "Acc_src": %}.
        A figure with nothing to average is NaN.

    Raises:
        ValueError: If `scores` is empty, or holds scores of both editions.

    Warns:
        UserWarning: In 2025, when mixtures without any label (no CA-SDRi) are left out of its mean.

    Example:
        >>> from s5bench.metrics.aggregate import summarize
        >>> from s5bench.metrics.scene import MixtureScore
        >>> a = MixtureScore("mix_0", 2025, 6.0, [12.0, 0.0], ["Speech", "Dishes"], ["Speech"])  # Dishes missed
        >>> b = MixtureScore("mix_1", 2025, 4.0, [4.0], ["Blender"], ["Blender"])
        >>> {k: round(v, 2) for k, v in summarize([a, b]).items()}  # SNRi (12 + 0 + 4) / 3; Acc_src 2 / (2 + 0 + 1)
        {'n_mixtures': 2, 'CA-SDRi': 5.0, 'SNRi': 5.33, 'Acc_mix': 50.0, 'Acc_src': 66.67}
    """
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


def per_class_table(scores: list[MixtureScore]) -> list[dict[str, str | int | float]]:
    """The per-class table (per_class.csv): one row per target class, in `LABELS` order.

    Args:
        scores: the scores of the data set's mixtures (`score_mixture`).

    Returns:
        One dict per class: "class", "n_ref" (references), "tp", "fp", "fn" (label multisets: a
        class twice counts twice), "mean_sdri_tp" (mean SDRi of its matched pairs, dB) and
        "ca_sdri_term" (its mean ranking-metric term: pair SDRi, 0 per miss or false alarm, dB);
        the means are NaN where there is nothing to average.

    Example:
        >>> import numpy as np
        >>> from s5bench.metrics.aggregate import per_class_table
        >>> from s5bench.metrics.scene import score_mixture
        >>> s = np.array([5.0, 5.0, 5.0, 5.0])
        >>> x0 = s + np.array([5.0, -5.0, 5.0, -5.0])  # SNR(x0, s) = 0 dB
        >>> est = s + np.array([0.5, -0.5, 0.5, -0.5])  # SNR(est, s) = 20 dB
        >>> rows = {r["class"]: r for r in per_class_table([score_mixture(x0, {"Speech": s},
        ...                                                              {"Speech": est, "Doorbell": s})])}
        >>> {k: round(v, 4) for k, v in rows["Speech"].items() if k != "class"}
        {'n_ref': 1, 'tp': 1, 'fp': 0, 'fn': 0, 'mean_sdri_tp': 20.0, 'ca_sdri_term': 20.0}
        >>> rows["Doorbell"]  # a false alarm: no pair, one 0 term
        {'class': 'Doorbell', 'n_ref': 0, 'tp': 0, 'fp': 1, 'fn': 0, 'mean_sdri_tp': nan, 'ca_sdri_term': 0.0}
    """
    rows: list[dict[str, str | int | float]] = []
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
