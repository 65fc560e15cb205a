"""Procedural sound synthesizers: one per target class, a family of interferers, diffuse noise.

Each synthesizer takes (rng, n_samples, sr) and returns a mono float64 waveform. They are
crude, but each carries the acoustic signature a listener uses to name the class (a
two-tone chime, a train of key clicks, a voiced formant contour …), and the random draws
make neighbouring classes overlap (motor lines in Blender, HairDryer, VacuumCleaner and
MechanicalFans; impulsive trains in Clapping, FootSteps, Typing and Percussion).
"""
from __future__ import annotations

import numpy as np


# ---------------------------------------------------------------- building blocks
def _t(n, sr):
    return np.arange(n) / sr


def band_noise(rng, n, sr, lo, hi, tilt=0.0):
    """White noise restricted to [lo, hi] Hz, optionally tilted by f^tilt (−1 ≈ pink power)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / sr)
    mask = ((f >= lo) & (f <= hi)).astype(float)
    if tilt:
        mask *= np.maximum(f, 1.0) ** (tilt / 2)
    out = np.fft.irfft(spec * mask, n)
    return out / (np.abs(out).max() + 1e-12)


def decay_env(n, sr, tau, attack=0.002):
    t = _t(n, sr)
    return np.minimum(t / attack, 1.0) * np.exp(-t / tau)


def partials(n, sr, freqs, amps, taus, phase_rng=None, attack=0.003):
    """Decaying sinusoids (struck or rung objects), with a short attack against clicks."""
    t = _t(n, sr)
    out = np.zeros(n)
    for f, a, tau in zip(freqs, amps, taus):
        if f < sr / 2:
            ph = phase_rng.uniform(0, 2 * np.pi) if phase_rng is not None else 0.0
            out += a * np.sin(2 * np.pi * f * t + ph) * np.exp(-t / tau)
    return out * np.minimum(t / attack, 1.0)


def harmonic_hum(rng, n, sr, f0, n_harm, jitter=0.003, rolloff=1.0):
    """Motor-like harmonic series with slow frequency wander."""
    t = _t(n, sr)
    wander = 1 + jitter * np.cumsum(rng.standard_normal(n)) / np.sqrt(sr)
    phase = 2 * np.pi * np.cumsum(f0 * wander) / sr
    out = np.zeros(n)
    for k in range(1, n_harm + 1):
        if k * f0 < sr / 2:
            out += np.sin(k * phase + rng.uniform(0, 2 * np.pi)) / k ** rolloff
    return out * (1 + 0.1 * np.sin(2 * np.pi * rng.uniform(0.2, 2) * t))


def place(out, burst, start):
    start = int(start)
    if start >= len(out):
        return
    m = min(len(burst), len(out) - start)
    out[start:start + m] += burst[:m]


def pulse_train(rng, n, sr, rate, make_burst, jitter=0.2):
    """Bursts at about `rate` per second with relative timing jitter."""
    out = np.zeros(n)
    pos = rng.uniform(0, 0.3) * sr
    while pos < n:
        place(out, make_burst(), pos)
        pos += sr / rate * (1 + jitter * rng.uniform(-1, 1))
    return out


def formant_filter(x, sr, formants, bandwidths):
    """Sum of resonances applied in the frequency domain (one FFT, any length)."""
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1 / sr)
    resp = np.zeros_like(f)
    for fc, bw in zip(formants, bandwidths):
        resp += 1.0 / (1.0 + ((f - fc) / (bw / 2)) ** 2)
    return np.fft.irfft(spec * resp, len(x))


# ---------------------------------------------------------------- target classes
def alarm_clock(rng, n, sr):
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


def bicycle_bell(rng, n, sr):
    f0 = rng.uniform(2000, 4200)
    ratios = np.array([1.0, 2.76, 5.40, 8.93]) * rng.uniform(0.97, 1.03, 4)
    ring = partials(int(1.2 * sr), sr, f0 * ratios, [1, 0.5, 0.25, 0.12], [0.35, 0.2, 0.1, 0.06], rng)
    out = np.zeros(n)
    for k in range(rng.integers(1, 4)):
        place(out, ring, k * rng.uniform(0.12, 0.3) * sr)
    return out


def blender(rng, n, sr):
    f0 = rng.uniform(150, 400)
    hum = harmonic_hum(rng, n, sr, f0, 25, jitter=0.02, rolloff=0.6)
    chop = band_noise(rng, n, sr, 300, 6000) * (1 + 0.7 * np.sin(2 * np.pi * rng.uniform(8, 30) * _t(n, sr)))
    return 0.6 * hum + 0.5 * chop


def buzzer(rng, n, sr):
    f = rng.uniform(180, 600)
    t = _t(n, sr)
    wave = 2 * ((f * t) % 1.0) - 1 if rng.random() < 0.5 else np.sign(np.sin(2 * np.pi * f * t))
    on = (np.sin(2 * np.pi * rng.uniform(0.5, 2.0) * t) > rng.uniform(-0.8, 0.3)).astype(float)
    return wave * on


def clapping(rng, n, sr):
    def clap():
        m = int(rng.uniform(0.02, 0.05) * sr)
        return band_noise(rng, m, sr, rng.uniform(600, 1200), rng.uniform(2500, 5000)) * decay_env(m, sr, 0.012)
    return pulse_train(rng, n, sr, rng.uniform(2.5, 6.0), clap, jitter=0.25)


def cough(rng, n, sr):
    out = np.zeros(n)
    pos = rng.uniform(0, 0.2) * sr
    for _ in range(rng.integers(1, 4)):
        m = int(rng.uniform(0.25, 0.5) * sr)
        burst = band_noise(rng, m, sr, 150, 5000) * decay_env(m, sr, rng.uniform(0.06, 0.12), attack=0.01)
        burst = formant_filter(burst, sr, [rng.uniform(400, 800), rng.uniform(1200, 2000)], [300, 500])
        place(out, burst, pos)
        pos += rng.uniform(0.35, 0.7) * sr
    return out


def cupboard(rng, n, sr):
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


def dishes(rng, n, sr):
    def clink():
        m = int(0.3 * sr)
        f = rng.uniform(2000, 7000)
        return partials(m, sr, f * np.array([1, 1.59, 2.3]), [1, 0.6, 0.3], [0.08, 0.05, 0.03], rng)
    return pulse_train(rng, n, sr, rng.uniform(1.0, 4.0), clink, jitter=0.8)


def doorbell(rng, n, sr):
    base = rng.uniform(500, 900)
    notes = [base * 2 ** (4 / 12), base] if rng.random() < 0.7 else [base * 2 ** (7 / 12), base * 2 ** (4 / 12), base]
    out = np.zeros(n)
    for k, f in enumerate(notes):
        m = int(1.4 * sr)
        place(out, partials(m, sr, [f, 2 * f, 3 * f], [1, 0.3, 0.1], [0.6, 0.3, 0.15], rng), k * 0.55 * sr)
    return out


def footsteps(rng, n, sr):
    def step():
        m = int(0.15 * sr)
        return (partials(m, sr, [rng.uniform(60, 140)], [1], [0.03], rng)
                + 0.4 * band_noise(rng, m, sr, 200, 4000) * decay_env(m, sr, 0.015))
    return pulse_train(rng, n, sr, rng.uniform(1.4, 2.4), step, jitter=0.1)


def hair_dryer(rng, n, sr):
    noise = band_noise(rng, n, sr, 200, 12000, tilt=-0.5)
    return noise + 0.25 * harmonic_hum(rng, n, sr, rng.uniform(90, 200), 12, rolloff=1.2)


def mechanical_fans(rng, n, sr):
    blade = rng.uniform(20, 70)
    return (0.8 * harmonic_hum(rng, n, sr, blade, 20, jitter=0.002, rolloff=0.8)
            + 0.5 * band_noise(rng, n, sr, 30, 1500, tilt=-1))


def musical_keyboard(rng, n, sr):
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


def percussion(rng, n, sr):
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


def pour(rng, n, sr):
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


def speech(rng, n, sr):
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


def typing(rng, n, sr):
    def click():
        m = int(0.02 * sr)
        return band_noise(rng, m, sr, 2000, 12000) * decay_env(m, sr, 0.003, attack=0.0005)
    return pulse_train(rng, n, sr, rng.uniform(4, 10), click, jitter=0.6)


def vacuum_cleaner(rng, n, sr):
    noise = band_noise(rng, n, sr, 80, 14000, tilt=-0.3)
    whine = harmonic_hum(rng, n, sr, rng.uniform(500, 1400), 6, jitter=0.001)
    return noise + 0.3 * whine + 0.2 * harmonic_hum(rng, n, sr, rng.uniform(40, 80), 6)


# ---------------------------------------------------------------- interference family
def bird_song(rng, n, sr):
    def chirp():
        m = int(rng.uniform(0.05, 0.2) * sr)
        t = _t(m, sr)
        f = rng.uniform(2000, 6000) + rng.uniform(-2000, 2000) * t / t[-1]
        return np.sin(2 * np.pi * np.cumsum(f) / sr) * np.hanning(m)
    return pulse_train(rng, n, sr, rng.uniform(2, 8), chirp, jitter=0.7)


def siren(rng, n, sr):
    t = _t(n, sr)
    f = rng.uniform(600, 900) + rng.uniform(200, 500) * np.sin(2 * np.pi * rng.uniform(0.2, 1.0) * t)
    return np.sin(2 * np.pi * np.cumsum(f) / sr) + 0.3 * np.sin(4 * np.pi * np.cumsum(f) / sr)


def engine(rng, n, sr):
    return (harmonic_hum(rng, n, sr, rng.uniform(25, 60), 30, jitter=0.01, rolloff=0.7)
            + 0.3 * band_noise(rng, n, sr, 20, 800))


def rain(rng, n, sr):
    drops = pulse_train(rng, n, sr, rng.uniform(40, 120),
                        lambda: band_noise(rng, 64, sr, 2000, 12000) * np.hanning(64), jitter=1.0)
    return drops + 0.5 * band_noise(rng, n, sr, 500, 10000, tilt=-0.5)


def knock(rng, n, sr):
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


def whistle(rng, n, sr):
    t = _t(n, sr)
    f = rng.uniform(1000, 2500) * (1 + 0.05 * np.sin(2 * np.pi * rng.uniform(3, 7) * t))
    return np.sin(2 * np.pi * np.cumsum(f) / sr) * (0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(0.3, 1) * t))


def phone_ring(rng, n, sr):
    t = _t(n, sr)
    f1, f2 = rng.uniform(400, 500), rng.uniform(440, 520)
    on = ((t % 3.0) < 1.0) & (np.sin(2 * np.pi * 20 * t) > 0)
    return (np.sin(2 * np.pi * f1 * t) + np.sin(2 * np.pi * f2 * t)) * on


def water_tap(rng, n, sr):
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


def diffuse_noise(rng, n, sr):
    """4-channel FOA (W, Y, Z, X; SN3D) diffuse background: mutually uncorrelated channels whose
    dipole channels each carry 1/3 of the omni's power, as an isotropic field does in SN3D."""
    tilt = rng.uniform(-2.0, -0.5)  # between pink and brown
    w = band_noise(rng, n, sr, 20, sr / 2 - 1, tilt=tilt)
    dipoles = [band_noise(rng, n, sr, 20, sr / 2 - 1, tilt=tilt) for _ in range(3)]
    scale = np.sqrt(np.mean(w ** 2) / 3)
    chans = [w] + [d / np.sqrt(np.mean(d ** 2)) * scale for d in dipoles]
    hum = 0.05 * harmonic_hum(rng, n, sr, rng.choice([50.0, 60.0]), 4)
    chans[0] = chans[0] + hum
    return np.stack(chans, axis=1)
