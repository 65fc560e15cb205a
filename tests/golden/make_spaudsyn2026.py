"""Make tests/golden/spaudsyn2026/: a small DCASE 2026 golden case drawn and rendered by the REAL
SpAudSyn (nttcslab/SpAudSyn, the 2026 baseline's generator), so that CI can check the built-in
engine's 2026 rules against it without SpAudSyn.

Two steps, from the repository root:

    python tests/golden/make_spaudsyn2026.py inputs
    PYTHONPATH=<SpAudSyn checkout> <python with SpAudSyn's needs> tests/golden/make_spaudsyn2026.py spaudsyn

Step 1 (this project's environment) writes small inputs (4 kHz, 4 s scenes): target classes
whose clips sit in per-speaker subfolders (duplicates come from another subfolder), one clip
longer than a scene, interference, a noise file longer and one shorter than a scene (SpAudSyn
tiles the short one), and a SOFA room whose main peak is negative at some positions. Step 2
(a scratch environment with SpAudSyn, never a dependency of this project) draws four scenes
with SpAudSyn's own API — one with a class twice, one with none — writes its metadata JSON and
renders the mixture and the dry channel-0 references (`<mix>_<i>_<Label>.wav`, float32).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_fork2025 as fork2025  # noqa: E402
from make_fork2025 import run_step  # noqa: E402

HERE = Path(__file__).resolve().parent / "spaudsyn2026"
INPUTS = HERE / "inputs"
SR, DURATION = 4000, 4.0
TARGETS = {"Speech": {"spk1": [1.5, 5.5], "spk2": [2.0]}, "Cough": {"a": [0.8], "b": [4.9]}}
INTERFERENCE = {"Bark": {"x": [3.0]}}
NOISE = {"ambience_long.wav": 5.5, "ambience_short.wav": 2.5}


def data_config(root: Path) -> dict:
    """The built-in engine's recipe for the golden inputs under `root` (the 2025 case's, at −55 dB)."""
    cfg = fork2025.data_config(root)
    return {**cfg, "scene": {"duration": DURATION, "sr": SR, "ref_db": -55.0}}


def make_inputs() -> None:
    import soundfile as sf

    from s5bench.data_gen.rooms import write_sofa_room

    _clip, _room = fork2025._clip, fork2025._room
    rng = np.random.default_rng(2026)
    for folder, table in (("sound_event", TARGETS), ("interference", INTERFERENCE)):
        for label, subfolders in table.items():
            for sub, lengths in subfolders.items():
                for k, seconds in enumerate(lengths):
                    path = INPUTS / folder / label / sub / f"{label.lower()}_{sub}_{k}.wav"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    sf.write(path, _clip(rng, seconds), SR, subtype="PCM_16")
    (INPUTS / "noise").mkdir(parents=True, exist_ok=True)
    for name, seconds in NOISE.items():
        sf.write(INPUTS / "noise" / name, 0.2 * rng.standard_normal((int(seconds * SR), 4)), SR, subtype="PCM_16")
    irs, pos = _room(rng)
    write_sofa_room(INPUTS / "room_ir" / "room_b.sofa", irs, pos, SR, title="golden room 2026")
    print(f"inputs written under {INPUTS}")


def run_spaudsyn() -> None:
    import random

    import soundfile as sf
    from src.spatial_audio_synthesizer import SpAudSyn

    room_config = {"module": "src.room", "main": "SofaRoom",
                   "args": {"path": str(INPUTS / "room_ir" / "room_b.sofa"), "direct_range_ms": [6, 50]}}
    # (targets as (label or None for a random new class), noise file): a duplicate, a zero-target scene
    scenes = [
        [("Speech", "const"), ("Speech", "dup"), ("Cough", "const")],
        [],
        [("Cough", "const"), ("Cough", "dup")],
        [("Speech", "const"), ("Cough", "const")],
    ]
    noises = ["ambience_short.wav", "ambience_long.wav", "ambience_short.wav", "ambience_long.wav"]
    for d in ("metadata", "soundscape", "oracle_target"):
        (HERE / d).mkdir(parents=True, exist_ok=True)
    for i, (events, noise) in enumerate(zip(scenes, noises)):
        random.seed(100 + i)
        np.random.seed(100 + i)
        s3 = SpAudSyn(duration=DURATION, sr=SR, max_event_overlap=3, max_event_dur=DURATION, ref_db=-55,
                      foreground_dir=str(INPUTS / "sound_event"), background_dir=str(INPUTS / "noise"),
                      interference_dir=str(INPUTS / "interference"), room_config=room_config)
        s3.add_background(source_file={"method": "const", "value": str(INPUTS / "noise" / noise)})
        for label, how in events:
            source = ({"method": "choose_wo_replacement", "exclusion_folder_depth": 1} if how == "dup"
                      else {"method": "choose"})
            s3.add_event(label={"method": "const", "value": label}, source_file=source,
                         snr={"method": "uniform", "range": [5, 20]})
        s3.add_interference(snr={"method": "uniform", "range": [0, 15]})
        name = f"mix_{i:04d}"
        meta = s3.generate_metadata(str(HERE / "metadata" / f"{name}.json"))
        out = SpAudSyn.from_metadata(meta).synthesize(fg_return={"dry": True, "dry_channel": 0})
        sf.write(HERE / "soundscape" / f"{name}.wav", out["mixture"].T.astype(np.float32), SR, subtype="FLOAT")
        for k, ev in enumerate(out["fg_events"]):
            label = meta["fg_events"][k]["label"]
            sf.write(HERE / "oracle_target" / f"{name}_{k}_{label}.wav", ev["waveform_dry"][0].astype(np.float32),
                     SR, subtype="FLOAT")
        _relative_paths(HERE / "metadata" / f"{name}.json")
    print(f"SpAudSyn drew and rendered {len(scenes)} scenes under {HERE}")


def _relative_paths(meta: Path) -> None:
    """Keep no local paths in the committed JSON: folders and the SOFA path relative to spaudsyn2026/."""
    data = json.loads(meta.read_text())
    for key in ("foreground_dir", "interference_dir", "background_dir"):
        data["config"][key] = str(Path(data["config"][key]).relative_to(HERE))
    room_args = data["config"]["room_config"]["args"]
    room_args["path"] = str(Path(room_args["path"]).relative_to(HERE))
    room = data["room"]["args"]["metadata"]
    room["sofa_path"] = str(Path(room["sofa_path"]).relative_to(HERE))
    for ev in data["bg_events"]:
        if Path(ev["source_file"]).is_absolute():
            ev["source_file"] = str(Path(ev["source_file"]).relative_to(INPUTS / "noise"))
    meta.write_text(json.dumps(data, indent=4))


if __name__ == "__main__":
    run_step({"inputs": make_inputs, "spaudsyn": run_spaudsyn}, __doc__)
