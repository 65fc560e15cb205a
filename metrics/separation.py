"""Separation, not gain: on the true-positive estimates of a scored folder, SNR(ŝ, s) − SNR(α·x₀, s)
with α = ⟨x₀, s⟩ / ‖x₀‖², the least-squares gain of the mixture's channel 0 onto the reference.

CA-SDRi credits a correct label with a rescaled mixture: α·x₀ already scores SNR(α·x₀, s) −
SNR(x₀, s) ≥ 0 dB of improvement. This figure is what an estimate adds beyond that, the same
quantity the training logs call `sep_gain`, measured on the test set's files. Estimates are
paired with references of their class as CAPI-SDRi pairs them (the best pairing of each class;
in 2025 a class appears once on each side); false alarms and misses have no pair and are left
out. Not a challenge metric: a diagnostic printed beside the tables.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from s5bench.common.audio import read_audio
from s5bench.common.labels import SAMPLE_RATE
from s5bench.common.layout import ORACLE_DIR, SOUNDSCAPE_DIR, group_by_mixture, list_mixtures

from .scene import best_class_pairing
from .signal import best_scaled, snr


def tp_separation_gains(x0, refs, ests) -> list[tuple[str, float]]:
    """(label, SNR(ŝ, s) − SNR(α·x₀, s)) of every true-positive pair of one mixture.

    x0: (T,) channel 0 of the mixture; refs, ests: lists of (label, (T,) wave), silence left out."""
    x0 = np.asarray(x0, dtype=np.float64)
    out = []
    for label in sorted({lab for lab, _ in refs} & {lab for lab, _ in ests}):
        r = [np.asarray(w, dtype=np.float64) for lab, w in refs if lab == label]
        e = [np.asarray(w, dtype=np.float64) for lab, w in ests if lab == label]
        pair = np.array([[float(snr(ei, ri)) for ei in e] for ri in r])
        for i, j in zip(*best_class_pairing(pair)):
            out.append((label, pair[i, j] - float(snr(best_scaled(x0, r[i]), r[i]))))
    return out


def folder_separation_gains(soundscape_dir, oracle_dir, estimate_dirs: dict, edition: int = 2025) -> list[dict]:
    """tp_separation_gains of every mixture of a test set for each named estimate folder
    ({stage: folder}): one row per pair. Each mixture and its references are read once."""
    mixtures = list_mixtures(soundscape_dir)
    refs = group_by_mixture(oracle_dir, mixtures, "oracle target", edition)
    ests = {stage: group_by_mixture(folder, mixtures, "estimate", edition) for stage, folder in estimate_dirs.items()}
    rows = []
    for name, path in mixtures.items():
        x0 = read_audio(path, sr=SAMPLE_RATE, channels=4, always_2d=True, dtype="float32")[:, 0]

        def read(items, length=len(x0)):
            return [(lab, read_audio(p, sr=SAMPLE_RATE, channels=1, length=length, dtype="float32"))
                    for lab, p in items]

        references = read(refs.get(name, []))
        for stage, found in ests.items():
            for label, gain in tp_separation_gains(x0, references, read(found.get(name, []))):
                rows.append({"stage": stage, "soundscape": name, "label": label, "sep_gain": gain})
    return rows


def stage_separation(data_dir, run_dir, stages, edition: int = 2025) -> pd.DataFrame:
    """One row per stage of a run folder (<run_dir>/<stage>/estimate): the mean, median and count
    of the true-positive pairs' separation gains on the test set `data_dir` (official layout)."""
    data_dir, run_dir = Path(data_dir), Path(run_dir)
    rows = folder_separation_gains(data_dir / SOUNDSCAPE_DIR, data_dir / ORACLE_DIR,
                                   {stage: run_dir / stage / "estimate" for stage in stages}, edition)
    out = []
    for stage in stages:
        gains = [r["sep_gain"] for r in rows if r["stage"] == stage]
        out.append({"config": stage, "tp_pairs": len(gains),
                    "sep_gain_mean": float(np.mean(gains)) if gains else float("nan"),
                    "sep_gain_median": float(np.median(gains)) if gains else float("nan")})
    return pd.DataFrame(out)
