"""Write mixtures in the official test layout: soundscape/, oracle_target/, metadata/<mix>.json.

A mixture is complete when its metadata JSON exists: it is written last, atomically, after
every audio file, and lists them. On a re-run complete mixtures are kept; the files of an
incomplete one are removed and it is made again.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path

from tqdm import tqdm

from common.audio import write_audio_atomic, write_text_atomic
from common.layout import METADATA_DIR, ORACLE_DIR, SOUNDSCAPE_DIR, estimate_name

from .factory import MixtureFactory

STEMS_DIR = "stems"
_FACTORY: MixtureFactory | None = None


def mixture_name(index: int, n: int) -> str:
    return f"mix_{index:0{max(4, len(str(n - 1)))}d}"


def _files_of(out: Path, name: str, plan: dict, stems: bool) -> list[Path]:
    files = [out / SOUNDSCAPE_DIR / f"{name}.wav"]
    files += [out / ORACLE_DIR / estimate_name(name, e["label"]) for e in plan["fg_events"]]
    if stems:
        files += [out / STEMS_DIR / f"{name}_interference.wav", out / STEMS_DIR / f"{name}_noise.wav"]
    return files


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
                stem = p.stem
                if stem == name or stem.rpartition("_")[0] == name or stem in (f"{name}_interference", f"{name}_noise"):
                    p.unlink()
                    found = True
    return found


def write_mixture(factory: MixtureFactory, out: Path, name: str, seed: int, index: int, stems: bool,
                  subtype: str = "FLOAT") -> dict:
    plan = factory.plan(seed, index)
    scene = factory.render(plan)
    sr = int(plan["config"]["sr"])
    write_audio_atomic(out / SOUNDSCAPE_DIR / f"{name}.wav", scene.mixture.T, sr, subtype)
    for label, dry in zip(scene.target_labels, scene.dry):
        write_audio_atomic(out / ORACLE_DIR / estimate_name(name, label), dry, sr, subtype)
    if stems:
        write_audio_atomic(out / STEMS_DIR / f"{name}_interference.wav",
                           scene.interference.sum(0).T, sr)
        write_audio_atomic(out / STEMS_DIR / f"{name}_noise.wav", scene.noise.T, sr)
    files = [p.relative_to(out).as_posix() for p in _files_of(out, name, plan, stems)]
    record = {**plan, "files": files, "seed": seed, "index": index}
    write_text_atomic(out / METADATA_DIR / f"{name}.json", json.dumps(record, indent=1))
    return {"name": name, "labels": scene.target_labels}


def _init_worker(cfg):
    global _FACTORY
    _FACTORY = MixtureFactory(cfg)


def _work(args):
    out, name, seed, index, stems, subtype = args
    return write_mixture(_FACTORY, Path(out), name, seed, index, stems, subtype)


def generate_set(cfg: dict, out, n: int, seed: int, jobs: int = 1, stems: bool = False,
                 progress: bool = True, subtype: str | None = None) -> dict:
    """Make mixtures 0..n−1 of (config, seed) in `out`; return a summary of what was done.
    `subtype` (default: the config's `subtype`, else FLOAT): FLOAT or PCM_16 audio files. The
    same (config, seed, subtype) gives the same bytes in every file, whatever `jobs`."""
    subtype = subtype or cfg.get("subtype", "FLOAT")
    out = Path(out)
    t0 = time.perf_counter()
    MixtureFactory(cfg, progress=progress)  # builds (and caches) the rooms once, before the workers
    names = [mixture_name(i, n) for i in range(n)]
    kept = [nm for nm in names if is_complete(out, nm)]
    kept_set = set(kept)
    todo = [(str(out), nm, seed, i, stems, subtype) for i, nm in enumerate(names) if nm not in kept_set]
    redone = sum(_remove_partial(out, nm) for _, nm, *_ in todo)
    results = []
    bar = dict(total=len(todo), desc="generating", unit="mix", disable=not progress)
    if jobs <= 1 or len(todo) <= 1:
        _init_worker(cfg)
        results = [_work(t) for t in tqdm(todo, **bar)]
    else:
        method = "fork" if "fork" in get_all_start_methods() else "spawn"
        with get_context(method).Pool(jobs, initializer=_init_worker, initargs=(cfg,)) as pool:
            results = list(tqdm(pool.imap_unordered(_work, todo), **bar))
    counts = Counter(lab for r in results for lab in r["labels"])
    index = [{"metadata_path": f"{METADATA_DIR}/{nm}.json",
              "ref_event": json.loads((out / METADATA_DIR / f"{nm}.json").read_text())["fg_events"]}
             for nm in names]
    for entry in index:
        labels = [e["label"] for e in entry["ref_event"]]
        entry["ref_event"] = labels + ["silence"] * (3 - len(labels))
    write_text_atomic(out / "index.json", json.dumps(index, indent=1))
    return {"made": len(results), "kept": len(kept), "redone": redone, "total": n,
            "seconds": time.perf_counter() - t0, "class_counts": dict(sorted(counts.items()))}
