"""Audio reading and writing with checks that name the file and what is wrong."""
from __future__ import annotations

import errno
import os
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
import soundfile as sf

from .atomic import atomic_path, named, staging_path
from .errors import S5Error
from .interrupt import signals_deferred

if TYPE_CHECKING:
    from _typeshed import StrPath  # str | os.PathLike[str]

# What write_audio_atomic can write: 32-bit float (the default) or the official sets' 16-bit PCM.
SUBTYPES = ("FLOAT", "PCM_16")


class AudioFormatError(S5Error):
    """A file whose sample rate, channel count, length or values are not what the data need."""


class AudioInfo(Protocol):
    """What `audio_info` reads from a file's header (soundfile's info object)."""

    samplerate: int  # Hz
    channels: int
    frames: int  # samples per channel
    duration: float  # seconds
    subtype: str  # sample format, e.g. "PCM_16", "FLOAT"


def read_audio(path: StrPath, *, sr: int | None = None, channels: int | None = None, length: int | None = None,
               start: int = 0, frames: int = -1, dtype: Literal["float64", "float32", "int32", "int16"] = "float64",
               always_2d: bool = False) -> np.ndarray:
    """Read `path` as (samples,) or (samples, channels) and check it; NaN or Inf samples are refused.

    Args:
        path: the audio file.
        sr: the sample rate the file must have, in Hz (None: any).
        channels: the channel count the file must have (None: any).
        length: the length the file must have, in samples per channel (None: any).
        start: the first sample read.
        frames: how many samples per channel to read (-1: to the end).
        dtype: the sample type of the array returned.
        always_2d: return (samples, 1) for a mono file instead of (samples,).

    Returns:
        The samples, shape (samples,) for a mono file (unless `always_2d`) or (samples, channels).

    Raises:
        FileNotFoundError: there is no such file.
        AudioFormatError: the file is not readable audio, its sample rate, channel count or length
            differs from the one asked for, or it holds NaN or Inf samples.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"audio file not found: {path}")
    info = audio_info(path)
    if sr is not None and info.samplerate != sr:
        raise AudioFormatError(f"{path}: sample rate {info.samplerate} Hz, expected {sr} Hz")
    if channels is not None and info.channels != channels:
        raise AudioFormatError(f"{path}: {info.channels} channel(s), expected {channels}")
    if length is not None and info.frames != length:
        why = ("shorter than its mixture: the file looks truncated" if info.frames < length
               else "longer than its mixture")
        raise AudioFormatError(f"{path}: {info.frames} samples, expected {length} (the mixture's length); {why}")
    try:
        data, _ = sf.read(str(path), start=start, frames=frames, dtype=dtype, always_2d=always_2d)
    except sf.SoundFileError as err:  # a header that reads, a body that does not
        raise AudioFormatError(f"{path}: not a readable WAV file ({err})") from None
    if not np.isfinite(data).all():
        raise AudioFormatError(f"{path}: contains NaN or Inf samples")
    return data


def audio_info(path: StrPath) -> AudioInfo:
    """soundfile's header reading, with an error that names the file when it is not audio.

    Args:
        path: the audio file.

    Returns:
        Its sample rate, channel count, length, duration and sample format.

    Raises:
        AudioFormatError: the file is empty or not readable audio.
        OSError: it does not exist or may not be read (PermissionError naming it).
    """
    path = Path(path)
    if path.stat().st_size == 0:
        raise AudioFormatError(f"{path}: an empty file (0 bytes), not a readable WAV file")
    with open(path, "rb"):  # a file we may not read: PermissionError naming it, not libsndfile's "System error"
        pass
    try:
        return sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError) as err:
        raise AudioFormatError(f"{path}: not a readable WAV file ({err})") from None


def _write_wav(path: StrPath, data: np.ndarray, sr: int, subtype: str) -> None:
    """The same samples always give the same bytes: float files are written by scipy, whose header
    has no PEAK chunk (libsndfile's carries a timestamp); 16-bit PCM through libsndfile (no PEAK
    chunk there), with its rounding and clipping."""
    if subtype == "FLOAT":
        from scipy.io import wavfile  # here, not at the top: a scoring run, which only reads, saves its 0.1 s import

        # scipy leaves wavfile.write's parameters unannotated
        wavfile.write(path, int(sr), np.asarray(data, dtype=np.float32))  # pyright: ignore[reportUnknownMemberType]
        return
    try:
        sf.write(path, data, sr, subtype=subtype)
    except sf.LibsndfileError as err:  # libsndfile says "System error" for a full disk or a refused write
        raise OSError(errno.EIO, f"could not write audio ({err}); is the disk full or the folder not writable?",
                      str(path)) from None


def write_audio_atomic(path: StrPath, data: np.ndarray, sr: int, subtype: str = "FLOAT") -> None:
    """Write a wav through a temporary file and a rename, so a crash never leaves a partial file.

    Args:
        path: the target file.
        data: the samples, shape (samples,) or (samples, channels); floats in [-1, 1].
        sr: the sample rate, in Hz.
        subtype: "FLOAT" (32-bit float) or "PCM_16" (16-bit, rounded and clipped).

    Raises:
        S5Error: `subtype` is not one of `SUBTYPES`.
        OSError: the file cannot be written (a full disk, a refused permission), naming it.
    """
    with files_together() as group:
        group.audio(path, data, sr, subtype)


class FileGroup:
    """Audio files written under temporary names beside their targets, then moved into place
    together (`commit`), or all removed (`discard`): a failure half-way leaves none of them."""

    def __init__(self):
        self.staged: list[tuple[Path, Path]] = []

    def audio(self, path: StrPath, data: np.ndarray, sr: int, subtype: str = "FLOAT") -> None:
        """Write one file of the group under a temporary name beside `path` (moved there by `commit`).

        Args:
            path: the target file.
            data: the samples, shape (samples,) or (samples, channels); floats in [-1, 1].
            sr: the sample rate, in Hz.
            subtype: "FLOAT" (32-bit float) or "PCM_16" (16-bit, rounded and clipped).

        Raises:
            S5Error: `subtype` is not one of `SUBTYPES`.
            OSError: the temporary file cannot be made or written, naming `path`.
        """
        if subtype not in SUBTYPES:
            raise S5Error(f"{path}: audio subtype {subtype!r} is not one of {', '.join(SUBTYPES)}")
        path = Path(path)
        with signals_deferred():  # a Ctrl-C between the two would leave a temporary file nobody removes
            tmp = staging_path(path)
            self.staged.append((tmp, path))
        try:
            _write_wav(tmp, data, sr, subtype)
        except OSError as err:
            raise named(err, path) from err

    def commit(self) -> None:
        """Move every file into place; if one cannot be (a name too long, a full directory), none of
        the group is left: the temporary files and the files already moved are removed.

        Raises:
            OSError: the rename that failed, naming its target.
        """
        with signals_deferred():  # the renames are quick; a signal takes effect once they are done
            moved: list[Path] = []
            for tmp, path in self.staged:
                try:
                    os.replace(tmp, path)
                except OSError as err:
                    for p in moved:
                        p.unlink(missing_ok=True)
                    self.discard()
                    raise type(err)(err.errno, err.strerror, str(path)) from err  # the target, not the temporary name
                moved.append(path)
            self.staged = []

    def discard(self) -> None:
        """Remove the group's temporary files (those not yet moved into place) and forget them."""
        for tmp, _ in self.staged:
            tmp.unlink(missing_ok=True)
        self.staged = []


@contextmanager
def files_together() -> Generator[FileGroup, None, None]:
    """`with files_together() as group: group.audio(...)`: committed when the block ends, discarded
    when it raises.

    Yields:
        An empty `FileGroup`.

    Raises:
        OSError: the commit failed (none of the group's files is left), naming the target.
    """
    group = FileGroup()
    try:
        yield group
    except BaseException:
        group.discard()
        raise
    group.commit()


def write_text_atomic(path: StrPath, text: str) -> None:
    """Write a text file through the atomic writer (common/atomic.py); a Ctrl-C takes effect when it
    is written or removed, never between the temporary file's making and its removal.

    Args:
        path: the target file.
        text: its whole content (written in the locale's encoding, as Path.write_text does).

    Raises:
        OSError: it cannot be written (a full disk, a refused permission), naming the target.
    """
    with signals_deferred(), atomic_path(path) as tmp:  # short: held back whole, never half-written
        tmp.write_text(text)
