"""Render plans with the official SpatialScaper fork, for users who have it installed.

The baseline repository's fork (`SemgSegScaper2`, in src/modules/spatialscaper2/) rebuilds a
scene from a plan JSON with `from_metadata(path, return_dry=…, …)` and renders it with
`generate()`. This engine writes our plan with the fork's generator arguments merged into its
`config`, lets the fork render it, and returns the same Scene as the built-in engine, so both
engines write the same layout from the same plan format.

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

import numpy as np

from .render import Scene


class SpatialScaperEngine:
    def __init__(self, cfg: dict):
        spec = cfg.get("spatialscaper") or {}
        try:
            importlib.import_module("spatialscaper")
            module = importlib.import_module(spec.get("module", "src.modules.spatialscaper2.semseg_spatialscaper2"))
        except ImportError as err:
            raise ImportError(f"engine 'spatialscaper' needs the spatialscaper package and the baseline's fork "
                              f"on the Python path ({err}); use engine: builtin") from None
        self.cls = getattr(module, spec.get("class", "SemgSegScaper2"))
        self.init = dict(spec.get("init", {}))

    def render(self, plan: dict) -> Scene:
        fork_plan = {**plan, "config": {**plan["config"], **self.init}}
        fd, path = tempfile.mkstemp(suffix=".json")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(fork_plan, f)
            scaper = self.cls.from_metadata(path, return_dry=True, return_wet=True, return_interference=True,
                                            return_background=True)
            out = scaper.generate()
        finally:
            os.unlink(path)
        mixture = np.asarray(out["mixture"], dtype=np.float32).T  # (4, T)
        T = mixture.shape[1]
        wet = np.asarray(out.get("wet_sources", []), dtype=np.float32).reshape(-1, T, 4).transpose(0, 2, 1)
        inter = np.asarray(out.get("interference_sources", []), dtype=np.float32).reshape(-1, T, 4).transpose(0, 2, 1)
        dry = np.asarray(out.get("dry_sources", []), dtype=np.float32).reshape(-1, T)
        noise = mixture - wet.sum(0) - inter.sum(0)  # what remains is the background
        return Scene(mixture, [e["label"] for e in plan["fg_events"]], dry, np.ascontiguousarray(wet),
                     np.ascontiguousarray(inter), noise)
