"""Make tests/golden/fork2025/: a small DCASE 2025 golden case rendered by the REAL SpatialScaper
fork of the baseline (nttcslab/dcase2025_task4_baseline, src/modules/spatialscaper2/, on top of
iranroman/SpatialScaper), so that CI can check the built-in engine against it without the fork.

Two steps, from the repository root:

    python tests/golden/make_fork2025.py inputs
    PYTHONPATH=<SpatialScaper checkout>:<baseline checkout> <python with the fork's needs> \\
        tests/golden/make_fork2025.py fork

Step 1 (this project's environment) writes small inputs in the official layout (4 kHz and 4 s
scenes keep the files small; every rule is the same at any rate and length): target clips of
three classes, one longer than a scene; two interference classes; a 4-channel noise file longer
and one shorter than a scene (the fork repeats the short one sample by sample); a SOFA room
whose main peak is negative at some positions. It also writes three plans drawn by this
project's sampler (our_plans/metadata/). Step 2 (a scratch environment with the fork, never a
dependency of this project) renders those plans with the fork, and draws three scenes with
the fork's own sampler (fork_scenes/metadata/, the fork's JSON as it writes it) and renders
them too. Audio is written as float32 WAV.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent / "fork2025"
INPUTS = HERE / "inputs"
SR, DURATION = 4000, 4.0
TARGETS = {"Speech": [1.5, 5.5], "Dishes": [2.5], "Cough": [0.8, 4.9]}
INTERFERENCE = {"Bark": [3.0], "Engine": [4.6]}
NOISE = {"ambience_long.wav": 5.5, "ambience_short.wav": 2.5}
N_POSITIONS, N_TAPS = 6, 800
NEGATIVE_PEAK = (1, 4)  # positions whose direct path has a negative sign


def data_config(root: Path) -> dict:
    """The built-in engine's recipe for the golden inputs under `root`."""
    return {
        "engine": "builtin", "sr": SR, "root": str(root),
        "targets": {"folder": {"root": "sound_event"}},
        "interference": {"folder": {"root": "interference", "check_labels": False}},
        "noise": {"folder": {"root": "noise"}},
        "rooms": {"folder": {"root": "room_ir"}},
        "scene": {"duration": DURATION, "sr": SR, "ref_db": -50.0, "n_targets": [1, 3], "n_interference": [1, 2]},
        "_path": str(root / "data.yaml"),
    }


def _clip(rng, seconds: float) -> np.ndarray:
    n = int(seconds * SR)
    t = np.arange(n) / SR
    tone = np.sin(2 * np.pi * rng.uniform(150, 1500) * t + rng.uniform(0, 6))
    env = np.abs(np.sin(np.pi * t * rng.uniform(0.5, 3))) ** 2 + 0.05
    return 0.5 * (0.6 * tone + 0.4 * rng.standard_normal(n)) * env


def _room(rng) -> tuple[np.ndarray, np.ndarray]:
    angles = np.linspace(0, 2 * np.pi, N_POSITIONS, endpoint=False)
    pos = np.stack([1.5 * np.cos(angles), 1.5 * np.sin(angles), 0.3 * np.sin(3 * angles)], axis=1).round(4)
    irs = np.zeros((N_POSITIONS, 4, N_TAPS))
    for m in range(N_POSITIONS):
        d = 20 + 7 * m
        tail = rng.standard_normal(N_TAPS) * np.exp(-np.arange(N_TAPS) / 150.0) * 0.35
        tail[:d + 3] = 0
        h = tail.copy()
        h[d] = -1.0 if m in NEGATIVE_PEAK else 1.0
        h[d + 60] = 0.8  # a positive reflection 7.5 ms later: the signed peak of a negative-peak response
        direction = pos[m] / np.linalg.norm(pos[m])
        irs[m, 0] = h
        for c, g in zip((1, 2, 3), (direction[1], direction[2], direction[0])):  # ACN W, Y, Z, X
            irs[m, c] = g * h + 0.1 * rng.standard_normal(N_TAPS) * np.exp(-np.arange(N_TAPS) / 100.0)
    return irs, pos


def make_inputs() -> None:
    import soundfile as sf

    from s5bench.data_gen.factory import MixtureFactory
    from s5bench.data_gen.rooms import write_sofa_room

    rng = np.random.default_rng(2025)
    for folder, table in (("sound_event", TARGETS), ("interference", INTERFERENCE)):
        for label, lengths in table.items():
            for k, seconds in enumerate(lengths):
                path = INPUTS / folder / label / f"{label.lower()}_{k}.wav"
                path.parent.mkdir(parents=True, exist_ok=True)
                sf.write(path, _clip(rng, seconds), SR, subtype="PCM_16")
    (INPUTS / "noise").mkdir(parents=True, exist_ok=True)
    for name, seconds in NOISE.items():
        noise = 0.2 * rng.standard_normal((int(seconds * SR), 4))
        sf.write(INPUTS / "noise" / name, noise, SR, subtype="PCM_16")
    irs, pos = _room(rng)
    write_sofa_room(INPUTS / "room_ir" / "room_a.sofa", irs, pos, SR, title="golden room")
    # three plans of this project's sampler that cover a long clip's excerpt and the short noise
    factory = MixtureFactory(data_config(INPUTS))
    plans = [factory.plan(0, index) for index in range(50)]
    with_long = next(p for p in plans if any(e["source_time"] > 0 for e in p["fg_events"] + p["int_events"]))
    with_short = next(p for p in plans if p["bg_events"][0]["source_time"] is None)
    with_long_noise = next(p for p in plans if p["bg_events"][0]["source_time"] is not None)
    chosen = []
    for plan in (with_long, with_short, with_long_noise) + tuple(plans):
        if plan not in chosen and len(chosen) < 3:
            chosen.append(plan)
    out = HERE / "our_plans" / "metadata"
    out.mkdir(parents=True, exist_ok=True)
    for i, plan in enumerate(chosen):
        (out / f"mix_{i:04d}.json").write_text(json.dumps(plan, indent=1))
    print(f"inputs and {len(chosen)} plans written under {HERE}")


def _write(folder: Path, name: str, output: dict, labels: list[str]) -> None:
    import soundfile as sf

    (folder / "soundscape").mkdir(parents=True, exist_ok=True)
    (folder / "oracle_target").mkdir(parents=True, exist_ok=True)
    sf.write(folder / "soundscape" / f"{name}.wav", np.asarray(output["mixture"], np.float32), SR, subtype="FLOAT")
    for label, dry in zip(labels, output["dry_sources"]):
        sf.write(folder / "oracle_target" / f"{name}_{label}.wav", np.asarray(dry, np.float32), SR, subtype="FLOAT")


def _fork_args() -> dict:
    return {"duration": DURATION, "sr": SR, "foreground_dir": str(INPUTS / "sound_event"),
            "interference_dir": str(INPUTS / "interference"), "background_dir": str(INPUTS / "noise"),
            "rir_dir": str(INPUTS / "room_ir"), "ref_db": -50.0, "max_event_overlap": 3, "max_event_dur": DURATION,
            "ref_channel": 0, "spatialize_direct_path_time_ms": [6, 50], "return_dry": True, "return_wet": True,
            "return_interference": True, "return_background": True}


def _relative_dirs(meta: Path) -> None:
    """Keep no local paths in the committed JSON: the fork's dirs become relative to fork2025/."""
    data = json.loads(meta.read_text())
    for key in ("foreground_dir", "interference_dir", "background_dir", "rir_dir"):
        data["config"][key] = str(Path(data["config"][key]).relative_to(HERE))
    meta.write_text(json.dumps(data, indent=4))


def run_fork() -> None:
    import random
    import tempfile

    from src.modules.spatialscaper2.semseg_spatialscaper2 import SemgSegScaper2

    fields = ("label", "source_file", "source_time", "event_time", "event_duration", "snr", "role",
              "pitch_shift", "time_stretch", "event_position")
    # our plans, rendered by the fork: generator arguments and switches in `config`, Event fields only
    ours = HERE / "our_plans"
    for meta in sorted((ours / "metadata").glob("*.json")):
        plan = json.loads(meta.read_text())
        fork_plan = {"config": {**plan["config"], **_fork_args()}, "room": plan["room"],
                     **{key: [{f: e.get(f) for f in fields} for e in plan[key]]
                        for key in ("fg_events", "int_events", "bg_events")}}
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(fork_plan, f)
        out = SemgSegScaper2.from_metadata(f.name).generate()
        _write(ours, meta.stem, out, [e["label"] for e in plan["fg_events"]])
    # scenes drawn by the fork itself, with its metadata JSON
    scenes = HERE / "fork_scenes"
    (scenes / "metadata").mkdir(parents=True, exist_ok=True)
    for i, seed in enumerate((11, 12, 13)):
        random.seed(seed)
        np.random.seed(seed)
        scaper = SemgSegScaper2(**_fork_args())
        scaper.set_room(("choose", []))
        scaper.add_background(source_file=("choose_wo_room_consistency", []))
        for _ in range(random.randint(1, 3)):
            scaper.add_event(label=("choose_wo_replacement", []), source_file=("choose", []),
                             source_time=("choose", []), event_position=("choose", []), snr=("uniform", 5, 20))
        for _ in range(random.randint(1, 2)):
            scaper.add_interference(label=("choose", []), source_file=("choose", []), source_time=("choose", []),
                                    event_position=("choose", []), snr=("uniform", 0, 15))
        meta = scenes / "metadata" / f"mix_{i:04d}.json"
        scaper.generate_metadata(str(meta))
        out = SemgSegScaper2.from_metadata(str(meta)).generate()
        _write(scenes, meta.stem, out, out["labels"])
        _relative_dirs(meta)
    print(f"the fork rendered {len(list((ours / 'metadata').glob('*.json')))} of our plans and 3 of its own scenes")


def run_step(steps: dict, doc: str) -> None:
    """Run the step named on the command line (`inputs` needs this project installed: pip install -e .)."""
    step = sys.argv[1] if len(sys.argv) > 1 else ""
    if step not in steps:
        sys.exit(doc)
    steps[step]()


if __name__ == "__main__":
    run_step({"inputs": make_inputs, "fork": run_fork}, __doc__)
