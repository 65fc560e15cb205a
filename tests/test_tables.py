"""End to end: runners/ablation.py and runners/leaderboard.py as a user runs them."""
import json
import shutil
import subprocess

import pandas as pd
import pytest
from conftest import ROOT, runner, torchrun

from s5bench.reporting.published import PUBLISHED_TABLE1
from s5bench.systems.self_guided import SelfGuided, iterations_for, stage_names

MEASURED = ["CA-SDRi", "SNRi", "Acc_src", "Acc_mix"]
PUBLISHED = ["published_CA-SDRi", "published_SNRi", "published_Acc_src"]
DIFFERENCE_COLUMNS = ["data", "a", "b", "metric", "difference", "ci_low", "ci_high", "p_value", "n_mixtures",
                      "min_detectable", "excludes_zero"]


def run(script, *args):
    return subprocess.run([*runner(script), *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, timeout=600)


def test_stage_names():
    assert stage_names(3) == ("fss1_cp1", "fss1_cp1-1", "fss2_cp1-1", "fss2_cp2", "fss3_cp3")
    assert stage_names(5)[-2:] == ("fss4_cp4", "fss5_cp5")
    assert iterations_for("fss2_cp1-1") == 2


def test_pipeline_stages_from_one_pass(tiny_systems):
    import torch
    import yaml

    args = yaml.safe_load(tiny_systems["self_guided"].read_text())["args"]
    system = SelfGuided(**{**args, "iterations": 4})
    out = system.infer(torch.randn(2, 4, 8000), {})
    assert tuple(out) == stage_names(4)
    # the first TSE pass keeps CP1-1's labels; its waveforms differ from the USS ones where extracted
    assert out["fss2_cp1-1"].labels == out["fss1_cp1-1"].labels
    for stage in out.values():
        for b, row in enumerate(stage.labels):
            for s, lab in enumerate(row):
                if lab == "silence":
                    assert stage.waveforms[b, s].abs().max() == 0


def test_ablation_and_leaderboard_end_to_end(tmp_path, tiny_test_set, tiny_systems):
    out = tmp_path / "results"
    proc = run("ablation.py", "--all", "--data", tiny_test_set, "--system", tiny_systems["self_guided"],
               "--out", out, "--batch-size", "3", "--jobs", "1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    t1 = pd.read_csv(out / "table1.csv")
    assert list(t1.columns) == ["config", *[c for m in MEASURED for c in (m, f"{m}_ci_low", f"{m}_ci_high")],
                                *PUBLISHED]
    for m in MEASURED:  # the percentile interval holds the figure; published figures get none
        assert (t1[f"{m}_ci_low"] <= t1[m] + 1e-4).all() and (t1[m] <= t1[f"{m}_ci_high"] + 1e-4).all()
    assert "±" in proc.stdout and "±" in (out / "table1.md").read_text()
    assert "smallest detectable difference at n = 6 mixtures" in proc.stdout
    diffs = pd.read_csv(out / "table1_differences.csv")
    assert list(diffs.columns) == DIFFERENCE_COLUMNS and "[" in (out / "table1_differences.md").read_text()
    s = list(stage_names(3))  # each stage against the one before it and against fss1_cp1
    pairs = [(s[1], s[0]), (s[2], s[1]), (s[2], s[0]), (s[3], s[2]), (s[3], s[0]), (s[4], s[3]), (s[4], s[0])]
    assert list(dict.fromkeys(zip(diffs["a"], diffs["b"]))) == pairs and len(diffs) == 4 * len(pairs)
    assert set(diffs["metric"]) == set(MEASURED) and (diffs["n_mixtures"] == 6).all()
    by_stage = t1.set_index("config")
    for r in diffs.itertuples():  # the difference of the table's own figures, its interval around it
        assert r.difference == pytest.approx(by_stage.loc[r.a, r.metric] - by_stage.loc[r.b, r.metric], abs=2e-4)
        assert 0 < r.p_value <= 1  # (the CSV's 4 decimals round a consistent 1e-7 dB difference to 0)
        assert (r.ci_low >= 0 or r.ci_high <= 0) if r.excludes_zero else (r.ci_low <= 0 <= r.ci_high)
    assert list(t1["config"]) == list(stage_names(3))
    for _, row in t1.iterrows():  # published columns hold the paper's figures, and only those
        published = tuple(row[["published_CA-SDRi", "published_SNRi", "published_Acc_src"]])
        assert published == PUBLISHED_TABLE1[row["config"]]
    assert t1[MEASURED].notna().all().all()
    for stage in stage_names(3):
        per_mix = pd.read_csv(out / "table1_per_mixture" / f"{stage}.csv")
        assert len(per_mix) == 6
    meta = json.loads((out / "table1.csv.meta.json").read_text())
    assert len(meta["data_fingerprint"]) == 64 and meta["versions"]["torch"]
    assert all(len(c["sha256"]) == 64 for c in meta["checkpoints"].values())
    for f in ("table1.md", "table1.png", "table1_per_class.png"):
        assert (out / f).is_file()
    # the separation figure pairs exactly the true positives the scorer counted, stage by stage
    separation = pd.read_csv(out / "table1_separation.csv")
    assert list(separation["config"]) == list(stage_names(3))
    for stage, pairs in zip(separation["config"], separation["tp_pairs"]):
        assert pairs == pd.read_csv(out / "table1_per_mixture" / f"{stage}.csv")["tp"].sum()
    assert "separation beyond a rescaled mixture" in proc.stdout

    # one stage only, without intervals: the table's columns as before them; the cached run is reused
    proc = run("ablation.py", "--config", "fss2_cp2", "--data", tiny_test_set, "--system",
               tiny_systems["self_guided"], "--out", out, "--jobs", "1", "--bootstrap", "0")
    assert proc.returncode == 0, proc.stderr[-3000:]
    one = pd.read_csv(out / "table1.csv")
    assert list(one.columns) == ["config", *MEASURED, *PUBLISHED] and "±" not in proc.stdout
    assert not (out / "table1_differences.csv").exists()  # the earlier run's differences are not this one's
    assert not (out / "table1_differences.md").exists()
    assert list(one["config"]) == ["fss2_cp2"]
    assert one[MEASURED].iloc[0].tolist() == pytest.approx(t1[t1.config == "fss2_cp2"][MEASURED].iloc[0].tolist())

    proc = run("leaderboard.py", "--systems", f"{tiny_systems['baseline']},{tiny_systems['self_guided']}",
               "--data", f"tiny={tiny_test_set}", "--out", out, "--jobs", "1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    t2 = pd.read_csv(out / "table2.csv")
    measured, published = t2[t2.kind == "measured"], t2[t2.kind == "published"]
    assert list(measured.system) == ["baseline", "self_guided"] and len(published) == 9
    assert measured[["tiny_CA-SDRi", "tiny_Acc_mix"]].notna().all().all()
    assert measured.filter(like="published_").isna().all().all()  # never mixed
    assert published[["tiny_CA-SDRi", "tiny_Acc_mix"]].isna().all().all()
    assert published.iloc[0]["published_eval_CA-SDRi"] == 11.00
    assert measured[["tiny_CA-SDRi_ci_low", "tiny_Acc_mix_ci_high"]].notna().all().all()
    assert published[["tiny_CA-SDRi_ci_low", "tiny_Acc_mix_ci_high"]].isna().all().all()
    d2 = pd.read_csv(out / "table2_differences.csv")
    assert list(d2.columns) == DIFFERENCE_COLUMNS and set(zip(d2["data"], d2["a"], d2["b"])) == {
        ("tiny", "self_guided", "baseline")}
    got = d2.set_index("metric").loc["CA-SDRi", "difference"]
    assert got == pytest.approx(measured["tiny_CA-SDRi"].iloc[1] - measured["tiny_CA-SDRi"].iloc[0], abs=2e-4)

    # case 5: a leaderboard of other systems into the same --out is refused before it runs, naming them;
    # Table 1's real sidecar reads back as the identity an ablation of the same inputs has
    proc = run("leaderboard.py", "--systems", tiny_systems["baseline"], "--data", f"tiny={tiny_test_set}",
               "--out", out, "--jobs", "1")
    assert proc.returncode == 2 and "systems baseline, self_guided -> baseline" in proc.stderr, proc.stderr
    assert pd.read_csv(out / "table2.csv").equals(t2)
    from s5bench.reporting.table_identity import check_table_out, identity_of_meta

    first = identity_of_meta(json.loads((out / "table1.csv.meta.json").read_text()))
    assert list(first["systems"]) == ["self_guided"] and first["data"]["test set"]["path"] == str(tiny_test_set)
    check_table_out(out / "table1.csv", first)
    with pytest.raises(ValueError, match="data set test set"):
        check_table_out(out / "table1.csv", {**first, "data": {"test set": {"path": "x", "fingerprint": "0" * 64}}})

    # the 2026 edition: CAPI-SDRi columns, the published DCASE 2026 rows; on 2025 data the
    # ranking metric takes the same values as CA-SDRi
    proc = run("leaderboard.py", "--systems", tiny_systems["baseline"], "--data", f"tiny={tiny_test_set}",
               "--out", out / "e2026", "--jobs", "1", "--edition", "2026")
    assert proc.returncode == 0, proc.stderr[-3000:]
    t26 = pd.read_csv(out / "e2026" / "table2.csv")
    assert "tiny_CAPI-SDRi" in t26.columns and "published_test_CAPI-SDRi" in t26.columns
    pub26 = t26[t26.kind == "published"]
    assert list(pub26.system)[:2] == ["Bando_AIST", "Choi_KAIST"] and pub26.iloc[0]["published_test_CAPI-SDRi"] == 16.32
    row = t26[t26.kind == "measured"].iloc[0]
    assert row["tiny_CAPI-SDRi"] == pytest.approx(measured.iloc[0]["tiny_CA-SDRi"])
    # 2026: the breakdown by scene type, printed, in a CSV and in the report (2025 has none)
    kinds = pd.read_csv(out / "e2026" / "table2_scene_types.csv").set_index("scene_type")
    assert list(kinds["n_mixtures"]) == [0, 6, 0]  # tiny 2025-rule data: every mixture has distinct classes
    assert kinds.loc["distinct classes", "CAPI-SDRi"] == pytest.approx(row["tiny_CAPI-SDRi"], abs=1e-4)
    assert "Table 2 by scene type" in proc.stdout and "a class repeated" in proc.stdout
    assert "Table 2 by scene type" in (out / "e2026" / "report" / "index.html").read_text()
    assert not (out / "table2_scene_types.csv").exists()


def test_sharded_ablation_gives_the_same_table(tmp_path, tiny_test_set, tiny_systems):
    one = run("ablation.py", "--all", "--data", tiny_test_set, "--system", tiny_systems["self_guided"],
              "--out", tmp_path / "one", "--jobs", "1")
    assert one.returncode == 0, one.stderr[-3000:]
    two = torchrun("ablation.py", ["--all", "--data", tiny_test_set, "--system", tiny_systems["self_guided"],
                                   "--out", tmp_path / "two", "--jobs", "1"])
    assert two.returncode == 0, two.stderr[-3000:]
    a, b = pd.read_csv(tmp_path / "one" / "table1.csv"), pd.read_csv(tmp_path / "two" / "table1.csv")
    pd.testing.assert_frame_equal(a, b, atol=1e-4, rtol=0)


def test_bad_input(tmp_path, tiny_test_set, tiny_systems):
    proc = run("ablation.py", "--config", "fss9_cp1")
    assert proc.returncode == 2 and "known: fss1_cp1, fss1_cp1-1, fss2_cp1-1, fss2_cp2, fss3_cp3" in proc.stderr
    broken = tmp_path / "no_refs"
    shutil.copytree(tiny_test_set / "soundscape", broken / "soundscape")
    proc = run("ablation.py", "--all", "--data", broken, "--system", tiny_systems["self_guided"])
    assert proc.returncode == 2 and "no oracle targets" in proc.stderr and "oracle_target" in proc.stderr


def test_interrupted_run_resumes(tmp_path, tiny_test_set, tiny_systems):
    from s5bench.systems import build_system
    from s5bench.systems.run import RunOptions, run_system

    out = tmp_path / "run"
    run_system(build_system(tiny_systems["baseline"]), tiny_test_set, out, RunOptions(progress=False, jobs=1))
    first = pd.read_csv(out / "final" / "per_mixture.csv")
    done = sorted((out / "final" / ".done").iterdir())
    for marker in done[3:]:  # as if it stopped after three mixtures
        marker.unlink()
    for wav in (out / "final" / "estimate").glob("*.wav"):
        if any(wav.name.startswith(m.name + "_") for m in done[3:]):
            wav.unlink()
    run_system(build_system(tiny_systems["baseline"]), tiny_test_set, out, RunOptions(progress=False, jobs=1))
    again = pd.read_csv(out / "final" / "per_mixture.csv")
    pd.testing.assert_frame_equal(first, again)
