"""The web report on a hand-made results folder: mixture names that are URL syntax (`#`, `?`, `%`,
spaces) play and show from a copied page, and the intervals of issue 35 (table columns
`<metric>_ci_low/_ci_high`, table1/2_differences.csv) appear as `value ± half-width` and as a forest plot."""
import re
from html import unescape
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from test_report import CHROMIUM, in_browser

from s5bench.reporting.report import build_report
from s5bench.reporting.report_data import ReportError, read_differences
from s5bench.reporting.report_plots import forest_figure, pyplot
from s5bench.runners.evaluate import main as evaluate_main

SR = 32000
MIXTURES = {"a#1": ["Speech"], "b?2": ["Dishes", "Cough"], "c 50%": ["Typing"], "d_plain": []}


def write_hand_set(root: Path) -> None:
    """Four one-second mixtures, their references, and two stages' estimates (noisier, cleaner)."""
    rng = np.random.default_rng(0)
    for folder in ("mixtures", "oracle", "first", "second"):
        (root / folder).mkdir(parents=True)
    for mix, labels in MIXTURES.items():
        sources = [0.1 * rng.standard_normal(SR).astype(np.float32) for _ in labels]
        mixture = 0.01 * rng.standard_normal((SR, 4)).astype(np.float32)
        for s in sources:
            mixture += s[:, None]
        sf.write(root / "mixtures" / f"{mix}.wav", mixture, SR, subtype="FLOAT")
        for lab, s in zip(labels, sources):
            sf.write(root / "oracle" / f"{mix}_{lab}.wav", s, SR, subtype="FLOAT")
            for stage, level in (("first", 0.05), ("second", 0.01)):
                est = s + level * rng.standard_normal(SR).astype(np.float32)
                sf.write(root / stage / f"{mix}_{lab}.wav", est, SR, subtype="FLOAT")


DIFF_COLUMNS = ["data", "a", "b", "metric", "difference", "ci_low", "ci_high", "p_value", "n_mixtures",
                "min_detectable", "excludes_zero"]
TABLE1_DIFFERENCES = pd.DataFrame([
    ("hand", "second", "first", "CA-SDRi", 1.25, 0.8, 1.7, 0.004, 40, 0.6, True),
    ("hand", "second", "first", "SNRi", 0.3, -0.2, 0.8, 0.21, 40, 0.7, False),
    ("hand", "first", "oracle", "CA-SDRi", -2.0, -3.5, -0.5, 0.0004, 40, 1.4, True),
    ("hand", "first", "oracle", "SNRi", -0.4, -1.1, 0.3, 0.3, 40, 0.9, False),
], columns=DIFF_COLUMNS)
TABLE2_DIFFERENCES = pd.DataFrame([
    ("builtin", "mysys", "baseline", "CA-SDRi", 0.5, 0.1, 0.9, 0.02, 20, 0.5, True),
    ("seed7", "mysys", "baseline", "CA-SDRi", -0.1, -0.6, 0.4, 0.7, 20, 0.6, False),
], columns=DIFF_COLUMNS)


@pytest.fixture(scope="module")
def hand_results(tmp_path_factory):
    """An ablation-style results folder over the hand-made set: two stages scored by evaluate.py,
    table1.csv with an interval for one figure, and the two differences tables."""
    root = tmp_path_factory.mktemp("hand")
    write_hand_set(root / "set")
    results = root / "results"
    for stage in ("first", "second"):
        assert evaluate_main(["--soundscape-dir", str(root / "set" / "mixtures"), "--oracle-dir",
                              str(root / "set" / "oracle"), "--estimate-dir", str(root / "set" / stage),
                              "--out-dir", str(results / "runs" / "sys" / stage), "--jobs", "1"]) == 0
    pd.DataFrame({"config": ["first", "second"], "CA-SDRi": [5.75, 7.0], "CA-SDRi_ci_low": [5.30, np.nan],
                  "CA-SDRi_ci_high": [6.12, np.nan], "SNRi": [6.0, 8.0],
                  "published_CA-SDRi": [14.9, 15.0]}).to_csv(results / "table1.csv", index=False)
    (results / "table1.csv.meta.json").write_text(
        '{"system": "sys", "run_dir": "%s", "stages": ["first", "second"], "edition": 2025}'
        % (results / "runs" / "sys"))
    TABLE1_DIFFERENCES.to_csv(results / "table1_differences.csv", index=False)
    TABLE2_DIFFERENCES.to_csv(results / "table2_differences.csv", index=False)
    return results


def links(html: str) -> list[str]:
    return [unescape(s) for s in re.findall(r'<(?:audio|img)[^>]* src="([^"]*)"', html)]


def test_odd_mixture_names_are_url_encoded_links_that_resolve(hand_results):
    index = build_report(hand_results, progress=False)
    html = index.read_text()
    found = links(html)
    clips = [s for s in found if s.startswith("audio/")]
    # every mixture listened to: 4 mixtures (mixture + references + 2 stages' estimates each)
    assert len(clips) == sum(1 + 3 * len(labels) for labels in MIXTURES.values())
    for src in found:
        assert not re.search(r"[#? ]", src) and not re.search(r"%(?![0-9A-F]{2})", src), src
        assert not src.startswith(("/", "file:")), src  # relative to the report's folder
        assert (index.parent / unquote(src)).is_file(), src
    assert any("a%231__" in s for s in clips) and any("b%3F2__" in s for s in clips)
    assert any("c%2050%25__" in s for s in clips)


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs Debian's chromium)")
def test_odd_mixture_names_play_in_a_real_browser_with_the_forest_plot(hand_results, tmp_path):
    index = build_report(hand_results, progress=False)
    page = in_browser(index, tmp_path / "report.png")
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert page["errors"] == []
    assert len(page["audio"]) == sum(1 + 3 * len(labels) for labels in MIXTURES.values())
    for clip in page["audio"]:
        assert clip["error"] is None and clip["duration"] == pytest.approx(1.0, abs=0.02), clip
    assert all(img["ok"] for img in page["images"]), [i for i in page["images"] if not i["ok"]]
    assert {"img/forest_table1.png", "img/forest_table2.png"} <= {i["src"] for i in page["images"]}


def test_table_figures_show_their_intervals(hand_results):
    html = build_report(hand_results, n_random=0, progress=False).read_text()
    table = html[html.index('<table id="table-0"'):]
    table = table[:table.index("</table>")]
    assert '<td data-value="5.75">5.75 ± 0.41</td>' in table  # (6.12 - 5.30) / 2
    assert '<td data-value="7.0">7.00</td>' in table  # no interval known: the figure alone
    assert "_ci_" not in table and "± " not in table.split("5.75 ± 0.41")[1]
    published = html[html.index('<table id="table-1"'):]
    assert "±" not in published[:published.index("</table>")]  # published figures get no interval


def test_the_differences_tables_and_forest_plots(hand_results):
    index = build_report(hand_results, n_random=0, progress=False)
    html = index.read_text()
    for name in ("table1", "table2"):
        png = index.parent / "img" / f"forest_{name}.png"
        assert png.is_file() and png.stat().st_size > 5_000 and f'src="img/forest_{name}.png"' in html
    one = html[html.index('id="differences-table-table1"'):]
    one = one[:one.index("</table>")]
    rows = re.findall(r"<tr( class=\"excludes-zero\")?>(.*?)</tr>", one)
    assert len(rows) == 1 + len(TABLE1_DIFFERENCES)  # header + one per (comparison, metric)
    first = rows[1][1]
    assert rows[1][0] and ">+1.25<" in first and ">[0.80, 1.70]<" in first and ">0.004<" in first
    assert ">0.60<" in first and ">yes<" in first  # the smallest detectable difference, the verdict
    assert not rows[2][0] and ">no<" in rows[2][1] and "< 0.001" in unescape(rows[3][1])
    assert ">data<" not in one  # one data set: no data column
    two = html[html.index('id="differences-table-table2"'):]
    assert ">seed7<" in two[:two.index("</table>")]


def test_the_forest_plot_draws_each_interval_and_zero():
    fig = forest_figure(TABLE1_DIFFERENCES)
    try:
        axes = fig.axes
        assert [ax.get_title() for ax in axes] == ["CA-SDRi", "SNRi"]
        assert [t.get_text() for t in axes[0].get_yticklabels()] == ["first − oracle", "second − first"]
        for ax, metric in zip(axes, ["CA-SDRi", "SNRi"]):
            rows = TABLE1_DIFFERENCES[TABLE1_DIFFERENCES["metric"] == metric]
            segments = [seg for c in ax.collections if hasattr(c, "get_segments") for seg in c.get_segments()]
            expected = [[[lo, y], [hi, y]] for lo, hi, y in zip(rows["ci_low"], rows["ci_high"], [1, 0])]
            assert sorted(np.asarray(s).tolist() for s in segments) == sorted(expected)
            dots = [(line.get_xdata()[0], line.get_ydata()[0]) for line in ax.lines if line.get_marker() == "o"]
            assert sorted(dots) == sorted(zip(rows["difference"], [1, 0]))
            zero = [line for line in ax.lines if list(line.get_xdata()) == [0, 0]]
            assert len(zero) == 1  # the vertical line at 0
            bands = [(p.get_x(), p.get_width()) for p in ax.patches]
            assert sorted(bands) == sorted((-m, 2 * m) for m in rows["min_detectable"])
            filled = sorted((line.get_xdata()[0], line.get_markerfacecolor() != "white") for line in ax.lines
                            if line.get_marker() == "o")
            assert filled == sorted(zip(rows["difference"], rows["excludes_zero"]))
    finally:
        pyplot().close(fig)
    # an interval that excludes 0 beside p = 0.25 (8 mixtures): not marked, so a hollow dot
    unsure = TABLE1_DIFFERENCES.iloc[:1].assign(p_value=0.25, n_mixtures=8)
    fig = forest_figure(unsure)
    try:
        assert [line.get_markerfacecolor() for line in fig.axes[0].lines if line.get_marker() == "o"] == ["white"]
    finally:
        pyplot().close(fig)
    fig = forest_figure(TABLE2_DIFFERENCES)  # two data sets: each row names its set
    try:
        assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["mysys − baseline  (seed7)",
                                                                         "mysys − baseline  (builtin)"]
    finally:
        pyplot().close(fig)


def test_without_the_interval_files_the_page_is_as_before(hand_results, tmp_path):
    import shutil

    plain = tmp_path / "results"
    shutil.copytree(hand_results, plain, ignore=shutil.ignore_patterns("*_differences.csv", "report"))
    df = pd.read_csv(plain / "table1.csv")
    df.drop(columns=["CA-SDRi_ci_low", "CA-SDRi_ci_high"]).to_csv(plain / "table1.csv", index=False)
    index = build_report(plain, n_random=0, progress=False)
    html = index.read_text()
    assert "±" not in html and "forest" not in html and "differences" not in html
    assert not list(index.parent.glob("img/forest_*"))


def test_a_differences_file_without_a_contract_column_is_a_named_error(tmp_path):
    TABLE1_DIFFERENCES.drop(columns=["min_detectable"]).to_csv(tmp_path / "table1_differences.csv", index=False)
    with pytest.raises(ReportError, match=r"table1_differences\.csv: no column min_detectable"):
        read_differences(tmp_path)
