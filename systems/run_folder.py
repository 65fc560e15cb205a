"""A run folder: what made its estimates, who writes it, and which mixtures it holds already.

Identity: `<out>/run_identity.json` records what made the estimates (the system config's content,
every file and folder it names, by content; the data fingerprint, the edition, the code:
`run_identity`), and a run resumed into the folder must have the same; otherwise it is refused,
naming what differs, and no other run's estimates are ever scored. The tables' cached run folders
are named after that identity (`run_dir_for`). Claim: the folder is locked while a run writes it
(common/locks.py). Resume: a mixture is done for a stage when `<stage>/.done/<mix>` exists, written
after all its files and recording each with its size and sha256 (`mark_done`); a mixture whose
files no longer match (one changed, deleted or added) is not done. Estimates of a mixture not done
are an interrupted attempt's (or were changed) and are removed before it runs again."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Container, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, cast

from s5bench.common.audio import write_text_atomic
from s5bench.common.errors import S5Error
from s5bench.common.layout import list_wavs, parse_stem
from s5bench.common.locks import folder_lock
from s5bench.common.manifest import file_entry
from s5bench.common.provenance import code_fingerprint, data_fingerprint, file_sha256, folder_sha256

from .models.checkpoints import resolve

if TYPE_CHECKING:
    from .base import System
    from .registry import SystemConfig

ESTIMATE_DIR = "estimate"  # <stage>/estimate/: the estimates
DONE_DIR = ".done"  # <stage>/.done/<mix>: written after all of a mixture's files
IDENTITY = "run_identity.json"
CHECKPOINT_SUFFIXES = (".pt", ".ckpt", ".pth")
WHAT = {"cfg": "system config (its content)", "ckpt": "files its config names (their content)",
        "data": "data set (its fingerprint)", "edition": "edition", "code": "code"}


# ---------------------------------------------------------------- identity

def referenced_files(system_cfg: SystemConfig) -> dict:
    """sha256 of every file and folder a system config's arguments name, at any depth and whatever
    the suffix (`weights: w.safetensors`, `files: {gain: g.pt}`, a list of paths), so that a run
    with other weights is another run.

    A string is taken as a path when it names an existing file or folder (as given, else the one
    shipped with the package: `checkpoints/...`); one ending in a checkpoint suffix is recorded even
    when missing. A folder that holds the working folder (".", "..") is not hashed: it names no
    weights, and hashing it would read everything under it.

    Args:
        system_cfg: a system config (its `args`).

    Returns:
        {argument: {"path", "sha256"}}: the argument's key (nested ones dotted, `files.gain`, list
        items by index, `paths.0`), the path as written and the content's sha256 (None for a
        missing checkpoint).
    """
    out: dict[str, dict] = {}

    def walk(value, key: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{key}.{k}" if key else str(k))
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                walk(v, f"{key}.{i}")
        elif isinstance(value, str) and value.strip():
            path = resolve(value)
            if path.is_file():
                out[key] = {"path": value, "sha256": file_sha256(path)}
            elif path.is_dir() and not Path.cwd().resolve().is_relative_to(path.resolve()):
                out[key] = {"path": value, "sha256": folder_sha256(path)}
            elif value.endswith(CHECKPOINT_SUFFIXES):
                out[key] = {"path": value, "sha256": None}

    walk(system_cfg.get("args") or {}, "")
    return out


def run_identity(system_cfg: SystemConfig, fingerprint: str, edition: int = 2025) -> dict:
    """What makes a run: the system config's content, the sha256 of every file it names, the data set's
    fingerprint, the edition and the code. Two runs with equal identities give the same estimates.

    Args:
        system_cfg: the system config as loaded (class, args, name), with any overrides applied.
        fingerprint: `data_fingerprint` of the data folder.
        edition: the DCASE edition the run is scored as.

    Returns:
        {"cfg", "ckpt", "data", "code", "edition"} (JSON-serialisable).
    """
    return {"cfg": system_cfg, "ckpt": referenced_files(system_cfg), "data": fingerprint,
            "code": system_code_fingerprint(system_cfg), "edition": edition}


def identity_hash(identity: dict) -> str:
    """The 10 hex digits that name a cached run folder (`run_dir_for`).

    Args:
        identity: a `run_identity`.

    Returns:
        The first 10 hex digits of the sha256 of its sorted JSON.
    """
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:10]


def run_dir_for(system_name: str, system_cfg: SystemConfig, fingerprint: str, results: Path,
                edition: int = 2025) -> Path:
    """The tables' cached run folder: RESULTS/runs/<system>_<identity hash>, so that a change of the
    system config, its checkpoints, the data set, the edition or the code starts afresh.

    Args:
        system_name: the system config's name or path (its stem names the folder).
        system_cfg: the config as loaded, with any overrides applied.
        fingerprint: the data folder's fingerprint.
        results: the results folder.
        edition: the DCASE edition.

    Returns:
        The run folder's path (not made).
    """
    identity = run_identity(system_cfg, fingerprint, edition)
    return results / "runs" / f"{Path(system_name).stem}_{identity_hash(identity)}"


def system_code_fingerprint(system_cfg: SystemConfig) -> str:
    """The fingerprint of the project's code plus a plug-in system's own package (`class: pkg.module:Class`).

    Args:
        system_cfg: a system config.

    Returns:
        common/provenance.py's code fingerprint.
    """
    return code_fingerprint([system_cfg["class"]] if "class" in system_cfg else [])


class RunFolderError(S5Error):
    """A run folder that holds another run's estimates."""


def system_config_of(system: System) -> SystemConfig:
    """The config a system was built from (set by the registry), or its class for one built in code.

    Args:
        system: the system.

    Returns:
        Its `config`, or {"class": "module:Class", "name": its config_name or class name}.
    """
    cfg = getattr(system, "config", None)
    if isinstance(cfg, dict):
        return cast("SystemConfig", cfg)  # the registry's (build_system_from_config)
    cls = type(system)
    return {"class": f"{cls.__module__}:{cls.__qualname__}", "name": system.config_name or cls.__name__}


def check_identity(out: Path, identity: dict, has_marks: bool) -> None:
    """Refuse `out` when it was made by another run; record the identity when it is new.

    Args:
        out: the run folder.
        identity: `run_identity(...)` of the run about to write it.
        has_marks: whether `out` already holds finished mixtures (`.done` marks).

    Raises:
        RunFolderError: the recorded identity differs (the message names what), or the folder holds
            estimates with no record of what made them.
    """
    path = out / IDENTITY
    want = json.loads(json.dumps(identity, sort_keys=True, default=str))
    if path.is_file():
        try:
            old = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise RunFolderError(f"{path}: not readable JSON ({err}); delete the run folder {out} to start afresh")
        if not isinstance(old, dict):
            raise RunFolderError(f"{path}: not a JSON object; delete the run folder {out} to start afresh")
        keys: set[str] = set(want) | set(old)  # both are JSON objects: string keys
        differs = [WHAT.get(k, k) for k in sorted(keys) if old.get(k) != want.get(k)]
        if differs:
            raise RunFolderError(f"run folder {out} holds a run made with another {', '.join(differs)} "
                                 f"(recorded in {path}); its estimates are not this run's: write to another "
                                 "--out, or delete that folder to start afresh")
        return
    if has_marks and not out.name.endswith("_" + identity_hash(want)):  # a cached folder keyed by it is its own
        raise RunFolderError(f"run folder {out} holds estimates but no {IDENTITY} saying what made them (an "
                             "earlier version of s5bench, or another tool): they cannot be trusted to be this "
                             "run's; write to another --out, or delete that folder to start afresh")
    write_text_atomic(path, json.dumps(want, indent=1, sort_keys=True) + "\n")


# ---------------------------------------------------------------- claim

@contextmanager
def claimed_run_folder(out: str | Path, system: System, data_dir: str | Path, edition: int, stages: Sequence[str],
                       fingerprint: str | None = None) -> Iterator[dict]:
    """Lock `out`, clean stale temporary files, check (or record) the run's identity.

    Args:
        out: the run folder (OUT/<system> of run_system.py, a cached run folder of the tables).
        system: the System about to run.
        data_dir: the data folder.
        edition: the DCASE edition.
        stages: the stages to be written.
        fingerprint: the data folder's fingerprint if the caller has it (else computed here).

    Yields:
        The run identity (a dict).
    """
    out = Path(out)
    identity = run_identity(system_config_of(system), fingerprint or data_fingerprint(data_dir), edition)
    clean = [f"{s}/{sub}" for s in stages for sub in (ESTIMATE_DIR, DONE_DIR)] + list(stages)
    with folder_lock(out, identity, "run folder", clean=clean):
        has_marks = any(any((out / s / DONE_DIR).glob("*")) for s in _stage_dirs(out))
        check_identity(out, identity, has_marks)
        yield identity


def _stage_dirs(out: Path) -> list[str]:
    return [p.name for p in out.iterdir() if p.is_dir()] if out.is_dir() else []


# ---------------------------------------------------------------- resume

def mark_done(out: Path, stage: str, name: str, files: Iterable[str | Path], labels: list[str],
              probabilities: list[float]) -> None:
    """Mark mixture `name` done for `stage`, after all its estimate files are written. The mark
    records each file's name, size and sha256, so that one changed, deleted or added later is
    noticed before it is scored (`done_mixtures`), and the stage's answer (its slots' labels and
    probabilities, in slot order), which the 2026 submission package reads (`recorded_answer`).

    Args:
        out: the run folder.
        stage: the stage.
        name: the mixture.
        files: the paths of its estimate files (none: every slot answered as silence).
        labels: its N_SLOTS labels.
        probabilities: its N_SLOTS probabilities.
    """
    record = {"files": {Path(f).name: file_entry(Path(f)) for f in files},
              "labels": list(labels), "probabilities": [float(p) for p in probabilities]}
    write_text_atomic(out / stage / DONE_DIR / name, json.dumps(record, sort_keys=True) + "\n")


def done_mixtures(out: Path, stages: Iterable[str], names: Iterable[str], mixtures: Container[str]
                  ) -> tuple[set[str], list[str]]:
    """The mixtures of `names` done for every one of `stages`: each has its `.done` mark, and the
    estimate files it has now are those its mark records, of the same size and sha256.

    Args:
        out: the run folder.
        stages: the stages asked for.
        names: the data set's mixture names.
        mixtures: every mixture name of the data set (to tell whose an estimate file is).

    Returns:
        (the names done in all of them: a mixture lacking any stage's mark, or whose files changed,
        runs again; one line per mixture whose files changed after it was done, saying how).

    Raises:
        S5Error: an estimate file that names no mixture of the data set (not this run's).
    """
    done, changed = set(names), []
    for stage in stages:
        marks = out / stage / DONE_DIR
        marked = {p.name for p in marks.glob("*")} & done if marks.is_dir() else set()
        found = estimates_by_mixture(out / stage / ESTIMATE_DIR, mixtures) if marked else {}
        for name in sorted(marked):
            why = _changed(marks / name, found.get(name, {}))
            if why:
                changed.append(f"{stage}: mixture {name}: {why}")
                marked.discard(name)
        done &= marked
    return done, changed


def estimates_by_mixture(folder: Path, mixtures: Container[str]) -> dict[str, dict[str, Path]]:
    """A stage's estimate files by mixture: {mixture: {file name: path}}.

    Args:
        folder: a stage's estimate folder (none there: no files).
        mixtures: every mixture name of the data set (to parse file names).

    Returns:
        {mixture: {file name: path}} of the mixtures that have files.

    Raises:
        S5Error: a file that names no mixture of the data set.
    """
    out: dict[str, dict[str, Path]] = {}
    for f in list_wavs(folder) if folder.is_dir() else []:
        try:
            mix = parse_stem(f.stem, mixtures)[0]
        except ValueError as err:
            raise S5Error(f"estimate file {f}: {err}; it is not this run's: remove it") from None
        out.setdefault(mix, {})[f.name] = f
    return out


def _changed(mark: Path, files: dict[str, Path]) -> str:
    """How a done mixture's estimate files differ from what its mark records ("" when they do not)."""
    try:
        recorded = json.loads(mark.read_text())["files"]
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError):
        recorded = None
    if not isinstance(recorded, dict):
        return f"its mark {mark} records no files (damaged, or written by an earlier version): it is run again"
    deleted, added = sorted(set(recorded) - set(files)), sorted(set(files) - set(recorded))
    if deleted:
        return f"estimate {', '.join(deleted)} deleted after the mixture was done: it is run again"
    if added:
        return f"estimate {', '.join(added)} added after the mixture was done: it is run again"
    for file_name, path in sorted(files.items()):
        if file_entry(path) != recorded[file_name]:
            return f"estimate {file_name} changed after the mixture was done: it is run again"
    return ""


def forget(out: Path, stages: Iterable[str], names: set[str], mixtures: Container[str]) -> None:
    """Before mixtures `names` run (again): their done marks and estimate files, an interrupted or
    changed attempt's, are removed (marks first, so that nothing is left marked without its files).

    Args:
        out: the run folder.
        stages: the stages about to be written.
        names: the mixtures about to run.
        mixtures: every mixture name of the data set.
    """
    for stage in stages:
        for name in names:
            (out / stage / DONE_DIR / name).unlink(missing_ok=True)
        remove_estimates(out / stage / ESTIMATE_DIR, names, mixtures)


def remove_estimates(folder: Path, names: set[str], mixtures: Container[str]) -> None:
    """Delete the estimate files of mixtures `names` (exact names, any edition's form).

    Args:
        folder: a stage's estimate folder.
        names: the mixtures whose estimates go.
        mixtures: every mixture name of the data set (to parse file names).

    Raises:
        S5Error: a file that names no mixture of the data set (not this run's).
    """
    if names:
        for mix, files in estimates_by_mixture(folder, mixtures).items():
            if mix in names:
                for f in files.values():
                    f.unlink()


def recorded_answer(out: Path, stage: str, name: str) -> tuple[list[str], list[float]]:
    """A mixture's answer as its `.done` mark records it (`mark_done`).

    Args:
        out: the run folder.
        stage: the stage.
        name: the mixture.

    Returns:
        (labels, probabilities), each in slot order.

    Raises:
        S5Error: the mixture is not done, or its mark records no answer (a run of an earlier s5bench).
    """
    path = out / stage / DONE_DIR / name
    if not path.is_file():
        raise S5Error(f"run folder {out}: mixture {name} is not done for stage {stage} (no {path})")
    try:
        body = json.loads(path.read_text() or "null")
        return list(body["labels"]), [float(p) for p in body["probabilities"]]
    except (json.JSONDecodeError, TypeError, KeyError, ValueError):
        raise S5Error(f"{path} records no answer (made by an earlier s5bench, before answers were recorded): "
                      "run the system into a fresh --out") from None
