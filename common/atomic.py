"""The one atomic writer: a file is written under a unique temporary name beside its target (so
concurrent writers never share one), given the usual permissions (mkstemp's are 0600), optionally
fsynced, then renamed over the target; on failure the temporary file is removed."""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

# Every temporary file starts so: readers skip such names, the next run of the job removes stale ones.
TMP_PREFIX = ".tmp_"


def is_temporary(path) -> bool:
    """Whether `path` names a temporary file of the atomic writer (never a result)."""
    return Path(path).name.startswith(TMP_PREFIX)


def usual_mode() -> int:
    """The mode a plain open() would give a new file: 0o666 less the umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


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
