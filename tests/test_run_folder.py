"""systems/run_folder.py and run_system's checks (issue 41, rows 1, 2, 3, 9 and 10): a run's identity
covers every file its config names; a finished mixture's mark records its files, so a changed, deleted
or added estimate is run again rather than scored; two data sets of one name, a run folder inside the
data set and a negative --seed are refused before any work."""
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from s5bench.common.errors import S5Error
from s5bench.common.provenance import data_fingerprint, file_sha256
from s5bench.reporting.leaderboard import parse_data
from s5bench.systems import build_system
from s5bench.systems.oracle import OracleSources
from s5bench.systems.run import RunOptions, run_system
from s5bench.systems.run_folder import RunFolderError

TESTS = Path(__file__).resolve().parent
QUIET = RunOptions(progress=False)


def read_gain(path) -> float:
    path = Path(path)
    return float((path / "gain.txt" if path.is_dir() else path).read_text())


class GainOracle(OracleSources):
    """The oracle scaled by the product of gains read from files its config names: a plug-in whose
    weights are a file of any suffix, a file nested in a mapping, and a folder."""

    def __init__(self, weights: str, files: dict, folder: str | None = None):
        super().__init__()
        self.gain = read_gain(weights) * read_gain(files["gain"]) * (read_gain(folder) if folder else 1.0)

    def forward(self, mixture, batch):
        out = super().forward(mixture, batch)["final"]
        return {"final": type(out)(out.labels, out.waveforms * self.gain)}


# ---------------------------------------------------------------- row 1: every file the config names

def test_a_changed_file_named_anywhere_in_the_config_makes_another_run(tiny_test_set, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(TESTS))
    weights, nested, folder = tmp_path / "w.safetensors", tmp_path / "g.pt", tmp_path / "weights"
    folder.mkdir()
    for path in (weights, nested, folder / "gain.txt"):
        path.write_text("1.0")
    config = tmp_path / "gain.yaml"
    config.write_text(yaml.safe_dump({"class": "test_run_folder:GainOracle",
                                      "args": {"weights": str(weights), "files": {"gain": str(nested)},
                                               "folder": str(folder)}}))
    out = tmp_path / "out"
    first = run_system(build_system(str(config)), tiny_test_set, out, QUIET)["final"]
    recorded = json.loads((out / "run_identity.json").read_text())["ckpt"]
    assert sorted(recorded) == ["files.gain", "folder", "weights"]
    assert recorded["weights"] == {"path": str(weights), "sha256": file_sha256(weights)}
    for changed in (weights, nested, folder / "gain.txt"):  # each weight changed, then back
        changed.write_text("0.5")
        with pytest.raises(RunFolderError, match=r"run folder .* another files its config names \(their content\)"):
            run_system(build_system(str(config)), tiny_test_set, out, QUIET)
        changed.write_text("1.0")
    again = run_system(build_system(str(config)), tiny_test_set, out, QUIET)["final"]  # the same files: resumed
    assert again == pytest.approx(first)


def test_a_string_that_names_no_file_is_not_a_file_and_the_working_folder_is_never_hashed(tmp_path, monkeypatch):
    from s5bench.systems.run_folder import referenced_files

    monkeypatch.chdir(tmp_path)
    (tmp_path / "final").mkdir()
    (tmp_path / "final" / "w.bin").write_text("x")
    found = referenced_files({"args": {"stage": "final", "root": ".", "up": "..", "mode": "mean",
                                       "missing": "gone.ckpt", "paths": ["final/w.bin", 3]}})
    assert sorted(found) == ["missing", "paths.0", "stage"]
    assert found["missing"] == {"path": "gone.ckpt", "sha256": None}
    assert found["paths.0"]["sha256"] == file_sha256(tmp_path / "final" / "w.bin")


# ---------------------------------------------------------------- row 3: the done mark records its files

def scored_summary(out: Path) -> dict:
    return pd.read_csv(out / "final" / "summary.csv").iloc[0].to_dict()


@pytest.mark.parametrize("change,note", [
    (lambda est: next(est.glob("mix_0002_*.wav")).unlink(), r"mixture mix_0002: estimate mix_0002_\w+\.wav deleted"),
    (lambda est: shutil.copy(next(est.glob("mix_0001_*.wav")), est / "mix_0001_Speech.wav"),
     r"mixture mix_0001: estimate mix_0001_Speech\.wav added"),
    (lambda est: (lambda f: f.write_bytes(f.read_bytes()[:-4] + b"\0\0\0\0"))(next(est.glob("mix_0003_*.wav"))),
     r"mixture mix_0003: estimate mix_0003_\w+\.wav changed"),
])
def test_an_estimate_changed_after_its_mixture_was_done_is_run_again_not_scored(tiny_test_set, tmp_path, capsys,
                                                                                  change, note):
    out = tmp_path / "run"
    clean = run_system(build_system("oracle_sources"), tiny_test_set, out, QUIET)["final"]
    change(out / "final" / "estimate")
    capsys.readouterr()
    again = run_system(build_system("oracle_sources"), tiny_test_set, out, QUIET)["final"]
    assert again == pytest.approx(clean)  # the clean run's figures, not a miss or a false alarm scored
    assert scored_summary(out)["CA-SDRi"] == pytest.approx(clean["CA-SDRi"])
    err = capsys.readouterr().err
    assert re.search(r"note: final: " + note + r" after the mixture was done: it is run again", err), err


def test_a_mark_records_its_files_with_sizes_and_hashes(tiny_test_set, tmp_path):
    out = tmp_path / "run"
    run_system(build_system("oracle_sources"), tiny_test_set, out, QUIET)
    mark = json.loads((out / "final" / ".done" / "mix_0000").read_text())
    files = sorted((out / "final" / "estimate").glob("mix_0000_*.wav"))
    assert mark["files"] == {f.name: {"bytes": f.stat().st_size, "sha256": file_sha256(f)} for f in files}
    assert set(mark) == {"files", "labels", "probabilities"} and len(mark["labels"]) == 3  # the slots' answer too


# ---------------------------------------------------------------- row 2: two data sets of one name

def test_two_data_sets_of_one_name_are_refused(tiny_test_set, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(tiny_test_set, other)
    with pytest.raises(S5Error, match=r"--data: the name 't' is given twice \(.* and .*other\)"):
        parse_data([f"t={tiny_test_set}", f"t={other}"], n=4)
    with pytest.raises(S5Error, match=r"--data =.*: a data set needs a name"):
        parse_data([f"={other}"], n=4)
    assert set(parse_data([f"a={tiny_test_set}", f"b={other}"], n=4)) == {"a", "b"}


def test_the_leaderboard_refuses_two_data_sets_of_one_name_before_running(tiny_test_set, tmp_path, capsys):
    from s5bench.runners import leaderboard

    status = leaderboard.main(["--systems", "oracle_sources", "--data", f"t={tiny_test_set}", "--data",
                               f"t={tiny_test_set}", "--out", str(tmp_path / "res"), "--no-report"])
    assert status == 2 and "the name 't' is given twice" in capsys.readouterr().err
    assert not (tmp_path / "res").exists()


# ---------------------------------------------------------------- row 9: a run folder inside the data set

def test_a_run_folder_inside_the_data_set_is_refused(tiny_test_set, tmp_path, capsys):
    from s5bench.runners import run_system as runner

    before = data_fingerprint(tiny_test_set)
    for inside in (tiny_test_set / "soundscape", tiny_test_set):
        status = runner.main(["--system", "oracle_sources", "--data", str(tiny_test_set), "--out", str(inside)])
        err = capsys.readouterr().err
        assert status == 2 and err.startswith(f"error: --out {inside} is inside the --data {tiny_test_set}"), err
    with pytest.raises(S5Error, match=r"run folder .*soundscape/x is inside the data set"):
        run_system(build_system("oracle_sources"), tiny_test_set, tiny_test_set / "soundscape" / "x", QUIET)
    assert data_fingerprint(tiny_test_set) == before
    assert not (tiny_test_set / "soundscape" / "oracle_sources").exists() and not (tiny_test_set / "x").exists()


# ---------------------------------------------------------------- row 10: --seed below 0

@pytest.mark.parametrize("runner,args", [
    ("run_system", ["--system", "oracle_sources", "--data", "{data}", "--out", "{out}"]),
    ("evaluate", ["--soundscape-dir", "{data}/soundscape", "--oracle-dir", "{data}/oracle_target",
                  "--estimate-dir", "{data}/oracle_target", "--out-dir", "{out}"]),
    ("ablation", ["--data", "{data}", "--out", "{out}", "--no-report"]),
    ("report", ["{data}"]),
])
def test_a_negative_seed_is_refused_before_any_work_naming_the_flag(tiny_test_set, tmp_path, capsys, runner, args):
    import importlib

    module = importlib.import_module(f"s5bench.runners.{runner}")
    argv = [a.format(data=tiny_test_set, out=tmp_path / "out") for a in args] + ["--seed", "-3"]
    with pytest.raises(SystemExit) as caught:
        module.main(argv)
    assert caught.value.code == 2
    assert "argument --seed: must be a whole number of at least 0, not -3" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() and not (tiny_test_set / "report").exists()
