"""Every `kplearn` help renders as plain text, with an example, and every positional has help."""

from __future__ import annotations

import argparse
import re

import pytest

from kplearn.cli import build_parser, main, plural


def _commands(parser, path=("kplearn",)):
    yield " ".join(path), parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*path, name))


COMMANDS = dict(_commands(build_parser()))


def test_the_commands_a_new_user_needs_are_there():
    assert {"kplearn info", "kplearn lessons run", "kplearn train", "kplearn evaluate",
            "kplearn predict", "kplearn data list"} <= set(COMMANDS)  # fmt: skip


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_is_plain_text_with_an_example(name):
    text = COMMANDS[name].format_help()
    assert "``" not in text, "reStructuredText literal"
    assert not re.search(r":(func|mod|class|meth|data|attr):`", text), "Sphinx role"
    assert not re.search(r"^\s*[-=~]{3,}\s*$", text, re.M), "section underline"
    assert re.search(r"^examples?:$", text, re.M | re.I), "no 'example:' paragraph"
    assert f"\n  {name} " in text or f"\n  {name}\n" in text, "no example of this command"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_positional_argument_has_help(name):
    for action in COMMANDS[name]._actions:
        if not action.option_strings and not isinstance(action, argparse._SubParsersAction):
            assert action.help, f"{name}: positional {action.metavar or action.dest} has no help"


def test_train_help_renders_through_main(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "--overwrite" in out and "kplearn train --data synthetic-faces" in out


def test_plural():
    assert [plural(n, "flip pair") for n in (0, 1, 2)] == ["0 flip pairs", "1 flip pair", "2 flip pairs"]
