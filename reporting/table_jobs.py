"""What the table jobs (ablation.py, leaderboard.py) share: the built-in test set, the test-set
check, building a system with overridden arguments, and the provenance written beside every table."""
from __future__ import annotations

import argparse
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s5bench.common.editions import edition_of
from s5bench.common.layout import ORACLE_DIR, SOUNDSCAPE_DIR
from s5bench.data_gen.config import load_config
from s5bench.data_gen.writer import generate_set
from s5bench.systems.base import System
from s5bench.systems.registry import SystemConfig, build_system_from_config, load_system_config, system_config_path
from s5bench.systems.run import RunOptions
from s5bench.systems.run_folder import referenced_files, system_code_fingerprint

# The default is the first 20 mixtures (a few minutes on 2 CPU cores); --n 100 gives the full built-in set.
BUILTIN = {"seed": 0, "n": 20, "full_n": 100}  # the data config is the edition's (common/editions.py)


@dataclass(frozen=True)
class TableOptions:
    """What a table job (Table 1, Table 2) is asked for, beside its systems and data: one value.

    Attributes:
        run: how each system runs and is scored (device, batch size, scoring processes, edition).
        n: mixtures of the built-in test set (used only without a data folder).
        out: the results folder.
        report: build the web report at the end.
        bootstrap: resamples for the intervals and the paired differences (0: none).
        seed: their seed.
    """

    run: RunOptions = field(default_factory=RunOptions)
    n: int = BUILTIN["n"]
    out: Path = Path("results")
    report: bool = True
    bootstrap: int = 2000
    seed: int = 0

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> TableOptions:
        """The options of common/arguments.py's `add_table_arguments`, parsed (after `resolve_n`).

        Args:
            args: the parsed arguments.

        Returns:
            The options.
        """
        return cls(run=RunOptions.from_args(args), n=args.n, out=Path(args.out), report=not args.no_report,
                   bootstrap=args.bootstrap, seed=args.seed)


def builtin_test_set(n: int = BUILTIN["n"], progress: bool = True, edition: int = 2025) -> Path:
    """The built-in synthetic test set of an edition (configs/data/builtin_test.yaml, or
    builtin_test_2026.yaml; seed 0): the full 100 mixtures in data/<config> (the README's oracle
    command makes the same set), other sizes in data/<config>_<n> (mixture i is the same in every
    size). Generated on first use, reused after (and completed if cut short).

    Args:
        n: mixtures (the first n of the 100).
        progress: show the generator's progress.
        edition: the DCASE edition, whose built-in data config is used.

    Returns:
        The data folder.
    """
    name = edition_of(edition).builtin_test
    out = Path("data") / name  # under the working folder (a wheel's own folder is no place for data)
    if n != BUILTIN["full_n"]:
        out = Path("data") / f"{name}_{n}"
    cfg = load_config(name)
    generate_set(cfg, out, n=n, seed=BUILTIN["seed"], jobs=2, progress=progress)
    return out


def check_test_set(folder: str | Path) -> Path:
    """A test set must have its mixtures and oracle targets before any model runs.

    Args:
        folder: a data folder in the official layout.

    Returns:
        The folder, as a Path.

    Raises:
        FileNotFoundError: the folder, its mixtures or its oracle targets are missing (named).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"data folder {folder} does not exist")
    for sub, what in ((SOUNDSCAPE_DIR, "mixtures"), (ORACLE_DIR, "oracle targets")):
        d = folder / sub
        if not d.is_dir() or not any(d.glob("*.wav")):
            raise FileNotFoundError(f"{folder} has no {what}: {d} is missing or holds no .wav files "
                                    f"(scoring needs the official layout: {SOUNDSCAPE_DIR}/ and {ORACLE_DIR}/)")
    return folder


def provenance(system_name: str, system_cfg: SystemConfig, data_dir: str | Path, fingerprint: str,
               **extra: Any) -> dict:
    """What a table's .meta.json records about the run behind it.

    Args:
        system_name: the system config's name or path.
        system_cfg: the config as run.
        data_dir: the data folder.
        fingerprint: its fingerprint.
        **extra: further keys (stages, run folder, edition, …).

    Returns:
        system, system_config, checkpoints, code_fingerprint, data, data_fingerprint and `extra`.
    """
    return {"system": Path(system_name).stem, "system_config": system_cfg,
            "checkpoints": referenced_files(system_cfg), "code_fingerprint": system_code_fingerprint(system_cfg),
            "data": str(data_dir), "data_fingerprint": fingerprint, **extra}


def build_with(system_name: str, **arg_overrides: Any) -> tuple[System, SystemConfig]:
    """Build a system from its config with some arguments replaced (e.g. iterations).

    Args:
        system_name: a name in configs/systems/ or a YAML path.
        **arg_overrides: arguments replacing the config's.

    Returns:
        (the system, the config it was built from).
    """
    cfg = load_system_config(system_name)
    cfg["args"] = {**(cfg.get("args") or {}), **arg_overrides}
    return build_system_from_config(cfg, source=system_config_path(system_name)), cfg


def copy_per_mixture(run_dir: Path, stage: str, dest: Path) -> None:
    """Copy a stage's per_mixture.csv from its run folder to `dest` (its folder made).

    Args:
        run_dir: the run folder.
        stage: the scored stage.
        dest: where the copy goes.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run_dir / stage / "per_mixture.csv", dest)
