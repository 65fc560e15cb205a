"""Scene plans: the SpatialScaper fork's JSON schema, sampled with the task's rules."""
from __future__ import annotations

import math

import numpy as np

from s5bench.common.editions import edition_of
from s5bench.common.labels import LABELS, SAMPLE_RATE

DEFAULT_CONFIG = {
    "duration": 10.0,
    "sr": SAMPLE_RATE,
    "ref_db": -50.0,
    "ref_channel": 0,
    "max_event_overlap": 3,
    "spatialize_direct_path_time_ms": [6, 50],
    "n_targets": [1, 3],
    "target_snr": [5.0, 20.0],
    "n_interference": [1, 2],
    "interference_snr": [0.0, 15.0],
    "edition": 2025,  # 2026: data_gen.plan2026's rules and SpAudSyn's schema
    # 2026 only (data_gen.plan2026): same-class duplicates
    "dupse_rate": 0.5,
    "max_n_dupse": 2,
    "dupse_min_angle": 60.0,
    "dupse_exclusion_folder_depth": 1,
}


def _event(rng, bank, label, role, snr_range, room, duration, sr):
    items = bank.items(label)
    item = items[rng.integers(len(items))]
    file_dur = item.n_frames / sr
    event_dur = min(file_dur, duration)
    source_time = rng.uniform(0.0, file_dur - event_dur) if file_dur > event_dur else 0.0
    event_time = rng.uniform(0.0, duration - event_dur)
    pos = int(rng.integers(room.n_positions))
    return {
        "label": label,
        "source_file": item.source_file,
        "source_time": round(float(source_time), 6),
        "event_time": round(float(event_time), 6),
        "event_duration": round(float(event_dur), 6),
        "snr": round(float(rng.uniform(*snr_range)), 6),
        "role": role,
        "pitch_shift": None,
        "time_stretch": None,
        "event_position": [[float(v) for v in room.positions[pos]]],
    }


def sample_plan(rng: np.random.Generator, *, targets, interference, noise, rooms, config=None) -> dict:
    """Draw one scene: room, 1–3 target classes without replacement (5–20 dB), 1–2 interferers
    with repeats allowed (0–15 dB), a background noise clip from a whole-second offset.
    Target events are listed in onset order, which is the order of the system's slots."""
    cfg = {**DEFAULT_CONFIG, **(config or {})}
    if edition_of(cfg["edition"]).repeated_classes:  # the 2026 rules and schema
        from .plan2026 import sample_plan_2026

        return sample_plan_2026(rng, targets=targets, interference=interference, noise=noise, rooms=rooms, cfg=cfg,
                                dirs=cfg.get("_dirs", {}))
    sr, duration = int(cfg["sr"]), float(cfg["duration"])
    room_name = rooms.names[rng.integers(len(rooms.names))]
    room = rooms.room(room_name)
    target_labels = [lab for lab in targets.labels if lab in LABELS]
    if not target_labels:
        raise ValueError(f"{targets.name} has none of the 18 target classes")
    lo, hi = cfg["n_targets"]
    n_fg = int(rng.integers(lo, hi + 1))
    if n_fg > len(target_labels):
        raise ValueError(f"{n_fg} target classes asked for, {targets.name} has only {len(target_labels)}")
    fg = [_event(rng, targets, str(lab), "foreground", cfg["target_snr"], room, duration, sr)
          for lab in rng.choice(target_labels, size=n_fg, replace=False)]
    fg.sort(key=lambda e: e["event_time"])
    lo, hi = cfg["n_interference"]
    int_labels = interference.labels if interference is not None else []
    n_int = int(rng.integers(lo, hi + 1)) if int_labels else 0
    inter = [_event(rng, interference, str(rng.choice(int_labels)), "interference", cfg["interference_snr"],
                    room, duration, sr) for _ in range(n_int)]
    files = noise.files()
    noise_file = files[rng.integers(len(files))]
    # the fork: a whole-second offset floor(U(0, dur − duration)) into a longer file; none (the
    # file repeated to length) when it is not longer than the scene
    noise_dur = noise.n_frames(noise_file) / sr
    source_time = float(math.floor(rng.uniform(0.0, noise_dur - duration))) if noise_dur > duration else None
    bg = [{"label": "noise", "source_file": noise_file, "source_time": source_time,
           "event_time": 0.0, "event_duration": duration, "snr": 0.0, "role": "background",
           "pitch_shift": None, "time_stretch": None, "event_position": None}]
    config_out = {k: cfg[k] for k in ("duration", "sr", "ref_db", "ref_channel", "max_event_overlap",
                                      "spatialize_direct_path_time_ms")}
    config_out["dirs"] = cfg.get("dirs", {})
    return {"config": config_out, "fg_events": fg, "int_events": inter, "bg_events": bg, "room": room_name}


def slot_labels(plan: dict, n_slots: int = 3) -> list[str]:
    labels = [e["label"] for e in plan["fg_events"]]
    return labels + ["silence"] * (n_slots - len(labels))
