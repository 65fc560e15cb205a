"""runners/gpu_bootstrap.py: `s5bench` importable from a checkout with nothing installed (the GPU
machine), checked in a clean interpreter (`python -I`: no PYTHONPATH, no user site, no cwd)."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("gpu_bootstrap", CHECKOUT / "runners" / "gpu_bootstrap.py")
gpu_bootstrap = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gpu_bootstrap)

PROBE = """
import sys
sys.path.insert(0, sys.argv[1])
import s5bench, s5bench.runners.cli
from s5bench.systems.training import trainer
from s5bench.systems.training.recipes import load_train_config
from s5bench.systems.models.checkpoints import build_model
cfg = load_train_config("uss_tiny")
model = build_model(cfg["task"], cfg["model"])
print(s5bench.__file__)
print(trainer.__file__)
print(list(s5bench.__path__))
print(sum(p.numel() for p in model.parameters()))
"""


def test_the_namespace_maps_every_package_dir_of_pyproject(tmp_path):
    dest = gpu_bootstrap.build(tmp_path / "ns")
    mapping = gpu_bootstrap.package_dirs(CHECKOUT / "pyproject.toml")
    linked = sorted(p.name for p in (dest / "s5bench").iterdir() if p.is_symlink())
    assert linked == sorted(k.split(".")[1] for k in mapping if k.count(".") == 1)
    for name in linked:
        assert (dest / "s5bench" / name).resolve() == (CHECKOUT / mapping[f"s5bench.{name}"]).resolve()
    assert not (dest / "s5bench" / "__init__.py").is_symlink()  # a copy: its __file__ stays in DEST
    gpu_bootstrap.build(dest)  # a second build replaces the first
    assert sorted(p.name for p in (dest / "s5bench").iterdir() if p.is_symlink()) == linked


def test_a_clean_interpreter_imports_the_checkout_through_the_namespace(tmp_path):
    dest = gpu_bootstrap.build(tmp_path / "ns")
    out = subprocess.run([sys.executable, "-I", "-c", PROBE, str(dest)], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    init, trainer_file, path, n_params = out.stdout.split("\n")[:4]
    assert Path(init) == dest / "s5bench" / "__init__.py"
    assert Path(trainer_file) == dest / "s5bench" / "systems" / "training" / "trainer.py"
    assert Path(trainer_file).resolve() == CHECKOUT / "systems" / "training" / "trainer.py"
    assert str(dest) in path
    assert int(n_params) > 0


def test_package_dirs_without_tomllib_read_the_same_table(tmp_path, monkeypatch):
    expected = gpu_bootstrap.package_dirs(CHECKOUT / "pyproject.toml")
    monkeypatch.setitem(sys.modules, "tomllib", None)  # import fails: the Python 3.10 branch
    assert gpu_bootstrap.package_dirs(CHECKOUT / "pyproject.toml") == expected
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    with pytest.raises(ValueError, match="package-dir"):
        gpu_bootstrap.package_dirs(tmp_path / "pyproject.toml")


@pytest.mark.parametrize("optimize", [[], ["-OO"]])
def test_without_a_destination_it_prints_its_usage_even_without_docstrings(optimize):
    # python -OO strips docstrings: the usage line used to come from __doc__ alone (AttributeError on None)
    out = subprocess.run([sys.executable, *optimize, str(CHECKOUT / "runners" / "gpu_bootstrap.py")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2, out.stderr
    assert "runners/gpu_bootstrap.py DEST" in out.stderr
    assert "Traceback" not in out.stderr
