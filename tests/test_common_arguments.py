"""common/arguments.py: the argument checks the runners share; --n beside --data is refused, never
silently ignored."""
import subprocess
import sys


def test_ablation_n_with_data_is_refused_not_ignored(tmp_path):
    r = subprocess.run([sys.executable, "-m", "s5bench.runners.ablation", "--config", "fss3_cp3", "--data",
                        str(tmp_path), "--n", "5", "--out", str(tmp_path / "r")], capture_output=True, text=True)
    assert r.returncode == 2 and "--n chooses mixtures of the built-in test set; with --data" in r.stderr
