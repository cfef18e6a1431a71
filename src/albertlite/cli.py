"""The ``albertlite`` command line. Bad input ends with a one-line message and exit code 2."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

import albertlite
from albertlite.checkpoints.run_dir import on_command_line
from albertlite.commands import COMMAND_MODULES


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="albertlite", description="ALBERT for PyTorch, TensorFlow and Flax: train, fine-tune, run, convert."
    )
    parser.add_argument("--version", action="version", version=f"albertlite {albertlite.__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="Show library log messages and tracebacks.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        with on_command_line():  # messages name the flags, not the API's arguments
            return int(args.handler(args) or 0)
    except (ValueError, OSError, ImportError, KeyError, TypeError) as error:
        if args.verbose:
            raise
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"albertlite {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"albertlite {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
