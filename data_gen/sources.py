"""Source banks: where the mono event clips and the 4-channel background noise come from.

Every bank answers the same questions: which labels it has, which items a label has (with
their lengths), and the samples of an item between two frames at the bank's rate. Items are
named by their path relative to the bank's folder, which is what a scene plan records as
`source_file`, so a plan can be re-rendered from the same bank.
"""
from __future__ import annotations

from collections.abc import Collection, Sequence
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
    """One clip of a bank: its class, its name in the bank and its length."""

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
        """The bank's labels, sorted."""
        return sorted(self._items)

    def items(self, label: str) -> list[Item]:
        """The clips of one label.

        Args:
            label: one of `labels`.

        Returns:
            Its items, in the order the bank indexed them.

        Raises:
            KeyError: If the bank has no such label (the message lists those it has).
        """
        if label not in self._items:
            raise KeyError(f"{self.name} has no label {label!r}; it has {', '.join(self.labels)}")
        return self._items[label]

    def keep_classes(self, classes: Collection[str], where: str) -> None:
        """Restrict the bank to `classes` (a recipe's `classes: [...]`), and record them as `restricted_to`.

        Args:
            classes: the labels to keep.
            where: the config entry, named in the error.

        Raises:
            S5Error: If the bank has no clip of one of `classes`.
        """
        missing = [c for c in classes if c not in self._items]
        if missing:
            raise S5Error(f"{where}: classes {', '.join(missing)} have no clip in {self.name} "
                          f"(it has {', '.join(self.labels)})")
        self._items = {lab: items for lab, items in self._items.items() if lab in classes}
        self._by_file = {f: it for f, it in self._by_file.items() if it.label in classes}
        self.restricted_to = list(classes)

    def describe(self) -> str:
        """One line for the run's report: where the clips come from and how many there are.

        Returns:
            "<name>: <n> clips in <k> label(s)".
        """
        n = sum(len(v) for v in self._items.values())
        return f"{self.name}: {n} clips in {len(self._items)} label(s)"

    def item(self, source_file: str) -> Item:
        """The item of a clip name.

        Args:
            source_file: the clip's name in the bank (a plan's `source_file`).

        Returns:
            Its item.

        Raises:
            KeyError: If the bank has no such clip.
        """
        try:
            return self._by_file[source_file]
        except KeyError:
            raise KeyError(f"{self.name} has no item {source_file!r}") from None

    def read(self, source_file: str, start: int = 0, frames: int = -1) -> np.ndarray:
        """Samples of one clip at the bank's rate `sr`.

        Args:
            source_file: the clip's name in the bank (a plan's `source_file`).
            start: the first frame.
            frames: how many frames (-1: to the clip's end).

        Returns:
            (frames,) mono samples, fewer where the clip ends first.

        Raises:
            KeyError: If the bank has no such clip.
        """
        raise NotImplementedError


class FolderBank(SourceBank):
    """`<root>/<Label>/**/*.wav` (the dev_set's sound_event/ and interference/ folders).

    Every WAV or FLAC file below a label folder (recursively; hidden files left out) is a clip of
    that label; other files are listed in `skipped`.

    Args:
        root: the folder of label folders.
        sr: the rate every clip must have, in Hz.
        allowed_labels: if given, a label folder not among them is an error (a typo in a folder
            name would otherwise silently become a new class).
        name: the bank's name in messages (default: "folder bank <root>").

    Raises:
        S5Error: If a label folder is not allowed, a clip is not mono or not at `sr`, or no clip is found.
        FileNotFoundError: If `root` is not a folder.
    """

    def __init__(self, root: str | Path, sr: int = SAMPLE_RATE, allowed_labels: Collection[str] | None = None,
                 name: str | None = None):
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
        """The base class's line, plus how many files were skipped and the first five of them.

        Returns:
            One line.
        """
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

    def read(self, source_file: str, start: int = 0, frames: int = -1) -> np.ndarray:
        """Samples of one clip, read from its file (see `SourceBank.read`).

        Args:
            source_file: the clip's path relative to `root`.
            start: the first frame.
            frames: how many frames (-1: to the end).

        Returns:
            (frames,) float32 samples.

        Raises:
            KeyError: If the bank has no such clip.
            S5Error: If the file has changed its rate or channels, or holds NaN or Inf samples.
        """
        self.item(source_file)
        return read_audio(self.root / source_file, sr=self.sr, channels=1, start=start, frames=frames, dtype="float32")


class ResampledFolderBank(SourceBank):
    """Every audio file below `root` (recursively; WAV, FLAC, MP3 or OGG) as one label,
    resampled to `sr` on read. A Pixabay folder as `Percussion`; VCTK goes through `VCTKBank`.

    Args:
        root: the folder.
        label: the one label of its clips.
        sr: the bank's rate in Hz; clips of any rate are resampled to it.
        name: the bank's name in messages (default: "<label> folder <root>").

    Raises:
        S5Error: If no audio file is found, or a file is not readable audio.
        FileNotFoundError: If `root` is not a folder.
    """

    def __init__(self, root: str | Path, label: str, sr: int = SAMPLE_RATE, name: str | None = None):
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

    def read(self, source_file: str, start: int = 0, frames: int = -1) -> np.ndarray:
        """Samples of one clip: the file read whole, folded to mono, resampled to `sr` and cut.

        Args:
            source_file: the clip's path relative to `root`.
            start: the first frame, at `sr`.
            frames: how many frames at `sr` (-1: to the end).

        Returns:
            (frames,) float64 samples.

        Raises:
            KeyError: If the bank has no such clip.
            S5Error: If the excerpt holds NaN or Inf samples.
        """
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
    (VCTK replacing the challenge's Speech); other labels pool the items of all banks.

    Args:
        banks: the banks, in order (a later bank's `replace` labels win).
        replace: labels taken only from the last bank that has them.

    Raises:
        S5Error: If the banks have different sample rates, or together have no clip.
    """

    def __init__(self, banks: Sequence[SourceBank], replace: Collection[str] = ()):
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
        """The lines of the banks, joined.

        Returns:
            Each bank's `describe()`, separated by "; ".
        """
        return "; ".join(b.describe() for b in self.banks)

    def read(self, source_file: str, start: int = 0, frames: int = -1) -> np.ndarray:
        """Samples of one clip, read by the bank it came from (see `SourceBank.read`).

        Args:
            source_file: the clip's name in its bank.
            start: the first frame.
            frames: how many frames (-1: to the end).

        Returns:
            (frames,) samples, as its bank reads them.

        Raises:
            KeyError: If no bank of the combination (after `replace`) has the clip.
        """
        self.item(source_file)
        return self._owner[source_file].read(source_file, start, frames)


class ProceduralBank(SourceBank):
    """The built-in bank: `n_per_label` seeded synthetic clips per label, made on demand.

    `source_file` is `<Label>/synth_<k>.wav`, a name only; the clip is a pure function of
    (seed, label, k), so a plan re-renders bit-identically anywhere.

    Args:
        kind: "target" (the 18 classes of `synth.TARGET_SYNTHS`) or "interference" (`synth.INTERFERENCE_SYNTHS`).
        seed: the seed every clip is drawn from (with its label and number).
        n_per_label: clips per label.
        sr: sample rate in Hz.
        cache_size: synthesized clips kept in memory.

    Raises:
        ValueError: If `kind` is neither "target" nor "interference".
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

    def read(self, source_file: str, start: int = 0, frames: int = -1) -> np.ndarray:
        """Samples of one clip, synthesized on first use (fades of up to 10 ms at both ends; see `SourceBank.read`).

        Args:
            source_file: `<Label>/synth_<k>.wav`.
            start: the first frame.
            frames: how many frames (-1: to the end).

        Returns:
            (frames,) float64 samples.

        Raises:
            KeyError: If the bank has no such clip.
        """
        self.item(source_file)
        clip = self._clip(source_file)
        end = len(clip) if frames < 0 else start + frames
        return clip[start:end]


class VCTKBank(ResampledFolderBank):
    """VCTK as `Speech`, in either release's layout under `root` (the corpus folder):
    0.92, `wav48_silence_trimmed/<speaker>/<utt>_mic1.flac` and `_mic2.flac`, of which one
    microphone is used (`mic`); or the older `wav48/<speaker>/<utt>.wav` (one microphone).

    Args:
        root: the corpus folder (the one that holds wav48_silence_trimmed/ or wav48/).
        mic: "mic1" or "mic2" (0.92 only; the older release has one).
        sr: the bank's rate in Hz (VCTK's 48 kHz is resampled to it).
        label: the label of every clip.

    Raises:
        FileNotFoundError: If `root` is not a folder or has neither layout.
        S5Error: If `mic` is neither "mic1" nor "mic2", or no clip is found.
    """

    LAYOUTS = ("wav48_silence_trimmed", "wav48")

    def __init__(self, root: str | Path, mic: str = "mic1", sr: int = SAMPLE_RATE, label: str = "Speech"):
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
        """One line for the run's report: the corpus, its clips and speakers.

        Returns:
            "<name>: <n> clips from <k> speakers".
        """
        speakers = {it.source_file.split("/")[0] for items in self._items.values() for it in items}
        return f"{self.name}: {sum(len(v) for v in self._items.values())} clips from {len(speakers)} speakers"


class NoiseBank:
    """Background noise: 4-channel clips read from a whole-second offset."""

    sr: int = SAMPLE_RATE
    channels: int = 4

    def files(self) -> list[str]:
        """The clips' names.

        Returns:
            The names, sorted (a plan's noise `source_file`).
        """
        raise NotImplementedError

    def n_frames(self, name: str) -> int:
        """A clip's length.

        Args:
            name: one of `files()`.

        Returns:
            Its length in frames at `sr`.
        """
        raise NotImplementedError

    def read(self, name: str, start: int, frames: int) -> np.ndarray:
        """Part of a clip.

        Args:
            name: one of `files()`.
            start: the first frame.
            frames: how many frames.

        Returns:
            (frames, 4) samples, fewer rows where the clip ends first.
        """
        raise NotImplementedError


class FolderNoiseBank(NoiseBank):
    """`<root>/*.wav`, 4-channel integer PCM (the dev_set's noise/ folders).

    Args:
        root: the folder (WAV or FLAC files directly in it).
        sr: the rate every file must have, in Hz.

    Raises:
        S5Error: If a file does not have 4 channels or is not at `sr`, or the folder has no audio file.
        FileNotFoundError: If `root` is not a folder.
    """

    def __init__(self, root: str | Path, sr: int = SAMPLE_RATE):
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

    def files(self) -> list[str]:
        """The files' names (see `NoiseBank.files`).

        Returns:
            The names, sorted.
        """
        return sorted(self._frames)

    def n_frames(self, name: str) -> int:
        """A file's length in frames (see `NoiseBank.n_frames`).

        Args:
            name: one of `files()`.

        Returns:
            Its length in frames.
        """
        return self._frames[name]

    def read(self, name: str, start: int, frames: int) -> np.ndarray:
        """Part of a file (see `NoiseBank.read`).

        Args:
            name: one of `files()`.
            start: the first frame.
            frames: how many frames.

        Returns:
            (frames, 4) float32 samples.

        Raises:
            S5Error: If the file has changed its rate or channels, or holds NaN or Inf samples.
        """
        return read_audio(self.root / name, sr=self.sr, channels=self.channels, start=start, frames=frames,
                          always_2d=True, dtype="float32")


class ProceduralNoiseBank(NoiseBank):
    """Seeded 4-channel diffuse noise clips of `seconds` each (`synth.diffuse_noise`), made on demand.

    Args:
        seed: the seed every clip is drawn from (with its number).
        n_files: how many clips.
        seconds: each clip's length in s.
        sr: sample rate in Hz.
    """

    CACHE_BYTES = 2 * 2**30

    def __init__(self, seed: int = 0, n_files: int = 50, seconds: float = 20.0, sr: int = SAMPLE_RATE):
        self.seed, self.n_files, self.sr = seed, n_files, sr
        self._n = int(seconds * sr)
        # a clip takes ~0.25 s to synthesize and a training stream reads every file again and
        # again: keep as many as fit in CACHE_BYTES (all 100 of the training bank's 20-s clips)
        clip_bytes = self._n * self.channels * 8
        self._clip = lru_cache(maxsize=max(8, min(n_files, self.CACHE_BYTES // clip_bytes)))(self._synthesize)

    def files(self) -> list[str]:
        """The clips' names (see `NoiseBank.files`).

        Returns:
            `noise_0000.wav` … `noise_<n_files − 1>.wav` (names only: no file is written).
        """
        return [f"noise_{k:04d}.wav" for k in range(self.n_files)]

    def n_frames(self, name: str) -> int:
        """Every clip's length, int(seconds · sr) frames.

        Args:
            name: one of `files()` (all have the same length).

        Returns:
            The length in frames.
        """
        return self._n

    def _synthesize(self, name: str) -> np.ndarray:
        k = int(name.split("_")[1].split(".")[0])
        return synth.diffuse_noise(np.random.default_rng([self.seed, k, 7]), self._n, self.sr)

    def read(self, name: str, start: int, frames: int) -> np.ndarray:
        """Part of a clip, synthesized on first use (see `NoiseBank.read`).

        Args:
            name: `noise_<k>.wav`.
            start: the first frame.
            frames: how many frames.

        Returns:
            (frames, 4) float64 samples.
        """
        return self._clip(name)[start:start + frames]
