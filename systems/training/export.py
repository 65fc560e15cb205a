"""Exporting a trained component: the best checkpoint, with how it was made, to the shipped
path; M2D-SC's per-class silence thresholds are calibrated first."""
from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from s5bench.data_gen.stream import SceneStream, collate

from ..models.checkpoints import load_component
from ..models.state_dicts import save_checkpoint
from .recipes import data_config, record_config


def export(cfg, work, command=None, seconds=None, world=1, device="cpu") -> Path:
    """Best checkpoint -> the shipped file, with how it was made; SC thresholds calibrated first
    (on `device`, the one the model trained on)."""
    model, record = load_component(work / "best.pt", expect_task=cfg["task"])
    if cfg["task"] == "sc":
        calibrate_sc(model, cfg, device=device)
    info = {"config_name": cfg["name"], "command": command or " ".join(sys.argv), "data": cfg["data"],
            "data_overrides": cfg.get("data_overrides"), "seed": cfg["seed"], "steps": cfg["steps"],
            "batch_size": cfg["batch_size"], "world_size": world, "best_step": record.get("step"),
            "val": record.get("val"), "train_seconds": round(seconds, 1) if seconds else None,
            "torch": torch.__version__}
    out = Path(cfg["export"])  # a result: where the config says, relative to the working folder
    save_checkpoint(out, model, record_config(cfg), training=info)
    return out


@torch.no_grad()
def calibrate_sc(model, cfg, n_batches: int | None = None, device="cpu"):
    """Per-class energy thresholds from a validation stream (its own seed), the model run on
    `device` (and left on the CPU)."""
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
