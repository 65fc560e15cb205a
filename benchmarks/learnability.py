"""Is a flat training curve our model's fault or the data's cost (runners/learnability.py)? The
ideal masks' ceilings on a config's validation scenes beside the training runs' logged curves."""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import torch
from tqdm import tqdm

from s5bench.common.atomic import atomic_path
from s5bench.common.audio import write_text_atomic
from s5bench.reporting.table_files import markdown_table
from s5bench.systems.training.diagnostics import ideal_mask_gains
from s5bench.systems.training.recipes import load_train_config
from s5bench.systems.training.trainer import streams


def ceilings(config: str, n: int, n_fft: int, hop: int) -> pd.DataFrame:
    """The `sep_gain` of ideal masks on channel 0 of a training config's first `n` validation scenes.

    Args:
        config: a training config.
        n: validation scenes.
        n_fft, hop: the masks' STFT.

    Returns:
        One row: config, scenes, targets, n_fft, hop and each mask's gain (dB, 2 decimals).
    """
    cfg = load_train_config(config)
    cfg["val_size"] = n
    _, val = streams(cfg, 0, 1, 0)
    mix0, ref = [], []
    for batch in tqdm(val, desc="validation scenes"):
        act = batch["active"]
        mix0.append(batch["mixture"][torch.nonzero(act)[:, 0], 0])
        ref.append(batch["targets"][act])
    gains = ideal_mask_gains(torch.cat(mix0), torch.cat(ref), n_fft, hop)
    return pd.DataFrame([{"config": config, "scenes": n, "targets": int(sum(len(r) for r in ref)),
                          "n_fft": n_fft, "hop": hop, **{k: round(v, 2) for k, v in gains.items()}}])


def curves(runs: list[str], work_root: Path) -> pd.DataFrame:
    """The validation `sep_gain` each training run logged, against the training scenes it had seen.

    Args:
        runs: training config names; a run without `<work_root>/<name>/log.csv` is skipped, named on stderr.
        work_root: the runs' parent folder.

    Returns:
        Rows run, step, scenes_seen, sep_gain, seconds (empty without any log).
    """
    rows = []
    for name in runs:
        log = work_root / name / "log.csv"
        if not log.is_file():
            print(f"skipped {name}: no {log}", file=sys.stderr)
            continue
        val = pd.read_csv(log).query("split == 'val'")
        batch = load_train_config(name)["batch_size"]
        rows.append(pd.DataFrame({"run": name, "step": val["step"], "scenes_seen": val["step"] * batch,
                                  "sep_gain": val["sep_gain"].round(3), "seconds": val["seconds"].round(0)}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def summary(ceil: pd.DataFrame, curve: pd.DataFrame) -> str:
    """The Markdown summary: the ceilings, and each run's last and best `sep_gain`."""
    note = "sep_gain: dB over the best-scaled mixture (channel 0), mean over active targets; measured."
    text = markdown_table(ceil, "Ideal masks on the validation scenes", note)
    if len(curve):
        last = curve.groupby("run").tail(1).set_index("run")
        best = curve.loc[curve.groupby("run")["sep_gain"].idxmax()].set_index("run")
        table = pd.DataFrame({"scenes seen": last["scenes_seen"], "last sep_gain": last["sep_gain"],
                              "best sep_gain": best["sep_gain"], "at scenes": best["scenes_seen"],
                              "training s": last["seconds"]}).reset_index()
        text += "\n" + markdown_table(table, "Training runs (validation)", note)
    return text


def plot(curve: pd.DataFrame, ceil: pd.DataFrame, path: Path) -> None:
    """The curves against the ideal ratio mask's ceiling, written atomically to `path` (a PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, c in curve.groupby("run"):
        ax.plot(c["scenes_seen"], c["sep_gain"], marker=".", label=name)
    ax.axhline(float(ceil["irm"].iloc[0]), color="grey", ls="--", label="ideal ratio mask")
    ax.axhline(0.0, color="black", lw=0.8)
    # the SI-SNR warm-up's unscaled outputs score far below 0 dB; they would flatten everything else
    ax.set_ylim(-3.0, float(ceil["irm"].iloc[0]) + 1.0)
    ax.set(xlabel="training scenes seen", ylabel="validation sep_gain (dB)", xscale="log",
           title="below −3 dB: off the plot (SI-SNR warm-up)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)


def learnability(config: str, n: int, n_fft: int, hop: int, runs: list[str], work_root: Path, out: Path) -> str:
    """Write OUT/ceilings.csv, curves.csv, summary.md and (with any curve) curves.png.

    Args:
        config, n, n_fft, hop: as `ceilings`.
        runs, work_root: as `curves`.
        out: the folder written.

    Returns:
        The summary's text.
    """
    ceil = ceilings(config, n, n_fft, hop)
    curve = curves(runs, work_root)
    write_text_atomic(out / "ceilings.csv", ceil.to_csv(index=False))
    write_text_atomic(out / "curves.csv", curve.to_csv(index=False))
    text = summary(ceil, curve)
    write_text_atomic(out / "summary.md", text)
    if len(curve):
        plot(curve, ceil, out / "curves.png")
    return text
