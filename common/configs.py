"""Finding a YAML config given as a file path or as a name in one of configs/<kind>/."""
from __future__ import annotations

from pathlib import Path


def check_keys(section: dict, allowed, where: str) -> dict:
    """`section` unchanged if every key is allowed, else an error naming the place (file and
    section), the unknown key(s) and the allowed ones: a misspelt key is never dropped silently."""
    unknown = sorted(set(section or {}) - set(allowed))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; "
                         f"allowed: {', '.join(sorted(allowed))}")
    return section


def known_names(folder: Path) -> list[str]:
    return sorted(p.stem for p in Path(folder).glob("*.yaml"))


def find_config(name_or_path, folder: Path, what: str, known_label: str = "known") -> Path:
    """`name_or_path` if it is a file, else <folder>/<name>.yaml; otherwise an error that lists
    the names in `folder` ("<what> 'x' not found; <known_label>: a, b")."""
    path = Path(name_or_path)
    if not path.is_file():
        path = Path(folder) / f"{name_or_path}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"{what} {name_or_path!r} not found; {known_label}: {', '.join(known_names(folder))}")
    return path
