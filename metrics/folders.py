"""Score a folder of estimates in the official submission naming against a test-set folder,
and write the reports (CSV, Markdown, and optionally the official results JSON)."""
from __future__ import annotations

import json
import math
import sys
from functools import partial
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from s5bench.common.audio import read_audio, write_text_atomic
from s5bench.common.editions import check_edition, edition_of, ranking_metric, summary_columns
from s5bench.common.labels import SAMPLE_RATE
from s5bench.common.layout import SOUNDSCAPE_DIR, group_by_mixture, list_mixtures, require_dir
from s5bench.common.manifest import check_dataset

from .aggregate import per_class_table, summarize
from .scene import MixtureScore, score_mixture, use_one_thread


def _score_one(task) -> MixtureScore:
    name, mix_path, ref_paths, est_paths, sr, channels, edition = task
    # float32 holds every sample of 16/24-bit PCM and float wavs exactly; scoring is in float64.
    mixture = read_audio(mix_path, sr=sr, channels=channels, always_2d=True, dtype="float32")
    length = mixture.shape[0]
    refs = [(lab, read_audio(p, sr=sr, channels=1, length=length, dtype="float32")) for lab, p in ref_paths]
    ests = [(lab, read_audio(p, sr=sr, channels=1, length=length, dtype="float32")) for lab, p in est_paths]
    return score_mixture(mixture[:, 0], refs, ests, name=name, edition=edition)


def score_folders(soundscape_dir, oracle_dir, estimate_dir, *, sr: int = SAMPLE_RATE, channels: int = 4,
                  jobs: int = 1, progress: bool = True, edition: int = 2025,
                  note_missing: bool = True) -> list[MixtureScore]:
    """Score every mixture of a folder against its references, from the files in the official naming.

    A mixture without estimates is scored as all misses (2025: with one line on stderr that says
    how many, unless `note_missing` is False and the caller says it itself; in 2026 an empty
    answer is legal).

    Args:
        soundscape_dir: folder of the mixtures (`<mix>.wav`, `channels` channels at `sr`); in the
            official layout (a folder named soundscape) its data set's manifest is checked first.
        oracle_dir: folder of the mono references (`<mix>_<Label>.wav`, 2026 also `<mix>_<i>_<Label>.wav`).
        estimate_dir: folder of the mono estimates in the same naming.
        sr: the sample rate every file must have, Hz.
        channels: the mixtures' channel count (channel 0 is scored against).
        jobs: worker processes (1: in this process).
        progress: show a progress bar.
        edition: 2025 or 2026.
        note_missing: print the note on mixtures without estimates (2025).

    Returns:
        The MixtureScore of every mixture, in file-name order.

    Raises:
        FileNotFoundError: If a folder is missing or holds no mixture.
        ValueError: If the edition is unknown; the data set's manifest shows it incomplete or
            changed (DatasetError); a file name, label or count breaks the official layout; an
            audio file has the wrong rate, channel count or length, or NaN/Inf samples
            (AudioFormatError); or as `score_mixture`.
    """
    edition = check_edition(edition)
    soundscape_dir = require_dir(soundscape_dir, "soundscape")
    if soundscape_dir.name == SOUNDSCAPE_DIR:  # in the official layout: the data set it belongs to, checked
        check_dataset(soundscape_dir.parent)
    mixtures = list_mixtures(soundscape_dir)
    refs = group_by_mixture(oracle_dir, mixtures, "oracle target", edition)
    ests = group_by_mixture(estimate_dir, mixtures, "estimate", edition)
    no_estimate = [m for m in mixtures if m not in ests]
    if no_estimate and not edition_of(edition).repeated_classes and note_missing:  # 2026: an empty answer is legal
        shown = ", ".join(no_estimate[:5]) + (" …" if len(no_estimate) > 5 else "")
        print(f"note: {len(no_estimate)} mixture(s) have no estimate file and are scored as all misses: {shown}",
              file=sys.stderr)
    tasks = [(m, mixtures[m], refs.get(m, []), ests.get(m, []), sr, channels, edition) for m in mixtures]
    bar = partial(tqdm, total=len(tasks), desc="scoring", unit="mix", disable=not progress)
    if jobs <= 1:
        return [_score_one(t) for t in bar(tasks)]
    # fork where the OS has it: workers start at once instead of re-importing everything
    method = "fork" if "fork" in get_all_start_methods() else "spawn"
    with get_context(method).Pool(jobs, initializer=use_one_thread) as pool:
        return list(bar(pool.imap(_score_one, tasks, chunksize=4)))


def _edition_of(summary: dict) -> int:
    return 2026 if "CAPI-SDRi" in summary else 2025


def summary_markdown(summary: dict, title: str = "S5 evaluation") -> str:
    """The summary as a Markdown table (summary.md), with the edition and the units.

    Args:
        summary: `summarize`'s dict (its edition is read from the ranking metric's key).
        title: the heading.

    Returns:
        The Markdown text: figures with 3 decimals, NaN as "nan".

    Raises:
        KeyError: If a column of the edition's summary is missing.

    Example:
        >>> from s5bench.metrics.folders import summary_markdown
        >>> print(summary_markdown({"n_mixtures": 2, "CA-SDRi": 5.0, "SNRi": 16 / 3, "Acc_mix": 50.0,
        ...                         "Acc_src": float("nan")}))
        # S5 evaluation
        <BLANKLINE>
        | n_mixtures | CA-SDRi | SNRi | Acc_mix | Acc_src |
        |---|---|---|---|---|
        | 2 | 5.000 | 5.333 | 50.000 | nan |
        <BLANKLINE>
        DCASE 2025 edition. CA-SDRi and SNRi in dB; Acc_mix and Acc_src in %.
        <BLANKLINE>
    """
    def fmt(v):
        return "nan" if isinstance(v, float) and math.isnan(v) else (f"{v:.3f}" if isinstance(v, float) else str(v))

    edition = _edition_of(summary)
    columns = summary_columns(edition)
    head = "| " + " | ".join(columns) + " |"
    rule = "|" + "---|" * len(columns)
    body = "| " + " | ".join(fmt(summary[c]) for c in columns) + " |"
    units = f"DCASE {edition} edition. {ranking_metric(edition)} and SNRi in dB; Acc_mix and Acc_src in %."
    return f"# {title}\n\n{head}\n{rule}\n{body}\n\n{units}\n"


def official_results(scores: list[MixtureScore], summary: dict) -> dict:
    """The results in the form of the 2026 baseline's `dev_set_test_results.json`.

    Estimates read from files carry no probabilities; that field is left out.

    Args:
        scores: the MixtureScore of every mixture.
        summary: `summarize(scores)`.

    Returns:
        {<ranking metric>: {"mean": dB}, "label_metrics": {"accuracy_mix": %, "accuracy_src": %},
        "details": one entry per mixture (labels and its ranking-metric value in dB)}; a NaN value
        is None (null in JSON).
    """
    name = ranking_metric(_edition_of(summary))

    def value(x):
        return None if math.isnan(x) else x

    return {
        name: {"mean": value(summary[name])},
        "label_metrics": {"accuracy_mix": summary["Acc_mix"], "accuracy_src": summary["Acc_src"]},
        "details": [{"soundscape": s.soundscape, "ref_labels": s.ref_labels, "est_labels": s.est_labels,
                     "metrics": [{"metric": name, "value": value(s.capi_sdri)}]} for s in scores],
    }


RUN_INFO = "run_info.json"


def write_run_info(folder, *, soundscape_dir, oracle_dir, estimate_dir, edition: int, **extra) -> Path:
    """Write `folder/run_info.json` (atomically): where a stage's inputs are, for tools that read a
    results folder later (the report).

    Args:
        folder: the stage's results folder (made if missing).
        soundscape_dir: the mixtures' folder.
        oracle_dir: the references' folder, or None (an evaluation set without references).
        estimate_dir: the estimates' folder.
        edition: 2025 or 2026.
        **extra: further JSON-serialisable fields to record.

    Returns:
        The path written.

    Raises:
        OSError: If the file cannot be written.
    """
    info = {"soundscape_dir": str(soundscape_dir), "oracle_dir": str(oracle_dir) if oracle_dir else None,
            "estimate_dir": str(estimate_dir), "edition": edition, **extra}
    path = Path(folder) / RUN_INFO
    write_text_atomic(path, json.dumps(info, indent=2) + "\n")
    return path


def write_reports(scores: list[MixtureScore], out_dir, official_json: bool = False) -> dict:
    """Write a stage's reports into `out_dir` (created if needed), each file atomically.

    The files: per_mixture.csv (`MixtureScore.row`), per_class.csv (`per_class_table`),
    summary.csv, summary.md (`summary_markdown`) and, with `official_json`, the organisers'
    results JSON `results.json` (`official_results`).

    Args:
        scores: the MixtureScore of every mixture (one edition).
        out_dir: the folder to write to.
        official_json: also write results.json.

    Returns:
        The summary (`summarize`).

    Raises:
        ValueError: As `summarize` (no scores, or scores of two editions).
        OSError: If a file cannot be written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(scores)
    columns = summary_columns(_edition_of(summary))
    write_text_atomic(out / "per_mixture.csv", pd.DataFrame([s.row() for s in scores]).to_csv(index=False))
    write_text_atomic(out / "per_class.csv", pd.DataFrame(per_class_table(scores)).to_csv(index=False))
    write_text_atomic(out / "summary.csv", pd.DataFrame([summary], columns=columns).to_csv(index=False))
    write_text_atomic(out / "summary.md", summary_markdown(summary))
    if official_json:
        write_text_atomic(out / "results.json", json.dumps(official_results(scores, summary), indent=2))
    return summary
