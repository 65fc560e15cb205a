"""End-to-end: a small data set in the official layout, scored by runners/evaluate.py as a subprocess; an
unwritable --out-dir is refused before any scoring."""
import errno
import math
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from conftest import evaluate_args, runner

from s5bench.common.errors import cli
from s5bench.metrics.folders import score_folders
from s5bench.systems import build_system
from s5bench.systems.run import RunOptions, run_system

QUIET = RunOptions(progress=False)

ROOT = Path(__file__).resolve().parents[1]
SR, T = 32000, 3200  # short files keep the test fast; the runner does not assume 10 s


def _snr(est, ref):  # independent formulation, written out here on purpose
    eps = float(np.finfo(np.float32).eps)
    return 10 * np.log10((np.sum(ref ** 2) + eps) / (np.sum((ref - est) ** 2) + eps))


def make_set(root: Path, rng):
    """mix_7 and mix_70 (prefix trap), a name with underscores, and one mixture with no estimate."""
    plan = {
        "mix_7": (["Speech", "Dishes"], ["Speech", "Dishes"]),
        "mix_70": (["Cough"], ["Cough", "Typing"]),
        "room_a_01": (["Blender", "Buzzer", "Pour"], ["Blender", "Pour"]),
        "mix_8": (["Doorbell"], []),
    }
    dirs = {k: root / k for k in ("soundscape", "oracle_target", "estimate")}
    for d in dirs.values():
        d.mkdir(parents=True)
    expected = {}
    for mix, (ref_labels, est_labels) in plan.items():
        refs = {lab: 0.1 * rng.standard_normal(T) for lab in ref_labels}
        mixture = rng.standard_normal((T, 4)) * 0.01
        mixture[:, 0] += sum(refs.values())
        sf.write(dirs["soundscape"] / f"{mix}.wav", mixture, SR, subtype="FLOAT")
        for lab, w in refs.items():
            sf.write(dirs["oracle_target"] / f"{mix}_{lab}.wav", w, SR, subtype="FLOAT")
        ests = {}
        for lab in est_labels:
            ests[lab] = refs.get(lab, np.zeros(T)) + 0.02 * rng.standard_normal(T)
            sf.write(dirs["estimate"] / f"{mix}_{lab}.wav", ests[lab], SR, subtype="FLOAT")
        x0 = sf.read(dirs["soundscape"] / f"{mix}.wav")[0][:, 0]
        refs = {lab: sf.read(dirs["oracle_target"] / f"{mix}_{lab}.wav")[0] for lab in refs}
        ests = {lab: sf.read(dirs["estimate"] / f"{mix}_{lab}.wav")[0] for lab in ests}
        terms = [(_snr(ests[lab], refs[lab]) - _snr(x0, refs[lab])) if lab in ests else 0.0 for lab in refs]
        terms += [0.0 for lab in ests if lab not in refs]
        expected[mix] = float(np.mean(terms))
    return dirs, expected


def run_evaluate(dirs, out, jobs=2):
    cmd = [*runner("evaluate.py"), "--soundscape-dir", str(dirs["soundscape"]),
           "--oracle-dir", str(dirs["oracle_target"]), "--estimate-dir", str(dirs["estimate"]),
           "--out-dir", str(out), "--jobs", str(jobs)]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)


def test_runner_writes_expected_csvs(tmp_path):
    dirs, expected = make_set(tmp_path, np.random.default_rng(0))
    res = run_evaluate(dirs, tmp_path / "report")
    assert res.returncode == 0, res.stderr
    assert "1 mixture(s) have no estimate" in res.stderr and "mix_8" in res.stderr
    per_mix = pd.read_csv(tmp_path / "report" / "per_mixture.csv").set_index("soundscape")
    for col in ["ca_sdri", "snri", "acc_src", "label_match", "n_ref", "n_est", "tp", "fp", "fn"]:
        assert col in per_mix.columns
    for mix, value in expected.items():
        assert per_mix.loc[mix, "ca_sdri"] == pytest.approx(value, abs=1e-9)
    assert per_mix.loc["mix_70", ["tp", "fp", "fn"]].tolist() == [1, 1, 0]
    assert per_mix.loc["room_a_01", ["tp", "fp", "fn"]].tolist() == [2, 0, 1]
    assert per_mix.loc["mix_8", "ca_sdri"] == 0.0 and per_mix.loc["mix_8", "n_est"] == 0
    summary = pd.read_csv(tmp_path / "report" / "summary.csv")
    assert list(summary.columns) == ["n_mixtures", "CA-SDRi", "SNRi", "Acc_mix", "Acc_src"]
    assert summary.loc[0, "n_mixtures"] == 4
    assert summary.loc[0, "CA-SDRi"] == pytest.approx(np.mean(list(expected.values())), abs=1e-9)
    assert summary.loc[0, "Acc_mix"] == pytest.approx(25.0)  # only mix_7 has the exact label set
    per_class = pd.read_csv(tmp_path / "report" / "per_class.csv").set_index("class")
    assert per_class.loc["Typing", "fp"] == 1 and per_class.loc["Buzzer", "fn"] == 1
    assert (tmp_path / "report" / "summary.md").read_text().startswith("# S5 evaluation")
    ci = pd.read_csv(tmp_path / "report" / "summary_ci.csv").set_index("metric")  # the figures, with intervals
    assert list(ci.index) == ["CA-SDRi", "SNRi", "Acc_mix", "Acc_src"] and (ci["n_mixtures"] == 4).all()
    for metric in ci.index:
        assert ci.loc[metric, "value"] == pytest.approx(summary.loc[0, metric], abs=1e-9)
        assert ci.loc[metric, "ci_low"] <= ci.loc[metric, "value"] + 1e-9 <= ci.loc[metric, "ci_high"] + 2e-9
    assert "CA-SDRi " in res.stdout and " ± " in res.stdout
    # one process gives the same figures as two
    one = score_folders(dirs["soundscape"], dirs["oracle_target"], dirs["estimate"], jobs=1, progress=False)
    assert [s.ca_sdri for s in one] == pytest.approx(per_mix.loc[[s.soundscape for s in one], "ca_sdri"].tolist())


@pytest.mark.parametrize("breakage, message", [
    ("sample_rate", "sample rate 16000 Hz, expected 32000"),
    ("length", "samples, expected 3200"),
    ("unknown_label", "unknown label 'Dog'"),
    ("duplicate", "two files with label 'Speech'"),
    ("nan", "NaN or Inf"),
    ("channels", "2 channel(s), expected 4"),
    ("missing", "estimate folder not found"),
    ("unknown_mixture", "names mixture 'mix_9'"),
    ("empty", "an empty file (0 bytes), not a readable WAV file"),
    ("garbage", "not a readable WAV file"),
    ("truncated", "shorter than its mixture: the file looks truncated"),
])
def test_bad_input_names_the_file(tmp_path, breakage, message):
    dirs, _ = make_set(tmp_path, np.random.default_rng(1))
    est = dirs["estimate"]
    if breakage == "sample_rate":
        sf.write(est / "mix_7_Speech.wav", np.zeros(T), 16000)
    elif breakage == "length":
        sf.write(est / "mix_7_Speech.wav", np.zeros(T + 1), SR)
    elif breakage == "unknown_label":
        sf.write(est / "mix_7_Dog.wav", np.zeros(T), SR)
    elif breakage == "duplicate":
        sf.write(est / "mix_7_Speech.WAV", np.zeros(T), SR)
    elif breakage == "nan":
        sf.write(est / "mix_7_Speech.wav", np.full(T, np.nan), SR, subtype="FLOAT")
    elif breakage == "channels":
        sf.write(dirs["soundscape"] / "mix_70.wav", np.zeros((T, 2)), SR)
    elif breakage == "missing":
        dirs = {**dirs, "estimate": tmp_path / "nowhere"}
    elif breakage == "unknown_mixture":
        sf.write(est / "mix_9_Speech.wav", np.zeros(T), SR)
    elif breakage == "empty":
        (est / "mix_7_Speech.wav").write_bytes(b"")
    elif breakage == "garbage":
        (est / "mix_7_Speech.wav").write_bytes(b"not audio at all" * 8)
    elif breakage == "truncated":
        sf.write(est / "mix_7_Speech.wav", np.zeros(T // 2), SR)
    # through the worker pool (jobs 2) for the file-reading cases: no RemoteTraceback may reach the user
    res = run_evaluate(dirs, tmp_path / "report", jobs=2 if breakage in ("empty", "garbage", "truncated") else 1)
    assert res.returncode == 2
    assert message in res.stderr and "Traceback" not in res.stderr
    if breakage not in ("missing",):
        assert ".wav" in res.stderr or ".WAV" in res.stderr  # the file is named


def test_prefix_names_are_never_confused(tmp_path):
    dirs, _ = make_set(tmp_path, np.random.default_rng(2))
    scores = {s.soundscape: s for s in
              score_folders(dirs["soundscape"], dirs["oracle_target"], dirs["estimate"], progress=False)}
    assert set(scores["mix_7"].ref_labels) == {"Speech", "Dishes"}
    assert set(scores["mix_70"].ref_labels) == {"Cough"}
    assert not math.isnan(scores["mix_70"].ca_sdri)


def make_set_2026(root: Path, rng):
    """2026 naming: a class twice (mix_7), a zero-target mixture (mix_70, a prefix trap for
    mix_7) without estimates, a zero-target one with a false alarm (mix_71), 2025-form names mixed in."""
    dirs = {k: root / k for k in ("soundscape", "oracle_target", "estimate")}
    for d in dirs.values():
        d.mkdir(parents=True)
    refs = {"mix_7": [("Speech", 0.1 * rng.standard_normal(T)), ("Speech", 0.1 * rng.standard_normal(T)),
                      ("Cough", 0.1 * rng.standard_normal(T))], "mix_70": [], "mix_71": []}
    for mix, items in refs.items():
        mixture = rng.standard_normal((T, 4)) * 0.01
        for _, w in items:
            mixture[:, 0] += w
        sf.write(dirs["soundscape"] / f"{mix}.wav", mixture, SR, subtype="FLOAT")
        for i, (lab, w) in enumerate(items):
            sf.write(dirs["oracle_target"] / f"{mix}_{i}_{lab}.wav", w, SR, subtype="FLOAT")
    speech = refs["mix_7"][1][1] + 0.02 * rng.standard_normal(T)  # the second Speech, well separated
    sf.write(dirs["estimate"] / "mix_7_0_Speech.wav", speech, SR, subtype="FLOAT")
    sf.write(dirs["estimate"] / "mix_7_Cough.wav", refs["mix_7"][2][1], SR, subtype="FLOAT")  # 2025 form
    sf.write(dirs["estimate"] / "mix_71_0_Dishes.wav", 0.1 * rng.standard_normal(T), SR, subtype="FLOAT")
    return dirs


def test_runner_2026_edition(tmp_path):
    dirs = make_set_2026(tmp_path, np.random.default_rng(5))
    res = run_evaluate(dirs, tmp_path / "report", jobs=1)
    assert res.returncode == 2 and "two files with label 'Speech'" in res.stderr  # 2025 refuses repeated classes
    out = tmp_path / "report26"
    cmd = [*runner("evaluate.py"), "--soundscape-dir", str(dirs["soundscape"]),
           "--oracle-dir", str(dirs["oracle_target"]), "--estimate-dir", str(dirs["estimate"]),
           "--out-dir", str(out), "--jobs", "1", "--edition", "2026", "--official-json"]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == ["n_mixtures", "CAPI-SDRi", "SNRi", "Acc_mix", "Acc_src"]
    per_mix = pd.read_csv(out / "per_mixture.csv", keep_default_na=False).set_index("soundscape")
    for col in ["capi_sdri", "n_ref", "n_est", "tp", "fp", "fn", "label_match"]:
        assert col in per_mix.columns
    assert per_mix.loc["mix_70", "capi_sdri"] == ""  # no labels on either side: no value
    assert float(per_mix.loc["mix_71", "capi_sdri"]) == 0.0  # a false alarm counts
    assert per_mix.loc["mix_7", ["n_ref", "n_est", "tp", "fp", "fn"]].tolist() == [3, 2, 2, 0, 1]
    # mix_7: Speech pairs the estimate with the second reference; Cough is exact (eps-bounded)
    x0 = sf.read(dirs["soundscape"] / "mix_7.wav")[0][:, 0]
    s2 = sf.read(dirs["oracle_target"] / "mix_7_1_Speech.wav")[0]
    cough = sf.read(dirs["oracle_target"] / "mix_7_2_Cough.wav")[0]
    est = sf.read(dirs["estimate"] / "mix_7_0_Speech.wav")[0]
    expected = ((_snr(est, s2) - _snr(x0, s2)) + 0.0 + (_snr(cough, cough) - _snr(x0, cough))) / 3
    assert float(per_mix.loc["mix_7", "capi_sdri"]) == pytest.approx(expected, abs=1e-9)
    assert summary.loc[0, "CAPI-SDRi"] == pytest.approx((expected + 0.0) / 2, abs=1e-9)
    assert summary.loc[0, "Acc_mix"] == pytest.approx(100 / 3)  # only mix_70 (nothing, rightly)
    assert summary.loc[0, "Acc_src"] == pytest.approx(100 * 2 / 4)  # ΣTP 2; ΣFP 1 (mix_71); ΣFN 1 (mix_7)
    per_class = pd.read_csv(out / "per_class.csv").set_index("class")
    assert per_class.loc["Speech", ["n_ref", "tp", "fn"]].tolist() == [2, 1, 1]
    official = __import__("json").loads((out / "results.json").read_text())
    assert official["CAPI-SDRi"]["mean"] == pytest.approx(summary.loc[0, "CAPI-SDRi"])
    assert official["label_metrics"]["accuracy_src"] == pytest.approx(50.0)
    details = {d["soundscape"]: d for d in official["details"]}
    assert details["mix_70"]["metrics"][0] == {"metric": "CAPI-SDRi", "value": None}


@pytest.mark.parametrize("breakage, message", [
    ("same_index", "two files with slot index 0 for mixture 'mix_7'"),
    ("four_files", "4 files for mixture 'mix_7'"),
    ("unknown_label", "unknown label 'Dog'"),
    ("sample_rate", "sample rate 16000 Hz, expected 32000"),
    ("length", "samples, expected 3200"),
    ("nan", "NaN or Inf"),
])
def test_bad_input_2026_names_the_file(tmp_path, breakage, message):
    dirs = make_set_2026(tmp_path, np.random.default_rng(6))
    est = dirs["estimate"]
    if breakage == "same_index":
        sf.write(est / "mix_7_0_Cough.wav", np.zeros(T), SR)
    elif breakage == "four_files":
        for i in (1, 2, 3):
            sf.write(est / f"mix_7_{i}_Typing.wav", np.zeros(T), SR)
    elif breakage == "unknown_label":
        sf.write(est / "mix_7_1_Dog.wav", np.zeros(T), SR)
    elif breakage == "sample_rate":
        sf.write(est / "mix_7_0_Speech.wav", np.zeros(T), 16000)
    elif breakage == "length":
        sf.write(est / "mix_7_0_Speech.wav", np.zeros(T + 1), SR)
    elif breakage == "nan":
        sf.write(est / "mix_7_0_Speech.wav", np.full(T, np.nan), SR, subtype="FLOAT")
    cmd = [*runner("evaluate.py"), "--soundscape-dir", str(dirs["soundscape"]),
           "--oracle-dir", str(dirs["oracle_target"]), "--estimate-dir", str(dirs["estimate"]),
           "--out-dir", str(tmp_path / "r"), "--jobs", "1", "--edition", "2026"]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 2 and message in res.stderr, res.stderr
    assert ".wav" in res.stderr  # the file is named


def test_2026_names_match_mixtures_exactly():
    from s5bench.common.layout import parse_stem

    mixtures = {"mix_7", "mix_70", "mix_7_1"}
    assert parse_stem("mix_70_Speech", mixtures) == ("mix_70", None, "Speech")
    assert parse_stem("mix_70_2_Speech", mixtures) == ("mix_70", 2, "Speech")
    assert parse_stem("mix_7_0_Speech", mixtures) == ("mix_7", 0, "Speech")
    with pytest.raises(ValueError, match="ambiguous"):  # mixture mix_7_1, or slot 1 of mix_7
        parse_stem("mix_7_1_Speech", mixtures)
    with pytest.raises(ValueError, match="names mixture 'mix_8'"):
        parse_stem("mix_8_Speech", mixtures)


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
