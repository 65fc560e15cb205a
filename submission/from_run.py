"""The 2026 submission package of a system's runs: its final stage on the evaluation set (the
estimates and, from the runs' `.done` marks, each slot's label and probability) and on the dev
set's test split (scored), written as the official package and checked as the organisers check it."""
from __future__ import annotations

from pathlib import Path

from s5bench.common.layout import ORACLE_DIR, SOUNDSCAPE_DIR, list_mixtures
from s5bench.metrics.aggregate import summarize
from s5bench.metrics.folders import score_folders
from s5bench.systems.run_folder import ESTIMATE_DIR, recorded_answer

from .checks import validate
from .package import write_package
from .results import SlotAnswer, dev_test_results


def run_answers(run_dir: Path, stage: str, data_dir: Path) -> list[SlotAnswer]:
    """Every mixture's answer at a stage of a run, in the data set's order.

    Args:
        run_dir: the run folder.
        stage: the stage (the system's final one).
        data_dir: the data set the run was over.

    Returns:
        One SlotAnswer per mixture of `data_dir/soundscape/`.

    Raises:
        S5Error: a mixture not done, or a mark that records no answer.
    """
    answers = []
    for name in list_mixtures(Path(data_dir) / SOUNDSCAPE_DIR):
        labels, probabilities = recorded_answer(run_dir, stage, name)
        answers.append(SlotAnswer(name, tuple(labels), tuple(probabilities)))
    return answers


def count_parameters(system) -> int:
    """The number of a system's model parameters (every tensor its modules hold as a parameter,
    trained or frozen), as the official package's `nparams` counts them."""
    return sum(p.numel() for p in system.parameters())


def write_run_package(name: str, out_dir, system, stage: str, eval_run: Path, eval_data, dev_run: Path,
                      dev_data, jobs: int = 1) -> Path:
    """Write the official 2026 package of a system's runs and check it.

    Args:
        name: the package's name, `<Author>_<Affiliation>_task4_<N>`.
        out_dir: where the folder and the zip go.
        system: the System that made the runs (its parameters are counted; its config is recorded).
        stage: the stage the package is made of (the system's final one).
        eval_run: the run folder of the evaluation set (2026 edition).
        eval_data: the evaluation set.
        dev_run: the run folder of the dev set's test split (2026 edition).
        dev_data: the dev set's test split (with oracle_target/).
        jobs: scoring processes for the dev-set test split.

    Returns:
        The zip's path.

    Raises:
        S5Error: as `write_package`, or a run without a mixture's answer.
        RuntimeError: the package written fails the organisers' checks (a bug in s5bench; the
            message lists what failed).
    """
    dev_data, eval_data = Path(dev_data), Path(eval_data)
    scores = score_folders(dev_data / SOUNDSCAPE_DIR, dev_data / ORACLE_DIR, dev_run / stage / ESTIMATE_DIR,
                           jobs=jobs, progress=False, edition=2026, note_missing=False)
    dev_answers = {a.soundscape: a for a in run_answers(dev_run, stage, dev_data)}
    config = getattr(system, "config", None) or {"class": f"{type(system).__module__}:{type(system).__qualname__}"}
    nparams = count_parameters(system)
    dev = dev_test_results(scores, dev_answers, summarize(scores), nparams, config)
    zip_path = write_package(out_dir, name, eval_run / stage / ESTIMATE_DIR, run_answers(eval_run, stage, eval_data),
                             dev, nparams, config)
    verdict = validate(zip_path, eval_data, 2026, dev_soundscape_dir=dev_data)
    if not verdict.ok:
        raise RuntimeError("the package written fails the organisers' checks (a bug in s5bench):\n" +
                           "\n".join(map(str, verdict.problems)))
    return zip_path
