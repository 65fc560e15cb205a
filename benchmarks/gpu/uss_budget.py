"""Part 4, the CPU-size USS on a GPU: the `uss_cpu` recipe (the same model, task, validation
scenes and selection on `sep_gain`) trained for a fixed wall budget with its training scenes
rendered by N worker processes, validation `sep_gain` against scenes seen beside the CPU run's
curve, and the best checkpoint exported (with its record) to the output folder.

The CPU run trained on remixes of a stem corpus (data/stems_train, built beforehand); a budget
of minutes has no time to build one, so this run trains on the generator's own scenes of the
same data config (the corpus was rendered from them), unless `stems` names a corpus that exists.
Validation is the recipe's: the generator's 32 scenes of seed 999, in full precision.
"""
from __future__ import annotations

import shlex
import tempfile
import time
from pathlib import Path

from s5bench.systems.training.export import export
from s5bench.systems.training.recipes import TrainConfig, load_train_config
from s5bench.systems.training.trainer import StepModule, _to, build_state, streams, train_step, validate_and_keep

from .common import Budget, write_csv

# uss_cpu's validation sep_gain (dB) on the CPU by scenes seen (4 per step), from
# checkpoints/README.md (2026-12-03): steps 1,000-4,000, 5,000 and the shipped 6,000.
CPU_CURVE = ((4000, 0.13), (8000, 0.73), (12000, 1.14), (16000, 1.64), (20000, 1.54), (24000, 1.76))
COLUMNS = ("run", "step", "scenes", "seconds", "sep_gain", "val_loss", "snr_active", "class_acc", "train_loss",
           "scenes_per_s")


def recipe(name: str, tiny: bool, workers: int, stems: str | None, out: Path) -> TrainConfig:
    """The recipe as this run trains it: no step limit (the budget stops it), `workers` data
    processes, the export to `out`, float32 (as the CPU run)."""
    cfg = load_train_config(name)
    cfg.update(stems=stems if stems and Path(stems).is_dir() else None, num_workers=workers, steps=10 ** 9,
               export=str(out), amp=False)
    if tiny:  # seconds on a CPU: short scenes, few of them
        cfg.update(batch_size=1, val_size=2, val_every=2, data_overrides={"scene.duration": 0.5})
    return cfg


def train_for(name: str, out_dir: Path, device: str, tiny: bool, budget: Budget, workers: int,
              stems: str | None = None) -> Path:
    """Train recipe `name` until the budget is spent (validating every `val_every` steps and
    once at the end); uss_curve.csv is rewritten at each validation and the exported checkpoint
    `<name>_gpu.pt` whenever validation improves; uss_curve.png at the end. Returns the CSV's path."""
    out_dir = Path(out_dir)
    path = out_dir / "uss_curve.csv"
    cpu = [{"run": f"{name}, the CPU run (checkpoints/README.md)", "step": s // 4, "scenes": s, "sep_gain": g}
           for s, g in CPU_CURVE] if name == "uss_cpu" else []
    rows: list[dict] = []
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="s5bench_uss_") as tmp:
        work = Path(tmp)
        cfg = recipe(name, tiny, workers, stems, out_dir / f"{name}_gpu.pt")
        state = build_state(cfg, device)
        wrapped = StepModule(state.model, state.task)
        loader, val = streams(cfg, 0, 1, 0, pin_memory=device.startswith("cuda"))
        it = iter(loader)
        run_name = f"{name}, this run on {device}" + (" (tiny)" if tiny else "")
        command = (f"s5bench bench-gpu --device {shlex.quote(device)} --parts uss"
                   f" (recipe {name}, {budget.seconds:.0f} s wall budget, {workers} data workers)")
        loss = None
        while True:
            done = budget.over()
            if not done:
                loss, _ = train_step(state, wrapped, _to(next(it), device), cfg, figures=False)
            if done or state.step % cfg["val_every"] == 0:
                if not rows or rows[-1]["step"] != state.step:
                    best_before = state.best
                    figures = validate_and_keep(state, cfg, val, device, work)
                    seconds = time.monotonic() - t0
                    scenes = state.step * cfg["batch_size"]
                    rows.append({"run": run_name, "step": state.step, "scenes": scenes, "seconds": seconds,
                                 "sep_gain": figures["sep_gain"], "val_loss": figures["loss"],
                                 "snr_active": figures.get("snr_active"), "class_acc": figures.get("class_acc"),
                                 "train_loss": None if loss is None else float(loss),
                                 "scenes_per_s": scenes / seconds})
                    print(f"uss: {rows[-1]}", flush=True)
                    write_csv([{c: r.get(c) for c in COLUMNS} for r in rows + cpu], path)
                    if state.best < best_before:  # exported at once: a run stopped later keeps it
                        export({**cfg, "steps": state.step}, work, command=command, seconds=seconds)
            if done:
                break
        del it, loader
    plot(rows + cpu, out_dir / "uss_curve.png")
    return path


def plot(rows: list[dict], path: Path) -> Path | None:
    """sep_gain against scenes seen, one line per run (None without matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for run in dict.fromkeys(r["run"] for r in rows):
        pts = [(r["scenes"], r["sep_gain"]) for r in rows if r["run"] == run]
        ax.plot(*zip(*pts), marker="o", label=run)
    ax.set_xlabel("training scenes seen")
    ax.set_ylabel("validation sep_gain (dB)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    tmp.replace(path)
    return path
