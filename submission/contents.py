"""A submission's files, read the same way from a zip or from a folder: the package's name and
each file by its path inside the package (`eval_out/<file>.wav`, `eval_results.json`, …)."""
from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from s5bench.common.errors import S5Error


@dataclass
class Contents:
    """What a submission holds.

    Attributes:
        name: the package's name (the folder's name, or the zip's without `.zip`).
        where: the zip or folder, as given (named in messages).
        files: path inside the package -> a function returning the file's bytes.
        stray: entries of a zip outside its `<name>/` folder (the organisers' form has one top folder).
    """

    name: str
    where: str
    files: dict[str, Callable[[], bytes]] = field(default_factory=dict)
    stray: list[str] = field(default_factory=list)

    def label(self, inner: str) -> str:
        """How a file is named in a problem line: `<zip or folder>/<path inside>`."""
        return f"{self.where}:{self.name}/{inner}" if self.where.endswith(".zip") else f"{self.where}/{inner}"


def read_submission(path) -> Contents:
    """The files of a submission given as a `.zip` or as the package's folder.

    Args:
        path: `<name>.zip` (holding `<name>/…`) or the folder `<name>/`.

    Returns:
        Its Contents.

    Raises:
        S5Error: If the path does not exist, or is a file that is not a readable zip.
    """
    path = Path(path)
    if path.is_dir():
        root = path.resolve()
        files = {p.relative_to(root).as_posix(): p.read_bytes for p in sorted(root.rglob("*")) if p.is_file()}
        return Contents(root.name, str(path), files)
    if not path.is_file():
        raise S5Error(f"submission {path} not found (give the package's .zip or its folder)")
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as err:
        raise S5Error(f"submission {path}: not a readable zip ({err})") from None
    name = path.name[:-4] if path.name.lower().endswith(".zip") else path.stem
    contents = Contents(name, str(path))
    for info in archive.infolist():
        if info.is_dir():
            continue
        top, _, inner = info.filename.partition("/")
        if top != name or not inner:
            contents.stray.append(info.filename)
            continue
        contents.files[inner] = (lambda member=info.filename: archive.read(member))
    return contents
