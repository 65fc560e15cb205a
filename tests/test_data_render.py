import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import fftconvolve

from common.labels import LABELS
from data_gen.factory import MixtureFactory
from data_gen.render import Renderer

ROOT = Path(__file__).resolve().parents[1]


def test_plans_follow_the_task_rules(tiny_cfg):
    f = MixtureFactory(tiny_cfg)
    counts = set()
    for i in range(150):
        p = f.plan(0, i)
        fg, inter = p["fg_events"], p["int_events"]
        labels = [e["label"] for e in fg]
        counts.add(len(fg))
        assert 1 <= len(fg) <= 3 and len(set(labels)) == len(labels) and set(labels) <= set(LABELS)
        assert 1 <= len(inter) <= 2 and not {e["label"] for e in inter} & set(LABELS)
        assert [e["event_time"] for e in fg] == sorted(e["event_time"] for e in fg)  # slots in onset order
        for e in fg:
            assert 5 <= e["snr"] <= 20
        for e in inter:
            assert 0 <= e["snr"] <= 15
        for e in fg + inter:
            assert e["event_time"] + e["event_duration"] <= 2.0 + 1e-6
        assert p["bg_events"][0]["source_time"] == int(p["bg_events"][0]["source_time"])
        assert p["room"] in f.rooms.names
    assert counts == {1, 2, 3}


def test_levels_sum_and_reproducibility(tiny_cfg):
    f = MixtureFactory(tiny_cfg)
    plan = f.plan(7, 3)
    ref_db = plan["config"]["ref_db"]
    for ev in plan["fg_events"] + plan["int_events"]:
        wet, dry = f.renderer.event_images(ev, plan)
        level = 10 * np.log10(np.mean(np.square(wet, dtype=np.float64)))
        assert level == pytest.approx(ref_db + ev["snr"], abs=0.1)
        # independent formulation: plain convolutions of the peak-normalised source
        sr = 32000
        src = (f.renderer.banks[ev["role"]].read(ev["source_file"], int(round(ev["source_time"] * sr)),
                                                  int(ev["event_duration"] * sr)))
        src = src / np.abs(src).max()
        ir = f.rooms.room(plan["room"]).ir(ev["position_index"])
        ir = ir / np.mean(np.sqrt(np.sum(ir ** 2, axis=1)))
        ref_wet = np.stack([fftconvolve(src, ir[c]) for c in range(4)])
        gain = np.sqrt(10 ** ((ref_db + ev["snr"]) / 10) / np.mean(ref_wet ** 2))
        # the engine renders in float32: agreement to 1e-5 of full scale (−100 dB)
        np.testing.assert_allclose(wet, gain * ref_wet, atol=1e-5 * np.abs(wet).max())
        peak = np.argmax(np.abs(ir[0]))
        lo, hi = peak - round(0.006 * sr), peak + round(0.050 * sr) + 1
        ir0 = np.zeros_like(ir[0])
        ir0[max(lo, 0):hi] = ir[0][max(lo, 0):hi]
        if dry is not None:
            np.testing.assert_allclose(dry, gain * fftconvolve(src, ir0), atol=1e-5 * np.abs(wet).max())
    scene = f.render(plan)
    assert 10 * np.log10(np.mean(np.square(scene.noise, dtype=np.float64))) == pytest.approx(ref_db, abs=1e-5)
    parts = scene.wet_targets.sum(0) + scene.interference.sum(0) + scene.noise
    np.testing.assert_array_equal(scene.mixture, parts)
    other = Renderer(f.targets, f.interference, f.noise, f.rooms).render(json.loads(json.dumps(plan)))
    assert np.array_equal(other.mixture, scene.mixture) and np.array_equal(other.dry, scene.dry)


def _generate(cfg_path, out, jobs, n=4, *extra):
    cmd = [sys.executable, str(ROOT / "runners" / "generate.py"), "--config", str(cfg_path), "--out", str(out),
           "--n", str(n), "--seed", "11", "--jobs", str(jobs), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)


def _tree(folder: Path) -> dict:
    """Every file's bytes (audio included: the same data set must be the same bytes)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_jobs_do_not_change_the_files_and_resume_completes(tiny_cfg, tmp_path):
    cfg_path = tiny_cfg["_path"]
    r1 = _generate(cfg_path, tmp_path / "one", 1)
    assert r1.returncode == 0, r1.stderr
    r2 = _generate(cfg_path, tmp_path / "two", 2)
    assert r2.returncode == 0, r2.stderr
    one, two = _tree(tmp_path / "one"), _tree(tmp_path / "two")
    assert one.keys() == two.keys() and all(one[k] == two[k] for k in one)  # byte for byte
    assert sum(k.startswith("soundscape/") for k in one) == 4
    from common.provenance import data_fingerprint

    assert data_fingerprint(tmp_path / "one") == data_fingerprint(tmp_path / "two")
    # an interrupted run: one mixture lost its metadata (written last), another lost a file
    out = tmp_path / "two"
    (out / "metadata" / "mix_0001.json").unlink()
    meta2 = json.loads((out / "metadata" / "mix_0002.json").read_text())
    (out / meta2["files"][-1]).unlink()
    kept_time = os.stat(out / "soundscape" / "mix_0000.wav").st_mtime_ns
    r3 = _generate(cfg_path, out, 2)
    assert r3.returncode == 0, r3.stderr
    assert "2 made, 2 kept" in r3.stdout and "2 partial ones redone" in r3.stdout
    assert os.stat(out / "soundscape" / "mix_0000.wav").st_mtime_ns == kept_time
    again = _tree(out)
    assert again.keys() == one.keys() and all(again[k] == one[k] for k in one)


def test_sixteen_bit_pcm_like_the_official_sets(tiny_cfg, tmp_path):
    import soundfile as sf

    r = _generate(tiny_cfg["_path"], tmp_path / "pcm", 1, 2, "--subtype", "PCM_16")
    assert r.returncode == 0, r.stderr
    r2 = _generate(tiny_cfg["_path"], tmp_path / "float", 1, 2)
    assert r2.returncode == 0, r2.stderr
    pcm, flt = tmp_path / "pcm" / "soundscape" / "mix_0000.wav", tmp_path / "float" / "soundscape" / "mix_0000.wav"
    assert sf.info(pcm).subtype == "PCM_16" and sf.info(flt).subtype == "FLOAT"
    a, b = sf.read(pcm)[0], sf.read(flt)[0]
    assert np.abs(a - b).max() <= 1.0 / 32768 + 1e-9  # the same mixture, quantised to 16 bits


def test_generate_names_unknown_config(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "runners" / "generate.py"), "--config", "nope", "--out",
                        str(tmp_path), "--n", "1"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "known configs" in r.stderr and "builtin_test" in r.stderr


def test_training_stream_shapes_and_worker_independence(tiny_cfg):
    from torch.utils.data import DataLoader

    from data_gen.stream import SceneStream, collate

    batches = {}
    for workers in (0, 2):
        dl = DataLoader(SceneStream(tiny_cfg, seed=1, length=4), batch_size=1, num_workers=workers, collate_fn=collate)
        batches[workers] = {b["name"][0]: b for b in dl}
    assert batches[0].keys() == batches[2].keys()
    for name, b in batches[0].items():
        assert b["mixture"].shape == (1, 4, 64000) and b["targets"].shape == (1, 3, 64000)
        assert b["interference"].shape == (1, 2, 64000) and b["noise"].shape == (1, 64000)
        assert b["label_vector"].shape == (1, 3, 18)
        assert b["label_vector"][0].sum(-1).tolist() == [float(lab != "silence") for lab in b["labels"][0]]
        assert np.array_equal(b["mixture"].numpy(), batches[2][name]["mixture"].numpy())


def test_spatialscaper_engine_adapter_with_a_stand_in_fork(tiny_cfg, tmp_path, monkeypatch):
    """The real fork cannot be installed here (GitHub only); a stand-in module with the fork's
    interface (from_metadata(path, return_*) -> object with generate() -> dict of arrays in the
    fork's (T, channels) layout) checks the adapter's wiring and layout conversions."""
    import types

    builtin = MixtureFactory(tiny_cfg)
    seen = {}

    class FakeScaper:
        @classmethod
        def from_metadata(cls, path, **flags):
            obj = cls()
            obj.plan = json.load(open(path))
            seen.update(flags=flags, config=obj.plan["config"])
            return obj

        def generate(self):
            s = builtin.renderer.render(self.plan)
            return {"mixture": s.mixture.T, "dry_sources": list(s.dry), "wet_sources": [w.T for w in s.wet_targets],
                    "interference_sources": [w.T for w in s.interference]}

    monkeypatch.setitem(sys.modules, "spatialscaper", types.ModuleType("spatialscaper"))
    fork = types.ModuleType("fake_fork")
    fork.SemgSegScaper2 = FakeScaper
    monkeypatch.setitem(sys.modules, "fake_fork", fork)
    cfg = {**tiny_cfg, "engine": "spatialscaper",
           "spatialscaper": {"module": "fake_fork", "init": {"foreground_dir": "fg", "rir_dir": "rooms"}}}
    f = MixtureFactory(cfg)
    plan = f.plan(3, 0)
    scene, ref = f.render(plan), builtin.render(plan)
    assert seen["config"]["foreground_dir"] == "fg" and seen["flags"]["return_dry"]
    np.testing.assert_array_equal(scene.mixture, ref.mixture)
    np.testing.assert_array_equal(scene.dry, ref.dry)
    np.testing.assert_allclose(scene.noise, ref.noise, atol=1e-6)


def test_spatialscaper_engine_missing_says_so(tiny_cfg):
    with pytest.raises(ImportError, match="use engine: builtin"):
        MixtureFactory({**tiny_cfg, "engine": "spatialscaper"})


def test_plans_do_not_depend_on_where_rooms_are_cached(tmp_path):
    from conftest import tiny_data_config

    for sub in "abc":
        (tmp_path / sub).mkdir()
    a = MixtureFactory(tiny_data_config(tmp_path / "a"))
    b = MixtureFactory(tiny_data_config(tmp_path / "b"))
    assert a.plan(1, 2) == b.plan(1, 2)
    other_seed = MixtureFactory(tiny_data_config(tmp_path / "c", seed=5))  # another recipe, other scenes
    assert other_seed.plan(1, 2)["fg_events"] != a.plan(1, 2)["fg_events"]
