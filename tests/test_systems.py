import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import torch

from systems import SlotOutput, System, build_system
from systems.run import run_system, write_submission_zip

ROOT = Path(__file__).resolve().parents[1]


def test_oracle_bounds(tiny_test_set, tmp_path):
    mix = run_system("oracle_labels_mixture", tiny_test_set, tmp_path / "m", progress=False)["final"]
    assert mix["CA-SDRi"] == pytest.approx(0.0, abs=1e-9)  # the mixture itself improves nothing
    assert mix["Acc_mix"] == 100.0
    src = run_system("oracle_sources", tiny_test_set, tmp_path / "s", progress=False)["final"]
    assert src["CA-SDRi"] > 60 and src["Acc_mix"] == 100.0 and src["Acc_src"] == 100.0
    with pytest.warns(UserWarning, match="6 mixture\\(s\\) have no estimate file and are scored as all misses"):
        silent = run_system("all_silence", tiny_test_set, tmp_path / "z", progress=False)["final"]
    assert silent["CA-SDRi"] == 0.0 and silent["Acc_mix"] == 0.0


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
    first = run_system(str(cfg), tiny_test_set, out, progress=False)
    assert set(first) == {"first", "final"}
    per_mix = pd.read_csv(out / "final" / "per_mixture.csv")
    assert len(per_mix) == 6 and (per_mix["n_est"] == per_mix["n_ref"]).all()
    # resume: forget two mixtures; only they are run again, the figures stay the same
    marks = sorted((out / "final" / ".done").iterdir())
    for m in marks[:2]:
        m.unlink()
    for f in (out / "final" / "estimate").glob(f"{marks[0].name}_*.wav"):
        f.unlink()
    again = run_system(str(cfg), tiny_test_set, out, progress=False)
    assert again["final"] == pytest.approx(first["final"])
    # a stage asked for later is run for every mixture, not taken as done from the other stage's run
    out2 = tmp_path / "run2"
    final_only = run_system(str(cfg), tiny_test_set, out2, progress=False, stages=["final"])
    both = run_system(str(cfg), tiny_test_set, out2, progress=False, stages=["first", "final"])
    assert both["first"] == pytest.approx(first["first"]) and both["final"] == pytest.approx(final_only["final"])
    assert len(list((out2 / "first" / "estimate").glob("*.wav"))) == len(list((out / "first" / "estimate").glob("*.wav")))
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
    r = subprocess.run([sys.executable, str(ROOT / "runners" / "run_system.py"), "--system",
                        "oracle_labels_mixture,oracle_sources", "--data", str(tiny_test_set), "--out", str(tmp_path)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    table = pd.read_csv(tmp_path / "summary.csv")
    assert list(table["system"]) == ["oracle_labels_mixture", "oracle_sources"]
    assert list(table.columns) == ["system", "stage", "n_mixtures", "CA-SDRi", "SNRi", "Acc_mix", "Acc_src"]
