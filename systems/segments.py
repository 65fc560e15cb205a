"""Where a separated waveform sounds, and where to cut one that holds two events far apart in time.

A USS output slot tends to gather sources of one kind; two events that never sound together (two
coughs seconds apart) often land in the same slot. Under the 2026 rules they are two targets, so
the self-guided pipeline may cut such a slot at its longest silent gap (`SelfGuided(split_gap_s=…)`).
The gap must be longer than the pauses inside one event: at most about 1.05 s in the built-in
classes' references, each measured against its own loudest frame (CupboardOpenClose, Dishes;
docs/notes/2026-12-06-one-slot-two-events.md). In a slot that also holds a louder event a quiet
event's pauses look longer, so the bound is a guide, not a guarantee.
"""
from __future__ import annotations

import numpy as np
import numpy.typing as npt

from s5bench.common.errors import S5Error
from s5bench.common.labels import SAMPLE_RATE

FRAME = 1600  # samples per activity frame: 50 ms at 32 kHz


def frame_energies(wave: npt.ArrayLike, frame: int = FRAME) -> np.ndarray:
    """Energy of each frame of a mono waveform (the last frame may be shorter).

    Args:
        wave: mono samples, shape (T,).
        frame: samples per frame, at least 1.

    Returns:
        float64 array of shape (ceil(T / frame),): the sum of squares of each frame's samples.

    Raises:
        S5Error: the waveform is not one-dimensional, or frame < 1.
    """
    x = np.asarray(wave, dtype=np.float64)
    if x.ndim != 1 or frame < 1:
        raise S5Error(f"frame energies need a mono waveform and a frame of at least 1 sample, "
                      f"not shape {x.shape} and frame {frame}")
    n = -(-len(x) // frame)
    padded = np.zeros(n * frame)
    padded[:len(x)] = x
    return (padded.reshape(n, frame) ** 2).sum(axis=1)


def active_runs(active: npt.ArrayLike) -> np.ndarray:
    """The runs of consecutive True values of a boolean sequence.

    Args:
        active: booleans, shape (N,).

    Returns:
        int array of shape (R, 2): each run's first index and one past its last, in order.
    """
    edges = np.diff(np.concatenate([[0], np.asarray(active, dtype=bool).astype(np.int8), [0]]))
    return np.stack([np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)], axis=1)


def split_point(wave: npt.ArrayLike, min_gap_s: float, threshold_db: float = 20.0,
                min_share: float = 0.1, sr: int = SAMPLE_RATE, frame: int = FRAME) -> int | None:
    """Where to cut a waveform that holds two events: the middle of its longest silent gap.

    A frame is active when its energy is within `threshold_db` of the loudest frame's. The cut
    is made in the longest run of inactive frames between two active ones (the first of equals),
    if that run lasts at least `min_gap_s` and each side of the cut holds at least `min_share` of
    the energy. Activity is relative to the whole waveform's loudest frame, so a quiet event
    beside a loud one shows only its loud parts.

    Args:
        wave: mono samples, shape (T,).
        min_gap_s: the shortest silent gap, in seconds, that separates two events.
        threshold_db: how far below the loudest frame a frame still counts as active.
        min_share: the least fraction of the energy on each side of the cut.
        sr: the sample rate in Hz.
        frame: samples per activity frame.

    Returns:
        The sample index of the cut (the second event starts there), or None: silent (or not
        finite), one run of activity, no gap long enough, or a side too faint.

    Raises:
        S5Error: as `frame_energies`.
    """
    energy = frame_energies(wave, frame)
    if energy.max(initial=0.0) <= 0.0:
        return None
    runs = active_runs(energy > energy.max() * 10.0 ** (-threshold_db / 10.0))
    if len(runs) < 2:
        return None
    gaps = runs[1:, 0] - runs[:-1, 1]  # inactive frames between consecutive runs
    k = int(np.argmax(gaps))  # the first of the longest
    if gaps[k] * frame < min_gap_s * sr:
        return None
    cut_frame = (runs[k, 1] + runs[k + 1, 0]) // 2
    share = energy[:cut_frame].sum() / energy.sum()
    if min(share, 1.0 - share) < min_share:
        return None
    return int(cut_frame * frame)
