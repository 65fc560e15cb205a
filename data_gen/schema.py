"""The typed records that cross module boundaries in data generation and training.

- `ScenePlan`: one scene as drawn (plan.py, plan2026.py), rendered by a `SceneEngine`
  (render.py) and stored as metadata/<mixture>.json, in the SpatialScaper fork's schema (2025) or
  SpAudSyn's (2026). Plans are plain dicts at run time (their key order is the JSON's).
- `Example` / `Batch`: one training or test example (stream.py, the stem corpus) and a
  collated batch of them; a `System` receives a `SystemBatch` (the batch and the edition whose
  rules it answers by).
- The rendered scene is `render.Scene` (a dataclass with its shapes).
"""
from __future__ import annotations

from typing import Any, TypedDict

import torch


class _EventKeys(TypedDict):
    source_file: str  # relative to its bank's folder
    event_time: float  # onset in the scene (s)
    event_duration: float  # s
    snr: float  # dB over the scene's ref_db (0 for the noise)
    role: str  # "foreground", "interference" or "background" (the fork writes "foreground" for interferers)


class _ForkKeys(TypedDict, total=False):
    pitch_shift: None  # the fork's schema (2025) only, always None
    time_stretch: None


class PlanEvent(_EventKeys, _ForkKeys):
    """A target (`fg_events`) or an interferer (`int_events`)."""

    label: str  # its class
    source_time: float  # excerpt start in the file (s)
    event_position: list[list[float]]  # [[x, y, z]], one of the room's SourcePosition coordinates


class BackgroundEvent(_EventKeys, _ForkKeys):
    """The noise clip (`bg_events`)."""

    label: str | None  # "noise" (2025), None (2026)
    source_time: float | None  # excerpt start (s); None: a file not longer than the scene, extended
    event_position: None


class ScenePlan(TypedDict):
    """One scene as drawn: its rules, events and room, in the 2025 or the 2026 schema."""

    # duration (s), sr (Hz), ref_db (dB) in both schemas; 2025: ref_channel, max_event_overlap,
    # spatialize_direct_path_time_ms, dirs; 2026: edition, the banks' folders, room_config, …
    config: dict[str, Any]
    fg_events: list[PlanEvent]  # the targets, in onset order = slot order
    int_events: list[PlanEvent]  # the interferers
    bg_events: list[BackgroundEvent]  # one noise clip
    room: str | dict[str, Any]  # 2025: the SOFA file's name; 2026: SpAudSyn's room description


class Example(TypedDict):
    """One example, T samples at the data's rate, float32 unless said."""

    name: str  # the mixture's name (a folder) or "seed:index" (a stream)
    mixture: torch.Tensor  # (4, T)
    targets: torch.Tensor  # (3, T) dry targets at channel 0 in slot order, silent slots zero
    labels: list[str]  # 3 labels, `silence` padded
    label_vector: torch.Tensor  # (3, 18) one-hot, zero rows for silence
    active: torch.Tensor  # (3,) bool


class TrainingExample(Example, total=False):
    """The stems a training stream adds (a test set has none)."""

    interference: torch.Tensor  # (2, T) channel 0 of the interferers, zero-padded
    noise: torch.Tensor  # (T,) channel 0 of the noise


class Batch(TypedDict):
    """B collated examples: each tensor with a leading B, each other value a list of B."""

    name: list[str]
    mixture: torch.Tensor  # (B, 4, T)
    targets: torch.Tensor  # (B, 3, T)
    labels: list[list[str]]
    label_vector: torch.Tensor  # (B, 3, 18)
    active: torch.Tensor  # (B, 3) bool


class TrainingBatch(Batch, total=False):
    """B collated training examples: a Batch with the stems of a training stream."""

    interference: torch.Tensor  # (B, 2, T)
    noise: torch.Tensor  # (B, T)


class SystemBatch(Batch):
    """What `System.forward` receives: the data set's batch (oracle systems read its references;
    real systems must not) and the edition whose rules the answer follows (2026 lets one class
    fill several slots), passed by `System.infer`."""

    edition: int
