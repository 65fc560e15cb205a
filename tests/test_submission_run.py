"""`s5bench run --edition 2026 --zip NAME --dev-test DIR`: the official package of a system's runs, with each
estimate's probability, the system's parameter count and its config as loaded; refused before anything runs
when the arguments cannot make one."""
import json
import shutil
import zipfile

import pandas as pd
import pytest

from s5bench.common.errors import S5Error
from s5bench.runners.run_system import main
from s5bench.submission.checks import validate
from s5bench.systems.run_folder import mark_done, recorded_answer

PLUGIN = '''import torch
from s5bench.systems.base import SlotOutput, System


class Halves(System):
    """Slot 0: half of channel 0, labelled `label`, with probability 0.75; slot 1: silence; slot 2: a
    quarter of channel 0 as a second `label` (a class twice: 2026), with the probability of its weight."""

    def __init__(self, label="Speech"):
        super().__init__()
        self.label = label
        self.weight = torch.nn.Parameter(torch.tensor([0.5, 0.25]))  # 2 parameters

    def forward(self, mixture, batch):
        B, _, T = mixture.shape
        waves = torch.stack([self.weight[0] * mixture[:, 0], torch.zeros(B, T), self.weight[1] * mixture[:, 0]], 1)
        probs = torch.tensor([[0.75, 1.0, float(self.weight[1])]]).expand(B, 3)
        return {"final": SlotOutput([[self.label, "silence", self.label]] * B, waves, probs)}
'''


@pytest.fixture
def plugin(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "halves_plugin.py").write_text(PLUGIN)
    (tmp_path / "p" / "halves.yaml").write_text("class: halves_plugin:Halves\nargs: {label: Dishes}\n")
    return tmp_path / "p" / "halves.yaml"


@pytest.fixture
def eval_set(tiny_test_set, tmp_path):
    shutil.copytree(tiny_test_set / "soundscape", tmp_path / "eval" / "soundscape")  # mixtures only
    return tmp_path / "eval"


def test_the_2026_package_of_a_run(plugin, eval_set, tiny_test_set, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["--system", str(plugin), "--data", str(eval_set), "--out", str(out), "--edition", "2026",
                 "--zip", "Me_MyLab_task4_1", "--dev-test", str(tiny_test_set), "--jobs", "1",
                 "--bootstrap", "0"]) == 0
    printed = capsys.readouterr().out
    assert f"submission package: {out / 'halves' / 'Me_MyLab_task4_1'}/" in printed
    folder = out / "halves" / "Me_MyLab_task4_1"
    names = zipfile.ZipFile(out / "halves" / "Me_MyLab_task4_1.zip").namelist()
    assert sorted(names) == sorted(f"Me_MyLab_task4_1/{p.relative_to(folder).as_posix()}"
                                   for p in folder.rglob("*") if p.is_file())
    mixtures = sorted(p.stem for p in (eval_set / "soundscape").glob("*.wav"))
    assert sorted(p.name for p in (folder / "eval_out").iterdir()) == \
        sorted(f"{m}_{i}_Dishes.wav" for m in mixtures for i in (0, 1))  # the silent slot 1 left out
    body = json.loads((folder / "eval_results.json").read_text())
    assert body["nparams"] == 2
    assert body["config"] == {"class": "halves_plugin:Halves", "args": {"label": "Dishes"}, "name": "halves"}
    assert body["probabilities"][0] == {"soundscape": mixtures[0], "estimate": [
        {"filename": f"{mixtures[0]}_0_Dishes.wav", "label": "Dishes", "probability": 0.75},
        {"filename": f"{mixtures[0]}_1_Dishes.wav", "label": "Dishes", "probability": 0.25}]}
    dev = json.loads((folder / "dev_set_test_results.json").read_text())
    summary = pd.read_csv(out / "halves_dev_test" / "final" / "summary.csv").iloc[0]
    assert dev["CAPI-SDRi"]["mean"] == pytest.approx(summary["CAPI-SDRi"])
    assert dev["label_metrics"] == pytest.approx({"accuracy_mix": summary["Acc_mix"],
                                                  "accuracy_src": summary["Acc_src"]})
    assert [d["soundscape"] for d in dev["details"]] == mixtures
    assert dev["details"][0]["est_labels"] == ["Dishes", "silence", "Dishes"]
    assert dev["details"][0]["probabilities"] == [0.75, 1.0, 0.25]
    assert validate(folder, eval_set, dev_soundscape_dir=tiny_test_set).ok
    table = pd.read_csv(out / "summary.csv")
    assert list(table["system"]) == ["halves_dev_test"]  # the evaluation set is not scored


@pytest.mark.parametrize("args,says", [
    (["--zip", "Me_MyLab_task4_1"], "give it as --dev-test DIR"),
    (["--zip", "Me_MyLab_task4_1_out", "--dev-test", "DEV"], "is not of the form <Author>_<Affiliation>_task4_<N>"),
    (["--zip", "Me_MyLab_task4_1", "--dev-test", "EVAL"], "--dev-test"),
])
def test_a_package_that_cannot_be_made_is_refused_before_anything_runs(plugin, eval_set, tiny_test_set, tmp_path,
                                                                       capsys, args, says):
    args = [{"DEV": str(tiny_test_set), "EVAL": str(eval_set)}.get(a, a) for a in args]
    out = tmp_path / "out"
    assert main(["--system", str(plugin), "--data", str(eval_set), "--out", str(out), "--edition", "2026",
                 *args]) == 2
    assert says in capsys.readouterr().err
    assert not out.exists()


def test_dev_test_without_the_2026_package_and_a_package_in_the_way_are_refused(plugin, eval_set, tiny_test_set,
                                                                                  tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["--system", str(plugin), "--data", str(eval_set), "--out", str(out), "--zip", "A_B_task4_1_out",
                 "--dev-test", str(tiny_test_set)]) == 2
    assert "--dev-test is for the 2026 package" in capsys.readouterr().err and not out.exists()
    (out / "halves" / "Me_MyLab_task4_1").mkdir(parents=True)
    assert main(["--system", str(plugin), "--data", str(eval_set), "--out", str(out), "--edition", "2026",
                 "--zip", "Me_MyLab_task4_1", "--dev-test", str(tiny_test_set)]) == 2
    assert "is never overwritten" in capsys.readouterr().err
    assert not (out / "halves" / "final").exists()


def test_a_done_mark_records_the_answer(tmp_path):
    mark_done(tmp_path, "final", "mix_1", [], ["Speech", "silence", "Cough"], [0.5, 1.0, 0.25])
    assert recorded_answer(tmp_path, "final", "mix_1") == (["Speech", "silence", "Cough"], [0.5, 1.0, 0.25])
    (tmp_path / "final" / ".done" / "mix_2").write_text("")  # an earlier s5bench's mark
    with pytest.raises(S5Error, match="records no answer"):
        recorded_answer(tmp_path, "final", "mix_2")
