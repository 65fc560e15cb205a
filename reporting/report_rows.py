"""The rows the web report shows for one run: which mixtures to listen to, one row per mixture
with each stage's figure and slots, and what each stage changed over the one before it."""
from __future__ import annotations

import numpy as np
import pandas as pd

from s5bench.common.labels import N_SLOTS, SILENCE
from s5bench.common.layout import list_mixtures
from s5bench.metrics.breakdown import labels_of, metric_column, slot_outcomes

from .report_data import ReportError, Run


def select_mixtures(run: Run, asked: list[str], n_random: int, seed: int) -> list[tuple[str, str]]:
    """[(mixture, why)]: best, median and worst of the final scored stage by its ranking metric,
    `n_random` others drawn with `seed`, then every asked one (an unknown name is an error).

    Args:
        run: the run (its first stage's run_info names the mixtures' folder).
        asked: mixture names asked for (--mixtures).
        n_random: mixtures drawn at random among the rest.
        seed: the seed of that draw.

    Returns:
        (mixture, why it was chosen) pairs, each mixture once (an asked one that was chosen anyway
        says both), in that order.

    Raises:
        ReportError: an asked name is not a mixture of the run's data set.
    """
    names = sorted(list_mixtures(run.stages[0].info["soundscape_dir"]))
    unknown = [m for m in asked if m not in names]
    if unknown:
        raise ReportError(f"--mixtures: {', '.join(unknown)} not in {run.stages[0].info['soundscape_dir']} "
                          f"(it has {len(names)} mixtures: {', '.join(names[:5])}{' …' if len(names) > 5 else ''})")
    chosen: dict[str, str] = {}
    if run.scored:
        pm = run.scored[-1].scores()
        col = metric_column(pm)
        ranked = pm.dropna(subset=[col]).sort_values([col, "soundscape"], kind="stable")
        if len(ranked):
            what = f"by {col} of {run.scored[-1].name}"
            chosen[ranked.iloc[-1]["soundscape"]] = f"best {what}"
            chosen.setdefault(ranked.iloc[len(ranked) // 2]["soundscape"], f"median {what}")
            chosen.setdefault(ranked.iloc[0]["soundscape"], f"worst {what}")
    rest = [m for m in names if m not in chosen]
    rng = np.random.default_rng(seed)
    for m in sorted(rng.choice(rest, size=min(n_random, len(rest)), replace=False)) if rest else []:
        chosen[str(m)] = f"at random (seed {seed})"
    for m in asked:
        chosen[m] = f"{chosen[m]}; asked for (--mixtures)" if m in chosen else "asked for (--mixtures)"
    return list(chosen.items())


def mixture_rows(run: Run) -> list[dict]:
    """One row per mixture: references with their outcome at the final stage, and per stage its
    ranking-metric value, change over the stage before and slot labels with their outcomes.

    Args:
        run: the run; only its scored stages are read.

    Returns:
        One dict per mixture of the first scored stage: "mixture", "n_ref", "refs" ((label,
        "matched" | "missed") at the final stage), "stages" (per scored stage None where it lacks
        the mixture, else "value", "snri", "delta" (None at the first) and "slots": N_SLOTS
        (label, outcome) pairs, silence padded). Empty when no stage was scored.
    """
    scored = run.scored
    if not scored:
        return []
    tables = [s.scores().set_index("soundscape") for s in scored]
    col = metric_column(scored[0].scores())
    rows = []
    for name in tables[0].index:
        ref = labels_of(tables[0].loc[name, "ref_labels"])
        final_est = labels_of(tables[-1].loc[name, "est_labels"]) if name in tables[-1].index else []
        row = {"mixture": name, "n_ref": len(ref), "refs": slot_outcomes(ref, final_est)[1], "stages": []}
        previous = None
        for stage, t in zip(scored, tables):
            if name not in t.index:
                row["stages"].append(None)
                continue
            value = float(t.loc[name, col])
            est = labels_of(t.loc[name, "est_labels"])
            row["stages"].append({"value": value, "snri": float(t.loc[name, "snri"]),
                                  "delta": value - previous if previous is not None else None,
                                  "slots": slot_outcomes(ref, est)[0] + [(SILENCE, "silence")] * (N_SLOTS - len(est))})
            previous = value
        rows.append(row)
    return rows


def summarise_changes(ch: pd.DataFrame) -> list[dict]:
    """Per stage after the first: how many mixtures it helped, hurt or left unchanged, and the
    three it helped and hurt most.

    Args:
        ch: a run's stage changes (`metrics.breakdown.stage_changes`).

    Returns:
        One dict per stage: "stage", "previous", "helped", "hurt", "unchanged", "mean" (mean delta
        in the ranking metric's unit), "most_helped" and "most_hurt" (up to 3 rows each, largest change first).
    """
    out = []
    for stage, rows in ch.groupby("stage", sort=False):
        verdict = rows["verdict"]
        ranked = rows.dropna(subset=["delta"]).sort_values("delta")
        out.append({"stage": stage, "previous": rows["previous"].iloc[0],
                    "helped": int((verdict == "helped").sum()), "hurt": int((verdict == "hurt").sum()),
                    "unchanged": int((verdict == "unchanged").sum()), "mean": float(rows["delta"].mean()),
                    "most_helped": ranked.tail(3)[::-1].to_dict("records"),
                    "most_hurt": ranked.head(3).to_dict("records")})
    return out
