"""The official on-disk layout and the file naming: `<mix>_<Label>.wav` (2025) and
`<mix>_<i>_<Label>.wav` (2026)."""
from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Container, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from .atomic import is_temporary
from .editions import edition_of, repeated_classes_allowed
from .errors import S5Error
from .labels import N_SLOTS, SILENCE, check_label

if TYPE_CHECKING:
    from _typeshed import StrPath  # str | os.PathLike[str]

SOUNDSCAPE_DIR = "soundscape"
ORACLE_DIR = "oracle_target"
METADATA_DIR = "metadata"


def plain_name(name: str, what: str) -> str:
    """`name` if it can be one file or folder name inside an output folder, else an error: no
    separators, no `..`, no leading dot or dash, letters, digits, `_`, `-`, `.` and `+` only.

    Args:
        name: the name given (a zip name, a system's stage name).
        what: how to call it in the message ("--zip name", "stage name").

    Returns:
        The name, unchanged.

    Raises:
        S5Error: the name could write outside its folder or is not a plain name.
    """
    # a config value may be no string at all, whatever the annotation says
    plain = isinstance(name, str)  # pyright: ignore[reportUnnecessaryIsInstance]
    if not plain or not re.fullmatch(r"[A-Za-z0-9_+][A-Za-z0-9_.+-]*", name) or ".." in name:
        raise S5Error(f"{what} {name!r} is not a plain file name (letters, digits, _ - . + only, no '/' or '..'): "
                      "nothing may be written outside the output folder")
    return name


def require_dir(path: StrPath, what: str) -> Path:
    """`path` as a Path if it is a folder, else an error naming it.

    Args:
        path: the folder.
        what: how to name it in the message ("soundscape", "oracle target").

    Returns:
        The folder, as a Path.

    Raises:
        FileNotFoundError: it is not an existing folder.
    """
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{what} folder not found: {path}")
    return path


def split_stem(stem: str) -> tuple[str, str]:
    """Split `<mix>_<Label>` at its LAST underscore (labels contain none; mix names may).

    Args:
        stem: a file name without its suffix.

    Returns:
        (what comes before the last underscore, the label after it); the label is not checked.

    Raises:
        S5Error: the stem has no underscore, or nothing before it.
    """
    mix, sep, label = stem.rpartition("_")
    if not sep or not mix:
        raise S5Error(f"file name {stem!r} is not of the form <mixture>_<Label>")
    return mix, label


def parse_stem(stem: str, mixtures: Container[str]) -> tuple[str, int | None, str]:
    """(mixture, slot index or None, label) of `<mix>_<Label>` (2025) or `<mix>_<i>_<Label>`
    (2026), matched exactly against the known mixture names: `mix_7_0_Speech` is slot 0 of
    `mix_7` and never a file of `mix_70` or `mix`. A name that fits two mixtures is an error.

    Args:
        stem: a file name without its suffix.
        mixtures: the known mixture names.

    Returns:
        (mixture name, slot index or None when the name has none, label); the label is not checked.

    Raises:
        S5Error: the stem is not of either form, names no known mixture, or fits two.
    """
    head, label = split_stem(stem)
    readings: list[tuple[str, int | None, str]] = []
    if head in mixtures:
        readings.append((head, None, label))
    mix, sep, index = head.rpartition("_")
    if sep and index.isdigit() and mix in mixtures:
        readings.append((mix, int(index), label))
    if not readings:
        raise S5Error(f"file name {stem!r} names mixture {head!r}, which is not in the soundscape folder "
                      "(names are <mix>_<Label> or <mix>_<i>_<Label>)")
    if len(readings) > 1:
        raise S5Error(f"file name {stem!r} is ambiguous: it fits mixture {readings[0][0]!r} and "
                      f"slot {readings[1][1]} of mixture {readings[1][0]!r}")
    return readings[0]


def estimate_name(mix: str, label: str, index: int | None = None) -> str:
    """`<mix>_<Label>.wav` (2025), or `<mix>_<i>_<Label>.wav` (2026) when a slot index is given.

    Args:
        mix: the mixture's name.
        label: the class of the file.
        index: the file's number among the mixture's files (2026), or None (2025).

    Returns:
        The file name.

    Raises:
        S5Error: the label is unknown.
    """
    check_label(label)
    return f"{mix}_{label}.wav" if index is None else f"{mix}_{int(index)}_{label}.wav"


def submission_names(mix: str, labels: Iterable[str], edition: int | str) -> list[tuple[int, str]]:
    """(slot, file name) for the non-silent slots of one mixture. 2026: silent slots sorted
    last, so the files are numbered 0…k−1 in slot order; 2025: `<mix>_<Label>.wav`.

    Args:
        mix: the mixture's name.
        labels: the class (or "silence") of each slot, in slot order.
        edition: the task edition, which decides the naming.

    Returns:
        (slot index, file name) for each non-silent slot, in slot order.

    Raises:
        S5Error: a label or the edition is unknown.
    """
    real = [(s, lab) for s, lab in enumerate(labels) if check_label(lab) != SILENCE]
    if edition_of(edition).slot_index_in_names:
        return [(s, estimate_name(mix, lab, i)) for i, (s, lab) in enumerate(real)]
    return [(s, estimate_name(mix, lab)) for s, lab in real]


def list_wavs(folder: StrPath) -> list[Path]:
    """Every .wav file directly in `folder` (any case of the suffix), sorted by name; the atomic
    writer's temporary files (`.tmp_*`, left by an interrupted write) are not results and are skipped.
    A `.wav` name that is no regular file (a dangling link, a link loop, a folder) is an error:
    never silently left out (and scored as a miss).

    Args:
        folder: the folder listed (not its sub-folders).

    Returns:
        The .wav files, sorted by path.

    Raises:
        S5Error: a `.wav` name is no regular file.
        OSError: the folder cannot be listed.
    """
    out: list[Path] = []
    for p in sorted(Path(folder).iterdir()):
        if p.suffix.lower() != ".wav" or is_temporary(p):
            continue
        if not p.is_file():
            raise S5Error(f"{p}: {not_a_file(p)}, not an audio file")
        out.append(p)
    return out


def not_a_file(path: Path) -> str:
    """What a path that is no regular file is, in words.

    Args:
        path: a path that is not a regular file.

    Returns:
        e.g. "a dangling symbolic link (to x.wav, which does not exist)", "a folder".
    """
    if path.is_symlink():
        try:
            path.resolve(strict=True)
        except FileNotFoundError:
            return f"a dangling symbolic link (to {os.readlink(path)}, which does not exist)"
        except (RuntimeError, OSError):
            return "a symbolic link loop"
    return "a folder" if path.is_dir() else "not a regular file"


def list_mixtures(soundscape_dir: StrPath) -> dict[str, Path]:
    """The mixtures of a soundscape folder, by name.

    Args:
        soundscape_dir: the folder of the mixtures (`<data>/soundscape`).

    Returns:
        Mixture name (the file's stem) -> its .wav file, in name order.

    Raises:
        FileNotFoundError: the folder does not exist or holds no .wav file.
        S5Error: a `.wav` name in it is no regular file.
    """
    folder = require_dir(soundscape_dir, "soundscape")
    mixtures = {p.stem: p for p in list_wavs(folder)}
    if not mixtures:
        raise FileNotFoundError(f"no .wav mixtures in soundscape folder {folder}")
    return mixtures


def group_by_mixture(folder: StrPath, mixtures: Container[str], what: str, edition: int | str = 2025,
                     max_files: int = N_SLOTS) -> dict[str, list[tuple[str, Path]]]:
    """Map mixture -> [(label, path)] in file-name order, for the `<mix>_<Label>.wav` and
    `<mix>_<i>_<Label>.wav` files of `folder`.

    Exact-name matching against the known mixtures (never prefixes: `mix_7` vs `mix_70`). An
    unknown mixture or label, a `silence` file, more than `max_files` files for one mixture, a
    label given twice (2025) or a slot index given twice (2026) is an error naming the files.

    Args:
        folder: the folder of the files (oracle targets or estimates).
        mixtures: the known mixture names.
        what: how to name the files in messages ("oracle target", "estimate").
        edition: the task edition, which decides the naming and what may repeat.
        max_files: the most files one mixture may have.

    Returns:
        Mixture name -> [(label, file)] in file-name order, for the mixtures that have files.

    Raises:
        FileNotFoundError: `folder` does not exist.
        S5Error: a file breaks one of the rules above.
    """
    folder = require_dir(folder, what)
    repeat_ok = repeated_classes_allowed(edition)
    grouped: dict[str, list[tuple[str, Path]]] = defaultdict(list)
    seen: dict[tuple[str, str], Path] = {}
    for path in list_wavs(folder):
        try:
            mix, index, label = parse_stem(path.stem, mixtures)
        except ValueError as err:
            raise S5Error(f"{what} file {path}: {err}") from None
        check_label(label, where=f"{what} file {path}")
        if label == SILENCE:
            raise S5Error(f"{what} file {path}: 'silence' is not written as a file; leave the slot out")
        # what must be unique per mixture: the slot index in 2026 (a class may repeat), the label in 2025
        key = (mix, f"slot index {index}") if repeat_ok else (mix, f"label {label!r}")
        if key in seen and not (repeat_ok and index is None):
            raise S5Error(f"{what} has two files with {key[1]} for mixture {mix!r}: {seen[key]} and {path}")
        seen[key] = path
        grouped[mix].append((label, path))
        if len(grouped[mix]) > max_files:
            names = ", ".join(p.name for _, p in grouped[mix])
            raise S5Error(f"{what} has {len(grouped[mix])} files for mixture {mix!r} in {folder}, at most "
                          f"{max_files} allowed: {names}")
    return dict(grouped)
