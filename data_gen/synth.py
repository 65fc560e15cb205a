"""Procedural sound synthesizers: one per target class, a family of interferers, diffuse noise.

Each synthesizer takes (rng, n_samples, sr) and returns a mono float64 waveform. They are
crude, but each carries the acoustic signature a listener uses to name the class (a
two-tone chime, a train of key clicks, a voiced formant contour …), and the random draws
make neighbouring classes overlap (motor lines in Blender, HairDryer, VacuumCleaner and
MechanicalFans; impulsive trains in Clapping, FootSteps, Typing and Percussion).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np


# ---------------------------------------------------------------- building blocks
def _t(n, sr):
    return np.arange(n) / sr


def band_noise(rng: np.random.Generator, n: int, sr: int, lo: float, hi: float, tilt: float = 0.0) -> np.ndarray:
    """White noise restricted to [lo, hi] Hz, optionally tilted by f^tilt (−1 ≈ pink power).

    Args:
        rng: the generator of the noise's draws.
        n: length in samples.
        sr: sample rate in Hz.
        lo: lowest frequency kept, Hz.
        hi: highest frequency kept, Hz.
        tilt: exponent of the power's slope over frequency (0: flat; below 1 Hz the slope is flat).

    Returns:
        (n,) float64 noise scaled to peak 1.
    """
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / sr)
    mask = ((f >= lo) & (f <= hi)).astype(float)
    if tilt:
        mask *= np.maximum(f, 1.0) ** (tilt / 2)
    out = np.fft.irfft(spec * mask, n)
    return out / (np.abs(out).max() + 1e-12)


def decay_env(n: int, sr: int, tau: float, attack: float = 0.002) -> np.ndarray:
    """Envelope of a struck sound: a linear rise over `attack`, then exp(−t/tau).

    Args:
        n: length in samples.
        sr: sample rate in Hz.
        tau: decay time constant in s.
        attack: rise time in s.

    Returns:
        (n,) float64 envelope in [0, 1].
    """
    t = _t(n, sr)
    return np.minimum(t / attack, 1.0) * np.exp(-t / tau)


def partials(n: int, sr: int, freqs: Iterable[float], amps: Iterable[float], taus: Iterable[float],
             phase_rng: np.random.Generator | None = None, attack: float = 0.003) -> np.ndarray:
    """Decaying sinusoids (struck or rung objects), with a short attack against clicks.

    Args:
        n: length in samples.
        sr: sample rate in Hz.
        freqs: the partials' frequencies in Hz (those at or above sr/2 are left out).
        amps: their amplitudes.
        taus: their decay time constants in s.
        phase_rng: draws a random start phase per partial; None: every partial starts at phase 0.
        attack: linear rise time in s.

    Returns:
        (n,) float64 sum of a·sin(2πft + φ)·exp(−t/τ), times the rise.
    """
    t = _t(n, sr)
    out = np.zeros(n)
    for f, a, tau in zip(freqs, amps, taus):
        if f < sr / 2:
            ph = phase_rng.uniform(0, 2 * np.pi) if phase_rng is not None else 0.0
            out += a * np.sin(2 * np.pi * f * t + ph) * np.exp(-t / tau)
    return out * np.minimum(t / attack, 1.0)


def harmonic_hum(rng: np.random.Generator, n: int, sr: int, f0: float, n_harm: int, jitter: float = 0.003,
                 rolloff: float = 1.0) -> np.ndarray:
    """Motor-like harmonic series with slow frequency wander.

    Args:
        rng: the generator of the hum's draws.
        n: length in samples.
        sr: sample rate in Hz.
        f0: fundamental in Hz.
        n_harm: harmonics 1 … n_harm (those at or above sr/2 left out), with random phases.
        jitter: size of the fundamental's random walk, relative to f0 (per √s).
        rolloff: harmonic k has amplitude 1/k^rolloff.

    Returns:
        (n,) float64 hum with a 10 % amplitude modulation at 0.2–2 Hz.
    """
    t = _t(n, sr)
    wander = 1 + jitter * np.cumsum(rng.standard_normal(n)) / np.sqrt(sr)
    phase = 2 * np.pi * np.cumsum(f0 * wander) / sr
    out = np.zeros(n)
    for k in range(1, n_harm + 1):
        if k * f0 < sr / 2:
            out += np.sin(k * phase + rng.uniform(0, 2 * np.pi)) / k ** rolloff
    return out * (1 + 0.1 * np.sin(2 * np.pi * rng.uniform(0.2, 2) * t))


def place(out: np.ndarray, burst: np.ndarray, start: float) -> None:
    """Add `burst` into `out` in place from sample int(start), cut at the end of `out`.

    Args:
        out: (n,) the signal added to.
        burst: the samples to add.
        start: the first sample (a start at or beyond n adds nothing).
    """
    start = int(start)
    if start >= len(out):
        return
    m = min(len(burst), len(out) - start)
    out[start:start + m] += burst[:m]


def pulse_train(rng: np.random.Generator, n: int, sr: int, rate: float, make_burst: Callable[[], np.ndarray],
                jitter: float = 0.2) -> np.ndarray:
    """Bursts at about `rate` per second with relative timing jitter.

    Args:
        rng: the generator of the onsets' draws.
        n: length in samples.
        sr: sample rate in Hz.
        rate: bursts per second on average.
        make_burst: returns one burst (a new one for every onset).
        jitter: each interval is sr/rate · (1 + jitter·U(−1, 1)) samples; the first onset is at U(0, 0.3) s.

    Returns:
        (n,) float64 sum of the bursts, the last one cut at n.
    """
    out = np.zeros(n)
    pos = rng.uniform(0, 0.3) * sr
    while pos < n:
        place(out, make_burst(), pos)
        pos += sr / rate * (1 + jitter * rng.uniform(-1, 1))
    return out


def formant_filter(x: np.ndarray, sr: int, formants: Iterable[float], bandwidths: Iterable[float]) -> np.ndarray:
    """Sum of resonances applied in the frequency domain (one FFT, any length).

    Args:
        x: (L,) signal.
        sr: sample rate in Hz.
        formants: the resonances' centre frequencies in Hz.
        bandwidths: their full widths at half gain in Hz (gain 1 / (1 + ((f − fc)/(bw/2))²) each).

    Returns:
        (L,) filtered signal (zero phase).
    """
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1 / sr)
    resp = np.zeros_like(f)
    for fc, bw in zip(formants, bandwidths):
        resp += 1.0 / (1.0 + ((f - fc) / (bw / 2)) ** 2)
    return np.fft.irfft(spec * resp, len(x))


# ---------------------------------------------------------------- target classes
def alarm_clock(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """Groups of 2–5 square-wave beeps at 1.8–4 kHz, the group repeated every 0.6–1.2 s.

    Args:
        rng: the generator of the clip's random draws.
        n: length in samples.
        sr: sample rate in Hz.

    Returns:
        (n,) float64 waveform, not normalised.
    """
    f = rng.uniform(1800, 4000)
    beep_len, gap = rng.uniform(0.05, 0.12), rng.uniform(0.04, 0.1)
    n_beeps, period = rng.integers(2, 6), rng.uniform(0.6, 1.2)
    bn = int(beep_len * sr)
    beep = np.sign(np.sin(2 * np.pi * f * _t(bn, sr))) * np.hanning(bn) ** 0.2
    group = np.zeros(int(period * sr))
    for k in range(n_beeps):
        place(group, beep, k * (beep_len + gap) * sr)
    reps = int(np.ceil(n / len(group)))
    return np.tile(group, reps)[:n]


def bicycle_bell(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """One to three rings (the k-th at k·U(0.12, 0.3) s) of four inharmonic decaying partials on a 2–4.2 kHz base.

    Args:
        rng: the generator of the clip's random draws.
        n: length in samples.
        sr: sample rate in Hz.

    Returns:
        (n,) float64 waveform, not normalised.
    """
    f0 = rng.uniform(2000, 4200)
    ratios = np.array([1.0, 2.76, 5.40, 8.93]) * rng.uniform(0.97, 1.03, 4)
    ring = partials(int(1.2 * sr), sr, f0 * ratios, [1, 0.5, 0.25, 0.12], [0.35, 0.2, 0.1, 0.06], rng)
    out = np.zeros(n)
    for k in range(rng.integers(1, 4)):
        place(out, ring, k * rng.uniform(0.12, 0.3) * sr)
    return out


def blender(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """A 150–400 Hz motor hum with 25 harmonics and band noise chopped at 8–30 Hz.

    Args:
        rng: the generator of the clip's random draws.
        n: length in samples.
        sr: sample rate in Hz.

    Returns:
        (n,) float64 waveform, not normalised.
    """
    f0 = rng.uniform(150, 400)
    hum = harmonic_hum(rng, n, sr, f0, 25, jitter=0.02, rolloff=0.6)
    chop = band_noise(rng, n, sr, 300, 6000) * (1 + 0.7 * np.sin(2 * np.pi * rng.uniform(8, 30) * _t(n, sr)))
    return 0.6 * hum + 0.5 * chop


def buzzer(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """A 180–600 Hz sawtooth or square wave, switched on and off by a 0.5–2 Hz gate.

    Args:
        rng: the generator of the clip's random draws.
        n: length in samples.
        sr: sample rate in Hz.

    Returns:
        (n,) float64 waveform, not normalised.
    """
    f = rng.uniform(180, 600)
    t = _t(n, sr)
    wave = 2 * ((f * t) % 1.0) - 1 if rng.random() < 0.5 else np.sign(np.sin(2 * np.pi * f * t))
    on = (np.sin(2 * np.pi * rng.uniform(0.5, 2.0) * t) > rng.uniform(-0.8, 0.3)).astype(float)
    return wave * on


def clapping(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """Claps (20–50 ms band-noise bursts, 12-ms decay) at 2.5–6 per second.

    Args:
        rng: the generator of the clip's random draws.
        n: length in samples.
        sr: sample rate in Hz.

    Returns:
        (n,) float64 waveform, not normalised.
    """
    def clap():
        m = int(rng.uniform(0.02, 0.05) * sr)
        return band_noise(rng, m, sr, rng.uniform(600, 1200), rng.uniform(2500, 5000)) * decay_env(m, sr, 0.012)
    return pulse_train(rng, n, sr, rng.uniform(2.5, 6.0), clap, jitter=0.25)


def cough(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """One to three coughs 0.35–0.7 s apart: decaying noise bursts shaped by two formants.

    Args:
        rng: the generator of the clip's random draws.
        n: length in samples.
        sr: sample rate in Hz.

    Returns:
        (n,) float64 waveform, not normalised.
    """
    out = np.zeros(n)
    pos = rng.uniform(0, 0.2) * sr
    for _ in range(rng.integers(1, 4)):
        m = int(rng.uniform(0.25, 0.5) * sr)
        burst = band_noise(rng, m, sr, 150, 5000) * decay_env(m, sr, rng.uniform(0.06, 0.12), attack=0.01)
        burst = formant_filter(burst, sr, [rng.uniform(400, 800), rng.uniform(1200, 2000)], [300, 500])
        place(out, burst, pos)
        pos += rng.uniform(0.35, 0.7) * sr
    return out


def cupboard(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """A creak (a wavering 300–700 Hz tone), then a low thud, half the time a second thud.

    Args:
        rng: the generator of the clip's random draws.
        n: length in samples.
        sr: sample rate in Hz.

    Returns:
        (n,) float64 waveform, not normalised.
    """
    out = np.zeros(n)
    m = int(0.5 * sr)
    creak_len = int(rng.uniform(0.3, 0.8) * sr)
    t = _t(creak_len, sr)
    creak = np.sin(2 * np.pi * np.cumsum(rng.uniform(300, 700) * (1 + 0.3 * np.sin(2 * np.pi * 3 * t))) / sr)
    place(out, 0.3 * creak * np.hanning(creak_len), 0)
    thud = partials(m, sr, [rng.uniform(70, 180), rng.uniform(200, 400)], [1, 0.4], [0.06, 0.03], rng)
    thud += 0.3 * band_noise(rng, m, sr, 100, 3000) * decay_env(m, sr, 0.01)
    place(out, thud, creak_len + rng.uniform(0, 0.2) * sr)
    if rng.random() < 0.5:
        place(out, 0.8 * thud, creak_len + rng.uniform(0.6, 1.5) * sr)
    return out


def dishes(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """Clinks (three decaying partials, the lowest at 2–7 kHz) at irregular intervals, 1–4 per second.

    Args:
        rng: the generator of the clip's random draws.
        n: length in samples.
        sr: sample rate in Hz.

    Returns:
        (n,) float64 waveform, not normalised.
    """
    def clink():
        m = int(0.3 * sr)
        f = rng.uniform(2000, 7000)
        return partials(m, sr, f * np.array([1, 1.59, 2.3]), [1, 0.6, 0.3], [0.08, 0.05, 0.03], rng)
    return pulse_train(rng, n, sr, rng.uniform(1.0, 4.0), clink, jitter=0.8)


def doorbell(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """A ding-dong of chimes a major third apart over a 500–900 Hz root (30 % of the time fifth, third, root).

    Args:
        rng: the generator of the clip's random draws.
        n: length in samples.
        sr: sample rate in Hz.

    Returns:
        (n,) float64 waveform, not normalised.
    """
    base = rng.uniform(500, 900)
    notes = [base * 2 ** (4 / 12), base] if rng.random() < 0.7 else [base * 2 ** (7 / 12), base * 2 ** (4 / 12), base]
    out = np.zeros(n)
    for k, f in enumerate(notes):
        m = int(1.4 * sr)
        place(out, partials(m, sr, [f, 2 * f, 3 * f], [1, 0.3, 0.1], [0.6, 0.3, 0.15], rng), k * 0.55 * sr)
    return out


def footsteps(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """Steps (a 60–140 Hz thump and a noise scuff) at 1.4–2.4 per second.

    Args:
        rng: the generator of the clip's random draws.
        n: length in samples.
        sr: sample rate in Hz.

    Returns:
        (n,) float64 waveform, not normalised.
    """
    def step():
        m = int(0.15 * sr)
        return (partials(m, sr, [rng.uniform(60, 140)], [1], [0.03], rng)
                + 0.4 * band_noise(rng, m, sr, 200, 4000) * decay_env(m, sr, 0.015))
    return pulse_train(rng, n, sr, rng.uniform(1.4, 2.4), step, jitter=0.1)


def hair_dryer(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """Broadband tilted noise with a 90–200 Hz motor hum.

    Args:
        rng: the generator of the clip's random draws.
        n: length in samples.
        sr: sample rate in Hz.

    Returns:
        (n,) float64 waveform, not normalised.
    """
    noise = band_noise(rng, n, sr, 200, 12000, tilt=-0.5)
    return noise + 0.25 * harmonic_hum(rng, n, sr, rng.uniform(90, 200), 12, rolloff=1.2)


def mechanical_fans(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """A blade-rate hum of 20–70 Hz with 20 harmonics over pink-tilted low noise.

    Args:
        rng: the generator of the clip's random draws.
        n: length in samples.
        sr: sample rate in Hz.

    Returns:
        (n,) float64 waveform, not normalised.
    """
    blade = rng.uniform(20, 70)
    return (0.8 * harmonic_hum(rng, n, sr, blade, 20, jitter=0.002, rolloff=0.8)
            + 0.5 * band_noise(rng, n, sr, 30, 1500, tilt=-1))


def musical_keyboard(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """Notes of a major scale over two octaves from a 180–450 Hz root, six decaying harmonics each.

    Args:
        rng: the generator of the clip's random draws.
        n: length in samples.
        sr: sample rate in Hz.

    Returns:
        (n,) float64 waveform, not normalised.
    """
    out = np.zeros(n)
    scale = np.array([0, 2, 4, 5, 7, 9, 11])
    root = rng.uniform(180, 450)
    pos, step = 0.0, rng.uniform(0.2, 0.5)
    while pos < n:
        f = root * 2 ** ((rng.choice(scale) + 12 * rng.integers(0, 2)) / 12)
        m = int(rng.uniform(0.4, 1.2) * sr)
        place(out, partials(m, sr, f * np.arange(1, 7), 1 / np.arange(1, 7) ** 1.5, 0.5 / np.arange(1, 7), rng), pos)
        pos += step * sr * rng.choice([1, 1, 2])
    return out


def percussion(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """Kick and snare alternating on a beat of 1.5–3.5 per second, a hi-hat on most off-beats.

    Args:
        rng: the generator of the clip's random draws.
        n: length in samples.
        sr: sample rate in Hz.

    Returns:
        (n,) float64 waveform, not normalised.
    """
    tempo = rng.uniform(1.5, 3.5)
    m = int(0.3 * sr)
    t = _t(m, sr)
    kick = np.sin(2 * np.pi * np.cumsum(50 + 120 * np.exp(-t / 0.03)) / sr) * np.exp(-t / 0.12)
    snare = (0.6 * band_noise(rng, m, sr, 1000, 8000) + 0.4 * np.sin(2 * np.pi * 190 * t)) * np.exp(-t / 0.06)
    hat = band_noise(rng, m, sr, 6000, 15000) * np.exp(-t / 0.02)
    out = np.zeros(n)
    beat = sr / tempo
    for k in range(int(n / beat) + 1):
        place(out, kick if k % 2 == 0 else snare, k * beat)
        if rng.random() < 0.7:
            place(out, 0.4 * hat, (k + 0.5) * beat)
    return out


def pour(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """A noise bed with 15–50 rising bubble chirps (0.5–3 kHz) per second.

    Args:
        rng: the generator of the clip's random draws.
        n: length in samples.
        sr: sample rate in Hz.

    Returns:
        (n,) float64 waveform, not normalised.
    """
    out = 0.3 * band_noise(rng, n, sr, 300, 6000)
    n_bubbles = int(rng.uniform(15, 50) * n / sr)
    for _ in range(n_bubbles):
        m = int(rng.uniform(0.01, 0.04) * sr)
        t = _t(m, sr)
        f0 = rng.uniform(500, 3000)
        bubble = np.sin(2 * np.pi * f0 * t * (1 + 2.0 * t / t[-1] * 0.3)) * np.exp(-t / (m / sr / 3))
        place(out, bubble, rng.uniform(0, n))
    return out


VOWELS = [(730, 1090, 2440), (270, 2290, 3010), (530, 1840, 2480), (570, 840, 2410), (300, 870, 2240),
          (660, 1720, 2410)]


def speech(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """Syllables: a glottal pulse train at 95–240 Hz shaped by a vowel's formants, some with a fricative onset.

    Args:
        rng: the generator of the clip's random draws.
        n: length in samples.
        sr: sample rate in Hz.

    Returns:
        (n,) float64 waveform, not normalised.
    """
    out = np.zeros(n)
    f0_mean = rng.uniform(95, 240)
    pos = rng.uniform(0, 0.2) * sr
    while pos < n:
        syl = int(rng.uniform(0.12, 0.3) * sr)
        t = _t(syl, sr)
        f0 = f0_mean * (1 + 0.15 * np.sin(2 * np.pi * rng.uniform(1, 4) * t + rng.uniform(0, 6)))
        phase = np.cumsum(f0) / sr
        glottal = (phase % 1.0) ** 3 - 0.25  # asymmetric pulse, rich in harmonics
        fm = VOWELS[rng.integers(len(VOWELS))]
        voiced = formant_filter(glottal, sr, [f * rng.uniform(0.9, 1.1) for f in fm], [90, 120, 160])
        voiced *= np.hanning(syl)
        if rng.random() < 0.3:  # a fricative onset
            fric = int(0.06 * sr)
            place(out, 0.3 * band_noise(rng, fric, sr, 3000, 9000) * np.hanning(fric), pos)
            pos += fric
        place(out, voiced, pos)
        pos += syl + (rng.uniform(0.25, 0.6) * sr if rng.random() < 0.2 else rng.uniform(0.0, 0.06) * sr)
    return out


def typing(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """Key clicks (20-ms band-noise bursts over 2–12 kHz) at irregular intervals, 4–10 per second.

    Args:
        rng: the generator of the clip's random draws.
        n: length in samples.
        sr: sample rate in Hz.

    Returns:
        (n,) float64 waveform, not normalised.
    """
    def click():
        m = int(0.02 * sr)
        return band_noise(rng, m, sr, 2000, 12000) * decay_env(m, sr, 0.003, attack=0.0005)
    return pulse_train(rng, n, sr, rng.uniform(4, 10), click, jitter=0.6)


def vacuum_cleaner(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """Broadband tilted noise with a 500–1400 Hz motor whine and a 40–80 Hz hum.

    Args:
        rng: the generator of the clip's random draws.
        n: length in samples.
        sr: sample rate in Hz.

    Returns:
        (n,) float64 waveform, not normalised.
    """
    noise = band_noise(rng, n, sr, 80, 14000, tilt=-0.3)
    whine = harmonic_hum(rng, n, sr, rng.uniform(500, 1400), 6, jitter=0.001)
    return noise + 0.3 * whine + 0.2 * harmonic_hum(rng, n, sr, rng.uniform(40, 80), 6)


# ---------------------------------------------------------------- interference family
def bird_song(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """Chirps of 50–200 ms sweeping around 2–6 kHz, 2–8 per second.

    Args:
        rng: the generator of the clip's random draws.
        n: length in samples.
        sr: sample rate in Hz.

    Returns:
        (n,) float64 waveform, not normalised.
    """
    def chirp():
        m = int(rng.uniform(0.05, 0.2) * sr)
        t = _t(m, sr)
        f = rng.uniform(2000, 6000) + rng.uniform(-2000, 2000) * t / t[-1]
        return np.sin(2 * np.pi * np.cumsum(f) / sr) * np.hanning(m)
    return pulse_train(rng, n, sr, rng.uniform(2, 8), chirp, jitter=0.7)


def siren(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """A 600–900 Hz tone with its second harmonic, swept by 200–500 Hz at 0.2–1 Hz.

    Args:
        rng: the generator of the clip's random draws.
        n: length in samples.
        sr: sample rate in Hz.

    Returns:
        (n,) float64 waveform, not normalised.
    """
    t = _t(n, sr)
    f = rng.uniform(600, 900) + rng.uniform(200, 500) * np.sin(2 * np.pi * rng.uniform(0.2, 1.0) * t)
    return np.sin(2 * np.pi * np.cumsum(f) / sr) + 0.3 * np.sin(4 * np.pi * np.cumsum(f) / sr)


def engine(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """A 25–60 Hz hum with 30 harmonics over 20–800 Hz noise.

    Args:
        rng: the generator of the clip's random draws.
        n: length in samples.
        sr: sample rate in Hz.

    Returns:
        (n,) float64 waveform, not normalised.
    """
    return (harmonic_hum(rng, n, sr, rng.uniform(25, 60), 30, jitter=0.01, rolloff=0.7)
            + 0.3 * band_noise(rng, n, sr, 20, 800))


def rain(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """Drops (64-sample clicks of 2–12 kHz noise) at 40–120 per second over a tilted noise bed.

    Args:
        rng: the generator of the clip's random draws.
        n: length in samples.
        sr: sample rate in Hz.

    Returns:
        (n,) float64 waveform, not normalised.
    """
    drops = pulse_train(rng, n, sr, rng.uniform(40, 120),
                        lambda: band_noise(rng, 64, sr, 2000, 12000) * np.hanning(64), jitter=1.0)
    return drops + 0.5 * band_noise(rng, n, sr, 500, 10000, tilt=-0.5)


def knock(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """Groups of 2–4 knocks 0.18 s apart (two decaying partials each), a group every 1.5–3 s.

    Args:
        rng: the generator of the clip's random draws.
        n: length in samples.
        sr: sample rate in Hz.

    Returns:
        (n,) float64 waveform, not normalised.
    """
    def k():
        m = int(0.12 * sr)
        return partials(m, sr, [rng.uniform(150, 400), rng.uniform(600, 1200)], [1, 0.5], [0.03, 0.015], rng)
    out = np.zeros(n)
    pos = 0.0
    while pos < n:
        for j in range(rng.integers(2, 5)):
            place(out, k(), pos + j * 0.18 * sr)
        pos += rng.uniform(1.5, 3.0) * sr
    return out


def whistle(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """A 1–2.5 kHz tone with 5 % vibrato at 3–7 Hz and a slow swell.

    Args:
        rng: the generator of the clip's random draws.
        n: length in samples.
        sr: sample rate in Hz.

    Returns:
        (n,) float64 waveform, not normalised.
    """
    t = _t(n, sr)
    f = rng.uniform(1000, 2500) * (1 + 0.05 * np.sin(2 * np.pi * rng.uniform(3, 7) * t))
    return np.sin(2 * np.pi * np.cumsum(f) / sr) * (0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(0.3, 1) * t))


def phone_ring(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """Two close tones (400–500 and 440–520 Hz) gated at 20 Hz, ringing 1 s of every 3 s.

    Args:
        rng: the generator of the clip's random draws.
        n: length in samples.
        sr: sample rate in Hz.

    Returns:
        (n,) float64 waveform, not normalised.
    """
    t = _t(n, sr)
    f1, f2 = rng.uniform(400, 500), rng.uniform(440, 520)
    on = ((t % 3.0) < 1.0) & (np.sin(2 * np.pi * 20 * t) > 0)
    return (np.sin(2 * np.pi * f1 * t) + np.sin(2 * np.pi * f2 * t)) * on


def water_tap(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """Band noise (400 Hz–9 kHz) with a 30 % amplitude modulation at 2–9 Hz.

    Args:
        rng: the generator of the clip's random draws.
        n: length in samples.
        sr: sample rate in Hz.

    Returns:
        (n,) float64 waveform, not normalised.
    """
    return band_noise(rng, n, sr, 400, 9000) * (1 + 0.3 * np.sin(2 * np.pi * rng.uniform(2, 9) * _t(n, sr)))


# label -> (synthesizer, (min, max) duration in seconds)
TARGET_SYNTHS = {
    "AlarmClock": (alarm_clock, (2.0, 8.0)),
    "BicycleBell": (bicycle_bell, (0.8, 2.0)),
    "Blender": (blender, (3.0, 10.0)),
    "Buzzer": (buzzer, (1.0, 6.0)),
    "Clapping": (clapping, (1.5, 6.0)),
    "Cough": (cough, (0.6, 2.0)),
    "CupboardOpenClose": (cupboard, (1.0, 2.5)),
    "Dishes": (dishes, (1.5, 6.0)),
    "Doorbell": (doorbell, (1.8, 3.0)),
    "FootSteps": (footsteps, (2.0, 8.0)),
    "HairDryer": (hair_dryer, (3.0, 10.0)),
    "MechanicalFans": (mechanical_fans, (3.0, 10.0)),
    "MusicalKeyboard": (musical_keyboard, (2.0, 8.0)),
    "Percussion": (percussion, (2.0, 8.0)),
    "Pour": (pour, (1.5, 6.0)),
    "Speech": (speech, (1.5, 6.0)),
    "Typing": (typing, (2.0, 8.0)),
    "VacuumCleaner": (vacuum_cleaner, (3.0, 10.0)),
}

INTERFERENCE_SYNTHS = {
    "BirdSong": (bird_song, (1.0, 6.0)),
    "Siren": (siren, (2.0, 8.0)),
    "Engine": (engine, (3.0, 10.0)),
    "Rain": (rain, (3.0, 10.0)),
    "Knock": (knock, (1.0, 4.0)),
    "Whistle": (whistle, (0.8, 3.0)),
    "PhoneRing": (phone_ring, (2.0, 6.0)),
    "WaterTap": (water_tap, (2.0, 8.0)),
}


def diffuse_noise(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """4-channel FOA (W, Y, Z, X; SN3D) diffuse background: mutually uncorrelated channels whose
    dipole channels each carry 1/3 of the omni's power, as an isotropic field does in SN3D.

    The noise is tilted between pink and brown (one slope for all channels); W also carries a
    weak 50 or 60 Hz mains hum.

    Args:
        rng: the generator of the clip's random draws.
        n: length in samples.
        sr: sample rate in Hz.

    Returns:
        (n, 4) float64 noise, sample-first.
    """
    tilt = rng.uniform(-2.0, -0.5)  # between pink and brown
    w = band_noise(rng, n, sr, 20, sr / 2 - 1, tilt=tilt)
    dipoles = [band_noise(rng, n, sr, 20, sr / 2 - 1, tilt=tilt) for _ in range(3)]
    scale = np.sqrt(np.mean(w ** 2) / 3)
    chans = [w] + [d / np.sqrt(np.mean(d ** 2)) * scale for d in dipoles]
    hum = 0.05 * harmonic_hum(rng, n, sr, rng.choice([50.0, 60.0]), 4)
    chans[0] = chans[0] + hum
    return np.stack(chans, axis=1)
