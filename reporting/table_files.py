"""Writing result tables: CSV with its Markdown twin and provenance sidecar, and the plots."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from s5bench.common.atomic import atomic_path
from s5bench.common.audio import write_text_atomic
from s5bench.common.provenance import write_sidecar


def named_rows(df: pd.DataFrame) -> Iterator[Any]:
    """The rows of `df` as namedtuples whose fields are its columns (`df.itertuples(index=False)`).

    Typed Any because the fields are the table's own column names, which pandas' annotation (a
    plain `tuple[Any, ...]`) cannot name; `r.metric` on a row is then not an error.

    Args:
        df: the table; its column names must be valid identifiers to be read as attributes.

    Returns:
        An iterator of one namedtuple per row, in order.
    """
    return iter(df.itertuples(index=False))


def markdown_table(df: pd.DataFrame, title: str, note: str = "") -> str:
    """A table as a Markdown page: a `#` heading, the table, then the note.

    Args:
        df: the table.
        title: the heading.
        note: the paragraph under the table.

    Returns:
        The page's text; floats with 2 decimals, NaN as an empty cell.
    """
    def fmt(v):
        if isinstance(v, float):
            return "" if pd.isna(v) else f"{v:.2f}"
        return str(v)

    head = "| " + " | ".join(df.columns) + " |"
    rule = "|" + "---|" * len(df.columns)
    body = "\n".join("| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False))
    return f"# {title}\n\n{head}\n{rule}\n{body}\n\n{note}\n"


def write_table(df: pd.DataFrame, csv_path: Path, title: str, note: str, display: pd.DataFrame | None = None,
                **sidecar: Any) -> None:
    """The CSV, its Markdown twin (of `display`, the table as shown, when given) and the sidecar.

    Args:
        df: the table, written to the CSV with 4 decimals.
        csv_path: the CSV (its folder made); the Markdown goes beside it with the suffix `.md`, the
            sidecar to `<csv_path>.meta.json` (`common.provenance.write_sidecar`).
        title: the Markdown's heading.
        note: the Markdown's note under the table.
        display: the table as shown in the Markdown (None: `df`).
        **sidecar: the provenance recorded in the sidecar.
    """
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(csv_path, df.to_csv(index=False, float_format="%.4f"))
    write_text_atomic(csv_path.with_suffix(".md"), markdown_table(df if display is None else display, title, note))
    write_sidecar(csv_path, **sidecar)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_table1(df: pd.DataFrame, out_png: Path) -> Path:
    """Grouped bars per stage: measured CA-SDRi and SNRi, and the paper's (hatched, *published*).

    Args:
        df: Table 1 (config, the ranking metric as its second column, SNRi, published_CA-SDRi,
            published_SNRi; missing values drawn as 0).
        out_png: the PNG to write (atomically).

    Returns:
        `out_png`.
    """
    plt = _plt()
    fig, ax = plt.subplots(figsize=(1.8 + 1.6 * len(df), 3.6))
    x = range(len(df))
    w = 0.2
    metric = df.columns[1]  # CA-SDRi (2025) or CAPI-SDRi (2026)
    series = [(metric, f"measured {metric}", None), ("SNRi", "measured SNRi", None),
              ("published_CA-SDRi", "published CA-SDRi", "//"), ("published_SNRi", "published SNRi", "//")]
    for i, (col, label, hatch) in enumerate(series):
        ax.bar([xi + (i - 1.5) * w for xi in x], df[col].fillna(0), w, label=label, hatch=hatch,
               color=["C0", "C1", "white", "white"][i], edgecolor=["C0", "C1", "C0", "C1"][i])
    ax.set_xticks(list(x), df["config"])
    ax.set_ylabel("dB")
    ax.axhline(0, color="k", lw=0.5)
    ax.legend(fontsize=7, ncol=2)
    ax.set_title("Table 1: ablation stages (measured here vs published)")
    fig.tight_layout()
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)
    return out_png


def plot_per_class(per_class_csv: Path, out_png: Path, title: str) -> Path:
    """One bar per class: its CA-SDRi term (`ca_sdri_term` of a stage's per_class.csv).

    Args:
        per_class_csv: a scored stage's per_class.csv (the class in its first column).
        out_png: the PNG to write (atomically).
        title: the plot's title.

    Returns:
        `out_png`.
    """
    plt = _plt()
    df = pd.read_csv(per_class_csv)
    col = "ca_sdri_term"  # the class's CA-SDRi: its TP SDRi summed over its TP + FP + FN
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.bar(df[df.columns[0]].astype(str), df[col])
    ax.set_ylabel("per-class CA-SDRi (dB)")
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=70, labelsize=7)
    ax.axhline(0, color="k", lw=0.5)
    fig.tight_layout()
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)
    return out_png
