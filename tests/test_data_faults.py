"""Issue 34, data folders: interrupted and damaged generations repair themselves, a folder being
written is locked, evaluation sets are a layout of their own."""
import json
import os
import socket
import subprocess
import sys

import pytest
from conftest import tiny_data_config

from s5bench.common.locks import FolderBusyError
from s5bench.common.manifest import verify_dataset
from s5bench.data_gen.writer import generate_set


def lock_of(pid: int, key: dict) -> str:
    return json.dumps({"pid": pid, "host": socket.gethostname(), "started": 0, "key": key})


@pytest.fixture
def small_set(tmp_path):
    cfg = tiny_data_config(tmp_path)
    out = tmp_path / "set"
    generate_set(cfg, out, n=3, seed=0, jobs=1, progress=False)
    return cfg, out


def test_a_temporary_file_left_in_a_data_set_is_ignored_then_cleaned(small_set):
    cfg, out = small_set
    stale = out / "soundscape" / ".tmp_k1ll3d.wav"
    stale.write_bytes(b"")  # kill -9 during a write
    os.utime(stale, (1, 1))
    assert verify_dataset(out, checksums=True).ok  # not a mixture, not a stray file
    summary = generate_set(cfg, out, n=3, seed=0, jobs=1, progress=False)
    assert summary["kept"] == 3 and not stale.exists()


def test_a_damaged_mixture_is_redone_not_kept(small_set):
    cfg, out = small_set
    wav = out / "soundscape" / "mix_0001.wav"
    good = wav.read_bytes()
    wav.write_bytes(good[: len(good) // 2])  # cut short on disk
    summary = generate_set(cfg, out, n=3, seed=0, jobs=1, progress=False)
    assert (summary["made"], summary["kept"]) == (1, 2)
    assert wav.read_bytes() == good and verify_dataset(out, checksums=True).ok
    flipped = bytearray(good)
    flipped[-1] ^= 1  # the same size, other bytes: caught by the sha256
    wav.write_bytes(bytes(flipped))
    assert generate_set(cfg, out, n=3, seed=0, jobs=1, progress=False)["made"] == 1
    assert wav.read_bytes() == good


def test_a_folder_being_generated_is_refused_to_other_arguments_and_a_dead_lock_taken_over(tmp_path):
    cfg = tiny_data_config(tmp_path)
    out = tmp_path / "set"
    out.mkdir()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / ".lock").write_text(lock_of(live.pid, {"recipe": "x", "seed": 1, "n": 3}))
        with pytest.raises(FolderBusyError, match=rf"data folder .*set is being written by another job "
                                                  rf"\(pid {live.pid}.*seed"):
            generate_set(cfg, out, n=3, seed=0, jobs=1, progress=False)
    finally:
        live.kill()
        live.wait()
    (out / ".lock").write_text(lock_of(live.pid, {"recipe": "x", "seed": 1, "n": 3}))  # its writer is dead now
    assert generate_set(cfg, out, n=3, seed=0, jobs=1, progress=False)["made"] == 3
    assert not (out / ".lock").exists()  # released at the end



def test_a_generated_set_without_references_is_an_evaluation_set(tiny_test_set, tmp_path):
    import shutil
    import zipfile

    from test_systems import RepeatedSpeech

    from s5bench.systems.run import run_system, write_submission_zip

    eval_set = tmp_path / "eval"
    shutil.copytree(tiny_test_set, eval_set, ignore=shutil.ignore_patterns("oracle_target"))
    verdict = verify_dataset(eval_set, checksums=True)
    assert verdict.ok and verdict.evaluation_set and verdict.n_mixtures == 6
    summaries = run_system(RepeatedSpeech(), eval_set, tmp_path / "out", progress=False, edition=2026)
    assert summaries == {"final": {}}
    path = write_submission_zip(tmp_path / "out" / "final" / "estimate", tmp_path / "A_task4_1_out.zip",
                                "A_task4_1_out")
    assert len(zipfile.ZipFile(path).namelist()) == 12
    (eval_set / "soundscape" / "mix_0003.wav").write_bytes(b"RIFF")  # the mixtures are still verified
    assert not verify_dataset(eval_set).ok


def test_generate_writes_a_hidden_test_set_in_one_command(tmp_path):
    tiny_data_config(tmp_path)
    out, refs = tmp_path / "eval", tmp_path / "refs"
    cmd = [sys.executable, "-m", "s5bench.runners.generate", "--config", str(tmp_path / "data.yaml"), "--n", "2",
           "--jobs", "1", "--out", str(out), "--references-out", str(refs)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "soundscape"]
    assert sorted(p.name for p in (out / "soundscape").iterdir()) == ["mix_0000.wav", "mix_0001.wav"]
    assert {"oracle_target", "metadata", "soundscape", "manifest.json"} <= {p.name for p in refs.iterdir()}
    assert (out / "soundscape" / "mix_0001.wav").read_bytes() == (refs / "soundscape" / "mix_0001.wav").read_bytes()
    assert verify_dataset(out, checksums=True).ok and verify_dataset(refs, checksums=True).ok
    again = subprocess.run(cmd[:-2] + ["--references-out", str(out / "refs")], capture_output=True, text=True)
    assert again.returncode == 2 and "must be separate folders" in again.stderr
