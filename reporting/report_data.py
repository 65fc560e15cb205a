"""What a results folder holds, for the web report: its runs and stages (with their records'
paths found again when the folder was copied), its tables and their sidecars, the differences
tables with their intervals (a run's provenance as rows of text: reporting/report_provenance.py)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from s5bench.common.configs import read_json as read_record
from s5bench.common.editions import check_edition, ranking_metric
from s5bench.common.errors import S5Error
from s5bench.metrics.folders import RUN_INFO
from s5bench.metrics.intervals import significant

# the columns of table1_differences.csv / table2_differences.csv (the interval contract of issue 35)
DIFFERENCE_COLUMNS = ("data", "a", "b", "metric", "difference", "ci_low", "ci_high", "p_value", "n_mixtures",
                      "min_detectable", "excludes_zero")
DIFFERENCE_TABLES = ("table1", "table2")
RECORDED_PATHS = ("soundscape_dir", "oracle_dir", "estimate_dir")
# what the report reads of a stage's per_mixture.csv and per_class.csv (MixtureScore.row, per_class_table);
# the ranking metric's column (ca_sdri or capi_sdri) is the edition's
PER_MIXTURE_COLUMNS = ("soundscape", "snri", "acc_src", "label_match", "n_ref", "n_est", "tp", "fp", "fn",
                       "ref_labels", "est_labels")
PER_CLASS_COLUMNS = ("class", "n_ref", "tp", "fp", "fn")


class ReportError(S5Error):
    """A results folder the report cannot be built from (the message says why)."""


@dataclass
class Stage:
    """One stage folder of a results folder, as the report reads it (`load_stage`).

    Attributes:
        name, folder: the stage's. info: its run_info.json, recorded paths relocated. notes: what is missing.
        per_mixture, per_class, summary: its scores (None when it was not scored).
    """

    name: str
    folder: Path
    info: dict
    per_mixture: pd.DataFrame | None = None
    per_class: pd.DataFrame | None = None
    summary: dict | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def edition(self) -> int:
        """The DCASE edition the stage was scored as (2025 when its run_info records none)."""
        return int(self.info.get("edition", 2025))

    def scores(self) -> pd.DataFrame:
        """The per-mixture scores of a scored stage (one of `Run.scored`).

        Returns:
            Its per_mixture.csv as read.

        Raises:
            ReportError: if the stage was not scored (no per_mixture.csv).
        """
        if self.per_mixture is None:
            raise ReportError(f"stage {self.name} ({self.folder}) was not scored: no per_mixture.csv")
        return self.per_mixture


@dataclass
class Run:
    """One run of a results folder: a system on a data set, with its stages.

    Attributes:
        title: how the page names it. stages: its stages, in order. provenance: what made it.
    """

    title: str
    stages: list[Stage]
    provenance: dict

    @property
    def scored(self) -> list[Stage]:
        """The stages that have per-mixture scores, in order."""
        return [s for s in self.stages if s.per_mixture is not None]


def relocate(recorded: str | Path, here: Path) -> Path:
    """Where a path recorded in a file of folder `here` is now. The path (absolute, or relative to
    the folder the writer ran in: what run_info.json and the table sidecars hold) is looked for
    under `here` first, by its shortest tail that exists there (`/old/results/sys/final/estimate`
    recorded in `/copy/sys/final` is `/copy/sys/final/estimate`), so a copied or moved results
    folder uses its own files; a path found under `here` by no tail (a data set elsewhere) is
    kept as recorded.

    Args:
        recorded: the path as recorded.
        here: the folder of the file that records it.

    Returns:
        The path to use.
    """
    path = Path(recorded)
    parts = path.parts[1:] if path.is_absolute() else path.parts
    for i in range(len(parts) - 1, -1, -1):
        candidate = here.joinpath(*parts[i:])
        if candidate.exists():
            return candidate
    return path


def load_stage(folder: Path, name: str | None = None) -> Stage:
    """One stage folder: its run_info.json (recorded paths relocated), scores and notes on what is missing.

    Args:
        folder: the stage's folder (holding run_info.json).
        name: the stage's name; by default the one recorded, else the folder's name.

    Returns:
        The stage.

    Raises:
        ReportError: when the folder has no run_info.json.
    """
    info_path = folder / RUN_INFO
    if not info_path.is_file():
        raise ReportError(f"{folder}: no {RUN_INFO} (written by run_system.py and evaluate.py since this version; "
                          "run the system again to write it)")
    info = read_json(info_path)
    missing = [k for k in ("soundscape_dir", "estimate_dir") if not isinstance(info.get(k), str)]
    if missing:
        raise ReportError(f"{info_path}: no {' or '.join(missing)} recorded; it was not written by run_system.py or "
                          "evaluate.py, or was damaged: score the stage again")
    try:
        metric = ranking_metric(check_edition(info.get("edition", 2025))).lower().replace("-", "_")
    except S5Error as err:
        raise ReportError(f"{info_path}: {err}") from None
    info.update({k: str(relocate(info[k], folder)) for k in RECORDED_PATHS if info.get(k)})
    stage = Stage(name or info.get("stage") or folder.name, folder, info)
    if (folder / "per_mixture.csv").is_file():
        stage.per_mixture = read_scores(folder / "per_mixture.csv", (metric, *PER_MIXTURE_COLUMNS),
                                        keep_default_na=False,
                                        na_values={"ca_sdri": [""], "capi_sdri": [""], "snri": [""],
                                                   "acc_src": [""]})
        if (folder / "per_class.csv").is_file():
            stage.per_class = read_scores(folder / "per_class.csv", PER_CLASS_COLUMNS, rows=False)
        # the last file the scoring writes (metrics/folders.write_reports): without it the scoring did not finish
        summary = read_scores(folder / "summary.csv", ("n_mixtures",))
        # a row of ints and floats reads as floats: the count back to int
        stage.summary = {k: int(v) if k == "n_mixtures" else v for k, v in summary.iloc[0].to_dict().items()}
    elif info.get("oracle_dir"):
        stage.notes.append("this stage has references but was not scored (no per_mixture.csv)")
    else:
        stage.notes.append("an evaluation set (no oracle targets): estimates and labels only, no scores")
    if not Path(info["estimate_dir"]).is_dir():
        stage.notes.append(f"estimate folder {info['estimate_dir']} is missing: no estimates to play")
    return stage


def read_sidecar(path: Path) -> dict:
    """A table's sidecar (`read_json`), or {} when there is no such file.

    Args:
        path: the `<table>.csv.meta.json` file.

    Returns:
        The parsed sidecar, or {}.
    """
    return read_json(path) if path.is_file() else {}


def read_json(path: Path) -> dict:
    """A JSON record of a results folder (run_info.json, a table's sidecar); a damaged one is a
    ReportError naming the file and where it breaks (`common.configs.read_json`).

    Args:
        path: the file.

    Returns:
        The JSON object.

    Raises:
        ReportError: the file is not valid JSON or not a JSON object.
    """
    try:
        return read_record(path, "results record", "write it again (score the stage again, or run the table's "
                                                    "job again)")
    except ReportError:
        raise
    except S5Error as err:
        raise ReportError(str(err)) from None


def read_scores(path: Path, columns: Iterable[str], rows: bool = True, **read_csv: Any) -> pd.DataFrame:
    """A score CSV of a stage (per_mixture.csv, per_class.csv, summary.csv), checked: it exists,
    parses, has `columns` and (with `rows`) at least one row. A full disk during the scoring leaves
    such files missing, cut off, or with a header alone.

    Args:
        path: the file.
        columns: the columns it must have.
        rows: whether it must have a row.
        **read_csv: passed to pandas.read_csv.

    Returns:
        The table.

    Raises:
        ReportError: naming the file and what is wrong.
    """
    again = "the scoring did not finish (a full disk?): score the stage again (run_system.py or evaluate.py)"
    if not path.is_file():
        raise ReportError(f"{path} is missing beside {path.parent / 'per_mixture.csv'}: {again}")
    df = read_table(path, again, **read_csv)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ReportError(f"{path}: no column {', '.join(missing)} (it has {', '.join(map(str, df.columns))}): "
                          f"{again}")
    if rows and df.empty:
        raise ReportError(f"{path}: a header and no row: {again}")
    return df


def split_measured(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """A table's measured part and its published part, as the CSVs keep them apart: `kind` rows
    (leaderboard) or `published_*` columns (Table 1).

    Args:
        df: table1.csv or table2.csv as read.

    Returns:
        (measured, published): Table 2's rows of each kind, without `kind` and the columns empty in
        them; Table 1's other columns, and its first with the `published_*` ones (None without any).
    """
    if "kind" in df.columns:
        measured = df.loc[df["kind"] == "measured"].dropna(axis=1, how="all")
        published = df.loc[df["kind"] == "published"].dropna(axis=1, how="all")
        return measured.drop(columns="kind"), published.drop(columns="kind")
    pub = [c for c in df.columns if c.startswith("published_")]
    if not pub:
        return df, None
    return df.drop(columns=pub), df.loc[:, [df.columns[0], *pub]]


def read_table(path: Path, fix: str, **read_csv: Any) -> pd.DataFrame:
    """pandas.read_csv of a results folder's CSV; an empty, cut-off or binary file is a ReportError
    naming it, with `fix` (what to do) appended.

    Args:
        path: the file. fix: what to do about a bad one. **read_csv: passed to pandas.read_csv.

    Returns:
        The table.

    Raises:
        ReportError: the file is empty, does not parse as CSV, or is not text.
    """
    try:
        return pd.read_csv(path, **read_csv)
    except pd.errors.EmptyDataError:
        raise ReportError(f"{path}: an empty file: {fix}") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise ReportError(f"{path}: not a readable CSV ({str(err).strip()}): {fix}") from None


def table_with_sidecar(results: Path, name: str, needed: str, runner: str, published_by: str
                       ) -> tuple[dict, list[tuple[str, pd.DataFrame | None]]]:
    """A table CSV's sidecar and its measured and published parts; a ReportError when the sidecar
    lacks what the report needs.

    Args:
        results: the results folder. name: the table (`table1`, `table2`).
        needed: the sidecar key the report needs. runner: the job to run again, named in errors.
        published_by: whose published figures the table shows, named in the published part's title.

    Returns:
        (the sidecar, [(title, measured part), (title, published part or None)]).

    Raises:
        ReportError: the sidecar is missing, damaged or lacks `needed`, or the CSV is unreadable.
    """
    meta = read_sidecar(results / f"{name}.csv.meta.json")
    if needed not in meta:
        raise ReportError(f"{results / f'{name}.csv.meta.json'}: missing or without {needed} (run {runner} again)")
    measured, published = split_measured(read_table(results / f"{name}.csv", f"run {runner} again"))
    title = name.replace("table", "Table ")
    return meta, [(f"{title}, measured", measured), (f"{title}, published ({published_by}; not measured here)",
                                                     published)]


def discover(results: Path) -> tuple[str, list[tuple[str, pd.DataFrame | None]], list[Run]]:
    """(kind, [(title, table)], runs) of a results folder: everything an ablation and a leaderboard
    wrote there (both, when both did), else a run_system.py or evaluate.py folder; a ReportError
    when it is none of these.

    Args:
        results: the results folder.

    Returns:
        (kind: "ablation", "leaderboard", both joined by " and ", "evaluation" or "systems";
        [(title, table)], a table None where Table 1 has no published part; the runs, stages loaded).

    Raises:
        ReportError: the folder does not exist or is none of these, or a file it needs is missing or damaged.
    """
    if not results.is_dir():
        raise ReportError(f"results folder {results} does not exist")
    kinds, runs = [], []
    tables: list[tuple[str, pd.DataFrame | None]] = []
    if (results / "table1.csv").is_file():
        meta, found = table_with_sidecar(results, "table1", "run_dir", "ablation.py", "the paper")
        run_dir = relocate(meta["run_dir"], results)
        kinds.append("ablation")
        tables += found
        runs.append(Run(meta.get("system", "system"), [load_stage(run_dir / s, s) for s in meta["stages"]], meta))
    if (results / "table2.csv").is_file():
        meta, found = table_with_sidecar(results, "table2", "runs", "leaderboard.py", "the challenge")
        kinds.append("leaderboard")
        tables += found
        if (results / "table2_scene_types.csv").is_file():  # 2026: the breakdown by scene type
            tables.append(("Table 2 by scene type, measured", pd.read_csv(results / "table2_scene_types.csv")))
        for system, by_data in meta["runs"].items():
            for dname, where in by_data.items():
                prov = {**meta.get("systems", {}).get(system, {}), "system": system,
                        "data": meta.get("data", {}).get(dname, {}), "edition": meta.get("edition"),
                        "written_utc": meta.get("written_utc")}
                stage = load_stage(relocate(where["run_dir"], results) / where["stage"], where["stage"])
                runs.append(Run(f"{system} on {dname}", [stage], prov))
    if kinds:
        return " and ".join(kinds), tables, runs
    if (results / RUN_INFO).is_file():  # evaluate.py
        stage = load_stage(results, "estimates")
        runs = [Run("estimates", [stage], {**stage.info, "written_utc": mtime(results / RUN_INFO)})]
        return "evaluation", [], runs
    systems = sorted({p.parent.parent for p in results.glob(f"*/*/{RUN_INFO}")})
    if systems:  # run_system.py: OUT/<system>/<stage>/
        if (results / "summary.csv").is_file():
            tables = [("Summary, measured", read_table(results / "summary.csv", "run run_system.py again"))]
        for folder in systems:
            stages = [load_stage(p.parent) for p in sorted(folder.glob(f"*/{RUN_INFO}"))]
            order = {name: i for i, name in enumerate(stages[0].info.get("stages", []))}
            stages.sort(key=lambda s: order.get(s.name, len(order)))
            runs.append(Run(folder.name, stages, {**stages[0].info, "written_utc": mtime(stages[0].folder / RUN_INFO)}))
        return "systems", tables, runs
    raise ReportError(f"{results} is not a results folder of ablation.py, leaderboard.py, run_system.py or "
                      f"evaluate.py: it has no table1.csv, table2.csv, {RUN_INFO} or <system>/<stage>/{RUN_INFO}")


def read_differences(results: Path) -> list[tuple[str, pd.DataFrame]]:
    """The differences tables of a results folder (table1_differences.csv, table2_differences.csv),
    those that exist, as (name, table).

    Args:
        results: the results folder.

    Returns:
        [(name, table)], e.g. [("table1", df)]; empty when there is none.

    Raises:
        ReportError: when a file lacks a column of the contract, naming the file and the columns.
    """
    found = []
    for name in DIFFERENCE_TABLES:
        path = results / f"{name}_differences.csv"
        if not path.is_file():
            continue
        df = read_table(path, "run the table's job again", keep_default_na=False,
                        na_values={c: [""] for c in DIFFERENCE_COLUMNS[4:]})
        missing = [c for c in DIFFERENCE_COLUMNS if c not in df.columns]
        if missing:
            raise ReportError(f"{path}: no column {', '.join(missing)} (it has {', '.join(map(str, df.columns))})")
        df["excludes_zero"] = df["excludes_zero"].map(lambda v: str(v).strip().lower() in ("true", "1", "yes"))
        # the page marks what the printed table stars: interval and permutation test agree, enough mixtures
        df["significant"] = [significant(bool(e), float(p), int(n))
                             for e, p, n in zip(df["excludes_zero"], df["p_value"], df["n_mixtures"])]
        df[["data", "a", "b", "metric"]] = df[["data", "a", "b", "metric"]].astype(str)
        found.append((name, df))
    return found


def mtime(path: Path) -> str:
    """A file's modification time, UTC, as `2025-06-01T12:00:00Z`.

    Args:
        path: the file.

    Returns:
        The time to the second.
    """
    return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
