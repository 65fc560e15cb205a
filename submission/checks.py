"""`s5bench validate`: a submission (zip or folder, 2025 or 2026 form) checked as the organisers'
scripts check it, and further: every problem one line naming its file."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import soundfile as sf

from s5bench.common.editions import EDITIONS, check_edition, edition_of
from s5bench.common.labels import LABELS, N_SLOTS
from s5bench.common.layout import SOUNDSCAPE_DIR, list_mixtures

from .contents import Contents, read_submission
from .estimates import EstimateName, audio_problems, read_name
from .json_checks import dev_json_problems, eval_json_problems, parse_json
from .names import DEV_TEST_JSON, EVAL_DIR, EVAL_JSON, package_edition


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a submission: the file it is in and what is wrong."""

    file: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


@dataclass
class Verdict:
    """What `validate` found.

    Attributes:
        edition: the edition the submission was checked as.
        problems: every problem, in the order found.
        soundscapes: the evaluation set's mixture names.
        estimates: each mixture's estimate names (the readable ones).
        notes: what was not checked, and why.
    """

    edition: int
    problems: list[Problem] = field(default_factory=list)
    soundscapes: list[str] = field(default_factory=list)
    estimates: dict[str, list[EstimateName]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> list[str]:
        """The clean submission in a few lines: mixtures answered, estimates, labels per class,
        mixtures answered with nothing."""
        answered = [s for s in self.soundscapes if self.estimates.get(s)]
        n_estimates = sum(len(v) for v in self.estimates.values())
        per_class = Counter(e.label for v in self.estimates.values() for e in v)
        empty = [s for s in self.soundscapes if not self.estimates.get(s)]
        shown = ", ".join(empty[:5]) + (" …" if len(empty) > 5 else "")
        return [f"{len(answered)} of {len(self.soundscapes)} mixtures answered, {n_estimates} estimates "
                f"(DCASE {self.edition} form)",
                "labels: " + (", ".join(f"{lab} {per_class[lab]}" for lab in LABELS if per_class[lab]) or "none"),
                f"answered with nothing: {len(empty)}" + (f" ({shown})" if empty else "")]


def soundscape_folder(path) -> Path:
    """A folder of mixtures, given as itself or as a data set that holds `soundscape/`."""
    path = Path(path)
    return path / SOUNDSCAPE_DIR if (path / SOUNDSCAPE_DIR).is_dir() else path


def validate(submission, soundscape_dir, edition: int | None = None, dev_soundscape_dir=None) -> Verdict:
    """Check a submission against the evaluation set's mixtures.

    Args:
        submission: the package's `.zip` or its folder.
        soundscape_dir: the evaluation set's mixtures (the folder, or a data set holding `soundscape/`).
        edition: 2025 or 2026; None: the form of the package's name decides.
        dev_soundscape_dir: the development set's test-split mixtures, for the 2026 check that
            dev_set_test_results.json covers each once (None: that check is skipped, with a note).

    Returns:
        The Verdict: every problem found, and what the summary needs.

    Raises:
        S5Error: If the submission or a soundscape folder cannot be read at all.
        FileNotFoundError: If a soundscape folder is missing or holds no mixture.
    """
    contents = read_submission(submission)
    named = package_edition(contents.name)
    verdict = Verdict(check_edition(edition) if edition is not None else (named or max(EDITIONS)))
    problems = verdict.problems
    if named is None:
        problems.append(Problem(contents.where, f"the name {contents.name!r} is not of the form <Author>_"
                                "<Affiliation>_task4_<N> (2026) or <Author>_<Affiliation>_task4_<N>_out (2025)"))
    elif named != verdict.edition:
        problems.append(Problem(contents.where, f"the name {contents.name!r} has the DCASE {named} form, checked as "
                                f"{verdict.edition}"))
    problems += [Problem(contents.where, f"{entry}: outside the package's folder {contents.name}/") for entry in
                 contents.stray]
    mixtures = list_mixtures(soundscape_folder(soundscape_dir))
    lengths = {name: sf.info(str(path)).frames for name, path in mixtures.items()}
    verdict.soundscapes = sorted(lengths)
    wavs = _check_estimates(contents, lengths, verdict)
    with_results = edition_of(verdict.edition).package_results
    expected = {EVAL_JSON, DEV_TEST_JSON} if with_results else set()
    for inner in sorted(contents.files):
        if not inner.startswith(f"{EVAL_DIR}/") and inner not in expected:
            problems.append(Problem(contents.label(inner), "not part of a submission package (eval_out/*.wav"
                                    + (f", {EVAL_JSON}, {DEV_TEST_JSON}" if expected else "") + ")"))
    if with_results:
        _check_json(contents, wavs, lengths, dev_soundscape_dir, verdict)
    return verdict


def _check_estimates(contents: Contents, lengths: dict[str, int], verdict: Verdict) -> dict:
    """Check every file of eval_out/ (names, audio), then each mixture's set of estimates."""
    wavs: dict[str, EstimateName | None] = {}
    for inner in sorted(contents.files):
        folder, _, file_name = inner.rpartition("/")
        if folder != EVAL_DIR or not file_name.lower().endswith(".wav"):
            continue
        name, problems = read_name(file_name, lengths, verdict.edition)
        if name is not None:
            problems += audio_problems(contents.files[inner](), lengths[name.soundscape])
            verdict.estimates.setdefault(name.soundscape, []).append(name)
        wavs[file_name] = name
        verdict.problems += [Problem(contents.label(inner), p) for p in problems]
    if not wavs and not any(i.startswith(f"{EVAL_DIR}/") for i in contents.files):
        verdict.problems.append(Problem(contents.where, f"no {EVAL_DIR}/ folder with the estimates"))
    files = defaultdict(list)
    for file_name, name in wavs.items():
        if name is not None:
            files[name.soundscape].append((file_name, name))
    for soundscape, group in sorted(files.items()):
        where = contents.label(f"{EVAL_DIR}/{soundscape}_*")
        if len(group) > N_SLOTS:
            verdict.problems.append(Problem(where, f"{len(group)} estimates for one mixture, at most {N_SLOTS}: "
                                            f"{', '.join(f for f, _ in group)}"))
        indexed = edition_of(verdict.edition).slot_index_in_names  # what must differ: the index, else the label
        key = (lambda n: n.index) if indexed else (lambda n: n.label)
        for value, n in Counter(key(n) for _, n in group).items():
            if n > 1 and value is not None:
                what = "slot index" if indexed else "label"
                verdict.problems.append(Problem(where, f"{what} {value} used by {n} files: " + ", ".join(
                    f for f, e in group if key(e) == value)))
    return wavs


def _check_json(contents: Contents, wavs: dict, lengths: dict, dev_soundscape_dir, verdict: Verdict) -> None:
    """Check the 2026 package's two JSON files."""
    eval_nparams = None
    for inner in (EVAL_JSON, DEV_TEST_JSON):
        if inner not in contents.files:
            verdict.problems.append(Problem(contents.label(inner), "missing (the 2026 package has it)"))
            continue
        body, error = parse_json(contents.files[inner]())
        if error:
            verdict.problems.append(Problem(contents.label(inner), error))
            continue
        if inner == EVAL_JSON:
            found = eval_json_problems(body, wavs, lengths)
            eval_nparams = body.get("nparams") if isinstance(body, dict) else None
        else:
            test = None
            if dev_soundscape_dir is not None:
                test = list(list_mixtures(soundscape_folder(dev_soundscape_dir)))
            else:
                verdict.notes.append(f"{DEV_TEST_JSON}: not checked against the dev set's test split (give "
                                     "--dev-soundscape-dir)")
            found = dev_json_problems(body, test, eval_nparams)
        verdict.problems += [Problem(contents.label(inner), p) for p in found]
