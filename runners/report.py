"""Build a listening and inspection report of a results folder: one static web page."""
from __future__ import annotations

import sys

from s5bench.reporting.report import build_report, main  # noqa: F401 (the runner's entry point, moved)

if __name__ == "__main__":
    sys.exit(main())
