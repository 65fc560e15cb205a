"""Library code of `runners/bench_evaluate.py`: scoring a folder from files, whole process, against
the official 2025 scoring loop's algorithm and against a plain read of the same files.

Each contender runs as its own Python process (interpreter start, imports, listing, reading,
scoring, writing), pinned to one CPU, and the contenders take turns round after round, so a
change in the machine's load falls on all of them alike:
  evaluate      - `python -m s5bench.runners.evaluate --jobs 1` (its default outputs);
  official loop - `official_loop`: the official evaluation's algorithm re-implemented (per mixture,
                  per class, torch float32 SNR as torchmetrics computes it; CA-SDRi alone);
  plain read    - `plain_read`: every file of the three folders read once with soundfile.
The official loop and the plain read import only numpy, soundfile (and torch for the loop), as a
script of their own would: this module imports nothing else at its top.
"""
from __future__ import annotations

import math
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import soundfile as sf


def _by_mixture(folder: Path, mixtures: set[str]) -> dict[str, dict[str, Path]]:
    """{mixture: {label: path}} of a folder of targets or estimates, as the official reader matches
    them: `<mix>_<Label>.wav` or `<mix>_<i>_<Label>.wav` for a known mixture `<mix>`."""
    out: dict[str, dict[str, Path]] = {m: {} for m in mixtures}
    for path in sorted(folder.glob("*.wav")):
        head, _, label = path.stem.rpartition("_")
        mix, _, index = head.rpartition("_")
        if head not in out and not (index.isdigit() and mix in out):
            raise ValueError(f"{path}: not <mixture>[_<i>]_<Label>.wav of a mixture of the soundscape folder")
        out[head if head in out else mix][label] = path
    return out


def official_loop(soundscape_dir: str | Path, oracle_dir: str | Path, estimate_dir: str | Path) -> dict[str, float]:
    """CA-SDRi of every mixture as the official 2025 evaluation computes it, from the files.

    Per mixture: channel 0 of the mixture and every target and estimate read as float32 torch
    tensors; per class of the union of labels, SNR(ŝ, s) − SNR(x₀, s) when both sides have it
    (torchmetrics' `signal_noise_ratio`: 10·log10((‖s‖² + eps) / (‖s − ŝ‖² + eps)), eps float32's),
    else 0; the mean over the classes. No SNRi and no label figures.

    Args:
        soundscape_dir: folder of the mixtures `<mix>.wav`.
        oracle_dir: folder of the references `<mix>_<Label>.wav`.
        estimate_dir: folder of the estimates `<mix>_<Label>.wav`.

    Returns:
        {mixture: CA-SDRi in dB}, NaN for a mixture without any label.

    Raises:
        ValueError: If a file name is not of the form `<mix>_<Label>.wav` for a known mixture.
    """
    import torch  # as the official script does; loaded here so that the plain read does not pay for it

    def snr(est: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
        eps = torch.finfo(torch.float32).eps
        return 10 * torch.log10(((ref ** 2).sum() + eps) / (((ref - est) ** 2).sum() + eps))

    mixtures = {p.stem: p for p in sorted(Path(soundscape_dir).glob("*.wav"))}
    refs, ests = _by_mixture(Path(oracle_dir), set(mixtures)), _by_mixture(Path(estimate_dir), set(mixtures))
    out = {}
    for name, path in mixtures.items():
        x0 = torch.from_numpy(sf.read(path, dtype="float32")[0][:, 0].copy())
        r = {lab: torch.from_numpy(sf.read(p, dtype="float32")[0]) for lab, p in refs[name].items()}
        e = {lab: torch.from_numpy(sf.read(p, dtype="float32")[0]) for lab, p in ests[name].items()}
        terms = [float(snr(e[lab], r[lab]) - snr(x0, r[lab])) if lab in r and lab in e else 0.0
                 for lab in sorted(set(r) | set(e))]
        out[name] = float(np.mean(terms)) if terms else math.nan
    return out


def plain_read(*folders: str | Path) -> int:
    """Read every `.wav` file of the folders once with soundfile (float32 samples): the least any
    scoring of these files must do.

    Args:
        *folders: the folders (the soundscape, oracle target and estimate folders).

    Returns:
        The number of samples read (all channels).
    """
    total = 0
    for folder in folders:
        for path in sorted(Path(folder).glob("*.wav")):
            total += sf.read(path, dtype="float32")[0].size
    return total


def write_estimates(data_dir: str | Path, out_dir: str | Path, *, seed: int = 0, edition: int = 2025) -> int:
    """System-like estimates for every mixture of a data set in the official layout.

    Per reference target: detected with probability 0.9 as its own copy plus white noise at an SNR
    drawn from 0–35 dB (the harness recomputes pairs above ≈ 27 dB from explicit differences, so
    both ways are timed); per mixture with a free slot, a false alarm with probability 0.5 (a class
    not among the references, its waveform half of the mixture's channel 0). Float32 files in the
    edition's naming; the same seed writes the same bytes.

    Args:
        data_dir: the data set (soundscape/ and oracle_target/, as runners/generate.py writes it).
        out_dir: the folder to write the estimates into (made if missing).
        seed: numpy Generator seed.
        edition: 2025 (`<mix>_<Label>.wav`) or 2026 (`<mix>_<i>_<Label>.wav`).

    Returns:
        The number of estimate files written.

    Raises:
        FileNotFoundError, ValueError: As `common.layout.group_by_mixture` and `common.audio.read_audio`.
    """
    from s5bench.common.audio import read_audio, write_audio_atomic
    from s5bench.common.labels import LABELS, N_SLOTS, SAMPLE_RATE
    from s5bench.common.layout import ORACLE_DIR, SOUNDSCAPE_DIR, group_by_mixture, list_mixtures, submission_names

    data_dir, out_dir = Path(data_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    mixtures = list_mixtures(data_dir / SOUNDSCAPE_DIR)
    refs = group_by_mixture(data_dir / ORACLE_DIR, mixtures, "oracle target", edition)
    written = 0
    for name, path in mixtures.items():
        x0 = read_audio(path, sr=SAMPLE_RATE, always_2d=True, dtype="float32")[:, 0]
        labels, waves = [], []
        for label, ref_path in refs.get(name, []):
            if rng.random() < 0.9:
                ref = read_audio(ref_path, sr=SAMPLE_RATE, channels=1, length=len(x0), dtype="float32")
                noise = rng.standard_normal(len(ref)).astype(np.float32)
                gain = math.sqrt(float(ref @ ref) / max(float(noise @ noise), 1e-20)) * 10 ** (-rng.uniform(0, 35) / 20)
                labels.append(label)
                waves.append(ref + np.float32(gain) * noise)
        if len(labels) < N_SLOTS and rng.random() < 0.5:
            labels.append(str(rng.choice([lab for lab in LABELS if lab not in labels])))
            waves.append(0.5 * x0)
        for (slot, file_name) in submission_names(name, labels, edition):
            write_audio_atomic(out_dir / file_name, waves[slot], SAMPLE_RATE)
            written += 1
    return written


class Contender(NamedTuple):
    """One whole process to time: its name and its command line."""

    name: str
    argv: list[str]


def contenders(soundscape_dir: Path, oracle_dir: Path, estimate_dir: Path, out_dir: Path,
               edition: int = 2025) -> list[Contender]:
    """The three processes the benchmark compares, on the same files.

    Args:
        soundscape_dir: the mixtures' folder.
        oracle_dir: the references' folder.
        estimate_dir: the estimates' folder.
        out_dir: where `evaluate` writes its reports (overwritten on every run).
        edition: the edition `evaluate` scores by (the official loop's algorithm is the 2025 one).

    Returns:
        evaluate (`python -m s5bench.runners.evaluate --jobs 1`), official loop, plain read.
    """
    folders = [str(soundscape_dir), str(oracle_dir), str(estimate_dir)]
    here = "from s5bench.benchmarks.scoring import"
    return [
        Contender("evaluate", [sys.executable, "-m", "s5bench.runners.evaluate", "--soundscape-dir", folders[0],
                               "--oracle-dir", folders[1], "--estimate-dir", folders[2], "--out-dir", str(out_dir),
                               "--jobs", "1", "--edition", str(edition)]),
        Contender("official loop", [sys.executable, "-c",
                                    f"import sys; {here} official_loop; official_loop(*sys.argv[1:])", *folders]),
        Contender("plain read", [sys.executable, "-c",
                                 f"import sys; {here} plain_read; plain_read(*sys.argv[1:])", *folders]),
    ]


class Timing(NamedTuple):
    """One run of one process: wall-clock seconds, and CPU seconds (user + system) it used."""

    wall: float
    cpu: float


def run_timed(argv: list[str], cpu: int | None) -> Timing:
    """Run one process to its end, pinned to one CPU, with one thread for numpy's and torch's pools.

    Args:
        argv: its command line.
        cpu: the CPU to pin it to (None: the parent's CPUs).

    Returns:
        Its wall-clock and CPU time, seconds.

    Raises:
        RuntimeError: If it exits with an error (its stderr's last lines are in the message).
    """
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

    def pin() -> None:
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, preexec_fn=pin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"{' '.join(argv[:4])} … exited with status {done.returncode}:\n{tail}")
    return Timing(wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))


def paired_runs(runs: list[Contender], rounds: int, cpu: int | None) -> dict[str, list[Timing]]:
    """Every contender once per round, the order rotated each round, after one untimed round that
    fills the page cache and Python's bytecode caches.

    Args:
        runs: the contenders.
        rounds: timed rounds (≥ 1).
        cpu: the CPU every process is pinned to.

    Returns:
        {name: one Timing per round, in round order}.

    Raises:
        RuntimeError: As `run_timed`.
    """
    for c in runs:
        run_timed(c.argv, cpu)
    out: dict[str, list[Timing]] = {c.name: [] for c in runs}
    for r in range(rounds):
        for c in runs[r % len(runs):] + runs[:r % len(runs)]:
            out[c.name].append(run_timed(c.argv, cpu))
    return out


def paired_ratio(slow: list[Timing], fast: list[Timing], field: str) -> float:
    """The median over rounds of slow / fast, each round's two runs taken together.

    Args:
        slow: the timings of the slower process, one per round.
        fast: those of the faster one, the same rounds.
        field: "wall" or "cpu".

    Returns:
        The median ratio.

    Example:
        >>> from s5bench.benchmarks.scoring import Timing, paired_ratio
        >>> paired_ratio([Timing(6.0, 5.0), Timing(9.0, 5.0)], [Timing(2.0, 1.0), Timing(3.0, 1.0)], "wall")
        3.0
    """
    return statistics.median(getattr(s, field) / getattr(f, field) for s, f in zip(slow, fast, strict=True))
