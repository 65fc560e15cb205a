"""A run's provenance as the report shows it: what made it (system, edition, data and its
fingerprint, checkpoints with their sha256, code fingerprint, stages, date), one row of text each."""
from __future__ import annotations

PROVENANCE_KEYS = ("system", "edition", "data", "data_fingerprint", "checkpoints", "code_fingerprint", "stages",
                   "written_utc")


def provenance_rows(prov: dict) -> list[tuple[str, str]]:
    """What made the run, as (key, text): system, edition, data and its fingerprint, checkpoints
    with their sha256, code fingerprint, stages, date.

    Args:
        prov: a run's provenance (a table's sidecar, or a stage's run_info).

    Returns:
        One (key with spaces, value as text) per key of PROVENANCE_KEYS that has a value, in that order.
    """
    rows = []
    for key in PROVENANCE_KEYS:
        value = prov.get(key)
        if value in (None, {}, []):
            continue
        if key == "checkpoints":
            value = "; ".join(f"{k}: {v.get('path')} (sha256 {str(v.get('sha256'))[:16]}…)" for k, v in value.items())
        elif isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items())
        elif isinstance(value, list):
            value = ", ".join(map(str, value))
        rows.append((key.replace("_", " "), str(value)))
    return rows
