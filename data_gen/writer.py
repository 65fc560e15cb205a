"""Write mixtures in the official test layout: soundscape/, oracle_target/, metadata/<mix>.json.

A mixture is complete when its metadata JSON exists: it is written last, atomically, after
every audio file, and lists them. On a re-run complete mixtures are kept; the files of an
incomplete one are removed and it is made again.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from functools import partial
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path

from tqdm import tqdm

from s5bench.common.audio import files_together, write_text_atomic
from s5bench.common.layout import METADATA_DIR, ORACLE_DIR, SOUNDSCAPE_DIR, parse_stem, submission_names
from s5bench.common.manifest import ManifestWriter
from s5bench.common.provenance import code_fingerprint

from .config import public_recipe
from .factory import MixtureFactory
from .render import Scene, plan_edition
from .schema import ScenePlan

STEMS_DIR = "stems"
_FACTORY: MixtureFactory | None = None


def mixture_name(index: int, n: int) -> str:
    return f"mix_{index:0{max(4, len(str(n - 1)))}d}"


def oracle_names(name: str, plan: ScenePlan) -> list[str]:
    """Oracle target file names of a plan's targets, in slot order: `<mix>_<Label>.wav` (2025),
    `<mix>_<i>_<Label>.wav` (2026, where a class may occur twice)."""
    labels = [e["label"] for e in plan["fg_events"]]
    return [file_name for _, file_name in submission_names(name, labels, plan_edition(plan))]


def _files_of(out: Path, name: str, plan: ScenePlan, stems: bool) -> list[Path]:
    files = [out / SOUNDSCAPE_DIR / f"{name}.wav"]
    files += [out / ORACLE_DIR / f for f in oracle_names(name, plan)]
    if stems:
        files += [out / STEMS_DIR / f"{name}_interference.wav", out / STEMS_DIR / f"{name}_noise.wav"]
    return files


def _belongs_to(stem: str, name: str) -> bool:
    """Whether a file stem is mixture `name`'s (exact names only: `mix_7_*` never catches
    `mix_70_*`): the mixture, a stem, or an oracle target in either edition's form."""
    if stem == name:
        return True
    try:  # `<name>_<Label>`, `<name>_<i>_<Label>` and the stems `<name>_interference`, `<name>_noise`
        return parse_stem(stem, {name})[0] == name
    except ValueError:
        return False


def is_complete(out: Path, name: str) -> bool:
    meta = out / METADATA_DIR / f"{name}.json"
    if not meta.is_file():
        return False
    try:
        files = json.loads(meta.read_text())["files"]
    except (json.JSONDecodeError, KeyError):
        return False
    return all((out / f).is_file() for f in files)


def _remove_partial(out: Path, name: str) -> bool:
    """Delete what an interrupted run left of mixture `name`; True if there was anything."""
    found = False
    for folder in (SOUNDSCAPE_DIR, ORACLE_DIR, STEMS_DIR):
        d = out / folder
        if d.is_dir():
            # exact names only: `mix_7_*` must not catch `mix_70_*`'s files
            for p in d.glob(f"{name}*.wav"):
                if _belongs_to(p.stem, name):
                    p.unlink()
                    found = True
    return found


class MixtureError(ValueError):
    """Making one mixture failed; the message names the mixture and the cause."""


# what rendering one plan can raise for a reason in its data (a file, a field, a room)
RENDER_ERRORS = (OSError, ValueError, KeyError, IndexError, TypeError)


def write_scene(out: Path, name: str, plan: ScenePlan, scene: Scene, stems: bool, subtype: str, **record) -> dict:
    """Write one rendered scene in the official layout; its metadata JSON (the plan, the files
    and `record`) comes last, atomically, and marks the mixture complete."""
    sr = int(plan["config"]["sr"])
    with files_together() as group:  # all audio under temporary names first, then moved into place together
        group.audio(out / SOUNDSCAPE_DIR / f"{name}.wav", scene.mixture.T, sr, subtype)
        for file_name, dry in zip(oracle_names(name, plan), scene.dry):  # slot order: the plan's (onset) order
            group.audio(out / ORACLE_DIR / file_name, dry, sr, subtype)
        if stems:
            group.audio(out / STEMS_DIR / f"{name}_interference.wav", scene.interference.sum(0).T, sr)
            group.audio(out / STEMS_DIR / f"{name}_noise.wav", scene.noise.T, sr)
    files = [p.relative_to(out).as_posix() for p in _files_of(out, name, plan, stems)]
    write_text_atomic(out / METADATA_DIR / f"{name}.json", json.dumps({**plan, "files": files, **record}, indent=1))
    return {"name": name, "labels": scene.target_labels}


def write_mixture(factory: MixtureFactory, out: Path, name: str, seed: int, index: int, stems: bool,
                  subtype: str = "FLOAT") -> dict:
    plan = factory.plan(seed, index)
    return write_scene(out, name, plan, factory.render(plan), stems, subtype, seed=seed, index=index)


def _init_worker(cfg):
    global _FACTORY
    _FACTORY = MixtureFactory(cfg)


def _work(args):
    out, name, seed, index, stems, subtype = args
    if _FACTORY is None:
        raise RuntimeError("_work runs in a worker started with _init_worker")
    try:
        return write_mixture(_FACTORY, Path(out), name, seed, index, stems, subtype)
    except RENDER_ERRORS as err:
        raise MixtureError(f"mixture {name} (seed {seed}, index {index}): {err}") from None


def render_metadata_folder(cfg: dict, metadata_dir, out, *, stems: bool = False, subtype: str | None = None,
                           progress: bool = True) -> dict:
    """Render every plan JSON of `metadata_dir` (the SpatialScaper fork's metadata, e.g. the
    dev_set's metadata/valid/, or this project's) with the recipe's engine and banks into the
    official layout of `out`; mixtures are named after the JSON files. Complete ones are kept."""
    folder = Path(metadata_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"metadata folder not found: {folder}")
    paths = sorted(folder.glob("*.json"))
    if not paths:
        raise FileNotFoundError(f"no .json plans in metadata folder {folder}")
    subtype = subtype or cfg.get("subtype", "FLOAT")
    out = Path(out)
    t0 = time.perf_counter()
    factory = MixtureFactory(cfg, progress=progress)
    names = [p.stem for p in paths]
    manifest = ManifestWriter(out, names=names, recipe={**public_recipe(cfg), "from_metadata": str(folder)},
                              seed=None, subtype=subtype, code_fingerprint=code_fingerprint())
    made, kept = [], 0
    try:
        for path in tqdm(paths, desc="rendering", unit="mix", disable=not progress):
            name = path.stem
            if is_complete(out, name):
                manifest.keep(name)
                kept += 1
                continue
            manifest.drop(name)
            _remove_partial(out, name)
            try:
                plan = json.loads(path.read_text())
                missing = {"config", "fg_events", "int_events", "bg_events", "room"} - set(plan)
                if missing:
                    raise ValueError(f"not a scene plan: no {', '.join(sorted(missing))}")
                made.append(write_scene(out, name, plan, factory.render(plan), stems, subtype, source=str(path)))
            except RENDER_ERRORS as err:
                raise MixtureError(f"mixture {name} ({path}): {err}") from None
            manifest.add(name)
    finally:
        manifest.write()
    return _summary(made, kept, 0, len(paths), t0, factory)


def generate_set(cfg: dict, out, n: int, seed: int, jobs: int = 1, stems: bool = False,
                 progress: bool = True, subtype: str | None = None) -> dict:
    """Make mixtures 0..n−1 of (config, seed) in `out`; return a summary of what was done.
    `subtype` (default: the config's `subtype`, else FLOAT): FLOAT or PCM_16 audio files. The
    same (config, seed, subtype) gives the same bytes in every file, whatever `jobs`."""
    if n < 1 or jobs < 1:
        raise ValueError(f"n and jobs must be at least 1, not n={n}, jobs={jobs}")
    subtype = subtype or cfg.get("subtype", "FLOAT")
    out = Path(out)
    t0 = time.perf_counter()
    names = [mixture_name(i, n) for i in range(n)]
    manifest = ManifestWriter(out, names=names, recipe=public_recipe(cfg), seed=seed, subtype=subtype,
                              code_fingerprint=code_fingerprint())
    factory = MixtureFactory(cfg, progress=progress)  # builds (and caches) the rooms once, before the workers
    kept = [nm for nm in names if is_complete(out, nm)]
    kept_set = set(kept)
    for nm in kept:
        manifest.keep(nm)
    todo = [(str(out), nm, seed, i, stems, subtype) for i, nm in enumerate(names) if nm not in kept_set]
    for _, nm, *_ in todo:
        manifest.drop(nm)
    redone = sum(_remove_partial(out, nm) for _, nm, *_ in todo)
    results = []
    bar = partial(tqdm, total=len(todo), desc="generating", unit="mix", disable=not progress)
    try:
        if jobs <= 1 or len(todo) <= 1:
            _init_worker(cfg)
            for t in bar(todo):
                results.append(_work(t))
                manifest.add(results[-1]["name"])
        else:
            method = "fork" if "fork" in get_all_start_methods() else "spawn"
            with get_context(method).Pool(jobs, initializer=_init_worker, initargs=(cfg,)) as pool:
                for result in bar(pool.imap_unordered(_work, todo)):
                    results.append(result)
                    manifest.add(result["name"])
    finally:  # what completed is listed even when a mixture failed; the set is complete only when all are
        manifest.write()
    index = [{"metadata_path": f"{METADATA_DIR}/{nm}.json",
              "ref_event": json.loads((out / METADATA_DIR / f"{nm}.json").read_text())["fg_events"]}
             for nm in names]
    for entry in index:
        labels = [e["label"] for e in entry["ref_event"]]
        entry["ref_event"] = labels + ["silence"] * (3 - len(labels))
    write_text_atomic(out / "index.json", json.dumps(index, indent=1))
    return _summary(results, len(kept), redone, n, t0, factory)


def _summary(made: list[dict], kept: int, redone: int, total: int, t0: float, factory: MixtureFactory) -> dict:
    """What a generation run did: counts, time, targets per class made now, the source folders."""
    counts = Counter(lab for r in made for lab in r["labels"])
    banks = [("targets", factory.targets), ("interference", factory.interference)]
    return {"made": len(made), "kept": kept, "redone": redone, "total": total,
            "seconds": time.perf_counter() - t0, "class_counts": dict(sorted(counts.items())),
            "sources": [f"{role}: {bank.describe()}" for role, bank in banks if bank is not None]}
