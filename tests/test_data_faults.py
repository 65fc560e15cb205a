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

