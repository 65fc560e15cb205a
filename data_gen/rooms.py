"""Room banks: SOFA `SingleRoomSRIR` files of first-order ambisonic impulse responses.

Reading goes through netCDF4 (what sofar itself reads with) so that one measurement is read
without loading the whole `Data.IR` array; writing goes through sofar, so the files carry the
SOFA 2.1 SingleRoomSRIR attributes that the SpatialScaper fork checks with pysofaconventions.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from s5bench.common.atomic import atomic_path
from s5bench.common.errors import S5Error
from s5bench.common.labels import SAMPLE_RATE
from s5bench.common.layout import require_dir

FOA_CHANNELS = 4  # ACN order W, Y, Z, X; SN3D


def _cartesian(pos: np.ndarray, kind: str) -> np.ndarray:
    if kind.lower() == "cartesian":
        return pos
    az, el, r = np.deg2rad(pos[:, 0]), np.deg2rad(pos[:, 1]), pos[:, 2]
    return np.stack([r * np.cos(el) * np.cos(az), r * np.cos(el) * np.sin(az), r * np.sin(el)], axis=1)


class SofaRoom:
    """One room: M measured source positions, each with a (4, N) impulse response."""

    IN_MEMORY_LIMIT = 512 * 2 ** 20  # rooms up to this size are loaded whole on first use

    def __init__(self, path, channels: int = FOA_CHANNELS):
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
        return self.path.name

    def unreadable(self, err) -> str:
        return (f"{self.path}: not a readable SOFA (netCDF-4/HDF5) file ({err}); it has "
                f"{self.path.stat().st_size} bytes and may be truncated (copy or download it again)")

    def ir(self, index: int) -> np.ndarray:
        """(channels, taps) impulse response of measurement `index`. A room that fits in memory is
        read whole once (compressed SOFA files decompress whole chunks anyway); a larger one is
        read one measurement at a time."""
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

    def close(self):
        self._nc.close()


class RoomBank:
    """A folder of .sofa rooms (the dev_set's room_ir/<split>/ or a synthetic bank)."""

    def __init__(self, root, sr: int = SAMPLE_RATE):
        self.root, self.sr = require_dir(root, "room"), sr
        self.names = sorted(p.name for p in self.root.glob("*.sofa"))
        if not self.names:
            raise S5Error(f"room folder {self.root} is empty: no .sofa files found")
        self._open: dict[str, SofaRoom] = {}  # one open file per room, kept for the process's life

    def room(self, name: str) -> SofaRoom:
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


def write_sofa_room(path, irs: np.ndarray, source_positions: np.ndarray, sr: int, *,
                    room_dims=None, listener_position=(0.0, 0.0, 0.0), title: str = "s5bench room",
                    comment: str = "") -> Path:
    """Write FOA impulse responses (M, 4, N) with source positions (M, 3) in metres, relative to
    the array, as a SOFA SingleRoomSRIR file; sofar verifies it before writing."""
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
