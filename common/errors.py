"""Errors a user can act on, and the one boundary every command goes through.

`S5Error` is raised for bad input or a bad state of a folder; its message names the file, key or
path and what is wrong. `cli(main)` runs a runner's `main(argv)` and turns such an error (and an
OSError such as a full disk or a permission refusal, a ValueError or FileNotFoundError with a
message made for the user) into `error: <message>` on stderr and exit status 2, instead of a
traceback. `S5BENCH_TRACEBACK=1` lets the traceback through (for debugging the harness itself).
"""
from __future__ import annotations

import errno
import os
import sys
from typing import Callable

# Exit status of a refused command (argparse uses the same for bad arguments).
EXIT_REFUSED = 2


class S5Error(ValueError):
    """A user-facing error: the message names the file, key or path and the problem.

    A ValueError, so code that already handles bad values (and tests written for them) keeps working.
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
    """Run a command's `main(argv)` and return its exit status; a user-facing error becomes
    `error: <message>` on stderr and status 2.

    Args:
        main: a runner's `main(argv) -> int | None`.
        argv: its arguments (None: sys.argv[1:], as argparse reads them).

    Returns:
        main's status (0 when it returns None), or 2 after an S5Error, ValueError or OSError.
    """
    try:
        return main(argv) or 0
    except (S5Error, ValueError, OSError) as err:
        if os.environ.get("S5BENCH_TRACEBACK"):
            raise
        message = os_error_message(err) if isinstance(err, OSError) else str(err)
        print(f"error: {message}", file=sys.stderr)
        return EXIT_REFUSED


def command(run: Callable[..., int | None]) -> Callable[..., int]:
    """A runner's `main(argv=None) -> int`: its body `run` behind the one boundary (`cli`).

    Args:
        run: the runner's body, `run(argv) -> int | None`, free to raise user-facing errors.

    Returns:
        `main(argv=None)`, returning `run`'s status or 2 after an error it names.
    """

    def main(argv: list[str] | None = None) -> int:
        return cli(run, argv)

    main.__doc__ = run.__doc__
    return main
