"""The official 2026 submission package and `s5bench validate`: a package written by the library and one
made by hand (from the organisers' description, not through the library) pass; each bad package,
made by hand, is named with its file and exit status 2; 2025 zips validate too."""
import json
import math
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from s5bench.common.errors import S5Error
from s5bench.metrics.scene import MixtureScore
from s5bench.runners.validate import main as validate_main
from s5bench.submission.checks import validate
from s5bench.submission.package import estimates_of, write_package
from s5bench.submission.results import SlotAnswer, dev_test_results

SR, LENGTH = 32000, 3200  # 0.1-s mixtures: cheap, the checks do not care
NAME = "Me_MyLab_task4_1"
# the evaluation set's answers: mix_0003 answered with nothing; mix_0001 holds one class twice (2026)
ANSWERS = [SlotAnswer("mix_0000", ("Speech", "silence", "silence"), (0.9, 1.0, 1.0)),
           SlotAnswer("mix_0001", ("Dishes", "Dishes", "Cough"), (0.8, 0.7, 0.6)),
           SlotAnswer("mix_0002", ("silence", "Speech", "silence"), (0.2, 0.5, 1.0)),
           SlotAnswer("mix_0003", ("silence", "silence", "silence"), (1.0, 1.0, 1.0))]
DEV = ["dev_0000", "dev_0001", "dev_0002"]


def write_wav(path: Path, channels: int = 1, length: int = LENGTH, sr: int = SR, value: float = 0.1):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.full((length, channels), value, dtype=np.float32), sr, subtype="FLOAT")


@pytest.fixture
def sets(tmp_path):
    """An evaluation set of 4 mixtures and a dev-set test split of 3 (4-channel, 0.1 s)."""
    for name in [a.soundscape for a in ANSWERS]:
        write_wav(tmp_path / "eval" / "soundscape" / f"{name}.wav", channels=4)
    for name in DEV:
        write_wav(tmp_path / "dev_test" / "soundscape" / f"{name}.wav", channels=4)
    return tmp_path / "eval", tmp_path / "dev_test"


def dev_body() -> dict:
    """dev_set_test_results.json's content, written out by hand."""
    return {"CAPI-SDRi": {"mean": 3.5}, "label_metrics": {"accuracy_mix": 50.0, "accuracy_src": 60.0},
            "nparams": 1234,
            "details": [{"soundscape": s, "ref_labels": ["Speech", "silence", "silence"],
                         "est_labels": ["Speech", "silence", "silence"], "probabilities": [0.9, 1.0, 1.0],
                         "metrics": [{"metric": "CAPI-SDRi", "value": 3.5},
                                     {"metric": "label_metrics", "value": {"acc": True, "tp": 1, "fp": 0, "fn": 0}}]}
                        for s in DEV],
            "config": {"class": "my_plugin:Mine"}}


def hand_made(root: Path, name: str = NAME) -> Path:
    """A good 2026 package folder, made file by file from the organisers' description."""
    folder = root / name
    files = {"mix_0000": [("mix_0000_0_Speech.wav", "Speech", 0.9)],
             "mix_0001": [("mix_0001_0_Dishes.wav", "Dishes", 0.8), ("mix_0001_1_Dishes.wav", "Dishes", 0.7),
                          ("mix_0001_2_Cough.wav", "Cough", 0.6)],
             "mix_0002": [("mix_0002_0_Speech.wav", "Speech", 0.5)], "mix_0003": []}
    for estimates in files.values():
        for file_name, _, _ in estimates:
            write_wav(folder / "eval_out" / file_name)
    body = {"nparams": 1234, "probabilities": [
        {"soundscape": s, "estimate": [{"filename": f, "label": lab, "probability": p} for f, lab, p in estimates]}
        for s, estimates in files.items()], "config": {"class": "my_plugin:Mine"}}
    (folder / "eval_results.json").write_text(json.dumps(body, indent=4))
    (folder / "dev_set_test_results.json").write_text(json.dumps(dev_body(), indent=4))
    return folder


def problems_of(submission, sets, **kw) -> list[str]:
    return [str(p) for p in validate(submission, sets[0], dev_soundscape_dir=sets[1], **kw).problems]


def test_the_library_writes_the_official_folder_and_zip(sets, tmp_path):
    estimates = tmp_path / "run" / "final" / "estimate"  # as a 2026 run names its files
    for answer in ANSWERS:
        for e in estimates_of(answer):
            write_wav(estimates / e.filename)
    zip_path = write_package(tmp_path / "sub", NAME, estimates, ANSWERS, dev_body(), 1234, {"class": "my_plugin:Mine"})
    assert zip_path == tmp_path / "sub" / f"{NAME}.zip"
    wavs = ["mix_0000_0_Speech.wav", "mix_0001_0_Dishes.wav", "mix_0001_1_Dishes.wav", "mix_0001_2_Cough.wav",
            "mix_0002_0_Speech.wav"]
    assert zipfile.ZipFile(zip_path).namelist() == [f"{NAME}/dev_set_test_results.json", f"{NAME}/eval_out/" + wavs[0],
                                                    *[f"{NAME}/eval_out/{w}" for w in wavs[1:]],
                                                    f"{NAME}/eval_results.json"]
    body = json.loads((tmp_path / "sub" / NAME / "eval_results.json").read_text())
    assert body["nparams"] == 1234 and body["config"] == {"class": "my_plugin:Mine"}
    assert body["probabilities"][2] == {"soundscape": "mix_0002", "estimate": [
        {"filename": "mix_0002_0_Speech.wav", "label": "Speech", "probability": 0.5}]}  # slot 1's, numbered 0
    assert body["probabilities"][3] == {"soundscape": "mix_0003", "estimate": []}
    assert problems_of(zip_path, sets) == [] and problems_of(tmp_path / "sub" / NAME, sets) == []
    # the same package twice gives the same zip, byte for byte; an existing package is never overwritten
    with pytest.raises(S5Error, match="never overwritten"):
        write_package(tmp_path / "sub", NAME, estimates, ANSWERS, dev_body(), 1234, {})
    again = write_package(tmp_path / "sub2", NAME, estimates, ANSWERS, dev_body(), 1234, {"class": "my_plugin:Mine"})
    assert again.read_bytes() == zip_path.read_bytes()
    (estimates / "mix_0003_0_Speech.wav").write_bytes(b"")  # a file no answer names: not this run's alone
    with pytest.raises(S5Error, match="no answer names"):
        write_package(tmp_path / "sub3", NAME, estimates, ANSWERS, dev_body(), 1234, {})
    assert not (tmp_path / "sub3" / NAME).exists()


def test_a_hand_made_package_passes_and_the_summary_counts_it(sets, tmp_path, capsys):
    folder = hand_made(tmp_path)
    assert validate_main([str(folder), "--soundscape-dir", str(sets[0]), "--dev-soundscape-dir", str(sets[1])]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1:] == ["3 of 4 mixtures answered, 5 estimates (DCASE 2026 form)",
                       "labels: Cough 1, Dishes 2, Speech 2", "answered with nothing: 1 (mix_0003)"]
    shutil.make_archive(str(tmp_path / NAME), "zip", tmp_path, NAME)  # zipped as `zip -r` does, folders listed
    assert problems_of(tmp_path / f"{NAME}.zip", sets) == []


def mutate(folder: Path, how: str):
    """One hand-made defect of a good package."""
    eval_out, body = folder / "eval_out", json.loads((folder / "eval_results.json").read_text())
    entry = {e["soundscape"]: e for e in body["probabilities"]}
    if how == "pattern":
        (eval_out / "mix_0000_0_Speech.wav").rename(eval_out / "mix_0000-Speech.wav")
    elif how == "label":
        (eval_out / "mix_0000_0_Speech.wav").rename(eval_out / "mix_0000_0_Speach.wav")
    elif how == "unlisted":
        entry["mix_0001"]["estimate"].pop()
    elif how == "dev_missing":
        dev = dev_body()
        dev["details"].pop()
        (folder / "dev_set_test_results.json").write_text(json.dumps(dev))
    elif how == "rate":
        write_wav(eval_out / "mix_0000_0_Speech.wav", sr=16000)
    elif how == "channels":
        write_wav(eval_out / "mix_0000_0_Speech.wav", channels=2)
    elif how == "length":
        write_wav(eval_out / "mix_0000_0_Speech.wav", length=LENGTH - 1)
    elif how == "nan":
        write_wav(eval_out / "mix_0000_0_Speech.wav", value=math.nan)
    elif how == "index":
        (eval_out / "mix_0001_2_Cough.wav").rename(eval_out / "mix_0001_1_Cough.wav")
        entry["mix_0001"]["estimate"][2]["filename"] = "mix_0001_1_Cough.wav"
    elif how == "four":
        write_wav(eval_out / "mix_0001_3_Speech.wav")
        entry["mix_0001"]["estimate"].append({"filename": "mix_0001_3_Speech.wav", "label": "Speech", "probability": 1})
    elif how == "not_in_set":
        write_wav(eval_out / "mix_0099_0_Speech.wav")
    elif how == "json_label":
        entry["mix_0000"]["estimate"][0]["label"] = "Cough"
    elif how == "probability":
        entry["mix_0000"]["estimate"][0]["probability"] = 1.5
    elif how == "no_entry":
        body["probabilities"].pop()
    (folder / "eval_results.json").write_text(json.dumps(body))


BAD = {  # defect -> (the file named, what the line says)
    "pattern": ("eval_out/mix_0000-Speech.wav", "not of the form <soundscape>_<i>_<Label>.wav"),
    "label": ("eval_out/mix_0000_0_Speach.wav", "unknown label 'Speach'"),
    "unlisted": ("eval_results.json", "1 wav file(s) of eval_out/ not listed: mix_0001_2_Cough.wav"),
    "dev_missing": ("dev_set_test_results.json", "1 test soundscape(s) missing: dev_0002"),
    "rate": ("eval_out/mix_0000_0_Speech.wav", "sample rate 16000 Hz; the mixtures' is 32000 Hz"),
    "channels": ("eval_out/mix_0000_0_Speech.wav", "2 channels; an estimate is mono"),
    "length": ("eval_out/mix_0000_0_Speech.wav", f"{LENGTH - 1} samples; its mixture has {LENGTH}"),
    "nan": ("eval_out/mix_0000_0_Speech.wav", "NaN or Inf samples"),
    "index": ("eval_out/mix_0001_*", "slot index 1 used by 2 files: mix_0001_1_Cough.wav, mix_0001_1_Dishes.wav"),
    "four": ("eval_out/mix_0001_*", "4 estimates for one mixture, at most 3"),
    "not_in_set": ("eval_out/mix_0099_0_Speech.wav", "names no mixture of the evaluation set"),
    "json_label": ("eval_results.json", "label 'Cough' but the file mix_0000_0_Speech.wav is a Speech"),
    "probability": ("eval_results.json", "probability 1.5 is not a number in [0, 1]"),
    "no_entry": ("eval_results.json", "1 mixture(s) of the set have no entry"),
}


@pytest.mark.parametrize("how", BAD)
def test_each_bad_package_is_named_with_its_file_and_exit_status_2(sets, tmp_path, how, capsys):
    folder = hand_made(tmp_path)
    mutate(folder, how)
    status = validate_main([str(folder), "--soundscape-dir", str(sets[0]), "--dev-soundscape-dir", str(sets[1])])
    err = capsys.readouterr().err
    file, says = BAD[how]
    assert status == 2
    assert any(line.startswith(f"{folder}/{file}: ") and says in line for line in err.splitlines()), err
    assert err.splitlines()[-1].endswith(f"problem(s) in {folder}")


def test_a_bad_name_and_stray_files_are_named(sets, tmp_path):
    folder = hand_made(tmp_path, "Me_task4_1")
    (folder / "notes.txt").write_text("x")
    found = problems_of(folder, sets, edition=2026)
    assert found[0].startswith(f"{folder}: the name 'Me_task4_1' is not of the form") and \
        f"{folder}/notes.txt: not part of a submission package" in found[1]
    good = hand_made(tmp_path / "z")
    shutil.make_archive(str(tmp_path / "z" / NAME), "zip", tmp_path / "z", NAME)
    with zipfile.ZipFile(tmp_path / "z" / f"{NAME}.zip", "a") as z:
        z.writestr("__MACOSX/._x", b"")
    assert problems_of(tmp_path / "z" / f"{NAME}.zip", sets) == \
        [f"{tmp_path / 'z' / NAME}.zip: __MACOSX/._x: outside the package's folder {NAME}/"]
    del good


def test_the_organisers_prefix_rule_is_checked(tmp_path):
    """Their script takes the one soundscape name a file name starts with: `mix_1` and `mix_10` both start
    `mix_10_0_Speech.wav`, which their check refuses though the name reads as mix_10's."""
    from s5bench.submission.estimates import read_name

    name, problems = read_name("mix_10_0_Speech.wav", ["mix_1", "mix_10"], 2026)
    assert name is not None and (name.soundscape, name.index, name.label) == ("mix_10", 0, "Speech")
    assert problems == ["starts with the names of 2 mixtures (mix_1, mix_10); the organisers' check needs exactly one"]
    assert read_name("mix_1_Speech.wav", ["mix_1"], 2025)[1] == []
    assert read_name("mix_1_0_Speech.wav", ["mix_1"], 2025)[1] == ["a 2025 name has no slot index: "
                                                                   "<soundscape>_<Label>.wav"]


def test_a_2025_zip_of_run_system_validates(sets, tmp_path, capsys):
    from s5bench.systems.run import write_submission_zip

    estimates = tmp_path / "est"
    for name in ("mix_0000_Speech.wav", "mix_0001_Dishes.wav", "mix_0001_Cough.wav"):
        write_wav(estimates / name)
    zip_path = write_submission_zip(estimates, tmp_path / "Me_MyLab_task4_1_out.zip", "Me_MyLab_task4_1_out")
    assert validate_main([str(zip_path), "--soundscape-dir", str(sets[0])]) == 0
    assert "2 of 4 mixtures answered, 3 estimates (DCASE 2025 form)" in capsys.readouterr().out
    # checked as 2026, the name's form is named
    assert validate_main([str(zip_path), "--soundscape-dir", str(sets[0]), "--edition", "2026"]) == 2
    assert "has the DCASE 2025 form, checked as 2026" in capsys.readouterr().err


def test_dev_test_results_hold_the_organisers_fields():
    nan = float("nan")
    scores = [MixtureScore("dev_0000", 2026, 4.0, [4.0], ["Speech"], ["Speech"]),
              MixtureScore("dev_0001", 2026, nan, [], [], []),  # no label on either side
              MixtureScore("dev_0002", 2026, 0.0, [0.0, 0.0], ["Dishes", "Dishes"], ["Cough"])]
    answers = {"dev_0000": SlotAnswer("dev_0000", ("Speech", "silence", "silence"), (0.9, 0.8, 0.7)),
               "dev_0001": SlotAnswer("dev_0001", ("silence",) * 3, (1.0, 1.0, 1.0)),
               "dev_0002": SlotAnswer("dev_0002", ("silence", "Cough", "silence"), (0.4, 0.3, 0.2))}
    summary = {"n_mixtures": 3, "CAPI-SDRi": 2.0, "SNRi": 1.0, "Acc_mix": 200 / 3, "Acc_src": 25.0}
    body = dev_test_results(scores, answers, summary, 77, {"class": "x:Y"})
    assert list(body) == ["CAPI-SDRi", "label_metrics", "nparams", "details", "config"]
    assert body["CAPI-SDRi"] == {"mean": 2.0} and body["nparams"] == 77
    assert body["details"][1]["metrics"][0] == {"metric": "CAPI-SDRi", "value": None}
    assert body["details"][2] == {
        "soundscape": "dev_0002", "ref_labels": ["Dishes", "Dishes", "silence"],
        "est_labels": ["silence", "Cough", "silence"], "probabilities": [0.4, 0.3, 0.2],
        "metrics": [{"metric": "CAPI-SDRi", "value": 0.0},
                    {"metric": "label_metrics", "value": {"acc": False, "tp": 0, "fp": 1, "fn": 2}}]}
    json.dumps(body, allow_nan=False)  # strict JSON: no NaN
