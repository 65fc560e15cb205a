"""Training recipes (configs/train/<name>.yaml): loading with key checks, the data they train
on, and the figure that picks the best checkpoint.

    task: tagger | slot_tagger (2026) | separator | uss | sc | tse
    model: {...}                 # keyword arguments of the model (systems/models/checkpoints.py)
    task_options: {...}          # e.g. train_blocks, energy_weight, uss_checkpoint
    data: builtin_train          # a data config; `data_overrides` changes scene fields
    stems: data/stems_train      # optional: train on remixes of this stem corpus (validation stays
                                 # on the data config's generated scenes)
    stems_duration: 4.0          # optional: remixes this long (default: the corpus's scene length)
    seed, steps, batch_size, lr, weight_decay, grad_clip, val_every, val_size, val_seed, amp,
    lr_milestones, lr_gamma: the learning rate is lr · lr_gamma^(milestones passed), set from the
    step at every step (so a resumed run with new milestones follows them).
    init: checkpoint to start from (e.g. SC step 2 from step 1); export: the shipped file.
    select_metric, select_mode: the validation figure that picks best.pt (default: the loss,
    min); separators use `sep_gain` (max), which a rescaled copy of the mixture cannot win.
"""
from __future__ import annotations

import yaml

from s5bench.common.configs import check_keys, find_config, known_names
from s5bench.common.resources import config_dir
from s5bench.data_gen.config import TOP_KEYS, check_scene, load_config

from .tasks import TASK_CLASSES

CONFIG_DIR = config_dir("train")  # shipped with the package (common/resources.py)
DEFAULTS = dict(seed=0, steps=100, batch_size=4, lr=1e-3, weight_decay=0.0, grad_clip=0.5, val_every=50,
                val_size=16, val_seed=999, amp=False, num_workers=0, data="builtin_train", data_overrides={},
                task_options={}, model={}, init=None, m2d_weights=None, export=None, tensorboard=False,
                betas=[0.9, 0.999], amsgrad=False, select_metric="loss", select_mode="min", lr_milestones=[],
                lr_gamma=0.3, stems=None, stems_duration=None)


def known_train_configs() -> list[str]:
    return known_names(CONFIG_DIR)


def load_train_config(name_or_path) -> dict:
    path = find_config(name_or_path, CONFIG_DIR, "training config")
    raw = yaml.safe_load(path.read_text()) or {}
    check_keys(raw, set(DEFAULTS) | {"task", "name", "calibration_size"}, f"training config {path}")
    cfg = {**DEFAULTS, **raw}
    cfg["name"] = cfg.get("name", path.stem)
    if cfg.get("task") not in TASK_CLASSES:
        raise ValueError(f"{path}: task {cfg.get('task')!r} is not one of {', '.join(TASK_CLASSES)}")
    check_keys(cfg["task_options"] or {}, TASK_CLASSES[cfg["task"]].OPTIONS,
               f"training config {path}, section 'task_options' (task {cfg['task']})")
    return cfg


def data_config(cfg: dict) -> dict:
    data = load_config(cfg["data"])
    where = f"data_overrides of training config {cfg.get('name')!r}"
    for key, value in (cfg.get("data_overrides") or {}).items():
        section, _, field = key.partition(".")
        check_keys({section: None}, TOP_KEYS, where)
        if field:
            data.setdefault(section, {})[field] = value
        else:
            data[section] = value
    check_scene(data.get("scene"), where)
    return data


def selection_score(val: dict, cfg: dict) -> float:
    """Lower is better: the chosen validation figure, negated when larger is better."""
    metric, mode = cfg["select_metric"], cfg["select_mode"]
    if metric not in val:
        raise ValueError(f"select_metric {metric!r} is not a validation figure of task {cfg['task']!r}: "
                         f"{', '.join(sorted(val))}")
    if mode not in ("min", "max"):
        raise ValueError(f"select_mode must be 'min' or 'max', not {mode!r}")
    return float(val[metric]) if mode == "min" else -float(val[metric])


def record_config(cfg: dict) -> dict:
    """What an exported checkpoint records to rebuild its model."""
    return {"task": cfg["task"], "model": dict(cfg["model"] or {})}
