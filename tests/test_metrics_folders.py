"""metrics/folders.py and metrics/reading.py: the files read once into kept rows give what the
in-memory scoring gives; the reports' CSV text is pandas' to the byte; a plain scoring run imports
neither pandas nor the optimisation and statistics parts of scipy; an estimate that is no file, or
may not be read, is named, never scored as a miss."""
import errno
import math
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from conftest import evaluate_args

from s5bench.common.audio import AudioFormatError, read_audio
from s5bench.common.errors import S5Error, cli
from s5bench.metrics.folders import score_folders, summary_markdown, table_csv
from s5bench.metrics.reading import MixtureReader, wav_samples
from s5bench.metrics.scene import blas_dot, loop_dot, score_mixture, score_rows
from s5bench.systems import build_system
from s5bench.systems.run import RunOptions, run_system

QUIET = RunOptions(progress=False)

SR = 8000


def write(path, data, subtype="FLOAT"):
    sf.write(path, data, SR, subtype=subtype)
    return path


def test_reader_gives_the_samples_read_audio_gives(tmp_path):
    rng = np.random.default_rng(0)
    reader = MixtureReader(SR, 4)
    for n, subtype in [(800, "PCM_16"), (1200, "FLOAT"), (800, "PCM_24")]:  # lengths change between mixtures
        mix = write(tmp_path / f"m{n}{subtype}.wav", rng.uniform(-0.5, 0.5, (n, 4)), subtype)
        mono = [write(tmp_path / f"m{n}{subtype}_{k}.wav", rng.uniform(-0.5, 0.5, n), sub)
                for k, sub in enumerate(["FLOAT", "PCM_16", "PCM_32", "DOUBLE"])]
        rows = reader.read(mix, mono)
        assert rows.dtype == np.float64 and rows.shape == (5, n)
        assert np.array_equal(rows[0], read_audio(mix, always_2d=True, dtype="float32")[:, 0])
        for row, path in zip(rows[1:], mono):  # 32-bit PCM and double files exactly, without a float32 step
            assert np.array_equal(row, read_audio(path, dtype="float64"))


def _with_odd_chunk_before_data(path):
    """The WAV file at `path` rewritten with a 3-byte LIST chunk (and its pad byte) before its data chunk."""
    raw = path.read_bytes()
    at = raw.index(b"data")
    body = raw[12:at] + b"LIST" + (3).to_bytes(4, "little") + b"abc\0" + raw[at:]
    path.write_bytes(b"RIFF" + (4 + len(body)).to_bytes(4, "little") + b"WAVE" + body)
    return path


def test_wav_files_of_float_and_16_bit_samples_are_read_as_stored(tmp_path):
    rng = np.random.default_rng(2)
    data = rng.uniform(-0.9, 0.9, (300, 4))
    cases = [("FLOAT", "WAV", np.float32), ("PCM_16", "WAV", np.int16), ("PCM_16", "WAVEX", np.int16),
             ("FLOAT", "WAVEX", np.float32)]
    for subtype, container, dtype in cases:
        path = tmp_path / f"{subtype}_{container}.wav"
        sf.write(path, data, SR, subtype=subtype, format=container)
        odd = tmp_path / f"odd_{subtype}_{container}.wav"
        odd.write_bytes(path.read_bytes())
        for name, file in [("plain", path), ("odd chunk", _with_odd_chunk_before_data(odd))]:
            found = wav_samples(file)
            assert found is not None, (subtype, container, name)
            rate, samples = found
            assert rate == SR and samples.dtype == dtype and samples.shape == (300, 4)
            assert np.array_equal(_as_float(samples), sf.read(file, dtype="float64")[0]), (subtype, container, name)


def _as_float(samples):
    return samples * (1 / 32768) if samples.dtype == np.int16 else samples.astype(np.float64)


def _chunk(cid, body):
    return cid + len(body).to_bytes(4, "little") + body + (b"\0" if len(body) % 2 else b"")


def _riff(*chunks, riff_size=None):
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + (len(body) if riff_size is None else riff_size).to_bytes(4, "little") + body


FLOAT_FMT = struct.pack("<HHIIHH", 3, 1, SR, SR * 4, 4, 32)
PCM16_FMT = struct.pack("<HHIIHH", 1, 1, SR, SR * 2, 2, 16)
SAMPLES = np.linspace(-0.5, 0.5, 200, dtype=np.float32).tobytes()

# Files libsndfile refuses or repairs, which the direct reader must leave to it (a review's list).
ODD_FILES = {
    "fmt cut short": b"RIFF" + (20).to_bytes(4, "little") + b"WAVEfmt " + (16).to_bytes(4, "little") + b"\3\0",
    "extensible fmt cut short": _riff(_chunk(b"fmt ", struct.pack("<HHIIHH", 0xFFFE, 1, SR, SR * 4, 4, 32)),
                                      _chunk(b"data", SAMPLES)),
    "two fmt chunks": _riff(_chunk(b"fmt ", FLOAT_FMT), _chunk(b"fmt ", PCM16_FMT), _chunk(b"data", SAMPLES)),
    "two data chunks": _riff(_chunk(b"fmt ", FLOAT_FMT), _chunk(b"data", SAMPLES), _chunk(b"data", SAMPLES)),
    "a chunk id of zeros": _riff(_chunk(b"fmt ", FLOAT_FMT), _chunk(b"\0\0\0\0", b"ab"), _chunk(b"data", SAMPLES)),
    "unfinished (sizes left at 0)": _riff(_chunk(b"fmt ", FLOAT_FMT), b"data" + bytes(4) + SAMPLES,
                                          riff_size=4 + 8 + 16 + 8),
    "bytes after the RIFF chunk": _riff(_chunk(b"fmt ", FLOAT_FMT), _chunk(b"data", SAMPLES)) + b"junk",
    "data not a whole number of frames": _riff(_chunk(b"fmt ", FLOAT_FMT), _chunk(b"data", SAMPLES + b"\0\0")),
}


@pytest.mark.parametrize("kind", ["PCM_24", "DOUBLE", "PCM_32", "big-endian", "truncated", "not RIFF", "empty",
                                  "missing", "no fmt", *ODD_FILES])
def test_other_files_are_left_to_soundfile(tmp_path, kind):
    path = tmp_path / "a.wav"
    data = np.linspace(-0.5, 0.5, 200)
    if kind in ODD_FILES:
        path.write_bytes(ODD_FILES[kind])
    elif kind in ("PCM_24", "DOUBLE", "PCM_32"):
        sf.write(path, data, SR, subtype=kind)
    elif kind == "big-endian":
        sf.write(path, data, SR, subtype="PCM_16", endian="BIG")
    elif kind == "truncated":
        sf.write(path, data, SR, subtype="FLOAT")
        path.write_bytes(path.read_bytes()[:-10])
    elif kind == "not RIFF":
        path.write_bytes(b"FORM" + bytes(100))
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "no fmt":
        path.write_bytes(b"RIFF" + (16).to_bytes(4, "little") + b"WAVEdata" + (4).to_bytes(4, "little") + bytes(4))
    assert wav_samples(path) is None


def test_scores_from_the_files_equal_the_in_memory_ones_for_every_sample_type(tmp_path):
    """Directly read (float, 16-bit) and soundfile-read (24-bit, double) files, one mixture each, scored
    from the folders as from the waveforms read_audio gives."""
    rng = np.random.default_rng(9)
    dirs = {k: tmp_path / k for k in ("soundscape", "oracle_target", "estimate")}
    for d in dirs.values():
        d.mkdir()
    for i, subtype in enumerate(["FLOAT", "PCM_16", "PCM_24", "DOUBLE"]):
        refs = {lab: rng.uniform(-0.3, 0.3, 20000) for lab in ["Speech", "Cough"][:1 + i % 2]}
        write(dirs["soundscape"] / f"mix_{i}.wav", rng.uniform(-0.1, 0.1, (20000, 4)) + sum(refs.values())[:, None],
              subtype)
        for k, (lab, w) in enumerate(refs.items()):
            write(dirs["oracle_target"] / f"mix_{i}_{lab}.wav", w, subtype)
            noise = 10 ** -rng.uniform(0.5, 2.5) * rng.standard_normal(20000)  # some pairs above 27 dB
            write(dirs["estimate"] / f"mix_{i}_{lab}.wav", (w + noise).clip(-0.99, 0.99), ["FLOAT", "PCM_16"][k % 2])
    scores = score_folders(*dirs.values(), sr=SR, progress=False)
    for i, got in enumerate(scores):
        mixture = read_audio(dirs["soundscape"] / f"mix_{i}.wav", dtype="float64", always_2d=True)[:, 0]
        refs = {p.stem.split("_")[-1]: read_audio(p, dtype="float64")
                for p in sorted(dirs["oracle_target"].glob(f"mix_{i}_*.wav"))}
        ests = {p.stem.split("_")[-1]: read_audio(p, dtype="float64")
                for p in sorted(dirs["estimate"].glob(f"mix_{i}_*.wav"))}
        want = score_mixture(mixture, refs, ests)
        assert got.capi_sdri == pytest.approx(want.capi_sdri, abs=1e-9)
        assert got.snri == pytest.approx(want.snri, abs=1e-9)


@pytest.mark.parametrize("breakage, message", [
    ("nan_in_channel_3", "contains NaN or Inf samples"),
    ("channels", "2 channel(s), expected 4"),
    ("short", "shorter than its mixture"),
    ("rate", "sample rate 16000 Hz, expected 8000"),
    ("garbage", "not a readable WAV file"),
    ("missing", "audio file not found"),
])
def test_reader_errors_are_read_audios(tmp_path, breakage, message):
    mixture = np.zeros((400, 4))
    mono = tmp_path / "m_Speech.wav"
    write(mono, np.zeros(400))
    if breakage == "nan_in_channel_3":
        mixture[7, 3] = np.nan
    elif breakage == "channels":
        mixture = np.zeros((400, 2))
    elif breakage == "short":
        write(mono, np.zeros(300))
    elif breakage == "rate":
        sf.write(mono, np.zeros(400), 16000)
    elif breakage == "garbage":
        mono.write_bytes(b"RIFF but not audio" * 4)
    elif breakage == "missing":
        mono = tmp_path / "nowhere.wav"
    mix = write(tmp_path / "m.wav", mixture)
    with pytest.raises((AudioFormatError, FileNotFoundError, ValueError), match=re.escape(message)) as err:
        MixtureReader(SR, 4).read(mix, [mono])
    assert str(mix if breakage in ("nan_in_channel_3", "channels") else mono) in str(err.value)


def test_rows_score_as_the_waveforms_do_with_either_inner_product():
    rng = np.random.default_rng(3)
    for _ in range(50):
        refs = [(lab, rng.standard_normal(500)) for lab in rng.choice(["Speech", "Cough", "Pour"], 2)]
        ests = [(lab, w + 10 ** -rng.uniform(0, 3) * rng.standard_normal(500)) for lab, w in refs]
        x0 = sum(w for _, w in refs) + 0.1 * rng.standard_normal(500)
        a = score_mixture(x0, refs, ests, edition=2026)
        rows = np.stack([x0] + [w for _, w in refs + ests])
        b = score_rows(rows, [lab for lab, _ in refs], [lab for lab, _ in ests], edition=2026, dot=loop_dot)
        assert b.capi_sdri == pytest.approx(a.capi_sdri, abs=1e-9) and b.snri == pytest.approx(a.snri, abs=1e-9)
        assert score_rows(rows, [lab for lab, _ in refs], [lab for lab, _ in ests], edition=2026,
                          dot=blas_dot) == a


def test_a_nan_row_is_named_as_the_caller_calls_it():
    rows = np.ones((3, 4))
    rows[2, 1] = np.inf
    with pytest.raises(ValueError, match="^est.wav: contains NaN or Inf samples"):
        score_rows(rows, ["Speech"], ["Speech"], row_names=["mix.wav", "ref.wav", "est.wav"])
    with pytest.raises(ValueError, match=re.escape("2 signal row(s) for 1 mixture, 1 reference(s)")):
        score_rows(rows[:2], ["Speech"], ["Speech"])


@pytest.fixture
def small_set(tmp_path):
    """Five mixtures of 0.1 s: 1-3 references, noisy estimates, a false alarm where a slot is free."""
    rng = np.random.default_rng(5)
    dirs = {k: tmp_path / "set" / k for k in ("soundscape", "oracle_target", "estimate")}
    for d in dirs.values():
        d.mkdir(parents=True)
    for i in range(5):
        refs = {lab: rng.uniform(-0.3, 0.3, 800) for lab in ["Speech", "Cough", "Pour"][:1 + i % 3]}
        write(dirs["soundscape"] / f"mix_{i}.wav", rng.uniform(-0.1, 0.1, (800, 4)) + sum(refs.values())[:, None])
        for lab, w in refs.items():
            write(dirs["oracle_target"] / f"mix_{i}_{lab}.wav", w)
            write(dirs["estimate"] / f"mix_{i}_{lab}.wav", w + 0.05 * rng.standard_normal(800))
        if len(refs) < 3:  # a false alarm where a slot is free
            write(dirs["estimate"] / f"mix_{i}_Doorbell.wav", 0.01 * rng.standard_normal(800))
    return dirs


def test_one_process_and_two_give_the_same_scores(small_set):
    one = score_folders(*small_set.values(), sr=SR, progress=False)
    two = score_folders(*small_set.values(), sr=SR, progress=False, jobs=2)
    assert [s.soundscape for s in one] == [f"mix_{i}" for i in range(5)] == [s.soundscape for s in two]
    for a, b in zip(one, two):
        assert a.capi_sdri == pytest.approx(b.capi_sdri, abs=1e-9) and a.snri == pytest.approx(b.snri, abs=1e-9)
        assert (a.tp, a.fp, a.fn) == (b.tp, b.fp, b.fn) == (len(a.ref_labels), int(len(a.ref_labels) < 3), 0)


def _random_rows(rng, n):
    values = [0.0, -0.0, 5.0, 1e16, 1e15, 123456789.123, 2.5e-5, 1e-4, math.inf, -math.inf, math.nan, 1 / 3]
    rows = []
    for i in range(n):
        rows.append({
            "name": ["mix_1", "a,b", 'say "hi"', "", "x;y"][i % 5],
            "float": float(rng.choice(values)) if i % 3 else float(rng.normal(0, 1e3)),
            "mixed": 3 if i % 2 else 2.5,  # ints and floats in one column: pandas writes floats
            "int": int(rng.integers(-5, 5)),
            "bool": bool(i % 2),
            "all_nan": math.nan,
            "np_float": np.float64(rng.normal()),
        })
    return rows


def test_table_csv_is_pandas_to_the_byte():
    rng = np.random.default_rng(11)
    for n in (1, 2, 7, 40):
        rows = _random_rows(rng, n)
        assert table_csv(rows) == pd.DataFrame(rows).to_csv(index=False)
        columns = ["int", "float", "absent"]
        assert table_csv(rows, columns) == pd.DataFrame(rows, columns=columns).to_csv(index=False)
    one_nan = [{"a": math.nan}, {"a": 1.5}]  # a row of one empty field is written as ""
    assert table_csv(one_nan) == pd.DataFrame(one_nan).to_csv(index=False)


def test_summary_markdown_knows_the_edition_from_common_editions():
    base = {"n_mixtures": 1, "SNRi": 1.0, "Acc_mix": 0.0, "Acc_src": 0.0}
    assert "DCASE 2026 edition" in summary_markdown({**base, "CAPI-SDRi": 1.0})
    assert "DCASE 2025 edition" in summary_markdown({**base, "CA-SDRi": 1.0})
    with pytest.raises(KeyError, match="ranking metric of one edition"):
        summary_markdown(base)


def test_a_plain_scoring_run_imports_only_what_it_uses(small_set, tmp_path):
    folders = ", ".join(repr(str(d)) for d in small_set.values())
    code = ("import sys; from s5bench.metrics.folders import score_folders, write_reports; "
            f"write_reports(score_folders({folders}, sr={SR}, progress=False), {str(tmp_path)!r}, "
            "official_json=True); "
            "print(' '.join(m for m in ('pandas', 'scipy.optimize', 'scipy.stats', 'torch', 'tqdm', "
            "'multiprocessing.pool') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "", f"imported by a plain scoring run: {done.stdout}"
    assert (tmp_path / "summary.csv").is_file()


def test_the_evaluate_command_imports_neither_scipy_nor_pandas(tmp_path):
    """Its intervals included: Student's t and the normal come from metrics/distributions.py, not
    scipy.special (0.17 s to import)."""
    rng = np.random.default_rng(1)
    dirs = {k: tmp_path / k for k in ("soundscape", "oracle_target", "estimate")}
    for d in dirs.values():
        d.mkdir()
    for i in range(3):
        ref = rng.uniform(-0.3, 0.3, 1600)
        sf.write(dirs["soundscape"] / f"mix_{i}.wav", np.tile(ref[:, None], 4), 32000, subtype="FLOAT")
        sf.write(dirs["oracle_target"] / f"mix_{i}_Speech.wav", ref, 32000, subtype="FLOAT")
        sf.write(dirs["estimate"] / f"mix_{i}_Speech.wav", 0.5 * ref, 32000, subtype="FLOAT")
    argv = ["evaluate", "--soundscape-dir", str(dirs["soundscape"]), "--oracle-dir", str(dirs["oracle_target"]),
            "--estimate-dir", str(dirs["estimate"]), "--out-dir", str(tmp_path / "out")]
    code = ("import atexit, runpy, sys; "
            "atexit.register(lambda: print('LOADED', *sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('scipy', 'pandas', 'torch')))); "
            f"sys.argv = {argv!r}; runpy.run_module('s5bench.runners.evaluate', run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "summary_ci.csv").is_file()
    assert done.stdout.strip().splitlines()[-1] == "LOADED", done.stdout


def estimates_with(tiny_test_set, tmp_path, make) -> Path:
    run_system(build_system("oracle_sources"), tiny_test_set, tmp_path / "run", QUIET)
    est = tmp_path / "run" / "final" / "estimate"
    make(est, sorted(est.glob("mix_0000_*.wav"))[0])
    return est


@pytest.mark.parametrize("kind,message", [
    ("loop", "a symbolic link loop"), ("dangling", "a dangling symbolic link"), ("folder", "a folder")])
def test_an_estimate_that_is_no_file_is_named_not_scored_as_a_miss(tiny_test_set, tmp_path, kind, message):
    from s5bench.metrics.folders import score_folders

    def make(est, victim):
        victim.unlink()
        if kind == "loop":
            os.symlink(victim.name, victim)  # points at itself
        elif kind == "dangling":
            os.symlink(tmp_path / "gone.wav", victim)
        else:
            victim.mkdir()

    est = estimates_with(tiny_test_set, tmp_path, make)
    with pytest.raises(S5Error, match=rf"final/estimate/mix_0000_\w+\.wav: {message}"):
        score_folders(tiny_test_set / "soundscape", tiny_test_set / "oracle_target", est, progress=False)


def test_an_unreadable_estimate_says_permission(tiny_test_set, tmp_path, monkeypatch, capsys):
    from s5bench.common import audio
    from s5bench.metrics import reading
    from s5bench.runners import evaluate

    victim = []
    est = estimates_with(tiny_test_set, tmp_path, lambda est, v: (v.chmod(0), victim.append(v)))
    if os.geteuid() == 0:  # root reads a chmod 000 file: the refusal a user would get is simulated
        def refusing_open(path, *a, **k):
            if Path(path) == victim[0]:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
            return open(path, *a, **k)

        monkeypatch.setattr(audio, "open", refusing_open, raising=False)
        monkeypatch.setattr(reading, "open", refusing_open, raising=False)  # wav_samples maps files it opens
        opened_by_soundfile = reading.sf.SoundFile

        def refusing_soundfile(path, *a, **k):  # the scoring's reader opens files through libsndfile
            if Path(path) == victim[0]:
                raise RuntimeError(f"Error opening {str(path)!r}: System error.")  # what libsndfile says then
            return opened_by_soundfile(path, *a, **k)

        monkeypatch.setattr(reading.sf, "SoundFile", refusing_soundfile)
    status = cli(evaluate.main, evaluate_args(tiny_test_set, est, tmp_path / "r"))
    assert status == 2 and f"error: permission denied: {victim[0]}\n" in capsys.readouterr().err
