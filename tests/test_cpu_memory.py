"""common/cpu_memory: glibc keeps freed blocks when asked, gives them back otherwise.

Each case runs in a fresh interpreter so that the test process's allocator is left alone.
"""
import os
import subprocess
import sys
import textwrap

import pytest

PROBE = textwrap.dedent("""
    import os, sys
    import numpy as np
    from s5bench.common.cpu_memory import keep_freed_memory

    def rss_mib():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    applied = keep_freed_memory(sys.argv[1] == "keep")
    block = np.ones(64 * 2**20 // 8)  # 64 MiB, every page touched
    before_free = rss_mib()
    del block
    print(applied, round(before_free - rss_mib()))
""")


def probe(mode, env_extra=None):
    env = {**os.environ, **(env_extra or {})}
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, env=env, check=True)
    applied, released = out.stdout.split()
    return applied == "True", int(released)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux only")
def test_freed_memory_is_kept_only_when_asked():
    applied, released = probe("keep")
    assert applied and released < 8, f"{released} MiB went back to the system although memory was kept"
    applied, released = probe("default")
    assert applied and released > 56, f"only {released} MiB went back to the system with glibc's settings"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux only")
def test_environment_opt_out_leaves_the_allocator_alone():
    applied, released = probe("keep", {"S5BENCH_MALLOC": "default"})
    assert not applied and released > 56
