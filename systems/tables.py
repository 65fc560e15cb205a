"""Shared parts of the table runners: the built-in test set, published figures, system runs with
their provenance, Markdown and plots."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd

from common.audio import write_text_atomic
from common.layout import ORACLE_DIR, SOUNDSCAPE_DIR
from common.provenance import REPO, code_fingerprint, file_sha256, write_sidecar

from .models.checkpoints import resolve
from .registry import build_system_from_config, load_system_config

# The default is the first 20 mixtures (a few minutes on 2 CPU cores); --n 100 gives the full built-in set.
BUILTIN = {"config": "builtin_test", "seed": 0, "n": 20, "full_n": 100}

# Paper Table 1 (dev test set), S5_REFERENCE §5. Published, never measured here.
PUBLISHED_TABLE1 = {
    "fss1_cp1": (10.8, 15.1, 73.2),
    "fss1_cp1-1": (12.7, 15.1, 81.8),
    "fss2_cp1-1": (14.6, 18.3, 81.8),
    "fss2_cp2": (14.7, 18.3, 83.4),
    "fss3_cp3": (14.9, 18.4, 84.5),
}
# Paper Table 2 (DCASE 2025 Task 4 leaderboard): rank, team, eval CA-SDRi / Acc_mix, test CA-SDRi / Acc_mix.
PUBLISHED_TABLE2 = [
    (1, "KAIST (self-guided)", 11.00, 55.80, 14.94, 61.80),
    (2, "JKU", 9.77, 61.60, 15.04, 77.07),
    (3, "SUSTech", 9.73, 51.54, 14.00, 59.80),
    (4, "SJTU", 7.84, 47.72, 14.38, 73.93),
    (5, "rank 5", 7.55, 49.51, 13.31, 64.07),
    (6, "rank 6", 6.69, 47.22, 13.22, 76.53),
    (7, "rank 7", 6.60, 51.48, 11.12, 60.67),
    (8, "baseline ResUNetK", 6.60, 51.48, 11.09, 59.80),
    (9, "rank 9", 3.84, 22.41, 11.78, 65.47),
]
# DCASE 2026 Task 4 (S5_REFERENCE §7): rank, team, eval CAPI-SDRi / Acc_mix, dev-test CAPI-SDRi / Acc_mix.
PUBLISHED_TABLE2_2026 = [
    (1, "Bando_AIST", 14.93, 65.54, 16.32, 64.88),
    (2, "Choi_KAIST", 12.98, 64.88, 14.65, 66.07),
    (3, "Saijo_Mitsubishi", 12.94, 76.92, 14.95, 78.11),
    (4, "Wang_SRCN", 10.13, 57.80, 11.74, 62.23),
    (5, "Park_SGU", 10.10, 53.17, 11.42, 56.09),
    (None, "baseline (1-channel M2D-AT + ResUNetK)", 6.77, 56.55, 8.171, 57.143),
    (None, "baseline (4-channel M2D-AT + ResUNetK)", None, None, 8.489, 60.714),
]


def builtin_test_set(n: int = BUILTIN["n"], progress: bool = True, edition: int = 2025) -> Path:
    """The built-in synthetic test set of an edition (configs/data/builtin_test.yaml, or
    builtin_test_2026.yaml; seed 0): the full 100 mixtures in data/<config> (the README's oracle
    command makes the same set), other sizes in data/<config>_<n> (mixture i is the same in every
    size). Generated on first use, reused after (and completed if cut short)."""
    from data_gen.config import load_config
    from data_gen.writer import generate_set

    name = BUILTIN["config"] + ("_2026" if edition == 2026 else "")
    out = REPO / "data" / name
    if n != BUILTIN["full_n"]:
        out = REPO / "data" / f"{name}_{n}"
    cfg = load_config(name)
    generate_set(cfg, out, n=n, seed=BUILTIN["seed"], jobs=2, progress=progress)
    return out


def check_test_set(folder) -> Path:
    """A test set must have its mixtures and oracle targets before any model runs."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"data folder {folder} does not exist")
    for sub, what in ((SOUNDSCAPE_DIR, "mixtures"), (ORACLE_DIR, "oracle targets")):
        d = folder / sub
        if not d.is_dir() or not any(d.glob("*.wav")):
            raise FileNotFoundError(f"{folder} has no {what}: {d} is missing or holds no .wav files "
                                    f"(scoring needs the official layout: {SOUNDSCAPE_DIR}/ and {ORACLE_DIR}/)")
    return folder


def checkpoint_hashes(system_cfg: dict) -> dict:
    """sha256 of every checkpoint file named in a system config's arguments."""
    out = {}
    for key, value in (system_cfg.get("args") or {}).items():
        if isinstance(value, str) and value.endswith((".pt", ".ckpt", ".pth")):
            path = resolve(value)
            out[key] = {"path": value, "sha256": file_sha256(path) if path.is_file() else None}
    return out


def run_dir_for(system_name: str, system_cfg: dict, fingerprint: str, results: Path, edition: int = 2025) -> Path:
    """Runs are cached per (system config, checkpoints, data set, edition, code): a change of any
    starts afresh."""
    key = json.dumps({"cfg": system_cfg, "ckpt": checkpoint_hashes(system_cfg), "data": fingerprint,
                      "code": system_code_fingerprint(system_cfg), "edition": edition}, sort_keys=True, default=str)
    return results / "runs" / f"{Path(system_name).stem}_{hashlib.sha256(key.encode()).hexdigest()[:10]}"


def system_code_fingerprint(system_cfg: dict) -> str:
    """The project's code plus a plug-in system's own package (`class: pkg.module:Class`)."""
    return code_fingerprint([system_cfg["class"]] if "class" in system_cfg else [])


def provenance(system_name, system_cfg, data_dir, fingerprint, **extra) -> dict:
    return {"system": Path(system_name).stem, "system_config": system_cfg,
            "checkpoints": checkpoint_hashes(system_cfg), "code_fingerprint": system_code_fingerprint(system_cfg),
            "data": str(data_dir), "data_fingerprint": fingerprint, **extra}


def build_with(system_name: str, **arg_overrides):
    """Build a system from its config with some arguments replaced (e.g. iterations)."""
    cfg = load_system_config(system_name)
    cfg["args"] = {**(cfg.get("args") or {}), **arg_overrides}
    return build_system_from_config(cfg), cfg


def copy_per_mixture(run_dir: Path, stage: str, dest: Path):
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run_dir / stage / "per_mixture.csv", dest)


def markdown_table(df: pd.DataFrame, title: str, note: str = "") -> str:
    def fmt(v):
        if isinstance(v, float):
            return "" if pd.isna(v) else f"{v:.2f}"
        return str(v)

    head = "| " + " | ".join(df.columns) + " |"
    rule = "|" + "---|" * len(df.columns)
    body = "\n".join("| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False))
    return f"# {title}\n\n{head}\n{rule}\n{body}\n\n{note}\n"


def write_table(df: pd.DataFrame, csv_path: Path, title: str, note: str, **sidecar) -> None:
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(csv_path, df.to_csv(index=False, float_format="%.4f"))
    write_text_atomic(csv_path.with_suffix(".md"), markdown_table(df, title, note))
    write_sidecar(csv_path, **sidecar)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_table1(df: pd.DataFrame, out_png: Path) -> Path:
    """Grouped bars per stage: measured CA-SDRi and SNRi, and the paper's (hatched, *published*)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(1.8 + 1.6 * len(df), 3.6))
    x = range(len(df))
    w = 0.2
    metric = df.columns[1]  # CA-SDRi (2025) or CAPI-SDRi (2026)
    series = [(metric, f"measured {metric}", None), ("SNRi", "measured SNRi", None),
              ("published_CA-SDRi", "published CA-SDRi", "//"), ("published_SNRi", "published SNRi", "//")]
    for i, (col, label, hatch) in enumerate(series):
        ax.bar([xi + (i - 1.5) * w for xi in x], df[col].fillna(0), w, label=label, hatch=hatch,
               color=["C0", "C1", "white", "white"][i], edgecolor=["C0", "C1", "C0", "C1"][i])
    ax.set_xticks(list(x), df["config"])
    ax.set_ylabel("dB")
    ax.axhline(0, color="k", lw=0.5)
    ax.legend(fontsize=7, ncol=2)
    ax.set_title("Table 1: ablation stages (measured here vs published)")
    fig.tight_layout()
    fig.savefig(out_png, dpi=120)
    plt.close(fig)
    return out_png


def plot_per_class(per_class_csv: Path, out_png: Path, title: str) -> Path:
    plt = _plt()
    df = pd.read_csv(per_class_csv)
    col = "ca_sdri_term"  # the class's CA-SDRi: its TP SDRi summed over its TP + FP + FN
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.bar(df[df.columns[0]].astype(str), df[col])
    ax.set_ylabel("per-class CA-SDRi (dB)")
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=70, labelsize=7)
    ax.axhline(0, color="k", lw=0.5)
    fig.tight_layout()
    fig.savefig(out_png, dpi=120)
    plt.close(fig)
    return out_png
