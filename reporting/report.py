"""Build a listening and inspection report of a results folder: one static web page
(`python runners/report.py RESULTS_DIR`, or `build_report` from the ablation and the leaderboard).

RESULTS_DIR is a folder written by ablation.py or leaderboard.py (both build the report at the
end unless --no-report), run_system.py or evaluate.py. Writes RESULTS_DIR/report/: index.html
(opens from the file system, no server, nothing fetched from the network), breakdown.csv,
stage_changes.csv, audio/*.ogg and img/*.png. The page holds the provenance and summary tables
(measured and published apart), breakdowns by number of targets, scene type (2026), class and
silence, each stage's change per mixture, a sortable mixture table with every slot's label
coloured, and for the selected mixtures (best, median and worst by the ranking metric, a few at
random with a fixed seed, and any named with --mixtures) a player and a spectrogram of the
mixture's channel 0, every reference and every stage's estimate. Where the folder holds
table1_differences.csv or table2_differences.csv, the page shows them as forest plots (img/forest_*.png)
and tables, and the tables' figures with their intervals.

Audio is Ogg Vorbis (q 0.5, about 100 kB per 10-s clip where 16-bit WAV takes 640 kB; every
browser plays it, and listening does not need the exact samples: the figures are computed from
the WAV files). All clips of one mixture share one gain (its loudest clip peaks at 0.9), so
their levels compare by ear; all its spectrograms share one colour scale.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from s5bench.common.atomic import atomic_folder, named
from s5bench.common.editions import ranking_metric
from s5bench.common.layout import group_by_mixture, list_mixtures
from s5bench.common.locks import exclusive
from s5bench.metrics.breakdown import breakdown, stage_changes

from .report_audio import mixture_clips, sr_of, write_clip_assets
from .report_data import ReportError, Run, discover, read_differences
from .report_html import differences_view, render_page, table_view
from .report_plots import plot_forest
from .report_provenance import provenance_rows
from .report_rows import mixture_rows, select_mixtures, summarise_changes

__all__ = ["REPORT_DIR", "ReportError", "build_report"]

REPORT_DIR = "report"


def build_report(results: str | Path, mixtures: Sequence[str] = (), n_random: int = 3, seed: int = 0,
                 progress: bool = True) -> Path:
    """Write RESULTS/report/ and return its index.html. The folder is built beside the old one and
    renamed into place (common/atomic.py), so a failed build leaves the previous report; two builds
    of one folder's report take turns (they lock the results folder).

    Args:
        results: a results folder of ablation.py, leaderboard.py, run_system.py or evaluate.py.
        mixtures: mixture names to add to the listened selection.
        n_random: mixtures drawn at random besides the best, median and worst.
        seed: the seed of that draw.
        progress: show a progress bar per run.

    Returns:
        The path of the report's index.html.

    Raises:
        ReportError: when the folder is not a results folder, a file of it is missing, cut off or
            damaged, or a named mixture is unknown.
        OSError: when the report cannot be written (a full disk, a refused permission), naming the file.
    """
    results = Path(results)
    kind, tables, runs = discover(results)
    differences = read_differences(results)
    try:
        return _build(results, kind, tables, runs, differences, mixtures, n_random, seed, progress)
    except OSError as err:  # a full disk names no file: the report's folder, then
        raise named(err, results / REPORT_DIR) from err


def _build(results: Path, kind: str, tables, runs, differences, mixtures, n_random: int, seed: int,
           progress: bool) -> Path:
    """build_report's work, once the results folder is read: the report folder, built beside the old one."""
    with exclusive(results), atomic_folder(results / REPORT_DIR) as out:
        (out / "audio").mkdir()
        (out / "img").mkdir()
        views, breakdowns, changes = [], [], []
        for run in runs:
            view, per_stage, ch = run_view(run, len(views), out, mixtures, n_random, seed, progress)
            views.append(view)
            breakdowns += per_stage
            changes.append(ch)
        breakdown_df = pd.concat(breakdowns, ignore_index=True) if breakdowns else pd.DataFrame()
        changes_df = pd.concat(changes, ignore_index=True) if changes else pd.DataFrame()
        breakdown_df.to_csv(out / "breakdown.csv", index=False)
        changes_df.to_csv(out / "stage_changes.csv", index=False)
        forests = []
        for name, df in differences:  # issue 35's intervals: one forest plot per differences table
            plot_forest(df, out / "img" / f"forest_{name}.png")
            forests.append(differences_view(name, df, f"img/forest_{name}.png"))
        html = render_page(
            kind=kind, results=str(results), tables=[(t, table_view(df)) for t, df in tables if df is not None],
            differences=forests, views=views, generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
        (out / "index.html").write_text(html)
    return results / REPORT_DIR / "index.html"


def run_view(run: Run, index: int, out: Path, mixtures: Sequence[str], n_random: int, seed: int,
             progress: bool) -> tuple[dict, list[pd.DataFrame], pd.DataFrame]:
    """One run's part of the page, its clips written under `out` (named after the run's `index`).

    Args:
        run: the run (`discover`).
        index: its position on the page, which prefixes its clips' file names.
        out: the report folder being built (with audio/ and img/).
        mixtures: mixture names to add to the listened selection.
        n_random: mixtures drawn at random besides the best, median and worst.
        seed: the seed of that draw.
        progress: show a progress bar.

    Returns:
        (the template's view of the run, its breakdowns per stage, its stage changes): the last two
        are rows of the report's breakdown.csv and stage_changes.csv.

    Raises:
        ReportError: a named mixture is unknown (`select_mixtures`).
    """
    from tqdm import tqdm

    per_stage = [(s.name, breakdown(s.scores(), s.per_class, s.edition)) for s in run.scored]
    rows = [b.assign(run=run.title, stage=name).loc[:, ["run", "stage", *b.columns]] for name, b in per_stage]
    ch = stage_changes({s.name: s.scores() for s in run.scored})
    ch.insert(0, "run", run.title)
    selection = select_mixtures(run, list(mixtures), n_random, seed)
    info = run.stages[0].info
    all_names = list_mixtures(info["soundscape_dir"])
    ref_files = (group_by_mixture(info["oracle_dir"], all_names, "oracle target", run.stages[0].edition)
                 if info.get("oracle_dir") else {})
    est_files = {s.name: group_by_mixture(s.info["estimate_dir"], all_names, "estimate", s.edition)
                 for s in run.stages if Path(s.info["estimate_dir"]).is_dir()}
    listened = []
    for name, why in tqdm(selection, desc=f"report: {run.title}", unit="mix", disable=not progress):
        clips, notes = mixture_clips(run, name, est_files, ref_files)
        write_clip_assets(clips, f"{index}_{name}", sr_of(info, name), out)
        listened.append({"name": name, "why": why, "clips": clips, "notes": notes})
    view = {"run": run, "mixtures": mixture_rows(run), "listened": listened, "breakdowns": per_stage,
            "provenance": provenance_rows(run.provenance), "metric": ranking_metric(run.stages[0].edition),
            "changes": summarise_changes(ch)}
    return view, rows, ch
