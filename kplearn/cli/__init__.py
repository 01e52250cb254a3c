"""The ``kplearn`` command.

Each command group lives in its own module that exposes
``register(subparsers)``; this module only wires them together.

Examples
--------
    kplearn data list
    kplearn data stats synthetic-faces --json
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Command-group modules, in the order `kplearn --help` lists them.
COMMAND_MODULES = (
    "kplearn.cli.data",
    "kplearn.cli.lessons",
    "kplearn.cli.train",
    "kplearn.cli.assignments",
)


def build_parser() -> argparse.ArgumentParser:
    from kplearn import __version__

    parser = argparse.ArgumentParser(
        prog="kplearn",
        description="Keypoint detection course and library: data, models, metrics, lessons.",
    )
    parser.add_argument("--version", action="version", version=f"kplearn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for mod in COMMAND_MODULES:
        importlib.import_module(mod).register(sub)
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
