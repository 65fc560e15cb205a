"""Part 1, parity: each paper-size component with the same weights on the same input on the
device and on the CPU, in float32, and the largest relative difference of their outputs.

Relative difference of an output: max |device − cpu| / max |cpu| over its elements (0 for equal
outputs); a component's figure is the largest over its outputs. Float32 means TF32 off for
matrix products and convolutions; the same forward with PyTorch's default (cuDNN convolutions
in TF32) is given beside it.
"""
from __future__ import annotations

import contextlib
import copy
import time
from pathlib import Path

import torch

from s5bench.systems.models.checkpoints import build_model
from s5bench.systems.training.recipes import load_train_config

from .common import COMPONENTS, Budget, n_params_m, synthetic_batch, write_csv

COLUMNS = ("component", "task", "recipe", "params_M", "clip_s", "outputs", "max_rel_diff", "worst_output",
           "max_abs_diff", "max_rel_diff_tf32", "cpu_s", "device_s", "status")


def inputs(task: str, batch: dict) -> tuple[str | None, tuple]:
    """The model method (None: forward) and its arguments for one component on a stream batch."""
    mix, hot = batch["mixture"], batch["label_vector"]
    if task == "uss":
        return None, (mix,)
    if task == "tse":  # each scene's first target, enrolled with itself plus some mixture
        return None, (mix, batch["targets"][:, 0] + 0.3 * mix[:, 0], hot[:, 0])
    if task in ("sc", "tagger"):
        return None, (mix[:, 0],)
    if task == "separator":
        return None, (mix, hot.reshape(len(mix), -1))
    if task == "slot_tagger":
        return "mixture_logits", (mix,)
    raise ValueError(f"no parity inputs for task {task!r}")


def flat_outputs(out, prefix: str = "out") -> dict[str, torch.Tensor]:
    """A model's outputs (a tensor, or dicts/tuples of them) as {name: float tensor on the CPU}."""
    if torch.is_tensor(out):
        return {prefix: out.detach().float().cpu()} if out.is_floating_point() or out.is_complex() else {}
    if isinstance(out, dict):
        return {k2: v2 for k, v in out.items() for k2, v2 in flat_outputs(v, f"{prefix}.{k}").items()}
    if isinstance(out, (list, tuple)):
        return {k2: v2 for i, v in enumerate(out) for k2, v2 in flat_outputs(v, f"{prefix}[{i}]").items()}
    return {}


def relative_difference(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> tuple[float, str, float]:
    """(largest max|a−b|/max|a| over the outputs, the output it is on, its max|a−b|).

    Raises:
        ValueError: when the two sides do not have the same outputs and shapes.
    """
    if a.keys() != b.keys() or any(a[k].shape != b[k].shape for k in a):
        raise ValueError(f"outputs differ in names or shapes: {sorted(a)} vs {sorted(b)}")
    worst = (0.0, "", 0.0)
    for k in a:
        diff = float((a[k] - b[k]).abs().max()) if a[k].numel() else 0.0
        scale = float(a[k].abs().max()) if a[k].numel() else 0.0
        rel = diff / scale if scale > 0 else (0.0 if diff == 0 else float("inf"))
        if rel > worst[0] or not worst[1]:
            worst = (rel, k, diff)
    return worst


@contextlib.contextmanager
def tf32(enabled: bool):
    """TF32 for CUDA matrix products and cuDNN convolutions on or off, restored afterwards."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = enabled
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


@torch.no_grad()
def run_component(name: str, device: str, tiny: bool, clip_s: float) -> dict:
    task, paper, small, extra = COMPONENTS[name]
    recipe = small if tiny else paper
    model_cfg = {**(load_train_config(recipe)["model"] or {}), **extra}
    torch.manual_seed(0)
    model = build_model(task, model_cfg).eval()
    batch = synthetic_batch(1, clip_s, seed=1, repeated_class="2026" in name)
    method, args = inputs(task, batch)

    def call(m, a):
        return getattr(m, method)(*a) if method else m(*a)

    t0 = time.perf_counter()
    ref = flat_outputs(call(model, args))
    cpu_s = time.perf_counter() - t0
    other = copy.deepcopy(model).to(device)
    dev_args = tuple(a.to(device) for a in args)
    with tf32(False):
        t0 = time.perf_counter()
        out = flat_outputs(call(other, dev_args))
        device_s = time.perf_counter() - t0
    rel, worst, diff = relative_difference(ref, out)
    with tf32(True):
        rel_tf32 = relative_difference(ref, flat_outputs(call(other, dev_args)))[0]
    return {"component": name, "task": task, "recipe": recipe, "params_M": n_params_m(model), "clip_s": clip_s,
            "outputs": len(ref), "max_rel_diff": rel, "worst_output": worst, "max_abs_diff": diff,
            "max_rel_diff_tf32": rel_tf32, "cpu_s": cpu_s, "device_s": device_s, "status": "done"}


def run(out_dir: Path, device: str, tiny: bool, budget: Budget, clip_s: float) -> Path:
    """Every component in turn until the budget is spent; parity.csv rewritten after each one."""
    rows = []
    path = Path(out_dir) / "parity.csv"
    for name in COMPONENTS:
        if budget.over():
            rows.append({"component": name, "status": "skipped: time budget spent"})
        else:
            try:
                rows.append(run_component(name, device, tiny, clip_s))
            except (RuntimeError, ValueError) as err:  # one component's failure must not stop the rest
                rows.append({"component": name, "status": f"failed: {type(err).__name__}: {err}"[:300]})
            print(f"parity: {rows[-1]}", flush=True)
        write_csv([{c: r.get(c) for c in COLUMNS} for r in rows], path)
    return path
