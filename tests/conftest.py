import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # tests run from a checkout even before `pip install -e .`
    sys.path.insert(0, str(ROOT))

import pytest
import yaml


def tiny_data_config(tmp_path, seed=0, duration=2.0, **overrides):
    """A small built-in recipe: 2 synthetic rooms of 6 positions with 0.1 s responses."""
    cfg = {
        "engine": "builtin",
        "sr": 32000,
        "targets": {"procedural": {"seed": seed + 1, "n_per_label": 5}},
        "interference": {"procedural": {"seed": seed + 2, "n_per_label": 3}},
        "noise": {"procedural": {"seed": seed + 3, "n_files": 3, "seconds": duration + 2}},
        "rooms": {"synthetic": {"n_rooms": 2, "n_positions": 6, "seed": 5, "ir_seconds": 0.1,
                                "max_order": 6, "cache_dir": str(tmp_path / "rooms")}},
        "scene": {"duration": duration},
    }
    cfg.update(overrides)
    path = tmp_path / "data.yaml"
    path.write_text(yaml.safe_dump(cfg))
    from data_gen.config import load_config

    return load_config(path)


@pytest.fixture
def tiny_cfg(tmp_path):
    return tiny_data_config(tmp_path)


@pytest.fixture(scope="session")
def tiny_test_set(tmp_path_factory):
    """Six 2-second mixtures in the official layout, made once per test session."""
    from data_gen.writer import generate_set

    root = tmp_path_factory.mktemp("tiny_set")
    cfg = tiny_data_config(root)
    generate_set(cfg, root / "set", n=6, seed=0, jobs=1, progress=False)
    return root / "set"
