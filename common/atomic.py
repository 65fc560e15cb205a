"""The one atomic writer: a file is written under a unique temporary name beside its target (so
concurrent writers never share one), given the usual permissions (mkstemp's are 0600), optionally
fsynced, then renamed over the target; on failure the temporary file is removed. A folder is
written the same way (`atomic_folder`): built beside its target, then swapped in."""
from __future__ import annotations

import errno
import glob
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

# Every temporary file starts so: readers skip such names, the next run of the job removes stale ones.
TMP_PREFIX = ".tmp_"


def is_temporary(path) -> bool:
    """Whether `path` names a temporary file of the atomic writer (never a result)."""
    return Path(path).name.startswith(TMP_PREFIX)


def usual_mode(folder: bool = False) -> int:
    """The mode a plain open() would give a new file (0o666 less the umask), or mkdir() a new folder (0o777)."""
    mask = os.umask(0)
    os.umask(mask)
    return (0o777 if folder else 0o666) & ~mask


def staging_path(path) -> Path:
    """A new, empty, closed temporary file beside `path` (its folder is made), with the usual mode."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TMP_PREFIX, suffix=path.suffix)
    os.fchmod(fd, usual_mode())
    os.close(fd)
    return Path(tmp)


def named(err: OSError, path) -> OSError:
    """The same OSError with the file it concerns, when the system gave none (a write that fails
    with ENOSPC names no file)."""
    if err.filename is not None or err.errno is None:
        return err
    return type(err)(err.errno, err.strerror, str(path))


@contextmanager
def atomic_path(path, fsync: bool = False):
    """`with atomic_path(target) as tmp: write(tmp)`: the target appears complete or not at all.
    An OSError (a full disk, a refused permission) names the target."""
    path = Path(path)
    tmp = staging_path(path)
    try:
        yield tmp
        if fsync:
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise named(err, path) from err
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------- folders

RENAME_EXCHANGE = 2  # linux/fs.h: swap two existing paths in one step
AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths with one renameat2(RENAME_EXCHANGE) call; False where the system or the
    file system does not offer it (not Linux, an old C library, a file system without the flag)."""
    import ctypes

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    if renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this machine (signal 0 probes without sending)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _stage_name(path: Path, what: str) -> str:
    return f".{path.name}.{what}_{os.getpid()}_"


def remove_stale_folders(path) -> list[Path]:
    """Remove the staging folders beside `path` that an interrupted `atomic_folder` left behind, those
    whose writer process no longer runs (a running writer's, this process's included, are kept).

    Args:
        path: the target folder of `atomic_folder`.

    Returns:
        The folders removed.
    """
    path = Path(path)
    removed = []
    for what in ("tmp", "old"):
        for p in path.parent.glob(f".{glob.escape(path.name)}.{what}_*_*"):
            pid = p.name[len(f".{path.name}.{what}_"):].split("_", 1)[0]
            if p.is_dir() and pid.isdigit() and not pid_alive(int(pid)):
                shutil.rmtree(p, ignore_errors=True)
                removed.append(p)
    return removed


def swap_folder(new, target) -> None:
    """Put folder `new` at `target`, replacing what is there, so that a reader finds the old folder or
    the new one, whole. Where the system can (Linux), the two are exchanged in one step and there is no
    moment without `target`; elsewhere the old one is first renamed aside. The old folder is removed.

    Args:
        new: a complete folder on the same file system as `target`.
        target: the folder to replace (it need not exist).

    Raises:
        OSError: when a rename fails; `target` is then the old folder, as it was.
    """
    new, target = Path(new), Path(target)
    for _ in range(20):  # a concurrent writer may put its folder in place between two steps: try again
        if target.exists() and _exchange(new, target):
            shutil.rmtree(new, ignore_errors=True)  # `new` now holds the old folder
            return
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(dir=target.parent, prefix=_stage_name(target, "old")))
            try:
                os.replace(target, old)  # a folder may replace an empty one
            except FileNotFoundError:  # another writer moved it first
                old.rmdir()
                old = None
        try:
            os.rename(new, target)
        except OSError as err:
            if old is not None:
                if target.exists():  # another writer's folder came in between: it is the newer one
                    shutil.rmtree(old, ignore_errors=True)
                else:
                    os.replace(old, target)
            if err.errno in (errno.ENOTEMPTY, errno.EEXIST):
                continue
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return
    raise OSError(errno.EBUSY, "other writers keep replacing the folder", str(target))


@contextmanager
def atomic_folder(path):
    """`with atomic_folder(target) as tmp: write files under tmp`: the folder `target` is replaced by
    the new one, whole, when the block ends; if the block fails, `target` stays as it was and the
    staging folder is removed. The staging folder is a unique folder beside `target` named after it
    and this process, with the usual mode; ones left by a writer that was killed are removed first.

    Args:
        path: the folder to write.

    Yields:
        The empty staging folder to fill.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_folders(path)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=_stage_name(path, "tmp")))
    try:
        os.chmod(tmp, usual_mode(folder=True))  # mkdtemp's are 0700
        yield tmp
        swap_folder(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
def check_writable(folder) -> Path:
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
