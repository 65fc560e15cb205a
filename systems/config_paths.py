"""Paths in a system YAML's `args:` taken against the YAML's own folder, as a data recipe's are,
so that a config means the same files from wherever a command runs.

A string under `args:` (at any depth of mappings and lists) is a path when it holds a `/` or ends
in a file suffix (`weights.pt`, `model/best.ckpt`). A relative one becomes the absolute path
beside the YAML when something is there; else, when it names a file shipped with s5bench
(`checkpoints/uss_cpu.pt`), it is left for the shipped-file lookup (common/resources.py); else it
still becomes the path beside the YAML, so that a missing file is named where it was looked for.
The shipped configs (configs/systems/) keep their paths as written.
"""
from __future__ import annotations

import re
from pathlib import Path

from s5bench.common.resources import ROOT

_SUFFIX = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,5}$")  # .pt, .ckpt, .pth, .yaml, .json, .npy, .wav


def looks_like_path(value: str) -> bool:
    """Whether a config string names a file or folder (holds a `/`, or ends in a file suffix).

    Args:
        value: a string of a config's `args:`.

    Returns:
        True for ``weights.pt``, ``ckpt/best.ckpt``, ``./data``; False for ``mask``, ``cuda:0``, ``1.5``.

    Example:
        >>> from s5bench.systems.config_paths import looks_like_path
        >>> [looks_like_path(v) for v in ("weights.pt", "ckpt/best", "mask", "1.5", "cuda:0")]
        [True, True, False, False, False]
    """
    return "/" in value or "\\" in value or bool(_SUFFIX.search(value))


def resolve_path(value: str, folder: Path) -> str:
    """One config string resolved against the YAML's folder (see the module's rules).

    Args:
        value: the string as written.
        folder: the YAML's folder.

    Returns:
        The absolute path beside the YAML, or `value` unchanged (not a path, absolute, or a file
        shipped with s5bench that is not beside the YAML).
    """
    if not looks_like_path(value):
        return value
    path = Path(value).expanduser()
    if path.is_absolute():
        return str(path)
    beside = (folder / path).resolve()
    if not beside.exists() and (ROOT / path).exists():  # a shipped checkpoint named as in configs/systems/
        return value
    return str(beside)


def resolve_arg_paths(args: object, folder: Path) -> object:
    """A config's `args:` with every path in it (nested mappings and lists too) resolved.

    Args:
        args: the `args:` mapping (or any value inside it).
        folder: the YAML's folder.

    Returns:
        A copy with each path string replaced by `resolve_path`'s answer; other values unchanged.
    """
    if isinstance(args, dict):
        return {key: resolve_arg_paths(value, folder) for key, value in args.items()}
    if isinstance(args, list):
        return [resolve_arg_paths(value, folder) for value in args]
    return resolve_path(args, folder) if isinstance(args, str) else args
