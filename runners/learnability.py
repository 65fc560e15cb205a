"""Is a flat training curve our model's fault or the data's cost? Two readings side by side:

    python runners/learnability.py --config uss_tiny --runs uss_tiny probe_blstm_uss probe_blstm_separator

1. Ceilings: on the validation scenes of --config, the `sep_gain` (dB over the best-scaled
   mixture) of ideal masks on channel 0, i.e. what a mask-based separator could reach.
2. Curves: the validation `sep_gain` logged by each training run (runs/<config>/log.csv, or
   --work-root), against the number of training scenes it had seen. The probe_blstm_* runs are
   classic BLSTM mask networks trained on the same stream with the same tasks (see
   configs/train/probe_blstm_*.yaml).

Writes results/learnability/{ceilings.csv, curves.csv, summary.md, curves.png}.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
import torch
from tqdm import tqdm

from s5bench.common.arguments import at_least
from s5bench.common.atomic import atomic_path
from s5bench.common.audio import write_text_atomic
from s5bench.common.errors import cli
from s5bench.reporting.table_files import markdown_table
from s5bench.systems.training.diagnostics import ideal_mask_gains
from s5bench.systems.training.recipes import load_train_config
from s5bench.systems.training.trainer import streams


def ceilings(config: str, n: int, n_fft: int, hop: int) -> pd.DataFrame:
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="uss_tiny", help="training config whose validation scenes to use")
    ap.add_argument("--n", type=at_least(1), default=32, help="validation scenes for the ceilings")
    ap.add_argument("--n-fft", type=at_least(1), default=1024)
    ap.add_argument("--hop", type=at_least(1), default=512)
    ap.add_argument("--runs", nargs="*", default=[], help="training config names whose logs to read")
    ap.add_argument("--work-root", default="runs")
    ap.add_argument("--out", default=str(Path("results") / "learnability"))
    args = ap.parse_args(argv)
    out = Path(args.out)
    ceil = ceilings(args.config, args.n, args.n_fft, args.hop)
    curve = curves(args.runs, Path(args.work_root))
    write_text_atomic(out / "ceilings.csv", ceil.to_csv(index=False))
    write_text_atomic(out / "curves.csv", curve.to_csv(index=False))
    text = summary(ceil, curve)
    write_text_atomic(out / "summary.md", text)
    if len(curve):
        plot(curve, ceil, out / "curves.png")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(cli(main))
