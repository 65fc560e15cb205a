"""The training loop behind runners/train.py: any component, from the on-the-fly scene stream.

Config (configs/train/<name>.yaml):
    task: tagger | separator | uss | sc | tse
    model: {...}                 # keyword arguments of the model (systems/components.py)
    task_options: {...}          # e.g. train_blocks, energy_weight, uss_checkpoint
    data: builtin_train          # a data config; `data_overrides` changes scene fields
    seed, steps, batch_size, lr, weight_decay, grad_clip, val_every, val_size, val_seed, amp,
    init: checkpoint to start from (e.g. SC step 2 from step 1); export: the shipped file.
    select_metric, select_mode: the validation figure that picks best.pt (default: the loss,
    min); separators use `sep_gain` (max), which a rescaled copy of the mixture cannot win.

Work folder: last.pt (resume state), best.pt, log.csv, (tensorboard/ if asked). Under torchrun
every rank draws its own disjoint part of the stream; rank 0 validates, logs and saves.
"""
from __future__ import annotations

import csv
import io
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist
import yaml
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from common.audio import write_text_atomic
from common.configs import check_keys, find_config, known_names
from data_gen.config import TOP_KEYS, build_rooms, check_scene, load_config
from data_gen.stream import SceneStream, collate

from .components import build_model, explicit_model_config, load_component, resolve
from .distributed import local_device, shard_info
from .nn.blocks import load_state_dict_strict, save_checkpoint
from .tasks import TASK_CLASSES

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs" / "train"
DEFAULTS = dict(seed=0, steps=100, batch_size=4, lr=1e-3, weight_decay=0.0, grad_clip=0.5, val_every=50,
                val_size=16, val_seed=999, amp=False, num_workers=0, data="builtin_train", data_overrides={},
                task_options={}, model={}, init=None, m2d_weights=None, export=None, tensorboard=False, betas=[0.9, 0.999],
                amsgrad=False, select_metric="loss", select_mode="min")


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


class StepModule(nn.Module):
    """Model and task step as one module, so that DistributedDataParallel sees the forward."""

    def __init__(self, model, task):
        super().__init__()
        self.model, self.task = model, task

    def forward(self, batch):
        return self.task.step(self.model, batch)


def _to(batch, device):
    return {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}


def train(cfg: dict, work_dir, device: str = "cpu", progress: bool = True, command: str | None = None) -> dict:
    rank, world = shard_info(device)
    device = local_device(device)
    work = Path(work_dir)
    is_main = rank == 0
    torch.manual_seed(cfg["seed"])
    try:
        model = build_model(cfg["task"], cfg["model"])
    except TypeError as err:  # an unknown or misspelt model option
        raise ValueError(f"training config {cfg['name']!r}, section 'model': {err}") from None
    if cfg.get("m2d_weights"):  # an official M2D weight file under the encoder (tagger, SC)
        model.encoder.load_official(resolve(cfg["m2d_weights"]))
    if cfg.get("init"):
        record = torch.load(resolve(cfg["init"]), map_location="cpu", weights_only=False)
        load_state_dict_strict(model, record["state_dict"], source=str(cfg["init"]))
    task = TASK_CLASSES[cfg["task"]](**(cfg.get("task_options") or {}))
    params = task.trainable(model)
    model.to(device)
    opt = torch.optim.AdamW(params, lr=cfg["lr"], weight_decay=cfg["weight_decay"], betas=tuple(cfg["betas"]),
                            amsgrad=cfg["amsgrad"])
    use_amp = bool(cfg["amp"]) and device.startswith("cuda")
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    step, best = 0, float("inf")
    last = work / "last.pt"
    if last.is_file():  # resume
        state = torch.load(last, map_location="cpu", weights_only=False)
        model.load_state_dict(state["state_dict"])
        opt.load_state_dict(state["optimizer"])
        scaler.load_state_dict(state["scaler"])
        step, best = state["step"], state["best"]
        if is_main:
            print(f"resuming {work} at step {step}")
    wrapped = StepModule(model, task)
    if world > 1:
        wrapped = nn.parallel.DistributedDataParallel(
            wrapped, device_ids=[torch.device(device).index] if device.startswith("cuda") else None, find_unused_parameters=True)

    data = data_config(cfg)
    if world > 1:  # rank 0 makes (and caches) a synthetic room bank alone; the others then read it
        if is_main:
            build_rooms(data, progress=False)
        dist.barrier()
    bs = cfg["batch_size"]
    stream = SceneStream(data, seed=cfg["seed"] * 1000 + rank, start=step * bs)  # disjoint per rank
    loader = DataLoader(stream, batch_size=bs, collate_fn=collate, num_workers=cfg["num_workers"])
    val = None
    if is_main:
        work.mkdir(parents=True, exist_ok=True)
        val = list(DataLoader(SceneStream(data, seed=cfg["val_seed"], length=cfg["val_size"]), batch_size=bs,
                              collate_fn=collate))
    log_path = work / "log.csv"
    writer = _tensorboard(work) if (cfg["tensorboard"] and is_main) else None
    # time counts across resumed sessions, so the log and the export give the whole training time
    t_start = time.time() - (_rewind_log(log_path, step) if is_main else 0.0)
    bar = tqdm(total=cfg["steps"], initial=step, desc=f"train {cfg['name']}", disable=not (progress and is_main))
    it = iter(loader)
    while step < cfg["steps"]:
        batch = _to(next(it), device)
        model.train()
        task.global_step = step
        with torch.autocast("cuda", enabled=use_amp):
            loss, metrics = wrapped(batch)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        if cfg["grad_clip"]:
            nn.utils.clip_grad_norm_(params, cfg["grad_clip"])
        scaler.step(opt)
        scaler.update()
        step += 1
        bar.update(1)
        loss_value = loss.item()
        bar.set_postfix(loss=f"{loss_value:.3f}")
        if is_main:
            _log(log_path, {"step": step, "split": "train", "loss": loss_value, **metrics,
                            "seconds": round(time.time() - t_start, 2)})
            if writer:
                writer.add_scalar("train/loss", loss_value, step)
        if step % cfg["val_every"] == 0 or step == cfg["steps"]:
            if is_main:
                v = validate(model, task, val, device)
                _log(log_path, {"step": step, "split": "val", **v, "seconds": round(time.time() - t_start, 2)})
                if writer:
                    for k, x in v.items():
                        writer.add_scalar(f"val/{k}", x, step)
                score = selection_score(v, cfg)
                if score < best:
                    best = score
                    save_checkpoint(work / "best.pt", model, _record_config(cfg), step=step, val=v)
                torch.save({"state_dict": model.state_dict(), "optimizer": opt.state_dict(),
                            "scaler": scaler.state_dict(), "step": step, "best": best}, work / ".tmp_last.pt")
                (work / ".tmp_last.pt").replace(last)
            if world > 1:
                dist.barrier()
    bar.close()
    seconds = time.time() - t_start
    result = {"steps": step, "best_val_score": best, "seconds": seconds, "world_size": world}
    if is_main and cfg.get("export"):
        result["export"] = str(export(cfg, work, command=command, seconds=seconds, world=world))
    if world > 1:
        dist.barrier()
    return result


def selection_score(val: dict, cfg: dict) -> float:
    """Lower is better: the chosen validation figure, negated when larger is better."""
    metric, mode = cfg["select_metric"], cfg["select_mode"]
    if metric not in val:
        raise ValueError(f"select_metric {metric!r} is not a validation figure of task {cfg['task']!r}: "
                         f"{', '.join(sorted(val))}")
    if mode not in ("min", "max"):
        raise ValueError(f"select_mode must be 'min' or 'max', not {mode!r}")
    return float(val[metric]) if mode == "min" else -float(val[metric])


@torch.no_grad()
def validate(model, task, batches, device) -> dict:
    model.eval()
    sums, n = {}, 0
    for batch in batches:
        loss, metrics = task.step(model, _to(batch, device))
        for k, v in {"loss": float(loss), **metrics}.items():
            sums[k] = sums.get(k, 0.0) + v
        n += 1
    return {k: v / max(n, 1) for k, v in sums.items()}


def _record_config(cfg):
    return {"task": cfg["task"], "model": explicit_model_config(cfg["task"], cfg["model"])}


def export(cfg, work, command=None, seconds=None, world=1) -> Path:
    """Best checkpoint -> the shipped file, with how it was made; SC thresholds calibrated first."""
    model, record = load_component(work / "best.pt", expect_task=cfg["task"])
    if cfg["task"] == "sc":
        calibrate_sc(model, cfg)
    info = {"config_name": cfg["name"], "command": command or " ".join(sys.argv), "data": cfg["data"],
            "data_overrides": cfg.get("data_overrides"), "seed": cfg["seed"], "steps": cfg["steps"],
            "batch_size": cfg["batch_size"], "world_size": world, "best_step": record.get("step"),
            "val": record.get("val"), "train_seconds": round(seconds, 1) if seconds else None,
            "torch": torch.__version__}
    out = resolve(cfg["export"])
    save_checkpoint(out, model, _record_config(cfg), training=info)
    return out


@torch.no_grad()
def calibrate_sc(model, cfg, n_batches: int | None = None):
    """Per-class energy thresholds from a validation stream (its own seed)."""
    from .losses import energy
    from .m2d_sc import calibrate_thresholds
    from .tasks import SCTask

    task = SCTask(**(cfg.get("task_options") or {}))
    data = data_config(cfg)
    n = cfg.get("calibration_size", 2 * cfg["val_size"])
    es, preds, acts = [], [], []
    model.eval()
    for batch in DataLoader(SceneStream(data, seed=cfg["val_seed"] + 1, length=n), batch_size=cfg["batch_size"],
                            collate_fn=collate):
        x_act, _, x_sil = task.inputs(batch)
        x = torch.cat([x_act, x_sil])
        logits = model(x)
        es.append(energy(logits))
        preds.append(logits.argmax(-1))
        acts.append(torch.arange(len(x)) < len(x_act))
    model.thresholds.copy_(calibrate_thresholds(torch.cat(es), torch.cat(preds), torch.cat(acts)))


def _rewind_log(path: Path, step: int) -> float:
    """Drop log rows written after `step` (a run stopped between validations resumes from the
    last one and writes those steps again); return the training seconds logged up to `step`."""
    if not path.is_file():
        return 0.0
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        rows = [r for r in reader if r and int(r[0]) <= step]
    if header is None:
        return 0.0
    text = io.StringIO()
    csv.writer(text).writerows([header] + rows)
    write_text_atomic(path, text.getvalue())
    seconds = header.index("seconds") if "seconds" in header else None
    return float(rows[-1][seconds]) if rows and seconds is not None else 0.0


def _log(path: Path, row: dict):
    new = not path.is_file()
    with open(path, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(row))
        if new:
            w.writeheader()
        w.writerow(row)


def _tensorboard(work):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        print("tensorboard is not installed; logging to CSV only")
        return None
    return SummaryWriter(work / "tensorboard")
