"""data_gen/config.py: a data config's values of the wrong kind are refused naming the file and the
key, before anything is drawn (issue 41, row 8); a recipe is checked against its schema
(data_gen/recipe_schema.py); its relative paths are taken from its folder."""
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import tiny_data_config

from s5bench.common.errors import S5Error
from s5bench.data_gen.config import load_config

ROOT = Path(__file__).resolve().parents[1]


def write_recipe(tmp_path, top: dict | None = None, scene: dict | None = None, **changes) -> Path:
    """The tiny recipe with `top`'s sections and `scene`'s keys set, then each of `changes`: `section=value`
    replaces a section, `section__key=value` sets one key of it."""
    cfg = tiny_data_config(tmp_path)
    del cfg["_path"]
    cfg.update(top or {})
    cfg["scene"] = {**cfg.get("scene", {}), **(scene or {})}
    for dotted, value in changes.items():
        section, _, key = dotted.partition("__")
        if key:
            cfg.setdefault(section, {})[key] = value
        else:
            cfg[section] = value
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


def test_a_recipes_relative_paths_are_taken_from_its_folder(tmp_path, monkeypatch):
    import yaml
    from conftest import tiny_data_config

    from s5bench.data_gen.config import build_rooms, build_sources, load_config

    recipe_dir, elsewhere = tmp_path / "recipes", tmp_path / "elsewhere"
    recipe_dir.mkdir()
    elsewhere.mkdir()
    cfg = tiny_data_config(tmp_path)
    del cfg["_path"]
    cfg["rooms"]["synthetic"].update(cache_dir="cache/rooms", n_rooms=1, n_positions=2)
    (recipe_dir / "r.yaml").write_text(yaml.safe_dump(cfg))
    monkeypatch.chdir(elsewhere)
    build_rooms(load_config(recipe_dir / "r.yaml"), progress=False)
    assert any((recipe_dir / "cache" / "rooms").iterdir()) and not any(elsewhere.iterdir())
    cfg["targets"] = {"folder": {"root": "se"}}
    (recipe_dir / "r.yaml").write_text(yaml.safe_dump(cfg))
    with pytest.raises(FileNotFoundError, match=rf"target bank folder 'se' not found: looked for "
                                                rf"{recipe_dir}/se \(relative paths are taken against {recipe_dir}"):
        build_sources(load_config(recipe_dir / "r.yaml"), "target")


@pytest.mark.parametrize("changes,message", [
    ({"targets": {"folder": {"root": "x", "rooot": "y"}}}, r"targets\.folder: unknown key\(s\) 'rooot'"),
    ({"targets": {"folder": {"roots": "x"}}}, r"targets\.folder: unknown key\(s\) 'roots'"),
    ({"targets": {"procedural": {"seed": 1, "n_per_lable": 3}}}, r"targets\.procedural: unknown key\(s\) "
                                                                  r"'n_per_lable'"),
    ({"targets": {}}, r"targets: one bank entry of the form"),
    ({"targets": None}, r"targets: one bank entry of the form"),
    ({"scene__target_snr": [20.0, 5.0]}, r"scene\.target_snr: the range \[20\.0, 5\.0\] is reversed"),
    ({"scene__interference_snr": [15.0, -15.0]}, r"scene\.interference_snr: the range .* is reversed"),
    ({"scene__n_targets": []}, r"scene\.n_targets: a range \[low, high\] of two whole numbers is needed"),
    ({"scene__n_targets": [4, 6]}, r"scene\.n_targets: \[4, 6\] is out of its limits: within \[1, 3\]"),
    ({"scene__n_targets": [0, 2]}, r"scene\.n_targets: \[0, 2\] is out of its limits"),
    ({"scene__duration": -2.0}, r"scene\.duration: a positive number of seconds is needed, not -2\.0"),
    ({"noise": {"procedural": {"seed": 1, "n_files": 0}}}, r"noise\.procedural\.n_files: a whole number of at "
                                                            r"least 1"),
])
def test_a_recipe_is_checked_against_its_schema_before_anything_is_drawn(tmp_path, changes, message):
    path = write_recipe(tmp_path, **changes)
    with pytest.raises(S5Error, match=rf"data config {path}: {message}"):
        load_config(path)


def test_2026_allows_no_target_and_a_bad_recipe_or_seed_exits_2(tmp_path):
    assert load_config(write_recipe(tmp_path, scene__edition=2026, scene__n_targets=[0, 3]))
    path = write_recipe(tmp_path, scene__n_targets=[4, 6])
    r = subprocess.run([sys.executable, str(ROOT / "runners" / "generate.py"), "--config", str(path), "--out",
                        str(tmp_path / "o"), "--n", "1"], capture_output=True, text=True)
    assert r.returncode == 2 and "scene.n_targets" in r.stderr and not (tmp_path / "o").exists()
    r = subprocess.run([sys.executable, str(ROOT / "runners" / "generate.py"), "--config", str(path), "--out",
                        str(tmp_path / "o"), "--n", "1", "--seed", "-5"], capture_output=True, text=True)
    assert r.returncode == 2 and "argument --seed: must be a whole number of at least 0, not -5" in r.stderr
