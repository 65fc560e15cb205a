"""Spectrograms of one generated mixture and its references, for a person to look at."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from s5bench.common.audio import read_audio
from s5bench.common.layout import METADATA_DIR, ORACLE_DIR, SOUNDSCAPE_DIR, estimate_name


def plot_mixture(folder: str | Path, name: str | None = None, out_png: str | Path | None = None) -> Path:
    """Spectrograms of a generated mixture's channel 0 and of its dry targets, one above the other.

    Args:
        folder: a generated data set (metadata/, soundscape/, oracle_target/).
        name: the mixture (default: the first in metadata/).
        out_png: the image to write (default: `<folder>/<name>_spectrograms.png`).

    Returns:
        The image's path.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = Path(folder)
    name = name or sorted(p.stem for p in (folder / METADATA_DIR).glob("*.json"))[0]
    plan = json.loads((folder / METADATA_DIR / f"{name}.json").read_text())
    mix = read_audio(folder / SOUNDSCAPE_DIR / f"{name}.wav", always_2d=True)
    sr = int(plan["config"]["sr"])
    rows = [("mixture W (ch 0)", mix[:, 0])]
    for ev in plan["fg_events"]:
        ref = read_audio(folder / ORACLE_DIR / estimate_name(name, ev["label"]))
        rows.append((f"{ev['label']} (dry, {ev['snr']:.1f} dB, onset {ev['event_time']:.2f} s)", ref))
    fig, axes = plt.subplots(len(rows), 1, figsize=(10, 2.2 * len(rows)), sharex=True)
    for ax, (title, x) in zip(np.atleast_1d(axes), rows):
        with np.errstate(divide="ignore"):
            ax.specgram(x + 1e-12, NFFT=1024, Fs=sr, noverlap=768, cmap="magma", scale="dB", vmin=-160)
        ax.set_title(title, fontsize=9)
        ax.set_ylabel("Hz")
    np.atleast_1d(axes)[-1].set_xlabel("s")
    fig.tight_layout()
    out_png = Path(out_png or folder / f"{name}_spectrograms.png")
    fig.savefig(out_png, dpi=90)
    plt.close(fig)
    return out_png
