"""The declared schema of a data recipe, checked before anything is drawn: the top-level `engine`,
`sr` and `subtype`, every bank entry's kind and keys (a misspelt or unknown key is named, never
dropped), the counts, ranges, levels and durations of `scene` (finite numbers, ranges ordered,
counts within the edition's limits). Each problem is an error that names the recipe file and the key."""
from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict, TypeVar

from s5bench.common.audio import SUBTYPES
from s5bench.common.editions import edition_of
from s5bench.common.errors import S5Error
from s5bench.common.labels import LABELS, N_SLOTS


class SceneRules(TypedDict, total=False):
    """A config's `scene` section: overrides of `data_gen.plan.DEFAULT_CONFIG`, checked by `check_scene`.

    Attributes:
        duration: the mixture's length, s (> 0).
        sr: the planner's sample rate, Hz (the config's top-level `sr` wins in `scene_rules`).
        ref_db: the reference level, dB.
        ref_channel: the mixture channel the levels are measured on (0 to 3).
        max_event_overlap: the most events sounding at once (>= 1).
        spatialize_direct_path_time_ms: [low, high] window of the direct path, ms.
        n_targets: [low, high] targets per mixture.
        target_snr: [low, high] target level above the reference, dB.
        n_interference: [low, high] interferers per mixture.
        interference_snr: [low, high] interferer level above the reference, dB.
        edition: the DCASE edition whose rules draw the scene (a year, 2025 or 2026; int or string).
        dupse_rate: probability of same-class duplicates among the targets (2026; 0 to 1).
        max_n_dupse: the most duplicates per mixture (2026; >= 0).
        dupse_min_angle: the smallest angle between a duplicate and its original, degrees (2026; 0 to 180).
        dupse_exclusion_folder_depth: SpAudSyn's folder depth at which a duplicate's clip differs (2026; >= 0).
    """

    duration: float
    sr: int
    ref_db: float
    ref_channel: int
    max_event_overlap: int
    spatialize_direct_path_time_ms: Sequence[float]
    n_targets: Sequence[int]
    target_snr: Sequence[float]
    n_interference: Sequence[int]
    interference_snr: Sequence[float]
    edition: int | str
    dupse_rate: float
    max_n_dupse: int
    dupse_min_angle: float
    dupse_exclusion_folder_depth: int


# kind -> (allowed keys, required keys); `classes` restricts a bank to some of the 18 classes
SOURCE_KINDS = {
    "procedural": ({"seed", "n_per_label", "cache_size", "classes"}, set()),
    "folder": ({"root", "check_labels", "classes"}, {"root"}),
    "resampled": ({"root", "label"}, {"root", "label"}),
    "vctk": ({"root", "mic"}, {"root"}),
}
NOISE_KINDS = {"procedural": ({"seed", "n_files", "seconds"}, set()), "folder": ({"root"}, {"root"})}
ROOM_KINDS = {
    "synthetic": ({"n_rooms", "n_positions", "seed", "ir_seconds", "max_order", "cache_dir"},
                  {"n_rooms", "n_positions", "seed", "cache_dir"}),
    "folder": ({"root"}, {"root"}),
}
# bank arguments that are whole numbers of at least this, or positive numbers
AT_LEAST = {"seed": 0, "n_per_label": 1, "cache_size": 1, "n_files": 1, "n_rooms": 1, "n_positions": 1,
            "max_order": 0}
POSITIVE = ("seconds", "ir_seconds")
ENGINES = ("builtin", "spatialscaper")  # data_gen/factory.select_engine
REQUIRED = ("targets", "interference", "noise", "rooms")  # what data_gen/factory.MixtureFactory builds
_Recipe = TypeVar("_Recipe", bound=Mapping[str, Any])  # a recipe as read (a dict) or typed (config.DataConfig)


class RecipeError(S5Error):
    """A data recipe that does not fit its schema; the message names the file and the key."""


def check_recipe(cfg: _Recipe, where: str) -> _Recipe:
    """Check a loaded recipe (after `scene` overrides) against the schema.

    Args:
        cfg: the recipe as loaded by data_gen.config.load_config.
        where: how to name it in messages (e.g. "data config configs/data/x.yaml").

    Returns:
        `cfg`, unchanged.

    Raises:
        RecipeError: the first problem found, naming `where` and the key.
    """
    if cfg.get("engine", "builtin") not in ENGINES:
        raise RecipeError(f"{where}: engine: one of {', '.join(ENGINES)} is needed, not {cfg['engine']!r}")
    if "sr" in cfg and not _whole(cfg["sr"], 1):
        raise RecipeError(f"{where}: sr: a positive whole number of Hz is needed, not {cfg['sr']!r}")
    if "subtype" in cfg and cfg["subtype"] not in SUBTYPES:
        raise RecipeError(f"{where}: subtype: one of {', '.join(SUBTYPES)} is needed, not {cfg['subtype']!r}")
    missing = [k for k in REQUIRED if k not in cfg]
    if missing:
        raise RecipeError(f"{where}: no section {', '.join(missing)}: a recipe names its {', '.join(REQUIRED)} "
                          "(interference: null for none)")
    _check_sources(cfg.get("targets"), f"{where}: targets", may_be_empty=False)
    _check_sources(cfg["interference"], f"{where}: interference", may_be_empty=True)
    _check_entry(cfg["noise"], NOISE_KINDS, f"{where}: noise")
    _check_entry(cfg["rooms"], ROOM_KINDS, f"{where}: rooms")
    check_scene_values(cfg.get("scene") or {}, f"{where}: scene")
    return cfg


def _check_sources(spec, where: str, may_be_empty: bool) -> None:
    if spec is None and may_be_empty:
        return
    if isinstance(spec, dict) and "combine" in spec:
        extra = sorted(set(spec) - {"combine", "replace"})
        if extra:
            raise RecipeError(f"{where}: unknown key(s) {', '.join(map(repr, extra))} beside 'combine'; "
                              "allowed: combine, replace")
        if not isinstance(spec["combine"], list) or not spec["combine"]:
            raise RecipeError(f"{where}.combine: a non-empty list of bank entries is needed")
        for i, entry in enumerate(spec["combine"]):
            _check_entry(entry, SOURCE_KINDS, f"{where}.combine[{i}]")
        return
    _check_entry(spec, SOURCE_KINDS, where)


def _check_entry(spec, kinds: dict, where: str) -> None:
    """One bank entry: `{kind: {key: value, ...}}` with a known kind and its keys."""
    names = ", ".join(kinds)
    if not isinstance(spec, dict) or len(spec) != 1:
        raise RecipeError(f"{where}: one bank entry of the form {{kind: {{...}}}} is needed (kinds: {names}), "
                          f"not {spec!r}")
    (kind, args), = spec.items()
    if kind not in kinds:
        raise RecipeError(f"{where}: unknown bank kind {kind!r}; known: {names}")
    args = {} if args is None else args
    if not isinstance(args, dict):
        raise RecipeError(f"{where}.{kind}: its keys are written as a mapping, not {args!r}")
    allowed, required = kinds[kind]
    unknown = sorted(set(args) - allowed)
    if unknown:
        raise RecipeError(f"{where}.{kind}: unknown key(s) {', '.join(map(repr, unknown))}; "
                          f"allowed: {', '.join(sorted(allowed))}")
    missing = sorted(required - set(args))
    if missing:
        raise RecipeError(f"{where}.{kind}: missing key(s) {', '.join(map(repr, missing))}")
    for key, low in AT_LEAST.items():
        if key in args and not _whole(args[key], low):
            raise RecipeError(f"{where}.{kind}.{key}: a whole number of at least {low} is needed, not {args[key]!r}")
    for key in POSITIVE:
        if key in args and not (_number(args[key]) and args[key] > 0):
            raise RecipeError(f"{where}.{kind}.{key}: a positive number is needed, not {args[key]!r}")
    if "classes" in args:
        classes = args["classes"]
        if not isinstance(classes, list) or not classes or any(c not in LABELS for c in classes):
            bad = [c for c in classes if c not in LABELS] if isinstance(classes, list) else classes
            raise RecipeError(f"{where}.{kind}.classes: a non-empty list of class names is needed; not classes: "
                              f"{bad!r} (the classes: {', '.join(LABELS)})")


def check_scene_values(scene: SceneRules, where: str) -> None:
    """Ranges ordered, counts within the edition's limits, durations positive.

    Args:
        scene: the recipe's `scene` section (keys already checked against plan.DEFAULT_CONFIG).
        where: how to name the section in messages.

    Raises:
        RecipeError: naming the key and what is wrong.
    """
    from .plan import DEFAULT_CONFIG

    cfg = {**DEFAULT_CONFIG, **scene}
    try:
        edition = edition_of(cfg["edition"])
    except ValueError as err:
        raise RecipeError(f"{where}.edition: {err}") from None
    if not (_number(cfg["duration"]) and cfg["duration"] > 0):
        raise RecipeError(f"{where}.duration: a positive number of seconds is needed, not {cfg['duration']!r}")
    if not _whole(cfg["sr"], 1):
        raise RecipeError(f"{where}.sr: a positive whole number of Hz is needed, not {cfg['sr']!r}")
    if not _number(cfg["ref_db"]):
        raise RecipeError(f"{where}.ref_db: a level in dB (a finite number) is needed, not {cfg['ref_db']!r}")
    if not (_whole(cfg["ref_channel"], 0) and cfg["ref_channel"] < 4):
        raise RecipeError(f"{where}.ref_channel: a channel of the 4-channel mixture (0 to 3) is needed, "
                          f"not {cfg['ref_channel']!r}")
    low = 0 if edition.repeated_classes else 1
    _range(cfg, "n_targets", where, whole=True, low=low, high=N_SLOTS,
           why=f"the DCASE {edition.year} edition has {low} to {N_SLOTS} targets per mixture")
    _range(cfg, "n_interference", where, whole=True, low=0)
    _range(cfg, "target_snr", where)
    _range(cfg, "interference_snr", where)
    _range(cfg, "spatialize_direct_path_time_ms", where, low=0)
    if not _whole(cfg["max_event_overlap"], 1):
        raise RecipeError(f"{where}.max_event_overlap: a whole number of at least 1 is needed")
    if not (_number(cfg["dupse_rate"]) and 0 <= cfg["dupse_rate"] <= 1):
        raise RecipeError(f"{where}.dupse_rate: a probability (0 to 1) is needed, not {cfg['dupse_rate']!r}")
    for key in ("max_n_dupse", "dupse_exclusion_folder_depth"):
        if not _whole(cfg[key], 0):
            raise RecipeError(f"{where}.{key}: a whole number of at least 0 is needed, not {cfg[key]!r}")
    if not (_number(cfg["dupse_min_angle"]) and 0 <= cfg["dupse_min_angle"] <= 180):
        raise RecipeError(f"{where}.dupse_min_angle: an angle in degrees (0 to 180) is needed, "
                          f"not {cfg['dupse_min_angle']!r}")


def _range(cfg: dict, key: str, where: str, whole: bool = False, low=None, high=None, why: str = "") -> None:
    value = cfg[key]
    kind = "whole numbers" if whole else "numbers"
    ok = isinstance(value, (list, tuple)) and len(value) == 2 and all(
        _whole(v, -(10**9)) if whole else _number(v) for v in value)
    if not ok:
        raise RecipeError(f"{where}.{key}: a range [low, high] of two {kind} is needed, not {value!r}")
    lo, hi = value
    if lo > hi:
        raise RecipeError(f"{where}.{key}: the range {list(value)} is reversed (low above high)")
    if (low is not None and lo < low) or (high is not None and hi > high):
        bounds = f"within [{low}, {high}]" if high is not None else f"at least {low}"
        raise RecipeError(f"{where}.{key}: {list(value)} is out of its limits: {bounds}" + (f" ({why})" if why else ""))


def _number(v) -> bool:
    """A finite real number (YAML's `.nan` and `.inf` are floats, and every comparison with NaN is False)."""
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)


def _whole(v, low: int) -> bool:
    # int(v): numbers.Integral declares < and <= but not >=; for an Integral it is v itself
    return isinstance(v, numbers.Integral) and not isinstance(v, bool) and int(v) >= low
