"""Ctrl-C and SIGTERM end a command cleanly: in the command's process the first one becomes an
`Interrupted` exception (a KeyboardInterrupt), so every `with` block and `finally` on the way out
removes its temporary files and releases its lock, and the error boundary (common/errors.py)
prints `interrupted` and exits with status 130. Further signals while that cleanup runs are not
let in (a second Ctrl-C would leave the cleanup half done), unless it is stuck: one that comes
`STUCK_SECONDS` after the first ends the process at once.

Worker processes (a process pool's) call `quiet_worker()` first: Ctrl-C, which the terminal sends
to the whole process group, is left to the parent (it stops the pool), and SIGTERM, which the pool
sends its workers when it stops, unwinds the worker the same way (its temporary files removed)
and ends it without a traceback.

`signals_deferred()` holds a signal back for the few steps that must not be cut (a temporary file
made but not yet recorded for removal, a group of renames): it takes effect when they are done.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Generator
from contextlib import contextmanager
from types import FrameType

# The exit status of a command ended by a signal it was asked to stop with (128 + SIGINT, as a shell's).
EXIT_INTERRUPTED = 130
# A cleanup still running this long after the first signal is stuck: the next signal ends the process.
STUCK_SECONDS = 5.0
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Deferral:
    """The main thread's `signals_deferred` blocks: how deep, and the signal held back (if any)."""

    depth = 0
    pending: int | None = None


_DEFERRAL = _Deferral()


def _held_back(signum: int) -> bool:
    """Whether a signal arrives inside `signals_deferred` (then it is kept for the block's end)."""
    if _DEFERRAL.depth:
        _DEFERRAL.pending = signum
        return True
    return False


@contextmanager
def signals_deferred() -> Generator[None, None, None]:
    """While the block runs, a SIGINT or SIGTERM handled by this module waits; at its end it takes
    effect (raises) as if it had just arrived. For steps that leave a file behind when cut half-way.

    Yields:
        Nothing.
    """
    if threading.current_thread() is not threading.main_thread():  # handlers run in the main thread only
        yield
        return
    _DEFERRAL.depth += 1
    try:
        yield
    finally:
        _DEFERRAL.depth -= 1
        if not _DEFERRAL.depth and _DEFERRAL.pending is not None:
            signum, _DEFERRAL.pending = _DEFERRAL.pending, None
            handler = signal.getsignal(signum)
            if callable(handler):
                handler(signum, None)


class Interrupted(KeyboardInterrupt):
    """The command was asked to stop (SIGINT or SIGTERM); a KeyboardInterrupt, so code that already
    treats Ctrl-C treats SIGTERM the same.

    Args:
        signum: the signal received (signal.SIGINT or signal.SIGTERM); its name is the message.
    """

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextmanager
def stop_on_signals() -> Generator[None, None, None]:
    """While the block runs, SIGINT and SIGTERM raise `Interrupted` in the main thread, once; the
    handlers before are put back when it ends. Outside the main thread (where Python lets no handler
    be set) the block runs as it is.

    Yields:
        Nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    owner = os.getpid()
    first: list[float] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        if os.getpid() != owner:  # a child forked before it set its own handlers: end it quietly
            os._exit(EXIT_INTERRUPTED)
        if _held_back(signum):
            return
        if not first:
            first.append(time.monotonic())
            raise Interrupted(signum)
        if time.monotonic() - first[0] >= STUCK_SECONDS:  # the cleanup is stuck: give up on it
            print("interrupted", file=sys.stderr, flush=True)
            os._exit(EXIT_INTERRUPTED)
        # otherwise: the cleanup of the first signal is running; it ends the command

    before = {s: signal.signal(s, handler) for s in SIGNALS}
    try:
        yield
    finally:
        for s, h in before.items():
            signal.signal(s, h)


def _exit_worker(signum: int, frame: FrameType | None) -> None:
    if not _held_back(signum):
        raise SystemExit(EXIT_INTERRUPTED)  # unwinds the worker's `with` blocks; no traceback


def quiet_worker() -> None:
    """Signal handling for a process pool's worker (call it first in the pool's initializer).

    SIGINT is ignored: the terminal sends Ctrl-C to the whole group and the parent stops the
    pool. SIGTERM (what the pool sends its workers when it stops) raises SystemExit, so the
    worker's temporary files are removed on the way out and it ends without a traceback.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_worker)
