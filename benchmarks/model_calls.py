"""The five model calls whose times make up the pipeline's and the baseline's inference (the USS,
the SC and the TSE on three sources, the baseline's tagger and separator), on one random mixture:
what the speed benchmarks time, on the CPU (`runners/bench_speed.py`) and on a GPU
(`benchmarks/gpu/inference.py`)."""
from __future__ import annotations

from typing import Callable

import torch

from s5bench.common.labels import SAMPLE_RATE
from s5bench.systems.models.checkpoints import build_model
from s5bench.systems.training.recipes import load_train_config

# The recipes whose models each size builds (untrained: timing does not need weights).
SIZES = {
    "tiny": {"uss": "uss_tiny", "sc": "sc_tiny", "tse": "tse_tiny", "tagger": "tagger_tiny",
             "separator": "separator_tiny"},
    "paper": {"uss": "uss_paper", "sc": "sc_paper", "tse": "tse_paper", "tagger": "tagger_head",
              "separator": "separator_paper"},
}


def model_calls(size: str, seconds: float, device: str
                ) -> tuple[dict[str, torch.nn.Module], dict[str, Callable[[], object]]]:
    """The five models and their calls on one seeded random mixture, each call a closure to time.

    Args:
        size: "tiny" or "paper" (`SIZES`).
        seconds: the mixture's length in seconds (32 kHz, 4 channels).
        device: where the models and the mixture live.

    Returns:
        (the models by task, for their sizes; {"uss", "sc x3", "tse x3", "tagger", "separator"}: the
        calls, without arguments).
    """
    T = int(seconds * SAMPLE_RATE)
    torch.manual_seed(0)
    models = {task: build_model(task, load_train_config(name)["model"]).to(device).eval()
              for task, name in SIZES[size].items()}
    mix = torch.randn(1, 4, T, device=device) * 0.1
    one_hot = torch.eye(18, device=device)[:3]
    three = mix[:, 0].expand(3, -1).contiguous()
    return models, {
        "uss": lambda: models["uss"](mix),
        "sc x3": lambda: models["sc"](three),
        "tse x3": lambda: models["tse"](mix.expand(3, -1, -1), three, one_hot),
        "tagger": lambda: models["tagger"](mix[:, 0]),
        "separator": lambda: models["separator"](mix, one_hot.reshape(1, -1)),
    }
