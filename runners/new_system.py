"""Write a working plug-in system to start from: its class, its YAML and a pytest test.

    s5bench new-system my_system [--out DIR]

Makes DIR/my_system/ (DIR: the working folder) with my_system.py (a System subclass that answers
each mixture with its channel 0), my_system.yaml (the config that names it) and test_my_system.py.
It runs at once: `s5bench run --system my_system/my_system.yaml --data DIR --out OUT`; its test:
`python -m pytest my_system/`. The interface it implements is in docs/systems.md.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from s5bench.common.errors import command
from s5bench.systems.scaffold import write_plugin


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name", help="the plug-in's name, a Python module name (lower case, e.g. my_system)")
    ap.add_argument("--out", default=".", help="the folder to create NAME/ in (default: the working folder)")
    return ap


def _main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    files = write_plugin(args.name, args.out)
    folder = files[0].parent
    print("\n".join(f"wrote {path}" for path in files))
    yaml = Path(folder) / f"{args.name}.yaml"
    print(f"run it:  s5bench run --system {yaml} --data DIR --out results/{args.name}\n"
          f"test it: python -m pytest {folder}")
    return 0


main = command(_main)  # the one error boundary (common/errors.py): `error: …` and exit status 2


if __name__ == "__main__":
    sys.exit(main())
