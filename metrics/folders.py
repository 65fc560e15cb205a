"""Score a folder of estimates in the official submission naming against a test-set folder."""
from __future__ import annotations

import math
import warnings
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from common.audio import read_audio, write_text_atomic
from common.layout import group_by_mixture, list_mixtures

from .scene import MixtureScore, per_class_table, score_mixture, summarize

SUMMARY_COLUMNS = ["n_mixtures", "CA-SDRi", "SNRi", "Acc_mix", "Acc_src"]


def _score_one(task) -> MixtureScore:
    name, mix_path, ref_paths, est_paths, sr, channels = task
    # float32 holds every sample of 16/24-bit PCM and float wavs exactly; scoring is in float64.
    mixture = read_audio(mix_path, sr=sr, channels=channels, always_2d=True, dtype="float32")
    length = mixture.shape[0]
    refs = {lab: read_audio(p, sr=sr, channels=1, length=length, dtype="float32") for lab, p in ref_paths.items()}
    ests = {lab: read_audio(p, sr=sr, channels=1, length=length, dtype="float32") for lab, p in est_paths.items()}
    return score_mixture(mixture[:, 0], refs, ests, name=name)


def score_folders(soundscape_dir, oracle_dir, estimate_dir, *, sr: int = 32000, channels: int = 4,
                  jobs: int = 1, progress: bool = True) -> list[MixtureScore]:
    """Score every mixture of `soundscape_dir`. A mixture without estimates is scored as all
    misses, with a warning that names how many there were."""
    mixtures = list_mixtures(soundscape_dir)
    refs = group_by_mixture(oracle_dir, mixtures, "oracle target")
    ests = group_by_mixture(estimate_dir, mixtures, "estimate")
    no_estimate = [m for m in mixtures if m not in ests]
    if no_estimate:
        shown = ", ".join(no_estimate[:5]) + (" …" if len(no_estimate) > 5 else "")
        warnings.warn(f"{len(no_estimate)} mixture(s) have no estimate file and are scored as all misses: {shown}")
    tasks = [(m, mixtures[m], refs.get(m, {}), ests.get(m, {}), sr, channels) for m in mixtures]
    bar = dict(total=len(tasks), desc="scoring", unit="mix", disable=not progress)
    if jobs <= 1:
        return [_score_one(t) for t in tqdm(tasks, **bar)]
    # fork where the OS has it: workers start at once instead of re-importing everything
    method = "fork" if "fork" in get_all_start_methods() else "spawn"
    with get_context(method).Pool(jobs) as pool:
        return list(tqdm(pool.imap(_score_one, tasks, chunksize=4), **bar))


def summary_markdown(summary: dict, title: str = "S5 evaluation") -> str:
    def fmt(v):
        return "nan" if isinstance(v, float) and math.isnan(v) else (f"{v:.3f}" if isinstance(v, float) else str(v))

    head = "| " + " | ".join(SUMMARY_COLUMNS) + " |"
    rule = "|" + "---|" * len(SUMMARY_COLUMNS)
    body = "| " + " | ".join(fmt(summary[c]) for c in SUMMARY_COLUMNS) + " |"
    units = "CA-SDRi and SNRi in dB; Acc_mix and Acc_src in %."
    return f"# {title}\n\n{head}\n{rule}\n{body}\n\n{units}\n"


def write_reports(scores: list[MixtureScore], out_dir) -> dict:
    """Write per_mixture.csv, per_class.csv, summary.csv and summary.md; return the summary."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(scores)
    write_text_atomic(out / "per_mixture.csv", pd.DataFrame([s.row() for s in scores]).to_csv(index=False))
    write_text_atomic(out / "per_class.csv", pd.DataFrame(per_class_table(scores)).to_csv(index=False))
    write_text_atomic(out / "summary.csv", pd.DataFrame([summary], columns=SUMMARY_COLUMNS).to_csv(index=False))
    write_text_atomic(out / "summary.md", summary_markdown(summary))
    return summary
