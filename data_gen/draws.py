"""The random draws both editions' scene samplers share: one event (clip, excerpt, onset,
position, SNR) and the noise clip with its offset, and the order in which each edition spends its
random numbers (plans are pure functions of the stream, so that order is part of the rules)."""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .sources import Item, NoiseBank


@dataclass(frozen=True)
class DrawOrder:
    """How an edition's generator spends its random numbers (the editions' rules as data; plans
    are pure functions of the stream, so the order is part of the rules)."""

    position_before_times: bool  # 2026 (SpAudSyn) picks an event's position before its times
    duplicates: bool  # 2026: same-class duplicates (`dupse_*`)
    interferer_label_by_choice: bool  # 2025 picks an interferer's class with rng.choice, 2026 by index
    sort_interference: bool  # 2026 lists interferers in onset order


DRAW_ORDER = {2025: DrawOrder(False, False, True, False), 2026: DrawOrder(True, True, False, True)}


@dataclass
class Draw:
    """One event as drawn, before a schema writes it."""

    label: str
    source_file: str
    source_time: float
    event_time: float
    event_duration: float
    snr: float
    role: str
    position: np.ndarray


def draw_event(rng: np.random.Generator, items: list[Item], label: str, role: str, snr_range: Sequence[float],
               pick_position: Callable[[], np.ndarray], duration: float, sr: int, position_first: bool) -> Draw:
    """A clip of `items`, its excerpt offset (uniform over the part of a clip longer than the
    scene), its onset (uniform over the time it fits), its position (`pick_position()`) and SNR.

    Args:
        rng: the scene's generator (the order of its draws is part of the rules).
        items: the clips to choose from (one label's).
        label: the event's class.
        role: "foreground" or "interference", as the plan records it.
        snr_range: (low, high) of the uniform SNR in dB.
        pick_position: draws the event's position (x, y, z) in metres.
        duration: the scene's length in s (the event is cut to it).
        sr: sample rate in Hz (a clip's length in s is its n_frames / sr).
        position_first: draw the position before the times (2026) rather than after them (2025).

    Returns:
        The draw; times in s and the SNR rounded to 6 decimals.
    """
    item = items[rng.integers(len(items))]
    early = pick_position() if position_first else None
    file_dur = item.n_frames / sr
    event_dur = min(file_dur, duration)
    source_time = rng.uniform(0.0, file_dur - event_dur) if file_dur > event_dur else 0.0
    event_time = rng.uniform(0.0, duration - event_dur)
    position = early if early is not None else pick_position()
    return Draw(label, item.source_file, round(float(source_time), 6), round(float(event_time), 6),
                round(float(event_dur), 6), round(float(rng.uniform(snr_range[0], snr_range[1])), 6), role, position)


def noise_offset(rng: np.random.Generator, noise: NoiseBank, duration: float, sr: int) -> tuple[str, float | None]:
    """A noise file and its whole-second offset floor(U(0, dur − duration)); none (the file is
    extended) when it is not longer than the scene.

    Args:
        rng: the scene's generator.
        noise: the noise bank.
        duration: the scene's length in s.
        sr: sample rate in Hz.

    Returns:
        (file name, offset in s or None).
    """
    files = noise.files()
    name = files[rng.integers(len(files))]
    noise_dur = noise.n_frames(name) / sr
    return name, (float(math.floor(rng.uniform(0.0, noise_dur - duration))) if noise_dur > duration else None)
