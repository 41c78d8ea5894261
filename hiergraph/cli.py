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
from pathlib import Path

from .api import compile_model
from .coda import write_coda
from .diagram import EXPAND_LIMIT
from .diagram_render import FORMATS, write_diagram
from .summary import summary_table
from .errors import HiergraphError

EXAMPLES = {
    "check": "hiergraph check specs/rat_tumors.spec --data specs/rat_tumors.R",
    "compile": "hiergraph compile specs/rat_tumors.spec --data specs/rat_tumors.R",
    "sample": ("hiergraph sample specs/rat_tumors.spec --data specs/rat_tumors.R --chains 4 "
               "--burn 1000 --iter 2000 --seed 1 --out out --format coda"),
    "graph": "hiergraph graph specs/rat_tumors.spec --data specs/rat_tumors.R -o rat_tumors.svg",
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
    compile_ = commands.add_parser(
        "compile", help="show the sampler each node group gets, and why",
        description="Compile the model into its Gibbs plan and print, for each latent node "
                    "group, the sampler, how many elements in how many vectorised steps, and "
                    "why no conjugate rule applied where none did.",
        epilog=f"example:\n  {EXAMPLES['compile']}",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sample = commands.add_parser(
        "sample", help="run the Gibbs sampler and write the draws",
        description="Compile the model and run several chains; write the monitored draws.",
        epilog=f"example:\n  {EXAMPLES['sample']}",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    graph = commands.add_parser(
        "graph", help="draw the model as a plate diagram",
        description="Draw the model's hierarchy as a plate diagram: one node per node group, "
                    "for loops as plates, each latent group's sampler; with --expand, every "
                    "scalar node instead.",
        epilog=f"example:\n  {EXAMPLES['graph']}",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    for sub in (check, compile_, sample, graph):
        sub.add_argument("model", metavar="MODEL", help="model file (.spec, .bug, .jags)")
        sub.add_argument("--data", metavar="FILE", action="append", default=[],
                         help="data file (R dump, BUGS list, JSON or CSV); may be repeated")
        sub.add_argument("--inits", metavar="FILE", action="append", default=[],
                         help="initial values, one file per chain (or one for all); may be repeated")
    sample.add_argument("--chains", type=int, default=4, metavar="N", help="number of chains (4)")
    sample.add_argument("--burn", type=int, default=1000, metavar="B",
                        help="burn-in sweeps, during which samplers adapt (1000)")
    sample.add_argument("--iter", type=int, default=1000, metavar="I",
                        help="sweeps after burn-in (1000)")
    sample.add_argument("--thin", type=int, default=1, metavar="K", help="keep every K-th sweep (1)")
    sample.add_argument("--monitor", action="append", default=None, metavar="NAME",
                        help="node to keep, e.g. theta, theta[3], Y[2,1:5], deviance; may be "
                             "repeated (default: every latent stochastic node)")
    sample.add_argument("--seed", type=int, default=None, metavar="S", help="random seed")
    sample.add_argument("--out", required=True, metavar="DIR", help="output folder")
    sample.add_argument("--format", choices=["coda"], default="coda", help="output format (coda)")
    graph.add_argument("-o", "--output", required=True, metavar="OUT",
                       help=f"the diagram file; its ending ({', '.join(FORMATS)}) picks the format")
    graph.add_argument("--samplers", action=argparse.BooleanOptionalAction, default=True,
                       help="show each latent group's sampler (default: shown)")
    graph.add_argument("--expand", action="store_true",
                       help=f"draw every scalar node, without plates (models of at most "
                            f"{EXPAND_LIMIT} nodes)")
    for sub in (check, compile_, sample, graph):
        sub.add_argument("--debug", action="store_true", help="show Python tracebacks")
    return parser


def _check(args) -> int:
    print(_load(args).check())
    return 0


def _load(args):
    model = compile_model(args.model, data=args.data or None, inits=args.inits or None)
    for warning in model.warnings:
        print(warning, file=sys.stderr)
    return model


def _compile(args) -> int:
    print(_load(args).samplers)
    return 0


def _sample(args) -> int:
    model = _load(args)
    draws = model.sample(chains=args.chains, burn=args.burn, iter=args.iter, thin=args.thin,
                         seed=args.seed, monitor=args.monitor)
    written = write_coda(draws, args.out)
    print(summary_table(draws))
    print(f"\n{draws.values.shape[1]} draws per chain of {len(draws.labels)} monitored values from "
          f"{draws.chains} chains (seed {draws.seed}), written to {Path(args.out) / 'CODAindex.txt'} "
          f"and {len(written) - 1} chain file(s)")
    return 0


def _graph(args) -> int:
    dot = _load(args).to_graphviz(samplers=args.samplers, expand=args.expand)
    print(f"wrote {write_diagram(dot, args.output)}")
    return 0


COMMANDS = {"check": _check, "compile": _compile, "sample": _sample, "graph": _graph}


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
