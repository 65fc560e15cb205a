"""Reading one mixture's files for scoring: each file opened once and read straight into a row of
one float64 matrix that is kept from mixture to mixture (`metrics.scene.score_rows` scores it).

WAV files of 32-bit float or 16-bit PCM samples (what the generator, the systems and the official
tools write) are mapped into memory and converted by numpy straight into their row: half the cost
of reading them through libsndfile, which copies every sample once more. soundfile tells no data
chunk's offset, and scipy.io's reader costs 0.16 s to import, so `wav_samples` walks the RIFF
chunks itself; any other file (24-bit, double, big-endian, damaged) goes through soundfile.

The checks are `common.audio.read_audio`'s (sample rate, channel count, length, NaN or Inf), made
on the header or on the samples already read: a mono file's NaN or Inf shows in its energy,
which the scoring computes anyway, and 16/24-bit PCM cannot hold either. Whenever a check fails,
`read_audio` reads the file again and raises its error, which names the file and the problem, so
the messages are those of every other reader of the project.
"""
from __future__ import annotations

import mmap
import struct
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import soundfile as sf

from s5bench.common.audio import read_audio

from .gram import PCM16_SCALE, BlockBuffer

# Subtypes whose every sample float32 holds exactly: read as float32 (half the bytes, and libsndfile's
# own conversion to float64 is slow), then converted by numpy.
_EXACT_IN_FLOAT32 = frozenset({"FLOAT", "PCM_16", "PCM_24", "PCM_S8", "PCM_U8"})
# Subtypes that cannot hold NaN or Inf.
_INTEGER_PREFIXES = ("PCM", "ULAW", "ALAW")
# WAVE format tag and bits per sample -> the samples' type, for the layouts mapped in place.
_MAPPED_TYPES = {(1, 16): np.dtype("<i2"), (3, 32): np.dtype("<f4")}
_EXTENSIBLE = 0xFFFE  # WAVE_FORMAT_EXTENSIBLE: the real tag opens its sub-format GUID


def wav_samples(path: Path) -> tuple[int, npt.NDArray[Any]] | None:
    """The samples of a little-endian WAV file of 16-bit PCM or 32-bit float, mapped in place.

    Args:
        path: the file.

    Returns:
        (sample rate in Hz, a read-only (frames, channels) view of the samples as stored: int16 or
        float32), or None for any file it does not map (missing, empty, not RIFF/WAVE, another
        sample type, a data chunk longer than the file): soundfile reads those, and names the
        problem where there is one.

    Example:
        >>> import numpy as np, soundfile as sf, tempfile, pathlib
        >>> from s5bench.metrics.reading import wav_samples
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.wav"
        >>> sf.write(path, np.array([[0.5, -0.25], [0.0, 1.0]]), 8000, subtype="FLOAT")
        >>> sr, samples = wav_samples(path)
        >>> sr, samples.tolist()
        (8000, [[0.5, -0.25], [0.0, 1.0]])
    """
    try:
        with open(path, "rb") as f:
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # missing, unreadable or empty: soundfile's path tells which
        return None
    if mapped[:4] != b"RIFF" or mapped[8:12] != b"WAVE":
        return None
    fmt: tuple[int, int, int, int, int] | None = None  # tag, channels, rate, block align, bits
    pos = 12
    while pos + 8 <= len(mapped):
        chunk, size = mapped[pos:pos + 4], int.from_bytes(mapped[pos + 4:pos + 8], "little")
        body = pos + 8
        if chunk == b"fmt " and size >= 16:
            tag, channels, rate, _, align, bits = struct.unpack_from("<HHIIHH", mapped, body)
            if tag == _EXTENSIBLE and size >= 40:
                tag = struct.unpack_from("<H", mapped, body + 24)[0]
            fmt = (tag, channels, rate, align, bits)
        elif chunk == b"data":
            if fmt is None:
                return None
            tag, channels, rate, align, bits = fmt
            dtype = _MAPPED_TYPES.get((tag, bits))
            if dtype is None or channels < 1 or align != channels * dtype.itemsize or body + size > len(mapped):
                return None
            frames = size // align
            samples: npt.NDArray[Any] = np.frombuffer(mapped, dtype=dtype, count=frames * channels, offset=body)
            return rate, np.reshape(samples, (frames, channels))  # a view of the mapped bytes: nothing is copied
        pos = body + size + (size & 1)  # chunks are padded to an even length
    return None


class MixtureReader:
    """Reads a mixture's channel 0 and its mono references and estimates into the rows of one
    float64 matrix, which it allocates once per signal length and keeps.

    Args:
        sr: the sample rate every file must have, Hz.
        channels: the mixtures' channel count (channel 0 is the one scored against).

    Example:
        >>> import numpy as np, soundfile as sf, tempfile, pathlib
        >>> from s5bench.metrics.reading import MixtureReader
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> sf.write(folder / "mix.wav", np.full((4, 2), 0.5), 8000, subtype="FLOAT")
        >>> sf.write(folder / "mix_Speech.wav", np.array([0.25, 0.0, 0.0, 0.0]), 8000, subtype="FLOAT")
        >>> MixtureReader(8000, 2).read(folder / "mix.wav", [folder / "mix_Speech.wav"])
        array([[0.5 , 0.5 , 0.5 , 0.5 ],
               [0.25, 0.  , 0.  , 0.  ]])
    """

    def __init__(self, sr: int, channels: int) -> None:
        self.sr, self.channels = sr, channels
        self._rows: npt.NDArray[np.float64] = np.empty((0, 0))
        self.block = BlockBuffer()  # `metrics.gram`'s kept buffer, for the scoring of what `sources` gives
        self._buffers: dict[str, npt.NDArray[Any]] = {}  # the multichannel mixture, by sample type

    def read(self, mixture: Path, files: list[Path]) -> npt.NDArray[np.float64]:
        """Channel 0 of `mixture` and each of `files`, one row each.

        Args:
            mixture: the mixture's file (`channels` channels at `sr`).
            files: its mono references then estimates, each as long as the mixture.

        Returns:
            A view (1 + len(files), samples) of the kept matrix: valid until the next `read`.

        Raises:
            FileNotFoundError: If a file is missing.
            S5Error: As `sources`.
        """
        sources = self.sources(mixture, files)
        length = len(sources[0])
        if self._rows.shape[0] < len(sources) or self._rows.shape[1] != length:
            self._rows = np.empty((max(len(sources), self._rows.shape[0]), length))
        rows = self._rows[:len(sources)]
        for row, samples in zip(rows, sources):
            _fill(row, samples)
        return rows

    def sources(self, mixture: Path, files: list[Path]) -> list[npt.NDArray[Any]]:
        """Channel 0 of `mixture` and each of `files` as stored (not converted): mapped from the
        file where `wav_samples` maps it, else read by soundfile.

        Args:
            mixture: the mixture's file (`channels` channels at `sr`).
            files: its mono references then estimates, each as long as the mixture.

        Returns:
            One 1-D array per file, the mixture's first: float32, float64 or int16 (16-bit PCM,
            to be scaled by 1/32768), valid until the next call.

        Raises:
            FileNotFoundError: If a file is missing.
            S5Error: If a file is empty or not audio, or has the wrong rate, channel count or
                length (AudioFormatError), or the mixture holds NaN or Inf samples; a mono file's
                NaN or Inf is left to the scoring, which names it.
        """
        samples = self._mapped(mixture, self.channels, None)
        if samples is None:
            samples, can_be_nan = self._read_mixture(mixture)
        else:
            can_be_nan = samples.dtype.kind == "f"
        # A NaN or Inf sample makes the sum NaN or Inf (so may an overflow): read_audio tells them apart
        # and names the file. A sum, not a dot: a mapped file's samples are rarely 4-byte aligned, and
        # numpy's BLAS dot is 4x slower on those.
        if can_be_nan and not np.isfinite(samples.sum()):
            read_audio(mixture, sr=self.sr, channels=self.channels)
        length = int(samples.shape[0])
        out = [samples[:, 0]]
        for path in files:
            mono = self._mapped(path, 1, length)
            if mono is None:
                with self._open(path, 1, length) as f:
                    # float32 holds these exactly, and libsndfile's float -> double is 4x slower than numpy's
                    mono = f.read(dtype="float32" if str(f.subtype) in _EXACT_IN_FLOAT32 else "float64",
                                  always_2d=True)
            out.append(mono[:, 0])
        return out

    def _mapped(self, path: Path, channels: int, length: int | None) -> npt.NDArray[Any] | None:
        """The file's samples mapped in place when it is a WAV file `wav_samples` maps and its
        header fits; None otherwise (soundfile then reads it, or `read_audio` names the problem)."""
        found = wav_samples(path)
        if found is None:
            return None
        rate, samples = found
        if rate != self.sr or samples.shape[1] != channels or (length is not None and samples.shape[0] != length):
            return None
        return samples

    def _read_mixture(self, mixture: Path) -> tuple[npt.NDArray[Any], bool]:
        """The multichannel mixture read by soundfile into a kept buffer, and whether its sample
        type can hold NaN or Inf."""
        with self._open(mixture, self.channels, None) as f:
            length, subtype = int(f.frames), str(f.subtype)
            buffer = self._buffer("float32" if subtype in _EXACT_IN_FLOAT32 else "float64", length)
            f.read(out=buffer)
        return buffer, not subtype.startswith(_INTEGER_PREFIXES)

    def _buffer(self, dtype: str, length: int) -> npt.NDArray[Any]:
        buffer = self._buffers.get(dtype)
        if buffer is None or buffer.shape[0] != length:
            buffer = self._buffers[dtype] = np.empty((length, self.channels), dtype=dtype)
        return buffer

    def _open(self, path: Path, channels: int, length: int | None) -> sf.SoundFile:
        """The open file, or `read_audio`'s error for it when it cannot be opened or does not fit."""
        try:
            f = sf.SoundFile(str(path))
        except (sf.LibsndfileError, RuntimeError, OSError):
            read_audio(path, sr=self.sr, channels=channels, length=length)
            raise  # read_audio found nothing wrong: libsndfile's own error, unchanged
        if f.samplerate != self.sr or f.channels != channels or (length is not None and f.frames != length):
            f.close()
            read_audio(path, sr=self.sr, channels=channels, length=length)
            raise AssertionError(f"{path}: read_audio accepted a file that soundfile's header refuses")
        return f


def _fill(row: npt.NDArray[np.float64], column: npt.NDArray[Any]) -> None:
    """A row set to one channel's samples as floats (16-bit PCM scaled to [-1, 1) as libsndfile does)."""
    if column.dtype == np.int16:
        np.multiply(column, PCM16_SCALE, out=row)
    else:
        row[:] = column
