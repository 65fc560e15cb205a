"""Finding a YAML config given as a file path or as a name in one of configs/<kind>/; reading a
YAML config or a JSON record with errors that name the file."""
from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import yaml

from .errors import S5Error

if TYPE_CHECKING:
    from _typeshed import StrPath  # str | os.PathLike[str]

_Section = TypeVar("_Section", bound="Mapping[str, Any] | None")


def read_yaml(path: StrPath, what: str) -> dict[str, Any]:
    """A YAML config file as a mapping; malformed YAML is an error naming the file, line and column.

    Args:
        path: the file.
        what: how to name it ("data config", "system config", "training config").

    Returns:
        The mapping ({} for an empty file).

    Raises:
        S5Error: the YAML does not parse, or its top level is not a mapping.
    """
    try:
        body = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err)
        raise S5Error(f"{what} {path}: malformed YAML{at}: {problem}") from None
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise S5Error(f"{what} {path}: the top level must be a mapping of keys, not {type(body).__name__}")
    return cast("dict[str, Any]", body)  # YAML's keys are strings in every config of the project


def read_json(path: StrPath, what: str, fix: str = "") -> dict[str, Any]:
    """A JSON record (a run's run_info.json, a mixture's metadata, an index) as a mapping; a file cut
    off or damaged is an error naming it and where it breaks.

    Args:
        path: the file.
        what: how to name it ("run record", "mixture metadata").
        fix: what the user can do, appended to the message (e.g. "score the stage again").

    Returns:
        The mapping.

    Raises:
        S5Error: the file is not valid JSON, not text, or its top level is not an object.
        OSError: it cannot be read.
    """
    then = f": {fix}" if fix else ""
    try:
        body = json.loads(Path(path).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise S5Error(f"{what} {path}: not valid JSON ({err}); it was cut off or damaged{then}") from None
    if not isinstance(body, dict):
        raise S5Error(f"{what} {path}: a JSON object is needed, not {type(body).__name__}{then}")
    return cast("dict[str, Any]", body)  # a JSON object's keys are strings


def check_keys(section: _Section, allowed: Collection[str], where: str) -> _Section:
    """`section` unchanged if every key is allowed, else an error naming the place (file and
    section), the unknown key(s) and the allowed ones: a misspelt key is never dropped silently.

    Args:
        section: a config's mapping (None or empty: nothing to check).
        allowed: the keys it may have.
        where: the file and section, for the message ("data config x.yaml, section 'scene'").

    Returns:
        `section`, unchanged.

    Raises:
        S5Error: it has a key that is not allowed.
    """
    unknown = sorted(set(section or {}) - set(allowed))
    if unknown:
        raise S5Error(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; "
                      f"allowed: {', '.join(sorted(allowed))}")
    return section


def known_names(folder: StrPath) -> list[str]:
    """The names of the YAML configs in a folder.

    Args:
        folder: a config folder (configs/<kind>/).

    Returns:
        The stems of its `*.yaml` files, sorted.
    """
    return sorted(p.stem for p in Path(folder).glob("*.yaml"))


def find_config(name_or_path: StrPath, folder: StrPath, what: str, known_label: str = "known") -> Path:
    """`name_or_path` if it is a file, else <folder>/<name>.yaml; otherwise an error that lists
    the names in `folder` ("<what> 'x' not found; <known_label>: a, b").

    Args:
        name_or_path: a config file's path, or the name of one in `folder`.
        folder: the folder of the shipped configs of its kind.
        what: how to name it in the message ("system config").
        known_label: how to introduce the names listed ("known systems").

    Returns:
        The config file.

    Raises:
        FileNotFoundError: neither is a file.
    """
    path = Path(name_or_path)
    if not path.is_file():
        path = Path(folder) / f"{name_or_path}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"{what} {name_or_path!r} not found; {known_label}: {', '.join(known_names(folder))}")
    return path
