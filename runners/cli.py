"""`s5bench <command> [options]`: one console entry point for the runners; each command is the
same code as its `python runners/<module>.py` twin (the same `main(argv)`)."""
from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
from pathlib import Path

from s5bench.common.errors import cli

# command -> runner module (runners/<module>.py, installed as s5bench.runners.<module>)
COMMANDS = {
    "generate": "generate",
    "evaluate": "evaluate",
    "run": "run_system",
    "new-system": "new_system",
    "validate": "validate",
    "ablation": "ablation",
    "leaderboard": "leaderboard",
    "report": "report",
    "train": "train",
    "learnability": "learnability",
    "bench-bootstrap": "bench_bootstrap",
    "bench-capi": "bench_capi",
    "bench-evaluate": "bench_evaluate",
    "bench-generate": "bench_generate",
    "bench-speed": "bench_speed",
    "bench-training": "bench_training",
    "bench-gpu": "bench_gpu",
}


def summary(module: str) -> str:
    """The first sentence of a runner's docstring, read without importing it (torch takes seconds)."""
    spec = importlib.util.find_spec(f"s5bench.runners.{module}")
    doc = ast.get_docstring(ast.parse(Path(spec.origin).read_text())) if spec and spec.origin else None
    paragraph = " ".join((doc or "").split("\n\n")[0].split())
    return paragraph.split(". ")[0].rstrip(".:")


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: s5bench <command> [options]   (s5bench <command> --help for its options)", "", "commands:"]
    lines += [f"  {name:<{width}}  {summary(module)}" for name, module in COMMANDS.items()]
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"s5bench: unknown command {command!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"s5bench.runners.{COMMANDS[command]}")
    sys.argv = [f"s5bench {command}", *rest]  # argparse names the command in its messages
    return cli(module.main, rest)


if __name__ == "__main__":
    sys.exit(main())
