"""Build systems by name from YAML configs.

configs/systems/<name>.yaml:
    class: my_package.my_module:MySystem   # any importable System subclass; the built-in ones
                                           # are named the same way (s5bench.systems.oracle:OracleSources)
    args: {...}                            # keyword arguments of the class
"""
from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import yaml

from s5bench.common.configs import check_keys, find_config, known_names
from s5bench.common.resources import config_dir

CONFIG_DIR = config_dir("systems")  # shipped with the package (common/resources.py)
# The project's packages before they moved under the one namespace `s5bench`.
OLD_PACKAGES = ("common", "metrics", "data_gen", "systems", "runners")


def known_systems() -> list[str]:
    return known_names(CONFIG_DIR)


def system_config_path(name_or_path) -> Path:
    return find_config(name_or_path, CONFIG_DIR, "system config", "known systems")


def load_system_config(name_or_path) -> dict:
    path = system_config_path(name_or_path)
    cfg = yaml.safe_load(path.read_text()) or {}
    check_keys(cfg, ("class", "args", "name"), f"system config {path}")
    if not isinstance(cfg.get("class"), str) or ":" not in cfg["class"]:
        raise ValueError(f"system config {path}: needs `class: package.module:ClassName` (a System subclass)")
    cfg.setdefault("name", path.stem)
    return cfg


def build_system(name_or_path):
    return build_system_from_config(load_system_config(name_or_path), source=system_config_path(name_or_path))


def check_arguments(cls, args: dict, where: str) -> None:
    """Refuse `args:` keys that the class does not take, naming them and the ones it does."""
    params = inspect.signature(cls.__init__).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    allowed = [n for n, p in params.items() if n != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        raise ValueError(f"{where}: unknown argument(s) {', '.join(map(repr, unknown))} under `args:` for "
                         f"{cls.__name__}; it takes: {', '.join(allowed) or 'no arguments'}")


def renamed_class(name: str) -> str | None:
    """The new name of a built-in class named by its old path (`systems.oracle:X` ->
    `s5bench.systems.oracle:X`), or None."""
    return f"s5bench.{name}" if name.split(".")[0] in OLD_PACKAGES else None


def build_system_from_config(cfg: dict, source=None):
    """The system a config describes; `source` (the YAML's path) is named in every error."""
    where = f"system config {source or repr(cfg['name'])}"
    new = renamed_class(cfg["class"])
    if new is not None:
        raise ValueError(f"{where}: class {cfg['class']!r} names the project's old package path; "
                         f"the project's code now lives under one namespace: write `class: {new}`")
    module, _, attr = cfg["class"].partition(":")
    try:
        cls = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"{where}: cannot import class {cfg['class']!r}: {err}") from None
    args = cfg.get("args") or {}
    check_arguments(cls, args, where)
    try:
        system = cls(**args)
    except (FileNotFoundError, ValueError) as err:
        raise type(err)(f"{where}: {err}") from None
    system.config_name = cfg["name"]
    return system
