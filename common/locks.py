"""A folder claimed by the job writing it: `<folder>/.lock` holds the writer's pid, host and the
key of its arguments. A second writer with other arguments is refused while the first lives; one
with the same arguments (a torchrun rank, the same command started twice) shares the folder; a
lock whose writer is dead is taken over. The owner removes the temporary files (`.tmp_*`) that
dead writers left, never those of a live one."""
from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Generator, Iterable, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypedDict, cast

from .atomic import TMP_PREFIX
from .errors import S5Error

if TYPE_CHECKING:
    from _typeshed import StrPath  # str | os.PathLike[str]

LOCK = ".lock"


class _Holder(TypedDict):
    """What a lock file holds (as JSON): its writer and the key of its arguments."""

    pid: int
    host: str
    started: float  # time.time() when the lock was taken
    key: Any  # the job's key, as it reads back from JSON


class FolderBusyError(S5Error):
    """The folder is being written by another live job with other arguments."""


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this machine (signal 0 probes without sending).

    Args:
        pid: a process id.

    Returns:
        False when no such process exists; True otherwise (another user's process included).
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _live(holder: Mapping[str, Any]) -> bool:
    pid = holder.get("pid")
    return isinstance(pid, int) and holder.get("host") == socket.gethostname() and pid_alive(pid)


def _parse(text: str) -> dict[str, Any]:
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        return {}  # empty or garbage: no live writer can be proven
    return cast("dict[str, Any]", body) if isinstance(body, dict) else {}  # a JSON object's keys are strings


@contextmanager
def _locked_file(path: Path, create: bool = True) -> Generator[TextIO | None, None, None]:
    """The lock file `path` opened (made if missing) and held with flock, so that reading its holder
    and replacing it is one step for one process at a time; None when the file was unlinked (its
    owner released it) between the open and the flock: the caller tries again."""
    import fcntl  # POSIX; the project's runners run on Linux and macOS

    fd = os.open(path, os.O_RDWR | (os.O_CREAT if create else 0), 0o644)
    with os.fdopen(fd, "r+") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            try:
                same = os.stat(path).st_ino == os.fstat(f.fileno()).st_ino
            except FileNotFoundError:
                same = False
            yield f if same else None
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


@contextmanager
def folder_lock(folder: StrPath, key: Mapping[str, Any], what: str,
                clean: Sequence[str] = ()) -> Generator[bool, None, None]:
    """Hold `folder` for one job while the block runs.

    Reading the lock's holder and taking a dead writer's lock over happen under flock on the lock
    file, so two jobs that find the same dead lock cannot both take it.

    Args:
        folder: the folder written (made if missing).
        key: what identifies the job's arguments (JSON-serialisable); an equal key may share.
        what: how the folder is named in messages ("data folder", "run folder").
        clean: sub-folders (relative) whose stale temporary files the owner removes on entry.

    Yields:
        True when this process owns the lock (and cleaned), False when it shares a live one.

    Raises:
        FolderBusyError: a live writer with another key holds the folder.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK
    key = json.loads(json.dumps(key, sort_keys=True, default=str))
    body: _Holder = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time(), "key": key}
    owner: bool | None = None
    for _ in range(50):  # the lock file unlinked by its releasing owner under us: open it again
        with _locked_file(path) as f:
            if f is None:
                continue
            holder = _parse(f.read())
            if holder and _live(holder):
                if holder.get("pid") == os.getpid() or holder.get("key") == key:
                    owner = False  # the same job: share
                    break
                theirs: Mapping[str, Any] = holder.get("key") or {}
                differs = [k for k in sorted(set(key) | set(theirs)) if key.get(k) != theirs.get(k)]
                raise FolderBusyError(f"{what} {folder} is being written by another job (pid {holder['pid']}, "
                                      f"see {path}) with other arguments ({', '.join(differs) or 'unknown'} "
                                      "differ): wait for it to finish or write to another folder")
            f.seek(0)  # free, or a dead writer's lock: taken over
            f.truncate()
            f.write(json.dumps(body))
            f.flush()
            owner = True
            break
    if owner is None:
        raise FolderBusyError(f"{what} {folder}: its lock {path} could not be taken (other jobs keep taking it); "
                              "try again")
    if owner:
        remove_stale_temps([folder / sub for sub in clean] + [folder], before=body["started"])
    try:
        yield owner
    finally:
        if owner:
            _release(path)


def _release(path: Path) -> None:
    """Remove the lock file if it is still this process's (under its flock, like the takeover)."""
    for _ in range(50):
        try:
            with _locked_file(path, create=False) as f:
                if f is None:
                    continue
                if _parse(f.read()).get("pid") == os.getpid():
                    path.unlink(missing_ok=True)
                return
        except FileNotFoundError:  # already gone
            return


@contextmanager
def exclusive(path: StrPath) -> Generator[None, None, None]:
    """Hold an exclusive lock on `path` while the block runs; others wait. For a short
    read-modify-write of a file several jobs update (e.g. a results folder's summary.csv), or a
    folder rewritten whole (the report's). The system releases the lock when its holder dies, so it
    never goes stale.

    Args:
        path: a lock file (made if missing), or an existing folder, which is locked itself (no lock
            file is left in it).

    Yields:
        Nothing; the lock is held until the block ends.
    """
    import fcntl  # POSIX; the project's runners run on Linux and macOS

    path = Path(path)
    if path.is_dir():
        fd = os.open(path, os.O_RDONLY)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def remove_stale_temps(folders: Iterable[StrPath], before: float) -> list[Path]:
    """Remove the `.tmp_*` files in `folders` last written before `before` (a time.time()):
    left by writers that died; a live writer's are newer than the lock its owner just took.

    Args:
        folders: the folders cleaned (not their sub-folders); a missing one is skipped.
        before: the cut-off, in seconds since the epoch: files modified earlier are removed.

    Returns:
        The files removed.
    """
    removed: list[Path] = []
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            continue
        for f in folder.glob(f"{TMP_PREFIX}*"):
            try:
                if f.is_file() and f.stat().st_mtime < before:
                    f.unlink()
                    removed.append(f)
            except FileNotFoundError:
                pass
    return removed
