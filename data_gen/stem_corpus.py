"""A training corpus that costs little per scene: every event's wet image and dry reference
rendered once, stored, and remixed on the fly with fresh subsets, levels and onsets (dynamic
mixing), so synthesis and convolution are not paid at every training step.

    python -m s5bench.data_gen.stem_corpus --config builtin_train --duration 2 --scenes 1000 --out data/stems

Build: scenes 0 … n−1 of (recipe, seed) are planned as the generator plans them; for each event
`Renderer.event_images` gives its full wet image (4 channels, event + response − 1 samples, tail
included) and, for a target, its dry reference, both at the planned level; they are stored
divided by that level's gain, i.e. at unit mean square of the full wet image, which is the
quantity the generator sets to 10^((ref_db + snr)/10). Noise clips are stored at unit mean
square over all samples and channels. Everything is float32 in flat memory-mapped files with an
`index.json` (offsets, lengths, labels, the original SNR and onset of every event).

Remix (the 2025 rules of the recipe's `scene` section): 1–3 target classes without repeats, each
a random stored event of that class at SNR U(5, 20) dB; 1–2 interferers (classes may repeat) at
U(0, 15) dB; onsets drawn as the generator draws them (event_time U(0, duration − event
length), placed at int(event_time·sr), cut at the scene's end); one noise clip at ref_db; slots
in onset order. Events of different scenes (and rooms) are combined freely, as dynamic mixing
does: each image is still a point source in a measured room. Rendering a stored scene with its
own SNRs and onsets (`original_scene`) gives the generator's mixture to float32 rounding.

Remixes may be longer than the stored scenes (`duration`): the same events, levels and onset
rule in a longer scene, the noise made of consecutive stored clips. Events then fill less of the
scene, as in the 10-s test mixtures (targets sound in about 30 % of a 10-s scene's frames, but in
about 80 % of a 2-s one's).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from torch.utils.data import IterableDataset
from tqdm import tqdm

from s5bench.common.atomic import staging_path
from s5bench.common.audio import write_text_atomic
from s5bench.common.configs import read_json
from s5bench.common.editions import edition_of
from s5bench.common.errors import S5Error, command
from s5bench.common.labels import LABELS, N_SLOTS, SILENCE

from .config import DataConfig, public_config
from .factory import MixtureFactory
from .plan import DEFAULT_CONFIG
from .render import SilentExcerptError, noise_clip, plan_edition
from .schema import TrainingExample
from .stream import _example, worker_indices

INDEX = "index.json"
FILES = {"wet": "wet.f32", "dry": "dry.f32", "noise": "noise.f32"}


def level_gain(db: float) -> float:
    """The amplitude gain of a mean-square level: √(10^(db/10)).

    Args:
        db: the level in dB.

    Returns:
        The gain that takes a unit-mean-square signal to that level.
    """
    return math.sqrt(10 ** (db / 10))


def build_corpus(cfg: DataConfig, out: str | Path, n_scenes: int, seed: int = 0, progress: bool = True) -> Path:
    """Render and store the events of scenes 0 … n_scenes−1 of (cfg, seed).

    Written under temporary names and moved into place at the end (a cut build leaves nothing);
    events whose excerpt is silent are left out.

    Args:
        cfg: a 2025 data config (`config.load_config`).
        out: the corpus folder (made if missing).
        n_scenes: scenes to plan and store.
        seed: the scenes' seed, as the generator's.
        progress: show a progress bar.

    Returns:
        The folder, with wet.f32, dry.f32, noise.f32 and index.json.

    Raises:
        S5Error: If the recipe is of the 2026 edition (the remix follows the 2025 rules), or a bank or
            room folder is refused.
    """
    out = Path(out)
    factory = MixtureFactory(cfg)
    rules = {**DEFAULT_CONFIG, **factory.rules}
    if edition_of(rules["edition"]).repeated_classes:
        raise S5Error("the stem corpus remixes by the 2025 rules (distinct classes); use a 2025 recipe")
    out.mkdir(parents=True, exist_ok=True)
    staged = {k: staging_path(out / name) for k, name in FILES.items()}  # unique names, moved into place at the end
    handles = {k: open(staged[k], "wb") for k in FILES}
    offsets = dict.fromkeys(FILES, 0)
    events, noises = [], []

    def put(kind, array):
        array = np.ascontiguousarray(array, dtype=np.float32)
        handles[kind].write(array.tobytes())
        start = offsets[kind]
        offsets[kind] += array.size
        return start

    try:
        for index in tqdm(range(n_scenes), desc="stem corpus", unit="scene", disable=not progress):
            plan = factory.plan(seed, index)
            sr, T = int(plan["config"]["sr"]), int(round(plan["config"]["duration"] * plan["config"]["sr"]))
            for bank, key in (("foreground", "fg_events"), ("interference", "int_events")):
                for ev in plan[key]:
                    try:
                        wet, dry = factory.renderer.event_images(ev, plan, bank)
                    except SilentExcerptError:  # short scenes can cut a clip's silent stretch
                        continue
                    unit = np.float32(1 / level_gain(plan["config"]["ref_db"] + ev["snr"]))
                    entry = {"scene": index, "kind": "target" if bank == "foreground" else "interference",
                             "label": ev["label"], "length": wet.shape[1], "wet": put("wet", wet * unit),
                             "snr": ev["snr"], "event_time": ev["event_time"],
                             "event_duration": ev["event_duration"]}
                    if dry is not None:
                        entry["dry"] = put("dry", dry * unit)
                    events.append(entry)
            for ev in plan["bg_events"]:
                clip = noise_clip(factory.noise, ev, T, sr, plan_edition(plan)).T
                unit = np.float32(1 / math.sqrt(np.mean(np.square(clip, dtype=np.float64))))
                noises.append({"scene": index, "noise": put("noise", clip * unit)})
        for h in handles.values():
            h.close()
        for kind, name in FILES.items():
            staged[kind].replace(out / name)
    except BaseException:
        for kind in FILES:
            handles[kind].close()
            staged[kind].unlink(missing_ok=True)
        raise
    rule_keys = ("duration", "sr", "ref_db", "n_targets", "target_snr", "n_interference", "interference_snr")
    write_text_atomic(out / INDEX, json.dumps({
        "recipe": public_config(cfg), "seed": seed, "n_scenes": n_scenes,
        "rules": {k: rules[k] for k in rule_keys}, "samples": int(round(rules["duration"] * rules["sr"])),
        "events": events, "noise": noises}, indent=1, default=str) + "\n")
    return out


class StemCorpus:
    """A built corpus, memory-mapped: draws remixed scenes and renders stored ones.

    Args:
        folder: the corpus (`build_corpus`).
        duration: the remixes' length in s (None: the stored scenes'; longer ones allowed).

    Raises:
        FileNotFoundError: If the folder has no index.json.
        S5Error: If `duration` is shorter than the stored scenes, the index is not readable JSON, or
            the corpus has fewer target classes than a scene may need.
    """

    def __init__(self, folder: str | Path, duration: float | None = None):
        self.folder = Path(folder)
        if not (self.folder / INDEX).is_file():
            raise FileNotFoundError(f"stem corpus {self.folder}: no {INDEX} (build it with "
                                    "python -m s5bench.data_gen.stem_corpus)")
        self.index = read_json(self.folder / INDEX, "stem corpus index", "build the corpus again")
        self.rules, self.T = dict(self.index["rules"]), self.index["samples"]
        if duration is not None:
            if duration < self.rules["duration"]:
                raise S5Error(f"stem corpus {self.folder}: remixes of {duration} s asked, shorter than its "
                              f"{self.rules['duration']}-s scenes (stored events would not fit)")
            self.rules["duration"] = float(duration)
            self.T = int(round(duration * self.rules["sr"]))
        self.data = {k: np.memmap(self.folder / name, dtype=np.float32, mode="r") for k, name in FILES.items()}
        self.events = self.index["events"]
        self.by_label = {"target": {}, "interference": {}}
        for i, ev in enumerate(self.events):
            self.by_label[ev["kind"]].setdefault(ev["label"], []).append(i)
        self.target_labels = sorted((lab for lab in self.by_label["target"] if lab in LABELS), key=LABELS.index)
        if len(self.target_labels) < self.rules["n_targets"][1]:
            raise S5Error(f"stem corpus {self.folder}: {len(self.target_labels)} target classes, fewer than "
                          f"the {self.rules['n_targets'][1]} a scene may need")

    def wet(self, i: int) -> np.ndarray:
        """The stored wet image of event i, at unit mean square.

        Args:
            i: the event's index in `events`.

        Returns:
            (4, length) float32 view of the memory map.
        """
        ev = self.events[i]
        return self.data["wet"][ev["wet"]:ev["wet"] + 4 * ev["length"]].reshape(4, ev["length"])

    def dry(self, i: int) -> np.ndarray:
        """The stored dry reference of target event i, with its wet image's gain.

        Args:
            i: the event's index in `events` (a target: interferers have none).

        Returns:
            (length,) float32 view of the memory map.
        """
        ev = self.events[i]
        return self.data["dry"][ev["dry"]:ev["dry"] + ev["length"]]

    def noise(self, k: int) -> np.ndarray:
        """Noise clip k; for remixes longer than the stored scenes, clips k, k+1, … end to end.

        Args:
            k: the clip's index in the index's `noise` list.

        Returns:
            (4, T) float32 noise at unit mean square (per stored clip).
        """
        stored, clips, parts = self.index["samples"], self.index["noise"], []
        for j in range(-(-self.T // stored)):
            start = clips[(k + j) % len(clips)]["noise"]
            parts.append(self.data["noise"][start:start + 4 * stored].reshape(4, stored))
        return np.concatenate(parts, axis=1)[:, :self.T]

    def mix(self, targets: Sequence[tuple[int, float, int]], interferers: Sequence[tuple[int, float, int]],
            noise_k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """A scene of stored events at the given levels and onsets, cut at T samples.

        Args:
            targets: [(event index, SNR in dB, onset sample)], in slot order.
            interferers: the same for the interferers.
            noise_k: the noise clip (`noise`), at ref_db.

        Returns:
            (mixture (4, T), dry (n, T), interference images (m, 4, T), noise (4, T)), float32;
            targets in the given order.
        """
        T, ref_db = self.T, self.rules["ref_db"]

        def placed(image, onset, gain):
            out = np.zeros(image.shape[:-1] + (T,), np.float32)
            m = max(0, min(image.shape[-1], T - onset))
            out[..., onset:onset + m] = image[..., :m] * np.float32(gain)
            return out

        wet_t = [placed(self.wet(i), s, level_gain(ref_db + snr)) for i, snr, s in targets]
        dry = [placed(self.dry(i), s, level_gain(ref_db + snr)) for i, snr, s in targets]
        wet_i = [placed(self.wet(i), s, level_gain(ref_db + snr)) for i, snr, s in interferers]
        noise = self.noise(noise_k) * np.float32(level_gain(ref_db))
        mixture = np.sum(wet_t, axis=0) + (np.sum(wet_i, axis=0) if wet_i else 0) + noise
        return (mixture.astype(np.float32), np.array(dry).reshape(len(dry), T),
                np.array(wet_i).reshape(len(wet_i), 4, T), noise)

    def original_scene(self, scene: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Scene `scene` of the build with its own events, SNRs and onsets (the generator's mixture).

        Args:
            scene: the scene's number in the build.

        Returns:
            As `mix`: (mixture, dry, interference images, noise), targets in stored order.
        """
        sr = self.rules["sr"]
        mine = [i for i, ev in enumerate(self.events) if ev["scene"] == scene]
        pick = [(i, self.events[i]["snr"], int(self.events[i]["event_time"] * sr)) for i in mine]
        noise_k = next(k for k, n in enumerate(self.index["noise"]) if n["scene"] == scene)
        return self.mix([p for p in pick if self.events[p[0]]["kind"] == "target"],
                        [p for p in pick if self.events[p[0]]["kind"] == "interference"], noise_k)

    def draw(self, rng: np.random.Generator) -> TrainingExample:
        """One remixed scene by the rules, as a training example (the stream's batch keys).

        Args:
            rng: the scene's generator (`draw_events`).

        Returns:
            The example, with the interferers' and the noise's channel 0 (its `name` empty).
        """
        targets, inter, noise_k = self.draw_events(rng)
        mixture, dry, wet_i, noise = self.mix(targets, inter, noise_k)
        names = [self.events[i]["label"] for i, _, _ in targets]
        return _example(mixture, dry, names + [SILENCE] * (N_SLOTS - len(names)), wet_i[:, 0], noise[0])

    def draw_events(self, rng: np.random.Generator
                    ) -> tuple[list[tuple[int, float, int]], list[tuple[int, float, int]], int]:
        """The draw of one remix by the corpus's rules.

        Args:
            rng: the scene's generator.

        Returns:
            Targets and interferers as [(event index, SNR in dB, onset sample)] (targets in onset
            order), and a noise clip's index.
        """
        r, sr = self.rules, self.rules["sr"]
        duration = r["duration"]

        def onset(i):
            return int(rng.uniform(0.0, duration - self.events[i]["event_duration"]) * sr)

        n_t = int(rng.integers(r["n_targets"][0], r["n_targets"][1] + 1))
        labels = rng.choice(self.target_labels, size=n_t, replace=False)
        targets = []
        for lab in labels:
            pool = self.by_label["target"][str(lab)]
            i = pool[rng.integers(len(pool))]
            targets.append((i, float(rng.uniform(*r["target_snr"])), onset(i)))
        targets.sort(key=lambda t: t[2])
        int_labels = sorted(self.by_label["interference"])
        n_i = int(rng.integers(r["n_interference"][0], r["n_interference"][1] + 1)) if int_labels else 0
        inter = []
        for _ in range(n_i):
            pool = self.by_label["interference"][int_labels[rng.integers(len(int_labels))]]
            i = pool[rng.integers(len(pool))]
            inter.append((i, float(rng.uniform(*r["interference_snr"])), onset(i)))
        return targets, inter, int(rng.integers(len(self.index["noise"])))


class StemStream(IterableDataset):
    """Remixed scenes forever (or `length` of them): scene `index` is a pure function of (seed,
    index), worker w of W takes indices w, w+W, …, so the stream is the same whatever the worker
    count, and `start` resumes it mid-way. `duration`: remixes longer than the stored scenes.

    Args:
        folder: the corpus (opened in each worker on first use).
        seed: the stream's seed.
        length: how many scenes (None: forever).
        start: the first scene index (to resume).
        duration: the remixes' length in s (None: the stored scenes').
    """

    def __init__(self, folder: str | Path, seed: int = 0, length: int | None = None, start: int = 0,
                 duration: float | None = None):
        self.folder, self.seed, self.length, self.start, self.duration = folder, seed, length, start, duration
        self._corpus = None

    def __iter__(self):
        if self._corpus is None:
            self._corpus = StemCorpus(self.folder, self.duration)
        for index in worker_indices(self.start, self.length):
            example = self._corpus.draw(np.random.default_rng([self.seed, index, 0x57E5]))
            example["name"] = f"stems{self.seed}:{index}"
            yield example


def _main(argv=None) -> int:
    from s5bench.common.arguments import at_least

    from .config import load_config

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="builtin_train", help="a 2025 data config (configs/data)")
    ap.add_argument("--duration", type=float, default=2.0, help="scene length in seconds (the training scenes')")
    ap.add_argument("--scenes", type=at_least(1), default=1000)
    ap.add_argument("--seed", type=at_least(0), default=0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    cfg = load_config(args.config)
    cfg.setdefault("scene", {})["duration"] = args.duration
    out = build_corpus(cfg, args.out, args.scenes, args.seed)
    index = json.loads((out / INDEX).read_text())
    size = sum((out / name).stat().st_size for name in FILES.values())
    print(f"stem corpus {out}: {len(index['events'])} events of {args.scenes} scenes, {size / 1e9:.2f} GB")
    return 0


main = command(_main)  # the one error boundary (common/errors.py)


if __name__ == "__main__":
    sys.exit(main())
