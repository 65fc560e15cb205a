"""The one checkpoint module: saving and strictly loading state dicts, building a trainable
component by task name, and loading the checkpoints `runners/train.py` exports.

An exported checkpoint holds `state_dict`, `config` = {"task": …, "model": {…}} (enough to
rebuild the model), and `extra` (e.g. the SC's thresholds live in the state dict; training
command, data seed, steps and time under `training`).
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from common.provenance import REPO


def save_checkpoint(path, model: nn.Module, config: dict, **extra) -> Path:
    """State dict with the config that built the model (and anything else, e.g. thresholds),
    written through a temporary file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp_{path.name}")
    torch.save({"state_dict": model.state_dict(), "config": config, **extra}, tmp)
    tmp.replace(path)
    return path


def load_state_dict_strict(model: nn.Module, state: dict, source: str = "checkpoint") -> None:
    """load_state_dict(strict=True) with an error that lists what is missing and unexpected."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = sorted(k for k in set(own) & set(state) if tuple(own[k].shape) != tuple(state[k].shape))
    if missing or unexpected or wrong:
        lines = [f"{source} does not fit {type(model).__name__}:"]
        if missing:
            lines.append(f"  missing keys ({len(missing)}): {', '.join(missing[:20])}")
        if unexpected:
            lines.append(f"  unexpected keys ({len(unexpected)}): {', '.join(unexpected[:20])}")
        for k in wrong[:20]:
            lines.append(f"  {k}: shape {tuple(state[k].shape)} in the file, {tuple(own[k].shape)} in the model")
        raise ValueError("\n".join(lines))
    model.load_state_dict(state, strict=True)


def load_checkpoint(path, build) -> tuple[nn.Module, dict]:
    """`build(config) -> model`; returns the model with the file's weights and the whole record."""
    record = torch.load(path, map_location="cpu", weights_only=False)
    model = build(record["config"])
    load_state_dict_strict(model, record["state_dict"], source=str(path))
    return model, record


TASKS = ("tagger", "slot_tagger", "separator", "uss", "sc", "tse")
# Model options added after checkpoints were shipped: a checkpoint whose config lacks one was
# trained with the value here (the spectrum decoder; the Res-FiLM that doubled its input).
LEGACY_MODEL_DEFAULTS = {"uss": {"decoder": "spectrum"},
                         "tse": {"decoder": "spectrum", "film_legacy_double": True}}
CURRENT_MODEL_DEFAULTS = {"uss": {"decoder": "mask"}, "tse": {"decoder": "mask", "film_legacy_double": False}}


def _defaults(table: dict, task: str, model_cfg: dict) -> dict:
    """A paper model's option defaults from `table`; a reference architecture has options of its own."""
    return {} if "architecture" in (model_cfg or {}) else table.get(task, {})


def explicit_model_config(task: str, model_cfg: dict) -> dict:
    """The model config with today's defaults of the options above written out, as exports record
    it, so that a checkpoint never depends on what a later version's defaults are."""
    return {**_defaults(CURRENT_MODEL_DEFAULTS, task, model_cfg), **(model_cfg or {})}


def build_model(task: str, model_cfg: dict) -> torch.nn.Module:
    model_cfg = dict(model_cfg or {})
    architecture = model_cfg.pop("architecture", None)
    if architecture is not None:
        return _reference_model(task, architecture, model_cfg)
    if task == "tagger":
        from .m2d import M2DTagger
        return M2DTagger(**_m2d_kw(model_cfg))
    if task == "slot_tagger":  # the 2026 tagger: n_channels 1 (M2dAt) or 4 (M2dAtSpatial)
        from .m2d_slots import M2DSlotTagger, M2DSpatialSlotTagger
        n_channels = int(model_cfg.pop("n_channels", 1))
        if n_channels == 1:
            return M2DSlotTagger(**_m2d_kw(model_cfg))
        return M2DSpatialSlotTagger(n_channels=n_channels, **_m2d_kw(model_cfg))
    if task == "separator":
        from .resunet import ResUNetK
        return ResUNetK(**model_cfg)
    if task == "uss":
        from .deft_mamba import DeFTMambaUSS
        return DeFTMambaUSS(**model_cfg)
    if task == "tse":
        from .deft_mamba import DeFTMambaTSE
        return DeFTMambaTSE(**model_cfg)
    if task == "sc":
        from .m2d_sc import M2DSC
        return M2DSC(**_m2d_kw(model_cfg))
    raise ValueError(f"unknown task {task!r}; known tasks: {', '.join(TASKS)}")


REFERENCE_ARCHITECTURES = {("uss", "blstm_mask"), ("separator", "blstm_mask")}


def _reference_model(task: str, architecture: str, model_cfg: dict) -> torch.nn.Module:
    """`model: {architecture: blstm_mask}`: a classic reference network in place of the task's
    own model, for learnability checks (systems/models/blstm_mask.py)."""
    if (task, architecture) not in REFERENCE_ARCHITECTURES:
        known = ", ".join(f"{a} (task {t})" for t, a in sorted(REFERENCE_ARCHITECTURES))
        raise ValueError(f"no architecture {architecture!r} for task {task!r}; known: {known}")
    from .blstm_mask import BLSTMMaskSeparator, BLSTMMaskUSS
    return (BLSTMMaskUSS if task == "uss" else BLSTMMaskSeparator)(**model_cfg)


def _m2d_kw(cfg: dict) -> dict:
    for key in ("input_size", "patch_size"):
        if key in cfg:
            cfg[key] = tuple(cfg[key])
    return cfg


def m2d_encoder(model: torch.nn.Module) -> torch.nn.Module:
    """The M2D encoder of a tagger, a slot tagger (1- or 4-channel) or an SC."""
    return model.m2d.encoder if hasattr(model, "m2d") else model.encoder


def resolve(path) -> Path:
    """Checkpoint paths in configs are relative to the repository root."""
    p = Path(path)
    return p if p.is_absolute() or p.is_file() else REPO / p


def load_component(path, expect_task: str | None = None, device="cpu") -> tuple[torch.nn.Module, dict]:
    path = resolve(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} not found (train it with runners/train.py, see README)")
    record = torch.load(path, map_location="cpu", weights_only=False)
    cfg = record.get("config", {})
    if "task" not in cfg:
        raise ValueError(f"{path}: not a checkpoint exported by runners/train.py (no config.task)")
    if expect_task and cfg["task"] != expect_task:
        raise ValueError(f"{path}: a {cfg['task']!r} checkpoint where a {expect_task!r} one is needed")
    model_cfg = {**_defaults(LEGACY_MODEL_DEFAULTS, cfg["task"], cfg.get("model")), **(cfg.get("model") or {})}
    model = build_model(cfg["task"], model_cfg)
    load_state_dict_strict(model, record["state_dict"], source=str(path))
    return model.to(device).eval(), record
