"""data_gen/config.py: a data config's values of the wrong kind are refused naming the file and the
key, before anything is drawn (issue 41, row 8)."""
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import tiny_data_config

from s5bench.common.errors import S5Error
from s5bench.data_gen.config import load_config

ROOT = Path(__file__).resolve().parents[1]


def write_recipe(tmp_path, top: dict | None = None, scene: dict | None = None) -> Path:
    cfg = tiny_data_config(tmp_path)
    del cfg["_path"]
    cfg.update(top or {})
    cfg["scene"] = {**cfg.get("scene", {}), **(scene or {})}
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.parametrize("top,scene,message", [
    ({}, {"target_snr": [float("nan"), 5.0]}, r": scene\.target_snr: a range \[low, high\] of two numbers is needed, "
                                              r"not \[nan, 5\.0\]"),
    ({}, {"interference_snr": [0.0, float("inf")]}, r": scene\.interference_snr: a range"),
    ({}, {"duration": float("nan")}, r": scene\.duration: a positive number of seconds is needed, not nan"),
    ({"sr": "fast"}, {}, r": sr: a positive whole number of Hz is needed, not 'fast'"),
    ({}, {"ref_db": "loud"}, r": scene\.ref_db: a level in dB \(a finite number\) is needed, not 'loud'"),
    ({"subtype": "PCM_99"}, {}, r": subtype: one of FLOAT, PCM_16 is needed, not 'PCM_99'"),
    ({"engine": "fastest"}, {}, r": engine: one of builtin, spatialscaper is needed, not 'fastest'"),
    ({}, {"ref_channel": 7}, r": scene\.ref_channel: a channel of the 4-channel mixture \(0 to 3\) is needed, not 7"),
    ({}, {"dupse_min_angle": "wide"}, r": scene\.dupse_min_angle: an angle in degrees"),
])
def test_a_recipe_value_of_the_wrong_kind_is_refused_naming_file_and_key(tmp_path, top, scene, message):
    path = write_recipe(tmp_path, top, scene)
    with pytest.raises(S5Error, match=rf"data config {path}{message}"):
        load_config(path)


def test_a_refused_recipe_leaves_no_folder(tmp_path):
    path = write_recipe(tmp_path, {"sr": "fast"})
    out = tmp_path / "o"
    r = subprocess.run([sys.executable, str(ROOT / "runners" / "generate.py"), "--config", str(path), "--out",
                        str(out), "--n", "2"], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr == f"error: data config {path}: sr: a positive whole number of Hz is " \
                                             "needed, not 'fast'\n"
    assert not out.exists()




def test_a_noise_kind_with_no_keys_takes_its_defaults(tmp_path):
    """`noise: {procedural: null}` passes the schema (a kind with no keys): the bank used to get
    **None and fail with a TypeError (shown as a bug in s5bench)."""
    from s5bench.data_gen.config import build_noise

    cfg = load_config(write_recipe(tmp_path, {"noise": {"procedural": None}}))
    assert len(build_noise(cfg).files()) == 50  # ProceduralNoiseBank's default n_files
