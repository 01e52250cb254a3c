r"""Pieces shared by the ``kplearn`` command modules: sub-commands with examples, argument types.

Each command module keeps its commands' help texts as printed, in one table
(``_HELP``): a summary line, the description, and its examples, which every
command's help ends with (``tests/test_cli_help.py`` checks it).

Examples
--------
>>> import argparse
>>> sub = argparse.ArgumentParser(prog="kplearn").add_subparsers()
>>> p = add_command(sub, "hello", print, "greet\n\nSay hello.\n\nexample:\n  kplearn hello\n")
>>> print(p.description)
Say hello.
<BLANKLINE>
example:
  kplearn hello
>>> positive_int("3"), positive_float("0.5")
(3, 0.5)
>>> positive_int("0")
Traceback (most recent call last):
...
argparse.ArgumentTypeError: expected a positive integer, got 0
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeVar

__all__ = [
    "LESSON_DIR_HELP",
    "add_command",
    "add_lesson_dir",
    "options",
    "positive",
    "positive_float",
    "positive_int",
]

#: Help of ``--dir``, the lesson folder of the commands that read the course's notebooks.
LESSON_DIR_HELP = "lesson folder (default: notebooks/ of the checkout)"

_Number = TypeVar("_Number", int, float)


def positive(
    convert: Callable[[str], _Number], what: str, unreadable: str | None = None
) -> Callable[[str], _Number]:
    """An argparse ``type``: ``convert(text)``, refused unless it is greater than 0.

    Parameters
    ----------
    convert : callable
        ``int`` or ``float``.
    what : str
        What is expected, for the messages (``"a positive integer"``).
    unreadable : str, optional
        What is expected when ``text`` is not a number at all (default ``what``).
    """

    def parse(text: str) -> _Number:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {unreadable or what}, got {text!r}"
            ) from None
        if not value > 0:  # NaN is refused too
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value

    return parse


positive_int = positive(int, "a positive integer")
positive_float = positive(float, "a positive number")


def add_command(
    subparsers,
    name: str,
    func: Callable[[argparse.Namespace], int] | None,
    text: str,
    examples_last: bool = False,
) -> argparse.ArgumentParser:
    """Add sub-command ``name``, run by ``func(args)`` (``None``: a group of sub-commands).

    Parameters
    ----------
    subparsers
        What ``add_subparsers()`` returned.
    name : str
        The command's name.
    func : callable or None
        Run with the parsed arguments; ``None`` for a group whose own sub-commands set it.
    text : str
        The help as printed: a one-line summary (what the parent's help lists), a blank
        line, then the description, which ends with its ``examples:`` paragraph.
    examples_last : bool
        Print the examples after the options (as the epilog) instead.
    """
    summary, _, description = text.partition("\n\n")
    description, epilog = description.rstrip("\n"), None
    if examples_last:
        description, _, examples = description.rpartition("\n\nexample")
        epilog = f"example{examples}\n"
    parser = subparsers.add_parser(
        name,
        help=summary,
        description=description,
        epilog=epilog,
        # Printed as written: the texts are laid out by hand (see kplearn.cli._plain_help).
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if func is not None:
        parser.set_defaults(func=func)
    return parser


def add_lesson_dir(parser: argparse.ArgumentParser) -> None:
    """Add ``--dir``, the folder the course's lessons are read from."""
    parser.add_argument("--dir", help=LESSON_DIR_HELP)


def options(args: argparse.Namespace, *names: str) -> dict[str, object]:
    """``{name: args.name}``: parsed options passed on under their own names."""
    return {name: getattr(args, name) for name in names}
