"""Issue 34, configs: a system class is checked before it is called, malformed YAML names the file
and line, `args:` keys are checked through **kwargs, data recipes are checked against their
schema before anything is drawn, and every such error leaves a runner with exit status 2."""
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import tiny_data_config

from s5bench.common.errors import S5Error
from s5bench.data_gen.config import load_config
from s5bench.systems import System, build_system

ROOT = Path(__file__).resolve().parents[1]
CALLED = []


def not_a_system(**kwargs):
    CALLED.append(kwargs)


class TakesKwargs(System):
    def __init__(self, gain: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.gain = gain


def test_a_class_that_is_no_system_is_refused_before_it_is_called(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    cfg = tmp_path / "evil.yaml"
    cfg.write_text("class: test_config_faults:not_a_system\nargs: {command: touch pwned}\n")
    with pytest.raises(S5Error, match=r"evil.yaml: class 'test_config_faults:not_a_system' is not a System"):
        build_system(str(cfg))
    assert CALLED == []
    (tmp_path / "os.yaml").write_text("class: os:system\nargs: {command: touch pwned}\n")
    r = subprocess.run([sys.executable, str(ROOT / "runners" / "run_system.py"), "--system", str(tmp_path / "os.yaml"),
                        "--data", str(tmp_path / "data"), "--out", str(tmp_path / "out")],  # out apart from data
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2 and "is not a System subclass" in r.stderr and not (tmp_path / "pwned").exists()


def test_an_unknown_argument_through_kwargs_is_named(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    cfg = tmp_path / "kw.yaml"
    cfg.write_text("class: test_config_faults:TakesKwargs\nargs: {gain: 2.0, gian: 3.0}\n")
    with pytest.raises(ValueError, match=r"kw.yaml: unknown argument\(s\) 'gian' under `args:` for TakesKwargs; "
                                         r"it takes: gain"):
        build_system(str(cfg))
    cfg.write_text("class: test_config_faults:TakesKwargs\nargs: {gain: 2.0}\n")
    assert build_system(str(cfg)).gain == 2.0


def test_malformed_yaml_names_the_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("class: s5bench.systems.oracle:OracleSources\nargs: {a: [1, 2}\n")
    with pytest.raises(S5Error, match=r"system config .*bad.yaml: malformed YAML at line 2, column \d+"):
        build_system(str(bad))
    bad.write_text("engine: builtin\ntargets:\n  procedural: {seed: 1\n")
    with pytest.raises(S5Error, match=r"data config .*bad.yaml: malformed YAML at line \d+"):
        load_config(bad)
    r = subprocess.run([sys.executable, str(ROOT / "runners" / "generate.py"), "--config", str(bad), "--out",
                        str(tmp_path / "o"), "--n", "1"], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.startswith(f"error: data config {bad}: malformed YAML at line")


def write_recipe(tmp_path, **changes):
    cfg = tiny_data_config(tmp_path)
    del cfg["_path"]
    for dotted, value in changes.items():
        section, _, key = dotted.partition("__")
        if key:
            cfg.setdefault(section, {})[key] = value
        else:
            cfg[section] = value
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


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
