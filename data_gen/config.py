"""Data configs (YAML) -> banks, rooms and scene rules.

A config names where each ingredient comes from:
  targets / interference:  {procedural: {...}} | {folder: {root}} | {resampled: {root, label}}
                           | {vctk: {root, mic}}
                           | {combine: [spec, ...], replace: [labels]}
  noise:                   {procedural: {...}} | {folder: {root}}
  rooms:                   {synthetic: {n_rooms, n_positions, seed, cache_dir}} | {folder: {root}}
  scene:                   overrides of data_gen.plan.DEFAULT_CONFIG
Relative paths are taken from `root`, and a relative `root` (default `.`) from the YAML's folder
(the repository's root for the built-in configs of configs/data/); `${VAR}` is expanded. One word
for one thing: a "data config" is what the docs also call a data recipe (data_gen/recipe_schema.py
checks it; a data set's manifest.json records it under the key "recipe").
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypedDict, cast

from s5bench.common.configs import check_keys, find_config, read_yaml
from s5bench.common.errors import S5Error
from s5bench.common.labels import LABELS, SAMPLE_RATE
from s5bench.common.resources import config_dir

from .recipe_schema import RecipeError, SceneRules, check_recipe, check_scene_values
from .rooms import RoomBank
from .sources import (
    CombinedBank,
    FolderBank,
    FolderNoiseBank,
    NoiseBank,
    ProceduralBank,
    ProceduralNoiseBank,
    ResampledFolderBank,
    SourceBank,
    VCTKBank,
)
from .synthetic_rooms import build_room_bank

CONFIG_DIR = config_dir("data")  # shipped with the package (common/resources.py)


HANDFUL = 5  # a class with fewer clips than this is named when a set is generated
TOP_KEYS = ("engine", "sr", "root", "targets", "interference", "noise", "rooms", "scene", "spatialscaper", "subtype")


class ProceduralSourceArgs(TypedDict, total=False):
    """The keys of a `procedural` source bank (`data_gen.sources.ProceduralBank`).

    Attributes:
        seed: the bank's seed (>= 0).
        n_per_label: clips made per class (>= 1).
        cache_size: clips kept in memory (>= 1).
        classes: the target classes the bank keeps (default: all).
    """

    seed: int
    n_per_label: int
    cache_size: int
    classes: list[str]


class _FolderSourceRequired(TypedDict):
    root: str


class FolderSourceArgs(_FolderSourceRequired, total=False):
    """The keys of a `folder` source bank: one subfolder of clips per class (`data_gen.sources.FolderBank`).

    Attributes:
        root: the folder (required; relative to the config's `root`).
        check_labels: refuse a subfolder that is not one of the 18 classes (targets only; default True).
        classes: the target classes the bank keeps (default: all).
    """

    check_labels: bool
    classes: list[str]


class ResampledSourceArgs(TypedDict):
    """The keys of a `resampled` source bank: a folder of clips of one class, resampled.

    Attributes:
        root: the folder (relative to the config's `root`).
        label: the class of every clip in it.
    """

    root: str
    label: str


class _VCTKSourceRequired(TypedDict):
    root: str


class VCTKSourceArgs(_VCTKSourceRequired, total=False):
    """The keys of a `vctk` source bank: the VCTK corpus as Speech clips.

    Attributes:
        root: the corpus's folder (required; relative to the config's `root`).
        mic: the microphone whose recordings are taken (default "mic1").
    """

    mic: str


class SourceEntry(TypedDict, total=False):
    """One source bank, `{kind: {key: value}}`: exactly one of the keys (the kind) is given.

    Attributes:
        procedural: generated clips (null: the defaults).
        folder: clips from a folder per class.
        resampled: clips of one class from one folder.
        vctk: VCTK speech.
    """

    procedural: ProceduralSourceArgs | None
    folder: FolderSourceArgs
    resampled: ResampledSourceArgs
    vctk: VCTKSourceArgs


class _CombinedSourcesRequired(TypedDict):
    combine: list[SourceEntry]


class CombinedSources(_CombinedSourcesRequired, total=False):
    """Several source banks as one (`data_gen.sources.CombinedBank`).

    Attributes:
        combine: the banks (a non-empty list).
        replace: classes taken only from the last bank that has them (default none).
    """

    replace: list[str]


class ProceduralNoiseArgs(TypedDict, total=False):
    """The keys of a `procedural` noise bank (`data_gen.sources.ProceduralNoiseBank`).

    Attributes:
        seed: the bank's seed (>= 0).
        n_files: noise clips made (>= 1).
        seconds: each clip's length, s (> 0).
    """

    seed: int
    n_files: int
    seconds: float


class FolderArgs(TypedDict):
    """The keys of a `folder` noise or room bank.

    Attributes:
        root: the folder (relative to the config's `root`).
    """

    root: str


class NoiseEntry(TypedDict, total=False):
    """The noise bank, `{kind: {key: value}}`: exactly one of the keys (the kind) is given.

    Attributes:
        procedural: generated diffuse noise (null passes the schema, but `build_noise` needs a mapping).
        folder: 4-channel noise files from a folder.
    """

    procedural: ProceduralNoiseArgs | None
    folder: FolderArgs


class _SyntheticRoomsRequired(TypedDict):
    n_rooms: int
    n_positions: int
    seed: int
    cache_dir: str


class SyntheticRoomsArgs(_SyntheticRoomsRequired, total=False):
    """The keys of a `synthetic` room bank (`data_gen.synthetic_rooms.build_room_bank`).

    Attributes:
        n_rooms: rooms made (>= 1; required).
        n_positions: source positions per room (>= 1; required).
        seed: the rooms' seed (>= 0; required).
        cache_dir: where the SOFA files are written and found again (required; relative to the config's `root`).
        ir_seconds: each impulse response's length, s (> 0).
        max_order: the image source method's highest reflection order (>= 0).
    """

    ir_seconds: float
    max_order: int


class RoomsEntry(TypedDict, total=False):
    """The room bank, `{kind: {key: value}}`: exactly one of the keys (the kind) is given.

    Attributes:
        synthetic: rooms made by the image source method, cached.
        folder: 4-channel (FOA) SOFA rooms from a folder.
    """

    synthetic: SyntheticRoomsArgs
    folder: FolderArgs


# `class` is a keyword, hence the functional form.
SpatialScaperSection = TypedDict("SpatialScaperSection", {"module": str, "class": str, "init": dict[str, Any]},
                                 total=False)
"""A config's `spatialscaper` section (engine `spatialscaper`, data_gen/spatialscaper_engine.py): `module`, the
fork's module; `class`, its generator class in that module; `init`, the generator's arguments."""


class _DataConfigRequired(TypedDict):
    targets: SourceEntry | CombinedSources
    interference: SourceEntry | CombinedSources | None
    noise: NoiseEntry
    rooms: RoomsEntry


class DataConfig(_DataConfigRequired, total=False):
    """A data config (data recipe) as `load_config` returns it; `recipe_schema.check_recipe` checks it.

    Attributes:
        engine: the rendering engine, "builtin" (default) or "spatialscaper".
        sr: the sample rate, Hz (default 32000).
        root: what relative paths are taken against (default "."; relative: against the YAML's folder).
        targets: the target source bank (required).
        interference: the interference source bank, or null for none (required).
        noise: the noise bank (required).
        rooms: the room bank (required).
        scene: the scene rules.
        spatialscaper: the fork's module, class and arguments (engine "spatialscaper").
        subtype: the audio files' sample format (default "FLOAT").
        _path: the YAML file's path, set by `load_config` (absent in a config built in code).
    """

    engine: str
    sr: int
    root: str
    scene: SceneRules
    spatialscaper: SpatialScaperSection
    subtype: str
    _path: str



def load_config(name_or_path: str | Path) -> DataConfig:
    """A data config read and checked.

    Args:
        name_or_path: a YAML file's path, or the name of one in configs/data/ (without `.yaml`).

    Returns:
        The config as the YAML gives it (keys of `TOP_KEYS`), plus "_path": the file's path as a
        string. Relative paths inside are resolved later, against its `root`.

    Raises:
        FileNotFoundError: If it is neither a file nor a known name (the message lists the known ones).
        S5Error: If a key is unknown at the top or in `scene`.
        S5Error: If the file is not valid YAML (naming the file, line and column).
    """
    path = find_config(name_or_path, CONFIG_DIR, "data config", "known configs")
    cfg = read_yaml(path, "data config")
    check_keys(cfg, TOP_KEYS, f"data config {path}")
    check_scene(cfg.get("scene"), f"data config {path}")
    check_recipe(cfg, f"data config {path}")  # before anything is drawn
    cfg["_path"] = str(path)
    return cast(DataConfig, cfg)  # the YAML's mapping, its keys and banks checked above


def check_scene(scene: SceneRules | None, where: str) -> None:
    """Refuse a `scene` section with a key that the scene planner does not know.

    Args:
        scene: the section (None: nothing to check).
        where: the config, named in the error.

    Raises:
        S5Error: If a key is not one of data_gen.plan.DEFAULT_CONFIG's (the message lists them).
    """
    from .plan import DEFAULT_CONFIG

    if scene is not None and not isinstance(scene, dict):
        raise RecipeError(f"{where}, section 'scene': a mapping of scene rules is needed, not {scene!r}")
    check_keys(scene or {}, DEFAULT_CONFIG, f"{where}, section 'scene'")
    check_scene_values(scene or {}, f"{where}: scene")


# Where the docs say which variables the recipes read and how to set them.
VARIABLES_DOC = "docs/data.md, 'Generating a data set'"
# The variables the docs tell a user to set (named when a path looks built from an unset one).
DOCUMENTED_VARIABLES = ("S5_DEV_SET",)


def _expand(cfg, value) -> str:
    """`value` with ${VAR} expanded; an unset variable is an error that names it and the config."""
    text = os.path.expandvars(str(value))
    unset = re.findall(r"\$\{?(\w+)", text)
    if unset:
        raise S5Error(f"data config {cfg.get('_path')}: environment variable {unset[0]} is not set "
                      f"(it names a data folder: export {unset[0]}=/path/to/it, see {VARIABLES_DOC})")
    return text


def recipe_variables(value: object) -> list[str]:
    """The environment variables (`${VAR}` or `$VAR`) a recipe's strings name, in order, each once.

    Args:
        value: a recipe or any part of it (dicts and lists are searched through; other non-strings name none).

    Returns:
        The variables' names.

    Example:
        >>> from s5bench.data_gen.config import recipe_variables
        >>> recipe_variables({"root": "${S5_DEV_SET}", "noise": {"folder": {"root": "$NOISE/x"}}})
        ['S5_DEV_SET', 'NOISE']
    """
    if isinstance(value, dict):
        return list(dict.fromkeys(v for item in value.values() for v in recipe_variables(item)))
    if isinstance(value, list):
        return list(dict.fromkeys(v for item in value for v in recipe_variables(item)))
    return re.findall(r"\$\{?(\w+)", value) if isinstance(value, str) else []


def unset_variable_hint(path, cfg: DataConfig | None = None) -> str:
    """For a path that is not found: a sentence naming the environment variable it was probably
    built from, when it starts at the file system's root with a first folder that does not exist
    (what `$S5_DEV_SET/metadata/valid` becomes in the shell when S5_DEV_SET is not set); else "".

    Args:
        path: the path given.
        cfg: the data config, whose `${VAR}`s are the first candidates.

    Returns:
        " (… S5_DEV_SET is not set …)" or "".
    """
    p = Path(path)
    if not p.is_absolute() or len(p.parts) < 2 or Path(p.parts[0], p.parts[1]).exists():
        return ""
    unset = [v for v in dict.fromkeys([*recipe_variables(cfg or {}), *DOCUMENTED_VARIABLES]) if v not in os.environ]
    if not unset:
        return ""
    return (f" (it starts at {p.parts[0]}{p.parts[1]}, which does not exist: was it written as ${unset[0]}/…? "
            f"The environment variable {unset[0]} is not set: export {unset[0]}=/path/to/it, see {VARIABLES_DOC})")


def base_folder(cfg: DataConfig) -> Path:
    """What a data config's relative paths (and a relative `root`) are taken against: the folder of its
    YAML file, so that a config means the same files from wherever the command runs; the shipped
    configs (configs/data/, inside the installed package) write theirs under the working folder
    (`data/cache/...`), never into the package.

    Args:
        cfg: a data config (its "_path", set by `load_config`).

    Returns:
        The YAML's folder; "." for a shipped config or one built in code (no "_path").
    """
    source = cfg.get("_path")
    if not source:  # a config built in code: the current folder, as before
        return Path(".")
    folder = Path(source).resolve().parent
    return Path(".") if folder == CONFIG_DIR.resolve() else folder


def _path(cfg, p) -> Path:
    p = Path(_expand(cfg, p))
    if p.is_absolute():
        return p
    root = Path(_expand(cfg, cfg.get("root", ".")))
    return (root if root.is_absolute() else base_folder(cfg) / root) / p


def _folder(cfg, p, what: str) -> Path:
    """A bank's folder, which must exist; the error says against what a relative path was taken."""
    folder = _path(cfg, p)
    if not folder.is_dir():
        given = f"{p!r}" + (f" under root {cfg['root']!r}" if "root" in cfg else "")
        raise FileNotFoundError(f"data config {cfg.get('_path', '(built in code)')}: {what} folder {given} not found: "
                                f"looked for {folder.absolute()} (relative paths are taken against "
                                f"{base_folder(cfg).absolute()}, the YAML's folder)")
    return folder


def _source_bank(cfg, spec: Mapping[str, Any], role: str):
    (kind, args), = spec.items()
    args = dict(args or {})
    classes = args.pop("classes", None)
    bank = _unrestricted_bank(cfg, kind, args, role)
    if classes is not None:
        bank.keep_classes(classes, f"data config {cfg.get('_path')}: {role} bank {kind!r}, key 'classes'")
    return bank


def coverage_warnings(bank, role: str) -> list[str]:
    """Lines that say which target classes a bank has no clip of, and which classes have fewer
    than a handful (each such clip then returns in many mixtures).

    Args:
        bank: a source bank (None: no bank, no lines).
        role: "target" (the 18 classes are expected, or those of `classes:`) or "interference".

    Returns:
        Zero, one or two lines.
    """
    if bank is None:
        return []
    counts = {lab: len(bank.items(lab)) for lab in bank.labels}
    out = []
    if role == "target":
        asked = [getattr(b, "restricted_to", None) for b in getattr(bank, "banks", [bank])]  # `classes:` per entry
        expected = LABELS if None in asked else {lab for classes in asked if classes is not None for lab in classes}
        missing = [lab for lab in LABELS if lab in expected and lab not in counts]
        if missing:
            out.append(f"{role} bank {bank.name}: {len(missing)} of {len(set(expected))} classes have no clip "
                       f"and never occur: {', '.join(missing)}")
    few = [f"{lab} {n}" for lab, n in sorted(counts.items()) if n < HANDFUL]
    if few:
        out.append(f"{role} bank {bank.name}: classes with fewer than {HANDFUL} clips (each clip returns in many "
                   f"mixtures): {', '.join(few)}")
    return out


def _unrestricted_bank(cfg, kind: str, args: dict, role: str):
    sr = int(cfg.get("sr", SAMPLE_RATE))
    if kind == "procedural":
        return ProceduralBank(kind=role, sr=sr, **args)
    if kind == "folder":
        allowed = LABELS if role == "target" and args.get("check_labels", True) else None
        return FolderBank(_folder(cfg, args["root"], f"{role} bank"), sr=sr, allowed_labels=allowed)
    if kind == "vctk":
        return VCTKBank(_folder(cfg, args["root"], "VCTK bank"), mic=args.get("mic", "mic1"), sr=sr)
    if kind == "resampled":
        return ResampledFolderBank(_folder(cfg, args["root"], f"{role} bank"), label=args["label"], sr=sr)
    if kind == "combine":
        raise S5Error("'combine' is written as {combine: [...], replace: [...]} at the top of the entry")
    raise S5Error(f"unknown source bank kind {kind!r} in {cfg.get('_path')}")


def build_sources(cfg: DataConfig, role: str) -> SourceBank | None:
    """The bank of source clips a config names for targets or interference.

    Args:
        cfg: a data config (`load_config`).
        role: "target" (section `targets`) or anything else (section `interference`).

    Returns:
        The bank (clips at the config's `sr`, default 32 kHz), or None where the section is null.

    Raises:
        S5Error: If the kind is unknown, or the bank refuses its folder (an unknown label
            folder, no audio, wrong rate or channels); or a `${VAR}` in a path is not set.
        FileNotFoundError: If a folder it names is missing.
        KeyError: If the section is missing, or a required field (e.g. `root`) is.
    """
    spec = cfg["targets" if role == "target" else "interference"]
    if spec is None:
        return None
    if "combine" in spec:
        banks = [_source_bank(cfg, s, role) for s in spec["combine"]]
        return CombinedBank(banks, replace=spec.get("replace", ()))
    return _source_bank(cfg, spec, role)


def build_noise(cfg: DataConfig) -> NoiseBank:
    """The background-noise bank a config names (section `noise`).

    Args:
        cfg: a data config (`load_config`).

    Returns:
        The bank of 4-channel noise at the config's `sr` (default 32 kHz).

    Raises:
        S5Error: If the kind is unknown, or the folder has no audio or files of the wrong rate or
            channel count; or a `${VAR}` in a path is not set.
        FileNotFoundError: If the folder is missing.
        KeyError: If the section or its `root` is missing.
    """
    (kind, args), = cast("dict[str, Any]", cfg["noise"]).items()  # {kind: its keys}: the kind types them
    args = args or {}  # the schema takes `procedural:` with no keys (null) as all defaults
    sr = int(cfg.get("sr", SAMPLE_RATE))
    if kind == "procedural":
        return ProceduralNoiseBank(sr=sr, **args)
    if kind == "folder":
        return FolderNoiseBank(_folder(cfg, args["root"], "noise bank"), sr=sr)
    raise S5Error(f"unknown noise kind {kind!r} in {cfg.get('_path')}")


def build_rooms(cfg: DataConfig, progress: bool = True) -> RoomBank:
    """The room bank a config names (section `rooms`); synthetic rooms are made and cached first.

    Args:
        cfg: a data config (`load_config`).
        progress: show a progress bar while synthetic rooms are made.

    Returns:
        The bank of 4-channel (FOA) SOFA impulse responses at the config's `sr` (default 32 kHz).

    Raises:
        S5Error: If the kind is unknown, the folder has no .sofa file, or a file is not a
            4-channel SOFA room at that rate; or a `${VAR}` in a path is not set.
        FileNotFoundError: If the folder is missing.
        KeyError: If the section or a required field (`root`, `cache_dir`) is missing.
    """
    (kind, args), = cast("dict[str, Any]", cfg["rooms"]).items()  # {kind: its keys}: the kind types them
    sr = int(cfg.get("sr", SAMPLE_RATE))
    if kind == "synthetic":
        args = dict(args)
        folder = _path(cfg, args.pop("cache_dir"))
        build_room_bank(folder, sr=sr, progress=progress, **args)
        return RoomBank(folder, sr=sr)
    if kind == "folder":
        return RoomBank(_folder(cfg, args["root"], "room bank"), sr=sr)
    raise S5Error(f"unknown rooms kind {kind!r} in {cfg.get('_path')}")


def public_config(cfg: DataConfig) -> dict:
    """The data config as its YAML gives it, without the loader's private keys (what a data set's
    manifest records as its "recipe").

    The dropped keys (`_path`, the config file's absolute path) would make a data set another
    config's when its checkout moves.

    Args:
        cfg: a data config (`load_config`).

    Returns:
        A new dict without the keys that start with "_".

    Example:
        >>> from s5bench.data_gen.config import public_config
        >>> public_config({"sr": 32000, "scene": {"duration": 10.0}, "_path": "/somewhere/data.yaml"})
        {'sr': 32000, 'scene': {'duration': 10.0}}
    """
    return {k: v for k, v in cfg.items() if not k.startswith("_")}


def scene_rules(cfg: DataConfig) -> dict:
    """The scene planner's rules: the config's `scene` section plus its sample rate.

    Args:
        cfg: a data config (`load_config`).

    Returns:
        A copy of `scene` with "sr" (Hz, default 32000) added.

    Example:
        >>> from s5bench.data_gen.config import scene_rules
        >>> scene_rules({"scene": {"duration": 4.0}})
        {'duration': 4.0, 'sr': 32000}
    """
    rules = dict(cfg.get("scene", {}))
    rules["sr"] = int(cfg.get("sr", SAMPLE_RATE))
    return rules


def bank_folders(cfg: DataConfig) -> dict:
    """Where each ingredient of a config comes from.

    Args:
        cfg: a data config (`load_config`).

    Returns:
        {section: the folder's path, or "builtin:<kind>" for a generated one} for each of targets,
        interference, noise and rooms that the config fills.

    Raises:
        S5Error: If a `${VAR}` in a path is not set.

    Example:
        >>> from s5bench.data_gen.config import bank_folders
        >>> bank_folders({"root": "/data", "targets": {"folder": {"root": "clips"}}, "noise": {"procedural": {}}})
        {'targets': '/data/clips', 'noise': 'builtin:procedural'}
    """
    out = {}
    for key in ("targets", "interference", "noise", "rooms"):
        spec = cfg.get(key) or {}
        kind, args = next(iter(spec.items()), (None, None))
        if isinstance(args, dict) and "root" in args:
            out[key] = str(_path(cfg, args["root"]))
        elif kind is not None:
            out[key] = f"builtin:{kind}"
    return out
