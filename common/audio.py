"""Audio reading and writing with checks that name the file and what is wrong."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.io import wavfile

# What write_audio_atomic can write: 32-bit float (the default) or the official sets' 16-bit PCM.
SUBTYPES = ("FLOAT", "PCM_16")


class AudioFormatError(ValueError):
    """A file whose sample rate, channel count, length or values are not what the data need."""


def read_audio(path, *, sr: int | None = None, channels: int | None = None, length: int | None = None,
               start: int = 0, frames: int = -1, dtype="float64", always_2d: bool = False) -> np.ndarray:
    """Read `path` as (samples,) or (samples, channels) and check it.

    sr / channels / length: the values the file must have (None = any). `start`/`frames` read
    only part of the file. NaN or Inf samples are refused.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"audio file not found: {path}")
    info = sf.info(str(path))
    if sr is not None and info.samplerate != sr:
        raise AudioFormatError(f"{path}: sample rate {info.samplerate} Hz, expected {sr} Hz")
    if channels is not None and info.channels != channels:
        raise AudioFormatError(f"{path}: {info.channels} channel(s), expected {channels}")
    if length is not None and info.frames != length:
        raise AudioFormatError(f"{path}: {info.frames} samples, expected {length} (the mixture's length)")
    data, _ = sf.read(str(path), start=start, frames=frames, dtype=dtype, always_2d=always_2d)
    if not np.isfinite(data).all():
        raise AudioFormatError(f"{path}: contains NaN or Inf samples")
    return data


def write_audio_atomic(path, data: np.ndarray, sr: int, subtype: str = "FLOAT") -> None:
    """Write a wav through a temporary file and a rename, so a crash never leaves a partial file.

    The same samples always give the same bytes: float files are written by scipy, whose header
    has no PEAK chunk (libsndfile's carries a timestamp); 16-bit PCM through libsndfile (no PEAK
    chunk there), with its rounding and clipping."""
    if subtype not in SUBTYPES:
        raise ValueError(f"{path}: audio subtype {subtype!r} is not one of {', '.join(SUBTYPES)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp_", suffix=".wav")
    os.close(fd)
    try:
        if subtype == "FLOAT":
            wavfile.write(tmp, int(sr), np.asarray(data, dtype=np.float32))
        else:
            sf.write(tmp, data, sr, subtype=subtype)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp_")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)
