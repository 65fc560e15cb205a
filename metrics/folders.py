"""Score a folder of estimates in the official submission naming against a test-set folder,
and write the reports (CSV, Markdown, and optionally the official results JSON)."""
from __future__ import annotations

import csv
import io
import json
import math
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple, TypeGuard, TypeVar

import numpy as np

from s5bench.common.audio import write_text_atomic
from s5bench.common.editions import EDITIONS, check_edition, edition_of, ranking_metric, summary_columns
from s5bench.common.interrupt import quiet_worker, worker_pool
from s5bench.common.labels import SAMPLE_RATE
from s5bench.common.layout import SOUNDSCAPE_DIR, group_by_mixture, list_mixtures, require_dir
from s5bench.common.manifest import check_dataset

from .aggregate import per_class_table, summarize
from .gram import gram_of_sources
from .mixture_score import MixtureScore
from .reading import MixtureReader
from .scene import score_gram

T = TypeVar("T")


class _Task(NamedTuple):
    """One mixture to score: its name, its file, and its (label, file) references and estimates."""

    name: str
    mixture: Path
    refs: list[tuple[str, Path]]
    ests: list[tuple[str, Path]]


def _score(reader: MixtureReader, task: _Task, edition: int) -> MixtureScore:
    files = [path for _, path in task.refs + task.ests]
    sources = reader.sources(task.mixture, files)  # as stored; the products are taken in float64, blockwise
    return score_gram(gram_of_sources(sources, len(task.refs), reader.block), [lab for lab, _ in task.refs],
                      [lab for lab, _ in task.ests], name=task.name, edition=edition,
                      row_names=[str(task.mixture)] + [str(p) for p in files])


class _Worker:
    """A scoring worker process's reader (made once per process by the pool's initializer)."""

    reader: MixtureReader | None = None
    edition: int = 2025


def _start_worker(sr: int, channels: int, edition: int) -> None:
    quiet_worker()  # Ctrl-C is the parent's to handle: it stops the pool
    _Worker.reader, _Worker.edition = MixtureReader(sr, channels), edition


def _score_in_worker(task: _Task) -> MixtureScore:
    assert _Worker.reader is not None, "the pool's initializer makes the reader"
    return _score(_Worker.reader, task, _Worker.edition)


def score_folders(soundscape_dir: str | Path, oracle_dir: str | Path, estimate_dir: str | Path, *,
                  sr: int = SAMPLE_RATE, channels: int = 4, jobs: int = 1, progress: bool = True,
                  edition: int = 2025, note_missing: bool = True) -> list[MixtureScore]:
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
        S5Error: If the edition is unknown; the data set's manifest shows it incomplete or
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
    tasks = [_Task(m, mixtures[m], refs.get(m, []), ests.get(m, [])) for m in mixtures]
    jobs = min(jobs, len(tasks))  # no more workers than mixtures
    if jobs <= 1:
        reader = MixtureReader(sr, channels)
        return [_score(reader, t, edition) for t in _progress(tasks, len(tasks), progress)]
    with worker_pool(jobs, _start_worker, (sr, channels, edition)) as pool:
        return list(_progress(pool.imap(_score_in_worker, tasks, chunksize=4), len(tasks), progress))


def _progress(items: Iterable[T], total: int, shown: bool) -> Iterator[T]:
    """The items, behind a progress bar on stderr when `shown` (tqdm is imported only then)."""
    if not shown:
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, total=total, desc="scoring", unit="mix")


def _edition_of(summary: Mapping[str, object]) -> int:
    """The edition of a summary: the one whose ranking metric it holds (`common.editions` names them)."""
    found = [e for e in EDITIONS if ranking_metric(e) in summary]
    if len(found) != 1:
        names = ", ".join(ranking_metric(e) for e in EDITIONS)
        raise KeyError(f"a summary holds the ranking metric of one edition ({names}); this one has "
                       f"{', '.join(summary)}")
    return found[0]


def table_csv(rows: Sequence[Mapping[str, object]], columns: list[str] | None = None) -> str:
    """Rows of a report as CSV text, byte for byte as pandas writes `DataFrame(rows).to_csv(index=False)`.

    Written with the csv module so that scoring does not import pandas (0.15 s per process). A
    column's values are written as pandas infers its type: all bool → True/False; all int → the
    integers; numbers with at least one float (or a missing value) → every value as a float
    (`repr`, NaN as an empty field); anything else as text (None and NaN empty).

    Args:
        rows: one dict per row; a key missing from a row is a missing value.
        columns: the columns in order (default: the keys in order of first appearance); keys not
            listed are left out.

    Returns:
        The CSV text: a header line, then one line per row, each ending in a newline.

    Example:
        >>> from s5bench.metrics.folders import table_csv
        >>> print(table_csv([{"class": "Speech", "tp": 2, "mean": 1.5, "ok": True},
        ...                  {"class": "Cough", "tp": 0, "mean": float("nan"), "ok": False}]), end="")
        class,tp,mean,ok
        Speech,2,1.5,True
        Cough,0,,False
    """
    if columns is None:
        columns = list(dict.fromkeys(key for row in rows for key in row))
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(columns)
    cells = [_csv_column([row.get(c, math.nan) for row in rows]) for c in columns]
    writer.writerows(zip(*cells))
    return text.getvalue()


def _is_number(v: object) -> TypeGuard[float]:  # an int, a float or a numpy number; float() takes each
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _csv_column(values: list[object]) -> list[str]:
    """One column's cells as pandas writes them (see `table_csv`)."""
    def missing(v: object) -> bool:
        return v is None or (_is_number(v) and math.isnan(v))

    if values and all(isinstance(v, (bool, np.bool_)) for v in values):
        return [str(v) for v in values]
    if values and all(_is_number(v) and isinstance(v, (int, np.integer)) for v in values):
        return [str(v) for v in values]
    if values and all(_is_number(v) or v is None for v in values):
        return ["" if v is None or not _is_number(v) or math.isnan(float(v)) else repr(float(v)) for v in values]
    return ["" if missing(v) else str(v) for v in values]


def summary_markdown(summary: Mapping[str, float], title: str = "S5 evaluation") -> str:
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
    def fmt(v: float) -> str:
        return "nan" if isinstance(v, float) and math.isnan(v) else (f"{v:.3f}" if isinstance(v, float) else str(v))

    edition = _edition_of(summary)
    columns = summary_columns(edition)
    head = "| " + " | ".join(columns) + " |"
    rule = "|" + "---|" * len(columns)
    body = "| " + " | ".join(fmt(summary[c]) for c in columns) + " |"
    units = f"DCASE {edition} edition. {ranking_metric(edition)} and SNRi in dB; Acc_mix and Acc_src in %."
    return f"# {title}\n\n{head}\n{rule}\n{body}\n\n{units}\n"


def official_results(scores: list[MixtureScore], summary: Mapping[str, float]) -> dict[str, object]:
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

    def value(x: float) -> float | None:
        return None if math.isnan(x) else x

    return {
        name: {"mean": value(summary[name])},
        "label_metrics": {"accuracy_mix": summary["Acc_mix"], "accuracy_src": summary["Acc_src"]},
        "details": [{"soundscape": s.soundscape, "ref_labels": s.ref_labels, "est_labels": s.est_labels,
                     "metrics": [{"metric": name, "value": value(s.capi_sdri)}]} for s in scores],
    }


RUN_INFO = "run_info.json"


def write_run_info(folder: str | Path, *, soundscape_dir: str | Path, oracle_dir: str | Path | None,
                   estimate_dir: str | Path, edition: int, **extra: object) -> Path:
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


def write_reports(scores: list[MixtureScore], out_dir: str | Path, official_json: bool = False) -> dict[str, float]:
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
    write_text_atomic(out / "per_mixture.csv", table_csv([s.row() for s in scores]))
    write_text_atomic(out / "per_class.csv", table_csv(per_class_table(scores)))
    write_text_atomic(out / "summary.csv", table_csv([summary], summary_columns(scores[0].edition)))
    write_text_atomic(out / "summary.md", summary_markdown(summary))
    if official_json:
        write_text_atomic(out / "results.json", json.dumps(official_results(scores, summary), indent=2))
    return summary
