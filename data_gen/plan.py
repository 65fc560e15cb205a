"""Scene plans: one sampler for both editions, their rules as data, written in the 2025 schema (the
SpatialScaper fork's, here) or the 2026 one (SpAudSyn's, data_gen.plan2026)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from s5bench.common.editions import edition_of
from s5bench.common.errors import S5Error
from s5bench.common.labels import LABELS, SAMPLE_RATE

from .draws import DRAW_ORDER, Draw, draw_event, noise_offset
from .plan2026 import draw_duplicates, plan_2026
from .schema import BackgroundEvent, PlanEvent, ScenePlan

if TYPE_CHECKING:
    from .rooms import RoomBank, SofaRoom
    from .sources import NoiseBank, SourceBank

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


def sample_plan(rng: np.random.Generator, *, targets: SourceBank, interference: SourceBank | None,
                noise: NoiseBank, rooms: RoomBank, config: dict | None = None, dirs: dict | None = None) -> ScenePlan:
    """Draw one scene by its edition's rules (`config["edition"]`, DEFAULT_CONFIG for the rest):
    a room; 1–3 target classes without replacement at 5–20 dB (2026: 0–3, some of them possibly
    same-class duplicates, see data_gen.plan2026); interferers at 0–15 dB, classes may repeat; a
    noise clip. Targets are listed in onset order (the system's slots). The plan is written in
    the edition's schema (the SpatialScaper fork's, or SpAudSyn's with `dirs`, the banks' folders).

    Args:
        rng: the scene's generator; the plan is a pure function of its stream.
        targets: the target bank (only its labels among the 18 classes are drawn).
        interference: the interference bank (None: no interferers).
        noise: the noise bank.
        rooms: the room bank.
        config: scene rules overriding DEFAULT_CONFIG (a recipe's `scene` section).
        dirs: the banks' folders, written into a 2026 plan (keys targets, interference, noise, rooms).

    Returns:
        The plan, in the edition's schema.

    Raises:
        S5Error: If the target bank has none of the 18 classes or fewer distinct classes than drawn,
            or a 2026 duplicate cannot be placed or has no clip left.
    """
    cfg = {**DEFAULT_CONFIG, **(config or {})}
    year = edition_of(cfg["edition"]).year
    order = DRAW_ORDER[year]
    sr, duration = int(cfg["sr"]), float(cfg["duration"])
    room_name = rooms.names[rng.integers(len(rooms.names))]
    room = rooms.room(room_name)
    positions = np.asarray(room.positions, dtype=np.float64)

    def any_position():
        return positions[rng.integers(len(positions))]

    classes = [str(lab) for lab in targets.labels if lab in LABELS]
    if not classes:
        raise S5Error(f"{targets.name} has none of the 18 target classes")
    lo, hi = cfg["n_targets"]
    n = int(rng.integers(lo, hi + 1))
    n_dup = 0
    if order.duplicates and n >= 2 and rng.random() < cfg["dupse_rate"]:
        n_dup = int(rng.integers(1, min(n - 1, cfg["max_n_dupse"]) + 1))
    if n - n_dup > len(classes):
        raise S5Error(f"{n - n_dup} target classes asked for, {targets.name} has only {len(classes)}")
    fg = [draw_event(rng, targets.items(str(lab)), str(lab), "foreground", cfg["target_snr"], any_position,
                     duration, sr, order.position_before_times)
          for lab in rng.choice(classes, size=n - n_dup, replace=False)]
    if n_dup:
        fg += draw_duplicates(rng, fg, n_dup, targets, positions, room_name, cfg, duration, sr)
    fg.sort(key=lambda e: e.event_time)
    lo, hi = cfg["n_interference"]
    int_labels = interference.labels if interference is not None else []
    inter = []
    for _ in range(int(rng.integers(lo, hi + 1)) if int_labels else 0):
        assert interference is not None  # int_labels is empty without a bank
        pick = rng.choice(int_labels) if order.interferer_label_by_choice else int_labels[rng.integers(len(int_labels))]
        lab = str(pick)
        inter.append(draw_event(rng, interference.items(lab), lab, "interference", cfg["interference_snr"],
                                any_position, duration, sr, order.position_before_times))
    if order.sort_interference:
        inter.sort(key=lambda e: e.event_time)
    noise_file, noise_time = noise_offset(rng, noise, duration, sr)
    writer = {2025: plan_2025, 2026: plan_2026}[year]
    return writer(cfg, fg, inter, noise_file, noise_time, room, room_name, dirs or {})


def plan_2025(cfg: dict, fg: list[Draw], inter: list[Draw], noise_file: str, noise_time: float | None,
              room: SofaRoom, room_name: str, dirs: dict) -> ScenePlan:
    """The SpatialScaper fork's schema (it names the room by its file and writes no bank folders).

    Args:
        cfg: the scene rules (DEFAULT_CONFIG's keys).
        fg: the targets, in onset order.
        inter: the interferers.
        noise_file: the noise clip's name.
        noise_time: its offset in s (None: the file is extended to the scene).
        room: the room (unused: this schema names the room only; the signature is `plan_2026`'s).
        room_name: the room's file name.
        dirs: the banks' folders (unused: the fork's `dirs` is written empty).

    Returns:
        The plan.
    """

    def event(d: Draw) -> PlanEvent:
        return {"label": d.label, "source_file": d.source_file, "source_time": d.source_time,
                "event_time": d.event_time, "event_duration": d.event_duration, "snr": d.snr, "role": d.role,
                "pitch_shift": None, "time_stretch": None, "event_position": [[float(v) for v in d.position]]}

    duration = float(cfg["duration"])
    bg: list[BackgroundEvent] = [{"label": "noise", "source_file": noise_file, "source_time": noise_time,
           "event_time": 0.0, "event_duration": duration, "snr": 0.0, "role": "background",
           "pitch_shift": None, "time_stretch": None, "event_position": None}]
    config = {k: cfg[k] for k in ("duration", "sr", "ref_db", "ref_channel", "max_event_overlap",
                                  "spatialize_direct_path_time_ms")}
    config["dirs"] = {}  # as the fork writes it
    return {"config": config, "fg_events": [event(d) for d in fg], "int_events": [event(d) for d in inter],
            "bg_events": bg, "room": room_name}


def slot_labels(plan: ScenePlan, n_slots: int = 3) -> list[str]:
    """The labels of a plan's slots: its targets in onset order, padded with "silence".

    Args:
        plan: a scene plan in either schema.
        n_slots: how many slots.

    Returns:
        n_slots labels (more if the plan has more targets).
    """
    labels = [e["label"] for e in plan["fg_events"]]
    return labels + ["silence"] * (n_slots - len(labels))
