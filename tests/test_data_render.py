import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import runner
from scipy.signal import fftconvolve

from s5bench.common.labels import LABELS
from s5bench.data_gen.factory import MixtureFactory
from s5bench.data_gen.render import Renderer

ROOT = Path(__file__).resolve().parents[1]


def test_plans_follow_the_task_rules(tiny_cfg):
    """Every sampling rule, each checked so that breaking it fails: class counts and no class
    twice, interferer counts 1 and 2 both drawn, SNR ranges covered at both ends, onsets spread
    over [0, duration − event length], excerpts inside their files and spread over them."""
    f = MixtureFactory(tiny_cfg)
    sr, duration = 32000, 2.0
    counts, n_int, snr_fg, snr_int, onset_share, excerpt_share = set(), set(), [], [], [], []
    for i in range(200):
        p = f.plan(0, i)
        fg, inter = p["fg_events"], p["int_events"]
        labels = [e["label"] for e in fg]
        counts.add(len(fg))
        n_int.add(len(inter))
        assert 1 <= len(fg) <= 3 and len(set(labels)) == len(labels) and set(labels) <= set(LABELS)
        assert 1 <= len(inter) <= 2 and not {e["label"] for e in inter} & set(LABELS)
        assert [e["event_time"] for e in fg] == sorted(e["event_time"] for e in fg)  # slots in onset order
        snr_fg += [e["snr"] for e in fg]
        snr_int += [e["snr"] for e in inter]
        for e, bank in [(e, f.targets) for e in fg] + [(e, f.interference) for e in inter]:
            file_dur = bank.item(e["source_file"]).n_frames / sr
            assert e["event_duration"] == pytest.approx(min(file_dur, duration), abs=1e-6)
            assert 0.0 <= e["source_time"] and e["source_time"] + e["event_duration"] <= file_dur + 1e-6
            if file_dur - e["event_duration"] > 0.1:
                excerpt_share.append(e["source_time"] / (file_dur - e["event_duration"]))
            assert e["event_time"] + e["event_duration"] <= duration + 1e-6
            if duration - e["event_duration"] > 0.1:
                onset_share.append(e["event_time"] / (duration - e["event_duration"]))
        bg = p["bg_events"][0]
        noise_dur = f.noise.n_frames(bg["source_file"]) / sr
        assert bg["source_time"] == int(bg["source_time"]) and 0 <= bg["source_time"] < noise_dur - duration
        assert p["room"] in f.rooms.names
    assert counts == {1, 2, 3} and n_int == {1, 2}
    assert min(snr_fg) < 5.5 and max(snr_fg) > 19.5 and min(snr_fg) >= 5 and max(snr_fg) <= 20
    assert min(snr_int) < 0.5 and max(snr_int) > 14.5 and min(snr_int) >= 0 and max(snr_int) <= 15
    assert len(onset_share) > 50 and min(onset_share) < 0.1 and max(onset_share) > 0.9
    assert len(excerpt_share) > 50 and min(excerpt_share) < 0.1 and max(excerpt_share) > 0.9


def test_levels_sum_and_reproducibility(tiny_cfg):
    from s5bench.data_gen.render import nearest_position

    f = MixtureFactory(tiny_cfg)
    plan = f.plan(7, 3)
    ref_db = plan["config"]["ref_db"]
    sr = 32000
    events = [(ev, "foreground") for ev in plan["fg_events"]] + [(ev, "interference") for ev in plan["int_events"]]
    for ev, bank in events:
        wet, dry = f.renderer.event_images(ev, plan, bank)
        level = 10 * np.log10(np.mean(np.square(wet, dtype=np.float64)))
        assert level == pytest.approx(ref_db + ev["snr"], abs=0.1)
        # independent formulation: plain convolutions of the peak-normalised source
        start, frames = int(ev["source_time"] * sr), int(ev["event_duration"] * sr)  # the fork's positions
        src = f.renderer.banks[bank].read(ev["source_file"], start, frames)
        src = src / np.abs(src).max()
        room = f.rooms.room(plan["room"])
        ir = room.ir(nearest_position(room, ev["event_position"][0]))
        ir = ir / np.mean(np.sqrt(np.sum(ir ** 2, axis=1)))
        ref_wet = np.stack([fftconvolve(src, ir[c]) for c in range(4)])
        gain = np.sqrt(10 ** ((ref_db + ev["snr"]) / 10) / np.mean(ref_wet ** 2))
        # the engine renders in float32: agreement to 1e-5 of full scale (−100 dB)
        np.testing.assert_allclose(wet, gain * ref_wet, atol=1e-5 * np.abs(wet).max())
        if dry is not None:  # the 2025 fork's window, written out: signed peak, [peak − 192, peak + 1600)
            peak = int(np.argmax(ir[0]))
            ir0 = ir[0].copy()
            ir0[peak + 1600:] = 0
            ir0[:max(peak - 192, 0)] = 0
            np.testing.assert_allclose(dry, gain * fftconvolve(src, ir0), atol=1e-5 * np.abs(wet).max())
    scene = f.render(plan)
    assert 10 * np.log10(np.mean(np.square(scene.noise, dtype=np.float64))) == pytest.approx(ref_db, abs=1e-5)
    parts = scene.wet_targets.sum(0) + scene.interference.sum(0) + scene.noise
    np.testing.assert_array_equal(scene.mixture, parts)
    other = Renderer(f.targets, f.interference, f.noise, f.rooms).render(json.loads(json.dumps(plan)))
    assert np.array_equal(other.mixture, scene.mixture) and np.array_equal(other.dry, scene.dry)


def _generate(cfg_path, out, jobs, n=4, *extra):
    cmd = [*runner("generate.py"), "--config", str(cfg_path), "--out", str(out),
           "--n", str(n), "--seed", "11", "--jobs", str(jobs), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)


def _tree(folder: Path) -> dict:
    """Every file's bytes (audio included: the same data set must be the same bytes)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_dry_windows_of_both_editions_by_hand():
    from s5bench.data_gen.render import direct_path

    sr = 1000  # 6 ms -> 6 samples, 50 ms -> 50 samples
    h = np.linspace(0.1, 0.9, 100)
    h[30], h[40] = -5.0, 2.0  # the main peak is negative: |h| peaks at 30, h itself at 40
    d25 = direct_path(h, sr, (6, 50), 2025)  # signed peak 40: keep [34, 90), half-open end
    keep = np.zeros(100, bool)
    keep[34:90] = True
    np.testing.assert_array_equal(d25, np.where(keep, h, 0))
    d26 = direct_path(h, sr, (6, 50), 2026)  # |peak| 30: keep [24, 80], both ends included
    keep = np.zeros(100, bool)
    keep[24:81] = True
    np.testing.assert_array_equal(d26, np.where(keep, h, 0))
    early = np.zeros(100)
    early[3] = 1.0  # peak − 6 < 0: nothing before is cut in either edition
    assert direct_path(early, sr, (6, 50), 2025)[0:3].tolist() == [0, 0, 0]  # (all zeros anyway)
    late = np.ones(100)
    late[80] = 3.0  # peak + 50 ≥ len: no end cut in 2025; 2026 clips at L − 1
    np.testing.assert_array_equal(direct_path(late, sr, (6, 50), 2025)[74:], late[74:])
    np.testing.assert_array_equal(direct_path(late, sr, (6, 50), 2026)[74:], late[74:])
    assert direct_path(late, sr, (6, 50), 2025)[73] == 0 and direct_path(late, sr, (6, 50), 2026)[73] == 0


def test_short_noise_is_extended_like_each_edition():
    from s5bench.data_gen.render import noise_clip

    class Bank:
        def n_frames(self, name):
            return 3

        def read(self, name, start, frames):
            return np.arange(12, dtype=np.float32).reshape(3, 4)[start:start + frames]

    ev = {"source_file": "n.wav", "source_time": None}
    np.testing.assert_array_equal(noise_clip(Bank(), ev, 7, 1000, 2025)[:, 0], [0, 0, 0, 4, 4, 4, 8])  # np.repeat
    np.testing.assert_array_equal(noise_clip(Bank(), ev, 7, 1000, 2026)[:, 0], [0, 4, 8, 0, 4, 8, 0])  # np.tile
    np.testing.assert_array_equal(noise_clip(Bank(), {**ev, "source_time": 0.0015}, 2, 1000)[:, 0], [4, 8])


def test_jobs_do_not_change_the_files_and_resume_completes(tiny_cfg, tmp_path):
    cfg_path = tiny_cfg["_path"]
    r1 = _generate(cfg_path, tmp_path / "one", 1)
    assert r1.returncode == 0, r1.stderr
    r2 = _generate(cfg_path, tmp_path / "two", 2)
    assert r2.returncode == 0, r2.stderr
    one, two = _tree(tmp_path / "one"), _tree(tmp_path / "two")
    assert one.keys() == two.keys() and all(one[k] == two[k] for k in one)  # byte for byte
    assert sum(k.startswith("soundscape/") for k in one) == 4
    from s5bench.common.provenance import data_fingerprint

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
    r = subprocess.run([*runner("generate.py"), "--config", "nope", "--out",
                        str(tmp_path), "--n", "1"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "known configs" in r.stderr and "builtin_test" in r.stderr


def test_training_stream_shapes_and_worker_independence(tiny_cfg):
    from torch.utils.data import DataLoader

    from s5bench.data_gen.stream import SceneStream, collate

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


def test_spatialscaper_engine_adapter_with_a_strict_stand_in_fork(tiny_cfg, tmp_path, monkeypatch):
    """A stand-in with the real fork's interface and its refusals (checked against the real
    fork by the golden case below): events are its Event namedtuple (any other key is a
    TypeError), return switches are read from the plan's `config` only (from_metadata's
    arguments set attributes that generate() never reads), return_dry needs the window."""
    import types
    from collections import namedtuple

    import s5bench.data_gen.spatialscaper_engine as engine

    Event = namedtuple("Event", ["label", "source_file", "source_time", "event_time", "event_duration", "snr",
                                 "role", "pitch_shift", "time_stretch", "event_position"])
    builtin = MixtureFactory(tiny_cfg)
    seen = {}

    class StandInFork:
        def __init__(self, **config):
            for flag in ("return_dry", "return_wet", "return_background", "return_interference"):
                config.setdefault(flag, False)
            assert not config["return_dry"] or "spatialize_direct_path_time_ms" in config
            self.config = config

        @staticmethod
        def from_metadata(path, return_dry=None, return_wet=None, return_ir=None, return_background=None,
                          return_interference=None):
            data = json.load(open(path))
            obj = StandInFork(**data["config"])
            obj.fg_events = [Event(**e) for e in data["fg_events"]]
            obj.int_events = [Event(**e) for e in data["int_events"]]
            obj.bg_events = [Event(**e) for e in data["bg_events"]]
            obj.room = data["room"]
            if return_dry is not None:
                obj.return_dry = return_dry  # an attribute: generate() reads self.config
            seen["config"] = data["config"]
            return obj

        def generate(self):
            plan = {"config": self.config, "room": self.room, "fg_events": [e._asdict() for e in self.fg_events],
                    "int_events": [e._asdict() for e in self.int_events],
                    "bg_events": [e._asdict() for e in self.bg_events]}
            s = builtin.renderer.render(plan)
            out = {"mixture": s.mixture.T}
            if self.config["return_dry"]:
                out["dry_sources"] = list(s.dry)
            if self.config["return_wet"]:
                out["wet_sources"] = [w.T for w in s.wet_targets]
            if self.config["return_interference"]:
                out["interference_sources"] = [w.T for w in s.interference]
            if self.config["return_background"]:
                out["background"] = s.noise.T
            return out

    monkeypatch.setitem(sys.modules, "spatialscaper", types.ModuleType("spatialscaper"))
    fork = types.ModuleType("stand_in_fork")
    fork.SemgSegScaper2 = StandInFork
    monkeypatch.setitem(sys.modules, "stand_in_fork", fork)
    cfg = {**tiny_cfg, "engine": "spatialscaper",
           "spatialscaper": {"module": "stand_in_fork", "init": {"foreground_dir": "fg", "rir_dir": "rooms"}}}
    f = MixtureFactory(cfg)
    plan = f.plan(3, 0)
    scene, ref = f.render(plan), builtin.render(plan)
    assert seen["config"]["foreground_dir"] == "fg" and seen["config"]["return_dry"] is True
    np.testing.assert_array_equal(scene.mixture, ref.mixture)
    np.testing.assert_array_equal(scene.dry, ref.dry)
    np.testing.assert_array_equal(scene.noise, ref.noise)
    # what the real fork refuses, the stand-in refuses: a key outside its Event fields
    bad = {**plan, "fg_events": [{**plan["fg_events"][0], "position_index": 0}]}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({**bad, "config": {**bad["config"], "return_dry": True}}))
    with pytest.raises(TypeError, match="position_index"):
        StandInFork.from_metadata(path)
    # switches given only as arguments are not seen: no dry references, and the engine refuses
    monkeypatch.setattr(engine, "RETURN_FLAGS", {})
    with pytest.raises(ValueError, match="returned 0 dry reference"):
        f.render(plan)


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


def test_2026_plans_follow_the_2026_rules(tmp_path):
    """SpAudSyn's rules over a few hundred plans: target counts 0–3, the duplicate patterns of
    three targets (ABC / AAB / AAA near 50 / 25 / 25 %), every same-class pair more than 60°
    apart, interferer counts 0, 1 and 2, SNR ranges, SpAudSyn's schema."""
    from collections import Counter

    from conftest import tiny_data_config

    rooms = {"synthetic": {"n_rooms": 2, "n_positions": 24, "seed": 5, "ir_seconds": 0.05, "max_order": 2,
                           "cache_dir": str(tmp_path / "rooms")}}
    scene = {"duration": 2.0, "edition": 2026, "ref_db": -55.0, "n_targets": [0, 3], "n_interference": [0, 2]}
    f = MixtureFactory(tiny_data_config(tmp_path, rooms=rooms, scene=scene))
    counts, n_int, patterns, snr_fg, snr_int = Counter(), set(), Counter(), [], []
    for i in range(400):
        p = f.plan(0, i)
        fg = p["fg_events"]
        counts[len(fg)] += 1
        n_int.add(len(p["int_events"]))
        snr_fg += [e["snr"] for e in fg]
        snr_int += [e["snr"] for e in p["int_events"]]
        assert set(p["room"]) == {"module", "main", "args"} and p["config"]["ref_db"] == -55.0
        assert all(set(e) == {"label", "source_file", "source_time", "event_time", "event_duration",
                              "event_position", "snr", "role"} for e in fg)
        if len(fg) == 3:
            patterns[tuple(sorted(Counter(e["label"] for e in fg).values()))] += 1
        for a in range(len(fg)):
            for b in range(a + 1, len(fg)):
                if fg[a]["label"] == fg[b]["label"]:
                    u, v = (np.asarray(fg[k]["event_position"][0]) for k in (a, b))
                    angle = np.degrees(np.arccos(u @ v / np.linalg.norm(u) / np.linalg.norm(v)))
                    assert angle > 60.0
                    assert fg[a]["source_file"] != fg[b]["source_file"]
    assert set(counts) == {0, 1, 2, 3} and n_int == {0, 1, 2}
    total = sum(patterns.values())
    assert abs(patterns[(1, 1, 1)] / total - 0.5) < 0.12
    assert abs(patterns[(1, 2)] / total - 0.25) < 0.1 and abs(patterns[(3,)] / total - 0.25) < 0.1
    assert min(snr_fg) < 5.5 and max(snr_fg) > 19.5 and min(snr_int) < 0.5 and max(snr_int) > 14.5


def test_2026_duplicates_come_from_another_subfolder_or_fail_clearly(tmp_path):
    from s5bench.data_gen.plan import sample_plan

    golden = Path(__file__).resolve().parent / "golden" / "spaudsyn2026"
    sys.path.insert(0, str(golden.parent))
    import make_spaudsyn2026

    f = MixtureFactory(make_spaudsyn2026.data_config(golden / "inputs"))
    rules = {**f.rules, "edition": 2026, "n_targets": [2, 2], "dupse_rate": 1.0}
    for i in range(40):
        p = sample_plan(np.random.default_rng(i), targets=f.targets, interference=f.interference,
                        noise=f.noise, rooms=f.rooms, config={**rules, "target_snr": [5, 20],
                                                              "interference_snr": [0, 15], "n_interference": [0, 2],
                                                              "max_event_overlap": 3}, dirs={})
        a, b = p["fg_events"]
        assert a["label"] == b["label"] and a["source_file"].split("/")[1] != b["source_file"].split("/")[1]
    tight = {**rules, "target_snr": [5, 20], "interference_snr": [0, 15], "n_interference": [0, 2],
             "max_event_overlap": 3, "n_targets": [3, 3], "max_n_dupse": 2, "dupse_min_angle": 179.0}
    with pytest.raises(ValueError, match="room room_b.sofa: no measured position"):
        for i in range(20):
            sample_plan(np.random.default_rng(i), targets=f.targets, interference=f.interference,
                        noise=f.noise, rooms=f.rooms, config=tight, dirs={})


def test_2026_levels_and_windows_match_plain_convolutions(tmp_path, monkeypatch):
    """SpAudSyn's rules written out independently: the response divided by the root of its mean
    channel energy, the dry window around the |peak| with both ends kept, the event's level
    ref_db + snr over its 4-channel image; checked to 1e-5 of full scale on events whose
    response has a negative main peak as well as a positive one."""
    from conftest import tiny_data_config

    from s5bench.data_gen.render import nearest_position

    rooms = {"synthetic": {"n_rooms": 2, "n_positions": 24, "seed": 5, "ir_seconds": 0.2, "max_order": 8,
                           "cache_dir": str(tmp_path / "rooms")}}
    scene = {"duration": 2.0, "edition": 2026, "ref_db": -55.0, "n_targets": [1, 3], "n_interference": [0, 2]}
    f = MixtureFactory(tiny_data_config(tmp_path, rooms=rooms, scene=scene))
    assert f.renderer.rooms is f.rooms
    room_of_name = f.rooms.room

    def sign_flipped(name):  # odd positions answer the negated response: a negative main peak
        room = room_of_name(name)
        if not hasattr(room, "_unflipped_ir"):
            room._unflipped_ir = room.ir
            room.ir = lambda pos, room=room: -room._unflipped_ir(pos) if pos % 2 else room._unflipped_ir(pos)
        return room

    monkeypatch.setattr(f.rooms, "room", sign_flipped)
    sr, signs = 32000, set()
    for i in range(12):
        plan = f.plan(3, i)
        for ev in plan["fg_events"]:
            wet, dry = f.renderer.event_images(ev, plan, "foreground")
            src = f.renderer.banks["foreground"].read(ev["source_file"], int(ev["source_time"] * sr),
                                                      int(ev["event_duration"] * sr))
            src = src / np.abs(src).max()
            room = f.rooms.room(Path(plan["room"]["args"]["metadata"]["sofa_path"]).name)
            ir = room.ir(nearest_position(room, ev["event_position"][0]))
            ir = ir / np.sqrt(np.mean(np.sum(ir ** 2, axis=1)))
            ref_wet = np.stack([fftconvolve(src, ir[c]) for c in range(4)])
            gain = np.sqrt(10 ** ((-55.0 + ev["snr"]) / 10) / np.mean(ref_wet ** 2))
            np.testing.assert_allclose(wet, gain * ref_wet, atol=1e-5 * np.abs(wet).max())
            peak = int(np.argmax(np.abs(ir[0])))
            signs.add(bool(ir[0][peak] < 0))
            ir0 = np.zeros_like(ir[0])
            lo, hi = max(peak - 192, 0), min(peak + 1600, len(ir0) - 1)  # 6 ms and 50 ms, both ends kept
            ir0[lo:hi + 1] = ir[0][lo:hi + 1]
            np.testing.assert_allclose(dry, gain * fftconvolve(src, ir0), atol=1e-5 * np.abs(wet).max())
    assert signs == {True, False}  # both kinds of main peak were checked


def test_both_rendering_engines_implement_the_protocol():
    """The writer, the training stream and the stem corpus use an engine through SceneEngine: the
    built-in renderer and the SpatialScaper fork's engine both offer all of it (the fork's engine
    used to lack `event_images`, which the stem corpus calls). Type-checked too (pyright, factory.py)."""
    from s5bench.data_gen.render import SceneEngine
    from s5bench.data_gen.spatialscaper_engine import SpatialScaperEngine

    assert issubclass(Renderer, SceneEngine) and issubclass(SpatialScaperEngine, SceneEngine)
    assert not issubclass(MixtureFactory, SceneEngine)  # the check can fail: the factory has no event_images
