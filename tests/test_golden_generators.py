"""Parity with the official generators through golden cases they rendered themselves (neither
is needed here):
- the 2025 baseline's SpatialScaper fork (tests/golden/fork2025/, tests/golden/make_fork2025.py):
  its own scenes (its JSON, with `role: "foreground"` on interference, null noise offsets,
  excerpts of clips longer than a scene, responses with a negative main peak) and this
  project's plans rendered by the fork;
- SpAudSyn, the 2026 generator (tests/golden/spaudsyn2026/, tests/golden/make_spaudsyn2026.py):
  scenes with a class twice (from another subfolder), none at all, a tiled short noise.
Both are re-rendered by the built-in engine through `generate.py --from-metadata`."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml
from conftest import runner

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "fork2025"
GOLDEN_2026 = ROOT / "tests" / "golden" / "spaudsyn2026"
sys.path.insert(0, str(GOLDEN.parent))
import make_spaudsyn2026  # noqa: E402
from make_fork2025 import data_config  # noqa: E402


def render(tmp_path, metadata_dir, out, recipe=data_config, inputs=GOLDEN / "inputs"):
    cfg = {k: v for k, v in recipe(inputs).items() if k != "_path"}
    path = tmp_path / "golden.yaml"
    path.write_text(yaml.safe_dump(cfg))
    r = subprocess.run([*runner("generate.py"), "--config", str(path),
                        "--from-metadata", str(metadata_dir), "--out", str(out)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return r


def worst_relative_difference(ours: Path, golden: Path) -> float:
    """Largest |ours − golden| over each golden file's peak, over every audio file of the case."""
    names = sorted(p.relative_to(golden).as_posix() for p in golden.rglob("*.wav"))
    assert names == sorted(p.relative_to(ours).as_posix() for p in ours.rglob("*.wav"))
    worst = 0.0
    for name in names:
        a, b = sf.read(ours / name, dtype="float64")[0], sf.read(golden / name, dtype="float64")[0]
        assert a.shape == b.shape, name
        worst = max(worst, float(np.abs(a - b).max() / np.abs(b).max()))
    return worst


@pytest.mark.parametrize("case", ["fork_scenes", "our_plans"])
def test_builtin_engine_renders_what_the_fork_renders(tmp_path, case):
    out = tmp_path / "out"
    render(tmp_path, GOLDEN / case / "metadata", out)
    worst = worst_relative_difference(out / "soundscape", GOLDEN / case / "soundscape")
    worst = max(worst, worst_relative_difference(out / "oracle_target", GOLDEN / case / "oracle_target"))
    assert worst < 1e-4  # measured: ≈ 3e-7 (float32 rendering against the fork's float64)


def test_the_golden_case_covers_the_rules_that_differ():
    plans = [json.loads(p.read_text()) for p in sorted(GOLDEN.glob("*/metadata/*.json"))]
    events = [e for p in plans for e in p["fg_events"] + p["int_events"]]
    assert any(e["source_time"] > 0 for e in events)  # excerpts of clips longer than the scene
    assert any(p["bg_events"][0]["source_time"] is None for p in plans)  # short noise, repeated
    assert any(p["bg_events"][0]["source_time"] is not None for p in plans)
    fork_plans = [json.loads(p.read_text()) for p in sorted((GOLDEN / "fork_scenes" / "metadata").glob("*.json"))]
    assert all(e["role"] == "foreground" for p in fork_plans for e in p["int_events"])  # the fork's labelling
    from s5bench.data_gen.rooms import SofaRoom

    room = SofaRoom(GOLDEN / "inputs" / "room_ir" / "room_a.sofa")
    negative = [m for m in range(room.n_positions) if room.ir(m)[0][np.argmax(np.abs(room.ir(m)[0]))] < 0]
    used = {tuple(e["event_position"][0]) for e in events if "Bark" != e["label"]}
    assert negative and any(tuple(room.positions[m]) in used for m in negative)


def test_a_written_plan_re_renders_bit_for_bit(tmp_path):
    first, again = tmp_path / "first", tmp_path / "again"
    render(tmp_path, GOLDEN / "our_plans" / "metadata", first)
    render(tmp_path, first / "metadata", again)
    for p in sorted(first.rglob("*.wav")):
        assert p.read_bytes() == (again / p.relative_to(first)).read_bytes(), p


def test_builtin_engine_renders_what_spaudsyn_renders(tmp_path):
    out = tmp_path / "out"
    render(tmp_path, GOLDEN_2026 / "metadata", out, make_spaudsyn2026.data_config, GOLDEN_2026 / "inputs")
    worst = worst_relative_difference(out / "soundscape", GOLDEN_2026 / "soundscape")
    worst = max(worst, worst_relative_difference(out / "oracle_target", GOLDEN_2026 / "oracle_target"))
    assert worst < 1e-4  # measured: ≈ 3e-7
    plans = [json.loads(p.read_text()) for p in sorted((GOLDEN_2026 / "metadata").glob("*.json"))]
    labels = [[e["label"] for e in p["fg_events"]] for p in plans]
    assert [] in labels and any(len(set(x)) < len(x) for x in labels)  # a zero-target scene, a repeated class
    repeated = [e for p in plans for e in p["fg_events"] if [x["label"] for x in p["fg_events"]].count(e["label"]) > 1]
    assert len({e["source_file"].split("/")[1] for e in repeated}) > 1  # duplicates from other subfolders
    assert any(p["bg_events"][0]["source_time"] is None for p in plans)  # the short noise, tiled
    # a written SpAudSyn plan re-renders bit for bit
    again = tmp_path / "again"
    render(tmp_path, out / "metadata", again, make_spaudsyn2026.data_config, GOLDEN_2026 / "inputs")
    for p in sorted(out.rglob("*.wav")):
        assert p.read_bytes() == (again / p.relative_to(out)).read_bytes(), p
