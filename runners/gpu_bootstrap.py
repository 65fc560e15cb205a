"""Make `s5bench` importable from this checkout without installing it (the GPU machine: no
network, no `pip install` of the project, its own torch and numpy).

    python3 runners/gpu_bootstrap.py DEST      # prints DEST; then PYTHONPATH=DEST python3 -m s5bench.runners.cli ...

Builds DEST/s5bench/: copies of the files in the folder that pyproject.toml's
`[tool.setuptools.package-dir]` maps `s5bench` onto, and one symbolic link per subpackage it maps
onto a top-level folder (`s5bench.common` -> common/, ..., the data ones `s5bench.configs` and
`s5bench.checkpoints`, which have no __init__.py, included), so modules that find the checkout's configs and
checkpoints through their own resolved paths still find them. Only the standard library is used:
this file runs before anything of the project can be imported.
"""
from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]


def package_dirs(pyproject: Path) -> dict[str, str]:
    """`[tool.setuptools.package-dir]` of a pyproject.toml as {package: folder}.

    Args:
        pyproject: the file to read.

    Returns:
        e.g. {"s5bench": "s5bench", "s5bench.common": "common", ...}.

    Raises:
        ValueError: when the file has no such table.
    """
    text = pyproject.read_text()
    try:
        import tomllib

        table = tomllib.loads(text).get("tool", {}).get("setuptools", {}).get("package-dir", {})
    except ImportError:  # Python 3.10: the table's `"a" = "b"` lines, read by hand
        section = re.search(r"^\[tool\.setuptools\.package-dir\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
        table = dict(re.findall(r'^\s*"([^"]+)"\s*=\s*"([^"]+)"', section.group(1), re.M)) if section else {}
    if not table:
        raise ValueError(f"{pyproject}: no [tool.setuptools.package-dir] table (which folder is which package)")
    return table


def build(dest, checkout: Path = CHECKOUT) -> Path:
    """Create (or refresh) DEST/s5bench for `checkout`; put DEST on sys.path to import it.

    Args:
        dest: a folder to write into (created if missing); DEST/s5bench is replaced.
        checkout: the repository root.

    Returns:
        DEST, resolved.

    Raises:
        FileNotFoundError: when a mapped folder is missing from the checkout.
    """
    dest = Path(dest).resolve()
    pkg = dest / "s5bench"
    if pkg.is_symlink() or pkg.is_file():
        pkg.unlink()
    elif pkg.exists():
        shutil.rmtree(pkg)
    pkg.mkdir(parents=True)
    mapping = package_dirs(checkout / "pyproject.toml")
    for item in (checkout / mapping.get("s5bench", "s5bench")).iterdir():
        if item.is_file() and item.suffix == ".py":  # copied: their __file__ must not lead back to the checkout
            shutil.copy2(item, pkg / item.name)
    for name, folder in mapping.items():
        parts = name.split(".")
        if len(parts) != 2 or parts[0] != "s5bench":  # deeper packages live inside a linked folder
            continue
        source = checkout / folder
        if not source.is_dir():  # code packages and the data ones (configs/, checkpoints/: no __init__.py)
            raise FileNotFoundError(f"{checkout / 'pyproject.toml'}: package {name} maps to {source}, "
                                    "which is not a folder")
        (pkg / parts[1]).symlink_to(source, target_is_directory=True)
    return dest


def main(argv=None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0].startswith("-"):
        # the docstring's usage line; `python -OO` strips docstrings (__doc__ is None then)
        usage = __doc__.strip().split("\n\n")[1] if __doc__ else "usage: python3 runners/gpu_bootstrap.py DEST"
        print(usage, file=sys.stderr)
        return 2
    print(build(args[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
