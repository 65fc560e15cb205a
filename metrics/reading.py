"""Reading one mixture's files for scoring: each file opened once and read as stored, its samples
converted to float64 only block by block while the scoring takes its products (`metrics.gram`).

WAV files of 32-bit float or 16-bit PCM samples (what the generator, the systems and the official
tools write) are read straight into a kept, aligned buffer: half the cost of reading them through
libsndfile, which copies and converts every sample once more. soundfile tells no data chunk's
offset, and scipy.io's reader costs 0.16 s to import, so `wav_samples` walks the RIFF chunks
itself, and only takes a file whose every chunk is where its header says: any other file (24-bit,
double, big-endian, damaged, unfinished) goes through soundfile, which repairs or refuses it.
Files are read, not memory-mapped: a file cut short while it is mapped kills the process (SIGBUS).

The checks are `common.audio.read_audio`'s (sample rate, channel count, length, NaN or Inf), made
on the header or on the samples already read: a mono file's NaN or Inf shows in its energy,
which the scoring computes anyway, and 16/24-bit PCM cannot hold either. Whenever a check fails,
`read_audio` reads the file again and raises its error, which names the file and the problem, so
the messages are those of every other reader of the project.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt
import soundfile as sf

from s5bench.common.audio import read_audio

from .gram import BlockBuffer, to_float64

# Subtypes whose every sample float32 holds exactly: read as float32 (half the bytes, and libsndfile's
# own conversion to float64 is slow), then converted by numpy.
_EXACT_IN_FLOAT32 = frozenset({"FLOAT", "PCM_16", "PCM_24", "PCM_S8", "PCM_U8"})
# Subtypes that cannot hold NaN or Inf.
_INTEGER_PREFIXES = ("PCM", "ULAW", "ALAW")
# WAVE format tag and bits per sample -> the samples' type, for the layouts read directly.
_DIRECT_TYPES = {(1, 16): np.dtype("<i2"), (3, 32): np.dtype("<f4")}
_EXTENSIBLE = 0xFFFE  # WAVE_FORMAT_EXTENSIBLE: the real tag opens its sub-format GUID


class ByteBuffer:
    """A kept, aligned byte buffer that grows as needed (one per file of a mixture)."""

    def __init__(self) -> None:
        self.bytes: npt.NDArray[np.uint8] = np.empty(0, dtype=np.uint8)

    def take(self, n: int) -> npt.NDArray[np.uint8]:
        """n bytes of the buffer.

        Args:
            n: bytes needed.

        Returns:
            A view of the first n bytes (numpy's allocation: aligned for any sample type).
        """
        if self.bytes.shape[0] < n:
            self.bytes = np.empty(n, dtype=np.uint8)
        return self.bytes[:n]


@dataclass(frozen=True)
class _Layout:
    rate: int
    channels: int
    dtype: np.dtype[Any]
    offset: int  # of the data chunk's body
    frames: int


def _layout(f: BinaryIO, file_size: int) -> _Layout | None:
    """Where a WAV file's samples are, when it is a plain little-endian RIFF/WAVE file of 16-bit PCM
    or 32-bit float samples whose chunks fill it exactly; None otherwise."""
    head = f.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    if int.from_bytes(head[4:8], "little") + 8 != file_size:  # unfinished, or appended to: libsndfile's repairs
        return None
    fmt: bytes | None = None
    data: tuple[int, int] | None = None
    pos = 12
    while pos < file_size:
        f.seek(pos)
        header = f.read(8)
        if len(header) < 8:
            return None
        chunk, size = header[:4], int.from_bytes(header[4:], "little")
        body = pos + 8
        if body + size > file_size or not all(32 <= c < 127 for c in chunk):
            return None
        if chunk == b"fmt ":
            if fmt is not None or data is not None or size < 16:
                return None
            fmt = f.read(min(size, 40))
        elif chunk == b"data":
            if data is not None or fmt is None:
                return None
            data = (body, size)
        pos = body + size + (size & 1)  # chunks are padded to an even length (the last pad may be missing)
    if fmt is None or data is None:
        return None
    tag, channels, rate, _, align, bits = struct.unpack_from("<HHIIHH", fmt)
    if tag == _EXTENSIBLE:
        if len(fmt) < 40:
            return None
        tag = struct.unpack_from("<H", fmt, 24)[0]
    dtype = _DIRECT_TYPES.get((tag, bits))
    if dtype is None or channels < 1 or align != channels * dtype.itemsize or data[1] % align:
        return None
    return _Layout(rate, channels, dtype, data[0], data[1] // align)


def wav_samples(path: Path, buffer: ByteBuffer | None = None) -> tuple[int, npt.NDArray[Any]] | None:
    """The samples of a little-endian WAV file of 16-bit PCM or 32-bit float, read as stored.

    Args:
        path: the file.
        buffer: where to read them (a new buffer if None).

    Returns:
        (sample rate in Hz, a (frames, channels) view of the samples in the buffer: int16 or
        float32), or None for any file it does not read (missing or unreadable, not RIFF/WAVE,
        another sample type, chunks that do not fill the file exactly, or a file that shrank
        while it was read): soundfile reads those, and names the problem where there is one.

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
        with open(path, "rb", buffering=0) as f:
            file_size = f.seek(0, 2)
            f.seek(0)
            layout = _layout(f, file_size)
            if layout is None:
                return None
            raw = (buffer or ByteBuffer()).take(layout.frames * layout.channels * layout.dtype.itemsize)
            f.seek(layout.offset)
            view, done = raw.data, 0
            while done < len(raw):
                got = f.readinto(view[done:])
                if not got:  # the file shrank since its size was read
                    return None
                done += got
    except OSError:  # missing, unreadable: soundfile's path tells which
        return None
    samples: npt.NDArray[Any] = np.frombuffer(raw.data, dtype=layout.dtype)  # a view of the buffer: no copy
    return layout.rate, np.reshape(samples, (layout.frames, layout.channels))


class MixtureReader:
    """Reads a mixture's channel 0 and its mono references and estimates as stored (`sources`,
    what the scoring takes its products from), or as the rows of one kept float64 matrix (`read`).

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
        self._files: list[ByteBuffer] = []  # one kept buffer per file of a mixture, the mixture's first
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
            to_float64(row, samples)
        return rows

    def sources(self, mixture: Path, files: list[Path]) -> list[npt.NDArray[Any]]:
        """Channel 0 of `mixture` and each of `files` as stored (not converted): read directly
        where `wav_samples` reads the file, else by soundfile.

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
        while len(self._files) < 1 + len(files):
            self._files.append(ByteBuffer())
        samples = self._direct(mixture, self.channels, None, self._files[0])
        if samples is None:
            samples, can_be_nan = self._read_mixture(mixture)
        else:
            can_be_nan = samples.dtype.kind == "f"
        # A NaN or Inf sample makes the sum NaN or Inf (so may an overflow): read_audio tells them apart
        # and names the file.
        if can_be_nan and not np.isfinite(samples.sum()):
            read_audio(mixture, sr=self.sr, channels=self.channels)
        length = int(samples.shape[0])
        out = [samples[:, 0]]
        for path, buffer in zip(files, self._files[1:]):
            mono = self._direct(path, 1, length, buffer)
            if mono is None:
                with self._open(path, 1, length) as f:
                    # float32 holds these exactly, and libsndfile's float -> double is 4x slower than numpy's
                    mono = f.read(dtype="float32" if str(f.subtype) in _EXACT_IN_FLOAT32 else "float64",
                                  always_2d=True)
            out.append(mono[:, 0])
        return out

    def _direct(self, path: Path, channels: int, length: int | None, buffer: ByteBuffer) -> npt.NDArray[Any] | None:
        """The file's samples as stored when it is a WAV file `wav_samples` reads and its header
        fits; None otherwise (soundfile then reads it, or `read_audio` names the problem)."""
        found = wav_samples(path, buffer)
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
