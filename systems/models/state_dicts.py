"""Saving and strictly loading state dicts: the bottom of the checkpoint code, imported by the
models (which load released weights) and by the loader that builds them (`checkpoints.py`)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from s5bench.common.atomic import atomic_path
from s5bench.common.errors import S5Error

# The layout of an exported record; checkpoints.migrate reads older ones (files without the key are format 1).
CHECKPOINT_FORMAT = 2


def save_checkpoint(path: str | Path, model: nn.Module, config: dict, **extra) -> Path:
    """State dict with the config that built the model (and anything else, e.g. thresholds),
    written through a temporary file.

    Args:
        path: the file to write (replaced atomically, synced to disk).
        model: the model whose state dict is saved.
        config: the config that rebuilds it ({"task": …, "model": {…}} for `checkpoints.load_component`).
        **extra: further entries of the record (e.g. `training`, `step`, `val`).

    Returns:
        The path written, as a Path.
    """
    path = Path(path)
    with atomic_path(path, fsync=True) as tmp:
        torch.save({"state_dict": model.state_dict(), "config": config, "format": CHECKPOINT_FORMAT, **extra}, tmp)
    return path


def load_state_dict_strict(model: nn.Module, state: dict, source: str = "checkpoint") -> None:
    """load_state_dict(strict=True) with an error that lists what is missing and unexpected.

    Args:
        model: the model to fill (in place).
        state: a state dict with exactly the model's keys and shapes.
        source: what `state` came from, named in the error.

    Raises:
        S5Error: If keys are missing or unexpected, or a tensor has another shape (up to 20 of each listed).
    """
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
        raise S5Error("\n".join(lines))
    model.load_state_dict(state, strict=True)


def load_submodules(model: nn.Module, state: dict, names: list[str], source: str = "checkpoint") -> None:
    """Load only the named submodules of `model` from a whole model's state dict, each strictly.

    Args:
        model: the model to fill.
        state: a state dict of a model that has submodules of the same names and shapes.
        names: submodule names (e.g. ["encoder"]).
        source: what `state` came from, for the error.

    Raises:
        S5Error: if a name is not a submodule of `model`, or the file's part does not fit it
            (listing what is missing, unexpected or of another shape).
    """
    modules = dict(model.named_children())
    for name in names:
        if name not in modules:
            raise S5Error(f"{source}: init_modules names {name!r}, not a submodule of {type(model).__name__} "
                          f"(it has: {', '.join(modules)})")
        prefix = f"{name}."
        part = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        load_state_dict_strict(modules[name], part, source=f"{source} ({name})")


def load_checkpoint(path: str | Path, build: Callable[[dict], nn.Module]) -> tuple[nn.Module, dict]:
    """`build(config) -> model`; returns the model with the file's weights and the whole record.

    Args:
        path: a checkpoint file written by `save_checkpoint`.
        build: builds the model from the record's `config`.

    Returns:
        The model with the file's weights (strictly loaded) and the whole record.

    Raises:
        S5Error: If the file cannot be read, or its weights do not fit the model.
    """
    record = read_record(path)
    model = build(record["config"])
    load_state_dict_strict(model, record["state_dict"], source=str(path))
    return model, record


def read_record(path: str | Path) -> dict:
    """torch.load of a checkpoint file, with an error that names it when it cannot be read.

    Args:
        path: the file (loaded on the CPU, unpickling allowed: only load trusted files).

    Returns:
        The record it holds.

    Raises:
        S5Error: If torch cannot load it (truncated or not a PyTorch file), or it holds no dict.
        FileNotFoundError: If the file does not exist.
    """
    try:
        record = torch.load(path, map_location="cpu", weights_only=False)
    except (RuntimeError, EOFError, OSError, ValueError) as err:
        size = Path(path).stat().st_size
        raise S5Error(f"checkpoint {path} ({size} bytes) cannot be loaded: {err}; the file looks truncated or "
                      "is not a PyTorch checkpoint (copy or export it again)") from None
    if not isinstance(record, dict):
        raise S5Error(f"checkpoint {path}: holds a {type(record).__name__}, not a checkpoint record")
    return record
