"""common/errors.py and common/interrupt.py, the error boundary (issue 41): a named error (S5Error, an
OSError in words: a full disk, a refused permission) ends a command with `error: …` and exit 2; any
other exception is a bug in s5bench, shown with its traceback, one line saying so and exit 1; Ctrl-C
and SIGTERM end it with `interrupted` and exit 130."""
import errno
import os
import signal
from pathlib import Path

import pytest
from conftest import evaluate_args

from s5bench.common.errors import BUG_LINE, S5Error, cli
from s5bench.common.interrupt import Interrupted, signals_deferred, stop_on_signals
from s5bench.systems import build_system
from s5bench.systems.run import RunOptions, run_system

QUIET = RunOptions(progress=False)


def test_a_named_error_is_refused_with_exit_2(capsys):
    def refused(argv):
        raise S5Error("data config x.yaml: scene.sr: a positive whole number of Hz is needed, not 'fast'")

    assert cli(refused, []) == 2
    assert capsys.readouterr().err == ("error: data config x.yaml: scene.sr: a positive whole number of Hz is "
                                       "needed, not 'fast'\n")


@pytest.mark.parametrize("bug", [ValueError("could not convert string to float: 'x'"), KeyError("n_ref"),
                                 TypeError("'NoneType' object is not iterable"), ZeroDivisionError("division")])
def test_any_other_exception_is_a_bug_with_its_traceback_and_exit_1(capsys, bug):
    def buggy(argv):
        raise bug

    assert cli(buggy, []) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert f"{type(bug).__name__}: " in err and "in buggy" in err  # the frame that raised it is shown
    assert err.endswith(BUG_LINE + "\n") and "bug in s5bench" in BUG_LINE and "report" in BUG_LINE
    assert "\nerror: " not in err  # never dressed as a user's mistake


def test_a_bug_is_not_dressed_even_with_the_traceback_switch(capsys, monkeypatch):
    monkeypatch.setenv("S5BENCH_TRACEBACK", "1")
    assert cli(lambda argv: int("x"), []) == 1
    assert capsys.readouterr().err.endswith(BUG_LINE + "\n")
    with pytest.raises(S5Error):  # the switch lets a named error's traceback through, for debugging
        cli(lambda argv: (_ for _ in ()).throw(S5Error("x")), [])


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_ends_the_command_with_interrupted_and_130_after_its_cleanup(capsys, signum):
    cleaned = []

    def long_job(argv):
        try:
            os.kill(os.getpid(), signum)
            for _ in range(10**8):  # the handler raises at the next bytecode
                pass
        finally:
            cleaned.append(True)
        return 0

    before = signal.getsignal(signal.SIGTERM)
    assert cli(long_job, []) == 130
    assert capsys.readouterr().err == "interrupted\n"
    assert cleaned == [True]
    assert signal.getsignal(signal.SIGTERM) is before  # the handlers of the caller are put back


def test_a_second_signal_does_not_break_the_cleanup_of_the_first():
    steps = []
    with pytest.raises(Interrupted) as caught:
        with stop_on_signals():
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                for _ in range(10**8):
                    pass
            finally:
                os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C pressed again while the files are removed
                for _ in range(1000):
                    pass
                steps.append("cleaned")
    assert caught.value.signum == signal.SIGTERM and steps == ["cleaned"]


def test_a_signal_inside_a_deferred_step_takes_effect_at_its_end():
    steps = []
    with pytest.raises(Interrupted):
        with stop_on_signals():
            with signals_deferred():
                os.kill(os.getpid(), signal.SIGINT)
                for _ in range(1000):
                    pass
                steps.append("the step ran to its end")
            steps.append("not reached")
    assert steps == ["the step ran to its end"]


def test_the_boundary_names_disk_full_and_permission(capsys):
    def full(argv):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/out/a.wav")

    def denied(argv):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), "/out")

    assert cli(full, []) == 2
    assert capsys.readouterr().err == "error: disk full (no space left on device): /out/a.wav\n"
    assert cli(denied, []) == 2
    assert capsys.readouterr().err == "error: permission denied: /out\n"
    assert cli(lambda argv: None, []) == 0


def test_a_full_disk_is_a_named_error_with_exit_2(tiny_test_set, tmp_path, monkeypatch, capsys):
    from s5bench.runners import evaluate
    from s5bench.runners import run_system as run_runner

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # what write() says when no space is left

    def fill_the_disk():
        monkeypatch.setattr(Path, "write_text", full_disk)
        monkeypatch.setattr("scipy.io.wavfile.write", full_disk)  # imported where a float file is written

    fill_the_disk()
    status = cli(run_runner.main, ["--system", "oracle_sources", "--data", str(tiny_test_set), "--out",
                                   str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("error: disk full (no space left on device): ") and str(tmp_path) in err
    assert not list((tmp_path / "out").rglob(".tmp_*"))  # the failed write left nothing behind
    monkeypatch.undo()
    run_system(build_system("oracle_sources"), tiny_test_set, tmp_path / "ok", QUIET)
    fill_the_disk()
    status = cli(evaluate.main, evaluate_args(tiny_test_set, tmp_path / "ok" / "final" / "estimate", tmp_path / "r"))
    assert status == 2 and "disk full" in capsys.readouterr().err
