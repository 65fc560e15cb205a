"""Trainable components by task name, and loading of the checkpoints `runners/train.py` exports.

An exported checkpoint holds `state_dict`, `config` = {"task": …, "model": {…}} (enough to
rebuild the model), and `extra` (e.g. the SC's thresholds live in the state dict; training
command, data seed, steps and time under `training`).
"""
from __future__ import annotations

from pathlib import Path

import torch

from .nn.blocks import load_state_dict_strict

TASKS = ("tagger", "separator", "uss", "sc", "tse")
# Model options added after checkpoints were shipped: a checkpoint whose config lacks one was
# trained with the value here (the spectrum decoder; the Res-FiLM that doubled its input).
LEGACY_MODEL_DEFAULTS = {"uss": {"decoder": "spectrum"},
                         "tse": {"decoder": "spectrum", "film_legacy_double": True}}
CURRENT_MODEL_DEFAULTS = {"uss": {"decoder": "mask"}, "tse": {"decoder": "mask", "film_legacy_double": False}}


def explicit_model_config(task: str, model_cfg: dict) -> dict:
    """The model config with today's defaults of the options above written out, as exports record
    it, so that a checkpoint never depends on what a later version's defaults are."""
    return {**CURRENT_MODEL_DEFAULTS.get(task, {}), **(model_cfg or {})}
REPO = Path(__file__).resolve().parents[1]


def build_model(task: str, model_cfg: dict) -> torch.nn.Module:
    model_cfg = dict(model_cfg or {})
    if task == "tagger":
        from .m2d import M2DTagger
        return M2DTagger(**_m2d_kw(model_cfg))
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


def _m2d_kw(cfg: dict) -> dict:
    for key in ("input_size", "patch_size"):
        if key in cfg:
            cfg[key] = tuple(cfg[key])
    return cfg


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
    model_cfg = {**LEGACY_MODEL_DEFAULTS.get(cfg["task"], {}), **(cfg.get("model") or {})}
    model = build_model(cfg["task"], model_cfg)
    load_state_dict_strict(model, record["state_dict"], source=str(path))
    return model.to(device).eval(), record
