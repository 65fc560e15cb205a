"""The files the package ships beside its code: configs (configs/data, configs/systems,
configs/train and their subfolders), the report's templates and the checkpoints that the shipped
system configs name. pyproject.toml installs them as package data (`s5bench.configs`,
`s5bench.checkpoints`), so they are found through the package's own location, never through the
working folder: a wheel installed anywhere and the checkout read them the same way.
"""
from __future__ import annotations

from pathlib import Path

# The folder that holds the namespace's parts as package-dir lays them out (common/, configs/,
# checkpoints/, …): site-packages/s5bench for a wheel; for the strict editable install the links
# resolve to the checkout, so a config added there is seen without reinstalling.
ROOT = Path(__file__).resolve().parents[1]
CONFIG_KINDS = ("data", "systems", "train")


def config_dir(kind: str) -> Path:
    """The folder of the shipped configs of one kind.

    Args:
        kind: ``"data"``, ``"systems"`` or ``"train"``.

    Returns:
        ``<package>/configs/<kind>``.

    Raises:
        ValueError: if ``kind`` is not one of the three.
    """
    if kind not in CONFIG_KINDS:
        raise ValueError(f"unknown config kind {kind!r}; known: {', '.join(CONFIG_KINDS)}")
    return ROOT / "configs" / kind


def shipped(path: str | Path) -> Path:
    """A file named in a config (e.g. ``checkpoints/uss_cpu.pt``): the path as given when it exists
    (absolute, or relative to the working folder), else the copy shipped with the package.

    Args:
        path: a file path as written in a config.

    Returns:
        The path as given if it is absolute or an existing file, else ``<package>/<path>`` (which
        may not exist either: callers name the path in their error).
    """
    p = Path(path)
    return p if p.is_absolute() or p.exists() else ROOT / p
