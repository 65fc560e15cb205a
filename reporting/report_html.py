"""The web report's page: how figures are written (a figure with its interval as `5.75 ± 0.41`),
the tables as the template reads them, and the page rendered from its template."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

TEMPLATES = Path(__file__).resolve().parent / "templates"
CI_LOW, CI_HIGH = "_ci_low", "_ci_high"


@dataclass(frozen=True)
class Interval:
    """A table's figure with its 95 % interval. It reads as the figure itself where the page
    keeps a cell's value (`data-value`, sorting), and is written `value ± half-width`."""

    # table cells as pandas hands them over: a number, or NaN/None/pd.NA where unknown (see `finite`)
    value: Any
    low: Any
    high: Any

    def __str__(self) -> str:
        return str(self.value)

    @property
    def half_width(self) -> float:
        """Half the interval's width, (high − low) / 2."""
        return (float(self.high) - float(self.low)) / 2


def finite(v: Any) -> bool:
    """Whether a table cell holds a value (the template's `finite` test).

    Args:
        v: a cell: a number, a string, an Interval (judged by its value), or None/pd.NA/NaN.

    Returns:
        False for None, pd.NA and a float NaN; True otherwise (infinities included).
    """
    if isinstance(v, Interval):
        return finite(v.value)
    return v is not None and v is not pd.NA and not (isinstance(v, float) and math.isnan(v))


def fmt(v: Any, digits: int = 2) -> str:
    """A cell's text: floats with `digits` decimals, an Interval as `value ± half-width` (the
    value alone when its interval is unknown), nothing for a missing value.

    Args:
        v: a cell (see `finite`).
        digits: decimals of a float.

    Returns:
        The text; "" for a missing value; booleans as True/False, integers without decimals.
    """
    if isinstance(v, Interval):
        if finite(v.low) and finite(v.high) and finite(v.value):
            return f"{fmt(v.value, digits)} ± {fmt(v.half_width, digits)}"
        return fmt(v.value, digits)
    if not finite(v):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return f"{v:.{digits}f}"
    return str(v)


def fmt_p(p: Any) -> str:
    """A p-value: three decimals, or `< 0.001`.

    Args:
        p: the p-value, or a missing value (see `finite`).

    Returns:
        The text; "" for a missing value.
    """
    if not finite(p):
        return ""
    return "< 0.001" if float(p) < 0.001 else f"{float(p):.3f}"


def table_view(df: pd.DataFrame) -> dict:
    """{columns, rows} of a table for the template. A column `<c>` with `<c>_ci_low` and
    `<c>_ci_high` beside it (table1.csv and table2.csv with intervals) becomes one column of
    Intervals; the interval columns are not shown apart.

    Args:
        df: a table as read from its CSV.

    Returns:
        {"columns": the shown column names, "rows": one list of cells per row, in those columns}.
    """
    columns = list(df.columns)
    with_ci = {c: (columns.index(c + CI_LOW), columns.index(c + CI_HIGH)) for c in columns
               if c + CI_LOW in columns and c + CI_HIGH in columns}
    hidden = {i for pair in with_ci.values() for i in pair}
    shown = [i for i, c in enumerate(columns) if i not in hidden]
    rows = []
    for r in df.itertuples(index=False):
        cells = list(r)
        for c, (lo, hi) in with_ci.items():
            i = columns.index(c)
            cells[i] = Interval(cells[i], cells[lo], cells[hi])
        rows.append([cells[i] for i in shown])
    return {"columns": [columns[i] for i in shown], "rows": rows}


DIFFERENCE_TITLES = {"table1": "Table 1, differences between stages", "table2": "Table 2, differences between systems"}


def differences_view(name: str, df: pd.DataFrame, image: str) -> dict:
    """A differences table for the template: its title, its forest plot's link and its rows.

    Args:
        name: the table's name (`table1`, `table2`).
        df: the differences table (`report_data.read_differences`).
        image: the forest plot's link, relative to the report's folder.

    Returns:
        {"name", "title", "image", "several_data" (more than one data set), "rows" (one dict per row)}.
    """
    return {"name": name, "title": DIFFERENCE_TITLES.get(name, f"{name}, differences"), "image": image,
            "several_data": df["data"].nunique() > 1, "rows": df.to_dict("records")}


def render_page(**context: Any) -> str:
    """The report's index.html from templates/report.html.j2 (values escaped, a missing one an error).

    Args:
        **context: the template's variables (kind, results, tables, differences, views, generated).

    Returns:
        The page's text.
    """
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["fmt"] = fmt
    env.filters["fmt_p"] = fmt_p
    env.tests["finite"] = finite
    return env.get_template("report.html.j2").render(**context)
