"""Checks of the estimate files in a submission's eval_out/: each name read as the organisers'
script reads it, and each file's audio (rate, channels, length, finite samples)."""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import soundfile as sf

from s5bench.common.editions import edition_of
from s5bench.common.labels import LABEL_INDEX, SAMPLE_RATE


@dataclass(frozen=True)
class EstimateName:
    """A file name of eval_out/ read against the set: its mixture, slot index (None when the
    name has none) and label."""

    soundscape: str
    index: int | None
    label: str


def read_name(file_name: str, soundscapes, edition: int) -> tuple[EstimateName | None, list[str]]:
    """An estimate's file name read as the organisers' script reads it, with what is wrong with it.

    Their script takes the one soundscape name the file name starts with, then matches
    `^<soundscape>(_<digits>)?_<label>\\.wav$` and wants a known label. This reads it the same way
    and says more: no soundscape of the set, several (their check takes exactly one), the pattern,
    the label, and a slot index in a 2025 name (`<soundscape>_<Label>.wav` there).

    Args:
        file_name: the name in eval_out/.
        soundscapes: the set's mixture names.
        edition: 2025 or 2026.

    Returns:
        (the name read, or None where it cannot be; the problems, one sentence each).
    """
    from .names import official_pattern

    indexed = edition_of(edition).slot_index_in_names
    starts = sorted(s for s in soundscapes if file_name.startswith(s))
    if not starts:
        return None, ["names no mixture of the evaluation set (an estimate for a mixture not in the set)"]
    readings, labels = [], []
    for soundscape in starts:
        match = official_pattern(soundscape).fullmatch(file_name)
        if match:
            labels.append(match[2])
            if match[2] in LABEL_INDEX:
                readings.append(EstimateName(soundscape, None if match[1] is None else int(match[1]), match[2]))
    problems = []
    if len(starts) > 1:
        problems.append(f"starts with the names of {len(starts)} mixtures ({', '.join(starts)}); the organisers' "
                        "check needs exactly one")
    if not readings:
        form = "<soundscape>_<i>_<Label>.wav" if indexed else "<soundscape>_<Label>.wav"
        if labels:
            return None, problems + [f"unknown label {labels[-1]!r}; the labels are {', '.join(LABEL_INDEX)}"]
        return None, problems + [f"not of the form {form} (the pattern ^<soundscape>(_<digits>)?_<label>\\.wav$)"]
    if len(readings) > 1:
        return None, problems + [f"reads as an estimate of {len(readings)} mixtures: "
                                 f"{', '.join(r.soundscape for r in readings)}"]
    name = readings[0]
    if not indexed and name.index is not None:
        problems.append("a 2025 name has no slot index: <soundscape>_<Label>.wav")
    return name, problems


def audio_problems(data: bytes, length: int) -> list[str]:
    """What is wrong with an estimate's audio: not a readable wav, a sample rate other than
    32 kHz, more than one channel, a length other than its mixture's, NaN or Inf samples.

    Args:
        data: the file's bytes.
        length: its mixture's length in samples.

    Returns:
        One sentence per problem (empty: none).
    """
    try:
        audio, sr = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as err:
        return [f"not a readable audio file ({err})"]
    problems = []
    if sr != SAMPLE_RATE:
        problems.append(f"sample rate {sr} Hz; the mixtures' is {SAMPLE_RATE} Hz")
    if audio.shape[1] != 1:
        problems.append(f"{audio.shape[1]} channels; an estimate is mono (channel 0's image of its source)")
    if audio.shape[0] != length:
        problems.append(f"{audio.shape[0]} samples; its mixture has {length}")
    if not np.isfinite(audio).all():
        problems.append("NaN or Inf samples")
    return problems
