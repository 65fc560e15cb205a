"""s5bench: a benchmarking harness for spatial semantic segmentation of sound scenes (DCASE 2025
and 2026 Task 4).

One namespace, folders at the repository's top: `s5bench.common`, `s5bench.metrics`,
`s5bench.data_gen`, `s5bench.systems` and `s5bench.runners` are the folders `common/`,
`metrics/`, `data_gen/`, `systems/` and `runners/` (pyproject.toml maps them with
`package-dir`), so installing the project adds one top-level name to site-packages.
"""
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[1]
if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "metrics" / "__init__.py").is_file():
    # Run from a checkout without `pip install`: the subpackages are the folders beside this one.
    __path__.append(str(_CHECKOUT))  # noqa: F821 (a package's own __path__)

__version__ = "0.1.0"
