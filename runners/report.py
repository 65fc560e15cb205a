"""Build a listening and inspection report of a results folder: one static web page.

    python runners/report.py RESULTS_DIR [--mixtures mix_0003,mix_0042] [--random 3] [--seed 0]

RESULTS_DIR is a folder written by ablation.py or leaderboard.py (both build the report at the
end unless --no-report), run_system.py or evaluate.py. Writes RESULTS_DIR/report/: index.html
(opens from the file system, no server, nothing fetched from the network), breakdown.csv,
stage_changes.csv, audio/*.ogg and img/*.png. The page holds the provenance and summary tables
(measured and published apart), breakdowns by number of targets, scene type (2026), class and
silence, each stage's change per mixture, a sortable mixture table with every slot's label
coloured, and for the selected mixtures (best, median and worst by the ranking metric, a few at
random with a fixed seed, and any named with --mixtures) a player and a spectrogram of the
mixture's channel 0, every reference and every stage's estimate.

Audio is Ogg Vorbis (q 0.5, about 100 kB per 10-s clip where 16-bit WAV takes 640 kB; every
browser plays it, and listening does not need the exact samples: the figures are computed from
the WAV files). All clips of one mixture share one gain (its loudest clip peaks at 0.9), so
their levels compare by ear; all its spectrograms share one colour scale.
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from s5bench.common.arguments import at_least
from s5bench.common.audio import audio_info, read_audio
from s5bench.common.editions import ranking_metric
from s5bench.common.labels import N_SLOTS, SILENCE
from s5bench.common.layout import group_by_mixture, list_mixtures
from s5bench.metrics.breakdown import breakdown, labels_of, metric_column, slot_outcomes, stage_changes
from s5bench.metrics.folders import RUN_INFO
from s5bench.metrics.signal import snr

REPORT_DIR = "report"
TEMPLATES = Path(__file__).resolve().parent / "templates"
SPEC_RANGE_DB = 80.0  # the colour scale spans the mixture's loudest bin down to this many dB below


class ReportError(ValueError):
    """A results folder the report cannot be built from (the message says why)."""


@dataclass
class Stage:
    name: str
    folder: Path
    info: dict
    per_mixture: pd.DataFrame | None = None
    per_class: pd.DataFrame | None = None
    summary: dict | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def edition(self) -> int:
        return int(self.info.get("edition", 2025))

    @property
    def scores(self) -> pd.DataFrame:
        """per_mixture of a scored stage (Run.scored lists only those)."""
        if self.per_mixture is None:
            raise ReportError(f"{self.folder}: not scored (no per_mixture.csv)")
        return self.per_mixture


@dataclass
class Run:
    title: str
    stages: list[Stage]
    provenance: dict

    @property
    def scored(self) -> list[Stage]:
        return [s for s in self.stages if s.per_mixture is not None]


# ---------------------------------------------------------------- finding what a folder holds

def load_stage(folder: Path, name: str | None = None) -> Stage:
    info_path = folder / RUN_INFO
    if not info_path.is_file():
        raise ReportError(f"{folder}: no {RUN_INFO} (written by run_system.py and evaluate.py since this version; "
                          "run the system again to write it)")
    info = json.loads(info_path.read_text())
    stage = Stage(name or info.get("stage") or folder.name, folder, info)
    if (folder / "per_mixture.csv").is_file():
        stage.per_mixture = pd.read_csv(folder / "per_mixture.csv", keep_default_na=False,
                                        na_values={"ca_sdri": [""], "capi_sdri": [""], "snri": [""],
                                                   "acc_src": [""]})
        stage.per_class = pd.read_csv(folder / "per_class.csv") if (folder / "per_class.csv").is_file() else None
        summary = pd.read_csv(folder / "summary.csv") if (folder / "summary.csv").is_file() else None
        if summary is not None and len(summary):  # a row of ints and floats reads as floats: the count back to int
            stage.summary = {k: int(v) if k == "n_mixtures" else v for k, v in summary.iloc[0].to_dict().items()}
    elif info.get("oracle_dir"):
        stage.notes.append("this stage has references but was not scored (no per_mixture.csv)")
    else:
        stage.notes.append("an evaluation set (no oracle targets): estimates and labels only, no scores")
    if not Path(info["estimate_dir"]).is_dir():
        stage.notes.append(f"estimate folder {info['estimate_dir']} is missing: no estimates to play")
    return stage


def read_sidecar(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def split_measured(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """A table's measured part and its published part, as the CSVs keep them apart: `kind` rows
    (leaderboard) or `published_*` columns (Table 1)."""
    if "kind" in df.columns:
        measured = df.loc[df["kind"] == "measured"].dropna(axis=1, how="all")
        published = df.loc[df["kind"] == "published"].dropna(axis=1, how="all")
        return measured.drop(columns="kind"), published.drop(columns="kind")
    pub = [c for c in df.columns if c.startswith("published_")]
    if not pub:
        return df, None
    return df.drop(columns=pub), df.loc[:, [df.columns[0], *pub]]


def table_with_sidecar(results: Path, name: str, needed: str, runner: str, published_by: str):
    """A table CSV's sidecar and its measured and published parts; a ReportError when the sidecar
    lacks what the report needs."""
    meta = read_sidecar(results / f"{name}.csv.meta.json")
    if needed not in meta:
        raise ReportError(f"{results / f'{name}.csv.meta.json'}: missing or without {needed} (run {runner} again)")
    measured, published = split_measured(pd.read_csv(results / f"{name}.csv"))
    title = name.replace("table", "Table ")
    return meta, [(f"{title}, measured", measured), (f"{title}, published ({published_by}; not measured here)",
                                                     published)]


def discover(results: Path) -> tuple[str, list[tuple[str, pd.DataFrame]], list[Run]]:
    """(kind, [(title, table)], runs) of a results folder: everything an ablation and a leaderboard
    wrote there (both, when both did), else a run_system.py or evaluate.py folder; a ReportError
    when it is none of these."""
    if not results.is_dir():
        raise ReportError(f"results folder {results} does not exist")
    kinds, tables, runs = [], [], []
    if (results / "table1.csv").is_file():
        meta, found = table_with_sidecar(results, "table1", "run_dir", "ablation.py", "the paper")
        run_dir = Path(meta["run_dir"])
        kinds.append("ablation")
        tables += found
        runs.append(Run(meta.get("system", "system"), [load_stage(run_dir / s, s) for s in meta["stages"]], meta))
    if (results / "table2.csv").is_file():
        meta, found = table_with_sidecar(results, "table2", "runs", "leaderboard.py", "the challenge")
        kinds.append("leaderboard")
        tables += found
        for system, by_data in meta["runs"].items():
            for dname, where in by_data.items():
                prov = {**meta.get("systems", {}).get(system, {}), "system": system,
                        "data": meta.get("data", {}).get(dname, {}), "edition": meta.get("edition"),
                        "written_utc": meta.get("written_utc")}
                stage = load_stage(Path(where["run_dir"]) / where["stage"], where["stage"])
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
            tables = [("Summary, measured", pd.read_csv(results / "summary.csv"))]
        for folder in systems:
            stages = [load_stage(p.parent) for p in sorted(folder.glob(f"*/{RUN_INFO}"))]
            order = {name: i for i, name in enumerate(stages[0].info.get("stages", []))}
            stages.sort(key=lambda s: order.get(s.name, len(order)))
            runs.append(Run(folder.name, stages, {**stages[0].info, "written_utc": mtime(stages[0].folder / RUN_INFO)}))
        return "systems", tables, runs
    raise ReportError(f"{results} is not a results folder of ablation.py, leaderboard.py, run_system.py or "
                      f"evaluate.py: it has no table1.csv, table2.csv, {RUN_INFO} or <system>/<stage>/{RUN_INFO}")


def mtime(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- choosing and rendering mixtures

def select_mixtures(run: Run, asked: list[str], n_random: int, seed: int) -> list[tuple[str, str]]:
    """[(mixture, why)]: best, median and worst of the final scored stage by its ranking metric,
    `n_random` others drawn with `seed`, then every asked one (an unknown name is an error)."""
    names = sorted(list_mixtures(run.stages[0].info["soundscape_dir"]))
    unknown = [m for m in asked if m not in names]
    if unknown:
        raise ReportError(f"--mixtures: {', '.join(unknown)} not in {run.stages[0].info['soundscape_dir']} "
                          f"(it has {len(names)} mixtures: {', '.join(names[:5])}{' …' if len(names) > 5 else ''})")
    chosen: dict[str, str] = {}
    if run.scored:
        pm = run.scored[-1].scores
        col = metric_column(pm)
        ranked = pm.dropna(subset=[col]).sort_values([col, "soundscape"], kind="stable")
        if len(ranked):
            what = f"by {col} of {run.scored[-1].name}"
            chosen[ranked.iloc[-1]["soundscape"]] = f"best {what}"
            chosen.setdefault(ranked.iloc[len(ranked) // 2]["soundscape"], f"median {what}")
            chosen.setdefault(ranked.iloc[0]["soundscape"], f"worst {what}")
    rest = [m for m in names if m not in chosen]
    rng = np.random.default_rng(seed)
    for m in sorted(rng.choice(rest, size=min(n_random, len(rest)), replace=False)) if rest else []:
        chosen[str(m)] = f"at random (seed {seed})"
    for m in asked:
        chosen[m] = f"{chosen[m]}; asked for (--mixtures)" if m in chosen else "asked for (--mixtures)"
    return list(chosen.items())


def spectrogram_db(x: np.ndarray, n_fft: int = 1024, hop: int = 256) -> np.ndarray:
    from scipy.signal import stft

    # boundary=None (no padding) is documented; scipy's stubs allow only strings
    _, _, z = stft(x, nperseg=n_fft, noverlap=n_fft - hop, boundary=None,  # pyright: ignore[reportArgumentType]
                   padded=False)
    return 20 * np.log10(np.abs(z) + 1e-10)


def plot_spectrogram(db: np.ndarray, vmax: float, sr: int, seconds: float, path: Path) -> None:
    from s5bench.runners.table_files import _plt

    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.2, 1.3), dpi=72)
    ax.imshow(db, origin="lower", aspect="auto", cmap="magma", vmin=vmax - SPEC_RANGE_DB, vmax=vmax,
              extent=(0, seconds, 0, sr / 2000), interpolation="nearest")
    ax.set_ylabel("kHz", fontsize=7)
    ax.tick_params(labelsize=6)
    fig.tight_layout(pad=0.2)
    fig.savefig(path)
    plt.close(fig)


def mixture_clips(run: Run, name: str, est_files: dict, ref_files: dict) -> tuple[list[dict], list[str]]:
    """The clips of one mixture: its channel 0, each reference, each stage's estimate of each slot,
    with their SNR figures; and notes on what is missing."""
    info = run.stages[0].info
    mixture = read_audio(Path(info["soundscape_dir"]) / f"{name}.wav", always_2d=True)
    x0 = mixture[:, 0]
    refs = [(lab, read_audio(p, length=len(x0))) for lab, p in ref_files.get(name, [])]
    clips = [{"kind": "mixture", "title": "mixture, channel 0 (W)", "wave": x0, "figure": ""}]
    for lab, r in refs:
        clips.append({"kind": "reference", "title": f"reference: {lab}", "label": lab, "wave": r,
                      "figure": f"SNR of the mixture {float(snr(x0, r)):.2f} dB"})
    notes = []
    for stage in run.stages:
        files = est_files.get(stage.name)
        if files is None:
            notes.append(f"{stage.name}: no estimate folder")
            continue
        have = files.get(name, [])
        if not have and stage.per_mixture is not None:
            notes.append(f"{stage.name}: every slot answered as silence (no estimate file)")
        for lab, path in have:
            e = read_audio(path, length=len(x0))
            same = [r for rl, r in refs if rl == lab]
            if same:
                best = max(same, key=lambda r: float(snr(e, r)))
                s_e, s_x = float(snr(e, best)), float(snr(x0, best))
                figure = f"SNR {s_e:.2f} dB, SDRi {s_e - s_x:+.2f} dB"
            else:
                figure = "false alarm (no reference of this class)" if refs else "no references (evaluation set)"
            clips.append({"kind": "estimate", "title": f"{stage.name}: {lab}", "stage": stage.name, "label": lab,
                          "wave": e, "figure": figure})
    return clips, notes


def write_clip_assets(clips: list[dict], name: str, sr: int, out: Path) -> None:
    """Ogg files and spectrogram PNGs of one mixture's clips (one gain, one colour scale)."""
    import soundfile as sf

    peak = max(float(np.abs(c["wave"]).max()) for c in clips)
    gain = 0.9 / peak if peak > 0 else 1.0
    specs = [spectrogram_db(c["wave"] * gain) for c in clips]
    vmax = max(float(s.max()) for s in specs)
    for i, (clip, db) in enumerate(zip(clips, specs)):
        stem = f"{name}__{i:02d}"
        sf.write(out / "audio" / f"{stem}.ogg", (clip["wave"] * gain).astype(np.float32), sr, format="OGG",
                 subtype="VORBIS")
        plot_spectrogram(db, vmax, sr, len(clip["wave"]) / sr, out / "img" / f"{stem}.png")
        clip.update(audio=f"audio/{stem}.ogg", image=f"img/{stem}.png", seconds=len(clip["wave"]) / sr)
        del clip["wave"]


# ---------------------------------------------------------------- page rows

def mixture_rows(run: Run) -> list[dict]:
    """One row per mixture: references with their outcome at the final stage, and per stage its
    ranking-metric value, change over the stage before and slot labels with their outcomes."""
    scored = run.scored
    if not scored:
        return []
    tables = [s.scores.set_index("soundscape") for s in scored]
    col = metric_column(scored[0].scores)
    rows = []
    for name in tables[0].index:
        ref = labels_of(tables[0].loc[name, "ref_labels"])
        final_est = labels_of(tables[-1].loc[name, "est_labels"]) if name in tables[-1].index else []
        row = {"mixture": name, "n_ref": len(ref), "refs": slot_outcomes(ref, final_est)[1], "stages": []}
        previous = None
        for stage, t in zip(scored, tables):
            if name not in t.index:
                row["stages"].append(None)
                continue
            value = float(t.loc[name, col])
            est = labels_of(t.loc[name, "est_labels"])
            row["stages"].append({"value": value, "snri": float(t.loc[name, "snri"]),
                                  "delta": value - previous if previous is not None else None,
                                  "slots": slot_outcomes(ref, est)[0] + [(SILENCE, "silence")] * (N_SLOTS - len(est))})
            previous = value
        rows.append(row)
    return rows


def finite(v) -> bool:
    return v is not None and v is not pd.NA and not (isinstance(v, float) and math.isnan(v))


def fmt(v, digits: int = 2) -> str:
    if not finite(v):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return f"{v:.{digits}f}"
    return str(v)


def table_view(df: pd.DataFrame) -> dict:
    return {"columns": list(df.columns), "rows": [list(r) for r in df.itertuples(index=False)]}


# ---------------------------------------------------------------- the whole report

def build_report(results, mixtures=(), n_random: int = 3, seed: int = 0, progress: bool = True) -> Path:
    """Write RESULTS/report/ (built in a temporary folder, then moved into place) and return its index.html."""
    import jinja2
    from tqdm import tqdm

    results = Path(results)
    kind, tables, runs = discover(results)
    out = results / f".{REPORT_DIR}.tmp"
    shutil.rmtree(out, ignore_errors=True)
    (out / "audio").mkdir(parents=True)
    (out / "img").mkdir()
    try:
        breakdowns, changes, views = [], [], []
        for run in runs:
            per_stage = [(s.name, breakdown(s.scores, s.per_class, s.edition)) for s in run.scored]
            for name, b in per_stage:
                breakdowns.append(b.assign(run=run.title, stage=name)[["run", "stage", *b.columns]])
            ch = stage_changes({s.name: s.scores for s in run.scored})
            ch.insert(0, "run", run.title)
            changes.append(ch)
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
                write_clip_assets(clips, f"{len(views)}_{name}", sr_of(info, name), out)
                listened.append({"name": name, "why": why, "clips": clips, "notes": notes})
            views.append({"run": run, "mixtures": mixture_rows(run), "listened": listened, "breakdowns": per_stage,
                          "provenance": provenance_rows(run.provenance),
                          "metric": ranking_metric(run.stages[0].edition),
                          "changes": summarise_changes(ch)})
        breakdown_df = pd.concat(breakdowns, ignore_index=True) if breakdowns else pd.DataFrame()
        changes_df = pd.concat(changes, ignore_index=True) if changes else pd.DataFrame()
        breakdown_df.to_csv(out / "breakdown.csv", index=False)
        changes_df.to_csv(out / "stage_changes.csv", index=False)
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                                 undefined=jinja2.StrictUndefined)
        env.filters["fmt"] = fmt
        env.tests["finite"] = finite
        html = env.get_template("report.html.j2").render(
            kind=kind, results=str(results), tables=[(t, table_view(df)) for t, df in tables if df is not None],
            views=views, generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
        (out / "index.html").write_text(html)
        final = results / REPORT_DIR
        old = results / f".{REPORT_DIR}.old"
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            final.rename(old)
        out.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    return final / "index.html"


PROVENANCE_KEYS = ("system", "edition", "data", "data_fingerprint", "checkpoints", "code_fingerprint", "stages",
                   "written_utc")


def provenance_rows(prov: dict) -> list[tuple[str, str]]:
    """What made the run, as (key, text): system, edition, data and its fingerprint, checkpoints
    with their sha256, code fingerprint, stages, date."""
    rows = []
    for key in PROVENANCE_KEYS:
        value = prov.get(key)
        if value in (None, {}, []):
            continue
        if key == "checkpoints":
            value = "; ".join(f"{k}: {v.get('path')} (sha256 {str(v.get('sha256'))[:16]}…)" for k, v in value.items())
        elif isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items())
        elif isinstance(value, list):
            value = ", ".join(map(str, value))
        rows.append((key.replace("_", " "), str(value)))
    return rows


def sr_of(info: dict, name: str) -> int:
    return audio_info(Path(info["soundscape_dir"]) / f"{name}.wav").samplerate


def summarise_changes(ch: pd.DataFrame) -> list[dict]:
    """Per stage after the first: how many mixtures it helped, hurt or left unchanged, and the
    three it helped and hurt most."""
    out = []
    for stage, rows in ch.groupby("stage", sort=False):
        counts = rows["verdict"].value_counts().to_dict()
        ranked = rows.dropna(subset=["delta"]).sort_values("delta")
        out.append({"stage": stage, "previous": rows["previous"].iloc[0],
                    "helped": int(counts.get("helped", 0)), "hurt": int(counts.get("hurt", 0)),
                    "unchanged": int(counts.get("unchanged", 0)), "mean": float(rows["delta"].mean()),
                    "most_helped": ranked.tail(3)[::-1].to_dict("records"),
                    "most_hurt": ranked.head(3).to_dict("records")})
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", help="a results folder of ablation.py, leaderboard.py, run_system.py or evaluate.py")
    ap.add_argument("--mixtures", default="", help="comma-separated mixture names to add to the selection")
    ap.add_argument("--random", type=at_least(0), default=3, help="mixtures drawn at random besides best/median/worst")
    ap.add_argument("--seed", type=int, default=0, help="seed of the random selection")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    try:
        index = build_report(args.results, [m for m in args.mixtures.split(",") if m], args.random, args.seed,
                             progress=not args.no_progress)
    except (ReportError, FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    size = sum(f.stat().st_size for f in index.parent.rglob("*") if f.is_file())
    print(f"report: {index} ({size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
