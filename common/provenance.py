"""Sidecar metadata for results files: what produced them, from what, with which versions."""
from __future__ import annotations

import hashlib
import importlib.util
import json
import platform
import subprocess
import sys
from collections.abc import Iterable
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .atomic import is_temporary
from .audio import write_text_atomic

if TYPE_CHECKING:
    from _typeshed import StrPath  # str | os.PathLike[str]

PACKAGES = ("torch", "numpy", "scipy", "soundfile", "pandas", "pyroomacoustics", "sofar", "mir_eval")
REPO = Path(__file__).resolve().parents[1]


def data_fingerprint(folder: StrPath) -> str:
    """sha256 over the relative path and bytes of every file under soundscape/, oracle_target/
    and metadata/ (sorted): equal fingerprints mean the same test set.

    Args:
        folder: the data set's folder (a missing sub-folder counts as empty).

    Returns:
        The hex digest.
    """
    h = hashlib.sha256()
    root = Path(folder)
    for sub in ("soundscape", "oracle_target", "metadata"):
        for f in sorted((root / sub).rglob("*")) if (root / sub).is_dir() else []:
            if f.is_file() and not is_temporary(f):  # an interrupted write's leftover is not data
                h.update(str(f.relative_to(root)).encode())
                h.update(f.read_bytes())
    return h.hexdigest()


# The packages whose code turns a mixture into estimates and figures.
CODE_PACKAGES = ("common", "metrics", "data_gen", "systems")


def code_fingerprint(extra_modules: Iterable[str] = ()) -> str:
    """sha256 over the relative path and bytes of every .py file of the project's packages that
    produce estimates and scores (and of the folders of `extra_modules`, e.g. a plug-in system's
    module): runs made by other code get another fingerprint, whatever the commit says.

    Args:
        extra_modules: module names, or `module:attribute` references (the module part counts); a
            module that `importlib.util.find_spec` does not find, or that has no file, adds nothing.

    Returns:
        The hex digest.
    """
    h = hashlib.sha256()
    folders = [REPO / p for p in CODE_PACKAGES]
    for module in extra_modules:
        spec = importlib.util.find_spec(module.partition(":")[0])
        if spec is not None and spec.origin:
            folders.append(Path(spec.origin).parent)
    for folder in folders:
        for f in sorted(folder.rglob("*.py")):
            name = f.relative_to(REPO) if f.is_relative_to(REPO) else f
            h.update(name.as_posix().encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def file_sha256(path: StrPath) -> str:
    """sha256 of a file's bytes, read in blocks of 1 MiB.

    Args:
        path: the file.

    Returns:
        The hex digest.
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def folder_sha256(folder: StrPath) -> str:
    """sha256 over the relative path and the sha256 of every file under `folder` (sorted, temporary
    files of an interrupted write left out): equal hashes mean the same files with the same bytes.

    Args:
        folder: the folder (e.g. a plug-in's weights folder).

    Returns:
        The hex digest.
    """
    h = hashlib.sha256()
    root = Path(folder)
    for f in sorted(root.rglob("*")):
        if f.is_file() and not is_temporary(f):
            h.update(f.relative_to(root).as_posix().encode() + b"\0" + file_sha256(f).encode())
    return h.hexdigest()


def versions() -> dict[str, str | None]:
    """The versions of Python, the platform, the packages of `PACKAGES` and the checkout's commit.

    Returns:
        Name -> version: "python", "platform", each installed package of `PACKAGES` (those not
        installed are left out), and "s5bench_commit" (None outside a git checkout or without git).
    """
    out: dict[str, str | None] = {"python": sys.version.split()[0], "platform": platform.platform()}
    for pkg in PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    try:  # an installed wheel is no checkout: no commit (not that of a repository around site-packages)
        if not (REPO / ".git").exists():
            raise OSError("not a checkout")
        out["s5bench_commit"] = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True,
                                               text=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        out["s5bench_commit"] = None
    return out


def write_sidecar(results_file: StrPath, **info: Any) -> Path:
    """<results_file>.meta.json next to the results file.

    Args:
        results_file: the results file described.
        **info: what to record (JSON-serialisable; other values are written as their str()); the
            time written ("written_utc") and `versions()` ("versions") are added.

    Returns:
        The sidecar file written.
    """
    path = Path(f"{results_file}.meta.json")
    written = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    write_text_atomic(path, json.dumps({**info, "written_utc": written, "versions": versions()}, indent=2,
                                       default=str) + "\n")
    return path
