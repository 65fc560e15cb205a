"""Data sets that know when they are whole (the manifest), and every bad input a named error with
exit code 2 and no traceback; an evaluation set (mixtures only) is a layout of its own, written beside its
references in one command."""
import errno
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import runner, tiny_data_config

from s5bench.common import audio
from s5bench.common.manifest import MANIFEST, DatasetError, check_dataset, verify_dataset
from s5bench.data_gen.writer import MixtureError, generate_set

ROOT = Path(__file__).resolve().parents[1]


def tree(folder: Path, skip=(MANIFEST,)) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in skip}


def run(script, *args):
    return subprocess.run([*runner(script), *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT)


def test_disk_full_leaves_no_listed_partial_mixture_and_the_next_run_repairs(tiny_cfg, tmp_path, monkeypatch):
    clean = tmp_path / "clean"
    generate_set(tiny_cfg, clean, n=3, seed=4, progress=False)
    out = tmp_path / "set"
    real, calls = audio.FileGroup.audio, []

    def full_disk(group, path, *args):  # the disk fills up at the second mixture's second file
        calls.append(str(path))
        if sum("mix_0001" in c for c in calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(group, path, *args)

    monkeypatch.setattr(audio.FileGroup, "audio", full_disk)
    with pytest.raises(MixtureError, match="mix_0001.*No space left on device"):
        generate_set(tiny_cfg, out, n=3, seed=4, progress=False)
    monkeypatch.setattr(audio.FileGroup, "audio", real)
    # nothing of mix_0001 under its own name, no temporary file left, and the manifest lists mix_0000 only
    assert not [p for p in out.rglob("*mix_0001*")]
    assert not [p for p in out.rglob(".tmp_*")]
    manifest = json.loads((out / MANIFEST).read_text())
    assert list(manifest["mixtures"]) == ["mix_0000"] and manifest["complete"] is False
    with pytest.raises(DatasetError, match=r"2 of 3 mixtures not listed \(mix_0001, mix_0002\)"):
        check_dataset(out)
    # every runner that reads the folder refuses it, naming the mixtures
    (tmp_path / "est").mkdir()
    res = run("evaluate.py", "--soundscape-dir", out / "soundscape", "--oracle-dir", out / "oracle_target",
              "--estimate-dir", tmp_path / "est", "--out-dir", tmp_path / "scores", "--jobs", "1")
    assert res.returncode == 2 and "mix_0001" in res.stderr and "Traceback" not in res.stderr
    res = run("run_system.py", "--system", "oracle_sources", "--data", out, "--out", tmp_path / "res")
    assert res.returncode == 2 and "incomplete or changed" in res.stderr and "Traceback" not in res.stderr
    # the next run completes it, byte for byte as a clean run
    generate_set(tiny_cfg, out, n=3, seed=4, progress=False)
    assert verify_dataset(out, checksums=True).ok
    assert tree(out) == tree(clean)


def test_manifest_round_trip(tiny_cfg, tmp_path):
    out = tmp_path / "set"
    generate_set(tiny_cfg, out, n=3, seed=2, progress=False)
    clean = tree(out)
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["complete"] and manifest["seed"] == 2 and manifest["n"] == 3 and manifest["code_fingerprint"]
    entry = manifest["mixtures"]["mix_0001"]["files"]
    assert "soundscape/mix_0001.wav" in entry and "metadata/mix_0001.json" in entry
    assert entry["soundscape/mix_0001.wav"]["bytes"] == (out / "soundscape" / "mix_0001.wav").stat().st_size
    res = run("generate.py", "--verify", out)
    assert res.returncode == 0 and "3 mixtures, every file's size and sha256 match" in res.stdout
    victim = next((out / "oracle_target").glob("mix_0001_*.wav"))
    victim.unlink()
    res = run("generate.py", "--verify", out)
    assert res.returncode == 2 and f"mix_0001: oracle_target/{victim.name} is missing" in res.stderr
    generate_set(tiny_cfg, out, n=3, seed=2, progress=False)  # repaired
    assert tree(out) == clean and run("generate.py", "--verify", out).returncode == 0
    # a changed file of the same size is found by its checksum; a stray file by its absence from the list
    data = bytearray(victim.read_bytes())
    data[-1] ^= 1
    victim.write_bytes(bytes(data))
    assert f"{victim.name} has changed" in run("generate.py", "--verify", out).stderr
    shutil.copy(out / "soundscape" / "mix_0000.wav", out / "soundscape" / "mix_0009.wav")
    assert "soundscape/mix_0009.wav is not in the manifest" in verify_dataset(out).message()
    # the same recipe from a moved YAML file is the same data set (the loader's private `_path` is not the recipe)
    from s5bench.data_gen.config import load_config

    moved = tmp_path / "moved" / "data.yaml"
    moved.parent.mkdir()
    shutil.copy(tiny_cfg["_path"], moved)
    (out / "soundscape" / "mix_0009.wav").unlink()
    victim.write_bytes(bytes(data[:-1] + bytearray([data[-1] ^ 1])))  # undo the flipped byte
    assert generate_set(load_config(moved), out, n=3, seed=2, progress=False)["kept"] == 3
    # another seed into the same folder is refused: two data sets never share one
    with pytest.raises(DatasetError, match="another seed"):
        generate_set(tiny_cfg, out, n=3, seed=3, progress=False)


def test_a_folder_without_manifest_is_noted_and_checked_by_layout(tiny_test_set, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(tiny_test_set, copy, ignore=shutil.ignore_patterns(MANIFEST))
    verdict = check_dataset(copy)
    assert verdict.ok and not verdict.has_manifest
    assert f"{copy} has no {MANIFEST}" in capsys.readouterr().err
    meta = json.loads((copy / "metadata" / "mix_0002.json").read_text())
    (copy / meta["files"][1]).unlink()  # an oracle target its metadata lists
    res = run("generate.py", "--verify", copy)
    assert res.returncode == 2 and "checked by the layout rules" in res.stderr and meta["files"][1] in res.stderr


def test_counts_below_their_minimum_are_refused(tiny_test_set, tmp_path):
    before = (tiny_test_set / "index.json").read_bytes()
    res = run("generate.py", "--config", "builtin_test", "--out", tiny_test_set, "--n", "-3")
    assert res.returncode == 2 and "argument --n: must be a whole number of at least 1, not -3" in res.stderr
    assert (tiny_test_set / "index.json").read_bytes() == before
    res = run("generate.py", "--config", "builtin_test", "--out", tmp_path / "x", "--n", "2", "--jobs", "0")
    assert res.returncode == 2 and "argument --jobs: must be a whole number of at least 1, not 0" in res.stderr
    res = run("ablation.py", "--all", "--n", "-3")
    assert res.returncode == 2 and "argument --n" in res.stderr
    assert not (ROOT / "data" / "builtin_test_-3").exists()
    res = run("run_system.py", "--system", "all_silence", "--data", tiny_test_set, "--out", tmp_path / "r",
              "--batch-size", "0")
    assert res.returncode == 2 and "argument --batch-size" in res.stderr


def test_a_truncated_checkpoint_names_the_file_and_the_system_config(tiny_test_set, tiny_systems, tmp_path):
    cfg = yaml.safe_load(Path(tiny_systems["self_guided"]).read_text())
    whole = Path(cfg["args"]["uss"]).read_bytes()
    cut = tmp_path / "uss_cut.pt"
    cut.write_bytes(whole[:len(whole) // 2])
    cfg["args"]["uss"] = str(cut)
    system = tmp_path / "cut_system.yaml"
    system.write_text(yaml.safe_dump(cfg))
    res = run("run_system.py", "--system", system, "--data", tiny_test_set, "--out", tmp_path / "res")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert str(system) in res.stderr and str(cut) in res.stderr and "looks truncated" in res.stderr


def test_a_misspelt_argument_names_the_yaml_the_key_and_the_allowed_ones(tiny_test_set, tiny_systems, tmp_path):
    cfg = yaml.safe_load(Path(tiny_systems["baseline"]).read_text())
    cfg["args"]["treshold"] = 0.3
    system = tmp_path / "typo.yaml"
    system.write_text(yaml.safe_dump(cfg))
    res = run("run_system.py", "--system", system, "--data", tiny_test_set, "--out", tmp_path / "res")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert str(system) in res.stderr and "'treshold'" in res.stderr and "threshold" in res.stderr.split("takes:")[1]


def test_a_results_folder_keeps_the_systems_run_into_it_earlier(tiny_test_set, tmp_path):
    out = tmp_path / "res"
    assert run("run_system.py", "--system", "oracle_sources", "--data", tiny_test_set, "--out", out).returncode == 0
    res = run("run_system.py", "--system", "all_silence", "--data", tiny_test_set, "--out", out)
    assert res.returncode == 0 and "keeps the rows of systems run into it earlier: oracle_sources" in res.stdout
    import pandas as pd

    summary = pd.read_csv(out / "summary.csv")
    assert list(summary["system"]) == ["oracle_sources", "all_silence"]
    # each stage's figures with their bootstrap intervals; doing nothing scores exactly 0 dB, interval too
    ci = pd.read_csv(out / "all_silence" / "final" / "summary_ci.csv").set_index("metric")
    assert ci.loc["SNRi", ["value", "ci_low", "ci_high"]].tolist() == [0.0, 0.0, 0.0]
    assert "all_silence final: CA-SDRi" in res.stdout
    assert run("run_system.py", "--system", "oracle_sources", "--data", tiny_test_set, "--out", out).returncode == 0
    assert list(pd.read_csv(out / "summary.csv")["system"]) == ["all_silence", "oracle_sources"]


def test_written_files_have_the_usual_permissions_and_a_failed_text_write_leaves_nothing(tmp_path):
    import os

    import numpy as np

    from s5bench.common.audio import write_audio_atomic, write_text_atomic

    mask = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "a.csv", "x\n")
        write_audio_atomic(tmp_path / "a.wav", np.zeros(10, np.float32), 32000)
        assert (tmp_path / "a.csv").stat().st_mode & 0o777 == 0o644
        assert (tmp_path / "a.wav").stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(mask)

    with pytest.raises(TypeError):
        write_text_atomic(tmp_path / "b.csv", 12345)  # not text: the write fails half-way
    assert not (tmp_path / "b.csv").exists() and not list(tmp_path.glob(".tmp_*"))


def test_the_atomic_writer_leaves_nothing_on_failure_and_serves_concurrent_writers(tmp_path):
    import threading

    from s5bench.common.atomic import atomic_path

    target = tmp_path / "table.csv"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half a ta")
            raise RuntimeError("the disk filled up")
    assert not target.exists() and list(tmp_path.iterdir()) == []
    # two writers of one target: each has its own temporary file; the target is one whole version
    texts = {w: f"writer {w}\n" * 200_000 for w in "ab"}
    barrier = threading.Barrier(2)

    def write(w):
        with atomic_path(target, fsync=True) as tmp:
            barrier.wait()
            tmp.write_text(texts[w])

    threads = [threading.Thread(target=write, args=(w,)) for w in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert target.read_text() in texts.values() and list(tmp_path.iterdir()) == [target]


def test_a_three_channel_soundscape_through_the_ablation_is_a_named_error(tiny_test_set, tmp_path):
    import numpy as np
    import soundfile as sf

    data = tmp_path / "set"
    shutil.copytree(tiny_test_set, data, ignore=shutil.ignore_patterns(MANIFEST))  # past the manifest check
    mix = data / "soundscape" / "mix_0001.wav"
    sf.write(mix, np.zeros((64000, 3), np.float32), 32000, subtype="FLOAT")
    res = run("ablation.py", "--config", "fss1_cp1", "--data", data, "--out", tmp_path / "res", "--no-report")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert f"{mix}: 3 channel(s), expected 4" in res.stderr


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
