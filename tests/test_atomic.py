"""The one atomic-write mechanism, for folders: a reader finds the old folder or the new one, whole;
a failed write leaves the old one; an interrupted writer's leftovers are removed, a running one's kept."""
import errno
import os
import subprocess
import sys
import threading

import pytest

from s5bench.common import atomic
from s5bench.common.atomic import atomic_folder, remove_stale_folders, swap_folder


def write_version(folder, version: str, n: int = 5) -> None:
    for i in range(n):
        (folder / f"f{i}.txt").write_text(f"{version} {i}")
    (folder / "sub").mkdir()
    (folder / "sub" / "deep.txt").write_text(version)


def contents(folder) -> dict:
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(params=["exchange", "two renames"])
def way(request, monkeypatch):
    """Both ways of swapping: renameat2's exchange (Linux) and the portable fallback."""
    if request.param == "two renames":
        monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    return request.param


def test_a_folder_is_written_then_replaced_whole(tmp_path, way):
    target = tmp_path / "report"
    with atomic_folder(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(f".report.tmp_{os.getpid()}_")
        assert not target.exists()  # nothing shows before the block ends
        write_version(tmp, "one")
    assert contents(target) == contents(tmp_path / "report")
    assert contents(target)["sub/deep.txt"] == "one" and len(contents(target)) == 6
    assert target.stat().st_mode & 0o777 == atomic.usual_mode(folder=True)
    with atomic_folder(target) as tmp:
        (tmp / "only.txt").write_text("two")
    assert contents(target) == {"only.txt": "two"}  # the old files are gone, not merged
    assert [p.name for p in tmp_path.iterdir()] == ["report"]


def test_a_failed_write_leaves_the_old_folder(tmp_path, way):
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
    monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    target = tmp_path / "report"
    with atomic_folder(target) as tmp:
        write_version(tmp, "one")
    before = contents(target)

    def no_space(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))

    monkeypatch.setattr(atomic.os, "rename", no_space)
    with pytest.raises(OSError, match="No space left"):
        with atomic_folder(target) as tmp:
            write_version(tmp, "two")
    assert contents(target) == before and [p.name for p in tmp_path.iterdir()] == ["report"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="renameat2's exchange is Linux's")
def test_the_exchange_leaves_no_moment_without_the_folder(tmp_path):
    target = tmp_path / "report"
    with atomic_folder(target) as tmp:
        write_version(tmp, "v0")
    seen, stop = [], threading.Event()

    def reader():
        while not stop.is_set():
            try:
                seen.append((target / "sub" / "deep.txt").read_text())
            except FileNotFoundError:
                seen.append(None)

    t = threading.Thread(target=reader)
    t.start()
    try:
        for i in range(1, 40):
            with atomic_folder(target) as tmp:
                write_version(tmp, f"v{i}")
    finally:
        stop.set()
        t.join()
    assert seen and None not in seen
    assert contents(target)["f0.txt"] == "v39 0"


def test_concurrent_writers_leave_one_whole_version(tmp_path, way):
    target = tmp_path / "report"
    barrier = threading.Barrier(3)
    errors = []

    def write(version):
        try:
            with atomic_folder(target) as tmp:
                write_version(tmp, version, n=50)
                barrier.wait()
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
    assert [p.name for p in tmp_path.iterdir()] == ["report"]


def test_an_interrupted_writers_leftovers_are_removed_a_running_ones_kept(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stale = [tmp_path / f".report.tmp_{dead.pid}_x1", tmp_path / f".report.old_{dead.pid}_x2"]
        kept = [tmp_path / f".report.tmp_{alive.pid}_x3", tmp_path / f".report.tmp_{os.getpid()}_x4",
                tmp_path / f".other.tmp_{dead.pid}_x5", tmp_path / f".report.tmp_{dead.pid}"]
        for p in stale + kept:
            write_version(p.parent / p.name if p.mkdir() is None else p, "left")
        assert sorted(remove_stale_folders(tmp_path / "report")) == sorted(stale)
        with atomic_folder(tmp_path / "report") as tmp:
            (tmp / "a").write_text("a")
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["report"] + [p.name for p in kept])
    finally:
        alive.kill()
        alive.wait()


def test_swap_into_a_missing_target(tmp_path):
    new = tmp_path / "new"
    new.mkdir()
    (new / "x").write_text("x")
    swap_folder(new, tmp_path / "made")
    assert contents(tmp_path / "made") == {"x": "x"} and not new.exists()
