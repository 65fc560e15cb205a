"""The one checkpoint loader: building a trainable component by task name and loading the
checkpoints `runners/train.py` exports (saving and strict state-dict loading are in
`state_dicts.py`, below both this module and the models, which import it too).

An exported checkpoint holds `state_dict`, `config` = {"task": …, "model": {…}} (enough to
rebuild the model), and `extra` (e.g. the SC's thresholds live in the state dict; training
command, data seed, steps and time under `training`).
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import torch

from s5bench.common.errors import S5Error
from s5bench.common.resources import shipped

from .state_dicts import CHECKPOINT_FORMAT, load_state_dict_strict, read_record

if TYPE_CHECKING:
    from .m2d import M2DEncoder

Component = TypeVar("Component")

TASKS = ("tagger", "slot_tagger", "separator", "uss", "sc", "tse")


def build_model(task: str, model_cfg: dict | None) -> torch.nn.Module:
    """A freshly initialised model for a training task, from a recipe's or a checkpoint's `model` section.

    Args:
        task: one of TASKS (tagger, slot_tagger, separator, uss, sc, tse).
        model_cfg: the model's keyword arguments (None or {}: the defaults); an `architecture` key
            picks another network for the task from ARCHITECTURES instead of the paper's model.

    Returns:
        The model (in training mode, on the CPU).

    Raises:
        S5Error: If the task is unknown, or no architecture of that name exists for the task.
        TypeError: If the config has a keyword argument the model does not take.
    """
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
    raise S5Error(f"unknown task {task!r}; known tasks: {', '.join(TASKS)}")


# `model: {architecture: NAME}`: another network for a task instead of the paper's model: the
# learnability probe (blstm_mask.py) and the CPU-size components (cpu_separators.py, cpu_classifier.py).
ARCHITECTURES = {
    ("uss", "blstm_mask"): ("blstm_mask", "BLSTMMaskUSS"),
    ("separator", "blstm_mask"): ("blstm_mask", "BLSTMMaskSeparator"),
    ("uss", "spatial_blstm"): ("cpu_separators", "SpatialBLSTMUSS"),
    ("uss", "bandsplit"): ("cpu_separators", "BandSplitUSS"),
    ("tse", "bandsplit"): ("cpu_separators", "BandSplitTSE"),
    ("sc", "cnn"): ("cpu_classifier", "CNNSC"),
    ("tagger", "cnn"): ("cpu_classifier", "CNNTagger"),
    ("slot_tagger", "cnn"): ("cpu_classifier", "CNNSlotTagger"),
    ("separator", "bandsplit"): ("cpu_separators", "BandSplitSeparator"),
}


def _reference_model(task: str, architecture: str, model_cfg: dict) -> torch.nn.Module:
    if (task, architecture) not in ARCHITECTURES:
        known = ", ".join(f"{a} (task {t})" for t, a in sorted(ARCHITECTURES))
        raise S5Error(f"no architecture {architecture!r} for task {task!r}; known: {known}")
    module, name = ARCHITECTURES[task, architecture]
    return getattr(importlib.import_module(f"{__package__}.{module}"), name)(**model_cfg)


def _m2d_kw(cfg: dict) -> dict:
    for key in ("input_size", "patch_size"):
        if key in cfg:
            cfg[key] = tuple(cfg[key])
    return cfg


def m2d_encoder(model: torch.nn.Module) -> M2DEncoder:
    """The M2D encoder of a tagger, a slot tagger (1- or 4-channel) or an SC.

    Args:
        model: a model built by `build_model` (its `encoder`, or its `m2d.encoder`).

    Returns:
        The model's M2DEncoder (shared, not a copy).

    Raises:
        S5Error: if the model has none (e.g. a CPU-size CNN classifier).
    """
    from .m2d import M2DEncoder

    encoder = getattr(getattr(model, "m2d", model), "encoder", None)
    if not isinstance(encoder, M2DEncoder):
        raise S5Error(f"a {type(model).__name__} has no M2D encoder")
    return encoder


def resolve(path) -> Path:  # path: str | Path (not annotated: baseline2026.py passes an Optional)
    """A file named in a config: as given if it exists, else the one shipped with the package
    (checkpoints/…; common/resources.py).

    Args:
        path: the path as written in a config.

    Returns:
        The path as given if absolute or existing, else the package's copy (which may not exist).
    """
    return shipped(path)


# Format-1 files (before `format` was recorded) named two DeFT-Mamba options that are gone: the
# decoder (only the mask decoder is left) and the Res-FiLM that doubled its input (fixed).
REMOVED_OPTIONS = {"decoder": "mask", "film_legacy_double": False}


def migrate(record: dict, path: str | Path) -> dict:
    """The model config of a checkpoint record, in today's format (CHECKPOINT_FORMAT). Format 1:
    a DeFT-Mamba config's `decoder: mask` and `film_legacy_double: false` are dropped (today's
    behaviour); one trained with the removed spectrum decoder or doubling Res-FiLM is refused.

    Args:
        record: a checkpoint record (`config` with `task` and `model`, optional `format`).
        path: the file it was read from, named in errors.

    Returns:
        A copy of the record's `model` section that `build_model` takes.

    Raises:
        S5Error: If the record's format is newer than CHECKPOINT_FORMAT, or a format-1 USS/TSE was
            trained with a removed option (the spectrum decoder or the doubling Res-FiLM).
    """
    cfg = dict(record["config"].get("model") or {})
    version = int(record.get("format", 1))
    if version > CHECKPOINT_FORMAT:
        raise S5Error(f"{path}: checkpoint format {version}, this version reads up to {CHECKPOINT_FORMAT}")
    if version == 1 and record["config"]["task"] in ("uss", "tse") and "architecture" not in cfg:
        for key, kept in REMOVED_OPTIONS.items():
            value = cfg.pop(key, "spectrum" if key == "decoder" else False)  # format 1's defaults
            if value != kept:
                raise S5Error(f"{path}: trained with {key}={value!r}, which this version no longer has "
                              f"(only {key}={kept!r}); retrain it with today's recipe")
    return cfg


def load_component(path, expect_task: str | None = None,  # path: str | Path (baseline.py passes an Optional)
                   device: str | torch.device = "cpu") -> tuple[torch.nn.Module, dict]:
    """A trained component from a checkpoint exported by runners/train.py, rebuilt and strictly loaded.

    Args:
        path: the checkpoint file (as written in a config; see `resolve`).
        expect_task: the task the checkpoint must have been trained for (None: any).
        device: where to put the model.

    Returns:
        The model, on `device` and in eval mode, and the whole checkpoint record.

    Raises:
        FileNotFoundError: If the file does not exist.
        S5Error: If the file cannot be read, records no `config.task`, was trained for another task
            than `expect_task`, has a format this version cannot read (`migrate`), or its weights do
            not fit the model its config builds.
    """
    path = resolve(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} not found (train it with runners/train.py, see README)")
    record = read_record(path)
    cfg = record.get("config", {})
    if "task" not in cfg:
        raise S5Error(f"{path}: not a checkpoint exported by runners/train.py (no config.task)")
    if expect_task and cfg["task"] != expect_task:
        raise S5Error(f"{path}: a {cfg['task']!r} checkpoint where a {expect_task!r} one is needed")
    model = build_model(cfg["task"], migrate(record, path))
    load_state_dict_strict(model, record["state_dict"], source=str(path))
    return model.to(device).eval(), record


def load_as(path: str | Path, expect_task: str, interface: type[Component],
            device: str | torch.device = "cpu") -> Component:
    """`load_component`'s model, checked to offer `interface` (a class, or a runtime-checkable
    Protocol such as SourceClassifier) so that callers use it typed.

    Args:
        path: the checkpoint file (as written in a config; see `resolve`).
        expect_task: the task the checkpoint must have been trained for.
        interface: the class or runtime-checkable Protocol the model must be an instance of.
        device: where to put the model.

    Returns:
        The model, on `device` and in eval mode.

    Raises:
        S5Error: if the checkpoint's model does not offer it (and as `load_component`).
        FileNotFoundError: If the file does not exist.
    """
    model, _ = load_component(path, expect_task, device)
    if not isinstance(model, interface):
        raise S5Error(f"{resolve(path)}: a {type(model).__name__}, which is not a {interface.__name__}")
    return model
