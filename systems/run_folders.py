"""What the table runners share about runs: the built-in test set, the test-set check, cached run
folders keyed on everything that makes a run, and the provenance written beside every table."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from s5bench.common.editions import edition_of
from s5bench.common.layout import ORACLE_DIR, SOUNDSCAPE_DIR
from s5bench.common.provenance import code_fingerprint, file_sha256
from s5bench.systems.models.checkpoints import resolve
from s5bench.systems.registry import build_system_from_config, load_system_config, system_config_path

# The default is the first 20 mixtures (a few minutes on 2 CPU cores); --n 100 gives the full built-in set.
BUILTIN = {"seed": 0, "n": 20, "full_n": 100}  # the data config is the edition's (common/editions.py)

def builtin_test_set(n: int = BUILTIN["n"], progress: bool = True, edition: int = 2025) -> Path:
    """The built-in synthetic test set of an edition (configs/data/builtin_test.yaml, or
    builtin_test_2026.yaml; seed 0): the full 100 mixtures in data/<config> (the README's oracle
    command makes the same set), other sizes in data/<config>_<n> (mixture i is the same in every
    size). Generated on first use, reused after (and completed if cut short)."""
    from s5bench.data_gen.config import load_config
    from s5bench.data_gen.writer import generate_set

    name = edition_of(edition).builtin_test
    out = Path("data") / name  # under the working folder (a wheel's own folder is no place for data)
    if n != BUILTIN["full_n"]:
        out = Path("data") / f"{name}_{n}"
    cfg = load_config(name)
    generate_set(cfg, out, n=n, seed=BUILTIN["seed"], jobs=2, progress=progress)
    return out


def check_test_set(folder) -> Path:
    """A test set must have its mixtures and oracle targets before any model runs."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"data folder {folder} does not exist")
    for sub, what in ((SOUNDSCAPE_DIR, "mixtures"), (ORACLE_DIR, "oracle targets")):
        d = folder / sub
        if not d.is_dir() or not any(d.glob("*.wav")):
            raise FileNotFoundError(f"{folder} has no {what}: {d} is missing or holds no .wav files "
                                    f"(scoring needs the official layout: {SOUNDSCAPE_DIR}/ and {ORACLE_DIR}/)")
    return folder


def checkpoint_hashes(system_cfg: dict) -> dict:
    """sha256 of every checkpoint file named in a system config's arguments."""
    out = {}
    for key, value in (system_cfg.get("args") or {}).items():
        if isinstance(value, str) and value.endswith((".pt", ".ckpt", ".pth")):
            path = resolve(value)
            out[key] = {"path": value, "sha256": file_sha256(path) if path.is_file() else None}
    return out


def run_identity(system_cfg: dict, fingerprint: str, edition: int = 2025) -> dict:
    """What makes a run: the system config's content, its checkpoints' sha256, the data set's
    fingerprint, the edition and the code. Two runs with equal identities give the same estimates.

    Args:
        system_cfg: the system config as loaded (class, args, name), with any overrides applied.
        fingerprint: `data_fingerprint` of the data folder.
        edition: the DCASE edition the run is scored as.

    Returns:
        {"cfg", "ckpt", "data", "code", "edition"} (JSON-serialisable).
    """
    return {"cfg": system_cfg, "ckpt": checkpoint_hashes(system_cfg), "data": fingerprint,
            "code": system_code_fingerprint(system_cfg), "edition": edition}


def identity_hash(identity: dict) -> str:
    """The 10 hex digits that name a cached run folder (`run_dir_for`) for a `run_identity`."""
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:10]


def run_dir_for(system_name: str, system_cfg: dict, fingerprint: str, results: Path, edition: int = 2025) -> Path:
    """Runs are cached per (system config, checkpoints, data set, edition, code): a change of any
    starts afresh."""
    identity = run_identity(system_cfg, fingerprint, edition)
    return results / "runs" / f"{Path(system_name).stem}_{identity_hash(identity)}"


def system_code_fingerprint(system_cfg: dict) -> str:
    """The project's code plus a plug-in system's own package (`class: pkg.module:Class`)."""
    return code_fingerprint([system_cfg["class"]] if "class" in system_cfg else [])


def provenance(system_name, system_cfg, data_dir, fingerprint, **extra) -> dict:
    return {"system": Path(system_name).stem, "system_config": system_cfg,
            "checkpoints": checkpoint_hashes(system_cfg), "code_fingerprint": system_code_fingerprint(system_cfg),
            "data": str(data_dir), "data_fingerprint": fingerprint, **extra}


def build_with(system_name: str, **arg_overrides):
    """Build a system from its config with some arguments replaced (e.g. iterations)."""
    cfg = load_system_config(system_name)
    cfg["args"] = {**(cfg.get("args") or {}), **arg_overrides}
    return build_system_from_config(cfg, source=system_config_path(system_name)), cfg


def copy_per_mixture(run_dir: Path, stage: str, dest: Path):
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run_dir / stage / "per_mixture.csv", dest)
