"""The web report: hand-computed breakdowns, the page in a real browser (headless Chromium from
file://), and bad input refused or shown, never a half-written report."""
import json
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from s5bench.metrics.breakdown import breakdown, slot_outcomes, stage_changes
from s5bench.reporting import report as report_mod
from s5bench.reporting.report import build_report
from s5bench.reporting.report_html import fmt
from s5bench.runners import report as report_runner
from s5bench.runners.run_system import main as run_system_main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def per_mixture_rows(rows):
    cols = ["soundscape", "capi_sdri", "snri", "acc_src", "label_match", "n_ref", "n_est", "tp", "fp", "fn",
            "ref_labels", "est_labels"]
    return pd.DataFrame(rows, columns=cols)


# A zero-target mixture, a repeated class with one copy missed, a false alarm and a silent miss.
FIXTURE = per_mixture_rows([
    ("m0", math.nan, math.nan, math.nan, True, 0, 0, 0, 0, 0, "", ""),
    ("m1", 5.0, 5.0, 50.0, False, 2, 1, 1, 0, 1, "Speech;Speech", "Speech"),
    ("m2", 4.0, 8.0, 50.0, False, 1, 2, 1, 1, 0, "Dishes", "Dishes;Cough"),
    ("m3", 3.0, 3.0, 50.0, False, 2, 1, 1, 0, 1, "Typing;Blender", "Typing"),
])


def row(table, kind, group):
    return table[(table["breakdown"] == kind) & (table["group"] == group)].iloc[0]


def test_breakdowns_by_hand():
    b = breakdown(FIXTURE, None, edition=2026)
    everything = row(b, "all", "all")
    # metric: mean of 5, 4, 3 (m0 has no value); SNRi over the 5 targets: (5·2 + 8·1 + 3·2) / 5
    assert everything["n_mixtures"] == 4 and everything["n_targets"] == 5
    assert everything["metric"] == pytest.approx(4.0) and everything["SNRi"] == pytest.approx(4.8)
    assert everything["Acc_mix"] == pytest.approx(25.0)  # only m0's empty answer is right
    assert everything["Acc_src"] == pytest.approx(50.0)  # TP 3 / (3 + FP 1 + FN 2)
    # silent slots answered 3+2+1+2 = 8, truly 3+1+2+1 = 7, rightly min() = 3+1+1+1 = 6
    assert everything["silence_precision"] == pytest.approx(75.0)
    assert everything["silence_recall"] == pytest.approx(100 * 6 / 7)
    zero = row(b, "n_targets", "0")
    assert math.isnan(zero["metric"]) and zero["Acc_mix"] == 100 and zero["silence_precision"] == 100
    two = row(b, "n_targets", "2")  # m1 and m3
    assert two["metric"] == pytest.approx(4.0) and two["SNRi"] == pytest.approx(4.0)
    assert two["Acc_src"] == pytest.approx(50.0) and two["silence_precision"] == pytest.approx(50.0)
    assert two["silence_recall"] == pytest.approx(100.0)
    assert row(b, "n_targets", "1")["SNRi"] == pytest.approx(8.0)
    assert row(b, "scene_type", "no target")["n_mixtures"] == 1
    distinct = row(b, "scene_type", "distinct classes")  # m2, m3
    assert distinct["metric"] == pytest.approx(3.5) and distinct["SNRi"] == pytest.approx(14 / 3)
    assert row(b, "scene_type", "a class repeated")["metric"] == pytest.approx(5.0)
    assert "scene_type" not in set(breakdown(FIXTURE, None, edition=2025)["breakdown"])


def test_slot_outcomes_and_stage_changes_by_hand():
    assert slot_outcomes(["Speech", "Speech"], ["Speech"]) == ([("Speech", "tp")],
                                                               [("Speech", "matched"), ("Speech", "missed")])
    assert slot_outcomes(["Dishes"], ["Dishes", "Cough"])[0] == [("Dishes", "tp"), ("Cough", "false alarm")]
    later = FIXTURE.assign(capi_sdri=[math.nan, 6.0, 4.01, 1.0])
    ch = stage_changes({"a": FIXTURE, "b": later})
    assert list(ch["verdict"]) == ["no value", "helped", "unchanged", "hurt"]
    assert ch["delta"].iloc[1] == pytest.approx(1.0) and ch["delta"].iloc[3] == pytest.approx(-2.0)


@pytest.fixture(scope="module")
def scored(tmp_path_factory, tiny_test_set, tiny_systems):
    """The tiny pipeline (five stages) and two oracle systems run on the tiny test set."""
    out = tmp_path_factory.mktemp("report") / "results"
    systems = ",".join([str(tiny_systems["self_guided"]), "oracle_sources", "all_silence"])
    assert run_system_main(["--system", systems, "--data", str(tiny_test_set), "--out", str(out),
                            "--jobs", "1", "--batch-size", "3"]) == 0
    return out


CHECKER = """<script>
window.__errors = [];
window.addEventListener("error", function (e) {
  window.__errors.push(String(e.message || (e.target && (e.target.currentSrc || e.target.src)))); }, true);
(function () { var orig = console.error; console.error = function () {
  window.__errors.push(Array.prototype.join.call(arguments, " ")); orig.apply(console, arguments); }; })();
window.addEventListener("load", function () {
  var audios = Array.prototype.slice.call(document.querySelectorAll("audio"));
  Promise.all(audios.map(function (a) { return new Promise(function (ok) {
    if (a.readyState >= 1) return ok(); a.addEventListener("loadedmetadata", ok); a.addEventListener("error", ok); });
  })).then(function () {
    var cells = Array.prototype.map.call(document.querySelectorAll("td[data-value]"), function (td) {
      var tr = td.parentElement, table = tr.closest("table");
      return {table: table.id, row: tr.rowIndex, mixture: tr.dataset.mixture || null, stage: td.dataset.stage || null,
              column: td.dataset.column || null, value: td.dataset.value, text: td.textContent}; });
    var out = {errors: window.__errors, cells: cells,
      audio: audios.map(function (a) { return {src: a.getAttribute("src"), duration: a.duration,
        seconds: parseFloat(a.dataset.seconds), error: a.error ? a.error.code : null}; }),
      images: Array.prototype.map.call(document.images, function (i) {
        return {src: i.getAttribute("src"), ok: i.complete && i.naturalWidth > 0}; })};
    var pre = document.createElement("pre"); pre.id = "check-result"; pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  });
});
</script>"""


def in_browser(index: Path, screenshot: Path) -> dict:
    """Load the page from file:// in headless Chromium with a checker script placed before the
    page's own; return what it saw. Also writes a screenshot."""
    check = index.with_name("_check.html")
    check.write_text(index.read_text().replace("<head>", "<head>" + CHECKER, 1))
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--allow-file-access-from-files"]
    try:
        dom = subprocess.run(flags + ["--virtual-time-budget=20000", "--dump-dom", check.as_uri()],
                             capture_output=True, text=True, timeout=120).stdout
    finally:
        check.unlink()
    subprocess.run(flags + ["--window-size=1280,1800", f"--screenshot={screenshot}", index.as_uri()],
                   capture_output=True, timeout=120)
    start = dom.index('<pre id="check-result">') + len('<pre id="check-result">')
    return json.loads(dom[start:dom.index("</pre>", start)].replace("&amp;", "&").replace("&lt;", "<")
                      .replace("&gt;", ">").replace("&quot;", '"'))


def same(cell_value: str, expected) -> bool:
    if isinstance(expected, (float, np.floating)) and math.isnan(expected):
        return cell_value in ("nan", "<NA>", "None", "")
    return float(cell_value) == pytest.approx(float(expected), abs=1e-9)


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs Debian's chromium)")
def test_the_page_in_a_real_browser(scored, tmp_path):
    index = build_report(scored, progress=False)
    page = in_browser(index, tmp_path / "report.png")
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert page["errors"] == []
    assert page["audio"] and page["images"]
    for clip in page["audio"]:
        path = index.parent / clip["src"]
        assert path.is_file() and clip["error"] is None, clip
        assert sf.info(str(path)).samplerate == 32000
        assert clip["duration"] == pytest.approx(clip["seconds"], abs=0.02) and clip["seconds"] == pytest.approx(2.0)
    assert all(img["ok"] for img in page["images"]), [i for i in page["images"] if not i["ok"]]
    assert {i["src"] for i in page["images"]} <= {str(p.relative_to(index.parent)) for p in index.parent.rglob("*.png")}

    cells = pd.DataFrame(page["cells"])
    titles = [r.title for r in report_mod.discover(scored)[2]]
    checked = 0
    for vi, title in enumerate(titles):
        run_dir = scored / title
        for c in cells[cells["table"] == f"summary-{vi}"].itertuples():
            expected = pd.read_csv(run_dir / c.stage / "summary.csv").iloc[0][c.column]
            shown = int(expected) if c.column == "n_mixtures" else expected
            assert same(c.value, expected) and c.text == fmt(shown), c
            checked += 1
        for c in cells[(cells["table"] == f"mixtures-{vi}") & cells["column"].notna()].itertuples():
            pm = pd.read_csv(run_dir / c.stage / "per_mixture.csv").set_index("soundscape")
            col = "ca_sdri" if c.column == "metric" else c.column
            assert same(c.value, pm.loc[c.mixture, col]) and c.text == fmt(pm.loc[c.mixture, col]), c
            checked += 1
        table = pd.read_csv(index.parent / "breakdown.csv")
        for c in cells[cells["table"].str.startswith(f"breakdown-{vi}-")].itertuples():
            rows = table[(table["run"] == title) & (table["stage"] == c.stage)].reset_index(drop=True)
            expected = rows.loc[c.row - 1, c.column]
            if isinstance(expected, str):
                assert c.value == expected
            else:
                assert same(c.value, expected), c
            checked += 1
    assert checked > 200
    # the breakdown's `all` row is the summary, computed another way
    b = pd.read_csv(index.parent / "breakdown.csv")
    for title in titles:
        for stage in b[b["run"] == title]["stage"].unique():
            s = pd.read_csv(scored / title / stage / "summary.csv").iloc[0]
            a = b[(b["run"] == title) & (b["stage"] == stage) & (b["breakdown"] == "all")].iloc[0]
            for col, mine in (("CA-SDRi", "metric"), ("SNRi", "SNRi"), ("Acc_mix", "Acc_mix"), ("Acc_src", "Acc_src")):
                assert same(str(a[mine]), s[col]), (title, stage, col)
    html = index.read_text()
    assert "http://" not in html and "https://" not in html  # nothing fetched from the network


def test_selection_and_bad_input(scored, tmp_path, capsys):
    index = build_report(scored, mixtures=["mix_0004"], n_random=1, progress=False)
    html = index.read_text()
    assert "best by ca_sdri" in html and "worst by ca_sdri" in html and "asked for (--mixtures)" in html
    assert report_runner.main([str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert report_runner.main([str(tmp_path / "empty")]) == 2
    assert "is not a results folder" in capsys.readouterr().err
    assert report_runner.main([str(scored), "--mixtures", "mix_9999", "--no-progress"]) == 2
    assert "mix_9999 not in" in capsys.readouterr().err


def test_a_failed_build_leaves_the_previous_report(scored, monkeypatch):
    index = build_report(scored, n_random=0, progress=False)
    before = index.read_text()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(report_mod, "write_clip_assets", broken)
    with pytest.raises(RuntimeError):
        build_report(scored, progress=False)
    assert index.read_text() == before
    assert not list(scored.glob(".report*"))


def test_missing_estimates_and_an_evaluation_set(scored, tiny_test_set, tiny_systems, tmp_path):
    broken = tmp_path / "results"
    shutil.copytree(scored, broken, ignore=shutil.ignore_patterns("report"))
    for info_path in broken.glob("*/*/run_info.json"):  # point the copy's records at the copy
        info = json.loads(info_path.read_text())
        info["estimate_dir"] = str(info_path.parent / "estimate")
        info_path.write_text(json.dumps(info))
    shutil.rmtree(broken / "oracle_sources" / "final" / "estimate")
    html = build_report(broken, n_random=0, progress=False).read_text()
    assert "is missing: no estimates to play" in html and "final: no estimate folder" in html

    eval_set = tmp_path / "eval"
    shutil.copytree(tiny_test_set / "soundscape", eval_set / "soundscape")
    assert run_system_main(["--system", str(tiny_systems["self_guided"]), "--data", str(eval_set),
                            "--out", str(tmp_path / "eval_results"), "--jobs", "1"]) == 0
    html = build_report(tmp_path / "eval_results", progress=False).read_text()
    assert "an evaluation set (no oracle targets): estimates and labels only, no scores" in html
    assert "<audio" in html and "Summary" not in html


def test_a_folder_with_an_ablation_and_a_leaderboard_reports_both(scored, tmp_path):
    """ablation.py and leaderboard.py share results/ by default: the report shows both, and the
    leaderboard's report is not the ablation's."""
    results = tmp_path / "results"
    results.mkdir()
    pd.DataFrame({"config": ["final"], "CA-SDRi": [1.0], "published_CA-SDRi": [14.9]}).to_csv(results / "table1.csv")
    (results / "table1.csv.meta.json").write_text(json.dumps(
        {"system": "oracle_sources", "run_dir": str(scored / "oracle_sources"), "stages": ["final"], "edition": 2025}))
    table2 = pd.DataFrame({"system": ["all_silence", "KAIST"], "kind": ["measured", "published"],
                           "builtin_CA-SDRi": [0.0, None], "published_test_CA-SDRi": [None, 14.94]})
    table2.to_csv(results / "table2.csv")
    (results / "table2.csv.meta.json").write_text(json.dumps(
        {"runs": {"all_silence": {"builtin": {"run_dir": str(scored / "all_silence"), "stage": "final"}}},
         "edition": 2025}))
    kind, tables, runs = report_mod.discover(results)
    assert kind == "ablation and leaderboard"
    assert [t for t, _ in tables] == ["Table 1, measured", "Table 1, published (the paper; not measured here)",
                                      "Table 2, measured", "Table 2, published (the challenge; not measured here)"]
    assert [r.title for r in runs] == ["oracle_sources", "all_silence on builtin"]
    html = build_report(results, n_random=0, progress=False).read_text()
    assert "all_silence on builtin" in html and "oracle_sources" in html


def run_section(html: str, title: str) -> str:
    """The part of the page about one run (its heading up to the next run's)."""
    start = html.index(f">{title}</h2>")
    end = html.find('<h2 id="run-', start)
    return html[start:end if end >= 0 else len(html)]


def test_a_copied_results_folder_plays_its_own_files(scored, tmp_path):
    """run_info.json records absolute paths: a copy of the folder, the original gone, still finds
    its estimates (and a relative record resolves against the stage's folder)."""
    original, copy = tmp_path / "original", tmp_path / "copy"
    shutil.copytree(scored, original, ignore=shutil.ignore_patterns("report"))
    for info_path in original.glob("*/*/run_info.json"):  # as if the runs had been made in `original`
        info = json.loads(info_path.read_text())
        info["estimate_dir"] = str(info_path.parent / "estimate")
        info_path.write_text(json.dumps(info))
    shutil.copytree(original, copy)
    shutil.rmtree(original)
    html = build_report(copy, n_random=0, progress=False).read_text()
    assert "is missing" not in html and "no estimate folder" not in html and str(original) not in html
    assert html.count('class="clip estimate"') > 0
    assert report_mod.discover(copy)[2][0].stages[0].info["estimate_dir"].startswith(str(copy))
    from s5bench.reporting.report_data import relocate

    stage = copy / "oracle_sources" / "final"
    assert relocate("results/oracle_sources/final/estimate", stage) == stage / "estimate"
    assert relocate(str(tmp_path / "nowhere" / "data" / "soundscape"), stage) == tmp_path / "nowhere" / "data" / \
        "soundscape"  # a data set outside the folder stays where it was recorded


def test_the_silence_note_agrees_with_the_table(scored, tmp_path):
    """An estimate file removed after scoring: the page says so, and never that every slot was
    silence while its table shows a label; all_silence's note stays (it is true there)."""
    copy = tmp_path / "results"
    shutil.copytree(scored, copy, ignore=shutil.ignore_patterns("report"))
    for info_path in copy.glob("*/*/run_info.json"):
        info = json.loads(info_path.read_text())
        info["estimate_dir"] = str(info_path.parent / "estimate")
        info_path.write_text(json.dumps(info))
    pm = pd.read_csv(copy / "oracle_sources" / "final" / "per_mixture.csv", keep_default_na=False)
    mix = pm[pm["est_labels"] != ""]["soundscape"].iloc[0]
    labels = pm.set_index("soundscape").loc[mix, "est_labels"].split(";")
    gone = sorted((copy / "oracle_sources" / "final" / "estimate").glob(f"{mix}_*.wav"))
    assert len(gone) == len(labels) >= 1
    for f in gone:
        f.unlink()
    html = build_report(copy, mixtures=[mix], n_random=0, progress=False).read_text()
    oracle = run_section(html, "oracle_sources")
    listened = oracle[oracle.index('id="listen-'):]
    listened = listened[listened.index(f"{mix} — "):]
    notes = listened[:listened.index('<div class="clips">')]
    assert "every slot answered as silence" not in notes
    assert f"final: scored with an estimate of {', '.join(sorted(labels))}, but" in notes
    row = oracle[oracle.index(f'<tr data-mixture="{mix}">'):]
    assert 'class="lab tp"' in row[:row.index("</tr>")]  # the table shows the scored, correct slot
    silent = run_section(html, "all_silence")
    assert silent.count("final: every slot answered as silence (no estimate file)") == silent.count("<h4 ")


def test_estimate_notes_by_hand():
    from s5bench.reporting.report_audio import estimate_notes
    from s5bench.reporting.report_data import Stage

    stage = Stage("s", Path("."), {"estimate_dir": "/est"}, per_mixture=FIXTURE)
    assert estimate_notes(stage, "m0", []) == ["s: every slot answered as silence (no estimate file)"]
    assert estimate_notes(stage, "m1", ["Speech"]) == []
    assert estimate_notes(stage, "m2", ["Cough"]) == [
        "s: scored with an estimate of Dishes, but /est has no such file now (removed after scoring): nothing to play"]
    assert estimate_notes(stage, "m0", ["Cough"]) == [
        "s: estimate file(s) of Cough that the scores do not include (written after scoring)"]
    assert estimate_notes(Stage("u", Path("."), {}), "m0", []) == []  # not scored: files are the answer
