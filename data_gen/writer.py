"""Write mixtures in the official test layout: soundscape/, oracle_target/, metadata/<mix>.json.

A mixture is complete when its metadata JSON exists: it is written last, atomically, after
every audio file, and lists them. On a re-run complete mixtures are kept; the files of an
incomplete one are removed and it is made again.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path
from typing import cast

from tqdm import tqdm

from s5bench.common.audio import files_together, write_text_atomic
from s5bench.common.errors import S5Error
from s5bench.common.interrupt import quiet_worker, worker_pool
from s5bench.common.labels import N_SLOTS, SAMPLE_RATE
from s5bench.common.layout import METADATA_DIR, ORACLE_DIR, SOUNDSCAPE_DIR, parse_stem, submission_names
from s5bench.common.locks import folder_lock
from s5bench.common.manifest import ManifestWriter, recipe_sha256
from s5bench.common.provenance import code_fingerprint

from .config import DataConfig, coverage_warnings, public_config, unset_variable_hint
from .factory import MixtureFactory
from .plan import DEFAULT_CONFIG
from .render import Scene, plan_edition
from .schema import ScenePlan

STEMS_DIR = "stems"
_FACTORY: MixtureFactory | None = None


def mixture_name(index: int, n: int) -> str:
    """The name of mixture `index` of a set of `n`: `mix_` and the index, zero-padded to at least 4 digits.

    Args:
        index: the mixture's index, 0 ≤ index < n.
        n: the number of mixtures in the set (the padding fits n − 1).

    Returns:
        The name, which sorts in index order.

    Example:
        >>> from s5bench.data_gen.writer import mixture_name
        >>> mixture_name(7, 100), mixture_name(7, 20000)
        ('mix_0007', 'mix_00007')
    """
    return f"mix_{index:0{max(4, len(str(n - 1)))}d}"


def oracle_names(name: str, plan: ScenePlan) -> list[str]:
    """The oracle target file names of a plan's targets, in slot order.

    Args:
        name: the mixture's name.
        plan: its scene plan (`fg_events` with their labels; `config` and `room` give the edition).

    Returns:
        `<mix>_<Label>.wav` per target (2025), `<mix>_<i>_<Label>.wav` (2026, where a class may
        occur twice).

    Raises:
        S5Error: If a label is unknown.

    Example:
        >>> from s5bench.data_gen.writer import oracle_names
        >>> oracle_names("mix_0007", {"config": {"edition": 2026}, "room": "r.sofa",
        ...                           "fg_events": [{"label": "Speech"}, {"label": "Speech"}]})
        ['mix_0007_0_Speech.wav', 'mix_0007_1_Speech.wav']
    """
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
    """Whether mixture `name` of the set in `out` is complete.

    Args:
        out: the data set's folder.
        name: the mixture's name.

    Returns:
        True if its metadata JSON exists, is readable and every file it lists exists.
    """
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


class MixtureError(S5Error):
    """Making one mixture failed; the message names the mixture and the cause."""


# what rendering one plan can raise for a reason in its data (a file, a field, a room)
RENDER_ERRORS = (OSError, ValueError, KeyError, IndexError, TypeError)


def write_scene(out: Path, name: str, plan: ScenePlan, scene: Scene, stems: bool, subtype: str, **record) -> dict:
    """Write one rendered scene in the official layout of `out`; its metadata JSON comes last.

    The audio files are written under temporary names and moved into place together; then
    metadata/<name>.json (the plan, the files and `record`) is written atomically and marks the
    mixture complete.

    Args:
        out: the data set's folder.
        name: the mixture's name.
        plan: its scene plan (`config.sr` gives the sample rate in Hz).
        scene: the rendered scene: `mixture` (4, samples), `dry` (targets, samples) at channel 0,
            `interference` (n, 4, samples), `noise` (4, samples), `target_labels`.
        stems: also write stems/<name>_interference.wav and stems/<name>_noise.wav (4 channels, float).
        subtype: the audio files' sample format, "FLOAT" or "PCM_16".
        **record: further fields for the metadata JSON (e.g. seed and index).

    Returns:
        {"name": name, "labels": the targets' labels}.

    Raises:
        OSError: If a file cannot be written.
    """
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
    """Plan, render and write mixture `index` of (config, seed) (`write_scene`).

    Args:
        factory: the recipe's mixture factory (banks and rooms).
        out: the data set's folder.
        name: the mixture's name.
        seed: the set's seed.
        index: the mixture's index (its plan depends on seed and index only).
        stems: also write the interference and noise stems.
        subtype: "FLOAT" or "PCM_16".

    Returns:
        As `write_scene`.

    Raises:
        OSError, ValueError, KeyError, IndexError, TypeError: If a source, room or field of the
            recipe is wrong (`RENDER_ERRORS`), or a file cannot be written.
    """
    plan = factory.plan(seed, index)
    return write_scene(out, name, plan, factory.render(plan), stems, subtype, seed=seed, index=index)


def _init_worker(cfg: DataConfig):
    global _FACTORY
    _FACTORY = MixtureFactory(cfg)


def _init_pool_worker(cfg: DataConfig):
    quiet_worker()  # Ctrl-C is the parent's to handle; the pool's SIGTERM removes this worker's temporary files
    _init_worker(cfg)


def _work(args):
    out, name, seed, index, stems, subtype = args
    if _FACTORY is None:
        raise RuntimeError("_work runs in a worker started with _init_worker")
    try:
        return write_mixture(_FACTORY, Path(out), name, seed, index, stems, subtype)
    except (S5Error, OSError) as err:  # a bank's file, a room, a full disk; anything else is a bug, shown as one
        raise MixtureError(f"mixture {name} (seed {seed}, index {index}): {err}") from None


def workers_for(jobs: int, tasks: int) -> int:
    """The worker processes a job of `tasks` independent tasks can use: no more than the tasks, nor
    than the CPUs this process may run on (more would only take turns on them), nor than asked.

    Args:
        jobs: the workers asked for (--jobs), at least 1.
        tasks: the number of tasks.

    Returns:
        min(jobs, tasks, CPUs), at least 1.

    Example:
        >>> from s5bench.data_gen.writer import workers_for
        >>> workers_for(1000, 4) <= 4, workers_for(1, 100)
        (True, 1)
    """
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(jobs, tasks, cpus))


def bytes_per_mixture(cfg: DataConfig, subtype: str, stems: bool) -> int:
    """An upper bound of the bytes one mixture of a recipe takes on disk: the 4-channel mixture and
    the most targets a scene may have in `subtype`, the float stems with `stems`, and its metadata.

    Args:
        cfg: a data config (`load_config`); its `scene` section overrides the planner's defaults.
        subtype: "FLOAT" (4 bytes a sample) or "PCM_16" (2).
        stems: whether the interference and noise stems (4 channels each, float) are written.

    Returns:
        The bytes, rounded up.

    Example:
        >>> from s5bench.data_gen.writer import bytes_per_mixture
        >>> bytes_per_mixture({"sr": 32000, "scene": {"duration": 10.0}}, "PCM_16", False)  # 320000 × 7 × 2 + 64 KiB
        4545536
    """
    scene = {**DEFAULT_CONFIG, **(cfg.get("scene") or {})}
    samples = int(round(float(scene["duration"]) * int(cfg.get("sr", scene.get("sr", SAMPLE_RATE)))))
    channels = 4 + min(int(scene["n_targets"][1]), N_SLOTS)
    size = samples * channels * (2 if subtype == "PCM_16" else 4) + (samples * 8 * 4 if stems else 0)
    return size + 64 * 1024  # headers and the metadata JSON (a few kB), with room to spare


def check_free_space(out: Path, n_new: int, per_mixture: int) -> None:
    """Refuse a generation whose mixtures would not fit on the file system of `out`, before any is made.

    Args:
        out: the data set's folder (it need not exist yet: its nearest existing parent is measured).
        n_new: the mixtures still to make.
        per_mixture: the bytes one takes (`bytes_per_mixture`).

    Raises:
        S5Error: naming the folder, the space needed and the space free.
    """
    where = Path(out).absolute()
    while not where.exists() and where != where.parent:
        where = where.parent
    free = shutil.disk_usage(where).free
    need = n_new * per_mixture
    if need > free:
        raise S5Error(f"data folder {out}: {n_new} mixtures need about {_size(need)} and its file system has "
                      f"{_size(free)} free: free some space, make fewer mixtures (--n) or write 16-bit PCM "
                      "(--subtype PCM_16)")


def _size(n: float) -> str:
    """Bytes in the largest decimal unit that keeps the figure below 1000 (up to TB)."""
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def render_metadata_folder(cfg: DataConfig, metadata_dir, out, *, stems: bool = False, subtype: str | None = None,
                           progress: bool = True) -> dict:
    """Render every plan JSON of a metadata folder into the official layout of `out`.

    The plans are the SpatialScaper fork's metadata (e.g. the dev_set's metadata/valid/) or this
    project's; they are rendered with the recipe's engine and banks, and the mixtures are named
    after the JSON files. Complete mixtures are kept; an incomplete one is removed and made again.

    Args:
        cfg: a data config (`load_config`): engine, banks, rooms, `sr` and `subtype`.
        metadata_dir: the folder of plan JSON files.
        out: the data set's folder (made if needed).
        stems: also write the interference and noise stems.
        subtype: "FLOAT" or "PCM_16" (default: the config's `subtype`, else FLOAT).
        progress: show progress bars.

    Returns:
        A summary: "made", "kept", "redone", "total", "seconds", "class_counts" (targets made now,
        per class) and "sources" (the banks' descriptions).

    Raises:
        FileNotFoundError: If the folder is missing or holds no .json plan.
        MixtureError: If a plan is not a scene plan or cannot be rendered (the message names the
            mixture and the file).
        S5Error: If `out` holds a data set of another recipe or sample format (DatasetError),
            or the banks or rooms cannot be built.
    """
    folder = Path(metadata_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"metadata folder not found: {folder}{unset_variable_hint(folder, cfg)}")
    paths = sorted(folder.glob("*.json"))
    if not paths:
        raise FileNotFoundError(f"no .json plans in metadata folder {folder}")
    plans = {path.stem: read_plan(path) for path in paths}  # every plan checked before the folder is made
    subtype = subtype or cfg.get("subtype", "FLOAT")
    out = Path(out)
    t0 = time.perf_counter()
    names = [p.stem for p in paths]
    made_before = sum((out / METADATA_DIR / f"{name}.json").is_file() for name in names)
    check_free_space(out, len(names) - made_before, bytes_per_mixture(cfg, subtype, stems))  # the recipe's scene size
    factory = MixtureFactory(cfg, progress=progress)
    recipe = {**public_config(cfg), "from_metadata": str(folder)}
    with claimed_data_folder(out, recipe, None, len(names), subtype, stems):
        manifest = ManifestWriter(out, names=names, recipe=recipe, seed=None, subtype=subtype,
                                  code_fingerprint=code_fingerprint())
        made, kept = [], 0
        try:
            for path in tqdm(paths, desc="rendering", unit="mix", disable=not progress):
                name = path.stem
                if is_complete(out, name) and manifest.verified(name):
                    kept += 1
                    continue
                manifest.drop(name)
                _remove_partial(out, name)
                try:
                    plan = plans[name]
                    made.append(write_scene(out, name, plan, factory.render(plan), stems, subtype,
                                            source=str(path)))
                except RENDER_ERRORS as err:
                    raise MixtureError(f"mixture {name} ({path}): {err}") from None
                manifest.add(name)
        finally:
            manifest.write()
    return _summary(made, kept, 0, len(paths), t0, factory)


def read_plan(path: Path) -> ScenePlan:
    """A scene plan JSON of a metadata folder, read and checked to have a plan's sections.

    Args:
        path: the JSON file.

    Returns:
        The plan.

    Raises:
        MixtureError: If it is not JSON, or lacks a section (the message names the mixture and the file).
    """
    try:
        plan = json.loads(path.read_text())
        sections = set(plan) if isinstance(plan, dict) else set()
        missing = {"config", "fg_events", "int_events", "bg_events", "room"} - sections
        if missing:
            raise S5Error(f"not a scene plan: no {', '.join(sorted(missing))}")
    except (ValueError, OSError) as err:
        raise MixtureError(f"mixture {path.stem} ({path}): {err}") from None
    return cast(ScenePlan, plan)  # its sections are there; their content is checked as it is rendered


def generate_set(cfg: DataConfig, out, n: int, seed: int, jobs: int = 1, stems: bool = False,
                 progress: bool = True, subtype: str | None = None) -> dict:
    """Make mixtures 0..n−1 of (config, seed) in the official layout of `out`, resuming a stopped run.

    Writes soundscape/<mix>.wav (4-channel FOA at the config's `sr`, 32 kHz by default),
    oracle_target/ (mono dry targets at channel 0), metadata/<mix>.json, stems/ (with `stems`),
    index.json and manifest.json. Complete mixtures are kept; incomplete ones are made again. The
    same (config, seed, subtype) gives the same bytes in every file, whatever `jobs`.

    Args:
        cfg: a data config (`load_config`).
        out: the data set's folder (made if needed).
        n: the number of mixtures, at least 1.
        seed: the set's seed.
        jobs: worker processes, at least 1 (no more are started than `workers_for` allows).
        stems: also write the interference and noise stems.
        progress: show progress bars.
        subtype: "FLOAT" or "PCM_16" (default: the config's `subtype`, else FLOAT).

    Returns:
        A summary: "made", "kept", "redone" (incomplete mixtures removed), "total", "seconds",
        "class_counts" (targets made now, per class) and "sources" (the banks' descriptions).

    Raises:
        S5Error: If n or jobs is below 1; the mixtures to make would not fit on the disk
            (`check_free_space`); `out` holds a data set of another recipe, seed or sample format
            (DatasetError); or the banks or rooms cannot be built.
        MixtureError: If a mixture cannot be made (the message names it, its seed and index).
        FileNotFoundError: If a bank's or the rooms' folder is missing.
    """
    if n < 1 or jobs < 1:
        raise S5Error(f"n and jobs must be at least 1, not n={n}, jobs={jobs}")
    subtype = subtype or cfg.get("subtype", "FLOAT")
    out = Path(out)
    t0 = time.perf_counter()
    # before anything is made or listed: the mixtures not yet there must fit (each made one has its JSON)
    made_before = sum(1 for _ in (out / METADATA_DIR).glob("*.json")) if (out / METADATA_DIR).is_dir() else 0
    check_free_space(out, max(n - made_before, 0), bytes_per_mixture(cfg, subtype, stems))
    names = [mixture_name(i, n) for i in range(n)]
    # the banks and rooms first: a recipe that cannot be built (an unset ${VAR}, a missing folder) is
    # refused before the output folder is made
    factory = MixtureFactory(cfg, progress=progress)
    with claimed_data_folder(out, public_config(cfg), seed, n, subtype, stems):
        return _generate(cfg, out, names, seed, jobs, stems, progress, subtype, t0, factory)


def claimed_data_folder(out: Path, recipe: dict, seed: int | None, n: int, subtype: str, stems: bool
                        ) -> AbstractContextManager[bool]:
    """The data folder locked for this generation (common/locks.py): a concurrent one with other
    arguments is refused; temporary files left by a dead one are removed.

    Args:
        out: the data folder.
        recipe: the data config as recorded (`public_config`), hashed into the lock's key.
        seed: the generation's seed (None: plans rendered from a metadata folder).
        n: mixtures in the set.
        subtype: the WAV subtype written.
        stems: whether the stems are written.

    Returns:
        The lock, a context manager whose value is True when this process owns the folder
        (`folder_lock`); entering it raises FolderBusyError if a live generation with other
        arguments holds the folder.
    """
    key = {"recipe": recipe_sha256(recipe), "seed": seed, "n": n, "subtype": subtype, "stems": stems}
    return folder_lock(out, key, "data folder", clean=(SOUNDSCAPE_DIR, ORACLE_DIR, STEMS_DIR, METADATA_DIR))


def _generate(cfg: DataConfig, out: Path, names: list[str], seed: int, jobs: int, stems: bool, progress: bool,
              subtype: str, t0: float, factory: MixtureFactory) -> dict:
    """generate_set's work, once the folder is claimed; `factory` has built (and cached) the rooms
    once, before the workers."""
    n = len(names)
    manifest = ManifestWriter(out, names=names, recipe=public_config(cfg), seed=seed, subtype=subtype,
                              code_fingerprint=code_fingerprint())
    # kept: complete, and every file of the size and sha256 its manifest lists (a damaged one is redone)
    kept = [nm for nm in names if is_complete(out, nm) and manifest.verified(nm)]
    kept_set = set(kept)
    todo = [(str(out), nm, seed, i, stems, subtype) for i, nm in enumerate(names) if nm not in kept_set]
    for _, nm, *_ in todo:
        manifest.drop(nm)
    redone = sum(_remove_partial(out, nm) for _, nm, *_ in todo)
    results = []
    bar = partial(tqdm, total=len(todo), desc="generating", unit="mix", disable=not progress)
    jobs = workers_for(jobs, len(todo))
    try:
        if jobs <= 1:
            _init_worker(cfg)
            for t in bar(todo):
                results.append(_work(t))
                manifest.add(results[-1]["name"])
        else:
            # on Ctrl-C or SIGTERM, leaving the block stops the workers and waits for them (quiet_worker)
            with worker_pool(jobs, _init_pool_worker, (cfg,)) as pool:
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
            "sources": [f"{role}: {bank.describe()}" for role, bank in banks if bank is not None],
            "warnings": [line for role, bank in banks for line in coverage_warnings(bank, role.rstrip("s"))]}
