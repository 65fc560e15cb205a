"""Errors a user can act on, and the one boundary every command goes through.

`S5Error` is raised for bad input or a bad state of a folder; its message names the file, key or
path and what is wrong. `cli(main)` runs a runner's `main(argv)` and ends it in one of four ways:

- an `S5Error`, or an OSError (a full disk, a refused permission, a missing file: the system's
  words and the path), becomes `error: <message>` on stderr and exit status 2;
- Ctrl-C or SIGTERM (common/interrupt.py) becomes `interrupted` and exit status 130, once every
  temporary file and lock of the command is removed;
- any other exception is a bug in s5bench, never dressed as the user's mistake: its traceback is
  shown, then one line that says so and what to report, and exit status 1.

`S5BENCH_TRACEBACK=1` lets the traceback of a named error through (for debugging the harness).
"""
from __future__ import annotations

import errno
import os
import sys
import traceback
from typing import Callable

from .interrupt import EXIT_INTERRUPTED, stop_on_signals

# Exit status of a refused command (argparse uses the same for bad arguments).
EXIT_REFUSED = 2
# Exit status of a bug in s5bench (an exception that is not a named error).
EXIT_BUG = 1
BUG_LINE = ("bug: this is a bug in s5bench, not a mistake in your input; please report it with the command "
            "line, the traceback above and your checkout's commit (git rev-parse HEAD)")


class S5Error(ValueError):
    """A user-facing error: the message names the file, key or path and the problem.

    A ValueError, so code that already handles bad values (and tests written for them) keeps working;
    the boundary, though, catches S5Error only: a plain ValueError is a bug.
    """


def os_error_message(err: OSError) -> str:
    """A one-line message for an OSError that says what happened in words and names the path.

    Args:
        err: the error raised by the operating system (open, write, rename, mkdir, …).

    Returns:
        e.g. "disk full (no space left on device) while writing /out/a.wav".
    """
    where = " -> ".join(str(p) for p in (err.filename, err.filename2) if p is not None)
    if err.errno == errno.ENOSPC:
        what = "disk full (no space left on device)"
    elif err.errno == errno.EDQUOT:
        what = "disk quota exceeded"
    elif err.errno in (errno.EACCES, errno.EPERM):
        what = "permission denied"
    elif err.errno == errno.EROFS:
        what = "read-only file system"
    elif err.errno == errno.ELOOP:
        what = "symbolic link loop"
    elif isinstance(err, FileNotFoundError) and where:
        what = "not found"
    else:
        # Our own errors (FileNotFoundError(message)) carry no errno: their text is the message.
        if err.errno is None:
            return str(err)
        what = err.strerror or str(err)
    return f"{what}: {where}" if where else f"{what} ({err})"


def cli(main: Callable[..., int | None], argv: list[str] | None = None) -> int:
    """Run a command's `main(argv)` and return its exit status: a user-facing error becomes
    `error: <message>` on stderr and status 2, Ctrl-C or SIGTERM `interrupted` and 130, any other
    exception its traceback, the line `BUG_LINE` and status 1.

    Args:
        main: a runner's `main(argv) -> int | None`.
        argv: its arguments (None: sys.argv[1:], as argparse reads them).

    Returns:
        main's status (0 when it returns None); 2 after an S5Error or OSError; 130 after SIGINT or
        SIGTERM; 1 after any other exception.
    """
    try:
        with stop_on_signals():
            return main(argv) or 0
    except (S5Error, OSError) as err:
        if os.environ.get("S5BENCH_TRACEBACK"):
            raise
        message = os_error_message(err) if isinstance(err, OSError) else str(err)
        print(f"error: {message}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (interrupt.Interrupted): the `with` blocks have cleaned up
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception:
        traceback.print_exc()
        print(BUG_LINE, file=sys.stderr)
        return EXIT_BUG


def command(run: Callable[..., int | None]) -> Callable[..., int]:
    """A runner's `main(argv=None) -> int`: its body `run` behind the one boundary (`cli`).

    Args:
        run: the runner's body, `run(argv) -> int | None`, free to raise user-facing errors.

    Returns:
        `main(argv=None)`, returning `run`'s status, or `cli`'s after an error, a signal or a bug.
    """

    def main(argv: list[str] | None = None) -> int:
        return cli(run, argv)

    main.__doc__ = run.__doc__
    return main
