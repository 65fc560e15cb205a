"""Helpers shared by the real systems: labels from per-slot decisions, one-hots, no duplicates,
each slot's probability of its label."""
from __future__ import annotations

from collections.abc import Sequence

import torch

from s5bench.common.labels import LABEL_INDEX, LABELS, N_CLASSES, SILENCE


def dedupe(labels: list[str], scores: Sequence[float] | torch.Tensor) -> list[str]:
    """A class may fill one slot only: where several slots carry it, the best-scored keeps it
    and the others become silence.

    Args:
        labels: one mixture's slot labels.
        scores: one score per slot (higher is better; a tie keeps the first slot).

    Returns:
        A new list of the labels, each class in one slot only.
    """
    out = list(labels)
    for lab in set(labels) - {SILENCE}:
        slots = [i for i, x in enumerate(labels) if x == lab]
        keep = max(slots, key=lambda i: float(scores[i]))
        for i in slots:
            if i != keep:
                out[i] = SILENCE
    return out


def one_hots(labels: list[list[str]], device: torch.device | str | None = None) -> torch.Tensor:
    """B lists of slot labels -> (B, S, 18); silence is an all-zero row.

    Args:
        labels: B lists of S slot labels (S that of the first list).
        device: where the tensor is made (None: torch's default).

    Returns:
        Float tensor of shape (B, S, 18), 1.0 at each slot's class index.
    """
    out = torch.zeros(len(labels), len(labels[0]), N_CLASSES, device=device)
    for b, row in enumerate(labels):
        for s, lab in enumerate(row):
            if lab != SILENCE:
                out[b, s, LABEL_INDEX[lab]] = 1.0
    return out


def argmax_labels(logits: torch.Tensor, silent: torch.Tensor, unique: bool = True) -> list[list[str]]:
    """(B, S, 18) logits and (B, S) silence decisions -> labels; with `unique` (2025) a class
    in several slots keeps the most probable one.

    Args:
        logits: (B, S, 18) per-slot class logits.
        silent: (B, S) bool, True where a slot is silent.
        unique: a class fills one slot only (`dedupe` by softmax probability).

    Returns:
        B lists of S labels: each slot's most probable class, or `silence`.
    """
    prob, idx = torch.softmax(logits, -1).max(-1)
    out = []
    for b in range(logits.shape[0]):
        labs = [SILENCE if silent[b, s] else LABELS[int(idx[b, s])] for s in range(logits.shape[1])]
        out.append(dedupe(labs, prob[b]) if unique else labs)
    return out


def label_probabilities(labels: list[list[str]], class_probs: torch.Tensor,
                        silence_probs: torch.Tensor | None = None) -> torch.Tensor:
    """Each slot's probability of the label it was given, as the system's classifier scored it.

    Args:
        labels: B lists of S slot labels.
        class_probs: (B, S, 18) per-slot class probabilities, or (B, 18) for a tagger that scores
            the whole mixture (every slot reads its row).
        silence_probs: (B, S) each slot's probability of silence, for a classifier that has a
            silence output; None: a silent slot gets 1.0 (nothing was scored there).

    Returns:
        (B, S) float tensor on class_probs' device.

    Example:
        >>> import torch
        >>> from s5bench.common.labels import LABEL_INDEX
        >>> from s5bench.systems.slots import label_probabilities
        >>> p = torch.zeros(1, 18); p[0, LABEL_INDEX["Speech"]] = 0.75
        >>> label_probabilities([["Speech", "silence", "silence"]], p).tolist()
        [[0.75, 1.0, 1.0]]
    """
    B, S = len(labels), len(labels[0])
    probs = class_probs if class_probs.dim() == 3 else class_probs[:, None, :].expand(B, S, -1)
    out = torch.ones(B, S, device=probs.device, dtype=probs.dtype)
    for b, row in enumerate(labels):
        for s, lab in enumerate(row):
            if lab != SILENCE:
                out[b, s] = probs[b, s, LABEL_INDEX[lab]]
            elif silence_probs is not None:
                out[b, s] = silence_probs[b, s]
    return out
