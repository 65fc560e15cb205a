"""What the parts of bench-gpu share: time budgets, device timing, CSV output, the components
and their recipes at paper and tiny size, and synthetic training batches."""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import torch

from s5bench.common.audio import write_text_atomic
from s5bench.common.labels import SAMPLE_RATE

# component -> (task, recipe at paper size, recipe at tiny size, extra model options)
COMPONENTS = {
    "DeFT-Mamba USS": ("uss", "uss_paper", "uss_tiny", {}),
    "DeFT-Mamba TSE": ("tse", "tse_paper", "tse_tiny", {}),
    "M2D-SC": ("sc", "sc_paper", "sc_tiny", {}),
    "2025 baseline tagger (M2D-AT)": ("tagger", "tagger_head", "tagger_tiny", {}),
    "ResUNetK (2025 baseline separator)": ("separator", "separator_paper", "separator_tiny", {}),
    "ResUNetK (2026 baseline separator, repeated-class query)": ("separator", "separator_paper",
                                                                "separator2026_tiny", {}),
    "2026 baseline tagger (M2dAtSpatial, 4 ch)": ("slot_tagger", "tagger_head", "slot_tagger_tiny",
                                                 {"n_channels": 4}),
}
# the training recipes timed at paper size, and their tiny stand-ins
PAPER_RECIPES = ("uss_paper", "tse_paper", "sc_paper_step1", "sc_paper", "tagger_head", "separator_paper")
TINY_RECIPES = ("uss_tiny", "tse_tiny", "sc_tiny", "tagger_tiny", "separator_tiny")


class Budget:
    """A wall-clock allowance: `left()` seconds until the deadline, `over()` once it has passed."""

    def __init__(self, seconds: float):
        self.seconds = float(seconds)
        self.deadline = time.monotonic() + self.seconds

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def over(self) -> bool:
        return self.left() <= 0


def sync(device: str) -> None:
    """Wait for the device's queued work (a no-op on the CPU), so that wall times are the work's."""
    if str(device).startswith("cuda"):
        torch.cuda.synchronize(device)


def timed_calls(fn: Callable[[], object], device: str, repeats: int, budget: Budget | None = None,
                warmup: int = 1) -> list[float]:
    """Seconds of each of up to `repeats` calls of fn after `warmup` untimed ones, stopping early
    when the budget runs out (at least one timed call once the warm-up is done).

    Args:
        fn: the work to time (synchronised on `device` before and after each call).
        device: where fn's tensors live.
        repeats: the most calls to time.
        budget: optional allowance checked between calls.

    Returns:
        The wall seconds of each timed call.
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        sync(device)
        t0 = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t0)
        if budget is not None and budget.over():
            break
    return times


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def peak_memory_reset(device: str) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_gib(device: str) -> float:
    """torch.cuda.max_memory_allocated since the last reset, in GiB (NaN on the CPU)."""
    if str(device).startswith("cuda"):
        return torch.cuda.max_memory_allocated(device) / 2 ** 30
    return float("nan")


def free_device(device: str) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.empty_cache()


def write_csv(rows: list[dict], path: Path) -> Path:
    """rows as a CSV, written atomically (a run stopped later keeps it whole)."""
    write_text_atomic(path, pd.DataFrame(rows).to_csv(index=False, float_format="%.6g"))
    return path


def n_params_m(model: torch.nn.Module) -> float:
    return sum(p.numel() for p in model.parameters()) / 1e6


def synthetic_batch(batch_size: int, seconds: float, seed: int = 0, repeated_class: bool = False) -> dict:
    """A stream-shaped training batch of noise (data_gen.stream's keys): mixture (B,4,T),
    targets (B,3,T), label_vector (B,3,18), active (B,3) with one silent slot in every other
    scene, interference (B,2,T), noise (B,T). The numbers are random: it is for timing and for
    comparing devices, not for learning. `repeated_class`: slots 0 and 1 share a class (2026).

    Returns:
        The batch, on the CPU.
    """
    g = torch.Generator().manual_seed(seed)
    B, T = batch_size, int(round(seconds * SAMPLE_RATE))
    targets = torch.randn(B, 3, T, generator=g) * 0.05
    active = torch.ones(B, 3, dtype=torch.bool)
    active[::2, 2] = False
    targets[~active] = 0
    cls = torch.stack([torch.randperm(18, generator=g)[:3] for _ in range(B)])
    if repeated_class:
        cls[:, 1] = cls[:, 0]
    label_vector = torch.nn.functional.one_hot(cls, 18).float() * active[..., None]
    interference = torch.randn(B, 2, T, generator=g) * 0.02
    noise = torch.randn(B, T, generator=g) * 0.01
    mixture = (targets.sum(1) + interference.sum(1) + noise)[:, None].repeat(1, 4, 1)
    mixture = mixture + torch.randn(B, 4, T, generator=g) * 0.001  # the channels differ a little
    return {"mixture": mixture, "targets": targets, "label_vector": label_vector, "active": active,
            "interference": interference, "noise": noise, "name": [f"synthetic:{i}" for i in range(B)]}


def to_device(batch: dict, device: str) -> dict:
    return {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}
