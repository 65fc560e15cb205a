"""The one atomic writer: a file is written under a unique temporary name beside its target (so
concurrent writers never share one), given the usual permissions (mkstemp's are 0600), optionally
fsynced, then renamed over the target; on failure the temporary file is removed. A folder is
written the same way (`atomic_folder`): built beside its target, then renamed into place."""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from .interrupt import signals_deferred

if TYPE_CHECKING:
    from _typeshed import StrPath  # str | os.PathLike[str]

# Every temporary file starts so: readers skip such names, the next run of the job removes stale ones.
TMP_PREFIX = ".tmp_"


def is_temporary(path: StrPath) -> bool:
    """Whether `path` names a temporary file of the atomic writer (never a result).

    Args:
        path: a file path; only its name is looked at.

    Returns:
        True when the name starts with `TMP_PREFIX`.
    """
    return Path(path).name.startswith(TMP_PREFIX)


def usual_mode(folder: bool = False) -> int:
    """The mode a plain open() would give a new file (0o666 less the umask), or mkdir() a new folder (0o777).

    Args:
        folder: the mode of a new folder instead of a new file.

    Returns:
        The permission bits, e.g. 0o644 under a umask of 0o022.
    """
    mask = os.umask(0)
    os.umask(mask)
    return (0o777 if folder else 0o666) & ~mask


def staging_path(path: StrPath) -> Path:
    """A new, empty, closed temporary file beside `path` (its folder is made), with the usual mode.

    Args:
        path: the target the temporary file stands in for; its suffix is kept.

    Returns:
        The temporary file, `<folder>/.tmp_<random><suffix>`.

    Raises:
        OSError: the folder cannot be made or the file cannot be created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TMP_PREFIX, suffix=path.suffix)
    os.fchmod(fd, usual_mode())
    os.close(fd)
    return Path(tmp)


def named(err: OSError, path: StrPath) -> OSError:
    """The same OSError with the file it concerns, when the system gave none (a write that fails
    with ENOSPC names no file).

    Args:
        err: the error raised.
        path: the file it concerns.

    Returns:
        `err` itself when it names a file or has no errno, else a new error of its type naming `path`.
    """
    if err.filename is not None or err.errno is None:
        return err
    return type(err)(err.errno, err.strerror, str(path))


@contextmanager
def atomic_path(path: StrPath, fsync: bool = False) -> Generator[Path, None, None]:
    """`with atomic_path(target) as tmp: write(tmp)`: the target appears complete or not at all.

    Args:
        path: the target file.
        fsync: flush the temporary file to disk before the rename.

    Yields:
        The temporary file to write (it exists, empty); renamed over `path` when the block ends.

    Raises:
        OSError: the block, the fsync or the rename failed (a full disk, a refused permission), naming
            the target; the temporary file is removed.
    """
    path = Path(path)
    tmp: Path | None = None
    try:
        with signals_deferred():  # a Ctrl-C between the making and the `try` would leave the file behind
            tmp = staging_path(path)
        yield tmp
        if fsync:
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as err:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise named(err, path) from err
    except BaseException:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------- folders

@contextmanager
def atomic_folder(path: StrPath) -> Generator[Path, None, None]:
    """`with atomic_folder(target) as tmp: write files under tmp`: the folder is built in a temporary
    folder beside `target` (`.tmp_<name>.new`), then the old `target` is renamed aside and the new one
    renamed into place; the old one is removed. If the block or the rename fails, `target` stays as
    it was. The temporary folders an interrupted writer left are removed on entry, so the writers of
    one target must take turns: hold a lock around the block (reporting/report.py holds
    common/locks.py's `exclusive`).

    Args:
        path: the folder to write.

    Yields:
        The empty temporary folder to fill.

    Raises:
        OSError: a rename failed (`target` is then the old folder, as it was).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    new, old = (path.parent / f"{TMP_PREFIX}{path.name}.{what}" for what in ("new", "old"))
    for leftover in (new, old):  # an interrupted writer's
        shutil.rmtree(leftover, ignore_errors=True)
    try:
        new.mkdir()
        yield new
        with signals_deferred():  # never cut between the two renames: `target` would be missing
            if path.exists():
                os.rename(path, old)
            try:
                os.rename(new, path)
            except OSError:
                if old.exists():
                    os.rename(old, path)
                raise
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


def check_writable(folder: StrPath) -> Path:
    """Make `folder` if needed and prove a file can be written in it, before a long job starts.

    Args:
        folder: the output folder of a job.

    Returns:
        The folder, as a Path.

    Raises:
        OSError: it cannot be made or written (permission, read-only file system, disk full), naming it.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        staging_path(folder / "probe").unlink()
    except OSError as err:
        raise type(err)(err.errno, err.strerror, str(folder)) from err
    return folder
