"""metrics/intervals.py: contributions that reproduce the official figures, paired bootstrap
intervals (coverage at n = 8, 20 and 100, scipy agreement, pairing, seeds, memory), permutation
p-values, the marks and their smallest set, detectable sizes."""
import math
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from s5bench.common.labels import LABELS
from s5bench.metrics.aggregate import summarize
from s5bench.metrics.folders import write_reports
from s5bench.metrics.intervals import (
    Contributions,
    aggregate,
    compare,
    contributions,
    contributions_from_table,
    figure_intervals,
    interval_tail,
    min_detectable,
    plus_minus,
    resample_indices,
    resampled_figures,
)
from s5bench.metrics.scene import score_mixture


def scored_set(edition: int, n: int = 40, seed: int = 0):
    """Scored mixtures like a built-in set's: 1-3 targets, estimates that are noisy copies, a
    wrong label or a missing/extra slot now and then; 2026 also repeated classes and mixtures
    with no label on either side, or false alarms only."""
    rng = np.random.default_rng(seed)
    scores = []
    for i in range(n):
        length = 64
        n_ref = int(rng.integers(0, 4)) if edition == 2026 else int(rng.integers(1, 4))
        pool = LABELS[:3] if edition == 2026 else LABELS
        labels = list(rng.choice(pool, n_ref, replace=edition == 2026))
        refs = [(lab, rng.normal(size=length)) for lab in labels]
        x0 = sum((w for _, w in refs), rng.normal(scale=0.5, size=length))
        ests = [(lab if rng.random() > 0.2 else str(rng.choice(pool)), w + rng.normal(scale=rng.uniform(0.1, 1),
                                                                                       size=length))
                for lab, w in refs if rng.random() > 0.15]
        if edition == 2025:
            ests = list({lab: (lab, w) for lab, w in ests}.values())
        if rng.random() < 0.2 and len(ests) < 3:
            extra = str(rng.choice([lab for lab in pool if edition == 2026 or lab not in dict(ests)]))
            ests.append((extra, rng.normal(size=length)))
        if edition == 2026 and i % 10 == 3:  # neither references nor estimates: no CAPI value
            refs, ests = [], []
        scores.append(score_mixture(x0, refs, ests, name=f"mix{i:03d}", edition=edition))
    return scores


@pytest.mark.parametrize("edition", [2025, 2026])
def test_aggregate_of_contributions_is_the_official_figure(edition, tmp_path):
    scores = scored_set(edition)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summary = write_reports(scores, tmp_path)
    assert summary == summarize(scores)
    if edition == 2026:
        assert any(math.isnan(s.capi_sdri) for s in scores) and any(len(s.snri) == 0 for s in scores)
    from_scores = aggregate(contributions(scores))
    from_csv = aggregate(contributions_from_table(pd.read_csv(tmp_path / "per_mixture.csv"), edition))
    for metric, value in from_scores.items():
        assert value == pytest.approx(summary[metric], abs=1e-9, rel=0)
        assert from_csv[metric] == pytest.approx(summary[metric], abs=1e-9, rel=0)


def test_ratio_of_sums_by_hand():
    # Acc_src with a varying number of slots: (TP, FP, FN) = (1, 0, 0) and (1, 1, 1) pool to 2/4,
    # not to the mean of 100 % and 33.3 %
    acc = Contributions(("Acc_src",), ("a", "b"), np.array([[100.0], [100.0]]), np.array([[1.0], [3.0]]))
    assert aggregate(acc)["Acc_src"] == pytest.approx(50.0)
    idx = np.array([[0, 0], [1, 1], [0, 1], [1, 0]])
    assert resampled_figures(acc.num, acc.den, idx)[:, 0] == pytest.approx([100.0, 100 / 3, 50.0, 50.0])
    # CAPI-SDRi with a zero-target mixture (no value: (0, 0)) and a false-alarm-only one (0 dB)
    s = [score_mixture(np.ones(4), [], [], name="empty", edition=2026),
         score_mixture(np.ones(4), [], [("Speech", np.ones(4))], name="alarm", edition=2026)]
    capi = contributions(s)
    assert capi.num[:, 0].tolist() == [0.0, 0.0] and capi.den[:, 0].tolist() == [0.0, 1.0]
    six = Contributions(("CAPI-SDRi",), ("good", "empty", "alarm"), np.array([[6.0], [0.0], [0.0]]),
                        np.array([[1.0], [0.0], [1.0]]))
    assert aggregate(six)["CAPI-SDRi"] == 3.0
    theta = resampled_figures(six.num, six.den, np.array([[0, 1, 2], [1, 1, 1], [0, 0, 1], [1, 2, 2]]))[:, 0]
    assert theta[0] == 3.0 and math.isnan(theta[1]) and theta[2] == 6.0 and theta[3] == 0.0


def _one_metric(values, den=None) -> Contributions:
    values = np.asarray(values, dtype=float)
    den = np.ones_like(values) if den is None else np.asarray(den, dtype=float)
    return Contributions(("m",), tuple(f"m{i}" for i in range(len(values))), values[:, None], den[:, None])


def test_agrees_with_scipy_bootstrap_on_the_same_resamples():
    rng = np.random.default_rng(3)
    n = 57
    tp, slots = rng.integers(0, 4, n), rng.integers(1, 5, n)
    a = _one_metric(100.0 * tp, slots + tp)
    b = _one_metric(100.0 * rng.integers(0, 4, n), slots + tp)
    # the expanded percentile interval is scipy's percentile one at confidence 1 − 2·α'/2
    level = 1 - 2 * interval_tail(n)
    assert level == pytest.approx(0.9567, abs=1e-4)  # by hand: 2·Φ(−√(57/56)·2.0032) = 2·0.02164
    mine = figure_intervals(a, 2000, seed=11)["m"]
    ref = stats.bootstrap((a.num[:, 0], a.den[:, 0]), lambda x, y, axis=-1: x.sum(axis) / y.sum(axis),
                          paired=True, vectorized=True, method="percentile", n_resamples=2000,
                          confidence_level=level, rng=np.random.default_rng(11)).confidence_interval
    assert mine == pytest.approx((ref.low, ref.high), abs=1e-10, rel=0)

    def diff(na, da, nb, db, axis=-1):
        return na.sum(axis) / da.sum(axis) - nb.sum(axis) / db.sum(axis)

    row = compare(a, b, 2000, seed=5, p_values=False)[0]
    ref = stats.bootstrap((a.num[:, 0], a.den[:, 0], b.num[:, 0], b.den[:, 0]), diff, paired=True,
                          vectorized=True, method="percentile", n_resamples=2000, confidence_level=level,
                          rng=np.random.default_rng(5)).confidence_interval
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((ref.low, ref.high), abs=1e-10, rel=0)


def test_interval_tail_by_hand():
    # α'/2 = Φ(−√(n/(n−1))·t_(n−1, 0.975)): t₇ = 2.3646 → Φ(−2.5279); t₁₉ = 2.0930 → Φ(−2.1474);
    # t₉₉ = 1.9842 → Φ(−1.9942); as n grows, → 0.025
    assert interval_tail(8) == pytest.approx(stats.norm.cdf(-math.sqrt(8 / 7) * 2.364624), rel=1e-5)
    assert interval_tail(8) == pytest.approx(0.00574, abs=1e-5)
    assert interval_tail(20) == pytest.approx(0.01588, abs=1e-5)
    assert interval_tail(100) == pytest.approx(0.02306, abs=1e-5)
    assert interval_tail(10**6) == pytest.approx(0.025, abs=1e-6)
    assert interval_tail(1) == pytest.approx(0.025)  # one mixture: every resample is the same


# The coverage population: per trial, n paired mixtures and three figures as the harness forms
# them: a mean over mixtures (CA-SDRi: (value, 1)), a mean over targets (SNRi: (Σ over 1-3
# targets, number of targets)) and a pooled ratio whose denominators differ between the two sides
# (Acc_src: (100·TP, TP + FP + FN)).
KINDS = ("mean", "per_target", "pooled")
SHIFT, TP_A, TP_B, FP = 0.3, 0.7, 0.6, 0.3
# the population's figures of a and of a − b (E[targets] = 2, E[TP + FP + FN] = E[targets] + FP)
TRUE_A = {"mean": 6.0 + SHIFT, "per_target": 8.0 + SHIFT, "pooled": 100 * TP_A * 2 / (2 + FP)}
TRUE_DIFF = {"mean": SHIFT, "per_target": SHIFT, "pooled": 100 * (TP_A - TP_B) * 2 / (2 + FP)}


def coverage_population(rng, n: int, trials: int) -> tuple[Contributions, Contributions]:
    """`trials` independent data sets of n paired mixtures, each a column of every figure kind
    (one `compare` call then draws all their intervals: the test is vectorised over the trials)."""
    shape = (n, trials)
    base = rng.normal(6.0, 4.0, shape)  # mixtures differ a lot; the systems' difference less so
    targets = rng.integers(1, 4, shape)
    per_target_b = rng.normal(8.0, 3.0, shape) * targets
    tp_a, tp_b = rng.binomial(targets, TP_A), rng.binomial(targets, TP_B)
    fp_a, fp_b = rng.random(shape) < FP, rng.random(shape) < FP
    num_a = [base + SHIFT + rng.normal(0, 1.0, shape),
             per_target_b + SHIFT * targets + rng.normal(0, 1.5, shape) * np.sqrt(targets), 100.0 * tp_a]
    names = tuple(f"{kind}{t}" for kind in KINDS for t in range(trials))
    mixtures = tuple(f"m{i}" for i in range(n))
    ones = np.ones(shape)
    return (Contributions(names, mixtures, np.hstack(num_a), np.hstack([ones, targets, targets + fp_a])),
            Contributions(names, mixtures, np.hstack([base, per_target_b, 100.0 * tp_b]),
                          np.hstack([ones, targets, targets + fp_b])))


@pytest.mark.parametrize("n", [8, 20, 100])
def test_coverage_is_nominal_at_small_and_usual_sizes(n):
    """1,000 seeded data sets of n paired mixtures (10 blocks of 100, each block its own resampling
    seed), each figure kind: nominal 95 % intervals of the difference a − b and of a's own figure
    cover the population's value in at least 93 % (and at most 98 %: not by being too wide).
    The plain percentile interval (before 2026-12-06) covered a − b in 896 / 881 / 907 (mean / per
    target / pooled) at n = 8 and 921 / 925 / 918 at n = 20, a in 880 / 883 / 899 and 930 / 931 / 913."""
    rng = np.random.default_rng(2026)
    diff_covered: dict[str, int] = dict.fromkeys(KINDS, 0)
    figure_covered: dict[str, int] = dict.fromkeys(KINDS, 0)
    for block in range(10):
        a, b = coverage_population(rng, n, 100)
        for r in compare(a, b, seed=block, p_values=False):
            kind = r["metric"].rstrip("0123456789")
            diff_covered[kind] += r["ci_low"] <= TRUE_DIFF[kind] <= r["ci_high"]
        for metric, (low, high) in figure_intervals(a, seed=block).items():
            kind = metric.rstrip("0123456789")
            figure_covered[kind] += low <= TRUE_A[kind] <= high
    print(f"n = {n}, coverage of a − b: {diff_covered}, of a: {figure_covered} (of 1000)")
    for kind in KINDS:
        assert 930 <= diff_covered[kind] <= 980, (kind, diff_covered[kind])
        assert 930 <= figure_covered[kind] <= 980, (kind, figure_covered[kind])


def test_pairing_matters():
    rng = np.random.default_rng(1)
    base = rng.normal(5.0, 4.0, 40)  # large spread between mixtures
    a, b = _one_metric(base + 0.5 + rng.normal(0, 0.3, 40)), _one_metric(base)
    ia, ib = figure_intervals(a)["m"], figure_intervals(b)["m"]
    assert ia[0] < ib[1] and ib[0] < ia[1]  # the unpaired intervals overlap
    row = compare(a, b)[0]
    assert row["excludes_zero"] and row["ci_low"] > 0 and row["p_value"] < 0.01
    # resampling the two sides independently (unpaired) would not exclude 0
    ta = resampled_figures(a.num, a.den, resample_indices(40, 2000, 1))
    tb = resampled_figures(b.num, b.den, resample_indices(40, 2000, 2))
    assert np.quantile(ta - tb, 0.025) < 0


def test_same_seed_same_bytes_and_p_values():
    scores = scored_set(2026, n=30, seed=4)
    other = scored_set(2026, n=30, seed=4)
    for i, s in enumerate(other):  # a second "system": each ranking value shifted by a mixture-dependent amount
        s.capi_sdri = s.capi_sdri + (i % 7) / 10
    a, b = contributions(scores), contributions(other)
    first, again = compare(a, b, seed=9), compare(a, b, seed=9)
    assert repr(first).encode() == repr(again).encode()
    assert repr(figure_intervals(a, seed=9)).encode() == repr(figure_intervals(a, seed=9)).encode()
    assert repr(compare(a, b, seed=10)) != repr(first)
    # b in another mixture order: the pairing is by name
    order = np.arange(30)[::-1]
    shuffled = Contributions(b.metrics, tuple(np.array(b.mixtures)[order]), b.num[order], b.den[order])
    assert repr(compare(a, shuffled, seed=9)) == repr(first)
    assert all(0 < r["p_value"] <= 1 for r in first if not math.isnan(r["difference"]))


def test_p_value_is_the_exact_sign_flip_test_for_small_n():
    d = np.array([0.5, 1.0, 1.5, 2.0, -0.25])
    row = compare(_one_metric(d), _one_metric(np.zeros(5)), seed=0)[0]
    # all 32 sign patterns: mean ≥ |observed| on the observed pattern and its mirror, and where
    # only -0.25 flips is larger; by hand: |sum| ≥ 4.75 for {+,+,+,+,-}, {+,+,+,+,+} and mirrors
    sums = [abs(np.dot(d, s)) for s in np.array(np.meshgrid(*[[-1, 1]] * 5)).T.reshape(-1, 5)]
    assert row["p_value"] == pytest.approx(np.mean(np.array(sums) >= abs(d.sum()) - 1e-12))
    assert row["p_value"] == pytest.approx(4 / 32)


def test_min_detectable_difference():
    d = np.array([1.0, -1.0, 2.0, 0.0, 0.5, 1.5])
    a, b = _one_metric(d + 3), _one_metric(np.full(6, 3.0))
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    assert min_detectable(a, b)["m"] == pytest.approx(z * d.std(ddof=1) / math.sqrt(6))
    assert min_detectable(a, b, n=100)["m"] == pytest.approx(z * d.std(ddof=1) / 10)
    assert compare(a, b)[0]["min_detectable"] == pytest.approx(z * d.std(ddof=1) / math.sqrt(6))


def test_mismatched_mixtures_and_formatting():
    with pytest.raises(ValueError, match="same mixtures"):
        compare(_one_metric([1.0, 2.0]), _one_metric([1.0, 2.0, 3.0]))
    assert plus_minus(5.754, 5.3, 6.12) == "5.75 ± 0.41"
    assert plus_minus(float("nan"), 0, 1) == ""


def test_rounding_noise_is_no_difference():
    d = np.array([2.0, 3.0, 5.0, 7.0, 11.0, 13.0])
    row = compare(_one_metric(d + 1e-13), _one_metric(d))[0]  # the same results up to the last digits
    assert (row["difference"], row["ci_low"], row["ci_high"], row["p_value"]) == (0.0, 0.0, 0.0, 1.0)
    assert not row["excludes_zero"]
    assert compare(_one_metric(d + 1e-3), _one_metric(d))[0]["excludes_zero"]  # a real, if tiny, difference


def test_table_columns_differences_and_warnings():
    from s5bench.reporting.ablation import stage_comparisons
    from s5bench.reporting.differences import (
        below_detectable_warnings,
        differences,
        differences_text,
        insert_intervals,
        min_detectable_text,
        shown,
    )

    df = pd.DataFrame({"config": ["s1", "s2"], "CA-SDRi": [5.754, 6.0], "published_CA-SDRi": [10.8, 12.7]})
    with_ci = insert_intervals(df, {"CA-SDRi": [(5.3, 6.12), (5.5, 6.5)]})
    assert list(with_ci.columns) == ["config", "CA-SDRi", "CA-SDRi_ci_low", "CA-SDRi_ci_high", "published_CA-SDRi"]
    assert list(shown(with_ci)["CA-SDRi"]) == ["5.75 ± 0.41", "6.00 ± 0.50"]
    assert list(shown(with_ci).columns) == list(df.columns)  # published figures: no interval
    assert stage_comparisons(["a", "b"]) == [("b", "a")]
    assert stage_comparisons(["fss1_cp1", "x", "y"]) == [("x", "fss1_cp1"), ("y", "x"), ("y", "fss1_cp1")]

    rng = np.random.default_rng(0)
    base = rng.normal(5, 3, 30)
    big, tiny = _one_metric(base + 2 + rng.normal(0, 0.5, 30)), _one_metric(base + rng.normal(0.01, 0.5, 30))
    d = differences([("set", "big", "base", big, _one_metric(base)), ("set", "tiny", "base", tiny, _one_metric(base))],
                    ["m"], 2000, 0)
    assert list(d["excludes_zero"]) == ["true", "false"]
    text = differences_text(d)
    # header (2 lines), columns, index, big, tiny
    assert "big − base" in text and text.splitlines()[4].rstrip().endswith("*")
    assert not text.splitlines()[5].rstrip().endswith("*")
    assert "smallest detectable difference at n = 30 mixtures" in min_detectable_text(d)
    warnings_ = below_detectable_warnings(d)
    assert len(warnings_) == 1 and warnings_[0].startswith("warning: tiny − base (set)")


def _rows(a: Contributions, b: Contributions, seed: int = 0) -> pd.DataFrame:
    from s5bench.reporting.differences import differences

    return differences([("set", "a", "b", a, b)], list(a.metrics), 2000, seed)


def test_no_mark_where_the_test_cannot_reject():
    """The issue's 8-mixture row: 3 more labels right of 8 (Acc_mix +37.50), the other 5 alike.
    The plain percentile interval excluded 0 ([+12.50, +75.00] *) while the exact sign-flip test
    over the 3 mixtures that differ says p = 2/2³ = 0.25."""
    from s5bench.reporting.differences import differences_text

    a, b = _one_metric([100.0] * 3 + [0.0] * 5), _one_metric(np.zeros(8))
    row = compare(a, b)[0]
    assert row["difference"] == 37.5 and row["p_value"] == pytest.approx(0.25)
    assert row["ci_low"] == 0.0 and not row["excludes_zero"]  # P(no improved mixture drawn) = (5/8)^8 = 2.3 %
    text = differences_text(_rows(a, b))
    assert "+37.50 [+0.00, +75.00] p=0.250" in text and "p=0.250 *" not in text
    # a row whose interval excludes 0 but whose test does not reject gets no mark either
    df = _rows(a, b).assign(ci_low=12.5, excludes_zero="true")
    assert differences_text(df).splitlines()[-1].rstrip().endswith("p=0.250")


def test_too_few_mixtures_says_so():
    """The issue's 4-mixture row (+5.92 [+2.82, +9.10] p=0.125 *): on 4 mixtures the sign-flip test's
    smallest p-value is 2/2⁴; from 6 mixtures on (2/2⁶ = 0.031) a difference can be marked."""
    from s5bench.metrics.intervals import min_mixtures
    from s5bench.reporting.differences import differences_text, write_differences

    assert min_mixtures() == 6 and min_mixtures(0.9) == 5 and min_mixtures(0.99) == 8  # 2/2⁵ < 0.1, 2/2⁸ < 0.01
    d = np.array([2.8, 5.1, 6.9, 8.9, 4.0, 7.2])
    four = _rows(_one_metric(d[:4]), _one_metric(np.zeros(4)))
    assert four.loc[0, "p_value"] == pytest.approx(0.125) and four.loc[0, "excludes_zero"] == "true"
    text = differences_text(four)
    assert text.splitlines()[-1].rstrip().endswith("p=0.125 (too few)") and " *" not in text.splitlines()[-1]
    assert "under 6 mixtures" in text
    md = write_differences(four, Path(tempfile.mkdtemp()) / "d.csv").with_suffix(".md").read_text()
    assert "(too few)" in md and "under 6 mixtures" in md
    six = _rows(_one_metric(d), _one_metric(np.zeros(6)))
    assert six.loc[0, "p_value"] == pytest.approx(2 / 64)
    assert differences_text(six).splitlines()[-1].rstrip().endswith("p=0.031 *")


@pytest.mark.parametrize("n", [6, 8, 12, 20])
def test_a_mark_never_contradicts_the_interval_or_the_p_value(n, tmp_path):
    """Random small paired sets, means and ratios of sums, from no difference to a clear one: in
    the Markdown table (one line per metric) a `*` only where the interval excludes 0 and p < 0.05,
    and always there (n ≥ 6)."""
    from s5bench.reporting.differences import write_differences
    from s5bench.reporting.table_files import named_rows

    rng = np.random.default_rng(n)
    marks = []
    for trial in range(8):
        base, den = rng.normal(5, 3, n), rng.integers(1, 4, n).astype(float)
        a = Contributions(("m", "r"), tuple(f"x{i}" for i in range(n)),
                          np.column_stack([base + rng.normal(trial / 4, 1, n), (base + rng.normal(0.5, 1, n)) * den]),
                          np.column_stack([np.ones(n), den]))
        b = Contributions(a.metrics, a.mixtures, np.column_stack([base, base * den]), a.den)
        df = _rows(a, b, seed=trial)
        lines = write_differences(df, tmp_path / "d.csv").with_suffix(".md").read_text().splitlines()
        for r in named_rows(df):
            cell = next(line for line in lines if f"| {r.metric} |" in line).split("|")[4]
            marks.append(cell.rstrip().endswith("*"))
            assert marks[-1] == (r.excludes_zero == "true" and r.p_value < 0.05), (cell, r)
    assert any(marks) and not all(marks)


def test_bootstrap_flag_is_bounded_before_any_work(tmp_path):
    """Issue row 7: `--bootstrap 100000000000` wanted 5.82 TiB after the CSVs were written."""
    import argparse
    import subprocess

    from conftest import runner

    from s5bench.common.arguments import MAX_RESAMPLES, add_interval_arguments

    parser = argparse.ArgumentParser(prog="x")
    add_interval_arguments(parser)
    assert parser.parse_args(["--bootstrap", str(MAX_RESAMPLES)]).bootstrap == MAX_RESAMPLES
    assert parser.parse_args(["--bootstrap", "0"]).bootstrap == 0
    for bad in ("100000000000", str(MAX_RESAMPLES + 1), "-1", "many"):
        with pytest.raises(SystemExit) as exit_:
            parser.parse_args(["--bootstrap", bad])
        assert exit_.value.code == 2
    for folder in ("s", "o", "e"):
        (tmp_path / folder).mkdir()
    out = tmp_path / "out"
    done = subprocess.run([*runner("evaluate.py"), "--soundscape-dir", str(tmp_path / "s"), "--oracle-dir",
                           str(tmp_path / "o"), "--estimate-dir", str(tmp_path / "e"), "--out-dir", str(out),
                           "--bootstrap", "100000000000"], capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "argument --bootstrap: must be a whole number from 0 to 1000000, not 100000000000" in done.stderr
    assert not out.exists()  # refused before anything was scored or written
    with pytest.raises(ValueError, match="resamples must be 1 to 1000000"):  # the library holds to it too
        figure_intervals(_one_metric([1.0, 2.0]), MAX_RESAMPLES + 1)


def test_resampling_in_blocks_bounds_memory(monkeypatch):
    import tracemalloc

    from s5bench.metrics import intervals

    c = _one_metric(np.arange(500.0), np.arange(500) % 3 + 1.0)
    # below CHUNK one block: the same draw as before (and as scipy's)
    whole = resampled_figures(c.num, c.den, np.random.default_rng(4).integers(0, 500, (2000, 500)))
    assert np.array_equal(intervals.bootstrap_figures(c.num, c.den, 2000, 4), whole)
    # in blocks: the figures are those of the blocks' draws, computed at once
    monkeypatch.setattr(intervals, "CHUNK", 3 * 500 + 17)  # blocks of 3 resamples, the last one shorter
    blocks = intervals.resample_indices(500, 2000, 4)
    assert blocks.shape == (2000, 500)
    assert np.array_equal(intervals.bootstrap_figures(c.num, c.den, 2000, 4), resampled_figures(c.num, c.den, blocks))
    monkeypatch.setattr(intervals, "CHUNK", 1 << 18)  # 2 MiB of indices at once
    tracemalloc.start()
    theta = intervals.bootstrap_figures(c.num, c.den, 40_000, 0)  # at once: 40,000 × 500 counts, 160 MB
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert theta.shape == (40_000, 1) and peak < 20e6, peak


def test_importing_the_intervals_leaves_scipy_stats_out():
    """A scoring run that never draws an interval does not pay for importing scipy.stats."""
    import subprocess
    import sys

    code = ("import sys; import s5bench.metrics.intervals as m; from s5bench.reporting import differences; "
            "m.aggregate(m.contributions_from_table(__import__('pandas').DataFrame({'soundscape': ['a'], "
            "'ca_sdri': [1.0], 'snri': [1.0], 'label_match': [True], 'n_ref': [1], 'tp': [1], 'fp': [0], "
            "'fn': [0]}), 2025)); print('scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
