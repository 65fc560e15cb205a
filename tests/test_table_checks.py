"""The table jobs check before they run: every system of a leaderboard is built before any runs (case 3),
and a table in an --out is never replaced by one of other systems or data (case 5)."""
import json
import shutil

import pytest

from s5bench.reporting.table_identity import check_table_out, identity_of_meta, table_identity
from s5bench.runners.ablation import main as ablation
from s5bench.runners.leaderboard import main as leaderboard


def test_a_broken_plugin_is_named_before_any_system_runs(tiny_test_set, tmp_path, capsys):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "broken_lb.py").write_text("import torch\n\nclass X(:\n    pass\n")
    (tmp_path / "p" / "broken.yaml").write_text("class: broken_lb:X\n")
    out = tmp_path / "results"
    status = leaderboard(["--systems", f"oracle_labels_mixture,{tmp_path / 'p' / 'broken.yaml'}", "--data",
                          f"tiny={tiny_test_set}", "--out", str(out), "--no-report", "--bootstrap", "0"])
    assert status == 2
    assert f"SyntaxError: invalid syntax, at {tmp_path / 'p' / 'broken_lb.py'}, line 3" in capsys.readouterr().err
    assert not (out / "runs").exists()  # oracle_labels_mixture, first in the list, did not run


def table2_meta(data_path, fingerprint, systems=("baseline_cpu",)) -> dict:
    """A Table 2 sidecar as write_table2 writes it (the fields the identity reads)."""
    return {"systems": {s: {"config": {"class": "s5bench.systems.baseline:Baseline", "args": {"x": 1}, "name": s},
                            "checkpoints": {}, "code_fingerprint": "c"} for s in systems},
            "data": {"tiny": {"path": str(data_path), "fingerprint": fingerprint}}, "edition": 2025}


def test_identities_compare_what_made_the_tables(tmp_path):
    meta = table2_meta("data/a", "f" * 64)
    (tmp_path / "table2.csv.meta.json").write_text(json.dumps(meta))
    same = identity_of_meta(meta)
    check_table_out(tmp_path / "table2.csv", same)  # the same inputs: replaced
    other = identity_of_meta(table2_meta("data/b", "e" * 64, systems=("baseline_cpu", "mine")))
    with pytest.raises(ValueError, match=r"holds a table made with other inputs \(systems baseline_cpu -> "
                                         r"baseline_cpu, mine; data set tiny: data/a \(fingerprint ffffffff\) -> "
                                         r"data/b \(fingerprint eeeeeeee\)"):
        check_table_out(tmp_path / "table2.csv", other)
    t1 = {"system": "self_guided_cpu", "system_config": {"class": "c", "args": {"uss": "u.pt", "iterations": 3}},
          "data": "data/a", "data_fingerprint": "f" * 64, "edition": 2025}
    (tmp_path / "table1.csv.meta.json").write_text(json.dumps(t1))
    one_stage = table_identity({"self_guided_cpu": {"class": "c", "args": {"uss": "u.pt", "iterations": 2}}},
                               {"test set": ("data/a", "f" * 64)}, 2025)
    check_table_out(tmp_path / "table1.csv", one_stage)  # --config fss2_cp2 after --all: the same run's table
    with pytest.raises(ValueError, match="edition 2025 -> 2026"):
        check_table_out(tmp_path / "table1.csv", {**one_stage, "edition": 2026})


def test_a_second_ablation_on_other_data_is_refused_before_it_runs(tiny_test_set, tmp_path, capsys):
    """Case 5: Table 1 of data A in --out, then an ablation of data B into the same --out."""
    other = tmp_path / "other"
    shutil.copytree(tiny_test_set, other)
    (other / "manifest.json").unlink()  # (another data set: another fingerprint)
    out = tmp_path / "results"
    out.mkdir()
    (out / "table1.csv.meta.json").write_text(json.dumps({
        "system": "self_guided_cpu", "system_config": {"class": "s5bench.systems.self_guided:SelfGuided"},
        "data": str(tiny_test_set), "data_fingerprint": "0" * 64, "edition": 2025}))
    assert ablation(["--all", "--data", str(other), "--out", str(out), "--no-report"]) == 2
    err = capsys.readouterr().err
    assert f"{out / 'table1.csv'} holds a table made with other inputs" in err and "data set test set" in err
    assert "give another --out" in err and not (out / "runs").exists()
