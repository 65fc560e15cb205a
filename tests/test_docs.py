"""The docs stay honest: every relative link in README.md and docs/ resolves (files and #anchors), every page
is reachable from the README, and every command the docs show in a code block parses with its runner's own
argument parser (nothing runs: parsing stops before the runner's work)."""
from __future__ import annotations

import argparse
import importlib
import re
import shlex
import unicodedata
from pathlib import Path

import pytest
from conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", flags=re.M | re.S)
# Placeholders in shown commands and what a parser gets for them (ints where the option takes a count or seed).
PLACEHOLDERS = {"N": "4", "S": "1", "J": "2"}
COMMAND_STARTS = ("python runners/", "python -m s5bench.", "s5bench ", "s5bench\n", "torchrun ")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, code marks and punctuation dropped, spaces as hyphens.

    Args:
        heading: the heading's text without its leading #s.

    Returns:
        The anchor, e.g. "the-cpu-size-class-self_guided_cpu-baseline_cpu".
    """
    text = heading.strip().lower().replace("`", "")
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text())
    return {slug(m) for m in re.findall(r"^#{1,6}\s+(.*)$", text, flags=re.M)}


def links(page: Path) -> list[str]:
    return [m for m in LINK.findall(FENCE.sub("", page.read_text())) if not re.match(r"[a-z]+:", m)]


def test_slug_follows_github():
    assert slug("The CPU size class (`self_guided_cpu`, `baseline_cpu`)") == \
        "the-cpu-size-class-self_guided_cpu-baseline_cpu"
    assert slug("§5 Published figures") == "5-published-figures"
    assert slug("Speed (CPU, real-time factor)") == "speed-cpu-real-time-factor"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    bad = []
    for link in links(page):
        target, _, anchor = link.partition("#")
        path = (page.parent / target).resolve() if target else page
        if not path.exists():
            bad.append(f"{link}: no file {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            bad.append(f"{link}: no heading #{anchor} in {path.relative_to(ROOT)}")
    assert not bad, f"{page.relative_to(ROOT)}: " + "; ".join(bad)


def test_every_docs_page_is_reachable_from_the_readme():
    seen, todo = set(), [ROOT / "README.md"]
    while todo:
        page = todo.pop()
        if page in seen:
            continue
        seen.add(page)
        for link in links(page):
            target = (page.parent / link.partition("#")[0]).resolve()
            if target.suffix == ".md" and target.is_file() and target.is_relative_to(ROOT / "docs"):
                todo.append(target)
    assert set(PAGES) - seen == set(), sorted(str(p.relative_to(ROOT)) for p in set(PAGES) - seen)


def test_the_readme_is_short():
    assert len((ROOT / "README.md").read_bytes()) <= 12 * 1024


def code_lines(page: Path) -> list[tuple[int, str]]:
    """The lines of a page's code blocks (fenced, or indented by four spaces after a blank line), numbered."""
    lines, out, fenced, indented = page.read_text().splitlines(), [], False, False
    for number, line in enumerate(lines, 1):
        if line.startswith("```"):
            fenced = not fenced
            continue
        previous = lines[number - 2] if number > 1 else ""
        indented = line.startswith("    ") and (indented or not previous.strip())
        if fenced or indented:
            out.append((number, line.strip()))
    return out


def shown_commands() -> list[tuple[str, str]]:
    """(where, command) for every runner or s5bench command shown in a code block; `a && b` split."""
    found = []
    for page in PAGES:
        for number, line in code_lines(page):
            for part in line.split("&&"):
                part = part.strip()
                if part.startswith(COMMAND_STARTS) or part == "s5bench":
                    found.append((f"{page.relative_to(ROOT)}:{number}", part))
    return found


def argv_of(command: str) -> tuple[str, list[str]]:
    """The module that handles a shown command and the arguments its parser gets, placeholders substituted.

    Args:
        command: e.g. "python runners/ablation.py --all [--data DIR] [--n 100]".

    Returns:
        (module name, argv): "s5bench.runners.ablation", ["--all", "--data", "DIR", "--n", "100"]. Optional
        groups in [ ] are shown with their options (so those are checked too), `…` is dropped, `<x>` and
        `$VAR` become plain values, N / S / J become numbers.
    """
    from s5bench.runners.cli import COMMANDS

    text = re.sub(r"<[^>]+>", "placeholder", command.replace("[", " ").replace("]", " "))
    text = re.sub(r"\$\{?(\w+)\}?", r"/tmp/\1", text)
    tokens = [PLACEHOLDERS.get(t, t) for t in shlex.split(text, comments=True) if t not in ("…", "...")]
    if tokens[0] == "torchrun":
        tokens = ["python", *tokens[next(i for i, t in enumerate(tokens) if t.endswith(".py")):]]
    if tokens[0] == "s5bench":
        if len(tokens) == 1 or tokens[1].startswith("-"):
            return "s5bench.runners.cli", tokens[1:]
        assert tokens[1] in COMMANDS, f"s5bench has no command {tokens[1]!r}"
        return f"s5bench.runners.{COMMANDS[tokens[1]]}", tokens[2:]
    if tokens[1] == "-m":
        return tokens[2], tokens[3:]
    script = Path(tokens[1])
    assert script.parent == Path("runners") and (ROOT / script).is_file(), f"no runner {script}"
    return f"s5bench.runners.{script.stem}", tokens[2:]


class Parsed(BaseException):
    """Raised in place of a runner's work once its arguments have parsed (a BaseException, so that an error
    boundary around a runner's main that catches Exception lets it through)."""


def parse(module_name: str, argv: list[str], monkeypatch) -> argparse.Namespace | None:
    """Parse argv with the module's own parser. A module with `build_parser()` is asked for it; otherwise
    its `main(argv)` runs up to its parse, which is made to stop there (the runners build their parser
    inside `main`). `parse_known_args` is the method patched, as `parse_args` goes through it; arguments left
    over are an error there, as `parse_args` makes them."""
    module = importlib.import_module(module_name)
    if module_name == "s5bench.runners.cli":
        assert module.main(argv) == 0
        return None
    if hasattr(module, "build_parser"):
        return module.build_parser().parse_args(argv)
    original = argparse.ArgumentParser.parse_known_args

    def parse_then_stop(self, args=None, namespace=None):
        namespace, extras = original(self, args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        raise Parsed(namespace)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_known_args", parse_then_stop)
    with pytest.raises(Parsed) as parsed:
        module.main(argv)
    return parsed.value.args[0]


def test_substitution_rules():
    assert argv_of("python runners/generate.py --config CONFIG --out DIR --n N --seed S [--plot]") == \
        ("s5bench.runners.generate", ["--config", "CONFIG", "--out", "DIR", "--n", "4", "--seed", "1", "--plot"])
    assert argv_of("torchrun --nproc_per_node N runners/ablation.py --all --device cuda   # N ranks") == \
        ("s5bench.runners.ablation", ["--all", "--device", "cuda"])
    assert argv_of("s5bench run --system <yours> --data $S5_DEV_SET …") == \
        ("s5bench.runners.run_system", ["--system", "placeholder", "--data", "/tmp/S5_DEV_SET"])


def test_a_wrong_option_is_caught(monkeypatch, capsys):
    """The check can fail: an option the runner does not have stops the parse."""
    with pytest.raises(SystemExit) as exit_:
        parse(*argv_of("python runners/ablation.py --all --nn 100"), monkeypatch)
    assert exit_.value.code == 2 and "--nn" in capsys.readouterr().err


def test_the_docs_show_the_main_commands():
    shown = {command for _, command in shown_commands()}
    assert "python runners/ablation.py --all --n 100" in shown  # the README's first command
    assert any(c.startswith("python runners/evaluate.py") for c in shown)
    assert len(shown) >= 20


@pytest.mark.parametrize("where,command", shown_commands(), ids=lambda x: x if ":" in x else "")
def test_every_shown_command_parses(where, command, monkeypatch, capsys):
    module_name, argv = argv_of(command)
    try:
        args = parse(module_name, argv, monkeypatch)
    except SystemExit as exit_:
        pytest.fail(f"{where}: `{command}` does not parse: {capsys.readouterr().err.strip()} (exit {exit_.code})")
    assert module_name == "s5bench.runners.cli" or isinstance(args, argparse.Namespace)


def test_every_cited_section_of_the_task_description_exists_in_the_docs():
    """docs/ cites docs/task.md by section (`docs/task.md §4`); each cited section is a heading there."""
    headings = set(re.findall(r"^## §(\d+)", (ROOT / "docs" / "task.md").read_text(), flags=re.M))
    cited = {n for page in PAGES for group in re.findall(r"task\.md\)? \(?§([\d§, \-and]+)", page.read_text())
             for n in re.findall(r"\d+", group)}
    assert cited and cited <= headings, sorted(cited - headings)
