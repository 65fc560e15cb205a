"""The listening part of the web report: one mixture's clips (its channel 0, every reference,
every stage's estimate) with their SNR figures, written as Ogg files and spectrograms, and notes
on estimate files that are missing, consistent with the scores the page shows."""
from __future__ import annotations

import io
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import numpy as np

from s5bench.common.atomic import named
from s5bench.common.audio import audio_info, read_audio
from s5bench.metrics.breakdown import labels_of
from s5bench.metrics.signal import snr

from .report_data import Run, Stage
from .report_plots import plot_spectrogram


def spectrogram_db(x: np.ndarray, n_fft: int = 1024, hop: int = 256) -> np.ndarray:
    """A clip's STFT magnitude in dB (scipy's `stft`, Hann window, no edge padding).

    Args:
        x: the clip, shape (samples,).
        n_fft: the window length in samples.
        hop: the step between windows in samples.

    Returns:
        20·log10(|STFT| + 1e-10), shape (n_fft // 2 + 1, frames), low frequencies first.
    """
    from scipy.signal import stft

    # scipy documents `boundary` as "str or None"; unannotated, its type is inferred from the default "zeros"
    _, _, z = stft(x, nperseg=n_fft, noverlap=n_fft - hop, boundary=None,  # pyright: ignore[reportArgumentType]
                   padded=False)
    return 20 * np.log10(np.abs(z) + 1e-10)


def estimate_notes(stage: Stage, name: str, present: list[str]) -> list[str]:
    """Notes on one scored stage's estimate files of one mixture, measured against the labels it
    was scored with (its per_mixture.csv row, what the page's table shows): "every slot answered
    as silence" only when the scores say so and no file is there; a label scored but whose file is
    gone, or a file the scores do not include, is said as such.

    Args:
        stage: the stage (no notes when it was not scored).
        name: the mixture.
        present: the labels of the estimate files found now.

    Returns:
        The notes, each starting with the stage's name.
    """
    if stage.per_mixture is None:
        return []
    row = stage.per_mixture.loc[stage.per_mixture["soundscape"] == name]
    scored = labels_of(row["est_labels"].iloc[0]) if len(row) else []
    if not scored and not present:
        return [f"{stage.name}: every slot answered as silence (no estimate file)"]
    notes = []
    missing = sorted((Counter(scored) - Counter(present)).elements())
    extra = sorted((Counter(present) - Counter(scored)).elements())
    if missing:
        notes.append(f"{stage.name}: scored with an estimate of {', '.join(missing)}, but "
                     f"{stage.info['estimate_dir']} has no such file now (removed after scoring): nothing to play")
    if extra:
        notes.append(f"{stage.name}: estimate file(s) of {', '.join(extra)} that the scores do not include "
                     "(written after scoring)")
    return notes


def mixture_clips(run: Run, name: str, est_files: dict, ref_files: dict) -> tuple[list[dict], list[str]]:
    """The clips of one mixture: its channel 0, each reference, each stage's estimate of each slot,
    with their SNR figures; and notes on what is missing.

    Args:
        run: the run (its first stage's run_info names the mixtures' folder).
        name: the mixture.
        est_files: {stage: {mixture: [(label, estimate file)]}} of the stages whose estimate folder exists.
        ref_files: {mixture: [(label, oracle target file)]} (empty without references).

    Returns:
        (clips, notes): one dict per clip, in page order, with `kind` (mixture, reference or
        estimate), `title`, `wave` of shape (samples,) (a file of another length than the mixture
        is an error), `figure` (text: a reference's SNR of the mixture; an estimate's SNR and SDRi
        in dB against the best reference of its label, or why it has none; "" for the mixture)
        and, but for the mixture, `label` (and `stage` for an estimate); the notes on missing
        estimate folders and files (`estimate_notes`).
    """
    info = run.stages[0].info
    mixture = read_audio(Path(info["soundscape_dir"]) / f"{name}.wav", always_2d=True)
    x0 = mixture[:, 0]
    refs = [(lab, read_audio(p, length=len(x0))) for lab, p in ref_files.get(name, [])]
    clips = [{"kind": "mixture", "title": "mixture, channel 0 (W)", "wave": x0, "figure": ""}]
    for lab, r in refs:
        clips.append({"kind": "reference", "title": f"reference: {lab}", "label": lab, "wave": r,
                      "figure": f"SNR of the mixture {float(snr(x0, r)):.2f} dB"})
    notes = []
    for stage in run.stages:
        files = est_files.get(stage.name)
        if files is None:
            notes.append(f"{stage.name}: no estimate folder")
            continue
        have = files.get(name, [])
        notes += estimate_notes(stage, name, [lab for lab, _ in have])
        for lab, path in have:
            e = read_audio(path, length=len(x0))
            same = [r for rl, r in refs if rl == lab]
            if same:
                best = max(same, key=lambda r: float(snr(e, r)))
                s_e, s_x = float(snr(e, best)), float(snr(x0, best))
                figure = f"SNR {s_e:.2f} dB, SDRi {s_e - s_x:+.2f} dB"
            else:
                figure = "false alarm (no reference of this class)" if refs else "no references (evaluation set)"
            clips.append({"kind": "estimate", "title": f"{stage.name}: {lab}", "stage": stage.name, "label": lab,
                          "wave": e, "figure": figure})
    return clips, notes


def write_clip_assets(clips: list[dict], name: str, sr: int, out: Path) -> None:
    """Ogg files and spectrogram PNGs of one mixture's clips (one gain, one colour scale). Each clip
    gets `audio` and `image`: links relative to the report's folder, URL-encoded (a mixture's name
    may hold `#`, `?`, `%` or spaces, which a browser would otherwise read as URL syntax).

    Args:
        clips: `mixture_clips`' clips, changed in place: `audio`, `image` and `seconds` added, `wave` removed.
        name: the files' stem, `<run index>_<mixture>`; clip i is `<name>__<i>`.
        sr: the clips' sample rate in Hz.
        out: the report folder; the files go to its audio/ and img/.
    """
    peak = max(float(np.abs(c["wave"]).max()) for c in clips)
    gain = 0.9 / peak if peak > 0 else 1.0
    specs = [spectrogram_db(c["wave"] * gain) for c in clips]
    vmax = max(float(s.max()) for s in specs)
    for i, (clip, db) in enumerate(zip(clips, specs)):
        stem = f"{name}__{i:02d}"
        write_ogg(out / "audio" / f"{stem}.ogg", (clip["wave"] * gain).astype(np.float32), sr)
        plot_spectrogram(db, vmax, sr, len(clip["wave"]) / sr, out / "img" / f"{stem}.png")
        clip.update(audio=f"audio/{quote(stem)}.ogg", image=f"img/{quote(stem)}.png", seconds=len(clip["wave"]) / sr)
        del clip["wave"]


def write_ogg(path: Path, wave: np.ndarray, sr: int) -> None:
    """An Ogg Vorbis file of `wave`. Encoded in memory and written by Python, so that a full disk or
    a refused write is an OSError naming the file (libsndfile writing to a path says "System error").

    Args:
        path: the file to write.
        wave: the samples, shape (samples,) or (samples, channels), float in [-1, 1].
        sr: the sample rate in Hz.

    Raises:
        OSError: the file cannot be written, naming it.
    """
    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, wave, sr, format="OGG", subtype="VORBIS")
    try:
        path.write_bytes(buffer.getvalue())
    except OSError as err:
        raise named(err, path) from err


def sr_of(info: dict, name: str) -> int:
    """The sample rate of a mixture's file, read from its header.

    Args:
        info: a stage's run_info (its `soundscape_dir`).
        name: the mixture.

    Returns:
        The rate in Hz.
    """
    return audio_info(Path(info["soundscape_dir"]) / f"{name}.wav").samplerate
