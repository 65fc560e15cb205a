"""s5bench: a benchmarking harness for spatial semantic segmentation of sound scenes (DCASE 2025
and 2026 Task 4).

One namespace, folders at the repository's top: `s5bench` itself is `namespace/` (this file only; no
folder of the checkout is named `s5bench`, so none shadows the installed package), `s5bench.common`,
`s5bench.metrics`, `s5bench.data_gen`, `s5bench.systems`, `s5bench.reporting`, `s5bench.benchmarks`
and `s5bench.runners` are the folders `common/`, `metrics/`, `data_gen/`, `systems/`, `reporting/`,
`benchmarks/` and `runners/` (the console command `s5bench` is `runners/cli.py`), and the shipped
configs and checkpoints are the data packages `s5bench.configs` and `s5bench.checkpoints`
(pyproject.toml maps them with `package-dir`), so installing the project adds one top-level name to
site-packages. Work on a checkout through setuptools' strict editable install, which static tools
follow too: `pip install -e ".[test]" --config-settings editable_mode=strict` (re-run it after adding
a file: tests/test_package.py says when a module on disk is missing from the install).
"""

__version__ = "0.1.0"
