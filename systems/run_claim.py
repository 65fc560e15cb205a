"""A run folder belongs to one run: `<out>/run_identity.json` records what made its estimates
(system config content, checkpoints, data fingerprint, edition, code; systems/run_folders.py's
`run_identity`), and a run resumed into it must have the same; otherwise it is refused, naming
what differs, and no other run's estimates are ever scored. The folder is locked while a run
writes it (common/locks.py)."""
from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

from s5bench.common.audio import write_text_atomic
from s5bench.common.errors import S5Error
from s5bench.common.locks import folder_lock
from s5bench.common.provenance import data_fingerprint

from .run_folders import identity_hash, run_identity

IDENTITY = "run_identity.json"
WHAT = {"cfg": "system config (its content)", "ckpt": "checkpoints", "data": "data set (its fingerprint)",
        "edition": "edition", "code": "code"}


class RunFolderError(S5Error):
    """A run folder that holds another run's estimates."""


def system_config_of(system) -> dict:
    """The config a system was built from (set by the registry), or its class for one built in code."""
    cfg = getattr(system, "config", None)
    if isinstance(cfg, dict):
        return cfg
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
        except json.JSONDecodeError as err:
            raise RunFolderError(f"{path}: not readable JSON ({err}); delete the run folder {out} to start afresh")
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


@contextmanager
def claimed_run_folder(out, system, data_dir, edition: int, stages, done_dir: str, estimate_dir: str,
                       fingerprint: str | None = None):
    """Lock `out`, clean stale temporary files, check (or record) the run's identity.

    Args:
        out: the run folder (OUT/<system> of run_system.py, a cached run folder of the tables).
        system: the System about to run.
        data_dir: the data folder.
        edition: the DCASE edition.
        stages: the stages to be written.
        done_dir, estimate_dir: the names of the marks and estimates folders inside each stage.
        fingerprint: the data folder's fingerprint if the caller has it (else computed here).

    Yields:
        The run identity (a dict).
    """
    out = Path(out)
    identity = run_identity(system_config_of(system), fingerprint or data_fingerprint(data_dir), edition)
    clean = [f"{s}/{sub}" for s in stages for sub in (estimate_dir, done_dir)] + list(stages)
    with folder_lock(out, identity, "run folder", clean=clean):
        has_marks = any(any((out / s / done_dir).glob("*")) for s in _stage_dirs(out))
        check_identity(out, identity, has_marks)
        yield identity


def _stage_dirs(out: Path) -> list[str]:
    return [p.name for p in out.iterdir() if p.is_dir()] if out.is_dir() else []
