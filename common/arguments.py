"""Command-line argument types shared by the runners."""
from __future__ import annotations

import argparse


def at_least(minimum: int):
    """An argparse `type` for whole numbers of at least `minimum` (argparse names the flag:
    "argument --n: must be a whole number of at least 1, not -3")."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number of at least {minimum}, not {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be a whole number of at least {minimum}, not {value}")
        return value

    parse.__name__ = f"at_least_{minimum}"
    return parse
