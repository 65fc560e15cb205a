"""The official releases in one place: where each released file comes from, the check that they
are all there, and loading a released tagger (a Lightning checkpoint) strictly into this
project's modules. The released ResUNetK is loaded by `ResUNetK.load_official`."""
from __future__ import annotations

from pathlib import Path

import torch

from .models.checkpoints import build_model
from .models.m2d import M2DEncoder, M2DTagger
from .models.resunet import strip_prefix
from .models.state_dicts import load_state_dict_strict, read_record

M2D_WEIGHTS = "m2d_as_vit_base-80x1001p16x16p32k-240413_AS-FT_enconly.zip of the nttcslab/m2d v0.3.0 release"
SOURCES_2025 = {
    "separator": "resunetk.ckpt in baseline_checkpoint.zip of the nttcslab/dcase2025_task4_baseline v1.0.0 release",
    "tagger": "m2dat.ckpt in baseline_checkpoint.zip of the nttcslab/dcase2025_task4_baseline v1.0.0 release",
    "weight_file": M2D_WEIGHTS,
}
SOURCES_2026 = {
    "separator": "resunetk.ckpt of the nttcslab/dcase2026_task4_baseline release",
    "tagger": "m2dat_1c.ckpt or m2dat_4c.ckpt of the nttcslab/dcase2026_task4_baseline release",
    "weight_file": M2D_WEIGHTS,
}


def check_official_files(paths: dict, sources: dict, what: str, config: str) -> None:
    """Every released file a system needs, or one error naming each missing file, where it is
    released (`sources`) and the system-config key that points at it.

    Args:
        paths: {config key: the file's Path, or None where the config gives none (not checked)}.
        sources: {config key: where the file is released} (SOURCES_2025, SOURCES_2026).
        what: the system, named in the error.
        config: a shipped config that names the files, named in the error.

    Raises:
        FileNotFoundError: a file is missing, listing every missing one.
    """
    missing = [(key, path) for key, path in paths.items() if path is not None and not path.is_file()]
    if missing:
        lines = [f"  args.{key}: {path} (from {sources[key]})" for key, path in missing]
        raise FileNotFoundError(f"{what}'s released weights are missing (nothing is downloaded here; put them "
                                f"there or point the config keys at them, e.g. in {config}):\n" + "\n".join(lines))


def load_released_tagger(model: torch.nn.Module, path: str | Path, known_key: str) -> torch.nn.Module:
    """A released tagger checkpoint loaded strictly into `model`: its keys' Lightning prefix is
    found from `known_key` (a key the model has) and removed, and the official front end's fixed
    STFT/mel tables (nnAudio's `to_spec`, at any depth) are set aside: torch.stft replaces them.

    Args:
        model: the module to load into.
        path: the released checkpoint (its `state_dict`, or the file's mapping itself).
        known_key: a key of `model`'s state dict, to find the prefix by.

    Returns:
        `model`, loaded.
    """
    state = read_record(path)
    state = strip_prefix(state.get("state_dict", state), known_key)
    state = {k: v for k, v in state.items() if "to_spec" not in k.split(".")}
    load_state_dict_strict(model, state, source=str(path))
    return model


def load_tagger_2025(path: str | Path, weight_file: str | Path) -> torch.nn.Module:
    """The 2025 release's m2dat.ckpt (M2D-AT on channel 0).

    Args:
        path: the released m2dat.ckpt.
        weight_file: the M2D weight file it was built on (its folder's name and tensors give the sizes).

    Returns:
        The M2DTagger, loaded.
    """
    return load_released_tagger(M2DTagger(**M2DEncoder.weight_file_config(weight_file)), path,
                                "head_norm.running_mean")


def load_tagger_2026(path: str | Path, weight_file: str | Path, n_channels: int, head_args: dict | None = None
                     ) -> torch.nn.Module:
    """The 2026 release's m2dat_1c.ckpt / m2dat_4c.ckpt (slot tagger on 1 or 4 channels).

    Args:
        path: the released checkpoint.
        weight_file: the M2D weight file it was built on (its folder's name and tensors give the sizes).
        n_channels: the tagger's input channels, 1 or 4.
        head_args: the slot head's sizes, the official config's (track_input_dim 1024,
            track_hidden_dim 512); None: the head's defaults.

    Returns:
        The slot tagger, loaded.
    """
    tagger = build_model("slot_tagger", {**M2DEncoder.weight_file_config(weight_file), **(head_args or {}),
                                         "n_channels": n_channels})
    return load_released_tagger(tagger, path, "head.m2d_out_norm.running_mean")  # both taggers have it
