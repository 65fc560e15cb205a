"""data_gen/writer.py: generation starts no more workers than its mixtures can use and checks the
free space it needs before anything is made (issue 41, row 13); an interrupted or damaged
generation repairs itself, and a folder being generated is locked."""
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import tiny_data_config

from s5bench.common.errors import S5Error
from s5bench.common.locks import FolderBusyError
from s5bench.common.manifest import verify_dataset
from s5bench.data_gen import writer
from s5bench.data_gen.writer import generate_set

ROOT = Path(__file__).resolve().parents[1]


def test_generation_starts_no_more_workers_than_mixtures(tmp_path, monkeypatch):
    started = []
    real = writer.worker_pool

    def counted(processes, *args):
        started.append(processes)
        return real(processes, *args)

    monkeypatch.setattr(writer, "worker_pool", counted)
    summary = writer.generate_set(tiny_data_config(tmp_path, duration=1.0), tmp_path / "set", n=2, seed=0, jobs=1000,
                                  progress=False)
    assert summary["made"] == 2
    assert all(n <= 2 for n in started)  # at most one worker per mixture (none: the mixtures made in-process)
    assert writer.workers_for(1000, 4) <= 4 and writer.workers_for(3, 1000) <= 3 and writer.workers_for(8, 0) == 1


def test_generation_that_would_not_fit_on_the_disk_is_refused_before_anything_is_made(tmp_path):
    tiny_data_config(tmp_path)
    out = tmp_path / "huge"
    r = subprocess.run([sys.executable, str(ROOT / "runners" / "generate.py"), "--config", str(tmp_path / "data.yaml"),
                        "--out", str(out), "--n", "10000000"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr[-2000:]
    assert r.stderr.startswith(f"error: data folder {out}: 10000000 mixtures need about ") and " TB " in r.stderr
    assert "free: free some space, make fewer mixtures (--n)" in r.stderr
    assert not out.exists()


def test_the_free_space_check_counts_the_mixtures_still_to_make(tmp_path, monkeypatch):
    cfg = tiny_data_config(tmp_path, duration=1.0)
    per_mixture = writer.bytes_per_mixture(cfg, "FLOAT", stems=False)
    assert per_mixture == 32000 * (4 + 3) * 4 + 64 * 1024  # 1 s, 4 mixture channels and up to 3 targets, float32
    assert writer.bytes_per_mixture(cfg, "PCM_16", stems=True) == 32000 * 7 * 2 + 32000 * 8 * 4 + 64 * 1024
    writer.generate_set(cfg, tmp_path / "set", n=2, seed=0, progress=False)
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(writer.shutil, "disk_usage", lambda p: usage._replace(free=2 * per_mixture))
    with pytest.raises(S5Error, match=r"3 mixtures need about .* MB and its file system has .* MB free"):
        writer.generate_set(cfg, tmp_path / "set", n=5, seed=0, progress=False)  # 2 made, 3 to make: 3 do not fit
    assert writer.generate_set(cfg, tmp_path / "set", n=4, seed=0, progress=False)["made"] == 2  # 2 fit


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
