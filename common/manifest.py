"""A data set that can prove it is whole: `manifest.json` beside the official layout.

The writer lists a mixture only once all its files (audio first, its metadata JSON last) are in
place, with each file's size and sha256, and the recipe, seed, sample format and code
fingerprint that made the set; the manifest is rewritten atomically as mixtures complete, and
says whether all `n` asked for are there. Readers (`check_dataset`) compare the folder with it
before anything runs: a listed file missing or of another size, a mixture not listed, or an
audio file the manifest does not know is an error that names them. `verify_dataset(…,
checksums=True)` (`generate.py --verify`) also compares every file's sha256. A folder without a
manifest (the official dev set, a user's own) is checked by the layout rules alone, with a
one-line note that it cannot be verified.
"""
from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, cast

from .audio import write_text_atomic
from .errors import S5Error
from .layout import METADATA_DIR, ORACLE_DIR, SOUNDSCAPE_DIR, group_by_mixture, list_mixtures, list_wavs
from .provenance import file_sha256

if TYPE_CHECKING:
    from _typeshed import StrPath  # str | os.PathLike[str]

MANIFEST = "manifest.json"
FORMAT = 1
AUDIO_DIRS = (SOUNDSCAPE_DIR, ORACLE_DIR, "stems")
SHOWN = 8  # problems listed in one message; the rest are counted


class DatasetError(S5Error):
    """A data folder that is incomplete or changed; the message names the mixtures and files."""


class FileEntry(TypedDict):
    """One file as the manifest lists it."""

    bytes: int  # its size
    sha256: str  # the hex digest of its bytes


class MixtureEntry(TypedDict):
    """A complete mixture as the manifest lists it."""

    files: dict[str, FileEntry]  # path relative to the data folder (posix) -> the file


class ManifestHead(TypedDict):
    """What made a data set; a manifest is continued only by a writer with the same head."""

    format: int  # FORMAT
    recipe_sha256: str  # `recipe_sha256` of the recipe
    seed: int | None
    subtype: str  # the sample format of the audio ("FLOAT", "PCM_16")


class _ManifestRequired(TypedDict):
    format: int
    mixtures: dict[str, MixtureEntry]


class Manifest(_ManifestRequired, total=False):
    """`manifest.json` as read: `format` and `mixtures` are checked by `read_manifest`, the rest is as written."""

    recipe_sha256: str
    seed: int | None
    subtype: str
    recipe: dict[str, Any]  # the recipe itself
    n: int  # the number of mixtures asked for
    code_fingerprint: str
    complete: bool  # every expected mixture is listed
    expected: list[str]  # the names of the mixtures asked for
    evaluation_set: bool  # written by data_gen/evaluation_set.py: mixtures only, no references


def file_entry(path: Path) -> FileEntry:
    """A file's size and sha256, measured now.

    Args:
        path: the file.

    Returns:
        Its manifest entry.
    """
    return {"bytes": path.stat().st_size, "sha256": file_sha256(path)}


def recipe_sha256(recipe: Mapping[str, Any]) -> str:
    """sha256 of a recipe as canonical JSON (sorted keys; values JSON cannot hold written as their str()).

    Args:
        recipe: the data config that makes a set.

    Returns:
        The hex digest: equal for equal recipes, whatever their key order.
    """
    return hashlib.sha256(json.dumps(recipe, sort_keys=True, default=str).encode()).hexdigest()


def mixture_entry(out: Path, name: str) -> MixtureEntry:
    """Files of a complete mixture (those its metadata JSON lists, and the JSON itself), measured now.

    Args:
        out: the data folder.
        name: the mixture's name.

    Returns:
        Its manifest entry.

    Raises:
        OSError: its metadata JSON or a file it lists cannot be read.
    """
    meta = out / METADATA_DIR / f"{name}.json"
    files: list[str] = json.loads(meta.read_text())["files"] + [meta.relative_to(out).as_posix()]
    return {"files": {f: file_entry(out / f) for f in files}}


class ManifestWriter:
    """Keeps `out/manifest.json` up to date while a set is written. An existing manifest made
    with another recipe, seed or sample format is refused: two data sets never share a folder.

    Args:
        out: the data folder.
        names: the mixtures the set is to hold.
        recipe: the data config that makes it (recorded, and its sha256 compared).
        seed: the set's seed (None: a set of given scenes).
        subtype: the sample format of its audio ("FLOAT", "PCM_16").
        code_fingerprint: `code_fingerprint()` of the code writing it.
        flush_seconds: the least time between two rewrites of the manifest by `add`, in seconds.

    Raises:
        DatasetError: `out` holds a manifest of another recipe, seed or sample format, or one that
            cannot be read.
    """

    def __init__(self, out: Path, *, names: list[str], recipe: Mapping[str, Any], seed: int | None, subtype: str,
                 code_fingerprint: str, flush_seconds: float = 2.0):
        self.out, self.path = Path(out), Path(out) / MANIFEST
        self.head: ManifestHead = {"format": FORMAT, "recipe_sha256": recipe_sha256(recipe), "seed": seed,
                                   "subtype": subtype}
        old = read_manifest(self.path) if self.path.is_file() else None
        if old is not None:
            differs = [k for k, v in self.head.items() if old.get(k) != v]
            if differs:
                raise DatasetError(f"{self.out} holds a data set made with another {', '.join(differs)} "
                                   f"(its {MANIFEST}); write this one to another folder")
        self.mixtures: dict[str, MixtureEntry] = dict(old["mixtures"]) if old else {}
        self.names = list(names)  # the mixtures the set is to hold
        self.meta: dict[str, object] = {"recipe": recipe, "n": len(self.names), "code_fingerprint": code_fingerprint}
        self.flush_seconds, self._last = flush_seconds, 0.0

    def add(self, name: str) -> None:
        """List a mixture whose files are all in place (measured now); the manifest is rewritten when
        `flush_seconds` have passed since the last time.

        Args:
            name: the mixture's name.

        Raises:
            OSError: a file of the mixture cannot be read, or the manifest cannot be written.
        """
        self.mixtures[name] = mixture_entry(self.out, name)
        if time.monotonic() - self._last > self.flush_seconds:
            self.write()

    def verified(self, name: str) -> bool:
        """Whether a mixture left by an earlier run can be kept: listed, and every file of the size
        and sha256 listed (one cut short or changed on disk, or never listed, is made again).

        Args:
            name: the mixture's name.

        Returns:
            True when it is listed and its files are as listed.
        """
        entry = self.mixtures.get(name)
        return entry is not None and not problems_of(self.out, name, entry, checksums=True)

    def drop(self, name: str) -> None:
        """Take a mixture off the list (to be made again); one not listed is ignored.

        Args:
            name: the mixture's name.
        """
        self.mixtures.pop(name, None)

    def write(self) -> None:
        """Write the manifest as it stands (atomically); `complete` once every expected mixture is listed.

        Raises:
            OSError: it cannot be written.
        """
        complete = all(name in self.mixtures for name in self.names)
        body = {**self.head, **self.meta, "complete": complete, "expected": self.names,
                "mixtures": dict(sorted(self.mixtures.items()))}
        write_text_atomic(self.path, json.dumps(body, indent=1, default=str) + "\n")
        self._last = time.monotonic()


def read_manifest(path: StrPath) -> Manifest:
    """A data set's manifest, checked for its format.

    Args:
        path: the `manifest.json` file.

    Returns:
        Its content.

    Raises:
        DatasetError: it cannot be read or is not JSON, or is not a manifest of format `FORMAT` with a
            `mixtures` object.
    """
    try:
        body = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:  # a binary file is not UTF-8
        raise DatasetError(f"{path}: not a readable manifest ({err})") from None
    fields: dict[str, Any] = cast("dict[str, Any]", body) if isinstance(body, dict) else {}  # JSON: keys are str
    if fields.get("format") != FORMAT or not isinstance(fields.get("mixtures"), dict):
        raise DatasetError(f"{path}: not an s5bench manifest of format {FORMAT}")
    return cast(Manifest, fields)  # its format and mixtures checked above


def problems_of(folder: Path, name: str, entry: MixtureEntry, checksums: bool) -> list[str]:
    """What differs between a mixture's files on disk and its manifest entry.

    Args:
        folder: the data folder.
        name: the mixture's name (for the messages).
        entry: its manifest entry.
        checksums: compare every file's sha256 too (else only their presence and size).

    Returns:
        One message per file missing, of another size or (with `checksums`) changed; [] when all match.
    """
    out: list[str] = []
    for rel, want in entry["files"].items():
        path = folder / rel
        if not path.is_file():
            out.append(f"{name}: {rel} is missing")
        elif path.stat().st_size != want["bytes"]:
            out.append(f"{name}: {rel} has {path.stat().st_size} bytes, the manifest says {want['bytes']}")
        elif checksums and file_entry(path)["sha256"] != want["sha256"]:
            out.append(f"{name}: {rel} has changed (sha256 differs from the manifest's)")
    return out


@dataclass
class Verdict:
    """What `verify_dataset` found in a data folder.

    Args:
        folder: the data folder.
        has_manifest: it holds a `manifest.json` (else it was checked by the layout rules only).
        problems: one message per problem found; none when the folder is whole.
        n_mixtures: the mixtures listed in the manifest (or found in soundscape/).
        evaluation_set: it has no oracle_target/ folder, so only its mixtures were checked.
    """

    folder: Path
    has_manifest: bool
    problems: list[str] = field(default_factory=list[str])
    n_mixtures: int = 0
    evaluation_set: bool = False  # no oracle_target/: mixtures only (scored elsewhere, or not at all)

    @property
    def ok(self) -> bool:
        """Whether no problem was found."""
        return not self.problems

    def message(self) -> str:
        """The problems in one message for the user (the first `SHOWN` named, the others counted).

        Returns:
            "data set <folder> is incomplete or changed (…): <problems>", with how to repair it when
            the folder has a manifest.
        """
        shown = self.problems[:SHOWN]
        more = f"; and {len(self.problems) - SHOWN} more" if len(self.problems) > SHOWN else ""
        how = (f"checked against its {MANIFEST}" if self.has_manifest else "checked by the layout rules")
        fix = ("; run generate.py again with the same arguments to repair it" if self.has_manifest else "")
        return f"data set {self.folder} is incomplete or changed ({how}): {'; '.join(shown)}{more}{fix}"


def verify_dataset(folder: StrPath, checksums: bool = False) -> Verdict:
    """Compare a data folder with its manifest (or, without one, with the layout rules).

    Args:
        folder: the data folder.
        checksums: compare every listed file's sha256 too (else only presence and size).

    Returns:
        What was found; `ok` when the folder is whole.

    Raises:
        DatasetError: its manifest cannot be read or is not one.
    """
    folder = Path(folder)
    if not (folder / SOUNDSCAPE_DIR).is_dir():
        return Verdict(folder, False, [f"no {SOUNDSCAPE_DIR}/ folder"])
    path = folder / MANIFEST
    if not path.is_file():
        return _verify_layout(folder)
    body = read_manifest(path)
    listed: dict[str, MixtureEntry] = body["mixtures"]
    verdict = Verdict(folder, True, n_mixtures=len(listed))
    if not (folder / ORACLE_DIR).is_dir():  # an evaluation set: its mixtures are verified, references not required
        verdict.evaluation_set = True
        listed = {name: {"files": {rel: want for rel, want in entry["files"].items()
                                   if rel.startswith(f"{SOUNDSCAPE_DIR}/")}} for name, entry in listed.items()}
    for name, entry in listed.items():
        verdict.problems += problems_of(folder, name, entry, checksums)
    expected = body.get("expected") or []
    missing = [m for m in expected if m not in listed]
    if missing or not body.get("complete"):
        shown = ", ".join(missing[:SHOWN]) + (" …" if len(missing) > SHOWN else "")
        verdict.problems.append(f"{len(missing)} of {len(expected)} mixtures not listed ({shown}): "
                                "the generation did not finish" if missing else "the generation did not finish")
    known = {rel for entry in listed.values() for rel in entry["files"]}
    for sub in AUDIO_DIRS:
        for f in list_wavs(folder / sub) if (folder / sub).is_dir() else []:
            rel = f.relative_to(folder).as_posix()
            if rel not in known:
                verdict.problems.append(f"{rel} is not in the manifest (a file added, or left by an unfinished run)")
    return verdict


def _verify_layout(folder: Path) -> Verdict:
    """Without a manifest: every mixture's metadata (when there is any) names files that exist,
    and every oracle target belongs to a mixture (group_by_mixture refuses strays)."""
    mixtures = list_mixtures(folder / SOUNDSCAPE_DIR)
    verdict = Verdict(folder, False, n_mixtures=len(mixtures))
    if (folder / ORACLE_DIR).is_dir():
        try:
            group_by_mixture(folder / ORACLE_DIR, mixtures, "oracle target", edition=2026)  # the looser rules
        except ValueError as err:
            verdict.problems.append(str(err))
    for name in sorted(mixtures):
        meta = folder / METADATA_DIR / f"{name}.json"
        if meta.is_file():
            try:
                body = json.loads(meta.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError) as err:  # cut off, or binary
                verdict.problems.append(f"{name}: {meta.relative_to(folder)} is not valid JSON ({err})")
                continue
            if not isinstance(body, dict):
                verdict.problems.append(f"{name}: {meta.relative_to(folder)} is not a mixture's metadata "
                                        "(a JSON object)")
                continue
            files = cast("dict[str, Any]", body).get("files", [])
            verdict.problems += [f"{name}: {f} is missing (its metadata lists it)" for f in files
                                 if not (folder / f).is_file()]
    return verdict


_NOTED: set[str] = set()


def check_dataset(folder: StrPath) -> Verdict:
    """Refuse a data folder that its manifest shows incomplete or changed (DatasetError); a folder
    without a manifest passes with a one-line note (once per folder and process).

    Args:
        folder: the data folder.

    Returns:
        The verdict, which is `ok`.

    Raises:
        DatasetError: the folder is incomplete or changed, or its manifest cannot be read.
    """
    verdict = verify_dataset(folder)
    if not verdict.ok:
        raise DatasetError(verdict.message())
    if not verdict.has_manifest and str(verdict.folder) not in _NOTED:
        _NOTED.add(str(verdict.folder))
        print(f"note: {verdict.folder} has no {MANIFEST} (not made by generate.py): its completeness cannot be "
              "verified, only its layout", file=sys.stderr)
    return verdict
