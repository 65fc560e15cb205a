"""The atomic writer for folders (the report's): the new folder is built aside and renamed into
place whole; a failed write or rename leaves the old one; an interrupted writer's leftovers are
removed; writers that take turns under the report's lock leave one whole version; common/locks.py: of two
jobs that find one dead writer's lock, one takes it over."""
import errno
import json
import os
import socket
import subprocess
import sys
import threading

import pytest

from s5bench.common import atomic
from s5bench.common.atomic import TMP_PREFIX, atomic_folder
from s5bench.common.locks import exclusive, pid_alive


def write_version(folder, version: str, n: int = 5) -> None:
    for i in range(n):
        (folder / f"f{i}.txt").write_text(f"{version} {i}")
    (folder / "sub").mkdir()
    (folder / "sub" / "deep.txt").write_text(version)


def contents(folder) -> dict:
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_folder_is_written_then_replaced_whole(tmp_path):
    target = tmp_path / "report"
    with atomic_folder(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name == f"{TMP_PREFIX}report.new"
        assert not target.exists()  # nothing shows before the block ends
        write_version(tmp, "one")
    assert contents(target)["sub/deep.txt"] == "one" and len(contents(target)) == 6
    assert target.stat().st_mode & 0o777 == atomic.usual_mode(folder=True)
    with atomic_folder(target) as tmp:
        (tmp / "only.txt").write_text("two")
    assert contents(target) == {"only.txt": "two"}  # the old files are gone, not merged
    assert [p.name for p in tmp_path.iterdir()] == ["report"]


def test_a_failed_write_leaves_the_old_folder(tmp_path):
    target = tmp_path / "report"
    with atomic_folder(target) as tmp:
        write_version(tmp, "one")
    before = contents(target)
    with pytest.raises(RuntimeError):
        with atomic_folder(target) as tmp:
            write_version(tmp, "two")
            raise RuntimeError("disk full")
    assert contents(target) == before and [p.name for p in tmp_path.iterdir()] == ["report"]


def test_a_failed_rename_puts_the_old_folder_back(tmp_path, monkeypatch):
    target = tmp_path / "report"
    with atomic_folder(target) as tmp:
        write_version(tmp, "one")
    before = contents(target)
    rename = os.rename

    def no_space_for_the_new_one(src, dst):
        if str(src).endswith(".new"):
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        rename(src, dst)

    monkeypatch.setattr(atomic.os, "rename", no_space_for_the_new_one)
    with pytest.raises(OSError, match="No space left"):
        with atomic_folder(target) as tmp:
            write_version(tmp, "two")
    assert contents(target) == before and [p.name for p in tmp_path.iterdir()] == ["report"]


def test_an_interrupted_writers_leftovers_are_removed(tmp_path):
    for what in ("new", "old"):  # as a writer killed between its renames leaves them
        leftover = tmp_path / f"{TMP_PREFIX}report.{what}"
        leftover.mkdir()
        write_version(leftover, "left")
    (tmp_path / f"{TMP_PREFIX}other.new").mkdir()  # another folder's: not this writer's business
    with atomic_folder(tmp_path / "report") as tmp:
        assert contents(tmp) == {}
        (tmp / "a").write_text("a")
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{TMP_PREFIX}other.new", "report"]
    assert contents(tmp_path / "report") == {"a": "a"}


def test_writers_taking_turns_leave_one_whole_version(tmp_path):
    target = tmp_path / "report"
    errors = []

    def write(version):
        try:
            with exclusive(tmp_path), atomic_folder(target) as tmp:
                write_version(tmp, version, n=50)
        except BaseException as err:  # noqa: BLE001 (reported below)
            errors.append(err)

    threads = [threading.Thread(target=write, args=(v,)) for v in "abc"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    versions = {text.split()[0] for text in contents(target).values()}
    assert len(versions) == 1 and len(contents(target)) == 51
    assert [p.name for p in tmp_path.iterdir()] == ["report"]  # the folder locked itself: no lock file


def test_pid_alive():
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert pid_alive(os.getpid()) and not pid_alive(dead.pid)


def _take_over_slowly(folder, key, results):
    """A job that reads a dead writer's lock, pauses (another job reads it too), then tries to take it."""
    import json as json_
    import time as time_

    from s5bench.common import locks

    name = "_parse" if hasattr(locks, "_parse") else "_read"  # the reader of the lock's holder
    real = getattr(locks, name)

    def slow(arg):
        body = real(arg)
        time_.sleep(0.3)
        return body

    setattr(locks, name, slow)
    try:
        with locks.folder_lock(folder, key, "run folder") as owner:
            time_.sleep(0.5)
            results.put(("owner" if owner else "shared", json_.dumps(key)))
    except locks.FolderBusyError:
        results.put(("refused", json_.dumps(key)))


def test_two_jobs_finding_one_dead_lock_do_not_both_take_it(tmp_path):
    import multiprocessing

    out = tmp_path / "run"
    out.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (out / ".lock").write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(), "started": 0,
                                           "key": {"job": 0}}))
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    jobs = [ctx.Process(target=_take_over_slowly, args=(out, {"job": k}, results)) for k in (1, 2)]
    for j in jobs:
        j.start()
    for j in jobs:
        j.join(30)
    outcomes = sorted(results.get(timeout=5)[0] for _ in jobs)
    assert outcomes == ["owner", "refused"]  # before the flock both read the dead lock and both took it
    assert not (out / ".lock").exists()  # released by its owner
