"""The two JSON files of the 2026 package, in the organisers' form (the 2026 baseline v1.1.0's
evaluation): `eval_results.json` (each evaluation mixture's estimates with their probabilities)
and `dev_set_test_results.json` (the same system scored on the development set's test split)."""
from __future__ import annotations

import math
from dataclasses import dataclass

from s5bench.common.labels import N_SLOTS, SILENCE
from s5bench.metrics.scene import MixtureScore


@dataclass(frozen=True)
class Estimate:
    """One non-silent slot of an answer: its file in eval_out/, its label and probability."""

    filename: str
    label: str
    probability: float


@dataclass(frozen=True)
class SlotAnswer:
    """A system's answer for one mixture: its slots' labels and probabilities, in slot order.

    Attributes:
        soundscape: the mixture's name (its file name without `.wav`).
        labels: the N_SLOTS labels, `silence` for an empty slot.
        probabilities: the N_SLOTS probabilities in [0, 1] (1.0 where the system gave none).
    """

    soundscape: str
    labels: tuple[str, ...]
    probabilities: tuple[float, ...]


def eval_results(answers: list[tuple[str, list[Estimate]]], nparams: int, config: dict) -> dict:
    """The content of `eval_results.json`.

    Args:
        answers: (soundscape, its non-silent estimates) for every mixture of the evaluation set,
            an empty list for a mixture answered with nothing.
        nparams: the number of the system's model parameters.
        config: the system's config as loaded.

    Returns:
        {"nparams", "probabilities": [{"soundscape", "estimate": [{"filename", "label",
        "probability"}]}], "config"}.
    """
    return {"nparams": int(nparams),
            "probabilities": [{"soundscape": soundscape,
                               "estimate": [{"filename": e.filename, "label": e.label,
                                             "probability": float(e.probability)} for e in estimates]}
                              for soundscape, estimates in answers],
            "config": config}


def _number(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def padded(labels: list[str]) -> list[str]:
    """Labels padded with `silence` to N_SLOTS, as the official data set lists a mixture's references."""
    return list(labels) + [SILENCE] * (N_SLOTS - len(labels))


def dev_test_results(scores: list[MixtureScore], answers: dict[str, SlotAnswer], summary: dict,
                     nparams: int, config: dict) -> dict:
    """The content of `dev_set_test_results.json`: the system scored on the dev set's test split.

    Args:
        scores: every test mixture's MixtureScore (2026 edition).
        answers: the system's answer for each of them, by soundscape.
        summary: `metrics.aggregate.summarize(scores)`.
        nparams: the number of the system's model parameters.
        config: the system's config as loaded.

    Returns:
        {"CAPI-SDRi": {"mean"}, "label_metrics": {"accuracy_mix", "accuracy_src"}, "nparams",
        "details": per mixture {"soundscape", "ref_labels", "est_labels", "probabilities",
        "metrics": [{"metric": "CAPI-SDRi", "value"}, {"metric": "label_metrics", "value":
        {"acc", "tp", "fp", "fn"}}]}, "config"}; a mixture with no label on either side has the
        value null, and the mean leaves it out (as the official evaluation).

    Raises:
        KeyError: If a scored mixture has no answer, or the summary is not of the 2026 edition.
    """
    details = []
    for s in scores:
        answer = answers[s.soundscape]
        details.append({
            "soundscape": s.soundscape,
            "ref_labels": padded(s.ref_labels),
            "est_labels": list(answer.labels),
            "probabilities": [float(p) for p in answer.probabilities],
            "metrics": [{"metric": "CAPI-SDRi", "value": _number(s.capi_sdri)},
                        {"metric": "label_metrics",
                         "value": {"acc": s.label_match, "tp": s.tp, "fp": s.fp, "fn": s.fn}}],
        })
    return {"CAPI-SDRi": {"mean": _number(summary["CAPI-SDRi"])},
            "label_metrics": {"accuracy_mix": float(summary["Acc_mix"]), "accuracy_src": float(summary["Acc_src"])},
            "nparams": int(nparams), "details": details, "config": config}
