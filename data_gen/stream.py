"""Torch data sets: an endless on-the-fly training stream and a folder in the official layout."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import cast

import numpy as np
import torch
from torch.utils.data import Dataset, IterableDataset, get_worker_info

from s5bench.common.audio import read_audio
from s5bench.common.configs import read_json
from s5bench.common.errors import S5Error
from s5bench.common.labels import LABEL_INDEX, N_SLOTS, SAMPLE_RATE, SILENCE, one_hot
from s5bench.common.layout import METADATA_DIR, ORACLE_DIR, group_by_mixture, list_mixtures
from s5bench.common.manifest import check_dataset

from .config import DataConfig, build_rooms
from .factory import MixtureFactory
from .plan import slot_labels
from .render import SilentExcerptError
from .schema import ScenePlan, TrainingBatch, TrainingExample

N_INTERFERENCE_SLOTS = 2


def _example(mixture, dry, labels, interference_ch0=None, noise_ch0=None, name="") -> TrainingExample:
    """An Example (schema.py) from channel-first arrays: mixture (4, T), dry (n_targets, T); with
    the stems (interference (n, T) and noise (T,) at channel 0) a TrainingExample."""
    T = mixture.shape[-1]
    slots = np.zeros((N_SLOTS, T), dtype=np.float32)
    slots[:len(dry)] = dry
    out: TrainingExample = {
        "name": name,
        "mixture": torch.from_numpy(np.ascontiguousarray(mixture, dtype=np.float32)),  # (4, T)
        "targets": torch.from_numpy(slots),  # (3, T), silent slots zero
        "labels": labels,  # 3 strings, `silence` padded
        "label_vector": torch.from_numpy(one_hot(labels)),  # (3, 18)
        "active": torch.tensor([lab != SILENCE for lab in labels]),
    }
    if interference_ch0 is not None:
        inter = np.zeros((N_INTERFERENCE_SLOTS, T), dtype=np.float32)
        inter[:len(interference_ch0)] = interference_ch0[:N_INTERFERENCE_SLOTS]
        out["interference"] = torch.from_numpy(inter)
        assert noise_ch0 is not None  # the stems come together (SceneStream, StemCorpus)
        out["noise"] = torch.from_numpy(noise_ch0.astype(np.float32))
    return out


def worker_indices(start: int, length: int | None) -> Iterator[int]:
    """The scene indices of this DataLoader worker: w, w+W, … from `start` (all of them in the
    main process), up to `length` (None: forever), so a stream is the same whatever the worker count.

    Args:
        start: the first index of the stream.
        length: the index the stream stops before (None: forever).

    Yields:
        start + w, start + w + W, … below `length`.
    """
    info = get_worker_info()
    wid, nw = (info.id, info.num_workers) if info else (0, 1)
    index = start + wid
    while length is None or index < length:
        yield index
        index += nw


class SceneStream(IterableDataset):
    """Fresh mixtures forever (or `length` of them): worker w of W renders indices w, w+W, …
    of seed `seed`, so the stream is the same whatever the worker count. A scene whose excerpt is
    silent is skipped.

    Args:
        cfg: a data config (`config.load_config`); a synthetic room bank is built here, once.
        seed: the stream's seed.
        length: the index the stream stops before (None: forever).
        start: the first scene index (to resume mid-stream).
    """

    def __init__(self, cfg: DataConfig, seed: int = 0, length: int | None = None, start: int = 0):
        self.cfg, self.seed, self.length, self.start = cfg, seed, length, start  # `start`: resume mid-stream
        self._factory = None
        build_rooms(cfg)  # make a synthetic room bank once, here, not in every worker

    def __iter__(self):
        if self._factory is None:
            self._factory = MixtureFactory(self.cfg)
        for index in worker_indices(self.start, self.length):
            plan = self._factory.plan(self.seed, index)
            try:
                scene = self._factory.render(plan)
            except SilentExcerptError:  # short training scenes can cut a clip's silent stretch
                continue
            yield _example(scene.mixture, scene.dry, slot_labels(plan), scene.interference[:, 0],
                           scene.noise[0], name=f"{self.seed}:{index}")


class FolderScenes(Dataset):
    """A test set in the official layout. Slot order comes from metadata/<mix>.json when it is
    there (onset order), else the targets in class order. Without an oracle_target/ folder
    (an evaluation set) every target slot is empty and `has_references` is False.

    Args:
        folder: the data set (soundscape/, and oracle_target/ and metadata/ where it has them).
        sr: the rate every file must have, in Hz.
        edition: the edition whose file names (`<mix>_<Label>` or `<mix>_<i>_<Label>`) are read.

    Raises:
        S5Error: If the set's manifest shows it incomplete or changed, or an oracle target file's name
            is not one of a known mixture and label.
        FileNotFoundError: If soundscape/ is missing or holds no .wav file.
    """

    def __init__(self, folder: str | Path, sr: int = SAMPLE_RATE, edition: int = 2025):
        self.folder = Path(folder)
        check_dataset(self.folder)  # an incomplete or changed set is refused before any model runs
        self.sr = sr
        self.mixtures = list_mixtures(self.folder / "soundscape")
        self.has_references = (self.folder / ORACLE_DIR).is_dir()
        self.refs = (group_by_mixture(self.folder / ORACLE_DIR, self.mixtures, "oracle target", edition)
                     if self.has_references else {})
        self.names = sorted(self.mixtures)

    def __len__(self):
        return len(self.names)

    def labels_of(self, name: str) -> list[str]:
        """The slot labels of one mixture: its plan's targets in onset order where the set has plans
        and references, else its oracle targets' labels in class order; padded with `silence`.

        Args:
            name: the mixture.

        Returns:
            N_SLOTS labels.
        """
        meta = self.folder / METADATA_DIR / f"{name}.json"
        if meta.is_file() and self.has_references:
            plan = read_json(meta, "mixture metadata", "make the data set again (generate.py resumes)")
            return slot_labels(cast(ScenePlan, plan))
        labels = sorted((lab for lab, _ in self.refs.get(name, [])), key=LABEL_INDEX.__getitem__)
        return labels + [SILENCE] * (N_SLOTS - len(labels))

    def __getitem__(self, i):
        name = self.names[i]
        mixture = read_audio(self.mixtures[name], sr=self.sr, channels=4, always_2d=True)
        labels = self.labels_of(name)
        files = list(self.refs.get(name, []))  # file-name order: slot i of a class takes its i-th file
        dry = []
        for lab in labels:
            if lab != SILENCE:
                k = next((k for k, (flab, _) in enumerate(files) if flab == lab), None)
                if k is None:
                    raise S5Error(f"{self.folder / ORACLE_DIR}: no oracle target file for {lab!r} of {name} "
                                  "(its metadata names one)")
                dry.append(read_audio(files.pop(k)[1], sr=self.sr, channels=1, length=len(mixture)))
        return _example(mixture.T, np.array(dry).reshape(-1, len(mixture)), labels, name=name)


def collate(batch: list[TrainingExample]) -> TrainingBatch:
    """A Batch of Examples (a TrainingBatch of TrainingExamples): tensors stacked, the rest listed.

    Args:
        batch: B examples with the same keys (those of the first are taken).

    Returns:
        Each key's B tensors stacked on a new first axis, other values as a list of B.
    """
    out = {}
    for key in batch[0]:
        vals = [b[key] for b in batch]
        out[key] = torch.stack(vals) if isinstance(vals[0], torch.Tensor) else vals
    return cast(TrainingBatch, out)  # each key of the examples, stacked or listed
