"""data_gen/writer.py: generation starts no more workers than its mixtures can use and checks the
free space it needs before anything is made (issue 41, row 13)."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import tiny_data_config

from s5bench.common.errors import S5Error
from s5bench.data_gen import writer

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


