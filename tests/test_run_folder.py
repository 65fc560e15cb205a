"""systems/run_folder.py and run_system's checks (issue 41, rows 1, 2, 3, 9 and 10): a run's identity
covers every file its config names; a finished mixture's mark records its files, so a changed, deleted
or added estimate is run again rather than scored; two data sets of one name, a run folder inside the
data set and a negative --seed are refused before any work; a run folder of another data set or config,
or with no record of its run, is refused; a folder being written is claimed (locked) and an
interrupted write resumes."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ROOT

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


# ---------------------------------------------------------------- identity, claim and resume of a run folder


def smaller_copy(src: Path, dest: Path, drop: str = "mix_0005") -> Path:
    """The set without one mixture and without its manifest: another data set with the same names."""
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("manifest.json", f"{drop}*"))
    return dest


def test_a_run_folder_of_another_data_set_is_refused(tiny_test_set, tmp_path):
    other = smaller_copy(tiny_test_set, tmp_path / "other")
    out = tmp_path / "out" / "oracle_sources"
    run_system(build_system("oracle_sources"), other, out, QUIET)
    with pytest.raises(S5Error, match=r"run folder .* another data set \(its fingerprint\)"):
        run_system(build_system("oracle_sources"), tiny_test_set, out, QUIET)
    again = run_system(build_system("oracle_sources"), other, out, QUIET)  # the same run resumes
    assert again["final"]["n_mixtures"] == 5


def test_a_config_of_the_same_file_name_but_other_content_is_refused(tiny_test_set, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "mysys.yaml").write_text("class: s5bench.systems.oracle:OracleSources\n")
    (tmp_path / "b" / "mysys.yaml").write_text("class: s5bench.systems.oracle:OracleLabelsMixture\n")
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, str(ROOT / "runners" / "run_system.py"), "--system",
                        str(tmp_path / "a" / "mysys.yaml"), "--data", str(tiny_test_set), "--out", str(out)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, str(ROOT / "runners" / "run_system.py"), "--system",
                        str(tmp_path / "b" / "mysys.yaml"), "--data", str(tiny_test_set), "--out", str(out),
                        "--zip", "A_B_task4_1_out"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and r.stderr.startswith("error: run folder ")
    assert "system config (its content)" in r.stderr and "Traceback" not in r.stderr
    assert not (out / "mysys" / "A_B_task4_1_out.zip").exists()


def test_estimates_with_no_record_of_their_run_are_refused(tiny_test_set, tmp_path):
    out = tmp_path / "old"
    run_system(build_system("oracle_sources"), tiny_test_set, out, QUIET)
    (out / "run_identity.json").unlink()  # as an earlier version left it
    with pytest.raises(S5Error, match="no run_identity.json"):
        run_system(build_system("oracle_sources"), tiny_test_set, out, QUIET)


def test_a_killed_estimate_write_leaves_nothing_that_stops_the_next_run(tiny_test_set, tmp_path):
    out = tmp_path / "run"
    first = run_system(build_system("oracle_sources"), tiny_test_set, out, QUIET)
    est = out / "final" / "estimate"
    stale = est / ".tmp_abc123.wav"
    stale.write_bytes(b"")  # what kill -9 during a write leaves
    os.utime(stale, (1, 1))
    (out / "final" / ".done" / "mix_0002").unlink()
    again = run_system(build_system("oracle_sources"), tiny_test_set, out, QUIET)
    assert again["final"] == pytest.approx(first["final"])
    assert not stale.exists()  # cleaned: the writer that left it is gone


def test_an_unknown_estimate_file_names_its_path(tiny_test_set, tmp_path):
    out = tmp_path / "run"
    run_system(build_system("oracle_sources"), tiny_test_set, out, QUIET)
    (out / "final" / "estimate" / "stray_Speech.wav").write_bytes(b"x")
    (out / "final" / ".done" / "mix_0001").unlink()
    with pytest.raises(S5Error, match=r"estimate file .*final/estimate/stray_Speech.wav"):
        run_system(build_system("oracle_sources"), tiny_test_set, out, QUIET)


def test_a_run_folder_being_written_is_locked_and_a_live_writers_temp_files_kept(tiny_test_set, tmp_path):
    import json
    import socket

    from s5bench.common.locks import FolderBusyError, folder_lock

    out = tmp_path / "run"
    out.mkdir()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / ".lock").write_text(json.dumps({"pid": live.pid, "host": socket.gethostname(), "started": 0,
                                               "key": {"cfg": "another system"}}))
        with pytest.raises(FolderBusyError, match=rf"run folder .*run is being written by another job "
                                                  rf"\(pid {live.pid}"):
            run_system(build_system("oracle_sources"), tiny_test_set, out, QUIET)
        (out / ".lock").write_text(json.dumps({"pid": live.pid, "host": socket.gethostname(), "started": 0,
                                               "key": {"job": 1}}))
        theirs = out / ".tmp_theirs.wav"
        theirs.write_bytes(b"")
        os.utime(theirs, (1, 1))
        with folder_lock(out, {"job": 1}, "run folder") as owner:  # the same job: shares, cleans nothing
            assert owner is False and theirs.exists()
    finally:
        live.kill()
        live.wait()
    with folder_lock(out, {"job": 2}, "run folder") as owner:  # its writer died: taken over, its leftovers removed
        assert owner is True and not theirs.exists()
