"""The training loop behind runners/train.py: any component, from the on-the-fly scene stream,
as small steps (build, resume, stream, step, validate-and-keep, export). Recipes are read by
`recipes.py` (whose docstring lists their keys); exports are written by `export.py`.

Work folder: last.pt (resume state), best.pt, log.csv, (tensorboard/ if asked). Under torchrun
every rank draws its own disjoint part of the stream; rank 0 validates, logs and saves.

On a GPU: `amp` runs the model calls under autocast to `amp_dtype` (bfloat16 by default, no
loss scaling; float16 with a GradScaler), STFT/iSTFT, losses and figures in float32; the loader
pins its batches and copies them without blocking; the loss and the training figures are read
back to the host only on the steps that write a log row (`log_every`, default every step).
"""
from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from s5bench.common.atomic import atomic_path
from s5bench.common.audio import write_text_atomic
from s5bench.common.errors import S5Error
from s5bench.data_gen.config import build_rooms
from s5bench.data_gen.stem_corpus import StemStream
from s5bench.data_gen.stream import SceneStream, collate

from ..distributed import local_device, shard_info
from ..models.checkpoints import build_model, m2d_encoder, resolve
from ..models.precision import amp_dtype
from ..models.state_dicts import load_state_dict_strict, load_submodules, read_record, save_checkpoint
from .export import export
from .recipes import (
    TrainConfig,
    check_same_training,
    data_config,
    record_config,
    selection_score,
    training_identity,
)
from .tasks import TASK_CLASSES, Task


class StepModule(nn.Module):
    """Model and task step as one module, so that DistributedDataParallel sees the forward.

    Args:
        model: the bare model.
        task: the training task whose `step` runs the model.
    """

    def __init__(self, model: nn.Module, task: Task):
        super().__init__()
        self.model, self.task = model, task

    def forward(self, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        """The task's step on the model.

        Args:
            batch: a stream batch on the model's device.

        Returns:
            The scalar loss and the step's figures.
        """
        return self.task.step(self.model, batch)


def _to(batch, device):
    return {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}


@dataclass
class TrainingState:
    """Everything a step changes and `last.pt` keeps."""

    model: nn.Module
    task: Task
    params: list
    opt: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    step: int = 0
    best: float = float("inf")  # the best selection score so far (lower is better)


def build_state(cfg: TrainConfig, device: str) -> TrainingState:
    """Model (from `init` or an official M2D weight file if asked), task, optimiser, AMP scaler.

    Seeds torch with the config's seed before building the model.

    Args:
        cfg: the training config (recipes.load_train_config).
        device: where the model goes ("cpu", "cuda:0", …); autocast is used only on CUDA.

    Returns:
        The state at step 0: model on `device`, task, trainable parameters, AdamW, GradScaler
        (enabled for float16 autocast only).

    Raises:
        S5Error: If the model config has an unknown option, the task is unknown, a task option
            is unknown or invalid, or `init`/`m2d_weights` cannot be read or do not fit.
        FileNotFoundError: If `init`, `m2d_weights` or a checkpoint a task option names does not exist.
    """
    torch.manual_seed(cfg["seed"])
    try:
        model = build_model(cfg["task"], cfg["model"])
    except TypeError as err:  # an unknown or misspelt model option
        raise S5Error(f"training config {cfg['name']!r}, section 'model': {err}") from None
    if cfg.get("m2d_weights"):  # an official M2D weight file under the encoder (taggers, SC)
        m2d_encoder(model).load_official(resolve(cfg["m2d_weights"]))
    if cfg.get("init"):
        record = read_record(resolve(cfg["init"]))
        if cfg.get("init_modules"):
            modules = cast("list[str]", cfg["init_modules"])  # not None: the `if` above
            load_submodules(model, record["state_dict"], modules, source=str(cfg["init"]))
        else:
            load_state_dict_strict(model, record["state_dict"], source=str(cfg["init"]))
    task = TASK_CLASSES[cfg["task"]](**(cfg.get("task_options") or {}))
    params = task.trainable(model)
    model.to(device)
    betas = cast("tuple[float, float]", tuple(cfg["betas"]))  # the recipe's two, as a list
    opt = torch.optim.AdamW(params, lr=cfg["lr"], weight_decay=cfg["weight_decay"], betas=betas,
                            amsgrad=cfg["amsgrad"])
    use_amp = _uses_amp(cfg, device)
    task.amp_dtype = amp_dtype(cfg["amp_dtype"]) if use_amp else None
    # bfloat16 has float32's exponent range: only float16 needs its gradients scaled
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and task.amp_dtype == torch.float16)
    return TrainingState(model, task, params, opt, scaler)


def _uses_amp(cfg: TrainConfig, device: str) -> bool:
    return bool(cfg["amp"]) and str(device).startswith("cuda")


def resume(state: TrainingState, last: Path, identity: dict | None = None) -> bool:
    """Load `last.pt` into the state if it exists; True if it did. A `last.pt` of another training
    run (its recorded identity differs from `identity`: recipes.training_identity) is refused.

    Args:
        state: the freshly built state, changed in place (weights, optimiser, scaler, step, best).
        last: the run's last.pt.
        identity: this run's training identity (None: not checked).

    Returns:
        True if last.pt existed and was loaded, False if there is none.

    Raises:
        S5Error: If last.pt cannot be read or was written by another training run.
    """
    if not last.is_file():
        return False
    saved = read_record(last)
    check_same_training(saved.get("identity"), identity, last)
    state.model.load_state_dict(saved["state_dict"])
    state.opt.load_state_dict(saved["optimizer"])
    state.scaler.load_state_dict(saved["scaler"])
    state.step, state.best = saved["step"], saved["best"]
    return True


def save_last(state: TrainingState, last: Path, identity: dict | None = None) -> None:
    """Write the resume state (weights, optimiser, scaler, step, best score, identity) atomically.

    Args:
        state: the training state.
        last: the file to write (the run's last.pt).
        identity: the run's training identity, recorded for `resume` to compare.
    """
    with atomic_path(last, fsync=True) as tmp:
        torch.save({"state_dict": state.model.state_dict(), "optimizer": state.opt.state_dict(),
                    "scaler": state.scaler.state_dict(), "step": state.step, "best": state.best,
                    "identity": identity}, tmp)



def streams(cfg: TrainConfig, rank: int, world: int, start_step: int,
            pin_memory: bool = False) -> tuple[DataLoader, list | None]:
    """The training loader (rank-disjoint, resumed mid-stream; the recipe's `stems` corpus remixed,
    else the generator's scenes) and, on rank 0, the fixed validation batches (always the
    generator's scenes of the recipe's data config, so that runs on either stream compare).

    Args:
        cfg: the training config.
        rank: this process's rank (its stream seed is seed·1000 + rank).
        world: number of processes; above 1, rank 0 builds the room bank and all ranks wait at a barrier.
        start_step: steps already done; the stream starts start_step·batch_size scenes in.
        pin_memory: let the loader pin its batches (for copies to a GPU).

    Returns:
        The training DataLoader (endless), and the list of validation batches on rank 0 (None elsewhere).
    """
    data = data_config(cfg)
    if world > 1:  # rank 0 makes (and caches) a synthetic room bank alone; the others then read it
        if rank == 0:
            build_rooms(data, progress=False)
        dist.barrier()
    bs = cfg["batch_size"]
    seed = cfg["seed"] * 1000 + rank
    if cfg.get("stems"):  # dynamic mixing of a pre-rendered stem corpus (data_gen/stem_corpus.py)
        stream = StemStream(resolve(cfg["stems"]), seed=seed, start=start_step * bs, duration=cfg["stems_duration"])
    else:
        stream = SceneStream(data, seed=seed, start=start_step * bs)
    loader = DataLoader(stream, batch_size=bs, collate_fn=collate, num_workers=cfg["num_workers"],
                        pin_memory=pin_memory)  # pinned pages: the copies to a GPU need not block
    val = None
    if rank == 0:
        val = list(DataLoader(SceneStream(data, seed=cfg["val_seed"], length=cfg["val_size"]), batch_size=bs,
                              collate_fn=collate))
    return loader, val


def learning_rate(cfg: TrainConfig, step: int) -> float:
    """lr · lr_gamma^(number of milestones ≤ step): a step decay that depends on the step alone.

    Args:
        cfg: the training config (`lr`, `lr_gamma`, `lr_milestones`).
        step: steps done so far.

    Returns:
        The learning rate for the next step.
    """
    return cfg["lr"] * cfg["lr_gamma"] ** sum(step >= m for m in cfg["lr_milestones"])


def train_step(state: TrainingState, wrapped: nn.Module, batch: dict, cfg: TrainConfig,
               figures: bool = True) -> tuple[torch.Tensor, dict]:
    """One optimiser step (autocast, if any, is the task's: `state.task.amp_dtype`).

    Args:
        state: the training state (its step is incremented).
        wrapped: the StepModule (or its DistributedDataParallel wrapper) to call on the batch.
        batch: a stream batch on the model's device.
        cfg: the training config (learning-rate schedule, `grad_clip`).
        figures: compute the task's training figures (each reads a value back to the host).

    Returns:
        (the loss as a 0-d tensor, still on the device; the figures, {} without `figures`).
    """
    state.model.train()
    state.task.global_step = state.step
    state.task.want_figures = figures
    for group in state.opt.param_groups:  # from the step, so that a resumed optimiser follows the recipe
        group["lr"] = learning_rate(cfg, state.step)
    loss, metrics = wrapped(batch)
    state.opt.zero_grad(set_to_none=True)
    state.scaler.scale(loss).backward()
    state.scaler.unscale_(state.opt)
    if cfg["grad_clip"]:
        nn.utils.clip_grad_norm_(state.params, cfg["grad_clip"])
    state.scaler.step(state.opt)
    state.scaler.update()
    state.step += 1
    return loss.detach(), metrics


def validate_and_keep(state: TrainingState, cfg: TrainConfig, val, device: str,
                      work: Path) -> dict:  # val: streams' list
    """Validate; keep best.pt when the selection figure improves; always refresh last.pt.

    Args:
        state: the training state (its `best` is updated).
        cfg: the training config (selection figure and mode).
        val: the validation batches.
        device: where the model is.
        work: the work folder (best.pt and last.pt are written there).

    Returns:
        The validation figures (`validate`).
    """
    figures = validate(state.model, state.task, val, device)
    score = selection_score(figures, cfg)
    if score < state.best:
        state.best = score
        save_checkpoint(work / "best.pt", state.model, record_config(cfg), step=state.step, val=figures)
    save_last(state, work / "last.pt", training_identity(cfg))
    return figures


def train(cfg: TrainConfig, work_dir: str | Path, device: str = "cpu", progress: bool = True,
          command: str | None = None) -> dict:
    """Train one component from its config in `work_dir` (resuming from last.pt); export at the end.

    Args:
        cfg: the training config.
        work_dir: the work folder (last.pt, best.pt, log.csv; created if needed).
        device: "cpu", "cuda" or "cuda:N" (under torchrun, each rank's own GPU).
        progress: show a progress bar (rank 0).
        command: the command line recorded in the export.

    Returns:
        {"steps", "best_val_score", "seconds" (training time across resumed sessions), "world_size"},
        and "export" (the written file) on rank 0 when the config names one.

    Raises:
        S5Error: As `build_state` and `resume`, or if the log cannot be read back.
    """
    rank, world = shard_info(device)
    device = local_device(device)
    work = Path(work_dir)
    is_main = rank == 0
    state = build_state(cfg, device)
    if resume(state, work / "last.pt", training_identity(cfg)) and is_main:
        print(f"resuming {work} at step {state.step}")
    wrapped = StepModule(state.model, state.task)
    if world > 1:
        wrapped = nn.parallel.DistributedDataParallel(
            wrapped, device_ids=[torch.device(device).index] if device.startswith("cuda") else None,
            find_unused_parameters=True)
    if is_main:
        work.mkdir(parents=True, exist_ok=True)
    loader, val = streams(cfg, rank, world, state.step, pin_memory=device.startswith("cuda"))
    log_path = work / "log.csv"
    writer = _tensorboard(work) if (cfg["tensorboard"] and is_main) else None
    # time counts across resumed sessions, so the log and the export give the whole training time
    t_start = time.time() - (_rewind_log(log_path, state.step) if is_main else 0.0)
    bar = tqdm(total=cfg["steps"], initial=state.step, desc=f"train {cfg['name']}", disable=not (progress and is_main))
    it = iter(loader)
    while state.step < cfg["steps"]:
        logging = (state.step + 1) % cfg["log_every"] == 0 or state.step + 1 == cfg["steps"]
        loss, metrics = train_step(state, wrapped, _to(next(it), device), cfg, figures=logging)
        bar.update(1)
        if logging:  # the one read-back of the step
            loss = loss.item()
            bar.set_postfix(loss=f"{loss:.3f}")
            if is_main:
                _log(log_path, {"step": state.step, "split": "train", "loss": loss, **metrics,
                                "seconds": round(time.time() - t_start, 2)}, writer)
        if state.step % cfg["val_every"] == 0 or state.step == cfg["steps"]:
            if is_main:
                figures = validate_and_keep(state, cfg, val, device, work)
                _log(log_path, {"step": state.step, "split": "val", **figures,
                                "seconds": round(time.time() - t_start, 2)}, writer)
            if world > 1:
                dist.barrier()
    bar.close()
    seconds = time.time() - t_start
    result = {"steps": state.step, "best_val_score": state.best, "seconds": seconds, "world_size": world}
    if is_main and cfg.get("export"):
        result["export"] = str(export(cfg, work, command=command, seconds=seconds, world=world, device=device))
    if world > 1:
        dist.barrier()
    return result


@torch.no_grad()
def validate(model: nn.Module, task: Task, batches: list, device: str) -> dict:
    """Mean loss and figures over the validation batches, in full precision (so that runs with
    and without mixed precision select on comparable figures).

    Args:
        model: the model (set to eval mode, and left so).
        task: the task whose step computes the loss and figures (its amp_dtype restored afterwards).
        batches: collated validation batches.
        device: where the model is; the batches are moved there.

    Returns:
        {"loss": mean loss, figure: mean value, …} (empty without batches).
    """
    model.eval()
    sums, n = {}, 0
    dtype, task.amp_dtype, task.want_figures = task.amp_dtype, None, True
    try:
        for batch in batches:
            loss, metrics = task.step(model, _to(batch, device))
            for k, v in {"loss": float(loss), **metrics}.items():
                sums[k] = sums.get(k, 0.0) + v
            n += 1
    finally:
        task.amp_dtype = dtype
    return {k: v / max(n, 1) for k, v in sums.items()}


def _read_log(path: Path) -> tuple[list[str], list[dict]]:
    """A run's log.csv as (header, rows); ([], []) without one.

    Raises:
        S5Error: a row with more cells than the header (a log this function cannot read back).
    """
    if not Path(path).is_file():
        return [], []
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        rows = [r for r in reader if r.get("step")]
        header = list(reader.fieldnames or [])
    for row in rows:
        if None in row:  # DictReader's key for cells beyond the header
            raise S5Error(f"{path}: the row of step {row['step']} has more cells than the header "
                          f"{','.join(header)}; add the missing column names to the header")
    return header, rows


def _header_of(path: Path) -> list[str]:
    if not Path(path).is_file():
        return []
    with open(path, newline="") as f:
        return next(csv.reader(f), [])


def _seconds_of(rows: list[dict]) -> float | None:
    return float(rows[-1]["seconds"]) if rows and rows[-1].get("seconds") else None


def _write_log(path: Path, header: list[str], rows: list[dict]) -> None:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=header, restval="")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, text.getvalue())


def _rewind_log(path: Path, step: int) -> float:
    """Drop log rows written after `step` (a run stopped between validations resumes from the
    last one and writes those steps again); return the training seconds logged up to `step`."""
    header, rows = _read_log(path)
    if not header:
        return 0.0
    rows = [r for r in rows if int(r["step"]) <= step]
    _write_log(path, header, rows)
    return _seconds_of(rows) or 0.0


def logged_seconds(path: Path) -> float | None:
    """The training seconds of a run's log.csv (its last row), or None without a log.

    Args:
        path: the run's log.csv.

    Returns:
        The `seconds` of its last row, or None without a log, rows or seconds.

    Raises:
        S5Error: If a row has more cells than the header.
    """
    return _seconds_of(_read_log(path)[1])


def _log(path: Path, row: dict, writer=None):
    """Append a row to the CSV log (and its numbers to TensorBoard, under train/ or val/).

    Validation rows carry figures the training rows do not: a key the header lacks is added
    to it (the log rewritten once), so every row of the file reads back under its own names.
    """
    header = _header_of(path)
    if not set(row) <= set(header):
        rows = _read_log(path)[1]
        header = header + [k for k in row if k not in header]
        _write_log(path, header, rows)
    with open(path, "a", newline="") as f:
        csv.DictWriter(f, fieldnames=header, restval="").writerow(row)
    if writer is not None:
        for key, value in row.items():
            if key not in ("step", "split", "seconds") and isinstance(value, (int, float)):
                writer.add_scalar(f"{row['split']}/{key}", value, row["step"])


def _tensorboard(work):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        print("tensorboard is not installed; logging to CSV only")
        return None
    return SummaryWriter(work / "tensorboard")
