"""Table 2's breakdown by scene type (reporting/scene_types.py) on a hand-made per_mixture.csv."""
import math

import pandas as pd
import pytest

from s5bench.reporting.scene_types import scene_type_table

# mixture, ref labels, CAPI-SDRi (NaN: no labels on either side), SNRi, labels equal, n_ref, tp, fp, fn
ROWS = [
    ("m0", "", math.nan, math.nan, True, 0, 0, 0, 0),            # no target, answered with nothing
    ("m1", "", 0.0, math.nan, False, 0, 0, 1, 0),                # no target, one false alarm
    ("m2", "Speech;Dog", 6.0, 5.0, True, 2, 2, 0, 0),            # distinct classes
    ("m3", "Speech", 2.0, 3.0, False, 1, 0, 1, 1),               # distinct classes (one target)
    ("m4", "Dog;Dog", 9.0, 8.0, True, 2, 2, 0, 0),               # a class repeated
    ("m5", "Dog;Dog;Speech", 3.0, 2.0, False, 3, 2, 0, 1),       # a class repeated
]


def _stage(folder):
    folder.mkdir(parents=True)
    df = pd.DataFrame(ROWS, columns=["soundscape", "ref_labels", "capi_sdri", "snri", "label_match", "n_ref", "tp",
                                     "fp", "fn"])
    df.to_csv(folder / "per_mixture.csv", index=False)
    return folder


def test_each_scene_type_gets_the_whole_sets_figures_restricted_to_its_mixtures(tmp_path):
    stages = {("set", "sys"): _stage(tmp_path / "sys" / "final")}
    df, intervals = scene_type_table(stages, 2026, 200, 0)
    got = df.set_index("scene_type")
    assert list(got.index) == ["no target", "distinct classes", "a class repeated"]
    assert list(got["n_mixtures"]) == [2, 2, 2]
    # by hand: CAPI-SDRi is the mean over mixtures with a value; Acc_mix the share of exact answers;
    # Acc_src = ΣTP / Σ(TP + FP + FN)
    assert got.loc["no target", "CAPI-SDRi"] == 0.0  # m0 has no value; m1's false alarm scores 0
    assert got.loc["distinct classes", "CAPI-SDRi"] == pytest.approx(4.0)
    assert got.loc["a class repeated", "CAPI-SDRi"] == pytest.approx(6.0)
    assert list(got["Acc_mix"]) == pytest.approx([50.0, 50.0, 50.0])
    assert got.loc["no target", "Acc_src"] == 0.0  # 0 TP of 1 FP
    assert got.loc["distinct classes", "Acc_src"] == pytest.approx(100 * 2 / 4)
    assert got.loc["a class repeated", "Acc_src"] == pytest.approx(100 * 4 / 5)
    assert intervals is not None
    for col in ("CAPI-SDRi", "Acc_mix", "Acc_src"):
        for (lo, hi), value in zip(intervals[col], df[col]):
            assert lo - 1e-9 <= value <= hi + 1e-9


def test_without_resamples_there_are_no_intervals_and_a_one_mixture_group_gets_none(tmp_path):
    folder = _stage(tmp_path / "s" / "final")
    pd.read_csv(folder / "per_mixture.csv").iloc[[0, 2, 3, 4, 5]].to_csv(folder / "per_mixture.csv", index=False)
    assert scene_type_table({("set", "s"): folder}, 2026, 0, 0)[1] is None
    df, intervals = scene_type_table({("set", "s"): folder}, 2026, 100, 0)
    assert intervals is not None and df.loc[0, "n_mixtures"] == 1 and all(map(math.isnan, intervals["Acc_mix"][0]))
