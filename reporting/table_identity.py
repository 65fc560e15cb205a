"""What made a table in a results folder, read from the provenance beside it (`table1.csv.meta.json`,
`table2.csv.meta.json`): its systems (their configs), its data sets (their fingerprints) and the
edition. A table job into a folder that holds a table of another identity is refused, naming what
differs, before anything runs: one run never silently replaces another's tables. Run again with the
same systems and data, it replaces its own (Table 1 of other stages of the same pipeline too: the
`iterations` an ablation asks of the pipeline are not part of its identity)."""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from s5bench.common.errors import S5Error

if TYPE_CHECKING:
    from s5bench.systems.registry import SystemConfig

ABLATION_OVERRIDES = ("iterations",)  # what Table 1's --config sets on the pipeline's config


def table_identity(systems: Mapping[str, SystemConfig], data: Mapping[str, tuple[Path | str, str]],
                   edition: int) -> dict:
    """The identity of a table.

    Args:
        systems: {system name: its config as run}.
        data: {data set name: (its folder, its fingerprint)}.
        edition: the DCASE edition.

    Returns:
        {"systems", "data", "edition"}; the configs without the arguments an ablation sets.
    """
    def plain(cfg: SystemConfig) -> dict:
        args = {k: v for k, v in (cfg.get("args") or {}).items() if k not in ABLATION_OVERRIDES}
        return {**cfg, "args": args}

    return {"systems": {Path(name).stem: plain(cfg) for name, cfg in systems.items()},
            "data": {name: {"path": str(path), "fingerprint": fp} for name, (path, fp) in data.items()},
            "edition": edition}


def identity_of_meta(meta: dict) -> dict:
    """A table's identity, as its .meta.json records it (Table 1's and Table 2's forms).

    Args:
        meta: the parsed .meta.json.

    Returns:
        The identity (`table_identity`'s form).

    Raises:
        KeyError: a sidecar of neither form.
    """
    if "systems" in meta:  # Table 2: {name: {"config", …}}, {data: {"path", "fingerprint"}}
        systems = {name: entry["config"] for name, entry in meta["systems"].items()}
        data = {name: (entry["path"], entry["fingerprint"]) for name, entry in meta["data"].items()}
        return table_identity(systems, data, meta["edition"])
    return table_identity({meta["system"]: meta["system_config"]},
                          {"test set": (meta["data"], meta["data_fingerprint"])}, meta["edition"])


def differences(old: dict, new: dict) -> list[str]:
    """What differs between two table identities, in words, one item each.

    Args:
        old: the identity recorded beside the table (`identity_of_meta`).
        new: this run's (`table_identity`, as JSON reads it back).

    Returns:
        One item per difference: the systems or their configs, the data sets or their
        fingerprints, the edition; empty when they are the same.

    Example:
        >>> from s5bench.reporting.table_identity import differences, table_identity
        >>> a = table_identity({"baseline_cpu": {"class": "x"}}, {"test": ("data/a", "f00d")}, 2025)
        >>> b = table_identity({"baseline_cpu": {"class": "y"}}, {"test": ("data/b", "beef")}, 2025)
        >>> differences(a, b)
        ['the config of system baseline_cpu', 'data set test: data/a (fingerprint f00d) -> data/b (fingerprint beef)']
    """
    out = []
    if list(old["systems"]) != list(new["systems"]):
        out.append(f"systems {', '.join(old['systems'])} -> {', '.join(new['systems'])}")
    else:
        out += [f"the config of system {name}" for name in new["systems"]
                if old["systems"][name] != new["systems"][name]]
    if list(old["data"]) != list(new["data"]):
        out.append(f"data sets {', '.join(old['data'])} -> {', '.join(new['data'])}")
    for name in new["data"]:
        before, after = old["data"].get(name), new["data"][name]
        if before is not None and before["fingerprint"] != after["fingerprint"]:
            out.append(f"data set {name}: {before['path']} (fingerprint {before['fingerprint'][:8]}) -> "
                       f"{after['path']} (fingerprint {after['fingerprint'][:8]})")
    if old["edition"] != new["edition"]:
        out.append(f"edition {old['edition']} -> {new['edition']}")
    return out


def check_table_out(table_csv: Path, identity: dict) -> None:
    """Refuse to write a table over one that another run made.

    Args:
        table_csv: the table about to be written (results/table1.csv, results/table2.csv).
        identity: this run's `table_identity`.

    Raises:
        S5Error: the folder holds that table with another identity (the message names what differs
            and what to do), or a sidecar that cannot be read.
    """
    meta = Path(f"{table_csv}.meta.json")
    if not meta.is_file():
        return
    try:
        old = identity_of_meta(json.loads(meta.read_text()))
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise S5Error(f"{meta}: not a table's provenance ({type(err).__name__}: {err}); it cannot say what made "
                      f"{table_csv.name}: give another --out, or remove {table_csv.parent}/{table_csv.stem}.* "
                      "first") from None
    found = differences(old, json.loads(json.dumps(identity, default=str)))
    if found:
        raise S5Error(f"{table_csv} holds a table made with other inputs ({'; '.join(found)}; recorded in "
                      f"{meta.name}); this run would replace it: give another --out (e.g. --out "
                      f"{table_csv.parent / 'other'}), or remove {table_csv.parent}/{table_csv.stem}.* first")
