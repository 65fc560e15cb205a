"""Run a system over a test set in the official layout, write its estimates, score every stage."""
from __future__ import annotations

import zipfile
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Subset
from tqdm import tqdm

from common.audio import write_audio_atomic, write_text_atomic
from common.labels import SILENCE
from common.layout import estimate_name
from data_gen.stream import FolderScenes, collate
from metrics.folders import score_folders, write_reports

from .registry import build_system

ESTIMATE_DIR = "estimate"
DONE_DIR = ".done"


def run_system(system_name, data_dir, out_dir, *, device: str = "cpu", batch_size: int = 2,
               jobs: int = 1, sr: int = 32000, progress: bool = True) -> dict:
    """Estimates go to OUT/<stage>/estimate/<mix>_<Label>.wav, reports to OUT/<stage>/.
    Mixtures already done (a marker per mixture, written after all its files) are skipped."""
    system = build_system(system_name).to(device)
    data = FolderScenes(data_dir, sr=sr)
    out = Path(out_dir)
    done_dir = out / DONE_DIR
    done = {p.name for p in done_dir.glob("*")} if done_dir.is_dir() else set()
    todo = [i for i, nm in enumerate(data.names) if nm not in done]
    if done and progress:
        print(f"resuming: {len(done)} mixture(s) already done, {len(todo)} to run")
    loader = DataLoader(Subset(data, todo), batch_size=batch_size, collate_fn=collate, num_workers=0)
    for batch in tqdm(loader, desc=f"running {system.config_name}", unit="batch", disable=not progress):
        outputs = system.infer(batch["mixture"].to(device), batch)
        for stage, slots in outputs.items():
            waves = slots.waveforms.float().cpu().numpy()
            for b, name in enumerate(batch["name"]):
                for label, wave in zip(slots.labels[b], waves[b]):
                    if label != SILENCE:
                        write_audio_atomic(out / stage / ESTIMATE_DIR / estimate_name(name, label), wave, sr)
        for name in batch["name"]:
            write_text_atomic(done_dir / name, "")
    summaries = {}
    for stage in system.stages:
        est = out / stage / ESTIMATE_DIR
        est.mkdir(parents=True, exist_ok=True)
        scores = score_folders(Path(data_dir) / "soundscape", Path(data_dir) / "oracle_target", est,
                               sr=sr, jobs=jobs, progress=False)
        summaries[stage] = write_reports(scores, out / stage)
    return summaries


def write_submission_zip(estimate_dir, out_zip, folder_name: str) -> Path:
    """<folder_name>/eval_out/<mix>_<Label>.wav inside `out_zip`, the challenge's submission form."""
    out_zip = Path(out_zip)
    tmp = out_zip.with_name(f".tmp_{out_zip.name}")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for wav in sorted(Path(estimate_dir).glob("*.wav")):
            z.write(wav, f"{folder_name}/eval_out/{wav.name}")
    tmp.replace(out_zip)
    return out_zip
