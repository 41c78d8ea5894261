"""The ``hiergraph`` command: argument parsing and calls into the Python API, nothing more.

A user's mistake (a bad model, data file or option) prints one clear message and exits with
status 1; ``--debug`` shows the Python traceback instead. Anything else is a bug in
hiergraph and says so.
"""

from __future__ import annotations

import argparse
import os
import sys

from . import __version__
from .api import compile_model
from .errors import HiergraphError

EXAMPLES = {
    "check": "hiergraph check specs/rat_tumors.spec --data specs/rat_tumors.R",
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line and exit status 2, like every other error."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n(see '{self.prog} --help')\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hiergraph",
        description="Hierarchical Bayesian models in the BUGS language (JAGS dialect).",
        epilog="example:\n  " + "\n  ".join(EXAMPLES.values()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"hiergraph {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    check = commands.add_parser(
        "check", help="parse, bind and check a model with its data; print node counts",
        description="Parse the model, bind it to its data and check it; print JAGS's node "
                    "counts and one line per node group.",
        epilog=f"example:\n  {EXAMPLES['check']}",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("model", metavar="MODEL", help="model file (.spec, .bug, .jags)")
    check.add_argument("--data", metavar="FILE", action="append", default=[],
                       help="data file (R dump, BUGS list, JSON or CSV); may be repeated")
    check.add_argument("--inits", metavar="FILE", action="append", default=[],
                       help="initial values, one file per chain; may be repeated")
    for sub in (check,):
        sub.add_argument("--debug", action="store_true", help="show Python tracebacks")
    return parser


def _check(args) -> int:
    model = compile_model(args.model, data=args.data or None, inits=args.inits or None)
    for warning in model.warnings:
        print(warning, file=sys.stderr)
    print(model.check())
    return 0


COMMANDS = {"check": _check}


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return COMMANDS[args.command](args)
    except HiergraphError as error:
        if args.debug:
            raise
        print(error, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("hiergraph: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (``hiergraph check ... | head``)
        sys.stdout = open(os.devnull, "w")
        return 0
    except Exception as error:  # a bug in hiergraph, not the user's mistake
        if args.debug:
            raise
        print(f"hiergraph: internal error: {type(error).__name__}: {error}\n"
              f"This is a bug in hiergraph; run again with --debug for the traceback and "
              f"please report it.", file=sys.stderr)
        return 3
