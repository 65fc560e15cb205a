"""Part 0: what the run ran on (versions, GPU, cores) and whether the carried data-path packages
work there: a SOFA room file written and read back (sofar is installed with --no-deps against a
newer numpy than it declares), soundfile and pyroomacoustics imported."""
from __future__ import annotations

import importlib
import os
import platform
import tempfile
from pathlib import Path

import numpy as np
import torch

PACKAGES = ("numpy", "scipy", "pandas", "soundfile", "sofar", "netCDF4", "pyroomacoustics", "matplotlib")


def sofa_round_trip() -> str:
    """'ok' when a small FOA room written by data_gen.rooms reads back equal, else the error."""
    try:
        import sofar

        from s5bench.data_gen.rooms import write_sofa_room

        irs = np.random.default_rng(0).standard_normal((2, 4, 64))
        with tempfile.TemporaryDirectory() as tmp:
            path = write_sofa_room(Path(tmp) / "room.sofa", irs, np.ones((2, 3)), 32000)
            # sofar documents `verify` as a bool; unannotated, its type is inferred from the default "auto"
            sofa = sofar.read_sofa(str(path), verify=False)  # pyright: ignore[reportArgumentType]
            back = getattr(sofa, "Data_IR")  # the convention's variables are attributes set at run time
        return "ok" if np.array_equal(np.asarray(back), irs) else "failed: the impulse responses differ"
    except Exception as err:  # noqa: BLE001 (any failure is the finding to report)
        return f"failed: {type(err).__name__}: {err}"[:200]


def describe(device: str) -> dict:
    """Versions, device and checks, as {name: text}."""
    info = {"python": platform.python_version(), "torch": torch.__version__,
            "cuda (torch)": str(torch.version.cuda), "cpu cores": str(os.cpu_count())}
    if str(device).startswith("cuda") and torch.cuda.is_available():
        props = torch.cuda.get_device_properties(device)
        info["gpu"] = (f"{props.name}, {props.total_memory / 2 ** 30:.0f} GiB, "
                       f"compute capability {props.major}.{props.minor}")
    for name in PACKAGES:
        try:
            info[name] = getattr(importlib.import_module(name), "__version__", "present")
        except Exception as err:  # noqa: BLE001
            info[name] = f"missing ({type(err).__name__})"
    try:
        importlib.import_module("mamba_ssm")
        info["mamba_ssm"] = "importable (not used: the models run the pure-PyTorch Mamba-2)"
    except Exception:  # noqa: BLE001
        info["mamba_ssm"] = "not installed: the pure-PyTorch Mamba-2 (systems/models/mamba2.py) is measured"
    info["SOFA round trip"] = sofa_round_trip()
    return info
