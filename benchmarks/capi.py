"""Scoring 2026-edition mixtures, the harness against a straightforward implementation of the
official algorithm (runners/bench_capi.py): the mixtures drawn in memory, the official-style
scorer, and the timed comparison."""
from __future__ import annotations

import math
import time
from collections import Counter
from itertools import combinations, permutations

import numpy as np
import torch
from tqdm import tqdm

from s5bench.common.labels import LABELS, SAMPLE_RATE
from s5bench.metrics.scene import score_mixture

SR, SECONDS = SAMPLE_RATE, 10

Sources = list[tuple[str, np.ndarray]]


def draw_mixture(rng: np.random.Generator, T: int) -> tuple[np.ndarray, Sources, Sources]:
    """One 2026-style mixture, channel 0 only: 0–3 targets, a class repeated with probability 0.5
    when there are two or more, and system-like estimates.

    Args:
        rng: the random generator (advanced by the draw).
        T: samples per wave.

    Returns:
        (x0, refs, ests): the mixture (T,) float32, and references and estimates as lists of
        (label, wave).
    """
    n = int(rng.integers(0, 4))
    labels = list(rng.choice(LABELS, size=n, replace=False))
    if n >= 2 and rng.random() < 0.5:  # same-class duplicates
        n_dup = int(rng.integers(1, min(n - 1, 2) + 1))
        labels = labels[:n - n_dup] + [labels[int(rng.integers(0, n - n_dup))] for _ in range(n_dup)]
    refs = [(lab, (0.05 * rng.standard_normal(T)).astype(np.float32)) for lab in labels]
    x0 = (0.01 * rng.standard_normal(T)).astype(np.float32)
    for _, w in refs:
        x0 += w
    ests = []
    for lab, w in refs:
        if rng.random() < 0.85:  # detected, sometimes with the wrong class
            label = lab if rng.random() < 0.85 else str(rng.choice(LABELS))
            ests.append((label, w + (rng.uniform(0.005, 0.05) * rng.standard_normal(T)).astype(np.float32)))
    if len(ests) < 3 and rng.random() < 0.2:  # a false alarm
        ests.append((str(rng.choice(LABELS)), (0.05 * rng.standard_normal(T)).astype(np.float32)))
    return x0, refs, ests


def _snr32(est: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """torchmetrics' signal_noise_ratio (zero_mean=False) on float32, over the last axis."""
    eps = torch.finfo(est.dtype).eps
    return 10 * torch.log10(((ref ** 2).sum(-1) + eps) / (((ref - est) ** 2).sum(-1) + eps))


def official_style(x0: np.ndarray, refs: Sources, ests: Sources) -> tuple[float | None, tuple[int, int, int]]:
    """CAPI-SDRi and the label counts, the official way: torch float32 SNR of every combination of
    references and permutation of estimates of each class, the best mean raw SNR, zeros for count
    mismatches; multiset label counts (docs/task.md §7).

    Args:
        x0: the mixture's channel 0.
        refs: the references as (label, wave).
        ests: the estimates as (label, wave).

    Returns:
        (CAPI-SDRi, or None without any label; (TP, FP, FN)).
    """
    mixture = torch.from_numpy(x0)
    labels = {lab for lab, _ in refs} | {lab for lab, _ in ests}
    terms = []
    for lab in labels:
        r = torch.stack([torch.from_numpy(w) for x, w in refs if x == lab]) if any(x == lab for x, _ in refs) else None
        e = torch.stack([torch.from_numpy(w) for x, w in ests if x == lab]) if any(x == lab for x, _ in ests) else None
        if r is None or e is None:
            terms.append(torch.zeros(len(r) if r is not None else len(e) if e is not None else 0))
            continue
        k = min(len(r), len(e))
        pairs = [(list(rp), list(ep)) for rp in combinations(range(len(r)), k) for ep in permutations(range(len(e)), k)]
        ref_stack = torch.stack([r[rp] for rp, _ in pairs])
        est_stack = torch.stack([e[ep] for _, ep in pairs])
        raw = _snr32(est_stack, ref_stack)
        gain = raw - _snr32(mixture.expand_as(ref_stack), ref_stack)
        best = int(torch.argmax(raw.mean(-1)))
        terms.append(torch.cat([gain[best], torch.zeros(abs(len(r) - len(e)))]))
    capi = float(torch.cat(terms).mean()) if terms else None
    ref_count, est_count = Counter(lab for lab, _ in refs), Counter(lab for lab, _ in ests)
    tp = sum((ref_count & est_count).values())
    return capi, (tp, sum(est_count.values()) - tp, sum(ref_count.values()) - tp)


def compare_scorers(n: int, seconds: float = SECONDS, seed: int = 0) -> list[str]:
    """Score `n` drawn mixtures both ways, one mixture at a time, timing only the scoring.

    Args:
        n: mixtures.
        seconds: each mixture's length.
        seed: the draw's seed.

    Returns:
        The lines to print: the draw, mixtures per second per core of each, the largest CAPI-SDRi
        difference.

    Raises:
        AssertionError: the two disagree on a label count, or on whether a mixture has a value.
    """
    torch.set_num_threads(1)
    rng = np.random.default_rng(seed)
    T = int(seconds * SR)
    t_official = t_harness = 0.0
    worst, n_value, n_dup, n_empty = 0.0, 0, 0, 0
    for _ in tqdm(range(n), desc="scoring", unit="mix"):
        x0, refs, ests = draw_mixture(rng, T)
        n_dup += len({lab for lab, _ in refs}) < len(refs)
        n_empty += not refs
        t0 = time.perf_counter()
        capi, counts = official_style(x0, refs, ests)
        t1 = time.perf_counter()
        score = score_mixture(x0, refs, ests, edition=2026)
        t2 = time.perf_counter()
        t_official += t1 - t0
        t_harness += t2 - t1
        if (score.tp, score.fp, score.fn) != counts:
            raise AssertionError(f"label counts differ: {counts} vs {(score.tp, score.fp, score.fn)}")
        if capi is None:
            if not math.isnan(score.capi_sdri):
                raise AssertionError("a mixture without labels has a value in the harness")
            continue
        n_value += 1
        worst = max(worst, abs(capi - score.capi_sdri))
    return [f"mixtures: {n} x {seconds:g} s at {SR} Hz ({n_dup} with a repeated class, {n_empty} without "
            f"targets, {n_value} with a CAPI-SDRi value); one core (torch and BLAS threads = 1)",
            f"official-style: {n / t_official:8.1f} mixtures/s per core ({t_official:.1f} s)",
            f"harness:        {n / t_harness:8.1f} mixtures/s per core ({t_harness:.1f} s)  "
            f"-> {t_official / t_harness:.2f}x",
            f"largest CAPI-SDRi difference: {worst:.1e} dB (float32 official-style vs float64 harness); "
            "label counts identical"]
