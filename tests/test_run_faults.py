"""Issue 34, run folders: a run folder belongs to one run, interrupted writes resume, writers lock,
and every fault is a named error with exit status 2 (common/errors.py's boundary)."""
import errno
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from s5bench.common.errors import S5Error, cli
from s5bench.systems import build_system
from s5bench.systems.run import RunOptions, run_system

QUIET = RunOptions(progress=False)

ROOT = Path(__file__).resolve().parents[1]


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


def test_the_boundary_names_disk_full_and_permission(capsys):
    def full(argv):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/out/a.wav")

    def denied(argv):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), "/out")

    assert cli(full, []) == 2
    assert capsys.readouterr().err == "error: disk full (no space left on device): /out/a.wav\n"
    assert cli(denied, []) == 2
    assert capsys.readouterr().err == "error: permission denied: /out\n"
    assert cli(lambda argv: None, []) == 0


def evaluate_args(data: Path, est: Path, out: Path) -> list[str]:
    return ["--soundscape-dir", str(data / "soundscape"), "--oracle-dir", str(data / "oracle_target"),
            "--estimate-dir", str(est), "--out-dir", str(out), "--jobs", "1"]


def test_a_full_disk_is_a_named_error_with_exit_2(tiny_test_set, tmp_path, monkeypatch, capsys):
    from s5bench.runners import evaluate
    from s5bench.runners import run_system as run_runner

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # what write() says when no space is left

    def fill_the_disk():
        monkeypatch.setattr(Path, "write_text", full_disk)
        monkeypatch.setattr("scipy.io.wavfile.write", full_disk)  # imported where a float file is written

    fill_the_disk()
    status = cli(run_runner.main, ["--system", "oracle_sources", "--data", str(tiny_test_set), "--out",
                                   str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("error: disk full (no space left on device): ") and str(tmp_path) in err
    assert not list((tmp_path / "out").rglob(".tmp_*"))  # the failed write left nothing behind
    monkeypatch.undo()
    run_system(build_system("oracle_sources"), tiny_test_set, tmp_path / "ok", QUIET)
    fill_the_disk()
    status = cli(evaluate.main, evaluate_args(tiny_test_set, tmp_path / "ok" / "final" / "estimate", tmp_path / "r"))
    assert status == 2 and "disk full" in capsys.readouterr().err


def test_an_unwritable_out_dir_is_refused_before_scoring(tiny_test_set, tmp_path, monkeypatch, capsys):
    from s5bench.runners import evaluate

    run_system(build_system("oracle_sources"), tiny_test_set, tmp_path / "ok", QUIET)
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")
    scored = []
    monkeypatch.setattr(evaluate, "score_folders", lambda *a, **k: scored.append(1) or [])
    status = cli(evaluate.main, evaluate_args(tiny_test_set, tmp_path / "ok" / "final" / "estimate", blocked / "r"))
    assert status == 2 and not scored
    assert capsys.readouterr().err.startswith(f"error: {os.strerror(errno.ENOTDIR)}: {blocked / 'r'}")


def estimates_with(tiny_test_set, tmp_path, make) -> Path:
    run_system(build_system("oracle_sources"), tiny_test_set, tmp_path / "run", QUIET)
    est = tmp_path / "run" / "final" / "estimate"
    make(est, sorted(est.glob("mix_0000_*.wav"))[0])
    return est


@pytest.mark.parametrize("kind,message", [
    ("loop", "a symbolic link loop"), ("dangling", "a dangling symbolic link"), ("folder", "a folder")])
def test_an_estimate_that_is_no_file_is_named_not_scored_as_a_miss(tiny_test_set, tmp_path, kind, message):
    from s5bench.metrics.folders import score_folders

    def make(est, victim):
        victim.unlink()
        if kind == "loop":
            os.symlink(victim.name, victim)  # points at itself
        elif kind == "dangling":
            os.symlink(tmp_path / "gone.wav", victim)
        else:
            victim.mkdir()

    est = estimates_with(tiny_test_set, tmp_path, make)
    with pytest.raises(S5Error, match=rf"final/estimate/mix_0000_\w+\.wav: {message}"):
        score_folders(tiny_test_set / "soundscape", tiny_test_set / "oracle_target", est, progress=False)


def test_an_unreadable_estimate_says_permission(tiny_test_set, tmp_path, monkeypatch, capsys):
    from s5bench.common import audio
    from s5bench.metrics import reading
    from s5bench.runners import evaluate

    victim = []
    est = estimates_with(tiny_test_set, tmp_path, lambda est, v: (v.chmod(0), victim.append(v)))
    if os.geteuid() == 0:  # root reads a chmod 000 file: the refusal a user would get is simulated
        def refusing_open(path, *a, **k):
            if Path(path) == victim[0]:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
            return open(path, *a, **k)

        monkeypatch.setattr(audio, "open", refusing_open, raising=False)
        opened_by_soundfile = reading.sf.SoundFile

        def refusing_soundfile(path, *a, **k):  # the scoring's reader opens files through libsndfile
            if Path(path) == victim[0]:
                raise RuntimeError(f"Error opening {str(path)!r}: System error.")  # what libsndfile says then
            return opened_by_soundfile(path, *a, **k)

        monkeypatch.setattr(reading.sf, "SoundFile", refusing_soundfile)
    status = cli(evaluate.main, evaluate_args(tiny_test_set, est, tmp_path / "r"))
    assert status == 2 and f"error: permission denied: {victim[0]}\n" in capsys.readouterr().err


def test_a_zip_name_or_stage_name_cannot_write_outside_out(tiny_test_set, tmp_path):
    from test_systems import HalfMixture

    from s5bench.systems.run import write_submission_zip

    out = tmp_path / "a" / "b" / "out"
    r = subprocess.run([sys.executable, str(ROOT / "runners" / "run_system.py"), "--system", "oracle_sources",
                        "--data", str(tiny_test_set), "--out", str(out), "--zip", "../../name"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "--zip name '../../name' is not a plain file name" in r.stderr
    assert not (tmp_path / "a").exists()  # refused before anything ran
    r = subprocess.run([sys.executable, "-m", "s5bench.runners.cli", "run", "--system", "oracle_sources", "--data",
                        str(tiny_test_set), "--out", str(out), "--zip", "a/b"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and r.stderr.startswith("error: --zip name 'a/b'")  # the same boundary in `s5bench`
    with pytest.raises(S5Error, match="--zip name '../x'"):
        write_submission_zip(tmp_path, tmp_path / "x.zip", "../x")

    class Escaping(HalfMixture):
        stages = ("first", "../../x")

    with pytest.raises(S5Error, match=r"stage name '\.\./\.\./x' is not a plain file name"):
        run_system(Escaping(), tiny_test_set, out, QUIET)
    assert not (tmp_path / "a" / "x").exists()


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


def test_two_runs_updating_one_summary_at_once_keep_both_rows(tmp_path, monkeypatch):
    import threading
    import time

    import pandas as pd

    from s5bench.runners import run_system as runner

    merge = runner.merged_summary

    def slow_merge(path, new):  # a pause between reading summary.csv and writing it back
        out = merge(path, new)
        time.sleep(0.5)
        return out

    monkeypatch.setattr(runner, "merged_summary", slow_merge)
    path = tmp_path / "summary.csv"
    rows = [pd.DataFrame([{"system": name, "stage": "final", "CA-SDRi": v}]) for name, v in (("a", 1.0), ("b", 2.0))]
    threads = [threading.Thread(target=runner.update_summary, args=(path, r)) for r in rows]
    for t in threads:
        t.start()
        time.sleep(0.1)  # the second reads while the first pauses
    for t in threads:
        t.join()
    assert sorted(pd.read_csv(path)["system"]) == ["a", "b"]


def test_a_training_work_folder_resumes_only_its_own_run(tmp_path):
    from test_training import write_config

    from s5bench.systems.training.recipes import load_train_config
    from s5bench.systems.training.trainer import train

    path = write_config(tmp_path, "separator", steps=2)
    work = tmp_path / "work"
    train(load_train_config(path), work, progress=False)
    other = load_train_config(path)
    other.update(steps=4, lr=5e-4)  # another recipe under the same name and folder
    with pytest.raises(S5Error, match=r"work/last.pt was written by another training run \(recipe\.lr differ\)"):
        train(other, work, progress=False)
    longer = load_train_config(path)
    longer["steps"] = 3  # running the same recipe longer is a resume
    assert train(longer, work, progress=False)


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


def _take_over_slowly(folder, key, results):
    """A job that reads a dead writer's lock, pauses (another job reads it too), then tries to take it."""
    import json as json_
    import time as time_

    from s5bench.common import locks

    name = "_parse" if hasattr(locks, "_parse") else "_read"  # the reader of the lock's holder
    real = getattr(locks, name)

    def slow(arg):
        body = real(arg)
        time_.sleep(0.3)
        return body

    setattr(locks, name, slow)
    try:
        with locks.folder_lock(folder, key, "run folder") as owner:
            time_.sleep(0.5)
            results.put(("owner" if owner else "shared", json_.dumps(key)))
    except locks.FolderBusyError:
        results.put(("refused", json_.dumps(key)))


def test_two_jobs_finding_one_dead_lock_do_not_both_take_it(tmp_path):
    import multiprocessing

    out = tmp_path / "run"
    out.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (out / ".lock").write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(), "started": 0,
                                           "key": {"job": 0}}))
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    jobs = [ctx.Process(target=_take_over_slowly, args=(out, {"job": k}, results)) for k in (1, 2)]
    for j in jobs:
        j.start()
    for j in jobs:
        j.join(30)
    outcomes = sorted(results.get(timeout=5)[0] for _ in jobs)
    assert outcomes == ["owner", "refused"]  # before the flock both read the dead lock and both took it
    assert not (out / ".lock").exists()  # released by its owner


def test_a_resume_may_change_how_the_run_logs_but_not_what_it_trains():
    from s5bench.systems.training.recipes import load_train_config, training_identity

    cfg = load_train_config("uss_tiny")
    same = training_identity(cfg)
    assert training_identity({**cfg, "log_every": 50, "steps": cfg["steps"] * 2}) == same
    assert training_identity({**cfg, "lr": cfg["lr"] * 2}) != same
