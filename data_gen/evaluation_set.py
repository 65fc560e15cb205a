"""A challenge-style hidden test set in one command: the full set (mixtures, oracle targets, plans,
manifest) is generated in a references folder kept by the organiser, and the evaluation set given
to participants holds the mixtures only (soundscape/ and a manifest.json that lists them, with
their sizes and sha256), nothing that tells the answer (no oracle_target/, metadata/ or index.json)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from s5bench.common.atomic import atomic_path
from s5bench.common.audio import write_text_atomic
from s5bench.common.errors import S5Error
from s5bench.common.layout import SOUNDSCAPE_DIR
from s5bench.common.manifest import MANIFEST, read_manifest, verify_dataset


def check_apart(references: Path, out: Path) -> None:
    """Refuse an evaluation set that would hold its references, or be held by them.

    Args:
        references: the folder of the full set (with its references).
        out: the evaluation set's folder.

    Raises:
        S5Error: the two folders are one, or one is inside the other.
    """
    a, b = Path(references).resolve(), Path(out).resolve()
    if a == b or a.is_relative_to(b) or b.is_relative_to(a):
        raise S5Error(f"--references-out {references} and --out {out} must be separate folders (neither inside "
                      "the other): the evaluation set must not contain its references")


def export_evaluation_set(references: Path, out: Path) -> int:
    """Copy the mixtures of a complete generated set into an evaluation set.

    Args:
        references: a complete set written by generate_set (its manifest says so).
        out: the evaluation set to write (soundscape/ and manifest.json); must not be `references`.

    Returns:
        The number of mixtures in `out`.

    Raises:
        S5Error: `out` is the references folder or inside it, or the references are incomplete.
    """
    references, out = Path(references), Path(out)
    check_apart(references, out)
    verdict = verify_dataset(references)
    if not verdict.ok:
        raise S5Error(verdict.message())
    body = read_manifest(references / MANIFEST)
    mixtures = {}
    for name, entry in body["mixtures"].items():
        files = {rel: want for rel, want in entry["files"].items() if rel.startswith(f"{SOUNDSCAPE_DIR}/")}
        for rel in files:
            target = out / rel
            if not (target.is_file() and target.stat().st_size == files[rel]["bytes"]):
                with atomic_path(target) as tmp:
                    shutil.copyfile(references / rel, tmp)
        mixtures[name] = {"files": files}
    head = {k: body.get(k) for k in ("format", "recipe_sha256", "seed", "subtype") if k in body}
    manifest = {**head, "evaluation_set": True, "n": len(mixtures), "complete": True,
                "expected": body.get("expected", sorted(mixtures)), "mixtures": dict(sorted(mixtures.items()))}
    write_text_atomic(out / MANIFEST, json.dumps(manifest, indent=1) + "\n")
    return len(mixtures)
