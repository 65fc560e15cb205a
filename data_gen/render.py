"""Render a scene plan into the 4-channel mixture, the dry targets and every stem.

Levels follow the SpatialScaper fork (docs/task.md §3): each source is peak-normalised,
its impulse response divided by the mean over channels of the response's L2 norm, and the
full-length wet image (tail included) scaled to mean square 10^((ref_db + snr)/10); the noise
is scaled to mean square 10^(ref_db/10) over all samples and channels. The dry reference is the
source convolved with channel 0 of the response kept only around its main peak
(`direct_path`, whose exact window differs between the editions), with the wet image's gain.
Everything is summed and cut at the scene's duration. Sample positions are the fork's: an
excerpt starts at int(source_time·sr) and is int(event_duration·sr) long, an event is placed
at int(event_time·sr). An event's bank is given by the list it is in (`fg_events`,
`int_events`), never by its `role` (the fork writes "foreground" for interference too).

Speed: overlap-add convolution with FFT blocks of about four times the response's length: the
source's blocks are transformed once per event (one batched rFFT), the room response's
spectrum (its four channels and the windowed direct path as a fifth row) is small enough to
be cached per (room, position), and one batched inverse FFT serves all rows and blocks.
Single precision throughout (the files are float32 anyway; levels are measured in float64),
channel-first arrays so that placing an image copies contiguous rows.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
import scipy.fft

from s5bench.common.editions import edition_of
from s5bench.common.errors import S5Error

from .schema import BackgroundEvent, PlanEvent, ScenePlan

if TYPE_CHECKING:
    from .rooms import RoomBank, SofaRoom
    from .sources import NoiseBank, SourceBank

FFT_SIZES = np.array(sorted({m * 2 ** k for k in range(8, 24) for m in (1, 3)}))


def fft_size(n: int) -> int:
    """The smallest size ≥ n from a short ladder (2^k and 3·2^k), so spectra can be cached.

    Args:
        n: the least FFT size wanted, in samples (up to 3·2^23).

    Returns:
        The size: 256 at least.
    """
    return int(FFT_SIZES[np.searchsorted(FFT_SIZES, n)])


def normalized_ir(ir: np.ndarray, edition: int = 2025) -> np.ndarray:
    """The room response normalised as the edition's generator does.

    2025 (the fork): the response divided by the mean over channels of each channel's L2
    norm; 2026 (SpAudSyn): by the square root of the mean over channels of the energies.

    Args:
        ir: (channels, taps) impulse response.
        edition: 2025 or 2026.

    Returns:
        (channels, taps) the normalised response.
    """
    if edition_of(edition).ir_rms_normalisation:
        return ir / np.sqrt(np.mean(np.sum(ir ** 2, axis=1)))
    return ir / np.mean(np.linalg.norm(ir, axis=1))


def plan_edition(plan: ScenePlan) -> int:
    """The plan's edition: its config's `edition`, else 2026 for SpAudSyn's schema (whose
    `room` is a room description, not a file name), else 2025.

    Args:
        plan: a scene plan in either schema.

    Returns:
        The edition's year.
    """
    edition = plan["config"].get("edition")
    if edition is not None:
        return int(edition)
    return 2026 if isinstance(plan["room"], dict) else 2025


def room_of(plan: ScenePlan) -> tuple[str, tuple]:
    """(SOFA file name, direct-path window in ms) of a plan in either schema.

    Args:
        plan: a scene plan in either schema.

    Returns:
        The room's file name (without folders) and the window (ms before the peak, ms after it),
        (6, 50) where the plan names none.
    """
    room = plan["room"]
    if isinstance(room, dict):  # SpAudSyn: {module, main, args: {metadata: {sofa_path, direct_range_ms, ...}}}
        meta = room["args"]["metadata"]
        return Path(meta["sofa_path"]).name, tuple(meta.get("direct_range_ms", (6, 50)))
    return room, tuple(plan["config"].get("spatialize_direct_path_time_ms") or (6, 50))


def direct_path(ir0: np.ndarray, sr: int, window_ms: Sequence[float] = (6, 50), edition: int = 2025) -> np.ndarray:
    """Channel 0 of the response kept only around its main peak, with its delay preserved.

    2025 (the baseline's SpatialScaper fork): peak = argmax of the SIGNED response; samples from
    peak + 50 ms on are zeroed (half-open end), samples before peak − 6 ms only when that index
    is positive. 2026 (SpAudSyn): peak = argmax |h|; [max(peak − 6 ms, 0), min(peak + 50 ms,
    L − 1)] kept, both ends included. Window lengths are int(ms·sr/1000) samples in both.

    Args:
        ir0: (taps,) channel 0 of the (normalised) response.
        sr: sample rate in Hz.
        window_ms: (ms kept before the peak, ms kept after it).
        edition: 2025 or 2026.

    Returns:
        (taps,) a copy of `ir0`, zero outside the window.
    """
    before, after = int(window_ms[0] * sr / 1000), int(window_ms[1] * sr / 1000)
    if not edition_of(edition).signed_peak_window:
        peak = int(np.argmax(np.abs(ir0)))
        lo, hi = max(peak - before, 0), min(peak + after, len(ir0) - 1) + 1
        out = np.zeros_like(ir0)
        out[lo:hi] = ir0[lo:hi]
        return out
    peak = int(np.argmax(ir0))
    out = ir0.copy()
    if peak + after < len(out):
        out[peak + after:] = 0
    if peak - before > 0:
        out[:peak - before] = 0
    return out


def noise_clip(bank: NoiseBank, event: BackgroundEvent, T: int, sr: int, edition: int = 2025) -> np.ndarray:
    """(T, 4) background noise of one `bg_events` entry. With a `source_time`, the T samples from
    int(source_time·sr); with none (a file not longer than the scene) the whole file extended to
    T samples: 2025 as the fork does, by repeating each sample ceil(T/len) times (np.repeat);
    2026 as SpAudSyn does, by tiling the file (np.tile).

    Args:
        bank: the noise bank the plan was drawn from.
        event: the plan's `bg_events` entry.
        T: the scene's length in samples.
        sr: sample rate in Hz.
        edition: 2025 or 2026 (how a short file is extended).

    Returns:
        (T, 4) noise samples, as the bank reads them (not scaled).

    Raises:
        S5Error: If the bank gives anything but (T, 4) (e.g. an offset too close to the file's end).
    """
    name = event["source_file"]
    offset = event.get("source_time")
    if offset is not None:
        clip = bank.read(name, int(offset * sr), T)
    else:
        whole = bank.read(name, 0, bank.n_frames(name))
        reps = -(-T // len(whole))
        extend = np.tile(whole, (reps, 1)) if edition_of(edition).tile_short_noise else np.repeat(whole, reps, axis=0)
        clip = extend[:T]
    if clip.shape != (T, 4):
        raise S5Error(f"noise {name}: got {clip.shape} from offset {event.get('source_time')} s, "
                      f"need {T} samples of 4 channels")
    return clip


class SilentExcerptError(S5Error):
    """An event's excerpt of its clip is all zeros (its level cannot be set)."""


@dataclass
class Scene:
    """Rendered audio, float32, channel-first: (…, 4, T)."""

    mixture: np.ndarray  # (4, T)
    target_labels: list[str]  # slot order (onset order), without padding
    dry: np.ndarray  # (n_targets, T) dry references at channel 0
    wet_targets: np.ndarray  # (n_targets, 4, T)
    interference: np.ndarray  # (n_interference, 4, T)
    noise: np.ndarray  # (4, T)


@runtime_checkable
class SceneEngine(Protocol):
    """What a rendering engine offers (the built-in `Renderer`, the SpatialScaper fork's
    `SpatialScaperEngine`): whole scenes for the writer and the training stream, single events
    for the stem corpus."""

    def render(self, plan: ScenePlan) -> Scene:
        """The plan's scene, cut at its duration.

        Args:
            plan: a scene plan drawn from the engine's banks and rooms.

        Returns:
            The scene: every array (…, T), T = round(duration·sr).
        """
        ...

    def event_images(self, event: PlanEvent, plan: ScenePlan,
                     bank_name: str = "foreground") -> tuple[np.ndarray, np.ndarray | None]:
        """One event of the plan at its level, not placed.

        Args:
            event: an entry of the plan's `fg_events` or `int_events`.
            plan: the plan (its config, room and edition).
            bank_name: "foreground" for `fg_events`, "interference" for `int_events`.

        Returns:
            The wet image (4, L + N − 1) and the dry reference (L + N − 1,) (None for
            "interference"); L the excerpt's samples, N the room response's.

        Raises:
            SilentExcerptError: If the event's excerpt is all zeros.
        """
        ...


class Renderer:
    """Turns plans into audio with the given banks; caches room responses and their spectra.

    Args:
        targets: the bank of `fg_events` clips.
        interference: the bank of `int_events` clips (None: a plan must have no interferers).
        noise: the bank of `bg_events` clips.
        rooms: the room bank the plans' rooms come from.
        spectrum_cache: (room, position) response spectra kept in memory.
    """

    def __init__(self, targets: SourceBank | None, interference: SourceBank | None, noise: NoiseBank,
                 rooms: RoomBank, spectrum_cache: int = 32):
        self.banks = {"foreground": targets, "interference": interference}
        self.noise, self.rooms = noise, rooms
        self._ir_spectrum = lru_cache(maxsize=spectrum_cache)(self._compute_ir_spectrum)

    def _compute_ir_spectrum(self, room_name: str, pos: int, n_fft: int, sr: int, window_ms: tuple,
                             edition: int) -> np.ndarray:
        """rFFT at n_fft of the normalised response's 4 channels and its direct path: (5, n_fft//2+1)."""
        ir = normalized_ir(self.rooms.room(room_name).ir(pos), edition)
        rows = np.vstack([ir, direct_path(ir[0], sr, window_ms, edition)[None]])
        return np.asarray(scipy.fft.rfft(rows.astype(np.float32), n_fft, axis=1))  # an ndarray (stubs: Dispatchable)

    def event_images(self, event: PlanEvent, plan: ScenePlan,
                     bank_name: str = "foreground") -> tuple[np.ndarray, np.ndarray | None]:
        """One event at its level, not placed (see `SceneEngine.event_images`).

        Args:
            event: an entry of the plan's `fg_events` or `int_events`.
            plan: the plan (its config, room and edition).
            bank_name: "foreground" for `fg_events`, "interference" for `int_events`.

        Returns:
            The wet image (4, L + N − 1) and the dry reference (L + N − 1,) (None for
            "interference"), float32; L the excerpt's samples, N the room response's.

        Raises:
            SilentExcerptError: If the event's excerpt is all zeros.
        """
        cfg = plan["config"]
        sr = int(cfg["sr"])
        edition = plan_edition(plan)
        # sample positions as the SpatialScaper fork computes them (librosa's offset is floored)
        start = int(event["source_time"] * sr)
        frames = int(event["event_duration"] * sr)
        bank = self.banks[bank_name]
        assert bank is not None  # a plan has events of a bank only where the bank exists (sample_plan)
        src = bank.read(event["source_file"], start, frames)
        peak = np.max(np.abs(src))
        if peak == 0:
            raise SilentExcerptError(f"{event['source_file']}: the event's excerpt is silent")
        src = src / peak
        room_name, window = room_of(plan)
        room = self.rooms.room(room_name)
        pos = nearest_position(room, event["event_position"][0])
        n_taps = room.n_taps
        n_fft = fft_size(4 * n_taps)
        ir_spec = self._ir_spectrum(room_name, pos, n_fft, sr, window, edition)
        n_rows = 5 if bank_name == "foreground" else 4  # interference needs no dry reference
        rows = overlap_add(src.astype(np.float32), ir_spec[:n_rows], n_fft, n_taps)
        gain = np.sqrt(10 ** ((cfg["ref_db"] + event["snr"]) / 10) / np.mean(np.square(rows[:4], dtype=np.float64)))
        rows *= np.float32(gain)
        return rows[:4], (rows[4] if n_rows == 5 else None)

    def render(self, plan: ScenePlan) -> Scene:
        """The plan's scene: every event placed at int(event_time·sr), the noise at ref_db, cut at the duration.

        Args:
            plan: a scene plan drawn from the renderer's banks and rooms.

        Returns:
            The scene, float32: every array (…, T), T = round(duration·sr).

        Raises:
            SilentExcerptError: If an event's excerpt is all zeros.
            S5Error: If the noise bank does not give the scene's length of 4 channels.
        """
        cfg = plan["config"]
        sr, T = int(cfg["sr"]), int(round(cfg["duration"] * cfg["sr"]))
        fg, inter = plan["fg_events"], plan["int_events"]
        wet_t, dry_t = np.zeros((len(fg), 4, T), np.float32), np.zeros((len(fg), T), np.float32)
        wet_i = np.zeros((len(inter), 4, T), np.float32)

        def place(into, image, onset):
            s = int(onset * sr)
            m = max(0, min(image.shape[-1], T - s))
            into[..., s:s + m] = image[..., :m]

        for k, ev in enumerate(fg):
            wet, dry = self.event_images(ev, plan, "foreground")
            place(wet_t[k], wet, ev["event_time"])
            place(dry_t[k], dry, ev["event_time"])
        for k, ev in enumerate(inter):
            place(wet_i[k], self.event_images(ev, plan, "interference")[0], ev["event_time"])
        noise = np.zeros((4, T), np.float32)
        for ev in plan["bg_events"]:
            clip = noise_clip(self.noise, ev, T, sr, plan_edition(plan))
            gain = np.sqrt(10 ** (cfg["ref_db"] / 10) / np.mean(np.square(clip, dtype=np.float64)))
            noise += clip.T * np.float32(gain)
        mixture = wet_t.sum(0) + wet_i.sum(0) + noise
        return Scene(mixture, [e["label"] for e in fg], dry_t, wet_t, wet_i, noise)


def overlap_add(src: np.ndarray, ir_spec: np.ndarray, n_fft: int, n_taps: int) -> np.ndarray:
    """Full linear convolution of `src` with every response whose rFFT at size n_fft is a row of `ir_spec`.

    Args:
        src: (L,) the source.
        ir_spec: (rows, n_fft // 2 + 1) rFFTs of the responses.
        n_fft: the FFT size; each block holds n_fft − n_taps + 1 samples of `src`.
        n_taps: the responses' length in samples.

    Returns:
        (rows, L + n_taps − 1) one convolution per row, in the precision of `src` and `ir_spec`.
    """
    hop = n_fft - n_taps + 1
    n_blocks = -(-len(src) // hop)
    blocks = np.zeros((n_blocks, hop), src.dtype)
    blocks.ravel()[:len(src)] = src
    spectra = np.asarray(scipy.fft.rfft(blocks, n_fft, axis=1))  # an ndarray (stubs: Dispatchable)
    y = np.asarray(scipy.fft.irfft(spectra[None] * ir_spec[:, None, :], n_fft, axis=2))
    out = np.zeros((len(ir_spec), n_blocks * hop + n_taps - 1), y.dtype)
    out[:, :n_blocks * hop] = y[:, :, :hop].reshape(len(ir_spec), -1)
    for k in range(n_blocks):  # each block's tail rings into the next ones
        out[:, (k + 1) * hop:(k + 1) * hop + n_taps - 1] += y[:, k, hop:hop + n_taps - 1]
    return out[:, :len(src) + n_taps - 1]


def nearest_position(room: SofaRoom, xyz: Sequence[float]) -> int:
    """Index of the measured position closest to `xyz` among the room's stored SourcePosition
    values (as the fork finds it; plans name positions by their coordinates).

    Args:
        room: the room (its `positions`, (M, 3) Cartesian in metres).
        xyz: a position (x, y, z) in metres.

    Returns:
        The index in 0 … M − 1 (the first of equally close ones).
    """
    return int(np.argmin(np.linalg.norm(room.positions - np.asarray(xyz)[None, :], axis=1)))
