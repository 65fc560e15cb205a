"""Command-line argument types shared by the runners."""
from __future__ import annotations

import argparse
from collections.abc import Callable

from .editions import add_edition_argument


def at_least(minimum: int) -> Callable[[str], int]:
    """An argparse `type` for whole numbers of at least `minimum` (argparse names the flag:
    "argument --n: must be a whole number of at least 1, not -3").

    Args:
        minimum: the smallest value accepted.

    Returns:
        A function from the flag's text to its int, raising argparse.ArgumentTypeError for text that
        is no whole number or one below `minimum`.
    """

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


# The most bootstrap resamples (--bootstrap; metrics/intervals.py holds to it too): at 10^6 the
# resampling noise of a 95 % bound is far below the printed digits; more would only take hours.
MAX_RESAMPLES = 1_000_000


def resample_count(text: str) -> int:
    """--bootstrap's type: a whole number from 0 (no intervals) to MAX_RESAMPLES, refused before
    any work ("argument --bootstrap: must be a whole number from 0 to 1000000, not 100000000000").

    Args:
        text: the flag's value as given.

    Returns:
        The number of resamples.

    Raises:
        argparse.ArgumentTypeError: it is no whole number, or below 0 or above MAX_RESAMPLES.
    """
    value = at_least(0)(text)
    if value > MAX_RESAMPLES:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to {MAX_RESAMPLES}, not {value}")
    return value


def add_interval_arguments(parser: argparse.ArgumentParser) -> None:
    """--bootstrap N and --seed: the paired bootstrap of metrics/intervals.py (0 turns it off).

    Args:
        parser: the runner's argument parser.
    """
    parser.add_argument("--bootstrap", type=resample_count, default=2000, metavar="N",
                        help="bootstrap resamples of the mixtures for the 95%% intervals and the paired "
                             "differences (default %(default)s; 0: no intervals)")
    parser.add_argument("--seed", type=at_least(0), default=0,
                        help="seed of the bootstrap resamples (default %(default)s)")


def add_table_arguments(parser: argparse.ArgumentParser, *, n_default: int, batch_size: int = 4,
                        report_path: str = "<out>/report/index.html") -> None:
    """The arguments every table runner (ablation, leaderboard) takes, declared once: --n, --out,
    --device, --batch-size, --jobs, --no-report, --edition, --bootstrap, --seed.

    Args:
        parser: the runner's argument parser.
        n_default: the built-in set's default number of mixtures, named in --n's help (`resolve_n` fills it in).
        batch_size: the default of --batch-size.
        report_path: where the web report goes, for --no-report's help.
    """
    parser.add_argument("--n", type=at_least(1), default=None,
                        help=f"mixtures of the built-in set (default {n_default}; 100 = all; not with --data)")
    parser.add_argument("--out", default="results", help="results folder (default %(default)s); a table of other "
                        "systems or data already there is refused")
    parser.add_argument("--device", default="cpu", help="torch device to run the systems on (cpu, cuda)")
    parser.add_argument("--batch-size", type=at_least(1), default=batch_size, help="mixtures per batch")
    parser.add_argument("--jobs", type=at_least(1), default=2, help="scoring processes")
    parser.add_argument("--no-report", action="store_true", help=f"skip the web report ({report_path})")
    add_edition_argument(parser)
    add_interval_arguments(parser)


def resolve_n(parser: argparse.ArgumentParser, args: argparse.Namespace, n_default: int) -> None:
    """Refuse --n beside --data (it chooses mixtures of the built-in set only: never silently ignored),
    and fill in its default otherwise.

    Args:
        parser: the runner's parser (its `error` exits with status 2, naming the program).
        args: the parsed arguments, with `n` and `data`.
        n_default: the built-in set's default number of mixtures.
    """
    if args.data and args.n is not None:
        parser.error("--n chooses mixtures of the built-in test set; with --data every mixture of DIR is used "
                     "(make a smaller set with generate.py --n)")
    if args.n is None:
        args.n = n_default

