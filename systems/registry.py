"""Build systems by name from YAML configs.

configs/systems/<name>.yaml:
    system: oracle_sources          # a registered name, or
    class: my_package.my_module:MySystem   # any importable System subclass (no harness change)
    args: {...}                     # keyword arguments of the class
"""
from __future__ import annotations

import importlib
from pathlib import Path

import yaml

from common.configs import check_keys, find_config, known_names

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs" / "systems"
_REGISTRY: dict = {}


def register(name: str):
    def wrap(cls):
        _REGISTRY[name] = cls
        return cls
    return wrap


def known_systems() -> list[str]:
    return known_names(CONFIG_DIR)


def load_system_config(name_or_path) -> dict:
    path = find_config(name_or_path, CONFIG_DIR, "system config", "known systems")
    cfg = yaml.safe_load(path.read_text()) or {}
    check_keys(cfg, ("system", "class", "args", "name"), f"system config {path}")
    cfg.setdefault("name", path.stem)
    return cfg


def build_system(name_or_path):
    return build_system_from_config(load_system_config(name_or_path))


def build_system_from_config(cfg: dict):
    from . import baseline, oracle, self_guided  # noqa: F401  (registers the built-in systems)

    if "class" in cfg:
        module, _, attr = cfg["class"].partition(":")
        cls = getattr(importlib.import_module(module), attr)
    elif cfg.get("system") in _REGISTRY:
        cls = _REGISTRY[cfg["system"]]
    else:
        raise ValueError(f"system config {cfg['name']!r} names unknown system {cfg.get('system')!r}; "
                         f"registered: {', '.join(sorted(_REGISTRY))}")
    system = cls(**cfg.get("args", {}))
    system.config_name = cfg["name"]
    return system
