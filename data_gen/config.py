"""Data configs (YAML) -> banks, rooms and scene rules.

A config names where each ingredient comes from:
  targets / interference:  {procedural: {...}} | {folder: {root}} | {resampled: {root, label}}
                           | {vctk: {root, mic}}
                           | {combine: [spec, ...], replace: [labels]}
  noise:                   {procedural: {...}} | {folder: {root}}
  rooms:                   {synthetic: {n_rooms, n_positions, seed, cache_dir}} | {folder: {root}}
  scene:                   overrides of data_gen.plan.DEFAULT_CONFIG
Relative paths are taken from `root` (default: the current folder); `${VAR}` is expanded.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

from s5bench.common.configs import check_keys, find_config
from s5bench.common.labels import LABELS, SAMPLE_RATE
from s5bench.common.resources import config_dir

from .rooms import RoomBank
from .sources import (
    CombinedBank,
    FolderBank,
    FolderNoiseBank,
    ProceduralBank,
    ProceduralNoiseBank,
    ResampledFolderBank,
    VCTKBank,
)
from .synthetic_rooms import build_room_bank

CONFIG_DIR = config_dir("data")  # shipped with the package (common/resources.py)


TOP_KEYS = ("engine", "sr", "root", "targets", "interference", "noise", "rooms", "scene", "spatialscaper", "subtype")


def load_config(name_or_path) -> dict:
    """A YAML file, or the name of one in configs/data/ (without .yaml); unknown keys at the top
    or in `scene` are refused."""
    path = find_config(name_or_path, CONFIG_DIR, "data config", "known configs")
    cfg = yaml.safe_load(path.read_text()) or {}
    check_keys(cfg, TOP_KEYS, f"data config {path}")
    check_scene(cfg.get("scene"), f"data config {path}")
    cfg["_path"] = str(path)
    return cfg


def check_scene(scene: dict | None, where: str) -> None:
    from .plan import DEFAULT_CONFIG

    check_keys(scene or {}, DEFAULT_CONFIG, f"{where}, section 'scene'")


def _expand(cfg, value) -> str:
    """`value` with ${VAR} expanded; an unset variable is an error that names it and the config."""
    text = os.path.expandvars(str(value))
    unset = re.findall(r"\$\{?(\w+)", text)
    if unset:
        raise ValueError(f"data config {cfg.get('_path')}: environment variable {unset[0]} is not set "
                         f"(it names a data folder: export {unset[0]}=/path/to/it, see README 'Generating data')")
    return text


def _path(cfg, p) -> Path:
    p = Path(_expand(cfg, p))
    return p if p.is_absolute() else Path(_expand(cfg, cfg.get("root", "."))) / p


def _source_bank(cfg, spec: dict, role: str):
    (kind, args), = spec.items()
    sr = int(cfg.get("sr", SAMPLE_RATE))
    if kind == "procedural":
        return ProceduralBank(kind=role, sr=sr, **args)
    if kind == "folder":
        allowed = LABELS if role == "target" and args.get("check_labels", True) else None
        return FolderBank(_path(cfg, args["root"]), sr=sr, allowed_labels=allowed)
    if kind == "vctk":
        return VCTKBank(_path(cfg, args["root"]), mic=args.get("mic", "mic1"), sr=sr)
    if kind == "resampled":
        return ResampledFolderBank(_path(cfg, args["root"]), label=args["label"], sr=sr)
    if kind == "combine":
        raise ValueError("'combine' is written as {combine: [...], replace: [...]} at the top of the entry")
    raise ValueError(f"unknown source bank kind {kind!r} in {cfg.get('_path')}")


def build_sources(cfg: dict, role: str):
    spec = cfg["targets" if role == "target" else "interference"]
    if spec is None:
        return None
    if "combine" in spec:
        banks = [_source_bank(cfg, s, role) for s in spec["combine"]]
        return CombinedBank(banks, replace=spec.get("replace", ()))
    return _source_bank(cfg, spec, role)


def build_noise(cfg: dict):
    (kind, args), = cfg["noise"].items()
    sr = int(cfg.get("sr", SAMPLE_RATE))
    if kind == "procedural":
        return ProceduralNoiseBank(sr=sr, **args)
    if kind == "folder":
        return FolderNoiseBank(_path(cfg, args["root"]), sr=sr)
    raise ValueError(f"unknown noise kind {kind!r} in {cfg.get('_path')}")


def build_rooms(cfg: dict, progress: bool = True) -> RoomBank:
    (kind, args), = cfg["rooms"].items()
    sr = int(cfg.get("sr", SAMPLE_RATE))
    if kind == "synthetic":
        args = dict(args)
        folder = _path(cfg, args.pop("cache_dir"))
        build_room_bank(folder, sr=sr, progress=progress, **args)
        return RoomBank(folder, sr=sr)
    if kind == "folder":
        return RoomBank(_path(cfg, args["root"]), sr=sr)
    raise ValueError(f"unknown rooms kind {kind!r} in {cfg.get('_path')}")


def public_recipe(cfg: dict) -> dict:
    """The recipe as its YAML gives it, without the loader's private keys (`_path`, the config file's
    absolute path): a data set stays the same recipe's when its checkout moves."""
    return {k: v for k, v in cfg.items() if not k.startswith("_")}


def scene_rules(cfg: dict) -> dict:
    rules = dict(cfg.get("scene", {}))
    rules["sr"] = int(cfg.get("sr", SAMPLE_RATE))
    return rules


def bank_folders(cfg: dict) -> dict:
    """The folder each ingredient comes from (`builtin:<kind>` for generated ones)."""
    out = {}
    for key in ("targets", "interference", "noise", "rooms"):
        spec = cfg.get(key) or {}
        kind, args = next(iter(spec.items()), (None, None))
        if isinstance(args, dict) and "root" in args:
            out[key] = str(_path(cfg, args["root"]))
        elif kind is not None:
            out[key] = f"builtin:{kind}"
    return out
