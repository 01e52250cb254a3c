"""The ``kplearn`` command.

Each command group lives in its own module that exposes
``register(subparsers)``; this module only wires them together. Help texts
are plain text (argparse prints them as written): each command's description
ends with an example, and every positional argument has a help line.

Examples
--------
>>> build_parser().prog
'kplearn'
>>> plural(1, "flip pair"), plural(3, "flip pair"), plural(2, "person", "people")
('1 flip pair', '3 flip pairs', '2 people')
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Command-group modules, in the order `kplearn --help` lists them.
COMMAND_MODULES = (
    "kplearn.cli.info",
    "kplearn.cli.data",
    "kplearn.cli.lessons",
    "kplearn.cli.train",
    "kplearn.cli.predict",
    "kplearn.cli.export",
    "kplearn.cli.assignments",
)


def plural(count: int, word: str, plural_word: str | None = None) -> str:
    """``"1 face"``, ``"2 faces"``: ``count`` and ``word`` in the right number."""
    return f"{count} {word if count == 1 else (plural_word or word + 's')}"


def _plain_help(parser: argparse.ArgumentParser) -> None:
    """Print every description and epilog of ``parser`` and its subcommands as written."""
    if parser.formatter_class is argparse.HelpFormatter:
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in set(action.choices.values()):
                _plain_help(sub)


def build_parser() -> argparse.ArgumentParser:
    from kplearn import __version__

    parser = argparse.ArgumentParser(
        prog="kplearn",
        description=(
            "Keypoint detection course and library: data, models, metrics, lessons.\n\n"
            "examples:\n"
            "  kplearn info                 # versions, device, where data and runs go\n"
            "  kplearn lessons run 01       # execute lesson 1 into build/lessons/\n"
            "  kplearn COMMAND --help       # each command's options and examples"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"kplearn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for mod in COMMAND_MODULES:
        importlib.import_module(mod).register(sub)
    _plain_help(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly, as Unix tools do.
        sys.stderr.close()
        return 0
    except (ValueError, FileNotFoundError, KeyError) as err:
        # Bad input is the user's to fix: say what, without a traceback.
        msg = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"kplearn {args.command}: error: {msg}", file=sys.stderr)
        return 2
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
