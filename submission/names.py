"""The names in a submission package: `<Author>_<Affiliation>_task4_<N>` (2026; the zip is that
name + `.zip`), `<Author>_<Affiliation>_task4_<N>_out` (2025), and the estimate files in eval_out/."""
from __future__ import annotations

import re

from s5bench.common.editions import EDITIONS, check_edition, edition_of
from s5bench.common.errors import S5Error

EVAL_DIR = "eval_out"
EVAL_JSON = "eval_results.json"
DEV_TEST_JSON = "dev_set_test_results.json"
# Author and affiliation: letters and digits (the official script joins them with `_`, so neither has one).
_NAME = re.compile(r"(?P<author>[A-Za-z0-9-]+)_(?P<affiliation>[A-Za-z0-9-]+)_task4_(?P<number>\d+)(?P<out>_out)?")


def package_name(author: str, affiliation: str, number: int, edition: int = 2026) -> str:
    """The package's folder name (the zip's name without `.zip`) of an edition.

    Args:
        author: the first author's family name (letters, digits, `-`).
        affiliation: the affiliation's short name (letters, digits, `-`).
        number: the submission's number (1–4 in the challenge's rules).
        edition: 2026 (`<A>_<B>_task4_<N>`) or 2025 (`<A>_<B>_task4_<N>_out`).

    Returns:
        The name.

    Raises:
        S5Error: If a part would break the pattern.

    Example:
        >>> from s5bench.submission.names import package_name
        >>> package_name("Nguyen", "NTT", 1), package_name("Nguyen", "NTT", 2, edition=2025)
        ('Nguyen_NTT_task4_1', 'Nguyen_NTT_task4_2_out')
    """
    name = f"{author}_{affiliation}_task4_{int(number)}{edition_of(edition).package_suffix}"
    return check_package_name(name, edition)


def check_package_name(name: str, edition: int | None = None) -> str:
    """`name` if it is a package name (of `edition`, when given), else an error showing the form.

    Args:
        name: e.g. ``Nguyen_NTT_task4_1``.
        edition: 2026, 2025 or None (either form).

    Returns:
        The name, unchanged.

    Raises:
        S5Error: If it does not have the edition's form.
    """
    found = package_edition(name)
    if found is None or (edition is not None and found != check_edition(edition)):
        years = [check_edition(edition)] if edition is not None else sorted(EDITIONS, reverse=True)
        forms = [f"<Author>_<Affiliation>_task4_<N>{edition_of(e).package_suffix}" for e in years]
        raise S5Error(f"submission name {name!r} is not of the form {' or '.join(forms)} (author and affiliation: "
                      "letters, digits and - only)")
    return name


def package_edition(name: str) -> int | None:
    """The edition a package name has the form of (2025: ends in `_out`), or None.

    Example:
        >>> from s5bench.submission.names import package_edition
        >>> package_edition("A_B_task4_1"), package_edition("A_B_task4_1_out"), package_edition("A_task4_1")
        (2026, 2025, None)
    """
    match = _NAME.fullmatch(name)
    if match is None:
        return None
    return next(e for e in EDITIONS if edition_of(e).package_suffix == (match["out"] or ""))


def official_pattern(soundscape: str) -> re.Pattern:
    """The organisers' pattern for an estimate of `soundscape`: `<soundscape>(_<digits>)?_<label>.wav`.

    Example:
        >>> from s5bench.submission.names import official_pattern
        >>> official_pattern("mix_1").fullmatch("mix_1_0_Speech.wav").groups()
        ('0', 'Speech')
    """
    return re.compile(rf"{re.escape(soundscape)}(?:_(\d+))?_(.+)\.wav")
