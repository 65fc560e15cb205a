"""Check a submission as the organisers do, and more: its names, audio and JSON files.

    s5bench validate Author_Affil_task4_1.zip --soundscape-dir EVAL [--dev-soundscape-dir DEV_TEST] [--edition 2026]

SUBMISSION is the package's .zip or its folder, of either edition (2026: `<A>_<B>_task4_<N>` with
eval_out/, eval_results.json and dev_set_test_results.json; 2025: `<A>_<B>_task4_<N>_out` with
eval_out/); the name's form gives the edition unless --edition says it. Every check of the official
scripts (file names `<soundscape>(_<i>)_<label>.wav` with a known label, the JSON's files exactly the
wav files, every dev-set test soundscape in dev_set_test_results.json), and the sample rate, channel
count, length, NaN/Inf, repeated slot indices, more than 3 estimates for a mixture, estimates for
mixtures not in the set, JSON labels that disagree with the file names. One line per problem,
naming its file, and exit status 2; a clean submission gets a summary.
"""
from __future__ import annotations

import argparse
import sys

from s5bench.common.editions import EDITIONS, check_edition
from s5bench.common.errors import EXIT_REFUSED, command
from s5bench.submission.checks import validate


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("submission", help="the package's .zip, or its folder")
    ap.add_argument("--soundscape-dir", required=True, metavar="DIR",
                    help="the evaluation set's mixtures (its soundscape/ folder, or the data set holding it)")
    ap.add_argument("--dev-soundscape-dir", metavar="DIR",
                    help="the dev set's test-split mixtures: dev_set_test_results.json must cover each once (2026)")
    ap.add_argument("--edition", type=check_edition, choices=EDITIONS, default=None,
                    help="check as this edition (default: the form of the submission's name)")
    return ap


def _main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    verdict = validate(args.submission, args.soundscape_dir, args.edition, args.dev_soundscape_dir)
    for note in verdict.notes:
        print(f"note: {note}", file=sys.stderr)
    if not verdict.ok:
        for problem in verdict.problems:
            print(problem, file=sys.stderr)
        print(f"{len(verdict.problems)} problem(s) in {args.submission}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"{args.submission}: no problems found")
    print("\n".join(verdict.summary()))
    return 0


main = command(_main)  # the one error boundary (common/errors.py): `error: …` and exit status 2


if __name__ == "__main__":
    sys.exit(main())
