"""Build systems by name from YAML configs.

configs/systems/<name>.yaml, or any YAML file:
    class: my_package.my_module:MySystem   # a System subclass; the built-in ones are named the
                                           # same way (s5bench.systems.oracle:OracleSources)
    args: {...}                            # keyword arguments of the class
A plug-in's module is found beside its YAML first, then among the installed packages
(systems/plugins.py); paths under `args:` are taken against the YAML's folder
(systems/config_paths.py). The class is checked to be a System subclass before it is called, and
`args:` keys against what its __init__ takes (through `**kwargs` handed on to its parents; a class
that takes any sets `accepts_any_args = True`). An error in a plug-in's own code names its file and line.
"""
from __future__ import annotations

import inspect
from pathlib import Path
from typing import cast

import torch

from s5bench.common.configs import check_keys, find_config, known_names, read_yaml
from s5bench.common.errors import S5Error
from s5bench.common.resources import config_dir

from .base import System, SystemConfig
from .config_paths import resolve_arg_paths
from .plugins import import_class, is_plugin, plugin_failure, plugin_root

CONFIG_DIR = config_dir("systems")  # shipped with the package (common/resources.py)
# The project's packages before they moved under the one namespace `s5bench`.
OLD_PACKAGES = ("common", "metrics", "data_gen", "systems", "runners")

def known_systems() -> list[str]:
    """The names of the shipped system configs (configs/systems/<name>.yaml), sorted.

    Returns:
        The config names without `.yaml`.
    """
    return known_names(CONFIG_DIR)


def system_config_path(name_or_path: str | Path) -> Path:
    """The file of a system config given by path or by the name of a shipped one.

    Args:
        name_or_path: a YAML file's path, or a name in configs/systems/ (without `.yaml`).

    Returns:
        The config file's path.

    Raises:
        FileNotFoundError: If it is neither a file nor a known name (the message lists the known ones).
    """
    return find_config(name_or_path, CONFIG_DIR, "system config", "known systems")


def is_shipped(path: Path) -> bool:
    """Whether a system config is one of the shipped ones (configs/systems/).

    Args:
        path: the config file.

    Returns:
        True when its folder is the shipped configs' folder.
    """
    return Path(path).resolve().parent == CONFIG_DIR.resolve()


def load_system_config(name_or_path: str | Path) -> SystemConfig:
    """A system config read and checked; `name` defaults to the file's stem.

    Args:
        name_or_path: a YAML file's path, or a name in configs/systems/.

    Returns:
        {"class": "package.module:ClassName", "args": {...} (if given), "name": str}; in a config
        outside configs/systems/, the paths under `args:` are absolute, taken against the YAML's
        folder (`config_paths.resolve_arg_paths`).

    Raises:
        FileNotFoundError: As `system_config_path`.
        S5Error: If a top-level key is unknown, or `class` is not a "module:Class" string.
        S5Error: If the file is not valid YAML (naming the file, line and column).
    """
    path = system_config_path(name_or_path)
    cfg = read_yaml(path, "system config")
    check_keys(cfg, ("class", "args", "name"), f"system config {path}")
    if not isinstance(cfg.get("class"), str) or ":" not in cfg["class"]:
        raise S5Error(f"system config {path}: needs `class: package.module:ClassName` (a System subclass)")
    cfg.setdefault("name", path.stem)
    if isinstance(cfg.get("args"), dict) and not is_shipped(path):
        cfg["args"] = resolve_arg_paths(cfg["args"], path.resolve().parent)
    return cast(SystemConfig, cfg)  # the YAML's mapping, its keys and `class` checked above


def build_system(name_or_path: str | Path) -> System:
    """The system a config (path or shipped name) describes, built.

    Args:
        name_or_path: a YAML file's path, or a name in configs/systems/.

    Returns:
        The System instance, its `config_name` set to the config's name.

    Raises:
        FileNotFoundError, S5Error: As `load_system_config` and `build_system_from_config`.
    """
    return build_system_from_config(load_system_config(name_or_path), source=system_config_path(name_or_path))


def accepted_arguments(cls: type) -> list[str] | None:
    """The keyword arguments a System class takes, following `**kwargs` up its parents' __init__
    (a `**kwargs` handed on to System/torch.nn.Module takes nothing more); None when a class in
    the chain says it takes any (`accepts_any_args = True`).

    Args:
        cls: the system class.

    Returns:
        The argument names, the class's own first, then its parents' (each once); None for any.
    """
    allowed: list[str] = []
    for klass in cls.__mro__:
        if klass in (System, torch.nn.Module, object) or getattr(klass, "accepts_any_args", False):
            return None if getattr(klass, "accepts_any_args", False) else allowed
        if "__init__" not in vars(klass):
            continue
        params = inspect.signature(klass.__init__).parameters
        allowed += [n for n, p in params.items() if n != "self" and n not in allowed
                    and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            return allowed
    return allowed


def check_arguments(cls: type, args: dict, where: str) -> None:
    """Refuse `args:` keys that the class does not take, naming them and the ones it does.

    A constructor with `**kwargs` is followed up its parent classes (`accepted_arguments`); a class that
    sets `accepts_any_args = True` takes anything.

    Args:
        cls: the system class.
        args: the config's `args:` mapping.
        where: the config, named in the error.

    Raises:
        ValueError: If a key is not a parameter the class takes.
    """
    allowed = accepted_arguments(cls)
    if allowed is None:
        return
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        raise S5Error(f"{where}: unknown argument(s) {', '.join(map(repr, unknown))} under `args:` for "
                      f"{cls.__name__}; it takes: {', '.join(allowed) or 'no arguments'}")


def renamed_class(name: str) -> str | None:
    """The new name of a built-in class named by its path before the `s5bench` namespace, or None.

    Args:
        name: a config's `class:` value, "module:Class".

    Returns:
        The name under `s5bench.` if the module is one of the project's old top-level packages,
        else None.

    Example:
        >>> from s5bench.systems.registry import renamed_class
        >>> renamed_class("systems.oracle:OracleSources"), renamed_class("my_package.sys:Mine")
        ('s5bench.systems.oracle:OracleSources', None)
    """
    return f"s5bench.{name}" if name.split(".")[0] in OLD_PACKAGES else None


def system_class(cfg: SystemConfig, source: str | Path | None = None) -> type[System]:
    """The class a system config names, imported (a plug-in's from beside its YAML) and checked.

    Args:
        cfg: a checked system config (`load_system_config`).
        source: the YAML's path (its folder is searched first for the class's module).

    Returns:
        The System subclass.

    Raises:
        S5Error: If `class` names the project's old package path.
        S5Error: If it cannot be imported (a plug-in's failure named by file and line), or is not
            a System subclass.
    """
    where = f"system config {source or repr(cfg['name'])}"
    new = renamed_class(cfg["class"])
    if new is not None:
        raise S5Error(f"{where}: class {cfg['class']!r} names the project's old package path; "
                      f"the project's code now lives under one namespace: write `class: {new}`")
    folder = None if source is None or is_shipped(Path(source)) else Path(source).resolve().parent
    cls = import_class(cfg["class"], folder, where)
    if not (inspect.isclass(cls) and issubclass(cls, System)):  # checked before anything of it is called
        raise S5Error(f"{where}: class {cfg['class']!r} is not a System subclass (s5bench.systems.base.System); "
                      "it was not called")
    return cls


def build_system_from_config(cfg: SystemConfig, source: str | Path | None = None) -> System:
    """The system a config describes, built.

    Args:
        cfg: a checked system config (`load_system_config`): "class", optional "args", "name".
        source: the YAML's path, named in every error (default: the config's name); a plug-in's
            module is looked for in its folder first.

    Returns:
        The System instance, its `config_name` set to cfg["name"].

    Raises:
        S5Error: If `class` names the project's old package path, cannot be imported, or
            `args` has a key its constructor does not take; or the constructor raises S5Error.
        FileNotFoundError: If the constructor does (e.g. a checkpoint it names is missing).
        S5Error: If a plug-in's constructor fails otherwise (naming its file and line).
    """
    where = f"system config {source or repr(cfg['name'])}"
    cls = system_class(cfg, source)
    args = cfg.get("args") or {}
    if not isinstance(args, dict):
        raise S5Error(f"{where}: `args:` must be a mapping of keyword arguments, not {args!r}")
    check_arguments(cls, args, where)
    try:
        system = cls(**args)
    except FileNotFoundError as err:
        raise FileNotFoundError(f"{where}: {err}") from None
    except S5Error as err:  # a named error of the system's own (a plain ValueError is a bug, not dressed as one)
        raise S5Error(f"{where}: {err}") from None
    except TypeError as err:  # e.g. an argument the class's **kwargs hands on to a parent that does not take it
        raise S5Error(f"{where}: {cls.__name__}(**args) refused its arguments: {err}") from None
    except Exception as err:
        if not is_plugin(cls):  # a failure of s5bench's own code stays a bug with its traceback
            raise
        raise S5Error(f"{where}: {cls.__name__}(**args) failed: {plugin_failure(err, plugin_root(cls))}") from None
    system.config_name = cfg["name"]
    system.config = cfg  # what made the run, by content (systems/run_folder.py)
    return system
