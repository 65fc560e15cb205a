"""Render plans with the official SpatialScaper fork, for users who have it installed.

The baseline repository's fork (`SemgSegScaper2`, in src/modules/spatialscaper2/) rebuilds a
scene from a plan JSON with `from_metadata(path)` and renders it with `generate()`. This engine
writes our plan in the fork's form (`fork_plan`: generator arguments and return switches in
`config`, events with exactly the fork's Event fields), lets the fork render it, and returns
the same Scene as the built-in engine. Tested against the real fork through the golden case in
tests/golden/fork2025/ (made by tests/golden/make_fork2025.py).

Config (YAML), beside `engine: spatialscaper`:
  spatialscaper:
    module: src.modules.spatialscaper2.semseg_spatialscaper2   # importable fork module
    class: SemgSegScaper2
    init: {foreground_dir: …, background_dir: …, rir_dir: …, interference_dir: …, …}
"""
from __future__ import annotations

import importlib
import json
import os
import tempfile
from typing import TYPE_CHECKING

import numpy as np

from s5bench.common.errors import S5Error

from .render import Renderer, Scene
from .schema import PlanEvent, ScenePlan

if TYPE_CHECKING:
    from .config import DataConfig

# The fork's Event namedtuple: it refuses any other key, and needs all of these.
EVENT_FIELDS = ("label", "source_file", "source_time", "event_time", "event_duration", "snr", "role",
                "pitch_shift", "time_stretch", "event_position")
# The fork reads its return_* switches from the plan's `config` (the arguments of
# from_metadata set attributes that its generate() never reads), and returning dry
# references requires `spatialize_direct_path_time_ms` there.
RETURN_FLAGS = {"return_dry": True, "return_wet": True, "return_interference": True, "return_background": True}


def fork_plan(plan: ScenePlan, init: dict) -> dict:
    """Our plan in the form the fork's from_metadata takes: its generator arguments and return
    switches in `config`, events with exactly the Event fields.

    Args:
        plan: a 2025 scene plan.
        init: the fork generator's arguments (the config's `spatialscaper.init`), written into `config`.

    Returns:
        The fork's plan: `config` with `init`, RETURN_FLAGS and a direct-path window ([6, 50] by
        default), each event with exactly EVENT_FIELDS (None where ours has no such key).
    """
    config = {**plan["config"], **init, **RETURN_FLAGS}
    config.setdefault("spatialize_direct_path_time_ms", [6, 50])

    def event(ev):
        return {k: ev.get(k) for k in EVENT_FIELDS}

    return {"config": config, "fg_events": [event(e) for e in plan["fg_events"]],
            "int_events": [event(e) for e in plan["int_events"]], "bg_events": [event(e) for e in plan["bg_events"]],
            "room": plan["room"]}


class SpatialScaperEngine:
    """The SceneEngine (render.py) of the official fork. The fork renders whole scenes only; single
    events (the stem corpus stores them) are rendered by `events`, the built-in renderer over the
    same banks, which is the fork's rendering to ≈3e-7 (tests/golden/fork2025).

    Args:
        cfg: the data config (its `spatialscaper` section: module, class, init).
        events: the built-in renderer over the config's banks.

    Raises:
        ImportError: If spatialscaper or the fork's module is not importable.
    """

    def __init__(self, cfg: DataConfig, events: Renderer):
        spec = cfg.get("spatialscaper") or {}
        try:
            importlib.import_module("spatialscaper")
            module = importlib.import_module(spec.get("module", "src.modules.spatialscaper2.semseg_spatialscaper2"))
        except ImportError as err:
            raise ImportError(f"engine 'spatialscaper' needs the spatialscaper package and the baseline's fork "
                              f"on the Python path ({err}); use engine: builtin") from None
        self.cls = getattr(module, spec.get("class", "SemgSegScaper2"))
        self.init = dict(spec.get("init", {}))
        self.events = events

    def event_images(self, event: PlanEvent, plan: ScenePlan,
                     bank_name: str = "foreground") -> tuple[np.ndarray, np.ndarray | None]:
        """One event's images at its level, by the built-in renderer (see the class).

        Args:
            event: an entry of the plan's `fg_events` or `int_events`.
            plan: the plan.
            bank_name: "foreground" for `fg_events`, "interference" for `int_events`.

        Returns:
            The wet image (4, L + N − 1) and the dry reference (L + N − 1,) (None for "interference").

        Raises:
            SilentExcerptError: If the event's excerpt is all zeros.
        """
        return self.events.event_images(event, plan, bank_name)

    def render(self, plan: ScenePlan) -> Scene:
        """The plan's scene as the fork renders it (the plan passed through a temporary JSON file).

        Args:
            plan: a 2025 scene plan.

        Returns:
            The scene, float32; the noise is the fork's background, or what the mixture holds beyond
            the events where the fork returns none.

        Raises:
            S5Error: If the fork returns another number of dry references than the plan has targets.
        """
        fd, path = tempfile.mkstemp(suffix=".json")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(fork_plan(plan, self.init), f)
            out = self.cls.from_metadata(path).generate()
        finally:
            os.unlink(path)
        mixture = np.asarray(out["mixture"], dtype=np.float32).T  # (4, T)
        T = mixture.shape[1]
        n_fg = len(plan["fg_events"])
        dry = np.asarray(out.get("dry_sources", []), dtype=np.float32).reshape(-1, T)
        if len(dry) != n_fg:
            raise S5Error(f"the SpatialScaper fork returned {len(dry)} dry reference(s) for {n_fg} target(s); "
                          "no soundscape is written without its oracle targets")
        wet = np.asarray(out.get("wet_sources", []), dtype=np.float32).reshape(-1, T, 4).transpose(0, 2, 1)
        inter = np.asarray(out.get("interference_sources", []), dtype=np.float32).reshape(-1, T, 4).transpose(0, 2, 1)
        noise = (np.asarray(out["background"], dtype=np.float32).T if "background" in out
                 else mixture - wet.sum(0) - inter.sum(0))
        return Scene(mixture, [e["label"] for e in plan["fg_events"]], dry, np.ascontiguousarray(wet),
                     np.ascontiguousarray(inter), np.ascontiguousarray(noise))
