import numpy as np
import pytest
import soundfile as sf
from conftest import tiny_data_config

from s5bench.common.labels import LABELS
from s5bench.data_gen.sources import CombinedBank, FolderBank, FolderNoiseBank, ProceduralBank, ResampledFolderBank
from s5bench.data_gen.synth import INTERFERENCE_SYNTHS, TARGET_SYNTHS
from s5bench.data_gen.writer import generate_set

SR = 32000


def _write(path, x, sr=SR):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, x, sr, subtype="FLOAT")


def test_folder_bank_indexes_and_reads_frame_ranges(tmp_path):
    ramp = np.arange(1000) / 1000
    _write(tmp_path / "Speech" / "a.wav", ramp)
    _write(tmp_path / "Dishes" / "b.wav", -ramp[:500])
    bank = FolderBank(tmp_path, allowed_labels=LABELS)
    assert bank.labels == ["Dishes", "Speech"]
    item = bank.items("Speech")[0]
    assert (item.source_file, item.n_frames) == ("Speech/a.wav", 1000)
    np.testing.assert_allclose(bank.read("Speech/a.wav", 100, 10), ramp[100:110], atol=1e-7)


def test_vctk_like_bank_resamples_and_replaces_speech(tmp_path):
    _write(tmp_path / "dev" / "Speech" / "orig.wav", np.ones(320))
    _write(tmp_path / "dev" / "Typing" / "t.wav", np.ones(320))
    tone = np.sin(2 * np.pi * 440 * np.arange(4800) / 48000)
    _write(tmp_path / "vctk" / "p225" / "p225_001.wav", tone, sr=48000)
    vctk = ResampledFolderBank(tmp_path / "vctk", label="Speech")
    assert vctk.items("Speech")[0].n_frames == 3200
    x = vctk.read("p225/p225_001.wav")
    assert len(x) == 3200
    ref = np.sin(2 * np.pi * 440 * np.arange(3200) / SR)
    assert np.corrcoef(x[200:-200], ref[200:-200])[0, 1] > 0.999
    both = CombinedBank([FolderBank(tmp_path / "dev"), vctk], replace=["Speech"])
    assert [it.source_file for it in both.items("Speech")] == ["p225/p225_001.wav"]
    assert len(both.items("Typing")) == 1


def test_bad_banks(tmp_path):
    _write(tmp_path / "Doggo" / "x.wav", np.zeros(10))
    with pytest.raises(ValueError, match="unknown label folder 'Doggo'"):
        FolderBank(tmp_path, allowed_labels=LABELS)
    _write(tmp_path / "sr" / "Speech" / "x.wav", np.zeros(10), sr=16000)
    with pytest.raises(ValueError, match="x.wav: sample rate 16000 Hz, the bank expects 32000"):
        FolderBank(tmp_path / "sr")
    (tmp_path / "empty" / "Speech").mkdir(parents=True)
    with pytest.raises(ValueError, match="is empty"):
        FolderBank(tmp_path / "empty")
    _write(tmp_path / "noise" / "mono.wav", np.zeros(100))
    with pytest.raises(ValueError, match="mono.wav: 1 channel\\(s\\), background noise must have 4"):
        FolderNoiseBank(tmp_path / "noise")
    with pytest.raises(FileNotFoundError, match="not found"):
        FolderBank(tmp_path / "nope")


def test_procedural_bank_is_deterministic_and_covers_classes():
    a, b = ProceduralBank("target", seed=3, n_per_label=4), ProceduralBank("target", seed=3, n_per_label=4)
    assert a.labels == sorted(LABELS) == sorted(TARGET_SYNTHS)
    for lab in a.labels:
        it = a.items(lab)[1]
        x = a.read(it.source_file)
        assert len(x) == it.n_frames and np.isfinite(x).all() and np.abs(x).max() > 0
        np.testing.assert_array_equal(x, b.read(it.source_file))
    other = ProceduralBank("target", seed=4, n_per_label=4)
    assert not np.array_equal(other.read("Speech/synth_00001.wav")[:1000], a.read("Speech/synth_00001.wav")[:1000])
    inter = ProceduralBank("interference", n_per_label=2)
    assert set(inter.labels) == set(INTERFERENCE_SYNTHS) and not set(inter.labels) & set(LABELS)


def test_vctk_either_release_one_microphone_and_mp3_percussion(tmp_path):
    import soundfile as sf

    from s5bench.data_gen.config import build_sources

    rng = np.random.default_rng(0)
    new = tmp_path / "VCTK-Corpus-0.92" / "wav48_silence_trimmed"
    for spk in ("p225", "p226"):
        for utt in ("001", "002"):
            for mic in ("mic1", "mic2"):
                (new / spk).mkdir(parents=True, exist_ok=True)
                sf.write(new / spk / f"{spk}_{utt}_{mic}.flac", 0.1 * rng.standard_normal(4800), 48000)
    old = tmp_path / "VCTK-Corpus" / "wav48" / "p227"
    old.mkdir(parents=True)
    sf.write(old / "p227_001.wav", 0.1 * rng.standard_normal(4800), 48000)
    pix = tmp_path / "pixabay"
    pix.mkdir()
    sf.write(pix / "drums.mp3", 0.1 * rng.standard_normal((44100, 2)), 44100, format="MP3")
    sf.write(pix / "tabla.ogg", 0.1 * rng.standard_normal(22050), 22050)
    cfg = {"sr": 32000, "root": str(tmp_path), "_path": "test",
           "targets": {"combine": [{"vctk": {"root": "VCTK-Corpus-0.92", "mic": "mic2"}},
                                   {"resampled": {"root": "pixabay", "label": "Percussion"}}]}}
    bank = build_sources(cfg, "target")
    speech = bank.items("Speech")
    assert len(speech) == 4 and all(it.source_file.endswith("_mic2.flac") for it in speech)
    assert len(bank.items("Percussion")) == 2 and bank.read("drums.mp3").ndim == 1
    assert len(bank.read(speech[0].source_file)) == 3200  # 4800 samples at 48 kHz -> 32 kHz
    assert "4 clips from 2 speakers" in bank.describe() and "2 clips" in bank.describe()
    cfg["targets"] = {"vctk": {"root": "VCTK-Corpus"}}
    assert "1 clips from 1 speakers" in build_sources(cfg, "target").describe()  # the older layout
    cfg["targets"] = {"vctk": {"root": "pixabay"}}
    with pytest.raises(FileNotFoundError, match="neither wav48_silence_trimmed nor wav48"):
        build_sources(cfg, "target")


def test_a_folder_bank_says_what_it_skipped_and_names_a_broken_clip(tmp_path):
    _write(tmp_path / "ok" / "Speech" / "a.wav", np.ones(320))
    (tmp_path / "ok" / "Speech" / "b.oga").write_bytes(b"OggS not read here")
    bank = FolderBank(tmp_path / "ok")
    assert "1 clips in 1 label(s) (1 file(s) skipped, not of a type the bank reads (.wav, .flac): " \
           "Speech/b.oga)" in bank.describe()
    (tmp_path / "bad" / "Speech").mkdir(parents=True)
    (tmp_path / "bad" / "Speech" / "c.wav").write_bytes(b"RIFF, but cut off")
    with pytest.raises(ValueError, match=r"Speech/c\.wav: not a readable WAV file"):
        FolderBank(tmp_path / "bad")


def clip_folder(root, counts: dict, sr: int = 32000):
    import numpy as np
    import soundfile as sf

    for label, n in counts.items():
        (root / label).mkdir(parents=True)
        for k in range(n):
            sf.write(root / label / f"c{k}.wav", np.full(sr // 2, 0.1, dtype=np.float32), sr)


def test_a_folder_bank_with_missing_and_scarce_classes_is_named(tmp_path):
    import yaml

    from s5bench.data_gen.config import build_sources, coverage_warnings, load_config

    recipes = tmp_path / "recipes"
    clip_folder(recipes / "se", {"Speech": 6, "Doorbell": 1})  # 16 classes with no clip, one clip reused
    cfg = tiny_data_config(tmp_path)
    del cfg["_path"]
    cfg["targets"] = {"folder": {"root": "se"}}  # relative: against the YAML's folder
    (recipes / "r.yaml").write_text(yaml.safe_dump(cfg))
    bank = build_sources(load_config(recipes / "r.yaml"), "target")
    lines = coverage_warnings(bank, "target")
    assert len(lines) == 2
    assert "16 of 18 classes have no clip and never occur: AlarmClock, BicycleBell" in lines[0]
    assert lines[1].endswith("classes with fewer than 5 clips (each clip returns in many mixtures): Doorbell 1")


def test_a_builtin_bank_can_be_restricted_to_some_classes(tmp_path):
    import yaml

    from s5bench.data_gen.config import build_sources, coverage_warnings, load_config

    cfg = tiny_data_config(tmp_path)
    del cfg["_path"]
    cfg["targets"]["procedural"]["classes"] = ["Speech", "Doorbell", "Cough"]
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(cfg))

    out = tmp_path / "set"
    summary = generate_set(load_config(tmp_path / "r.yaml"), out, n=4, seed=0, jobs=1, progress=False)
    assert set(summary["class_counts"]) <= {"Speech", "Doorbell", "Cough"} and summary["class_counts"]
    assert [w.split(":")[0] for w in summary["warnings"]] == ["interference bank procedural interference bank"]
    assert coverage_warnings(build_sources(load_config(tmp_path / "r.yaml"), "target"), "target") == []
    cfg["targets"]["procedural"]["classes"] = ["Speech", "Spech"]
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(cfg))
    with pytest.raises(ValueError, match=r"targets\.procedural\.classes: .*not classes: \['Spech'\]"):
        load_config(tmp_path / "r.yaml")
