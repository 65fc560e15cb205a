"""bench-gpu's Markdown summary (report.md), rebuilt from the CSVs in the output folder after
every part, so that a run stopped at its time limit still has a summary of what finished."""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from s5bench.common.audio import write_text_atomic

from .uss_budget import CPU_CURVE

MAMBA_NOTE = ("The DeFT-Mamba models run the pure-PyTorch Mamba-2 (`systems/models/mamba2.py`, chunked SSD "
              "scan). `mamba-ssm` was not built: the package registry has it (and causal-conv1d) as source only, "
              "its build compiles a hard-coded list of GPU architectures (many of the machine's 15 minutes), and "
              "`import mamba_ssm` loads the compiled `selective_scan_cuda` unconditionally, so its Triton-only "
              "Mamba-2 kernels cannot be used without that build. The Mamba figures below are therefore those of "
              "the pure-PyTorch scan, an upper bound on what the fused kernels would take.")


def _read(path: Path) -> pd.DataFrame | None:
    try:
        return pd.read_csv(path) if path.is_file() else None
    except (pd.errors.EmptyDataError, pd.errors.ParserError):
        return None


def _table(df: pd.DataFrame, columns: list[str]) -> str:
    cols = [c for c in columns if c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join(_cell(r[c]) for c in cols) + " |")
    return "\n".join(lines)


def _cell(v) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return f"{v:.3g}" if abs(v) < 1e-2 or abs(v) >= 1e4 else f"{v:.3f}".rstrip("0").rstrip(".")
    return str(v)


def _uss_summary(df: pd.DataFrame) -> str:
    runs = df.loc[~df["run"].str.contains("the CPU run")]
    if runs.empty:
        return ""
    best = runs.loc[runs["sep_gain"].idxmax()]
    last = runs.iloc[-1]
    cpu_best = max(g for _, g in CPU_CURVE)
    return (f"Best validation sep_gain on this run: {best['sep_gain']:+.2f} dB at {int(best['scenes']):,} scenes "
            f"(step {int(best['step'])}); {int(last['scenes']):,} scenes in {last['seconds']:.0f} s "
            f"({last['scenes_per_s']:.1f} scenes/s, validation included). The CPU run (`uss_cpu.pt`): "
            f"{cpu_best:+.2f} dB after 24,000 scenes. The exported checkpoint is chosen on the validation "
            f"scenes only (never a test set).")


def write(out_dir: Path, env: dict, meta: dict) -> Path:
    """report.md from env (part 0), meta (command, device, budgets, wall times) and the CSVs."""
    out_dir = Path(out_dir)
    md = ["# s5bench bench-gpu", ""]
    md += [f"- {k}: {v}" for k, v in meta.items()]
    md += ["", "## Environment", ""] + [f"- {k}: {v}" for k, v in env.items()]
    md += ["", "## Mamba-2 kernels", "", MAMBA_NOTE]
    parity = _read(out_dir / "parity.csv")
    if parity is not None:
        md += ["", "## 1. Parity: device vs CPU, float32, same weights and input", "",
               "max_rel_diff = max|device − cpu| / max|cpu| over each output, the worst output; TF32 off. "
               "max_rel_diff_tf32: the same with PyTorch's default TF32 for cuDNN convolutions.", "",
               _table(parity, ["component", "params_M", "clip_s", "max_rel_diff", "worst_output", "max_abs_diff",
                               "max_rel_diff_tf32", "cpu_s", "device_s", "status"])]
    training = _read(out_dir / "training.csv")
    if training is not None:
        md += ["", "## 2. Training cost per step (forward + backward + optimiser step)", "",
               "Synthetic batches of the recipe's batch size and scene length, the trainer's `train_step`; "
               "bfloat16 = autocast around the model calls, STFT/iSTFT, losses in float32. projected_hours = "
               "the recipe's `steps` × the median step on this one device (× recipe_batch / batch_size where the "
               "recipe's batch did not fit in memory and was halved until it did). stream_keeps_up: the data stream "
               "(last row) renders at least as many scenes per second as the step consumes.", "",
               _table(training, ["recipe", "precision", "batch_size", "recipe_batch", "scene_s", "params_M",
                                 "trainable_M", "step_ms", "steps_timed", "scenes_per_s", "peak_mem_GiB",
                                 "recipe_steps", "projected_hours", "loss_finite", "stream_scenes_per_s",
                                 "stream_keeps_up", "status"])]
    inference = _read(out_dir / "inference.csv")
    if inference is not None:
        md += ["", "## 3. Inference: real-time factor on one clip", "",
               "RTF = compute seconds per second of audio; x_baseline = time / the baseline's (tagger + ResUNetK) "
               "in the same process and precision. Stages are cumulative, all 3 slots active.", "",
               _table(inference, ["what", "precision", "audio_s", "compute_s", "RTF", "x_baseline", "params_M",
                                  "status"])]
    uss = _read(out_dir / "uss_curve.csv")
    if uss is not None:
        md += ["", "## 4. The CPU-size USS (`uss_cpu` recipe) trained for a wall budget", "",
               "Validation: the recipe's 32 generator scenes (seed 999); training scenes rendered on the fly by "
               "the data workers (the CPU run remixed its stem corpus). ![sep_gain vs scenes](uss_curve.png)", "",
               _uss_summary(uss), "",
               _table(uss, ["run", "step", "scenes", "seconds", "sep_gain", "val_loss", "snr_active", "class_acc",
                            "scenes_per_s"])]
    path = out_dir / "report.md"
    write_text_atomic(path, "\n".join(md) + "\n")
    return path
