"""Source banks: where the mono event clips and the 4-channel background noise come from.

Every bank answers the same questions: which labels it has, which items a label has (with
their lengths), and the samples of an item between two frames at the bank's rate. Items are
named by their path relative to the bank's folder, which is what a scene plan records as
`source_file`, so a plan can be re-rendered from the same bank.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from s5bench.common.audio import audio_info, read_audio
from s5bench.common.errors import S5Error
from s5bench.common.labels import SAMPLE_RATE
from s5bench.common.layout import require_dir

from . import synth

AUDIO_SUFFIXES = (".wav", ".flac")
# what downloaded augmentation clips come as (Pixabay gives MP3); soundfile reads all of these
ANY_AUDIO_SUFFIXES = AUDIO_SUFFIXES + (".mp3", ".ogg")


@dataclass(frozen=True)
class Item:
    label: str
    source_file: str  # relative to the bank's root; the plan's `source_file`
    n_frames: int  # at the bank's output rate


class SourceBank:
    """Interface: `labels`, `items(label)`, `read(source_file, start, frames)`."""

    sr: int = SAMPLE_RATE
    name: str = "bank"

    def __init__(self):
        self._items: dict[str, list[Item]] = {}
        self._by_file: dict[str, Item] = {}

    def _index(self, items: list[Item], what: str):
        if not items:
            raise S5Error(f"{what} is empty: no audio files found")
        for it in items:
            self._items.setdefault(it.label, []).append(it)
            self._by_file[it.source_file] = it

    @property
    def labels(self) -> list[str]:
        return sorted(self._items)

    def items(self, label: str) -> list[Item]:
        if label not in self._items:
            raise KeyError(f"{self.name} has no label {label!r}; it has {', '.join(self.labels)}")
        return self._items[label]

    def keep_classes(self, classes, where: str) -> None:
        """Restrict the bank to `classes` (a recipe's `classes: [...]`); a class it has no clip of
        is an error naming `where`."""
        missing = [c for c in classes if c not in self._items]
        if missing:
            raise S5Error(f"{where}: classes {', '.join(missing)} have no clip in {self.name} "
                          f"(it has {', '.join(self.labels)})")
        self._items = {lab: items for lab, items in self._items.items() if lab in classes}
        self._by_file = {f: it for f, it in self._by_file.items() if it.label in classes}
        self.restricted_to = list(classes)

    def describe(self) -> str:
        """One line for the run's report: where the clips come from and how many there are."""
        n = sum(len(v) for v in self._items.values())
        return f"{self.name}: {n} clips in {len(self._items)} label(s)"

    def item(self, source_file: str) -> Item:
        try:
            return self._by_file[source_file]
        except KeyError:
            raise KeyError(f"{self.name} has no item {source_file!r}") from None

    def read(self, source_file: str, start: int = 0, frames: int = -1) -> np.ndarray:
        raise NotImplementedError


class FolderBank(SourceBank):
    """`<root>/<Label>/**/*.wav` (the dev_set's sound_event/ and interference/ folders).

    allowed_labels: if given, a label folder not among them is an error (a typo in a folder
    name would otherwise silently become a new class).
    """

    def __init__(self, root, sr: int = SAMPLE_RATE, allowed_labels=None, name: str | None = None):
        super().__init__()
        self.root, self.sr = require_dir(root, "source bank"), sr
        self.skipped: list[Path] = []  # files under the label folders that are not audio the bank reads
        self.name = name or f"folder bank {self.root}"
        items = []
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir()):
            if allowed_labels is not None and folder.name not in allowed_labels:
                raise S5Error(f"{folder}: unknown label folder {folder.name!r}; expected one of "
                              f"{', '.join(sorted(allowed_labels))}")
            # recursively, as both generators list them (2026 class folders hold per-source subfolders)
            files = [p for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith(".")]
            items += [self._probe(p, folder.name) for p in files if p.suffix.lower() in AUDIO_SUFFIXES]
            self.skipped += [p for p in files if p.suffix.lower() not in AUDIO_SUFFIXES]
        self._index(items, self.name)

    def describe(self) -> str:
        line = super().describe()
        if self.skipped:
            shown = ", ".join(p.relative_to(self.root).as_posix() for p in self.skipped[:5])
            more = " …" if len(self.skipped) > 5 else ""
            line += (f" ({len(self.skipped)} file(s) skipped, not of a type the bank reads "
                     f"({', '.join(AUDIO_SUFFIXES)}): {shown}{more})")
        return line

    def _probe(self, path: Path, label: str) -> Item:
        info = audio_info(path)
        if info.samplerate != self.sr:
            raise S5Error(f"{path}: sample rate {info.samplerate} Hz, the bank expects {self.sr} Hz")
        if info.channels != 1:
            raise S5Error(f"{path}: {info.channels} channels, source clips must be mono")
        return Item(label, path.relative_to(self.root).as_posix(), info.frames)

    def read(self, source_file, start=0, frames=-1):
        self.item(source_file)
        return read_audio(self.root / source_file, sr=self.sr, channels=1, start=start, frames=frames, dtype="float32")


class ResampledFolderBank(SourceBank):
    """Every audio file below `root` (recursively; WAV, FLAC, MP3 or OGG) as one label,
    resampled to `sr` on read. A Pixabay folder as `Percussion`; VCTK goes through `VCTKBank`.
    """

    def __init__(self, root, label: str, sr: int = SAMPLE_RATE, name: str | None = None):
        super().__init__()
        self.root, self.sr, self.label = require_dir(root, f"{label} folder"), sr, label
        self.name = name or f"{label} folder {self.root}"
        self._rates = {}
        items = []
        for path in self._files():
            info = audio_info(path)
            rel = path.relative_to(self.root).as_posix()
            self._rates[rel] = info.samplerate
            items.append(Item(label, rel, int(np.ceil(info.frames * sr / info.samplerate))))
        self._index(items, self.name)

    def _files(self) -> list[Path]:
        return sorted(p for p in self.root.rglob("*") if p.suffix.lower() in ANY_AUDIO_SUFFIXES)

    def read(self, source_file, start=0, frames=-1):
        self.item(source_file)
        native = self._rates[source_file]
        data, _ = sf.read(str(self.root / source_file), dtype="float64", always_2d=True)
        data = data.mean(axis=1)  # stereo clips (Pixabay) are folded to mono
        if native != self.sr:
            g = gcd(native, self.sr)
            data = resample_poly(data, self.sr // g, native // g)
        end = len(data) if frames < 0 else start + frames
        out = data[start:end]
        if not np.isfinite(out).all():
            raise S5Error(f"{self.root / source_file}: contains NaN or Inf samples")
        return out


class CombinedBank(SourceBank):
    """Several banks seen as one. `replace` labels are taken only from the banks that come later
    (VCTK replacing the challenge's Speech); other labels pool the items of all banks."""

    def __init__(self, banks, replace=()):
        super().__init__()
        self.sr = banks[0].sr
        if any(b.sr != self.sr for b in banks):
            raise S5Error("banks to combine must share one sample rate")
        self.name, self.banks = " + ".join(b.name for b in banks), list(banks)
        self._owner: dict[str, SourceBank] = {}
        items = []
        for i, bank in enumerate(banks):
            later_has = {lab for b in banks[i + 1:] for lab in b.labels}
            for lab in bank.labels:
                if lab in replace and lab in later_has:
                    continue
                for it in bank.items(lab):
                    items.append(it)
                    self._owner[it.source_file] = bank
        self._index(items, self.name)

    def describe(self) -> str:
        return "; ".join(b.describe() for b in self.banks)

    def read(self, source_file, start=0, frames=-1):
        self.item(source_file)
        return self._owner[source_file].read(source_file, start, frames)


class ProceduralBank(SourceBank):
    """The built-in bank: `n_per_label` seeded synthetic clips per label, made on demand.

    `source_file` is `<Label>/synth_<k>.wav`, a name only; the clip is a pure function of
    (seed, label, k), so a plan re-renders bit-identically anywhere.
    """

    def __init__(self, kind: str = "target", seed: int = 0, n_per_label: int = 200, sr: int = SAMPLE_RATE,
                 cache_size: int = 64):
        super().__init__()
        table = {"target": synth.TARGET_SYNTHS, "interference": synth.INTERFERENCE_SYNTHS}
        if kind not in table:
            raise ValueError(f"procedural bank kind must be 'target' or 'interference', not {kind!r}")
        self.table, self.seed, self.sr, self.name = table[kind], seed, sr, f"procedural {kind} bank"
        self._clip = lru_cache(maxsize=cache_size)(self._synthesize)
        items = []
        for li, (label, (_, (lo, hi))) in enumerate(sorted(self.table.items())):
            for k in range(n_per_label):
                dur = self._rng(label, k).uniform(lo, hi)
                items.append(Item(label, f"{label}/synth_{k:05d}.wav", int(round(dur * sr))))
        self._index(items, self.name)

    def _rng(self, label: str, k: int):
        key = [self.seed, k] + [ord(c) for c in label]
        return np.random.default_rng(key)

    def _synthesize(self, source_file: str) -> np.ndarray:
        it = self.item(source_file)
        k = int(source_file.rsplit("_", 1)[1].split(".")[0])
        rng = self._rng(it.label, k)
        rng.uniform()  # the draw that set the duration
        clip = self.table[it.label][0](rng, it.n_frames, self.sr)
        fade = min(len(clip) // 4, int(0.01 * self.sr))  # no clicks at the clip's edges
        if fade:
            ramp = np.linspace(0, 1, fade)
            clip[:fade] *= ramp
            clip[-fade:] *= ramp[::-1]
        return clip

    def read(self, source_file, start=0, frames=-1):
        self.item(source_file)
        clip = self._clip(source_file)
        end = len(clip) if frames < 0 else start + frames
        return clip[start:end]


class VCTKBank(ResampledFolderBank):
    """VCTK as `Speech`, in either release's layout under `root` (the corpus folder):
    0.92, `wav48_silence_trimmed/<speaker>/<utt>_mic1.flac` and `_mic2.flac`, of which one
    microphone is used (`mic`); or the older `wav48/<speaker>/<utt>.wav` (one microphone)."""

    LAYOUTS = ("wav48_silence_trimmed", "wav48")

    def __init__(self, root, mic: str = "mic1", sr: int = SAMPLE_RATE, label: str = "Speech"):
        corpus = require_dir(root, "VCTK")
        layout = next((d for d in self.LAYOUTS if (corpus / d).is_dir()), None)
        if layout is None:
            raise FileNotFoundError(f"VCTK folder {corpus} has neither {' nor '.join(self.LAYOUTS)}/ "
                                    "(VCTK 0.92 or the older release)")
        if mic not in ("mic1", "mic2"):
            raise S5Error(f"VCTK microphone {mic!r}: mic1 or mic2")
        self.layout, self.mic = layout, mic
        which = f"{layout}, {mic}" if layout == "wav48_silence_trimmed" else layout
        super().__init__(corpus / layout, label, sr, name=f"VCTK {corpus} ({which})")

    def _files(self) -> list[Path]:
        if self.layout == "wav48":
            return sorted(self.root.glob("*/*.wav"))
        return sorted(self.root.glob(f"*/*_{self.mic}.flac"))

    def describe(self) -> str:
        speakers = {it.source_file.split("/")[0] for items in self._items.values() for it in items}
        return f"{self.name}: {sum(len(v) for v in self._items.values())} clips from {len(speakers)} speakers"


class NoiseBank:
    """Background noise: 4-channel clips read from a whole-second offset."""

    sr: int = SAMPLE_RATE
    channels: int = 4

    def files(self) -> list[str]:
        raise NotImplementedError

    def n_frames(self, name: str) -> int:
        raise NotImplementedError

    def read(self, name: str, start: int, frames: int) -> np.ndarray:
        raise NotImplementedError


class FolderNoiseBank(NoiseBank):
    """`<root>/*.wav`, 4-channel integer PCM (the dev_set's noise/ folders)."""

    def __init__(self, root, sr: int = SAMPLE_RATE):
        self.root, self.sr = require_dir(root, "noise"), sr
        self._frames = {}
        for p in sorted(p for p in self.root.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES):
            info = audio_info(p)
            if info.channels != self.channels:
                raise S5Error(f"{p}: {info.channels} channel(s), background noise must have {self.channels}")
            if info.samplerate != sr:
                raise S5Error(f"{p}: sample rate {info.samplerate} Hz, expected {sr} Hz")
            self._frames[p.name] = info.frames
        if not self._frames:
            raise S5Error(f"noise folder {self.root} is empty: no audio files found")

    def files(self):
        return sorted(self._frames)

    def n_frames(self, name):
        return self._frames[name]

    def read(self, name, start, frames):
        return read_audio(self.root / name, sr=self.sr, channels=self.channels, start=start, frames=frames,
                          always_2d=True, dtype="float32")


class ProceduralNoiseBank(NoiseBank):
    """Seeded 4-channel diffuse noise clips of `seconds` each."""

    CACHE_BYTES = 2 * 2**30

    def __init__(self, seed: int = 0, n_files: int = 50, seconds: float = 20.0, sr: int = SAMPLE_RATE):
        self.seed, self.n_files, self.sr = seed, n_files, sr
        self._n = int(seconds * sr)
        # a clip takes ~0.25 s to synthesize and a training stream reads every file again and
        # again: keep as many as fit in CACHE_BYTES (all 100 of the training bank's 20-s clips)
        clip_bytes = self._n * self.channels * 8
        self._clip = lru_cache(maxsize=max(8, min(n_files, self.CACHE_BYTES // clip_bytes)))(self._synthesize)

    def files(self):
        return [f"noise_{k:04d}.wav" for k in range(self.n_files)]

    def n_frames(self, name):
        return self._n

    def _synthesize(self, name: str) -> np.ndarray:
        k = int(name.split("_")[1].split(".")[0])
        return synth.diffuse_noise(np.random.default_rng([self.seed, k, 7]), self._n, self.sr)

    def read(self, name, start, frames):
        return self._clip(name)[start:start + frames]
