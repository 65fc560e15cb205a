"""Synthetic FOA rooms from pyroomacoustics' image-source model, written as SOFA banks.

pyroomacoustics finds every image source of a shoebox room and its wall attenuation; each
image then arrives at the array from its own direction, which a first-order ambisonic
receiver encodes as W = 1, Y = u_y, Z = u_z, X = u_x (ACN order, SN3D), u being the unit
vector from the array to the image. Each arrival is placed with a fractional delay.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyroomacoustics as pra
from tqdm import tqdm

from s5bench.common.labels import SAMPLE_RATE

from .rooms import write_sofa_room

if TYPE_CHECKING:
    import numpy.typing as npt

SPEED_OF_SOUND = 343.0
FRAC_TAPS = 41


def _fractional_kernels(frac: np.ndarray) -> np.ndarray:
    """Hann-windowed sinc kernels (K, FRAC_TAPS) centred on tap FRAC_TAPS // 2 + frac."""
    n = np.arange(FRAC_TAPS) - FRAC_TAPS // 2
    return np.sinc(n[None, :] - frac[:, None]) * np.hanning(FRAC_TAPS + 2)[1:-1][None, :]


def foa_rirs(room_dims: npt.ArrayLike, array_pos: npt.ArrayLike, source_positions: np.ndarray, *, rt60: float,
             sr: int, n_taps: int, max_order: int | None = None) -> np.ndarray:
    """(M, 4, n_taps) FOA impulse responses of a shoebox room for M source positions.

    Args:
        room_dims: (3,) the room's size in metres.
        array_pos: (3,) the array's position in the room, in metres.
        source_positions: (M, 3) source positions in the room, in metres.
        rt60: reverberation time in s; the walls' absorption and the image order follow from it (Sabine).
        sr: sample rate in Hz.
        n_taps: the responses' length in samples (arrivals later than that are left out).
        max_order: image-source order at most (None or 0: Sabine's order).

    Returns:
        (M, 4, n_taps) float64 responses, ACN W, Y, Z, X, SN3D.
    """
    e_absorption, sabine_order = pra.inverse_sabine(rt60, room_dims)
    order = min(sabine_order, max_order) if max_order else sabine_order
    room = pra.ShoeBox(room_dims, fs=sr, materials=pra.Material(e_absorption), max_order=order,
                       air_absorption=False)
    for p in source_positions:
        room.add_source(list(p))
    room.add_microphone(np.asarray(array_pos, dtype=float)[:, None])
    room.image_source_model()
    out = np.zeros((len(source_positions), 4, n_taps + FRAC_TAPS))
    for m, src in enumerate(room.sources):
        vec = src.images.T - np.asarray(array_pos)[None, :]  # (K, 3)
        dist = np.linalg.norm(vec, axis=1)
        gain = src.damping.mean(axis=0) / (4 * np.pi * dist)
        delay = dist / SPEED_OF_SOUND * sr
        keep = delay < n_taps
        vec, dist, gain, delay = vec[keep], dist[keep], gain[keep], delay[keep]
        unit = vec / dist[:, None]
        encode = np.stack([np.ones(len(dist)), unit[:, 1], unit[:, 2], unit[:, 0]], axis=1)  # W, Y, Z, X
        start = np.floor(delay).astype(int)
        kernels = _fractional_kernels(delay - start) * gain[:, None]  # (K, taps)
        idx = start[:, None] + np.arange(FRAC_TAPS)[None, :]  # shifted so tap 0 is time 0 - FRAC_TAPS//2
        for c in range(4):
            np.add.at(out[m, c], idx.ravel(), (kernels * encode[:, c:c + 1]).ravel())
    return out[:, :, FRAC_TAPS // 2:FRAC_TAPS // 2 + n_taps]


def random_room(rng: np.random.Generator, *, n_positions: int, sr: int, ir_seconds: float, max_order: int = 20
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Draw a room (size, RT60, array position) and source positions; return IRs and geometry.

    The room is 3.5–10 × 3–8 × 2.5–4 m with RT60 0.2–0.8 s; the array near the middle at 1.2–1.8 m
    height; sources at least 0.4 m from the walls and 0.8 m from the array.

    Args:
        rng: the generator of the room's draws.
        n_positions: source positions to draw.
        sr: sample rate in Hz.
        ir_seconds: the responses' length in s.
        max_order: image-source order at most.

    Returns:
        (responses (n_positions, 4, N), source positions relative to the array (n_positions, 3) in m,
        room size (3,) in m, array position (3,) in m, RT60 in s).
    """
    dims = np.array([rng.uniform(3.5, 10.0), rng.uniform(3.0, 8.0), rng.uniform(2.5, 4.0)])
    rt60 = rng.uniform(0.2, 0.8)
    array_pos = np.array([rng.uniform(0.35, 0.65) * dims[0], rng.uniform(0.35, 0.65) * dims[1],
                          rng.uniform(1.2, 1.8)])
    positions = []
    while len(positions) < n_positions:
        p = rng.uniform([0.4, 0.4, 0.4], dims - 0.4)
        if np.linalg.norm(p - array_pos) >= 0.8:
            positions.append(p)
    positions = np.array(positions)
    irs = foa_rirs(dims, array_pos, positions, rt60=rt60, sr=sr, n_taps=int(ir_seconds * sr), max_order=max_order)
    return irs, positions - array_pos, dims, array_pos, rt60


def build_room_bank(folder: str | Path, *, n_rooms: int, n_positions: int, seed: int, sr: int = SAMPLE_RATE,
                    ir_seconds: float = 0.5, max_order: int = 20, progress: bool = True) -> Path:
    """Write `n_rooms` synthetic rooms as SOFA files into `folder` (kept if already there).

    Room k is `synth_room_<k>.sofa`, drawn from the seed [seed, k] (`random_room`), so a bank grows
    without changing the rooms it has.

    Args:
        folder: where the files go (made if missing).
        n_rooms: rooms in the bank.
        n_positions: source positions per room.
        seed: the bank's seed.
        sr: sample rate in Hz.
        ir_seconds: the responses' length in s.
        max_order: image-source order at most.
        progress: show a progress bar.

    Returns:
        The folder.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for k in tqdm(range(n_rooms), desc="synthetic rooms", disable=not progress):
        path = folder / f"synth_room_{k:03d}.sofa"
        if path.exists():
            continue
        rng = np.random.default_rng([seed, k])
        irs, rel_pos, dims, array_pos, rt60 = random_room(rng, n_positions=n_positions, sr=sr,
                                                          ir_seconds=ir_seconds, max_order=max_order)
        write_sofa_room(path, irs, rel_pos, sr, room_dims=dims, listener_position=array_pos,
                        title=f"s5bench synthetic shoebox room {k}",
                        comment=f"pyroomacoustics image sources, RT60 {rt60:.2f} s, seed {seed}")
    return folder
