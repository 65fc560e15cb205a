"""The two editions of the task (DCASE 2025 and 2026 Task 4) and what differs between them
for scoring and file naming. Every runner that scores takes `--edition` through
`add_edition_argument`, so this module is the one place that decides it."""
from __future__ import annotations

EDITIONS = (2025, 2026)
DEFAULT_EDITION = 2025


def check_edition(edition) -> int:
    """The edition as an int, or an error naming the known ones."""
    try:
        value = int(edition)
    except (TypeError, ValueError):
        value = None
    if value not in EDITIONS:
        raise ValueError(f"unknown edition {edition!r}; known editions: {', '.join(map(str, EDITIONS))}")
    return value


def ranking_metric(edition: int) -> str:
    """The column name of the edition's ranking metric."""
    return "CAPI-SDRi" if check_edition(edition) == 2026 else "CA-SDRi"


def summary_columns(edition: int) -> list[str]:
    return ["n_mixtures", ranking_metric(edition), "SNRi", "Acc_mix", "Acc_src"]


def repeated_classes_allowed(edition: int) -> bool:
    """2026: a class may fill several slots (and all three slots may be silent)."""
    return check_edition(edition) == 2026


def add_edition_argument(parser) -> None:
    parser.add_argument("--edition", type=check_edition, default=DEFAULT_EDITION, choices=EDITIONS,
                        help="task edition: 2025 (CA-SDRi, one file per class) or 2026 (CAPI-SDRi, "
                             "<mix>_<i>_<Label>.wav, classes may repeat); default %(default)s")
