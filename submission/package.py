"""Writing the 2026 submission package: the folder `<Author>_<Affiliation>_task4_<N>/` holding
eval_out/ (one wav per non-silent estimate of the evaluation set), eval_results.json and
dev_set_test_results.json, and the same folder zipped as `<Author>_<Affiliation>_task4_<N>.zip`."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from s5bench.common.errors import S5Error
from s5bench.common.layout import list_wavs, submission_names

from .names import DEV_TEST_JSON, EVAL_DIR, EVAL_JSON, check_package_name
from .results import Estimate, SlotAnswer, eval_results

ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # every entry's date: the same package gives the same zip, byte for byte


def estimates_of(answer: SlotAnswer) -> list[Estimate]:
    """The estimate files of one answer, as a 2026 run names them (`<mix>_<i>_<Label>.wav`, the
    non-silent slots numbered 0…k−1 in slot order), each with its slot's label and probability.

    Example:
        >>> from s5bench.submission.package import estimates_of
        >>> from s5bench.submission.results import SlotAnswer
        >>> [e.filename for e in estimates_of(SlotAnswer("m1", ("silence", "Speech", "Cough"), (1, .9, .4)))]
        ['m1_0_Speech.wav', 'm1_1_Cough.wav']
    """
    return [Estimate(name, answer.labels[slot], float(answer.probabilities[slot]))
            for slot, name in submission_names(answer.soundscape, answer.labels, 2026)]


def check_package_free(out_dir, name: str) -> None:
    """Refuse a package name of the wrong form, or one whose folder or zip exists in `out_dir`.

    Args:
        out_dir: where the package would go.
        name: its name, `<Author>_<Affiliation>_task4_<N>`.

    Raises:
        S5Error: the name is not of the 2026 form, or OUT/NAME or OUT/NAME.zip exists (a package is
            never overwritten: the official script refuses too).
    """
    check_package_name(name, 2026)
    for path in (Path(out_dir) / name, Path(out_dir) / f"{name}.zip"):
        if path.exists():
            raise S5Error(f"{path} exists: a submission package is never overwritten (remove it, or give another "
                          "submission number)")


def write_package(out_dir, name: str, estimate_dir, answers: list[SlotAnswer], dev_test: dict, nparams: int,
                  config: dict) -> Path:
    """Write OUT/NAME/ (eval_out/*.wav, eval_results.json, dev_set_test_results.json) and OUT/NAME.zip.

    The folder is assembled under a temporary name and moved into place, the zip written under a
    temporary name and renamed: an interrupted call leaves neither half-made.

    Args:
        out_dir: the folder to write the package folder and zip into (made if needed).
        name: the package's name, `<Author>_<Affiliation>_task4_<N>`.
        estimate_dir: the evaluation run's estimate folder (the final stage's `<mix>_<i>_<Label>.wav`).
        answers: the system's answer for every mixture of the evaluation set, in order.
        dev_test: `results.dev_test_results`' content for the dev set's test split.
        nparams: the number of the system's model parameters.
        config: the system's config as loaded.

    Returns:
        The zip's path.

    Raises:
        S5Error: If the name is not of the 2026 form; OUT/NAME or OUT/NAME.zip exists already (a
            package is never overwritten: the official script refuses too); an estimate file of an
            answer is missing, or the estimate folder holds a wav no answer names.
    """
    check_package_free(out_dir, name)
    out = Path(out_dir)
    folder, zip_path = out / name, out / f"{name}.zip"
    listing = [(answer.soundscape, estimates_of(answer)) for answer in answers]
    wanted = {e.filename for _, estimates in listing for e in estimates}
    present = {p.name for p in list_wavs(Path(estimate_dir))}
    if wanted - present:
        raise S5Error(f"estimate folder {estimate_dir} lacks {len(wanted - present)} file(s) of the answers, e.g. "
                      f"{sorted(wanted - present)[0]}: run the system again into a fresh folder")
    if present - wanted:
        raise S5Error(f"estimate folder {estimate_dir} holds {len(present - wanted)} wav file(s) no answer names, "
                      f"e.g. {sorted(present - wanted)[0]}: it is not this run's alone")
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=out))
    try:
        (staging / EVAL_DIR).mkdir()
        for file_name in sorted(wanted):
            shutil.copyfile(Path(estimate_dir) / file_name, staging / EVAL_DIR / file_name)
        (staging / EVAL_JSON).write_text(json.dumps(eval_results(listing, nparams, config), indent=4) + "\n")
        (staging / DEV_TEST_JSON).write_text(json.dumps(dev_test, indent=4) + "\n")
        write_zip(staging, name, zip_path)
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return zip_path


def write_zip(folder: Path, name: str, zip_path: Path) -> Path:
    """Zip every file under `folder` as `name/<relative path>` into `zip_path` (through a temporary
    file and a rename), in sorted order with a fixed date, so equal packages give equal zips.

    Args:
        folder: the package folder's content.
        name: the folder name inside the zip.
        zip_path: the zip to write.

    Returns:
        zip_path.
    """
    tmp = zip_path.with_name(f".{zip_path.name}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                info = zipfile.ZipInfo(f"{name}/{path.relative_to(folder).as_posix()}", date_time=ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                z.writestr(info, path.read_bytes())
        os.replace(tmp, zip_path)
    finally:
        tmp.unlink(missing_ok=True)
    return zip_path
