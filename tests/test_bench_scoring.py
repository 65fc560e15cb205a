"""benchmarks/scoring.py: the official loop's algorithm agrees with the harness, the estimates are
reproducible, the timing helpers measure and pair what they are given."""
import sys

import numpy as np
import pytest
import soundfile as sf

from s5bench.benchmarks.scoring import (
    Contender,
    Timing,
    official_loop,
    paired_ratio,
    paired_runs,
    plain_read,
    write_estimates,
)
from s5bench.metrics.folders import score_folders

SR, T = 32000, 1600


@pytest.fixture
def data(tmp_path):
    rng = np.random.default_rng(2)
    for sub in ("soundscape", "oracle_target"):
        (tmp_path / "set" / sub).mkdir(parents=True)
    for i in range(6):
        refs = {lab: rng.uniform(-0.3, 0.3, T) for lab in ["Speech", "Cough", "Pour"][:1 + i % 3]}
        mixture = rng.uniform(-0.05, 0.05, (T, 4))
        mixture[:, 0] += sum(refs.values())
        sf.write(tmp_path / "set" / "soundscape" / f"mix_{i}.wav", mixture, SR, subtype="FLOAT")
        for lab, w in refs.items():
            sf.write(tmp_path / "set" / "oracle_target" / f"mix_{i}_{lab}.wav", w, SR, subtype="FLOAT")
    return tmp_path / "set"


def test_official_loop_agrees_with_the_harness_and_estimates_are_reproducible(data, tmp_path):
    n = write_estimates(data, tmp_path / "est")
    assert n == len(list((tmp_path / "est").glob("*.wav"))) > 0
    write_estimates(data, tmp_path / "again")
    assert all((tmp_path / "again" / p.name).read_bytes() == p.read_bytes() for p in (tmp_path / "est").iterdir())
    folders = (data / "soundscape", data / "oracle_target", tmp_path / "est")
    official = official_loop(*folders)
    ours = {s.soundscape: s.ca_sdri for s in score_folders(*folders, progress=False, note_missing=False)}
    assert official.keys() == ours.keys()
    for name, value in official.items():  # float32 there, float64 here
        assert value == pytest.approx(ours[name], abs=1e-3)
    assert plain_read(*folders) == 6 * T * 4 + sum(len(list(f.glob("*.wav"))) for f in folders[1:]) * T


def test_paired_runs_time_every_contender_in_every_round():
    runs = [Contender("a", [sys.executable, "-c", "pass"]), Contender("b", [sys.executable, "-c", "pass"])]
    times = paired_runs(runs, rounds=2, cpu=None)
    assert set(times) == {"a", "b"} and all(len(v) == 2 and all(t.wall > 0 for t in v) for v in times.values())
    assert paired_ratio([Timing(4.0, 2.0)], [Timing(1.0, 1.0)], "cpu") == 2.0
