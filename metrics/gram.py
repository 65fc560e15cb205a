"""The inner products one mixture's scoring needs, from its signals as stored, in one pass.

Scoring a mixture needs the energy of every signal, the inner product of channel 0 of the
mixture with each reference, and that of each reference with each estimate (`metrics.scene`).
`gram_of_sources` computes them all in one pass over the samples, a block at a time: each block
of every signal is converted to float64 into a small buffer that stays in the processor's cache,
and all the products are taken there. Converting whole files first and then taking each product
over whole rows reads every row from memory again for each product (about twice the time).

The sums are float64 throughout; only their order differs from whole-row BLAS products (block by
block), which moves a figure by about 1e-13 dB.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
Dot = Callable[[FloatArray, FloatArray], float]

# Samples per block: the block of 7 signals (0.45 MB in float64) stays in the cache, and each product
# is one BLAS dot of at most 10,000 samples, which OpenBLAS keeps on one thread (threads of several
# scoring processes would fight over the cores, several times slower).
BLOCK = 8192
PCM16_SCALE = 1.0 / 32768  # 16-bit PCM as libsndfile (and the official tools) scale it: exact in float64


@dataclass(frozen=True)
class Gram:
    """The products of one mixture's signals that its scores need (rows: channel 0 of the mixture,
    the R references, the E estimates).

    Attributes:
        energy: ‖row k‖² of every row, shape (1 + R + E,).
        mixture_ref: ⟨x₀, s_i⟩ for each reference i, shape (R,).
        ref_est: ⟨s_i, ŝ_j⟩ for each reference i and estimate j, shape (R, E).
        difference_energy: ‖row a − row b‖² from the samples themselves, for the pairs so close
            that energy[a] + energy[b] − 2⟨a, b⟩ would lose digits (it reads the signals again:
            call it while they are valid, before the reader reads the next mixture).
    """

    energy: FloatArray
    mixture_ref: FloatArray
    ref_est: FloatArray
    difference_energy: Callable[[int, int], float]


def gram_of_rows(rows: FloatArray, n_ref: int, dot: Dot) -> Gram:
    """The products of signals already in one float64 matrix, each over the whole row.

    Args:
        rows: shape (1 + R + E, samples): channel 0 of the mixture, the references, the estimates.
        n_ref: R.
        dot: the inner product of two rows.

    Returns:
        Their Gram.

    Example:
        >>> import numpy as np
        >>> from s5bench.metrics.gram import gram_of_rows
        >>> rows = np.array([[1.0, 1.0], [1.0, 0.0], [0.0, 2.0]])  # x0, one reference, one estimate
        >>> g = gram_of_rows(rows, 1, lambda a, b: float(a @ b))
        >>> g.energy.tolist(), g.mixture_ref.tolist(), g.ref_est.tolist(), g.difference_energy(1, 2)
        ([2.0, 1.0, 4.0], [1.0], [[0.0]], 5.0)
    """
    n_est = int(rows.shape[0]) - 1 - n_ref
    scratch: list[FloatArray] = []  # the difference row, made when first needed

    def difference_energy(a: int, b: int) -> float:
        if not scratch:
            scratch.append(np.empty(int(rows.shape[1])))
        diff = np.subtract(rows[a], rows[b], out=scratch[0])
        return dot(diff, diff)

    energy = np.array([dot(row, row) for row in rows], dtype=np.float64)
    mixture_ref = np.array([dot(rows[0], rows[1 + i]) for i in range(n_ref)], dtype=np.float64)
    ref_est = np.empty((n_ref, n_est))
    for i in range(n_ref):
        for j in range(n_est):
            ref_est[i, j] = dot(rows[1 + i], rows[1 + n_ref + j])
    return Gram(energy, mixture_ref, ref_est, difference_energy)


class BlockBuffer:
    """A kept float64 buffer for `gram_of_sources`, grown as needed (one per scoring process)."""

    def __init__(self) -> None:
        self.rows: FloatArray = np.empty((0, BLOCK))

    def take(self, n_rows: int) -> FloatArray:
        """A (n_rows, BLOCK) buffer.

        Args:
            n_rows: signals in the mixture.

        Returns:
            The buffer's first n_rows rows.
        """
        if self.rows.shape[0] < n_rows:
            self.rows = np.empty((n_rows, BLOCK))
        return self.rows[:n_rows]


def to_float64(out: FloatArray, samples: npt.NDArray[Any]) -> None:
    """Samples of any stored type written into a float64 array (16-bit PCM scaled to [-1, 1) as
    libsndfile scales it).

    Args:
        out: where to write, of the samples' shape.
        samples: int16, float32 or float64 samples, any strides.

    Example:
        >>> import numpy as np
        >>> from s5bench.metrics.gram import to_float64
        >>> out = np.empty(2)
        >>> to_float64(out, np.array([16384, -32768], dtype=np.int16)); out.tolist()
        [0.5, -1.0]
    """
    if samples.dtype == np.int16:
        np.multiply(samples, PCM16_SCALE, out=out)
    else:
        out[:] = samples


def gram_of_sources(sources: Sequence[npt.NDArray[Any]], n_ref: int, buffer: BlockBuffer | None = None) -> Gram:
    """The products of signals as stored (1-D views of any layout: float32, float64 or 16-bit PCM
    samples, strided or not), in one blockwise pass.

    Args:
        sources: channel 0 of the mixture, the R references, the E estimates, all of one length.
        n_ref: R.
        buffer: a kept buffer (a new one if None).

    Returns:
        Their Gram, in float64.

    Raises:
        ValueError: If the sources differ in length (the caller's bug: lengths are checked on reading).

    Example:
        >>> import numpy as np
        >>> from s5bench.metrics.gram import gram_of_sources
        >>> x0 = np.array([16384, 16384], dtype=np.int16)  # 16-bit PCM: 0.5, 0.5
        >>> g = gram_of_sources([x0, np.array([1.0, 0.0], dtype=np.float32), np.array([0.0, 2.0])], 1)
        >>> g.energy.tolist(), g.mixture_ref.tolist(), g.ref_est.tolist(), g.difference_energy(1, 2)
        ([0.5, 1.0, 4.0], [0.5], [[0.0]], 5.0)
    """
    length = len(sources[0])
    if any(len(s) != length for s in sources):
        raise ValueError(f"sources of lengths {[len(s) for s in sources]}: one length expected")
    n_rows, n_est = len(sources), len(sources) - 1 - n_ref
    buffer = buffer or BlockBuffer()
    block = buffer.take(n_rows)
    energy, mixture_ref, ref_est = np.zeros(n_rows), np.zeros(n_ref), np.zeros((n_ref, n_est))
    refs, ests = block[1:1 + n_ref], block[1 + n_ref:]
    for start in range(0, length, BLOCK):
        n = min(BLOCK, length - start)
        rows = block[:, :n]
        for row, source in zip(rows, sources):
            to_float64(row, source[start:start + n])
        energy += np.vecdot(rows, rows)
        if n_ref:
            mixture_ref += np.vecdot(refs[:, :n], rows[0])
            if n_est:
                ref_est += np.vecdot(refs[:, None, :n], ests[None, :, :n])

    def difference_energy(a: int, b: int) -> float:
        total = 0.0
        pair = buffer.take(2)
        for start in range(0, length, BLOCK):
            n = min(BLOCK, length - start)
            to_float64(pair[0, :n], sources[a][start:start + n])
            to_float64(pair[1, :n], sources[b][start:start + n])
            diff = np.subtract(pair[0, :n], pair[1, :n], out=pair[0, :n])
            total += float(np.vecdot(diff, diff))
        return total

    return Gram(energy, mixture_ref, ref_est, difference_energy)
