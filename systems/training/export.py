"""Exporting a trained component: the best checkpoint, with how it was made, to the shipped
path; M2D-SC's per-class silence thresholds are calibrated first."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import cast

import torch
from torch.utils.data import DataLoader

from s5bench.data_gen.stream import SceneStream, collate

from ..models.checkpoints import load_component
from ..models.state_dicts import save_checkpoint
from .recipes import TrainConfig, data_config, record_config


def export(cfg: TrainConfig, work: Path, command: str | None = None, seconds: float | None = None, world: int = 1,
           device: str = "cpu") -> Path:
    """Best checkpoint -> the shipped file, with how it was made; SC thresholds calibrated first
    (on `device`, the one the model trained on).

    Args:
        cfg: the training config (its `export` names the output file).
        work: the run's work folder, which holds best.pt.
        command: the command line recorded (None: this process's argv).
        seconds: training time in seconds recorded (None or 0: not recorded).
        world: number of processes the run trained on.
        device: where SC calibration runs.

    Returns:
        The path written (`cfg["export"]`, relative to the working folder).

    Raises:
        FileNotFoundError: If the work folder has no best.pt.
        S5Error: If best.pt cannot be read or is not a checkpoint of the config's task.
    """
    model, record = load_component(work / "best.pt", expect_task=cfg["task"])
    if cfg["task"] == "sc":
        calibrate_sc(model, cfg, device=device)
    info = {"config_name": cfg["name"], "command": command or " ".join(sys.argv), "data": cfg["data"],
            "data_overrides": cfg.get("data_overrides"), "seed": cfg["seed"], "steps": cfg["steps"],
            "batch_size": cfg["batch_size"], "world_size": world, "best_step": record.get("step"),
            "val": record.get("val"), "train_seconds": round(seconds, 1) if seconds else None,
            "torch": torch.__version__}
    # a result: where the config says, relative to the working folder (str: the trainer exports only when it is set)
    out = Path(cast(str, cfg["export"]))
    save_checkpoint(out, model, record_config(cfg), training=info)
    return out


@torch.no_grad()
def calibrate_sc(model, cfg: TrainConfig, n_batches: int | None = None, device: str = "cpu") -> None:  # model: an SC
    """Per-class energy thresholds from a validation stream (its own seed), the model run on
    `device` (and left on the CPU).

    The stream has `calibration_size` scenes (default 2·val_size), seed val_seed + 1; the SC task's
    inputs (with the config's task options) give the active and the silent examples.

    Args:
        model: an SC (`EnergySourceClassifier`); its `thresholds` buffer is set in place.
        cfg: the training config.
        n_batches: unused.
        device: where the model runs during calibration.
    """
    from ..models.m2d_sc import calibrate_thresholds, energy
    from .tasks import SCTask

    task = SCTask(**(cfg.get("task_options") or {}))
    data = data_config(cfg)
    n = cfg.get("calibration_size", 2 * cfg["val_size"])
    es, preds, acts = [], [], []
    model.to(device).eval()
    for batch in DataLoader(SceneStream(data, seed=cfg["val_seed"] + 1, length=n), batch_size=cfg["batch_size"],
                            collate_fn=collate):
        batch = {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}
        x_act, _, x_sil = task.inputs(batch)
        x = torch.cat([x_act, x_sil])
        logits = model(x)
        es.append(energy(logits).cpu())
        preds.append(logits.argmax(-1).cpu())
        acts.append(torch.arange(len(x)) < len(x_act))
    model.cpu()
    model.thresholds.copy_(calibrate_thresholds(torch.cat(es), torch.cat(preds), torch.cat(acts)))
