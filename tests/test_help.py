"""Case 6: every command's --help shows its examples as the `s5bench` command (a wheel has no runners/
folder), each example parses with the command's own parser, and every option says what it is."""
import argparse
import importlib

import pytest
from test_docs import argv_of, parse

from s5bench.runners.cli import COMMANDS


class Got(BaseException):
    """Raised in place of a runner's parse, carrying its parser."""


def parser_of(module_name: str, monkeypatch) -> argparse.ArgumentParser:
    """The runner's own parser (`build_parser`, or the one its main builds, caught at its parse)."""
    module = importlib.import_module(module_name)
    if hasattr(module, "build_parser"):
        return module.build_parser()

    def grab(self, args=None, namespace=None):
        raise Got(self)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_known_args", grab)
    with pytest.raises(Got) as got:
        module.main([])
    return got.value.args[0]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_examples_are_s5bench_commands_that_parse(command, monkeypatch, capsys):
    parser = parser_of(f"s5bench.runners.{COMMANDS[command]}", monkeypatch)
    monkeypatch.undo()
    text = parser.format_help()
    assert "python runners/" not in text  # (bench-gpu's `bash runners/gpu_session.sh` is a checkout's tool)
    examples = [line.strip() for line in (parser.description or "").splitlines()
                if line.strip().startswith(f"s5bench {command}")]
    assert examples, f"s5bench {command} --help shows no example"
    for example in examples:
        module_name, argv = argv_of(example.rstrip("\\").strip())
        if example.rstrip().endswith("\\"):  # a continued example: its first line is checked as a prefix only
            continue
        assert parse(module_name, argv, monkeypatch) is not None, example
        monkeypatch.undo()


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_says_what_it_is(command, monkeypatch):
    parser = parser_of(f"s5bench.runners.{COMMANDS[command]}", monkeypatch)
    silent = [a.option_strings[0] if a.option_strings else a.dest for a in parser._actions
              if not isinstance(a, argparse._HelpAction) and not a.help]
    assert not silent, f"s5bench {command}: options without help: {', '.join(silent)}"
