"""Ctrl-C and SIGTERM end a command cleanly: in the command's process the first one becomes an
`Interrupted` exception (a KeyboardInterrupt), so every `with` block and `finally` on the way out
removes its temporary files and releases its lock, and the error boundary (common/errors.py)
prints `interrupted` and exits with status 130. Further signals while that cleanup runs are not
let in (a second Ctrl-C would leave the cleanup half done), unless it is stuck: one that comes
`STUCK_SECONDS` after the first ends the process at once.

Process pools are made by `worker_pool`, whose workers call `quiet_worker()` first: they leave the
command's process group, so Ctrl-C and a group's SIGTERM reach the parent only, which stops the
pool; the pool's SIGTERM then unwinds each worker the same way (its temporary files removed) and
ends it without a traceback.

`signals_deferred()` holds a signal back for the few steps that must not be cut (a temporary file
made but not yet recorded for removal, a group of renames): it takes effect when they are done.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Generator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from multiprocessing.pool import Pool

# The exit status of a command ended by a signal it was asked to stop with (128 + SIGINT, as a shell's).
EXIT_INTERRUPTED = 130
# A cleanup still running this long after the first signal is stuck: the next signal ends the process.
STUCK_SECONDS = 5.0
SIGNALS = (signal.SIGINT, signal.SIGTERM)
# A pool's worker still alive this long after the pool was told to stop is killed.
TERMINATE_SECONDS = 3.0


_POOLS: list[Pool] = []  # the pools `worker_pool` has open in this process


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
            _kill_pool_workers()
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

    The worker leaves the command's process group for one of its own: Ctrl-C (which the terminal
    sends to the whole group) and a scheduler's SIGTERM to the group reach the parent only, which
    stops the pool. A worker that such a signal ended at any point could die holding the pool's
    task-queue lock, and `Pool.terminate()` would then wait for that lock forever (seen: about one
    interrupted run in three hung). The pool's own SIGTERM, sent once the parent holds that lock,
    raises SystemExit, so the worker's temporary files are removed on the way out and it ends
    without a traceback.
    """
    # first: a worker forked inside the parent's `signals_deferred` (worker_pool makes its pool
    # there) inherits the parent's count of open blocks, which would hold its SIGTERM back for good
    _DEFERRAL.depth, _DEFERRAL.pending = 0, None
    os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_worker)


@contextmanager
def worker_pool(processes: int, initializer: Callable[..., object],
                initargs: tuple[object, ...] = ()) -> Generator[Pool, None, None]:
    """A process pool (forked where the OS can fork) that a signal never leaves running.

    The pool is made with signals held back: a Ctrl-C or SIGTERM that lands while its workers are
    being forked (inside `Pool()`, where a lost pool object would leave its worker handler starting
    workers nobody stops) takes effect once the pool exists. On the way out, normal or not, the pool
    is terminated (its worker handler first, then every worker) and waited for.

    Args:
        processes: the number of worker processes.
        initializer: called first in each worker; it should call `quiet_worker()` first.
        initargs: the initializer's arguments.

    Yields:
        The running pool.
    """
    from multiprocessing import get_all_start_methods, get_context  # only here: 25 ms to import

    # fork where the OS has it: workers start at once instead of re-importing everything
    method = "fork" if "fork" in get_all_start_methods() else "spawn"
    pool: Pool | None = None
    try:
        with signals_deferred():
            pool = get_context(method).Pool(processes, initializer=initializer, initargs=initargs)
            _POOLS.append(pool)
        yield pool
    finally:
        if pool is not None:
            # a worker that missed the pool's SIGTERM (seen about once in 50 interrupted runs) would
            # keep `terminate` waiting for it: after TERMINATE_SECONDS it is killed
            watchdog = threading.Timer(TERMINATE_SECONDS, _kill_workers, (pool,))
            watchdog.start()
            try:
                pool.terminate()
                pool.join()
            finally:
                watchdog.cancel()
                _POOLS.remove(pool)


def _kill_workers(pool: Pool) -> None:
    """SIGKILL to a pool's workers still alive (they are in process groups of their own, so nothing
    else ends them). Safe once the pool is terminating: the parent then holds the task queue's lock,
    so no worker dies holding it."""
    for worker in getattr(pool, "_pool", []):  # the pool's list of worker processes (CPython's)
        if worker.pid is not None:
            try:
                os.kill(worker.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _kill_pool_workers() -> None:
    """`_kill_workers` for every pool still open (when the command gives up on a stuck cleanup)."""
    for pool in _POOLS:
        _kill_workers(pool)
