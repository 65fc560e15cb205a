"""`s5bench new-system NAME`: the plug-in it writes runs and scores at once, and its own test passes."""
import subprocess
import sys

import pytest
from conftest import CLEAN_ENV

from s5bench.common.errors import S5Error
from s5bench.runners.new_system import main
from s5bench.systems.scaffold import write_plugin


def test_new_system_writes_a_plugin_whose_test_runs_and_scores_it(tmp_path):
    """Its generated test builds it from its YAML, checks its answers in both editions, and runs and
    scores it with `s5bench run` on two built-in mixtures."""
    assert main(["my_sep", "--out", str(tmp_path)]) == 0
    folder = tmp_path / "my_sep"
    assert sorted(p.name for p in folder.iterdir()) == ["my_sep.py", "my_sep.yaml", "test_my_sep.py"]
    test = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)],
                          capture_output=True, text=True, cwd=tmp_path, env=CLEAN_ENV, timeout=600)
    assert test.returncode == 0 and "2 passed" in test.stdout, test.stdout[-3000:]
    with pytest.raises(S5Error, match="exists and is not empty"):  # nothing is overwritten
        write_plugin("my_sep", tmp_path)


@pytest.mark.parametrize("name,why", [("MySystem", "lower-case"), ("json", "already installed"),
                                      ("class", "lower-case")])
def test_new_system_refuses_a_name_that_cannot_be_a_module_of_its_own(tmp_path, name, why):
    with pytest.raises(S5Error, match=why):
        write_plugin(name, tmp_path)
    assert not any(tmp_path.iterdir())
