"""Checks of the 2026 package's two JSON files: eval_results.json against the wav files of
eval_out/ (the organisers' check: the same files, no file twice) and dev_set_test_results.json
against the development set's test split (the organisers' check: every test soundscape once)."""
from __future__ import annotations

import json
import math
from collections import Counter

from .estimates import EstimateName


def parse_json(data: bytes) -> tuple[object, str | None]:
    """(the parsed value, None), or (None, what is wrong) for a file that is not JSON."""
    try:
        return json.loads(data), None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        return None, f"not valid JSON ({err})"


def _few(names, n: int = 3) -> str:
    names = sorted(names)
    return ", ".join(names[:n]) + (f" and {len(names) - n} more" if len(names) > n else "")


def _probability_ok(p) -> bool:
    return isinstance(p, (int, float)) and not isinstance(p, bool) and math.isfinite(p) and 0 <= p <= 1


def eval_json_problems(body, wavs: dict[str, EstimateName | None], soundscapes) -> list[str]:
    """What is wrong with eval_results.json.

    Args:
        body: its parsed content.
        wavs: every wav file of eval_out/ and its name as read (None: unreadable name).
        soundscapes: the evaluation set's mixture names.

    Returns:
        One sentence per problem: a missing or malformed key; an entry for a mixture not in the
        set, or a mixture twice; an estimate without filename, label or a probability in [0, 1];
        a file named twice; the files not exactly the wav files (either way); a label or
        mixture that disagrees with its file's name; a mixture of the set without an entry.
    """
    if not isinstance(body, dict):
        return ["the top level must be an object with nparams, probabilities and config"]
    problems = [f"no {key!r} key" for key in ("nparams", "probabilities", "config") if key not in body]
    if "nparams" in body and not (isinstance(body["nparams"], int) and not isinstance(body["nparams"], bool)
                                  and body["nparams"] >= 0):
        problems.append(f"nparams must be a count of parameters, not {body['nparams']!r}")
    entries = body.get("probabilities", [])
    if not isinstance(entries, list):
        return problems + ["probabilities must be a list of {soundscape, estimate} objects"]
    listed: list[str] = []
    seen = Counter()
    for i, entry in enumerate(entries):
        soundscape = entry.get("soundscape") if isinstance(entry, dict) else None
        if not isinstance(soundscape, str) or not isinstance(entry.get("estimate"), list):
            problems.append(f"probabilities[{i}] is not a {{soundscape, estimate: [...]}} object")
            continue
        seen[soundscape] += 1
        if soundscape not in soundscapes:
            problems.append(f"probabilities[{i}]: soundscape {soundscape!r} is not in the evaluation set")
        for j, est in enumerate(entry["estimate"]):
            where = f"probabilities[{i}] ({soundscape}) estimate[{j}]"
            if not isinstance(est, dict) or not isinstance(est.get("filename"), str):
                problems.append(f"{where}: no filename")
                continue
            listed.append(est["filename"])
            if not _probability_ok(est.get("probability")):
                problems.append(f"{where}: probability {est.get('probability')!r} is not a number in [0, 1]")
            name = wavs.get(est["filename"])
            if name is None:
                continue
            if est.get("label") != name.label:
                problems.append(f"{where}: label {est.get('label')!r} but the file {est['filename']} is a {name.label}")
            if soundscape != name.soundscape:
                problems.append(f"{where}: the file {est['filename']} is an estimate of {name.soundscape}, "
                                f"not of {soundscape}")
    twice = [s for s, n in seen.items() if n > 1]
    if twice:
        problems.append(f"soundscape(s) listed more than once: {_few(twice)}")
    repeated = [f for f, n in Counter(listed).items() if n > 1]
    if repeated:
        problems.append(f"file(s) listed more than once: {_few(repeated)}")
    if set(wavs) - set(listed):
        problems.append(f"{len(set(wavs) - set(listed))} wav file(s) of eval_out/ not listed: "
                        f"{_few(set(wavs) - set(listed))}")
    if set(listed) - set(wavs):
        problems.append(f"{len(set(listed) - set(wavs))} listed file(s) not in eval_out/: "
                        f"{_few(set(listed) - set(wavs))}")
    unlisted = set(soundscapes) - set(seen)
    if unlisted:
        problems.append(f"{len(unlisted)} mixture(s) of the set have no entry (one per mixture, with an empty "
                        f"estimate list when nothing is answered): {_few(unlisted)}")
    return problems


def dev_json_problems(body, test_soundscapes, eval_nparams=None) -> list[str]:
    """What is wrong with dev_set_test_results.json.

    Args:
        body: its parsed content.
        test_soundscapes: the dev set's test-split mixture names, or None (coverage not checked).
        eval_nparams: eval_results.json's nparams, or None (not compared).

    Returns:
        One sentence per problem: missing keys; a detail that is not a {soundscape, ref_labels,
        est_labels, probabilities, metrics} object; a soundscape twice; the soundscapes not
        exactly the test split's; an nparams other than eval_results.json's.
    """
    if not isinstance(body, dict):
        return ["the top level must be an object with the summary metrics, nparams, details and config"]
    problems = [f"no {key!r} key" for key in ("CAPI-SDRi", "label_metrics", "nparams", "details", "config")
                if key not in body]
    details = body.get("details", [])
    if not isinstance(details, list):
        return problems + ["details must be a list with one object per test soundscape"]
    names = []
    for i, entry in enumerate(details):
        keys = ("soundscape", "ref_labels", "est_labels", "probabilities", "metrics")
        if not isinstance(entry, dict) or not isinstance(entry.get("soundscape"), str):
            problems.append(f"details[{i}] has no soundscape")
            continue
        names.append(entry["soundscape"])
        missing = [k for k in keys if k not in entry]
        if missing:
            problems.append(f"details[{i}] ({entry['soundscape']}) lacks {', '.join(missing)}")
    twice = [s for s, n in Counter(names).items() if n > 1]
    if twice:
        problems.append(f"soundscape(s) listed more than once: {_few(twice)}")
    if test_soundscapes is not None:
        if set(test_soundscapes) - set(names):
            problems.append(f"{len(set(test_soundscapes) - set(names))} test soundscape(s) missing: "
                            f"{_few(set(test_soundscapes) - set(names))}")
        if set(names) - set(test_soundscapes):
            problems.append(f"{len(set(names) - set(test_soundscapes))} soundscape(s) not in the test split: "
                            f"{_few(set(names) - set(test_soundscapes))}")
    if eval_nparams is not None and "nparams" in body and body["nparams"] != eval_nparams:
        problems.append(f"nparams {body['nparams']!r}, but eval_results.json says {eval_nparams!r} (one system)")
    return problems
