"""Run a system over a test set in the official layout, write its estimates, score every stage."""
from __future__ import annotations

import argparse
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import torch.distributed as dist
from torch.utils.data import DataLoader, Subset
from tqdm import tqdm

from s5bench.common.atomic import atomic_path
from s5bench.common.audio import write_audio_atomic
from s5bench.common.editions import check_edition, repeated_classes_allowed
from s5bench.common.errors import S5Error
from s5bench.common.layout import ORACLE_DIR, SOUNDSCAPE_DIR, list_wavs, plain_name, submission_names
from s5bench.common.provenance import code_fingerprint
from s5bench.data_gen.stream import FolderScenes, collate
from s5bench.metrics.folders import score_folders, write_reports, write_run_info

from .base import System
from .distributed import local_device, shard_info
from .run_folder import ESTIMATE_DIR, claimed_run_folder, done_mixtures, forget, mark_done


@dataclass(frozen=True)
class RunOptions:
    """How a system runs over a test set and how its stages are scored: one value, passed whole.

    Attributes:
        device: where the system runs ("cpu", "cuda", "cuda:1"; under torchrun each rank's own GPU).
        batch_size: mixtures per batch.
        jobs: scoring processes.
        edition: the DCASE edition the estimates are written and scored as (2025 or 2026).
        progress: show progress bars and resume notes.
        official_json: also write each stage's results.json in the official form.
    """

    device: str = "cpu"
    batch_size: int = 2
    jobs: int = 1
    edition: int = 2025
    progress: bool = True
    official_json: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RunOptions:
        """The options a runner's parsed arguments give (--device, --batch-size, --jobs, --edition and,
        where the runner has it, --official-json).

        Args:
            args: the parsed arguments.

        Returns:
            The options, progress shown.
        """
        return cls(device=args.device, batch_size=args.batch_size, jobs=args.jobs, edition=args.edition,
                   official_json=getattr(args, "official_json", False))


def run_system(system: System, data_dir: str | Path, out_dir: str | Path, options: RunOptions = RunOptions(), *,
               stages: Sequence[str] | None = None, data_fingerprint: str | None = None) -> dict | None:
    """Run `system` (a System, e.g. from registry.build_system) over `data_dir`.

    Estimates go to OUT/<stage>/estimate/<mix>_<Label>.wav (2026: <mix>_<i>_<Label>.wav),
    reports to OUT/<stage>/. A data folder without oracle_target/ (an evaluation set) gets its
    estimates written and no scores: the summaries are then empty dicts.
    A mixture is done for a stage when OUT/<stage>/.done/<mix> exists (written after all its
    files); a mixture is run again when any asked-for stage lacks it (e.g. a run of the final
    stage alone, resumed with all stages). Under torchrun, rank r of W runs mixtures r, r+W, …
    (sorted names); rank 0 waits for all, then scores and returns the summaries (other ranks
    return None).

    Args:
        system: the System to run.
        data_dir: a test set in the official layout (oracle_target/ optional).
        out_dir: the run folder (claimed while the run writes it: systems/run_folder.py).
        options: device, batch size, scoring processes, edition, progress, official JSON.
        stages: the stages to write (None: all of the system's).
        data_fingerprint: the data folder's, when the caller has it already (hashing a large set
            again is seconds to minutes); computed here otherwise.

    Returns:
        {stage: summary} (empty summaries without references), or None on a rank other than 0.

    Raises:
        S5Error: an unknown stage, or a run folder inside the data set; RunFolderError: a run folder
            that holds another run.
    """
    edition = check_edition(options.edition)
    device = local_device(options.device)
    system = system.to(device)
    label = system.config_name or type(system).__name__
    stages = tuple(plain_name(s, f"{label}: stage name") for s in (stages or system.stages))
    unknown = set(stages) - set(system.stages)
    if unknown:
        raise S5Error(f"{label} has no stage(s) {sorted(unknown)}; its stages: {', '.join(system.stages)}")
    out = Path(out_dir)
    check_outside(out, data_dir)
    data = FolderScenes(data_dir, sr=system.sample_rate, edition=edition)
    options = replace(options, device=device, edition=edition)  # as resolved
    with claimed_run_folder(out, system, data_dir, edition, stages, data_fingerprint):
        return _run_and_score(system, data, Path(data_dir), out, stages, options)


def check_outside(out: str | Path, data_dir: str | Path, flags: tuple[str, str] = ("run folder", "data set")) -> None:
    """Refuse a run folder inside the data set (or the data set itself): results written there
    would change the data set (its fingerprint), and the same command would then refuse it.

    Args:
        out: the run folder (or the --out it is made under).
        data_dir: the data folder.
        flags: how the two are named in the message (a runner names its flags: "--out", "--data").

    Raises:
        S5Error: `out` is `data_dir` or inside it, naming both.
    """
    inner, data = Path(out).resolve(), Path(data_dir).resolve()
    if inner == data or inner.is_relative_to(data):
        raise S5Error(f"{flags[0]} {out} is inside the {flags[1]} {data_dir}: results written there would change "
                      "the data set (its fingerprint); write them to a folder outside it")


def _run_and_score(system, data: FolderScenes, data_dir: Path, out: Path, stages: tuple[str, ...],
                   options: RunOptions) -> dict | None:
    """run_system's work, once the run folder is claimed (`options` with the device and edition resolved)."""
    device, edition, progress = options.device, options.edition, options.progress
    rank, world = shard_info()  # gloo: ranks only wait for each other, no tensors travel
    label = system.config_name or type(system).__name__
    sr = system.sample_rate  # the system says at which rate it works
    done, changed = done_mixtures(out, stages, data.names, data.mixtures)
    for line in changed:  # never scored as they are now: they run again
        print(f"note: {line}", file=sys.stderr)
    todo = [i for i, nm in enumerate(data.names) if nm not in done and i % world == rank]
    if done and progress:
        print(f"resuming: {len(done)} mixture(s) already done for stage(s) {', '.join(stages)}, {len(todo)} to run")
    forget(out, stages, {data.names[i] for i in todo}, data.mixtures)  # an interrupted or changed attempt's files
    loader = DataLoader(Subset(data, todo), batch_size=options.batch_size, collate_fn=collate, num_workers=0)
    for batch in tqdm(loader, desc=f"running {label}", unit="batch", disable=not progress or rank > 0):
        outputs = system.infer(batch["mixture"].to(device), batch, edition)
        for stage in stages:
            slots = outputs[stage]
            waves = slots.waveforms.float().cpu().numpy()
            assert slots.probabilities is not None  # `infer` checks them (ones where a system gives none)
            probabilities = slots.probabilities.tolist()
            for b, name in enumerate(batch["name"]):
                files = []
                for slot, file_name in submission_names(name, slots.labels[b], edition):
                    files.append(out / stage / ESTIMATE_DIR / file_name)
                    write_audio_atomic(files[-1], waves[b, slot], sr)
                mark_done(out, stage, name, files, slots.labels[b], probabilities[b])  # after its files, recording them
    if world > 1:
        dist.barrier()
    if rank > 0:
        return None
    summaries, silent = {}, {}
    code = code_fingerprint([type(system).__module__])
    if not data.has_references and progress:
        print(f"{data_dir} has no oracle_target/ folder (an evaluation set): estimates written, scoring skipped")
    for stage in stages:
        est = out / stage / ESTIMATE_DIR
        est.mkdir(parents=True, exist_ok=True)
        write_run_info(out / stage, soundscape_dir=data_dir / SOUNDSCAPE_DIR,
                       oracle_dir=data_dir / ORACLE_DIR if data.has_references else None,
                       estimate_dir=est, edition=edition, system=label, stage=stage, stages=list(stages),
                       data=str(data_dir), code_fingerprint=code)
        if not data.has_references:
            summaries[stage] = {}
            continue
        scores = score_folders(data_dir / SOUNDSCAPE_DIR, data_dir / ORACLE_DIR, est,
                               sr=sr, jobs=options.jobs, progress=False, edition=edition, note_missing=False)
        silent[stage] = sum(not s.est_labels for s in scores)
        summaries[stage] = write_reports(scores, out / stage, official_json=options.official_json)
    if not repeated_classes_allowed(edition) and any(silent.values()):  # one line for the whole run, not one per stage
        counts = ", ".join(f"{stage} {n}" for stage, n in silent.items() if n)
        print(f"note: mixtures whose every slot is silence are scored as all misses (2025): {counts} "
              f"of {len(data.names)}", file=sys.stderr)
    return summaries


def write_submission_zip(estimate_dir: str | Path, out_zip: str | Path, folder_name: str) -> Path:
    """<folder_name>/eval_out/<mix>_<Label>.wav inside `out_zip`, the challenge's submission form.

    Args:
        estimate_dir: a stage's estimate folder; its .wav files go into the zip.
        out_zip: the zip to write (atomically).
        folder_name: the zip's top folder (one plain file name).

    Returns:
        `out_zip` as a Path.

    Raises:
        S5Error: `folder_name` is not a plain name (`common.layout.plain_name`).
    """
    plain_name(folder_name, "--zip name")
    out_zip = Path(out_zip)
    with atomic_path(out_zip) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for wav in list_wavs(Path(estimate_dir)):
            z.write(wav, f"{folder_name}/eval_out/{wav.name}")
    return out_zip
