"""Scene plans of the DCASE 2026 edition, in SpAudSyn's JSON schema (docs/task.md §7).

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

import math
from pathlib import Path

import numpy as np

from s5bench.common.labels import LABELS

ROOM_MODULE = "src.modules.spatial_audio_synthesizer.room"  # where the 2026 baseline keeps SpAudSyn's rooms
DEFAULTS_2026 = {"dupse_rate": 0.5, "max_n_dupse": 2, "dupse_min_angle": 60.0, "dupse_exclusion_folder_depth": 1}


def _source(source_file: str) -> str:
    """The first-level subfolder of a clip inside its class folder (the clip itself if none)."""
    parts = source_file.split("/")
    return parts[1] if len(parts) > 2 else source_file


def _angles_ok(room, candidates: np.ndarray, taken: list[np.ndarray], min_angle: float) -> np.ndarray:
    """Which candidate positions are more than `min_angle` degrees from every taken one."""
    if not taken:
        return np.ones(len(candidates), bool)
    unit = candidates / np.linalg.norm(candidates, axis=1, keepdims=True)
    ref = np.stack(taken)
    ref = ref / np.linalg.norm(ref, axis=1, keepdims=True)
    angles = np.degrees(np.arccos(np.clip(unit @ ref.T, -1.0, 1.0)))
    return np.all(angles > min_angle, axis=1)


def room_description(room, name: str, window_ms) -> dict:
    """SpAudSyn's `room` entry for a SOFA room."""
    return {"module": ROOM_MODULE, "main": "SofaRoom.from_metadata",
            "args": {"metadata": {"sofa_path": name, "sr": int(room.sr), "nchan": int(room.n_channels),
                                  "nrir": int(room.n_positions), "rir_len": int(room.n_taps),
                                  "direct_range_ms": list(window_ms)}}}


def sample_plan_2026(rng: np.random.Generator, *, targets, interference, noise, rooms, cfg: dict,
                     dirs: dict) -> dict:
    """One 2026 scene (cfg: the scene rules with DEFAULTS_2026; dirs: the banks' folders, as
    SpAudSyn's config names them)."""
    cfg = {**DEFAULTS_2026, **cfg}
    sr, duration = int(cfg["sr"]), float(cfg["duration"])
    room_name = rooms.names[rng.integers(len(rooms.names))]
    room = rooms.room(room_name)
    positions = np.asarray(room.positions, dtype=np.float64)
    classes = [lab for lab in targets.labels if lab in LABELS]
    lo, hi = cfg["n_targets"]
    n = int(rng.integers(lo, hi + 1))
    duplicated = n >= 2 and rng.random() < cfg["dupse_rate"]
    n_dup = int(rng.integers(1, min(n - 1, cfg["max_n_dupse"]) + 1)) if duplicated else 0
    if n - n_dup > len(classes):
        raise ValueError(f"{n - n_dup} target classes asked for, {targets.name} has only {len(classes)}")
    fg = []

    def event(label, item, position, snr_range, role):
        file_dur = item.n_frames / sr
        event_dur = min(file_dur, duration)
        return {
            "label": label,
            "source_file": item.source_file,
            "source_time": round(float(rng.uniform(0.0, file_dur - event_dur)) if file_dur > event_dur else 0.0, 6),
            "event_time": round(float(rng.uniform(0.0, duration - event_dur)), 6),
            "event_duration": round(float(event_dur), 6),
            "event_position": [[float(v) for v in position]],
            "snr": round(float(rng.uniform(*snr_range)), 6),
            "role": role,
        }

    for lab in rng.choice(classes, size=n - n_dup, replace=False):
        items = targets.items(str(lab))
        fg.append(event(str(lab), items[rng.integers(len(items))], positions[rng.integers(len(positions))],
                        cfg["target_snr"], "foreground"))
    base = [e["label"] for e in fg]
    for _ in range(n_dup):
        lab = base[rng.integers(len(base))]
        same = [e for e in fg if e["label"] == lab]
        ok = _angles_ok(room, positions, [np.asarray(e["event_position"][0]) for e in same], cfg["dupse_min_angle"])
        if not ok.any():
            raise ValueError(f"room {room_name}: no measured position is more than {cfg['dupse_min_angle']}° from "
                             f"every {lab} event already placed; a duplicate of {lab} cannot be placed")
        used = {_source(e["source_file"]) for e in same}
        items = [it for it in targets.items(lab) if _source(it.source_file) not in used]
        if not items:
            raise ValueError(f"class {lab} of {targets.name}: no clip left outside the subfolders its "
                             f"{len(same)} event(s) already use; a duplicate needs another source")
        fg.append(event(lab, items[rng.integers(len(items))], positions[rng.choice(np.flatnonzero(ok))],
                        cfg["target_snr"], "foreground"))
    fg.sort(key=lambda e: e["event_time"])
    lo, hi = cfg["n_interference"]
    int_labels = interference.labels if interference is not None else []
    inter = []
    for _ in range(int(rng.integers(lo, hi + 1)) if int_labels else 0):
        lab = str(int_labels[rng.integers(len(int_labels))])
        items = interference.items(lab)
        inter.append(event(lab, items[rng.integers(len(items))], positions[rng.integers(len(positions))],
                           cfg["interference_snr"], "interference"))
    inter.sort(key=lambda e: e["event_time"])
    files = noise.files()
    noise_file = files[rng.integers(len(files))]
    noise_dur = noise.n_frames(noise_file) / sr
    source_time = float(math.floor(rng.uniform(0.0, noise_dur - duration))) if noise_dur > duration else None
    bg = [{"label": None, "source_file": noise_file, "source_time": source_time, "event_time": 0,
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
    return {"config": config, "fg_events": fg, "bg_events": bg, "int_events": inter,
            "room": room_description(room, room_name, window)}
