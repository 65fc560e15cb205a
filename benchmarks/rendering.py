"""Rendering 10 s mixtures, the built-in engine against a straightforward renderer, from the same
files on disk (runners/bench_generate.py): the files, the fork's algorithm and the timed comparison."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import fftconvolve
from tqdm import tqdm

from s5bench.common.errors import S5Error
from s5bench.common.labels import SAMPLE_RATE
from s5bench.data_gen.config import DataConfig
from s5bench.data_gen.factory import MixtureFactory
from s5bench.data_gen.render import direct_path, normalized_ir
from s5bench.data_gen.schema import ScenePlan
from s5bench.data_gen.sources import ProceduralBank, ProceduralNoiseBank

SR = SAMPLE_RATE


def write_file_dataset(root: Path, positions: int, n_rooms: int, per_label: int) -> DataConfig:
    """Write the procedural banks' clips, noise files and synthetic SOFA rooms under `root`, as files.

    Args:
        root: an empty folder.
        positions: measured positions per SOFA room.
        n_rooms: rooms.
        per_label: source clips per label.

    Returns:
        The data config that reads them (engine builtin, 10 s scenes).
    """
    for kind, folder in (("target", "sound_event"), ("interference", "interference")):
        bank = ProceduralBank(kind, seed=5, n_per_label=per_label)
        for lab in bank.labels:
            for it in bank.items(lab):
                path = root / folder / it.source_file
                path.parent.mkdir(parents=True, exist_ok=True)
                sf.write(path, bank.read(it.source_file), SR, subtype="FLOAT")
    noise = ProceduralNoiseBank(seed=5, n_files=4, seconds=20)
    (root / "noise").mkdir(parents=True, exist_ok=True)
    for name in noise.files():
        x = noise.read(name, 0, noise.n_frames(name))
        sf.write(root / "noise" / name, 0.5 * x / np.abs(x).max(), SR, subtype="PCM_16")
    return {
        "engine": "builtin", "sr": SR, "root": str(root),
        "targets": {"folder": {"root": "sound_event"}},
        "interference": {"folder": {"root": "interference"}},
        "noise": {"folder": {"root": "noise"}},
        "rooms": {"synthetic": {"n_rooms": n_rooms, "n_positions": positions, "seed": 9, "ir_seconds": 0.5,
                                "cache_dir": "room_ir"}},
        "scene": {"duration": 10.0},
    }


def straightforward_render(plan: ScenePlan, root: Path) -> np.ndarray:
    """The fork's algorithm: per mixture, open the room and read its positions; per event, the
    nearest position's measurement alone, only the excerpt's frames, one scipy fftconvolve over
    all channels (and one for the direct path), the fork's level rules, in float64.

    Args:
        plan: a 2025 plan (its room a SOFA file's name).
        root: the folder `write_file_dataset` wrote.

    Returns:
        The mixture, (samples, 4) float64.

    Raises:
        ValueError: a plan the fork's algorithm cannot render (a 2026 room, a noise file too short).
    """
    import netCDF4

    cfg, room = plan["config"], plan["room"]
    if not isinstance(room, str):
        raise S5Error("the straightforward renderer takes the fork's plans (2025: the room is a SOFA file's name)")
    T = int(cfg["duration"] * SR)
    mix = np.zeros((T, 4))
    with netCDF4.Dataset(str(root / "room_ir" / room)) as nc:
        positions = np.asarray(nc.variables["SourcePosition"][:], dtype=np.float64)
        for bank, events in (("sound_event", plan["fg_events"]), ("interference", plan["int_events"])):
            for ev in events:
                start, frames = int(ev["source_time"] * SR), int(ev["event_duration"] * SR)
                src, _ = sf.read(root / bank / ev["source_file"], start=start, frames=frames, dtype="float32")
                src = src / np.abs(src).max()
                idx = int(np.argmin(np.linalg.norm(positions - np.asarray(ev["event_position"][0]), axis=1)))
                ir = normalized_ir(np.asarray(nc.variables["Data.IR"][idx], dtype=np.float64))
                wet = fftconvolve(src[:, None], ir.T, mode="full", axes=0)
                gain = np.sqrt(10 ** ((cfg["ref_db"] + ev["snr"]) / 10) / np.mean(wet ** 2))
                if bank == "sound_event":  # the dry reference, as the fork makes it
                    fftconvolve(src, direct_path(ir[0], SR, tuple(cfg["spatialize_direct_path_time_ms"])))
                onset = int(ev["event_time"] * SR)
                m = min(len(wet), T - onset)
                mix[onset:onset + m] += gain * wet[:m]
    for bg in plan["bg_events"]:
        if bg["source_time"] is None:
            raise S5Error("the straightforward renderer needs a noise excerpt (a file longer than the scene)")
        clip, _ = sf.read(root / "noise" / bg["source_file"], start=int(bg["source_time"] * SR), frames=T,
                          dtype="float32")
        mix += clip * np.sqrt(10 ** (cfg["ref_db"] / 10) / np.mean(np.square(clip, dtype=np.float64)))
    return mix


def compare_renderers(n: int, positions: int, n_rooms: int) -> list[str]:
    """Render the same `n` plans both ways, one core, timing each.

    Args:
        n: mixtures rendered by each.
        positions: measured positions per SOFA room.
        n_rooms: rooms.

    Returns:
        The lines to print: mixtures per second per core of each, their ratio, and the largest
        difference between the renderings.
    """
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cfg = write_file_dataset(root, positions, n_rooms, per_label=3)
        factory = MixtureFactory(cfg, progress=True)
        plans = [factory.plan(0, i) for i in range(n)]
        t0 = time.perf_counter()
        slow = [straightforward_render(p, root) for p in tqdm(plans, desc="straightforward")]
        t_slow = time.perf_counter() - t0
        t0 = time.perf_counter()
        fast = [factory.render(p).mixture.T for p in tqdm(plans, desc="built-in")]
        t_fast = time.perf_counter() - t0
        size = sum(f.stat().st_size for f in (root / "room_ir").glob("*.sofa")) / n_rooms / 2 ** 20
    diff = max(np.abs(a - b).max() / np.abs(a).max() for a, b in zip(slow, fast))
    return [f"{n} mixtures of 10 s; rooms: {positions} positions x 4 ch x 0.5 s ({size:.1f} MiB per SOFA file)",
            f"the fork's algorithm (one measurement + fftconvolve per event): {n / t_slow:6.2f} mixtures/s per core",
            f"built-in engine:                                               {n / t_fast:6.2f} mixtures/s per core",
            f"speed-up: {t_slow / t_fast:.1f}x; largest difference between the renderings: {diff:.1e} of full scale "
            "(the built-in engine renders in float32)"]

