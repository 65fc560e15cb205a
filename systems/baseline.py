"""The official baseline as a system: M2D-AT tags the mixture, ResUNetK extracts each tagged
class (1–3 slots in class-index order, the rest silence)."""
from __future__ import annotations

from .base import SlotOutput, System
from .models.checkpoints import load_component, resolve
from .models.m2d import M2DEncoder, M2DTagger
from .models.resunet import ResUNetK, strip_prefix
from .models.state_dicts import load_state_dict_strict, read_record
from .slots import one_hots

OFFICIAL_SOURCES = {
    "separator": "resunetk.ckpt in baseline_checkpoint.zip of the nttcslab/dcase2025_task4_baseline v1.0.0 release",
    "tagger": "m2dat.ckpt in baseline_checkpoint.zip of the nttcslab/dcase2025_task4_baseline v1.0.0 release",
    "weight_file": "m2d_as_vit_base-80x1001p16x16p32k-240413_AS-FT_enconly.zip of the nttcslab/m2d v0.3.0 release",
}


def check_official_files(paths: dict, sources: dict = OFFICIAL_SOURCES, what: str = "the official baseline",
                         config: str = "configs/systems/baseline_official.yaml") -> None:
    """Every released file a system needs, or one error naming each missing file, where it is
    released (`sources`) and the system-config key that points at it."""
    missing = [(key, path) for key, path in paths.items() if path is not None and not path.is_file()]
    if missing:
        lines = [f"  args.{key}: {path} (from {sources[key]})" for key, path in missing]
        raise FileNotFoundError(f"{what}'s released weights are missing (nothing is downloaded here; put them "
                                f"there or point the config keys at them, e.g. in {config}):\n" + "\n".join(lines))


class Baseline(System):
    """tagger/separator: checkpoints exported by runners/train.py, or, with `official: true`,
    the baseline repository's `m2dat.ckpt` (+ `weight_file`, the M2D .pth it was built on) and
    `resunetk.ckpt`. `oracle_labels: true` queries the separator with the true labels (the
    separator's own upper bound)."""

    stages = ("final",)

    def __init__(self, tagger=None, separator=None, official=False, weight_file=None, oracle_labels=False,
                 threshold=0.5):
        super().__init__()
        self.oracle_labels, self.threshold = oracle_labels, threshold
        if official:
            tagger, separator, weight_file = (resolve(p) if p else None for p in (tagger, separator, weight_file))
            check_official_files({"separator": separator, "tagger": tagger, "weight_file": weight_file})
            self.separator = ResUNetK()
            self.separator.load_official(separator)
            self.tagger = M2DTagger(**M2DEncoder.weight_file_config(weight_file)) if tagger else None
            if tagger:
                state = read_record(tagger)
                state = strip_prefix(state.get("state_dict", state), "head_norm.running_mean")
                # the official front end's fixed STFT/mel tables (nnAudio) are not parameters here
                state = {k: v for k, v in state.items() if not k.startswith("to_spec.")}
                load_state_dict_strict(self.tagger, state, source=str(tagger))
        else:
            self.separator, _ = load_component(separator, expect_task="separator")
            self.tagger = None if oracle_labels else load_component(tagger, expect_task="tagger")[0]

    def forward(self, mixture, batch):
        if self.oracle_labels:
            labels = batch["labels"]
        else:
            labels = M2DTagger.pick_labels(self.tagger(mixture[:, 0]), threshold=self.threshold)
        query = one_hots(labels, mixture.device).reshape(len(labels), -1)
        return {"final": SlotOutput(labels, self.separator(mixture, query)[:, :, 0])}
