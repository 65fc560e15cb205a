"""The two editions of the task (DCASE 2025 and 2026 Task 4) and what differs between them
for scoring, file naming, rendering and the tables. Every runner that scores takes `--edition`
through `add_edition_argument`; what an edition implies is asked of its `Edition` here, so this
module is the one place that decides it."""
from __future__ import annotations

import argparse
from dataclasses import dataclass

from .errors import S5Error


@dataclass(frozen=True)
class Edition:
    """What follows from an edition, asked of one object instead of comparing years elsewhere."""

    year: int
    ranking_metric: str  # summary column of the ranking metric
    repeated_classes: bool  # a class may fill several slots (and every slot may be silent)
    slot_index_in_names: bool  # files are <mix>_<i>_<Label>.wav (else <mix>_<Label>.wav)
    signed_peak_window: bool  # dry reference: the fork's signed peak, half-open end (else |peak|, both ends)
    ir_rms_normalisation: bool  # responses divided by their RMS over channels (else the mean of L2 norms)
    tile_short_noise: bool  # a noise file shorter than the scene is tiled (else each sample repeated)
    builtin_test: str  # the built-in test set's data config
    builtin_label: str  # its name in the leaderboard's columns
    published_source: str  # where the published leaderboard rows come from
    package_suffix: str = ""  # the submission's name: <Author>_<Affiliation>_task4_<N><suffix>
    package_results: bool = False  # the submission holds eval_results.json and dev_set_test_results.json


_EDITIONS = {
    2025: Edition(2025, "CA-SDRi", repeated_classes=False, slot_index_in_names=False, signed_peak_window=True,
                  ir_rms_normalisation=False, tile_short_noise=False, builtin_test="builtin_test",
                  builtin_label="builtin", published_source="as printed in the paper", package_suffix="_out"),
    2026: Edition(2026, "CAPI-SDRi", repeated_classes=True, slot_index_in_names=True, signed_peak_window=False,
                  ir_rms_normalisation=True, tile_short_noise=True, builtin_test="builtin_test_2026",
                  builtin_label="builtin2026", published_source="the task's results page", package_results=True),
}
EDITIONS = tuple(_EDITIONS)
DEFAULT_EDITION = 2025


def check_edition(edition: int | str) -> int:
    """The edition as an int, or an error naming the known ones.

    Args:
        edition: a year, as an int or a string ("2026"; argparse's `type`).

    Returns:
        The year, one of `EDITIONS`.

    Raises:
        S5Error: it is no whole number or not a known edition.
    """
    try:
        value = int(edition)
    except (TypeError, ValueError):
        value = None
    if value not in EDITIONS:
        raise S5Error(f"unknown edition {edition!r}; known editions: {', '.join(map(str, EDITIONS))}")
    return value


def edition_of(edition: int | str) -> Edition:
    """The description of an edition given as a year (int or string), or an error naming the known ones.

    Args:
        edition: a year, as an int or a string.

    Returns:
        What follows from that edition.

    Raises:
        S5Error: it is not a known edition.
    """
    return _EDITIONS[check_edition(edition)]


def ranking_metric(edition: int | str) -> str:
    """The column name of the edition's ranking metric.

    Args:
        edition: a year, as an int or a string.

    Returns:
        "CA-SDRi" (2025) or "CAPI-SDRi" (2026).

    Raises:
        S5Error: it is not a known edition.
    """
    return edition_of(edition).ranking_metric


def summary_columns(edition: int | str) -> list[str]:
    """The columns of a results table's summary for an edition, in order.

    Args:
        edition: a year, as an int or a string.

    Returns:
        n_mixtures, the ranking metric, SNRi, Acc_mix and Acc_src.

    Raises:
        S5Error: it is not a known edition.
    """
    return ["n_mixtures", ranking_metric(edition), "SNRi", "Acc_mix", "Acc_src"]


def repeated_classes_allowed(edition: int | str) -> bool:
    """Whether a class may fill several slots of a mixture (and all three slots may be silent): 2026.

    Args:
        edition: a year, as an int or a string.

    Returns:
        True for 2026, False for 2025.

    Raises:
        S5Error: it is not a known edition.
    """
    return edition_of(edition).repeated_classes


def add_edition_argument(parser: argparse.ArgumentParser) -> None:
    """Add `--edition` (2025 or 2026, default `DEFAULT_EDITION`, parsed by `check_edition`) to a runner's parser.

    Args:
        parser: the runner's argument parser.
    """
    parser.add_argument("--edition", type=check_edition, default=DEFAULT_EDITION, choices=EDITIONS,
                        help="task edition: 2025 (CA-SDRi, one file per class) or 2026 (CAPI-SDRi, "
                             "<mix>_<i>_<Label>.wav, classes may repeat); default %(default)s")
