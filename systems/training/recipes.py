"""Training recipes (configs/train/<name>.yaml, and configs/train/experiments/<name>.yaml for those measured but
not shipped, loadable by name too): loading with key checks, the data they train on, and the figure that picks
the best checkpoint.

    task: tagger | slot_tagger (2026) | separator | uss | sc | tse
    model: {...}                 # keyword arguments of the model (systems/models/checkpoints.py)
    task_options: {...}          # e.g. train_blocks, energy_weight, uss_checkpoint
    data: builtin_train          # a data config; `data_overrides` changes scene fields
    stems: data/stems_train      # optional: train on remixes of this stem corpus (validation stays
                                 # on the data config's generated scenes)
    stems_duration: 4.0          # optional: remixes this long (default: the corpus's scene length)
    seed, steps, batch_size, lr, weight_decay, grad_clip, val_every, val_size, val_seed,
    amp: mixed precision on a GPU (ignored on the CPU), amp_dtype: bfloat16 (default) | float16,
    log_every: a log row (and the one read-back of the loss to the host) every N steps (default 1),
    lr_milestones, lr_gamma: the learning rate is lr · lr_gamma^(milestones passed), set from the
    step at every step (so a resumed run with new milestones follows them).
    init: checkpoint to start from (e.g. SC step 2 from step 1); export: the shipped file.
    init_modules: [encoder, ...]: take only these submodules from `init` (each loaded strictly),
    e.g. a 2026 slot tagger whose CNN encoder starts from a trained 2025 tagger's.
    select_metric, select_mode: the validation figure that picks best.pt (default: the loss,
    min); separators use `sep_gain` (max), which a rescaled copy of the mixture cannot win.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypedDict, cast

from s5bench.common.configs import check_keys, find_config, known_names, read_yaml
from s5bench.common.errors import S5Error
from s5bench.common.resources import config_dir
from s5bench.data_gen.config import TOP_KEYS, DataConfig, check_scene, load_config
from s5bench.data_gen.recipe_schema import check_recipe

from .tasks import TASK_CLASSES

CONFIG_DIR = config_dir("train")  # shipped with the package (common/resources.py)
# recipes measured but not shipped (no checkpoint carries their name); still loadable by name
EXPERIMENTS_DIR = CONFIG_DIR / "experiments"


class TrainDefaults(TypedDict):
    """The keys every training recipe has after `load_train_config` (their defaults: `DEFAULTS`).

    Attributes:
        seed: the seed of the model's initialisation and of the training stream.
        steps: optimiser steps in all.
        batch_size: scenes per step.
        lr: the learning rate before any milestone.
        weight_decay: AdamW's weight decay.
        grad_clip: the gradient norm clipped to (0 or null: none).
        val_every: steps between validations.
        val_size: validation scenes.
        val_seed: the validation scenes' seed.
        amp: mixed precision on a GPU (ignored on the CPU).
        num_workers: data worker processes.
        data: the data config's name or path (`data_gen.config.load_config`).
        data_overrides: {"section.field" or "section": value} applied to the data config (`data_config`).
        task_options: the task's options (a subset of its OPTIONS; null: none).
        model: the model's keyword arguments (null: none).
        init: a checkpoint to start from, or None.
        init_modules: the submodules taken from `init` (None: all of it).
        m2d_weights: an official M2D weight file loaded into the encoder, or None.
        export: where the best checkpoint is exported, or None.
        tensorboard: write TensorBoard logs too.
        betas: AdamW's two betas.
        amsgrad: AdamW's amsgrad switch.
        select_metric: the validation figure that picks best.pt.
        select_mode: "min" or "max": which way `select_metric` is better.
        lr_milestones: the steps at which the learning rate is multiplied by `lr_gamma`.
        lr_gamma: the factor at each milestone.
        stems: a stem corpus to train on remixes of, or None (the data config's scenes).
        stems_duration: the remixes' length, s (None: the corpus's scene length).
        amp_dtype: the mixed precision's type, "bfloat16" or "float16".
        log_every: steps between log rows (>= 1).
    """

    seed: int
    steps: int
    batch_size: int
    lr: float
    weight_decay: float
    grad_clip: float | None
    val_every: int
    val_size: int
    val_seed: int
    amp: bool
    num_workers: int
    data: str
    data_overrides: dict[str, Any] | None
    task_options: dict[str, Any] | None
    model: dict[str, Any] | None
    init: str | None
    init_modules: list[str] | None
    m2d_weights: str | None
    export: str | None
    tensorboard: bool
    betas: list[float]
    amsgrad: bool
    select_metric: str
    select_mode: str
    lr_milestones: list[int]
    lr_gamma: float
    stems: str | None
    stems_duration: float | None
    amp_dtype: str
    log_every: int


class _TrainRequired(TrainDefaults):
    task: str
    name: str


class TrainConfig(_TrainRequired, total=False):
    """A training recipe as `load_train_config` returns it: every key of `TrainDefaults`, "task" and "name".

    Attributes:
        task: the task trained, a key of `tasks.TASK_CLASSES`.
        name: the recipe's name (default: the file's stem).
        calibration_size: the SC export's calibration scenes (default 2 · val_size; `export.py`).
    """

    calibration_size: int


DEFAULTS = TrainDefaults(seed=0, steps=100, batch_size=4, lr=1e-3, weight_decay=0.0, grad_clip=0.5, val_every=50,
                val_size=16, val_seed=999, amp=False, num_workers=0, data="builtin_train", data_overrides={},
                task_options={}, model={}, init=None, init_modules=None, m2d_weights=None, export=None,
                tensorboard=False, betas=[0.9, 0.999], amsgrad=False, select_metric="loss", select_mode="min",
                lr_milestones=[], lr_gamma=0.3, stems=None, stems_duration=None, amp_dtype="bfloat16", log_every=1)


def known_train_configs() -> list[str]:
    """The names of the shipped training recipes (configs/train/<name>.yaml), sorted.

    Returns:
        The recipe names without `.yaml`.
    """
    return known_names(CONFIG_DIR)


def load_train_config(name_or_path: str | Path) -> TrainConfig:
    """A training recipe read, checked and completed with the defaults (`DEFAULTS`).

    Args:
        name_or_path: a YAML file's path, or a recipe name in configs/train/ or configs/train/experiments/
            (without `.yaml`).

    Returns:
        The recipe: every key of `DEFAULTS` (a given value wins), "task", and "name" (default:
        the file's stem). Paths in it (data, init, export, stems) are left as written.

    Raises:
        FileNotFoundError: If it is neither a file nor a known name (the message lists the known ones).
        S5Error: If a top-level key is unknown, `task` is not a known task, or a `task_options`
            key is not an option of that task.
        S5Error: If the file is not valid YAML (naming the file, line and column).
    """
    experiment = EXPERIMENTS_DIR / f"{name_or_path}.yaml"
    folder = EXPERIMENTS_DIR if not Path(name_or_path).is_file() and experiment.is_file() else CONFIG_DIR
    path = find_config(name_or_path, folder, "training config")
    raw = read_yaml(path, "training config")
    check_keys(raw, set(DEFAULTS) | {"task", "name", "calibration_size"}, f"training config {path}")
    cfg = cast(TrainConfig, {**DEFAULTS, **raw})  # raw's keys checked above; its values as the YAML gives them
    cfg["name"] = cfg.get("name", path.stem)
    if cfg.get("task") not in TASK_CLASSES:
        raise S5Error(f"{path}: task {cfg.get('task')!r} is not one of {', '.join(TASK_CLASSES)}")
    if not isinstance(cfg["log_every"], int) or cfg["log_every"] < 1:
        raise S5Error(f"{path}: log_every must be a whole number of steps >= 1, not {cfg['log_every']!r}")
    check_keys(cfg["task_options"] or {}, TASK_CLASSES[cfg["task"]].OPTIONS,
               f"training config {path}, section 'task_options' (task {cfg['task']})")
    return cfg


def data_config(cfg: TrainConfig) -> DataConfig:
    """The data config a recipe trains and validates on, with its `data_overrides` applied.

    An override `section.field: value` sets one field of a section (e.g. `scene.duration: 4.0`);
    `section: value` replaces the section.

    Args:
        cfg: a recipe (`load_train_config`).

    Returns:
        The data config (`data_gen.config.load_config` of cfg["data"]), overridden.

    Raises:
        FileNotFoundError, S5Error: As `load_config` for cfg["data"].
        S5Error: If an override names an unknown section, or leaves an unknown key in `scene`.
    """
    data = load_config(cfg["data"])
    sections = cast("dict[str, Any]", data)  # the same dict: an override names its section by a string
    where = f"data_overrides of training config {cfg.get('name')!r}"
    for key, value in (cfg.get("data_overrides") or {}).items():
        section, _, field = key.partition(".")
        check_keys({section: None}, TOP_KEYS, where)
        if field:
            sections.setdefault(section, {})[field] = value
        else:
            sections[section] = value
    check_scene(data.get("scene"), where)
    return check_recipe(data, where)


def selection_score(val: dict, cfg: TrainConfig) -> float:
    """The figure that picks best.pt, oriented so that lower is better.

    Args:
        val: the validation figures of one evaluation ({name: value}; `loss` and the task's).
        cfg: the recipe; its `select_metric` names the figure and `select_mode` ("min" | "max")
            says which way is better.

    Returns:
        The figure, negated when larger is better.

    Raises:
        S5Error: If `select_metric` is not among the figures, or `select_mode` is neither "min"
            nor "max".

    Example:
        >>> from s5bench.systems.training.recipes import selection_score
        >>> selection_score({"loss": 2.5, "sep_gain": 1.5}, {"select_metric": "sep_gain", "select_mode": "max",
        ...                                                   "task": "uss"})
        -1.5
    """
    metric, mode = cfg["select_metric"], cfg["select_mode"]
    if metric not in val:
        raise S5Error(f"select_metric {metric!r} is not a validation figure of task {cfg['task']!r}: "
                      f"{', '.join(sorted(val))}")
    if mode not in ("min", "max"):
        raise S5Error(f"select_mode must be 'min' or 'max', not {mode!r}")
    return float(val[metric]) if mode == "min" else -float(val[metric])


def record_config(cfg: TrainConfig) -> dict:
    """What an exported checkpoint records to rebuild its model.

    Args:
        cfg: the recipe.

    Returns:
        {"task": the task, "model": a copy of the model's keyword arguments}.
    """
    return {"task": cfg["task"], "model": dict(cfg["model"] or {})}


# What a resumed run may change: how long it runs, where it exports, how it logs, the schedule's
# milestones (followed from the step), the loader's workers.
RESUMABLE_CHANGES = ("steps", "export", "tensorboard", "num_workers", "lr_milestones", "lr_gamma", "val_every",
                     "log_every")


def training_identity(cfg: TrainConfig) -> dict:
    """What makes a training run: the recipe's content (not its file name) without the keys a
    resumed run may change, the data recipe it trains on, and the sha256 of its `init` checkpoint.

    Args:
        cfg: a training config from load_train_config (with command-line overrides applied).

    Returns:
        A JSON-serialisable dict, recorded in last.pt and compared when a run resumes.
    """
    from s5bench.common.provenance import file_sha256
    from s5bench.data_gen.config import public_config
    from s5bench.systems.models.checkpoints import resolve

    recipe = {k: v for k, v in cfg.items() if k not in RESUMABLE_CHANGES and k != "name"}
    init = resolve(cfg["init"]) if cfg.get("init") else None
    return json.loads(json.dumps({"recipe": recipe, "data": public_config(data_config(cfg)),
                                  "init_sha256": file_sha256(init) if init and init.is_file() else None},
                                 sort_keys=True, default=str))


def check_same_training(saved: dict | None, identity: dict | None, last: str | Path) -> None:
    """Refuse to resume `last` (a last.pt) when it was written by another training run.

    Args:
        saved: the identity recorded in last.pt (None for a file of an earlier version: accepted).
        identity: this run's `training_identity` (None: nothing to compare, accepted).
        last: the last.pt file, named in the error.

    Raises:
        S5Error: naming the keys that differ and the file.
    """
    if saved is None or identity is None:  # a last.pt of an earlier version records none: resumed as before
        return
    differs = []
    for part in sorted(set(saved) | set(identity)):
        a, b = saved.get(part), identity.get(part)
        if a != b:
            differs += [f"{part}.{k}" for k in _differing(a, b)] or [part]
    if differs:
        raise S5Error(f"{last} was written by another training run ({', '.join(differs)} "
                      "differ): resume it with its own config, or give another --work folder")


def _differing(a, b) -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    return []
