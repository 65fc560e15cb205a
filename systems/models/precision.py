"""Mixed precision: the parts of a model or a training step that must stay in float32 while the
rest runs under autocast (bfloat16 on a GPU).

STFT/iSTFT (cuFFT has no bfloat16, and the phase of a low-precision spectrum is poor), losses and
metrics (sums over 10-s waveforms) run with autocast off and float32 inputs. Without autocast
every helper here is a no-op, so CPU runs compute exactly what they computed before.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, overload

import torch

from s5bench.common.errors import S5Error

_T = TypeVar("_T")

AMP_DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16}
_LOW = (torch.bfloat16, torch.float16)


def autocast_devices() -> list[str]:
    """The device types ("cuda", "cpu") on which autocast is active right now.

    Returns:
        A sublist of ["cuda", "cpu"], empty when autocast is off everywhere.
    """
    return [d for d in ("cuda", "cpu") if torch.is_autocast_enabled(d)]


@contextlib.contextmanager
def full_precision() -> Iterator[None]:
    """Autocast off, on every device type where it is on, for the enclosed code (a no-op when it
    is off everywhere).

    Yields:
        None, once; autocast is restored when the block ends.
    """
    with contextlib.ExitStack() as stack:
        for device in autocast_devices():
            stack.enter_context(torch.autocast(device, enabled=False))
        yield


@overload
def to_float(x: torch.Tensor) -> torch.Tensor:
    """A tensor in float32 if it was bfloat16/float16.

    Args:
        x: a tensor.

    Returns:
        A float32 copy of a bfloat16/float16 tensor, else x itself.
    """
    ...


@overload
def to_float(x: _T) -> _T:
    """A structure of tensors with its low-precision ones in float32.

    Args:
        x: a dict/list/tuple of tensors, or any other value (returned as it is).

    Returns:
        The same structure, bfloat16/float16 tensors replaced by float32 copies.
    """
    ...


def to_float(x: Any) -> Any:
    """x with its bfloat16/float16 tensors cast to float32 (through dicts, lists and tuples);
    every other value, float32 and float64 tensors included, is returned as it is (the same object).

    Args:
        x: a tensor, or a dict/list/tuple of them (other values pass through).

    Returns:
        The same structure, low-precision floating tensors replaced by float32 copies.
    """
    if torch.is_tensor(x):
        return x.float() if x.dtype in _LOW else x
    if isinstance(x, dict):
        return {k: to_float(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(to_float(v) for v in x)
    return x


def amp_dtype(name: str) -> torch.dtype:
    """The autocast dtype of a recipe's `amp_dtype` ("bfloat16" or "float16").

    Args:
        name: "bfloat16" or "float16".

    Returns:
        torch.bfloat16 or torch.float16.

    Raises:
        S5Error: for any other name.
    """
    if name not in AMP_DTYPES:
        raise S5Error(f"amp_dtype {name!r} is not one of {', '.join(AMP_DTYPES)}")
    return AMP_DTYPES[name]


def run_autocast(fn: Callable[..., _T], *args: Any, dtype: torch.dtype | None = None, device_type: str = "cuda",
                 **kwargs: Any) -> _T:
    """fn(*args, **kwargs) under autocast to `dtype` on `device_type`, its outputs cast back to
    float32; with dtype None, the plain call (no autocast, outputs untouched).

    Args:
        fn: a model or one of its methods.
        *args: fn's positional arguments.
        dtype: torch.bfloat16 / torch.float16, or None for full precision.
        device_type: "cuda" (or "cpu") — where the tensors live.
        **kwargs: fn's keyword arguments.

    Returns:
        fn's outputs (float32 where autocast made them lower).
    """
    if dtype is None:
        return fn(*args, **kwargs)
    with torch.autocast(device_type, dtype=dtype):
        out = fn(*args, **kwargs)
    return to_float(out)
