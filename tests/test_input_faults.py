"""Issue 41, rows 5, 6, 8 and 13: every hostile input or full disk is a named error (exit 2) that
names the file, key or flag, found before any work where it can be; generation starts no more
workers than its mixtures can use and checks the free space it needs."""
import errno
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import tiny_data_config

from s5bench.common.audio import files_together, write_audio_atomic
from s5bench.common.errors import S5Error, cli
from s5bench.data_gen import writer
from s5bench.data_gen.config import load_config
from s5bench.reporting.report import build_report
from s5bench.reporting.report_data import ReportError
from s5bench.systems import build_system
from s5bench.systems.run import RunOptions, run_system

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def run_folder(tiny_test_set, tmp_path_factory) -> Path:
    """A results folder of run_system.py: oracle_sources on the tiny set."""
    out = tmp_path_factory.mktemp("run") / "results"
    run_system(build_system("oracle_sources"), tiny_test_set, out / "oracle_sources", RunOptions(progress=False))
    return out


def damaged_copy(run_folder: Path, tmp_path: Path, damage) -> tuple[Path, Path]:
    copy = tmp_path / "results"
    shutil.copytree(run_folder, copy)
    stage = copy / "oracle_sources" / "final"
    damage(stage)
    return copy, stage


def report_cli(results: Path, limit_bytes: int | None = None) -> subprocess.CompletedProcess:
    def limit():  # a disk that takes no file larger than this: writes beyond fail with EFBIG, as a full disk's do
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.run([sys.executable, str(ROOT / "runners" / "report.py"), str(results), "--no-progress"],
                          capture_output=True, text=True, preexec_fn=limit if limit_bytes else None)


# ---------------------------------------------------------------- row 5: the report on a full disk

def test_a_report_that_cannot_be_written_is_a_named_error_leaving_no_staging_folder(run_folder, tmp_path):
    results, _ = damaged_copy(run_folder, tmp_path, lambda stage: None)
    r = report_cli(results, limit_bytes=4096)  # the first Ogg clip is larger
    assert r.returncode == 2, r.stderr[-2000:]
    assert r.stderr.startswith("error: File too large: ") and ".ogg" in r.stderr and "Traceback" not in r.stderr
    assert [p.name for p in results.iterdir()] == ["oracle_sources"]  # no report, no staging folder half-built
    assert report_cli(results).returncode == 0 and (results / "report" / "index.html").is_file()


# ---------------------------------------------------------------- row 6: damaged stage folders

@pytest.mark.parametrize("damage,message", [
    (lambda stage: (stage / "summary.csv").unlink(),
     r"final/summary.csv is missing beside .*final/per_mixture.csv: the scoring did not finish"),
    (lambda stage: (stage / "per_mixture.csv").write_text((stage / "per_mixture.csv").read_text().splitlines()[0]),
     r"final/per_mixture.csv: a header and no row: the scoring did not finish"),
    (lambda stage: (stage / "per_mixture.csv").write_text("soundscape,ca_sdri\nmix_0000,3.0\n"),
     r"final/per_mixture.csv: no column snri, acc_src, .* \(it has soundscape, ca_sdri\)"),
    (lambda stage: (stage / "per_mixture.csv").write_bytes(b""), r"final/per_mixture.csv: an empty file"),
    (lambda stage: (stage / "summary.csv").write_text("n_mixtures,CA-SDRi\n"),
     r"final/summary.csv: a header and no row"),
    (lambda stage: (stage / "run_info.json").write_text('{\n  "soundscape_dir": "x",\n'),
     r"final/run_info.json: not valid JSON \(.*line 3 column 1.*\); it was cut off or damaged"),
    (lambda stage: (stage / "run_info.json").write_text("[1, 2]"), r"final/run_info.json: a JSON object is needed"),
    (lambda stage: (stage / "run_info.json").write_text('{"edition": 2025}'),
     r"final/run_info.json: no soundscape_dir or estimate_dir recorded"),
])
def test_a_damaged_stage_is_a_named_error_naming_its_file(run_folder, tmp_path, damage, message):
    results, _ = damaged_copy(run_folder, tmp_path, damage)
    with pytest.raises(ReportError, match=message):
        build_report(results, progress=False)
    assert not (results / "report").exists()


def test_a_damaged_stage_ends_the_report_command_with_exit_2(run_folder, tmp_path):
    results, stage = damaged_copy(run_folder, tmp_path, lambda stage: (stage / "summary.csv").unlink())
    r = report_cli(results)
    assert r.returncode == 2 and r.stderr.startswith(f"error: {stage / 'summary.csv'} is missing"), r.stderr[-2000:]


# ---------------------------------------------------------------- row 8: recipe values the schema refuses

def write_recipe(tmp_path, top: dict | None = None, scene: dict | None = None) -> Path:
    cfg = tiny_data_config(tmp_path)
    del cfg["_path"]
    cfg.update(top or {})
    cfg["scene"] = {**cfg.get("scene", {}), **(scene or {})}
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.parametrize("top,scene,message", [
    ({}, {"target_snr": [float("nan"), 5.0]}, r": scene\.target_snr: a range \[low, high\] of two numbers is needed, "
                                              r"not \[nan, 5\.0\]"),
    ({}, {"interference_snr": [0.0, float("inf")]}, r": scene\.interference_snr: a range"),
    ({}, {"duration": float("nan")}, r": scene\.duration: a positive number of seconds is needed, not nan"),
    ({"sr": "fast"}, {}, r": sr: a positive whole number of Hz is needed, not 'fast'"),
    ({}, {"ref_db": "loud"}, r": scene\.ref_db: a level in dB \(a finite number\) is needed, not 'loud'"),
    ({"subtype": "PCM_99"}, {}, r": subtype: one of FLOAT, PCM_16 is needed, not 'PCM_99'"),
    ({"engine": "fastest"}, {}, r": engine: one of builtin, spatialscaper is needed, not 'fastest'"),
    ({}, {"ref_channel": 7}, r": scene\.ref_channel: a channel of the 4-channel mixture \(0 to 3\) is needed, not 7"),
    ({}, {"dupse_min_angle": "wide"}, r": scene\.dupse_min_angle: an angle in degrees"),
])
def test_a_recipe_value_of_the_wrong_kind_is_refused_naming_file_and_key(tmp_path, top, scene, message):
    path = write_recipe(tmp_path, top, scene)
    with pytest.raises(S5Error, match=rf"data config {path}{message}"):
        load_config(path)


def test_a_refused_recipe_leaves_no_folder(tmp_path):
    path = write_recipe(tmp_path, {"sr": "fast"})
    out = tmp_path / "o"
    r = subprocess.run([sys.executable, str(ROOT / "runners" / "generate.py"), "--config", str(path), "--out",
                        str(out), "--n", "2"], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr == f"error: data config {path}: sr: a positive whole number of Hz is " \
                                             "needed, not 'fast'\n"
    assert not out.exists()


# ---------------------------------------------------------------- row 13: --jobs and the free space

def test_generation_starts_no_more_workers_than_mixtures(tmp_path, monkeypatch):
    started = []
    real = writer.get_context

    class Context:
        def __init__(self, method):
            self.real = real(method)

        def Pool(self, processes, **kwargs):
            started.append(processes)
            return self.real.Pool(processes, **kwargs)

    monkeypatch.setattr(writer, "get_context", Context)
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


# ---------------------------------------------------------------- row 12: a name too long at the rename

def test_a_group_of_files_whose_rename_fails_leaves_no_temporary_file(tmp_path, capsys):
    """Row 12: a name over 255 bytes (a 2026 estimate of a long mixture name) fails at the rename,
    after the data were written under a short temporary name."""
    long_name = tmp_path / ("mix_" + "x" * 250 + "_0_Speech.wav")
    with pytest.raises(OSError) as caught:
        write_audio_atomic(long_name, np.zeros(100, np.float32), 32000)
    assert caught.value.errno == errno.ENAMETOOLONG and caught.value.filename == str(long_name)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(OSError):  # a group: the file already moved into place goes too
        with files_together() as group:
            group.audio(tmp_path / "mix_0_Speech.wav", np.zeros(100, np.float32), 32000)
            group.audio(long_name, np.zeros(100, np.float32), 32000)
    assert list(tmp_path.iterdir()) == []

    def run(argv):
        write_audio_atomic(long_name, np.zeros(100, np.float32), 32000)

    assert cli(run, []) == 2
    assert capsys.readouterr().err.startswith(f"error: {os.strerror(errno.ENAMETOOLONG)}: {long_name}")
