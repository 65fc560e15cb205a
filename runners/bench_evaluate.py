"""Benchmark: scoring N ten-second mixtures from files, the harness vs a naive per-file loop.

    python runners/bench_evaluate.py --n 1000 --jobs 2

Writes a synthetic test set (PCM-16 mixtures, float oracle targets and estimates) to a
temporary folder, then times in the same process:
  naive-same  - one mixture after another, the same figures (CA-SDRi, SNRi) in float64:
                every (reference, estimate) SNR from an explicit difference, then the assignment;
  naive-ca32  - one mixture after another, CA-SDRi alone with torch float32 SNRs (the official
                evaluation's way), for scale: it computes less than the harness;
  harness     - metrics.folders.score_folders with --jobs worker processes.
Prints mixtures per second for both and their ratio, and checks both give the same CA-SDRi.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from tqdm import tqdm

from s5bench.common.arguments import at_least
from s5bench.common.errors import cli
from s5bench.common.labels import LABELS, SAMPLE_RATE
from s5bench.common.layout import group_by_mixture, list_mixtures
from s5bench.metrics.folders import score_folders

SR, SECONDS = SAMPLE_RATE, 10


def write_set(root: Path, n: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    dirs = {k: root / k for k in ("soundscape", "oracle_target", "estimate")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    T = SR * SECONDS
    for i in tqdm(range(n), desc="writing test set", unit="mix"):
        labels = list(rng.choice(LABELS, size=rng.integers(1, 4), replace=False))
        refs = [0.05 * rng.standard_normal(T).astype(np.float32) for _ in labels]
        mix = (0.01 * rng.standard_normal((T, 4))).astype(np.float32)
        mix[:, 0] += sum(refs)
        sf.write(dirs["soundscape"] / f"mix_{i:04d}.wav", mix, SR, subtype="PCM_16")
        for lab, r in zip(labels, refs):
            sf.write(dirs["oracle_target"] / f"mix_{i:04d}_{lab}.wav", r, SR, subtype="FLOAT")
            sf.write(dirs["estimate"] / f"mix_{i:04d}_{lab}.wav", r + 0.01 * rng.standard_normal(T).astype(np.float32),
                     SR, subtype="FLOAT")
    return dirs


def naive_same(dirs) -> list[float]:
    from scipy.optimize import linear_sum_assignment

    def snr64(est, ref):
        eps = float(np.finfo(np.float32).eps)
        return 10 * np.log10((np.sum(ref ** 2) + eps) / (np.sum((ref - est) ** 2) + eps))

    mixtures = list_mixtures(dirs["soundscape"])
    refs = group_by_mixture(dirs["oracle_target"], mixtures, "oracle target")
    ests = group_by_mixture(dirs["estimate"], mixtures, "estimate")
    out = []
    for mix, path in tqdm(mixtures.items(), desc="naive-same", unit="mix"):
        x0 = sf.read(path)[0][:, 0]
        r = {lab: sf.read(p)[0] for lab, p in refs.get(mix, [])}
        e = {lab: sf.read(p)[0] for lab, p in ests.get(mix, [])}
        table = np.array([[snr64(w, ref) for w in e.values()] for ref in r.values()]).reshape(len(r), len(e))
        rows, cols = linear_sum_assignment(table, maximize=True)
        snri = [table[i, j] - snr64(x0, list(r.values())[i]) for i, j in zip(rows, cols)]
        snri += [0.0] * (len(r) - len(snri))  # targets left without an estimate
        terms = [snr64(e[lab], r[lab]) - snr64(x0, r[lab]) if lab in r and lab in e else 0.0 for lab in set(r) | set(e)]
        out.append(float(np.mean(terms)))
        assert len(snri) == len(r)
    return out


def naive_ca_sdri(dirs) -> list[float]:
    def snr32(est, ref):
        eps = torch.finfo(torch.float32).eps
        return 10 * torch.log10(((ref ** 2).sum() + eps) / (((ref - est) ** 2).sum() + eps))

    mixtures = list_mixtures(dirs["soundscape"])
    refs = group_by_mixture(dirs["oracle_target"], mixtures, "oracle target")
    ests = group_by_mixture(dirs["estimate"], mixtures, "estimate")
    out = []
    for mix, path in tqdm(mixtures.items(), desc="naive", unit="mix"):
        x0 = torch.from_numpy(sf.read(path, dtype="float32")[0][:, 0].copy())
        r = {lab: torch.from_numpy(sf.read(p, dtype="float32")[0]) for lab, p in refs.get(mix, [])}
        e = {lab: torch.from_numpy(sf.read(p, dtype="float32")[0]) for lab, p in ests.get(mix, [])}
        terms = []
        for lab in set(r) | set(e):
            terms.append(float(snr32(e[lab], r[lab]) - snr32(x0, r[lab])) if lab in r and lab in e else 0.0)
        out.append(float(np.mean(terms)))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=at_least(1), default=1000)
    ap.add_argument("--jobs", type=at_least(1), default=os.cpu_count() or 1)
    ap.add_argument("--workdir", default=None, help="keep the generated set here (default: a temporary folder)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.workdir or tmp)
        dirs = write_set(root, args.n)
        t0 = time.perf_counter()
        same = naive_same(dirs)
        t_same = time.perf_counter() - t0
        t0 = time.perf_counter()
        naive = naive_ca_sdri(dirs)
        t_naive = time.perf_counter() - t0
        t0 = time.perf_counter()
        scores = score_folders(dirs["soundscape"], dirs["oracle_target"], dirs["estimate"], jobs=args.jobs)
        t_fast = time.perf_counter() - t0
    diff32 = max(abs(a - s.ca_sdri) for a, s in zip(naive, scores))
    diff64 = max(abs(a - s.ca_sdri) for a, s in zip(same, scores))
    print(f"mixtures: {args.n} x {SECONDS} s, 4 channels, {SR} Hz; cores: {os.cpu_count()}")
    print(f"naive-same (same figures, float64): {args.n / t_same:8.1f} mixtures/s ({t_same:.1f} s)")
    print(f"naive-ca32 (CA-SDRi only, float32): {args.n / t_naive:8.1f} mixtures/s ({t_naive:.1f} s)")
    print(f"harness, --jobs {args.jobs}:           {args.n / t_fast:8.1f} mixtures/s ({t_fast:.1f} s)")
    print(f"harness vs naive-same: {t_same / t_fast:.2f}x; vs naive-ca32: {t_naive / t_fast:.2f}x")
    print(f"largest CA-SDRi difference: {diff64:.1e} dB vs naive-same, {diff32:.1e} dB vs float32 naive-ca32")


if __name__ == "__main__":
    sys.exit(cli(main))
