"""The official on-disk layout and the submission file naming `<mix>_<Label>.wav`."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from .labels import check_label

SOUNDSCAPE_DIR = "soundscape"
ORACLE_DIR = "oracle_target"
METADATA_DIR = "metadata"


def require_dir(path, what: str) -> Path:
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{what} folder not found: {path}")
    return path


def split_stem(stem: str) -> tuple[str, str]:
    """Split `<mix>_<Label>` at its LAST underscore (labels contain none; mix names may)."""
    mix, sep, label = stem.rpartition("_")
    if not sep or not mix:
        raise ValueError(f"file name {stem!r} is not of the form <mixture>_<Label>")
    return mix, label


def estimate_name(mix: str, label: str) -> str:
    return f"{mix}_{check_label(label)}.wav"


def list_wavs(folder: Path) -> list[Path]:
    """Every .wav file directly in `folder` (any case of the suffix), sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".wav")


def list_mixtures(soundscape_dir) -> dict[str, Path]:
    folder = require_dir(soundscape_dir, "soundscape")
    mixtures = {p.stem: p for p in list_wavs(folder)}
    if not mixtures:
        raise FileNotFoundError(f"no .wav mixtures in soundscape folder {folder}")
    return mixtures


def group_by_mixture(folder, mixtures, what: str) -> dict[str, dict[str, Path]]:
    """Map mixture -> {label: path} for `<mix>_<Label>.wav` files of `folder`.

    Exact-name matching against the known mixtures (never prefixes: `mix_7` vs `mix_70`);
    an unknown mixture, an unknown label or a label given twice is an error naming the file.
    """
    folder = require_dir(folder, what)
    grouped: dict[str, dict[str, Path]] = defaultdict(dict)
    for path in list_wavs(folder):
        mix, label = split_stem(path.stem)
        if mix not in mixtures:
            raise ValueError(f"{what} file {path} names mixture {mix!r}, which is not in the soundscape folder")
        check_label(label, where=f"{what} file {path}")
        if label == "silence":
            raise ValueError(f"{what} file {path}: 'silence' is not written as a file; leave the slot out")
        if label in grouped[mix]:
            raise ValueError(
                f"{what} has two files with label {label!r} for mixture {mix!r}: {grouped[mix][label]} and {path}")
        grouped[mix][label] = path
    return dict(grouped)
