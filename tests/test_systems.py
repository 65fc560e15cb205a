import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import torch
from conftest import runner

from s5bench.common.errors import S5Error
from s5bench.systems import SlotOutput, System, build_system
from s5bench.systems.baseline import Baseline
from s5bench.systems.run import RunOptions, run_system, write_submission_zip

QUIET = RunOptions(progress=False)

ROOT = Path(__file__).resolve().parents[1]


def test_oracle_bounds(tiny_test_set, tmp_path, capsys):
    mix = run_system(build_system("oracle_labels_mixture"), tiny_test_set, tmp_path / "m", QUIET)["final"]
    assert mix["CA-SDRi"] == pytest.approx(0.0, abs=1e-9)  # the mixture itself improves nothing
    assert mix["Acc_mix"] == 100.0
    src = run_system(build_system("oracle_sources"), tiny_test_set, tmp_path / "s", QUIET)["final"]
    assert src["CA-SDRi"] > 60 and src["Acc_mix"] == 100.0 and src["Acc_src"] == 100.0
    silent = run_system(build_system("all_silence"), tiny_test_set, tmp_path / "z", QUIET)["final"]
    assert silent["CA-SDRi"] == 0.0 and silent["Acc_mix"] == 0.0
    err = capsys.readouterr().err  # one plain line for the run, no warning block
    assert "note: mixtures whose every slot is silence are scored as all misses (2025): final 6 of 6" in err
    assert err.count("all misses") == 1 and "UserWarning" not in err


def test_unknown_system_lists_known_ones():
    with pytest.raises(FileNotFoundError, match="known systems: .*oracle_sources"):
        build_system("nope")


class HalfMixture(System):
    """A user's plug-in: the oracle labels with half of channel 0 (6.02 dB from the mixture)."""

    stages = ("first", "final")

    def forward(self, mixture, batch):
        est = 0.5 * mixture[:, :1].expand(-1, 3, -1)
        out = SlotOutput(batch["labels"], est.clone())
        return {"first": out, "final": out}


def test_user_system_by_class_path_and_resume(tiny_test_set, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    cfg = tmp_path / "half.yaml"
    cfg.write_text("class: test_systems:HalfMixture\n")
    out = tmp_path / "run"
    first = run_system(build_system(str(cfg)), tiny_test_set, out, QUIET)
    assert set(first) == {"first", "final"}
    per_mix = pd.read_csv(out / "final" / "per_mixture.csv")
    assert len(per_mix) == 6 and (per_mix["n_est"] == per_mix["n_ref"]).all()
    # resume: forget two mixtures; only they are run again, the figures stay the same
    marks = sorted((out / "final" / ".done").iterdir())
    for m in marks[:2]:
        m.unlink()
    for f in (out / "final" / "estimate").glob(f"{marks[0].name}_*.wav"):
        f.unlink()
    again = run_system(build_system(str(cfg)), tiny_test_set, out, QUIET)
    assert again["final"] == pytest.approx(first["final"])
    # a stage asked for later is run for every mixture, not taken as done from the other stage's run
    out2 = tmp_path / "run2"
    final_only = run_system(build_system(str(cfg)), tiny_test_set, out2, QUIET, stages=["final"])
    both = run_system(build_system(str(cfg)), tiny_test_set, out2, QUIET, stages=["first", "final"])
    assert both["first"] == pytest.approx(first["first"]) and both["final"] == pytest.approx(final_only["final"])
    n_files = len(list((out / "first" / "estimate").glob("*.wav")))
    assert len(list((out2 / "first" / "estimate").glob("*.wav"))) == n_files
    zpath = write_submission_zip(out / "final" / "estimate", tmp_path / "A_B_task4_1_out.zip", "A_B_task4_1_out")
    names = zipfile.ZipFile(zpath).namelist()
    assert names and all(n.startswith("A_B_task4_1_out/eval_out/") and n.endswith(".wav") for n in names)


def test_bad_system_output_is_refused():
    class Broken(System):
        def forward(self, mixture, batch):
            return {"final": SlotOutput([["Speech", "Speech", "silence"]], torch.zeros(1, 3, 10))}

    with pytest.raises(ValueError, match="appears twice"):
        Broken().infer(torch.zeros(1, 4, 10), {})


def test_runner_cli(tiny_test_set, tmp_path):
    r = subprocess.run([*runner("run_system.py"), "--system",
                        "oracle_labels_mixture,oracle_sources", "--data", str(tiny_test_set), "--out", str(tmp_path)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    table = pd.read_csv(tmp_path / "summary.csv")
    assert list(table["system"]) == ["oracle_labels_mixture", "oracle_sources"]
    assert list(table.columns) == ["system", "stage", "n_mixtures", "CA-SDRi", "SNRi", "Acc_mix", "Acc_src"]


class RepeatedSpeech(System):
    """Slots Speech, silence, Speech: legal in 2026 only."""

    def forward(self, mixture, batch):
        B, _, T = mixture.shape
        waves = torch.stack([0.5 * mixture[:, 0], torch.zeros(B, T), 0.25 * mixture[:, 0]], dim=1)
        return {"final": SlotOutput([["Speech", "silence", "Speech"]] * B, waves)}


def test_2026_allows_repeated_classes_and_numbers_the_files(tiny_test_set, tmp_path):
    with pytest.raises(ValueError, match="appears twice"):
        RepeatedSpeech().infer(torch.zeros(1, 4, 10), {}, edition=2025)
    out = RepeatedSpeech().infer(torch.ones(1, 4, 10), {}, edition=2026)["final"]
    assert out.labels == [["Speech", "silence", "Speech"]]
    summary = run_system(RepeatedSpeech(), tiny_test_set, tmp_path / "r",
                         RunOptions(progress=False, edition=2026))["final"]
    assert set(summary) == {"n_mixtures", "CAPI-SDRi", "SNRi", "Acc_mix", "Acc_src"}
    names = sorted(p.name for p in (tmp_path / "r" / "final" / "estimate").glob("mix_0000_*.wav"))
    assert names == ["mix_0000_0_Speech.wav", "mix_0000_1_Speech.wav"]  # silent slot left out, i = 0…k−1
    import soundfile as sf
    mix = sf.read(tiny_test_set / "soundscape" / "mix_0000.wav", dtype="float32")[0][:, 0]
    second = sf.read(tmp_path / "r" / "final" / "estimate" / "mix_0000_1_Speech.wav", dtype="float32")[0]
    assert second == pytest.approx(0.25 * mix, abs=1e-7)  # file 1 is slot 2


def test_eval_set_without_oracle_targets_writes_estimates_and_zip(tiny_test_set, tmp_path):
    import os
    import shutil

    eval_set = tmp_path / "eval_set"
    shutil.copytree(tiny_test_set / "soundscape", eval_set / "soundscape")  # mixtures only
    (tmp_path / "repeat.yaml").write_text("class: test_systems:RepeatedSpeech\n")
    r = subprocess.run([*runner("run_system.py"), "--system",
                        str(tmp_path / "repeat.yaml"), "--data", str(eval_set), "--out", str(tmp_path / "out"),
                        "--zip", "A_B_task4_1", "--edition", "2026", "--dev-test", str(tiny_test_set)],
                       capture_output=True, text=True, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(Path(__file__).parent)})  # the plug-in's folder
    assert r.returncode == 0, r.stderr
    assert "scoring skipped" in r.stdout
    names = sorted(zipfile.ZipFile(tmp_path / "out" / "repeat" / "A_B_task4_1.zip").namelist())
    wavs = [n for n in names if n.endswith(".wav")]
    assert len(wavs) == 12  # 6 mixtures × 2 non-silent slots
    assert wavs[:2] == [f"A_B_task4_1/eval_out/mix_0000_{i}_Speech.wav" for i in (0, 1)]
    assert sorted(set(names) - set(wavs)) == ["A_B_task4_1/dev_set_test_results.json", "A_B_task4_1/eval_results.json"]
    assert not (tmp_path / "out" / "repeat" / "final" / "summary.csv").exists()


def test_argmax_labels_keep_repeats_only_when_asked():
    from s5bench.systems.slots import argmax_labels

    logits = torch.zeros(1, 3, 18)
    logits[0, 0, 15] = logits[0, 1, 15] = 5.0  # Speech twice
    logits[0, 1, 15] = 4.0
    logits[0, 2, 5] = 5.0  # Cough
    silent = torch.zeros(1, 3, dtype=torch.bool)
    assert argmax_labels(logits, silent) == [["Speech", "silence", "Cough"]]  # 2025: one slot per class
    assert argmax_labels(logits, silent, unique=False) == [["Speech", "Speech", "Cough"]]  # 2026


def test_infer_passes_the_edition_in_the_batch_not_on_the_system():
    """`forward` reads the edition from batch["edition"] (set by `infer`); the system keeps no state of it."""

    class EditionEcho(System):
        def forward(self, mixture, batch):
            label = {2025: "Cough", 2026: "Speech"}[batch["edition"]]
            return {"final": SlotOutput([[label, "silence", "silence"]] * len(mixture),
                                        torch.zeros(len(mixture), 3, mixture.shape[-1]))}

    system = EditionEcho()
    assert system.infer(torch.zeros(1, 4, 10), {}, edition=2026)["final"].labels == [["Speech", "silence", "silence"]]
    assert system.infer(torch.zeros(2, 4, 10), {}, edition=2025)["final"].labels[1][0] == "Cough"
    assert not hasattr(system, "edition")


def test_a_baseline_without_the_tagger_it_needs_is_refused():
    """It used to fail inside Path(None) (trained) or build and crash on the first batch (official)."""
    with pytest.raises(ValueError, match="`tagger` unless `oracle_labels: true`"):
        Baseline(separator="checkpoints/separator_tiny.pt")
    with pytest.raises(ValueError, match="`tagger` unless `oracle_labels: true`"):
        Baseline(official=True, separator="nowhere/resunetk.ckpt")
    with pytest.raises(ValueError, match="needs `separator`"):
        Baseline(tagger="checkpoints/tagger_tiny.pt")
    assert Baseline(separator="checkpoints/separator_tiny.pt", oracle_labels=True).tagger is None


def test_an_official_baseline_without_its_weight_file_is_a_named_error():
    """Without `weight_file` the released tagger's loader used to get None and fail with a TypeError
    (a traceback reported as a bug in s5bench) before the missing files were checked."""
    from s5bench.common.errors import S5Error
    from s5bench.systems.baseline2026 import Baseline2026

    with pytest.raises(S5Error, match="tagger needs `weight_file`.*baseline_official.yaml"):
        Baseline(tagger="nowhere/m2dat.ckpt", separator="nowhere/resunetk.ckpt", official=True)
    with pytest.raises(S5Error, match="tagger needs `weight_file`.*baseline2026_official.yaml"):
        Baseline2026(tagger="nowhere/m2dat.ckpt", separator="nowhere/resunetk.ckpt", official=True)


def test_a_zip_name_or_stage_name_cannot_write_outside_out(tiny_test_set, tmp_path):
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
