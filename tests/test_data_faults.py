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

    from s5bench.systems.run import RunOptions, run_system, write_submission_zip

    eval_set = tmp_path / "eval"
    shutil.copytree(tiny_test_set, eval_set, ignore=shutil.ignore_patterns("oracle_target"))
    verdict = verify_dataset(eval_set, checksums=True)
    assert verdict.ok and verdict.evaluation_set and verdict.n_mixtures == 6
    summaries = run_system(RepeatedSpeech(), eval_set, tmp_path / "out", RunOptions(progress=False, edition=2026))
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


def clip_folder(root, counts: dict, sr: int = 32000):
    import numpy as np
    import soundfile as sf

    for label, n in counts.items():
        (root / label).mkdir(parents=True)
        for k in range(n):
            sf.write(root / label / f"c{k}.wav", np.full(sr // 2, 0.1, dtype=np.float32), sr)


def test_a_folder_bank_with_missing_and_scarce_classes_is_named(tmp_path):
    import yaml

    from s5bench.data_gen.config import build_sources, coverage_warnings, load_config

    recipes = tmp_path / "recipes"
    clip_folder(recipes / "se", {"Speech": 6, "Doorbell": 1})  # 16 classes with no clip, one clip reused
    cfg = tiny_data_config(tmp_path)
    del cfg["_path"]
    cfg["targets"] = {"folder": {"root": "se"}}  # relative: against the YAML's folder
    (recipes / "r.yaml").write_text(yaml.safe_dump(cfg))
    bank = build_sources(load_config(recipes / "r.yaml"), "target")
    lines = coverage_warnings(bank, "target")
    assert len(lines) == 2
    assert "16 of 18 classes have no clip and never occur: AlarmClock, BicycleBell" in lines[0]
    assert lines[1].endswith("classes with fewer than 5 clips (each clip returns in many mixtures): Doorbell 1")


def test_a_builtin_bank_can_be_restricted_to_some_classes(tmp_path):
    import yaml

    from s5bench.data_gen.config import build_sources, coverage_warnings, load_config

    cfg = tiny_data_config(tmp_path)
    del cfg["_path"]
    cfg["targets"]["procedural"]["classes"] = ["Speech", "Doorbell", "Cough"]
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(cfg))

    out = tmp_path / "set"
    summary = generate_set(load_config(tmp_path / "r.yaml"), out, n=4, seed=0, jobs=1, progress=False)
    assert set(summary["class_counts"]) <= {"Speech", "Doorbell", "Cough"} and summary["class_counts"]
    assert [w.split(":")[0] for w in summary["warnings"]] == ["interference bank procedural interference bank"]
    assert coverage_warnings(build_sources(load_config(tmp_path / "r.yaml"), "target"), "target") == []
    cfg["targets"]["procedural"]["classes"] = ["Speech", "Spech"]
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(cfg))
    with pytest.raises(ValueError, match=r"targets\.procedural\.classes: .*not classes: \['Spech'\]"):
        load_config(tmp_path / "r.yaml")


def test_ablation_n_with_data_is_refused_not_ignored(tmp_path):
    r = subprocess.run([sys.executable, "-m", "s5bench.runners.ablation", "--config", "fss3_cp3", "--data",
                        str(tmp_path), "--n", "5", "--out", str(tmp_path / "r")], capture_output=True, text=True)
    assert r.returncode == 2 and "--n chooses mixtures of the built-in test set; with --data" in r.stderr
