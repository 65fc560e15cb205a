"""Case 7 of a participant's path: `generate` refused for a missing S5_DEV_SET names the variable, points
to a section of the docs that exists, and leaves no --out folder behind."""
import re

import pytest
from conftest import ROOT

from s5bench.runners.generate import main


@pytest.fixture
def no_dev_set(monkeypatch, tmp_path):
    monkeypatch.delenv("S5_DEV_SET", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def cited_section(message: str) -> tuple[str, str]:
    page, heading = re.search(r"see (docs/\w+\.md), '([^']+)'", message).groups()
    return page, heading


def test_a_metadata_path_built_from_the_unset_variable_names_it(no_dev_set, capsys):
    # what the shell makes of `--from-metadata $S5_DEV_SET/metadata/valid` when S5_DEV_SET is not set
    for config in ("dcase2025_official", "builtin_test"):
        assert main(["--config", config, "--from-metadata", "/metadata/valid", "--out", "out"]) == 2
        err = capsys.readouterr().err
        assert "metadata folder not found: /metadata/valid" in err and "S5_DEV_SET is not set" in err, err
        assert not (no_dev_set / "out").exists()


def test_an_unset_recipe_variable_is_named_with_a_docs_section_that_exists_and_no_folder_is_left(no_dev_set,
                                                                                               capsys):
    assert main(["--config", "dcase2025_official", "--n", "2", "--out", "out"]) == 2
    err = capsys.readouterr().err
    assert "environment variable S5_DEV_SET is not set" in err, err
    page, heading = cited_section(err)
    assert f"## {heading}" in (ROOT / page).read_text().splitlines()
    assert not (no_dev_set / "out").exists()


def test_a_bad_plan_is_refused_before_the_folder_is_made(no_dev_set, capsys):
    (no_dev_set / "meta").mkdir()
    (no_dev_set / "meta" / "a.json").write_text("{}")
    assert main(["--config", "builtin_test", "--from-metadata", "meta", "--out", "out"]) == 2
    assert "mixture a (meta/a.json): not a scene plan" in capsys.readouterr().err
    assert not (no_dev_set / "out").exists()


def test_a_path_that_merely_is_missing_gets_no_variable_hint(no_dev_set, capsys):
    assert main(["--config", "builtin_test", "--from-metadata", str(no_dev_set / "nope"), "--out", "out"]) == 2
    err = capsys.readouterr().err
    assert f"metadata folder not found: {no_dev_set / 'nope'}\n" in err and "S5_DEV_SET" not in err
