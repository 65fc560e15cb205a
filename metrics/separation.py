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

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TypedDict

import numpy as np
import numpy.typing as npt
import pandas as pd

from s5bench.common.audio import read_audio
from s5bench.common.labels import SAMPLE_RATE
from s5bench.common.layout import ORACLE_DIR, SOUNDSCAPE_DIR, group_by_mixture, list_mixtures

from .assignment import best_class_pairing
from .signal import best_scaled, snr


class GainRow(TypedDict):
    """One true-positive pair's separation gain (`folder_separation_gains`).

    Attributes:
        stage: the estimates' stage.
        soundscape: the mixture.
        label: the class of the pair.
        sep_gain: SNR(ŝ, s) − SNR(α·x₀, s), dB.
    """

    stage: str
    soundscape: str
    label: str
    sep_gain: float


def tp_separation_gains(x0: npt.ArrayLike, refs: Sequence[tuple[str, npt.ArrayLike]],
                        ests: Sequence[tuple[str, npt.ArrayLike]]) -> list[tuple[str, float]]:
    """The separation gain SNR(ŝ, s) − SNR(α·x₀, s) in dB of every true-positive pair of one mixture.

    Estimates are paired with references of their class as CAPI-SDRi pairs them
    (`best_class_pairing`); unpaired ones (misses, false alarms) give nothing.

    Args:
        x0: channel 0 of the mixture, shape (samples,), 32 kHz in the challenge.
        refs: the reference targets as (label, (samples,) waveform), silence left out.
        ests: the estimates in the same form.

    Returns:
        (label, gain in dB) per pair, classes in alphabetical order.

    Raises:
        ValueError: If a waveform's length differs from another's it is compared with.

    Example:
        >>> import numpy as np
        >>> from s5bench.metrics.separation import tp_separation_gains
        >>> s = np.array([5.0, 5.0, 5.0, 5.0])
        >>> x0 = s + np.array([5.0, -5.0, 5.0, -5.0])  # α = ⟨x0, s⟩ / ‖x0‖² = 100 / 200: SNR(x0 / 2, s) = 10·log10(2)
        >>> est = s + np.array([0.5, -0.5, 0.5, -0.5])  # SNR(est, s) = 20 dB
        >>> [(lab, round(float(g), 4)) for lab, g in tp_separation_gains(x0, [("Speech", s)], [("Speech", est)])]
        [('Speech', 16.9897)]
    """
    mixture = np.asarray(x0, dtype=np.float64)
    out: list[tuple[str, float]] = []
    for label in sorted({lab for lab, _ in refs} & {lab for lab, _ in ests}):
        r = [np.asarray(w, dtype=np.float64) for lab, w in refs if lab == label]
        e = [np.asarray(w, dtype=np.float64) for lab, w in ests if lab == label]
        pair = np.array([[float(snr(ei, ri)) for ei in e] for ri in r])
        for i, j in zip(*best_class_pairing(pair)):
            out.append((label, float(pair[i, j]) - float(snr(best_scaled(mixture, r[i]), r[i]))))
    return out


def folder_separation_gains(soundscape_dir: str | Path, oracle_dir: str | Path, estimate_dirs: Mapping[str, str | Path],
                            edition: int = 2025) -> list[GainRow]:
    """`tp_separation_gains` of every mixture of a test set, for each of several estimate folders.

    Each mixture and its references are read once.

    Args:
        soundscape_dir: folder of the 4-channel 32 kHz mixtures (`<mix>.wav`).
        oracle_dir: folder of the mono reference targets in the official naming.
        estimate_dirs: {stage name: folder of mono estimates in the official naming}.
        edition: 2025 or 2026 (the file naming, and whether a class may repeat).

    Returns:
        One `GainRow` per true-positive pair: "stage", "soundscape", "label", "sep_gain" (dB).

    Raises:
        FileNotFoundError: If a folder or an audio file is missing, or there are no mixtures.
        S5Error: If a file name, label or count breaks the official layout, or an audio file
            has the wrong rate, channel count or length, or NaN/Inf samples.
    """
    mixtures = list_mixtures(soundscape_dir)
    refs = group_by_mixture(oracle_dir, mixtures, "oracle target", edition)
    ests = {stage: group_by_mixture(folder, mixtures, "estimate", edition) for stage, folder in estimate_dirs.items()}
    rows: list[GainRow] = []
    for name, path in mixtures.items():
        x0 = read_audio(path, sr=SAMPLE_RATE, channels=4, always_2d=True, dtype="float32")[:, 0]

        def read(items: list[tuple[str, Path]], length: int = len(x0)) -> list[tuple[str, npt.ArrayLike]]:
            return [(lab, read_audio(p, sr=SAMPLE_RATE, channels=1, length=length, dtype="float32"))
                    for lab, p in items]

        references = read(refs.get(name, []))
        for stage, found in ests.items():
            for label, gain in tp_separation_gains(x0, references, read(found.get(name, []))):
                rows.append({"stage": stage, "soundscape": name, "label": label, "sep_gain": gain})
    return rows


def stage_separation(data_dir: str | Path, run_dir: str | Path, stages: list[str], edition: int = 2025
                     ) -> pd.DataFrame:
    """The separation gains of each stage of a run, summarised: one row per stage.

    Args:
        data_dir: the test set in the official layout (soundscape/, oracle_target/).
        run_dir: the run folder; each stage's estimates are in <run_dir>/<stage>/estimate.
        stages: the stage names, in the order of the rows.
        edition: 2025 or 2026.

    Returns:
        Columns "config" (the stage), "tp_pairs" (count), "sep_gain_mean" and "sep_gain_median"
        (dB; NaN for a stage without true-positive pairs).

    Raises:
        FileNotFoundError, S5Error: As `folder_separation_gains`.
    """
    data, run = Path(data_dir), Path(run_dir)
    rows = folder_separation_gains(data / SOUNDSCAPE_DIR, data / ORACLE_DIR,
                                   {stage: run / stage / "estimate" for stage in stages}, edition)
    out: list[dict[str, str | int | float]] = []
    for stage in stages:
        gains = [r["sep_gain"] for r in rows if r["stage"] == stage]
        out.append({"config": stage, "tp_pairs": len(gains),
                    "sep_gain_mean": float(np.mean(gains)) if gains else float("nan"),
                    "sep_gain_median": float(np.median(gains)) if gains else float("nan")})
    return pd.DataFrame(out)
