"""Issue 41, row 4: SIGINT or SIGTERM to a command's process group (what Ctrl-C and a job scheduler
send), its workers included, ends it within 5 s with one line `interrupted` and exit 130, no
traceback, no lock or temporary file left; the same command then resumes. Real signals to real
processes, several times over into the same folder."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from s5bench.common.atomic import TMP_PREFIX
from s5bench.common.locks import LOCK
from s5bench.systems import build_system
from s5bench.systems.oracle import OracleSources
from s5bench.systems.run import RunOptions, run_system

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent


class SlowOracle(OracleSources):
    """The oracle, slowed down so that a signal finds it half-way through a run."""

    def forward(self, mixture, batch):
        time.sleep(0.4)
        return super().forward(mixture, batch)


def children(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


def running(pid: str) -> bool:
    """Whether a process is still running (a zombie waiting to be reaped has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def interrupt(cmd: list[str], ready, signum: int) -> tuple[int, str, float]:
    """Start `cmd` in a process group of its own, wait until `ready(pid)`, send `signum` to the whole
    group; returns (exit status, stderr, seconds from the signal to the end of the group). A group
    that does not end (the fault this guards against) is killed before the test fails."""
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    p = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        while not ready(p.pid):
            assert p.poll() is None, f"ended before the signal: {p.communicate()[1][-2000:]}"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        workers = children(p.pid)  # a pool's workers leave the group: they are followed by pid
        sent = time.monotonic()
        os.killpg(p.pid, signum)
        _, err = p.communicate(timeout=60)
        while True:  # the workers end too: nothing of the group, and none of its workers, is left
            try:
                os.killpg(p.pid, 0)
            except ProcessLookupError:
                if not [w for w in workers if running(w)]:
                    break
            assert time.monotonic() - sent < 30, "a worker of the group outlived the command"
            time.sleep(0.01)
        return p.returncode, err, time.monotonic() - sent
    except BaseException:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        raise


def assert_interrupted(status: int, err: str, seconds: float, folder: Path) -> None:
    assert status == 130, err[-3000:]
    assert err.splitlines()[-1] == "interrupted" and "Traceback" not in err, err[-3000:]
    assert seconds < 5, f"{seconds:.1f} s from the signal to the end"
    assert not [p for p in folder.rglob("*") if p.name == LOCK or p.name.startswith(TMP_PREFIX)]


def test_generate_ends_cleanly_on_every_signal_and_resumes(tmp_path):
    from conftest import tiny_data_config

    tiny_data_config(tmp_path)
    out = tmp_path / "set"
    cmd = [sys.executable, str(ROOT / "runners" / "generate.py"), "--config", str(tmp_path / "data.yaml"),
           "--out", str(out), "--n", "10", "--seed", "3", "--jobs", "2"]

    def one_more_mixture(before: int):
        # a mixture more than before is complete: the pool is up and its workers are rendering others
        return lambda pid: len(list((out / "metadata").glob("mix_*.json"))) > before and len(children(pid)) >= 2

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGINT):
        done = len(list((out / "metadata").glob("mix_*.json"))) if out.exists() else 0
        assert_interrupted(*interrupt(cmd, one_more_mixture(done), signum), out)
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert " kept from an earlier run " in r.stdout and ", 10 in " in r.stdout
    verify = subprocess.run([sys.executable, str(ROOT / "runners" / "generate.py"), "--verify", str(out)],
                            capture_output=True, text=True)
    assert verify.returncode == 0 and "10 mixtures, every file's size and sha256 match" in verify.stdout


def test_run_system_and_evaluate_end_cleanly_on_every_signal_and_resume(tiny_test_set, tmp_path):
    config = tmp_path / "slow.yaml"
    config.write_text(yaml.safe_dump({"class": "test_signals:SlowOracle"}))
    out = tmp_path / "runs"
    run = [sys.executable, str(ROOT / "runners" / "run_system.py"), "--system", str(config), "--data",
           str(tiny_test_set), "--out", str(out)]
    done = out / "slow" / "final" / ".done"

    def one_more_mixture(before: int):
        return lambda pid: done.is_dir() and len(list(done.iterdir())) > before

    for signum in (signal.SIGINT, signal.SIGTERM):
        assert_interrupted(*interrupt(run, one_more_mixture(len(list(done.glob("*"))) if done.is_dir() else 0),
                                      signum), out)
    r = subprocess.run(run, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(TESTS)})
    assert r.returncode == 0, r.stderr
    resumed = pd.read_csv(out / "slow" / "final" / "summary.csv").iloc[0]
    clean = run_system(build_system("oracle_sources"), tiny_test_set, tmp_path / "clean",
                       RunOptions(progress=False))["final"]
    assert resumed["n_mixtures"] == 6 and resumed["CA-SDRi"] == pytest.approx(clean["CA-SDRi"], abs=1e-9)

    scored = tmp_path / "scored"
    evaluate = [sys.executable, str(ROOT / "runners" / "evaluate.py"), "--soundscape-dir",
                str(tiny_test_set / "soundscape"), "--oracle-dir", str(tiny_test_set / "oracle_target"),
                "--estimate-dir", str(out / "slow" / "final" / "estimate"), "--out-dir", str(scored), "--jobs", "2"]
    # while the scoring pool's two workers start: a pool lost or a worker killed holding the pool's
    # queue lock there hung about one run in three before worker_pool, so it is tried ten times
    for signum in (signal.SIGINT, signal.SIGTERM) * 5:
        assert_interrupted(*interrupt(evaluate, lambda pid: len(children(pid)) >= 2, signum), tmp_path)
    r = subprocess.run(evaluate, capture_output=True, text=True)
    assert r.returncode == 0 and (scored / "summary.csv").is_file(), r.stderr
