"""One object that turns (config, seed, index) into a plan and its rendered scene."""
from __future__ import annotations

import json
import zlib

import numpy as np

from s5bench.common.errors import S5Error

from .config import DataConfig, bank_folders, build_noise, build_rooms, build_sources, scene_rules
from .plan import sample_plan
from .render import Renderer, Scene, SceneEngine
from .schema import ScenePlan


def select_engine(name: str) -> str:
    """The rendering engine a data config names.

    Args:
        name: the config's `engine`: `builtin`, or `spatialscaper` (the official fork, when installed).

    Returns:
        The name.

    Raises:
        S5Error: any other name.
    """
    if name in ("builtin", "spatialscaper"):
        return name
    raise S5Error(f"unknown engine {name!r}; choose builtin or spatialscaper")


class MixtureFactory:
    """A data config's banks, rooms, scene rules and rendering engine, built once.

    Args:
        cfg: a data config (`config.load_config`).
        progress: show a progress bar while a synthetic room bank is built.

    Raises:
        S5Error: If the engine is unknown, or a bank or room folder is refused.
        FileNotFoundError: If a folder the config names is missing.
        ImportError: If the engine is `spatialscaper` and the fork is not installed.
    """

    def __init__(self, cfg: DataConfig, progress: bool = False):
        self.engine = select_engine(cfg.get("engine", "builtin"))
        self.cfg = cfg
        self.targets = build_sources(cfg, "target")
        self.interference = build_sources(cfg, "interference")
        self.noise = build_noise(cfg)
        self.rooms = build_rooms(cfg, progress=progress)
        self.rules = scene_rules(cfg)
        self.dirs = bank_folders(cfg)  # written into 2026 plans, as SpAudSyn's config names the banks
        builtin = Renderer(self.targets, self.interference, self.noise, self.rooms)
        self.renderer: SceneEngine = builtin
        if self.engine == "spatialscaper":
            from .spatialscaper_engine import SpatialScaperEngine

            self.renderer = SpatialScaperEngine(cfg, events=builtin)
        # the scene draws depend on the data recipe too, so that a test set and a training stream
        # made with the same seed do not share label sets, onsets and SNRs
        # recipe (where rooms are cached on disk is not part of it)
        recipe = {k: cfg.get(k) for k in ("targets", "interference", "noise", "rooms", "scene")}
        recipe["rooms"] = {kind: {k: v for k, v in (args or {}).items() if k != "cache_dir"}
                           for kind, args in (recipe["rooms"] or {}).items()}
        self.salt = zlib.crc32(json.dumps(recipe, sort_keys=True).encode())

    def plan(self, seed: int, index: int) -> ScenePlan:
        """The plan of mixture `index`: a pure function of (seed, index), whatever the sharding.

        Args:
            seed: the data set's seed.
            index: the mixture's number.

        Returns:
            The plan (`plan.sample_plan`), drawn from the generator of [seed, index, the recipe's hash].
        """
        assert self.targets is not None  # a recipe always has targets (recipe_schema: not null)
        rng = np.random.default_rng([seed, index, self.salt])
        return sample_plan(rng, targets=self.targets, interference=self.interference, noise=self.noise,
                           rooms=self.rooms, config=self.rules, dirs=self.dirs)

    def render(self, plan: ScenePlan) -> Scene:
        """The plan's scene, by the config's engine.

        Args:
            plan: a plan of this factory.

        Returns:
            The rendered scene.
        """
        return self.renderer.render(plan)
