"""Reading one mixture's files for scoring: each file opened once and read straight into a row of
one float64 matrix that is kept from mixture to mixture (`metrics.scene.score_rows` scores it).

The checks are `common.audio.read_audio`'s (sample rate, channel count, length, NaN or Inf), made
on the open file or on the samples already read: a mono file's NaN or Inf shows in its energy,
which the scoring computes anyway, and 16/24-bit PCM cannot hold either. Whenever a check fails,
`read_audio` reads the file again and raises its error, which names the file and the problem, so
the messages are those of every other reader of the project.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import soundfile as sf

from s5bench.common.audio import read_audio

# Subtypes whose every sample float32 holds exactly: read as float32 (half the bytes, and libsndfile's
# own conversion to float64 is slow), then converted by numpy.
_EXACT_IN_FLOAT32 = frozenset({"FLOAT", "PCM_16", "PCM_24", "PCM_S8", "PCM_U8"})
# Subtypes that cannot hold NaN or Inf.
_INTEGER_PREFIXES = ("PCM", "ULAW", "ALAW")


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
        self._staging: npt.NDArray[np.float32] = np.empty(0, dtype=np.float32)
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
            S5Error: If a file is empty or not audio, or has the wrong rate, channel count or
                length (AudioFormatError), or the mixture holds NaN or Inf samples; a mono file's
                NaN or Inf is left to the scoring, which names it.
        """
        with self._open(mixture, self.channels, None) as f:
            length, subtype = int(f.frames), str(f.subtype)
            buffer = self._buffer("float32" if subtype in _EXACT_IN_FLOAT32 else "float64", length)
            f.read(out=buffer)
        flat = buffer.ravel()
        can_be_nan = not subtype.startswith(_INTEGER_PREFIXES)
        if can_be_nan and not np.isfinite(np.dot(flat, flat)):  # a NaN or Inf sample, or an overflow: read_audio
            read_audio(mixture, sr=self.sr, channels=self.channels)  # tells them apart, and names the file
        if self._rows.shape[0] < 1 + len(files) or self._rows.shape[1] != length:
            self._rows = np.empty((max(1 + len(files), self._rows.shape[0]), length))
            self._staging = np.empty(length, dtype=np.float32)  # one mono file, as read
        rows = self._rows[:1 + len(files)]
        rows[0] = buffer[:, 0]
        for row, path in zip(rows[1:], files):
            with self._open(path, 1, length) as f:
                if str(f.subtype) in _EXACT_IN_FLOAT32:  # libsndfile's float -> double is 4x slower than numpy's
                    f.read(out=self._staging)
                    row[:] = self._staging
                else:
                    f.read(out=row)
        return rows

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
