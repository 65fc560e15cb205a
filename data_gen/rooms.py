"""Room banks: SOFA `SingleRoomSRIR` files of first-order ambisonic impulse responses.

Reading goes through netCDF4 (what sofar itself reads with) so that one measurement is read
without loading the whole `Data.IR` array; writing goes through sofar, so the files carry the
SOFA 2.1 SingleRoomSRIR attributes that the SpatialScaper fork checks with pysofaconventions.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from s5bench.common.atomic import atomic_path
from s5bench.common.errors import S5Error
from s5bench.common.labels import SAMPLE_RATE
from s5bench.common.layout import require_dir

if TYPE_CHECKING:
    import numpy.typing as npt

FOA_CHANNELS = 4  # ACN order W, Y, Z, X; SN3D


def _cartesian(pos: np.ndarray, kind: str) -> np.ndarray:
    if kind.lower() == "cartesian":
        return pos
    az, el, r = np.deg2rad(pos[:, 0]), np.deg2rad(pos[:, 1]), pos[:, 2]
    return np.stack([r * np.cos(el) * np.cos(az), r * np.cos(el) * np.sin(az), r * np.sin(el)], axis=1)


class SofaRoom:
    """One room: M measured source positions, each with a (4, N) impulse response.

    The file stays open (netCDF4) until `close`; `positions` are the SourcePosition values as
    Cartesian coordinates in metres (spherical ones converted).

    Args:
        path: the .sofa file.
        channels: the receiver channels the file must have (4: FOA W, Y, Z, X).

    Raises:
        FileNotFoundError: If `path` is not a file.
        S5Error: If it is not a readable netCDF-4/HDF5 file, has no Data.IR, or has another number of channels.
    """

    IN_MEMORY_LIMIT = 512 * 2 ** 20  # rooms up to this size are loaded whole on first use

    def __init__(self, path: str | Path, channels: int = FOA_CHANNELS):
        import netCDF4

        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"SOFA file not found: {self.path}")
        try:
            self._nc = netCDF4.Dataset(str(self.path), "r")
        except OSError as err:
            raise S5Error(f"{self.unreadable(err)}") from None
        if "Data.IR" not in self._nc.variables:
            raise S5Error(f"{self.path}: no Data.IR variable; not a SOFA impulse-response file")
        ir = self._nc.variables["Data.IR"]
        self.n_positions, self.n_channels, self.n_taps = ir.shape
        if self.n_channels != channels:
            raise S5Error(f"{self.path}: {self.n_channels} receiver channel(s), expected {channels} (FOA W,Y,Z,X)")
        self.sr = int(np.asarray(self._nc.variables["Data.SamplingRate"][:]).ravel()[0])
        sp = self._nc.variables["SourcePosition"]
        self.positions = _cartesian(np.asarray(sp[:], dtype=np.float64).reshape(-1, 3),
                                    getattr(sp, "Type", "cartesian"))
        self._all = None

    @property
    def name(self) -> str:
        """The file's name (how plans name the room)."""
        return self.path.name

    def unreadable(self, err: BaseException) -> str:
        """The message for a file that netCDF4 cannot read.

        Args:
            err: netCDF4's error.

        Returns:
            A sentence naming the file, the error and the file's size (a truncated copy is the likely cause).
        """
        return (f"{self.path}: not a readable SOFA (netCDF-4/HDF5) file ({err}); it has "
                f"{self.path.stat().st_size} bytes and may be truncated (copy or download it again)")

    def ir(self, index: int) -> np.ndarray:
        """The impulse response of one measurement.

        A room that fits in memory (`IN_MEMORY_LIMIT`) is read whole once (compressed SOFA files
        decompress whole chunks anyway); a larger one is read one measurement at a time.

        Args:
            index: the measurement, 0 … n_positions − 1 (the row of `positions`).

        Returns:
            (channels, taps) float64 response.

        Raises:
            IndexError: If `index` is out of range.
            S5Error: If the data cannot be read (a truncated file).
        """
        if not 0 <= index < self.n_positions:
            raise IndexError(f"{self.path}: position {index} out of range 0..{self.n_positions - 1}")
        var = self._nc.variables["Data.IR"]
        try:
            if self._all is None and self.n_positions * self.n_channels * self.n_taps * 8 <= self.IN_MEMORY_LIMIT:
                self._all = np.asarray(var[:], dtype=np.float64)
            if self._all is not None:
                return self._all[index]
            return np.asarray(var[index], dtype=np.float64)
        except (OSError, RuntimeError) as err:  # the header read, the data cut off
            raise S5Error(self.unreadable(err)) from None

    def close(self) -> None:
        """Close the file."""
        self._nc.close()


class RoomBank:
    """A folder of .sofa rooms (the dev_set's room_ir/<split>/ or a synthetic bank).

    Rooms are opened on first use and kept open; a pickled bank (a worker's copy) opens its own.

    Args:
        root: the folder (.sofa files directly in it).
        sr: the sample rate every room must have, in Hz.

    Raises:
        FileNotFoundError: If `root` is not a folder.
        S5Error: If it holds no .sofa file.
    """

    def __init__(self, root: str | Path, sr: int = SAMPLE_RATE):
        self.root, self.sr = require_dir(root, "room"), sr
        self.names = sorted(p.name for p in self.root.glob("*.sofa"))
        if not self.names:
            raise S5Error(f"room folder {self.root} is empty: no .sofa files found")
        self._open: dict[str, SofaRoom] = {}  # one open file per room, kept for the process's life

    def room(self, name: str) -> SofaRoom:
        """One room, opened on first use.

        Args:
            name: the file's name, one of `names`.

        Returns:
            The open room.

        Raises:
            KeyError: If the folder has no such file.
            S5Error: If the file is not a readable FOA room, or its rate is not `sr`.
            FileNotFoundError: If the file has gone since the folder was listed.
        """
        if name not in self._open:
            if name not in self.names:
                raise KeyError(f"room {name!r} is not in {self.root}")
            room = SofaRoom(self.root / name)
            if room.sr != self.sr:
                raise S5Error(f"{room.path}: sample rate {room.sr} Hz, expected {self.sr} Hz")
            self._open[name] = room
        return self._open[name]

    def __getstate__(self):  # open netCDF handles do not cross process boundaries
        return {"root": self.root, "sr": self.sr, "names": self.names, "_open": {}}


def write_sofa_room(path: str | Path, irs: np.ndarray, source_positions: np.ndarray, sr: int, *,
                    room_dims: npt.ArrayLike | None = None, listener_position: npt.ArrayLike = (0.0, 0.0, 0.0),
                    title: str = "s5bench room", comment: str = "") -> Path:
    """Write FOA impulse responses (M, 4, N) with source positions (M, 3) in metres, relative to
    the array, as a SOFA SingleRoomSRIR file; sofar verifies it before writing.

    The file is written uncompressed, under a temporary name moved into place.

    Args:
        path: the .sofa file to write.
        irs: (M, 4, N) responses, ACN W, Y, Z, X, SN3D.
        source_positions: (M, 3) Cartesian source positions in metres, relative to the array.
        sr: sample rate in Hz.
        room_dims: (3,) a shoebox room's size in metres (its RoomCornerB; None: no room geometry).
        listener_position: the array's position in the room, in metres.
        title: the file's GLOBAL_Title.
        comment: the file's GLOBAL_Comment (default: a line naming the channel format).

    Returns:
        `path`.

    Raises:
        ValueError: If `irs` is not (M, 4, N) or `source_positions` not (M, 3).
    """
    import sofar

    irs = np.asarray(irs, dtype=np.float64)
    pos = np.asarray(source_positions, dtype=np.float64)
    if irs.ndim != 3 or irs.shape[1] != FOA_CHANNELS:
        raise ValueError(f"impulse responses must be (M, {FOA_CHANNELS}, N), got {irs.shape}")
    if pos.shape != (irs.shape[0], 3):
        raise ValueError(f"source positions must be ({irs.shape[0]}, 3), got {pos.shape}")
    sofa = sofar.Sofa("SingleRoomSRIR")
    sofa.GLOBAL_Title = title
    sofa.GLOBAL_Comment = comment or "FOA (ACN W,Y,Z,X; SN3D) room impulse responses"
    sofa.GLOBAL_AuthorContact = "s5bench"
    sofa.GLOBAL_Organization = "s5bench"
    sofa.GLOBAL_License = "CC BY 4.0"
    sofa.GLOBAL_RoomType = "shoebox" if room_dims is not None else "reverberant"
    sofa.Data_IR = irs
    sofa.Data_SamplingRate = float(sr)
    sofa.Data_Delay = np.zeros((1, irs.shape[1]))
    m, r = irs.shape[0], irs.shape[1]
    sofa.ListenerPosition = np.tile(np.asarray(listener_position, dtype=np.float64), (m, 1))
    sofa.MeasurementDate = np.zeros(m)
    # optional string variables; sofar cannot write their 2-D defaults with numpy 2
    sofa.delete("ReceiverDescriptions")
    sofa.delete("EmitterDescriptions")
    # optional orientation variables that pysofaconventions (SOFA 1.0 rules) would reject as
    # written by sofar; the FOA channels already define the array's orientation
    for var in ("ReceiverView", "ReceiverUp", "EmitterView", "EmitterUp"):
        sofa.delete(var)
    for var in ("ListenerUp", "SourceUp"):
        sofa.add_attribute(f"{var}_Units", "metre")
    sofa.ReceiverPosition = np.zeros((r, 3, 1))
    sofa.ReceiverPosition_Type = "cartesian"
    sofa.ReceiverPosition_Units = "metre"
    sofa.SourcePosition = pos
    sofa.SourcePosition_Type = "cartesian"
    sofa.SourcePosition_Units = "metre"
    sofa.EmitterPosition = np.zeros((1, 3, 1))
    if room_dims is not None:
        sofa.RoomCornerA = np.zeros((1, 3))
        sofa.RoomCornerB = np.atleast_2d(room_dims)
    path = Path(path)
    with atomic_path(path) as tmp:  # a unique temporary name: two processes may build the same bank
        # uncompressed: the fork reads one measurement at a time, and a zlib-compressed variable
        # chunked across measurements costs it a whole-chunk decompression per event
        sofar.write_sofa(str(tmp), sofa, compression=0)
    return path
