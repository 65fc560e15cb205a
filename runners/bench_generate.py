"""Benchmark: rendering 10 s mixtures, the built-in engine vs a straightforward renderer.

    python runners/bench_generate.py --n 20 --positions 100

Both render the same plans from the same files on disk (source clips written from the
procedural bank into folders, 4-channel PCM noise, synthetic SOFA rooms stored uncompressed,
the layout in which the fork reads one measurement fastest), on one core:
  straightforward - the fork's algorithm (the baseline's SpatialScaper fork): per mixture the
                    room is opened and its positions read; per event one measurement, only the
                    excerpt's frames, one scipy.signal.fftconvolve over all channels and one for
                    the direct path, levels in float64;
  built-in        - data_gen.render.Renderer: rooms opened once per process, IR spectra cached
                    per (room, position), one rFFT per source, one batched inverse FFT for all
                    channels and the direct path, float32.
Prints mixtures per second per core for both, their ratio, and the largest difference between
the two renderings (they must agree).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import fftconvolve
from tqdm import tqdm

from s5bench.common.arguments import at_least
from s5bench.common.errors import cli
from s5bench.common.labels import SAMPLE_RATE
from s5bench.data_gen.factory import MixtureFactory
from s5bench.data_gen.render import direct_path, normalized_ir
from s5bench.data_gen.schema import ScenePlan
from s5bench.data_gen.sources import ProceduralBank, ProceduralNoiseBank

SR = SAMPLE_RATE


def write_file_dataset(root: Path, positions: int, n_rooms: int, per_label: int) -> dict:
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
    all channels (and one for the direct path), the fork's level rules, in float64."""
    import netCDF4

    cfg, room = plan["config"], plan["room"]
    if not isinstance(room, str):
        raise ValueError("the straightforward renderer takes the fork's plans (2025: the room is a SOFA file's name)")
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
            raise ValueError("the straightforward renderer needs a noise excerpt (a file longer than the scene)")
        clip, _ = sf.read(root / "noise" / bg["source_file"], start=int(bg["source_time"] * SR), frames=T,
                          dtype="float32")
        mix += clip * np.sqrt(10 ** (cfg["ref_db"] / 10) / np.mean(np.square(clip, dtype=np.float64)))
    return mix


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=at_least(1), default=20, help="mixtures rendered by each renderer")
    ap.add_argument("--positions", type=at_least(1), default=100, help="measured positions per SOFA room")
    ap.add_argument("--rooms", type=at_least(1), default=3)
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cfg = write_file_dataset(root, args.positions, args.rooms, per_label=3)
        factory = MixtureFactory(cfg, progress=True)
        plans = [factory.plan(0, i) for i in range(args.n)]
        t0 = time.perf_counter()
        slow = [straightforward_render(p, root) for p in tqdm(plans, desc="straightforward")]
        t_slow = time.perf_counter() - t0
        t0 = time.perf_counter()
        fast = [factory.render(p).mixture.T for p in tqdm(plans, desc="built-in")]
        t_fast = time.perf_counter() - t0
        size = sum(f.stat().st_size for f in (root / "room_ir").glob("*.sofa")) / args.rooms / 2 ** 20
    diff = max(np.abs(a - b).max() / np.abs(a).max() for a, b in zip(slow, fast))
    print(f"{args.n} mixtures of 10 s; rooms: {args.positions} positions x 4 ch x 0.5 s ({size:.1f} MiB per SOFA file)")
    print(f"the fork's algorithm (one measurement + fftconvolve per event): {args.n / t_slow:6.2f} mixtures/s per core")
    print(f"built-in engine:                                               {args.n / t_fast:6.2f} mixtures/s per core")
    print(f"speed-up: {t_slow / t_fast:.1f}x; largest difference between the renderings: {diff:.1e} of full scale "
          "(the built-in engine renders in float32)")


if __name__ == "__main__":
    sys.exit(cli(main))
