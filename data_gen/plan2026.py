"""The 2026 edition's part of the scene sampler (data_gen.plan): same-class duplicates and
SpAudSyn's JSON schema (docs/task.md §7).

The rules are the 2026 baseline's training generator's: 0–3 targets (a recipe may ask 1–3 for
separator training) at 5–20 dB; with n ≥ 2 and probability `dupse_rate`, n_dup ∈ 1…min(n − 1,
`max_n_dupse`) of them copy the class of a target already drawn, each placed at a measured
position more than `dupse_min_angle` degrees (angle of the position vectors from the SOFA
origin) from every event of its class, its file from another first-level subfolder of the
class folder than the files its class already uses (clips lying directly in the class folder
count as their own subfolder); 0–2 interferers at 0–15 dB; the noise from a whole-second offset
floor(U(0, dur − duration)), or none (tiled) when the file is not longer than the scene. A
duplicate that cannot be placed or has no file left is an error naming the room or the class.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from s5bench.common.errors import S5Error

from .draws import Draw, draw_event
from .schema import BackgroundEvent, PlanEvent, ScenePlan

if TYPE_CHECKING:
    from .rooms import SofaRoom
    from .sources import SourceBank

ROOM_MODULE = "src.modules.spatial_audio_synthesizer.room"  # where the 2026 baseline keeps SpAudSyn's rooms


def _source(source_file: str) -> str:
    """The first-level subfolder of a clip inside its class folder (the clip itself if none)."""
    parts = source_file.split("/")
    return parts[1] if len(parts) > 2 else source_file


def _angles_ok(candidates: np.ndarray, taken: list[np.ndarray], min_angle: float) -> np.ndarray:
    """Which candidate positions are more than `min_angle` degrees from every taken one."""
    if not taken:
        return np.ones(len(candidates), bool)
    unit = candidates / np.linalg.norm(candidates, axis=1, keepdims=True)
    ref = np.stack(taken)
    ref = ref / np.linalg.norm(ref, axis=1, keepdims=True)
    angles = np.degrees(np.arccos(np.clip(unit @ ref.T, -1.0, 1.0)))
    return np.all(angles > min_angle, axis=1)


def room_description(room: SofaRoom, name: str, window_ms: Sequence[float]) -> dict:
    """SpAudSyn's `room` entry for a SOFA room.

    Args:
        room: the open room (its rate, channels, positions and taps are recorded).
        name: its file name.
        window_ms: the direct-path window (ms before the peak, ms after it).

    Returns:
        {"module", "main", "args": {"metadata": {sofa_path, sr, nchan, nrir, rir_len, direct_range_ms}}}.
    """
    return {"module": ROOM_MODULE, "main": "SofaRoom.from_metadata",
            "args": {"metadata": {"sofa_path": name, "sr": int(room.sr), "nchan": int(room.n_channels),
                                  "nrir": int(room.n_positions), "rir_len": int(room.n_taps),
                                  "direct_range_ms": list(window_ms)}}}


def draw_duplicates(rng: np.random.Generator, fg: list[Draw], n_dup: int, targets: SourceBank, positions: np.ndarray,
                    room_name: str, cfg: dict, duration: float, sr: int) -> list[Draw]:
    """`n_dup` same-class duplicates of the targets drawn so far: each copies a drawn class, takes a
    clip from a first-level subfolder its class does not use yet and a position more than
    `dupse_min_angle` degrees from every event of its class.

    Args:
        rng: the scene's generator.
        fg: the targets drawn so far (each duplicate copies the class of one of them).
        n_dup: duplicates to draw.
        targets: the target bank.
        positions: (M, 3) the room's measured positions in metres.
        room_name: the room's file name, for messages.
        cfg: the scene rules (`target_snr`, `dupse_min_angle`).
        duration: the scene's length in s.
        sr: sample rate in Hz.

    Returns:
        The duplicates, in the order drawn.

    Raises:
        S5Error: If no position is far enough from the class's events, or the class has no clip
            left outside the subfolders it uses.
    """
    out = []
    base = [e.label for e in fg]
    for _ in range(n_dup):
        lab = base[rng.integers(len(base))]
        same = [e for e in fg + out if e.label == lab]
        ok = _angles_ok(positions, [np.asarray(e.position) for e in same], cfg["dupse_min_angle"])
        if not ok.any():
            raise S5Error(f"room {room_name}: no measured position is more than {cfg['dupse_min_angle']}° from "
                          f"every {lab} event already placed; a duplicate of {lab} cannot be placed")
        used = {_source(e.source_file) for e in same}
        items = [it for it in targets.items(lab) if _source(it.source_file) not in used]
        if not items:
            raise S5Error(f"class {lab} of {targets.name}: no clip left outside the subfolders its "
                          f"{len(same)} event(s) already use; a duplicate needs another source")
        out.append(draw_event(rng, items, lab, "foreground", cfg["target_snr"],
                              lambda: positions[rng.choice(np.flatnonzero(ok))], duration, sr, position_first=True))
    return out


def plan_2026(cfg: dict, fg: list[Draw], inter: list[Draw], noise_file: str, noise_time: float | None,
              room: SofaRoom, room_name: str, dirs: dict) -> ScenePlan:
    """SpAudSyn's schema (its config names the banks' folders `dirs`, its `room` is a description).

    Args:
        cfg: the scene rules (DEFAULT_CONFIG's keys).
        fg: the targets, in onset order.
        inter: the interferers.
        noise_file: the noise clip's name.
        noise_time: its offset in s (None: the file is tiled to the scene).
        room: the room (described in the plan's `room`).
        room_name: the room's file name.
        dirs: the banks' folders (keys targets, interference, noise, rooms; missing ones written "").

    Returns:
        The plan.
    """

    def event(d: Draw) -> PlanEvent:
        return {"label": d.label, "source_file": d.source_file, "source_time": d.source_time,
                "event_time": d.event_time, "event_duration": d.event_duration,
                "event_position": [[float(v) for v in d.position]], "snr": d.snr, "role": d.role}

    duration, sr = float(cfg["duration"]), int(cfg["sr"])
    bg: list[BackgroundEvent] = [{"label": None, "source_file": noise_file, "source_time": noise_time, "event_time": 0,
           "event_duration": duration, "event_position": None, "snr": 0, "role": "background"}]
    window = tuple(cfg.get("spatialize_direct_path_time_ms", (6, 50)))
    config = {"duration": duration, "sr": sr, "max_event_overlap": int(cfg["max_event_overlap"]),
              "max_event_dur": duration, "ref_db": float(cfg["ref_db"]),
              "foreground_dir": dirs.get("targets", ""), "background_dir": dirs.get("noise", ""),
              "interference_dir": dirs.get("interference", ""),
              "room_config": {"module": ROOM_MODULE, "main": "SofaRoom",
                              "args": {"path": str(Path(dirs.get("rooms", "")) / room_name),
                                       "direct_range_ms": list(window)}},
              "verbose": False, "edition": 2026}
    return {"config": config, "fg_events": [event(d) for d in fg], "bg_events": bg,
            "int_events": [event(d) for d in inter], "room": room_description(room, room_name, window)}
