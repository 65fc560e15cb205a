"""`s5bench new-system NAME`: the plug-in it writes runs and scores at once, and its own test passes."""
import subprocess
import sys

import pytest
from conftest import CLEAN_ENV, s5bench

from s5bench.common.errors import S5Error


def test_new_system_writes_a_plugin_that_runs_and_whose_test_passes(builtin_two, tmp_path):
    r = s5bench("new-system", "my_sep", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    folder = tmp_path / "my_sep"
    assert sorted(p.name for p in folder.iterdir()) == ["my_sep.py", "my_sep.yaml", "test_my_sep.py"]
    run = s5bench("run", "--system", folder / "my_sep.yaml", "--data", builtin_two, "--out", "out", "--jobs", "1",
                  "--bootstrap", "0", "--edition", "2025", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "my_sep" in run.stdout and (tmp_path / "out" / "my_sep" / "final" / "summary.csv").is_file()
    test = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)],
                          capture_output=True, text=True, cwd=tmp_path, env=CLEAN_ENV, timeout=600)
    assert test.returncode == 0 and "2 passed" in test.stdout, test.stdout[-3000:]
    again = s5bench("new-system", "my_sep", cwd=tmp_path)  # nothing is overwritten
    assert again.returncode == 2 and "exists and is not empty" in again.stderr


@pytest.mark.parametrize("name,why", [("MySystem", "lower-case"), ("json", "already installed"),
                                      ("class", "lower-case")])
def test_new_system_refuses_a_name_that_cannot_be_a_module_of_its_own(tmp_path, name, why):
    from s5bench.systems.scaffold import write_plugin

    with pytest.raises(S5Error, match=why):
        write_plugin(name, tmp_path)
    assert not any(tmp_path.iterdir())
