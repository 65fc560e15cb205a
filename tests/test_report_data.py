"""reporting/report_data.py and the report command on damaged or unwritable results (issue 41, rows 5
and 6): every fault is a named error (exit 2) naming its file, and no half-built report is left."""
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from s5bench.reporting.report import build_report
from s5bench.reporting.report_data import ReportError
from s5bench.systems import build_system
from s5bench.systems.run import RunOptions, run_system

ROOT = Path(__file__).resolve().parents[1]



@pytest.fixture(scope="module")
def run_folder(tiny_test_set, tmp_path_factory) -> Path:
    """A results folder of run_system.py: oracle_sources on the tiny set."""
    out = tmp_path_factory.mktemp("run") / "results"
    run_system(build_system("oracle_sources"), tiny_test_set, out / "oracle_sources", RunOptions(progress=False))
    return out


def damaged_copy(run_folder: Path, tmp_path: Path, damage) -> tuple[Path, Path]:
    copy = tmp_path / "results"
    shutil.copytree(run_folder, copy)
    stage = copy / "oracle_sources" / "final"
    damage(stage)
    return copy, stage


def report_cli(results: Path, limit_bytes: int | None = None) -> subprocess.CompletedProcess:
    def limit():  # a disk that takes no file larger than this: writes beyond fail with EFBIG, as a full disk's do
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.run([sys.executable, str(ROOT / "runners" / "report.py"), str(results), "--no-progress"],
                          capture_output=True, text=True, preexec_fn=limit if limit_bytes else None)


# ---------------------------------------------------------------- row 5: the report on a full disk

def test_a_report_that_cannot_be_written_is_a_named_error_leaving_no_staging_folder(run_folder, tmp_path):
    results, _ = damaged_copy(run_folder, tmp_path, lambda stage: None)
    r = report_cli(results, limit_bytes=4096)  # the first Ogg clip is larger
    assert r.returncode == 2, r.stderr[-2000:]
    assert r.stderr.startswith("error: File too large: ") and ".ogg" in r.stderr and "Traceback" not in r.stderr
    assert [p.name for p in results.iterdir()] == ["oracle_sources"]  # no report, no staging folder half-built
    assert report_cli(results).returncode == 0 and (results / "report" / "index.html").is_file()


# ---------------------------------------------------------------- row 6: damaged stage folders

@pytest.mark.parametrize("damage,message", [
    (lambda stage: (stage / "summary.csv").unlink(),
     r"final/summary.csv is missing beside .*final/per_mixture.csv: the scoring did not finish"),
    (lambda stage: (stage / "per_mixture.csv").write_text((stage / "per_mixture.csv").read_text().splitlines()[0]),
     r"final/per_mixture.csv: a header and no row: the scoring did not finish"),
    (lambda stage: (stage / "per_mixture.csv").write_text("soundscape,ca_sdri\nmix_0000,3.0\n"),
     r"final/per_mixture.csv: no column snri, acc_src, .* \(it has soundscape, ca_sdri\)"),
    (lambda stage: (stage / "per_mixture.csv").write_bytes(b""), r"final/per_mixture.csv: an empty file"),
    (lambda stage: (stage / "summary.csv").write_text("n_mixtures,CA-SDRi\n"),
     r"final/summary.csv: a header and no row"),
    (lambda stage: (stage / "run_info.json").write_text('{\n  "soundscape_dir": "x",\n'),
     r"final/run_info.json: not valid JSON \(.*line 3 column 1.*\); it was cut off or damaged"),
    (lambda stage: (stage / "run_info.json").write_text("[1, 2]"), r"final/run_info.json: a JSON object is needed"),
    (lambda stage: (stage / "run_info.json").write_text('{"edition": 2025}'),
     r"final/run_info.json: no soundscape_dir or estimate_dir recorded"),
])
def test_a_damaged_stage_is_a_named_error_naming_its_file(run_folder, tmp_path, damage, message):
    results, _ = damaged_copy(run_folder, tmp_path, damage)
    with pytest.raises(ReportError, match=message):
        build_report(results, progress=False)
    assert not (results / "report").exists()


def test_a_damaged_stage_ends_the_report_command_with_exit_2(run_folder, tmp_path):
    results, stage = damaged_copy(run_folder, tmp_path, lambda stage: (stage / "summary.csv").unlink())
    r = report_cli(results)
    assert r.returncode == 2 and r.stderr.startswith(f"error: {stage / 'summary.csv'} is missing"), r.stderr[-2000:]


