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
from .engine import BACKENDS
from .jit import status as backend_status
from .jags_script import read_script
from .outputs import FORMATS as OUTPUT_FORMATS, Output, read_draws
from .progress import Progress
from .sampling import SamplingInterrupted
from .diagram import EXPAND_LIMIT
from .diagram_render import FORMATS, write_diagram
from .summary import summarise
from .errors import HiergraphError
from .plots import PLOTS
from .ppc import STATISTICS, check_statistics
from .empirical_bayes import METHODS

EXAMPLES = {
    "check": "hiergraph check specs/rat_tumors.spec --data specs/rat_tumors.R",
    "compile": "hiergraph compile specs/rat_tumors.spec --data specs/rat_tumors.R",
    "sample": ("hiergraph sample specs/rat_tumors.spec --data specs/rat_tumors.R --chains 4 "
               "--burn 1000 --iter 2000 --seed 1 --out out --monitor phi --monitor 'theta[1:3]' "
               "--format coda --format netcdf"),
    "summary": "hiergraph summary out",
    "run": "hiergraph run test1.cmd --seed 1",
    "graph": "hiergraph graph specs/rat_tumors.spec --data specs/rat_tumors.R -o rat_tumors.svg",
    "ppc": "hiergraph ppc specs/rat_tumors.spec --data specs/rat_tumors.R --stat mean,sd,max --seed 1",
    "plot": ("hiergraph plot shrinkage specs/rat_tumors.spec --data specs/rat_tumors.R --node theta "
             "--seed 1 -o shrinkage.png"),
    "eb": "hiergraph eb specs/rat_tumors.spec --data specs/rat_tumors.R --hyper phi,s --then-sample --seed 1",
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line and exit status 2, like every other error."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _command(commands, name: str, help: str, description: str) -> argparse.ArgumentParser:
    """A subcommand whose help ends with an example."""
    return commands.add_parser(name, help=help, description=description,
                               epilog=f"example:\n  {EXAMPLES[name]}",
                               formatter_class=argparse.RawDescriptionHelpFormatter)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hiergraph",
        description="Hierarchical Bayesian models in the BUGS language (JAGS dialect).",
        epilog="example:\n  " + "\n  ".join(EXAMPLES.values()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"hiergraph {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    check = _command(
        commands, "check", "parse, bind and check a model with its data; print node counts",
        "Parse the model, bind it to its data and check it; print JAGS's node counts and one "
        "line per node group.")
    compile_ = _command(
        commands, "compile", "show the sampler each node group gets, and why",
        "Compile the model into its Gibbs plan and print, for each latent node group, the "
        "sampler, how many elements in how many vectorised steps, and why no conjugate rule "
        "applied where none did.")
    sample = _command(
        commands, "sample", "run the Gibbs sampler, write the draws, print a summary",
        "Compile the model and run several chains; write the monitored draws as they are made "
        "(Ctrl-C keeps what was drawn) and print their summary with convergence diagnostics.")
    summary = _command(
        commands, "summary", "summarise saved draws (CODA, CSV or NetCDF)",
        "Print the summary table and convergence warnings of draws saved by 'hiergraph "
        "sample' or 'hiergraph run', or by JAGS (CODA files).")
    summary.add_argument("path", metavar="PATH",
                         help="an output folder (its newest draws are read), a CODA index file, "
                              "a .csv or a .nc file")
    summary.add_argument("--all", action="store_true", help="a row for every element of large arrays")
    run = _command(
        commands, "run", "run a JAGS command script (.cmd)",
        "Run a JAGS command script as JAGS does: model in, data in, compile, inits in, "
        "initialize, update, monitor, coda. CODA files go where JAGS writes them: the working "
        "directory, unless --out says otherwise.")
    run.add_argument("script", metavar="SCRIPT", help="the JAGS script, e.g. test1.cmd")
    run.add_argument("--out", default=".", metavar="DIR",
                     help="folder for the script's CODA files (the working directory)")
    graph = _command(
        commands, "graph", "draw the model as a plate diagram",
        "Draw the model's hierarchy as a plate diagram: one node per node group, for loops as "
        "plates, each latent group's sampler; with --expand, every scalar node instead.")
    ppc_ = _command(
        commands, "ppc", "posterior predictive checks: replicate the data, compare a statistic",
        "Sample the model, replicate every observed node from each draw, and compare each "
        "statistic of the data with its replicates; the p-value is P(T(y_rep) >= T(y) | y).")
    ppc_.add_argument("--stat", action="append", default=None, metavar="NAME[,NAME...]",
                      help=f"statistic: {', '.join(STATISTICS)}; may be repeated (mean)")
    plot = _command(
        commands, "plot", "draw a run: trace, density, shrinkage, or the ppc histogram",
        "Sample the model and draw one picture with matplotlib: the trace or posterior density "
        "of chosen nodes (ArviZ), the shrinkage of a node's elements (raw estimate against "
        "posterior mean, sized by their data), or the posterior predictive check's histogram.")
    plot.add_argument("kind", choices=PLOTS, help="what to draw")
    plot.add_argument("--node", action="append", default=None, metavar="NAME",
                      help="node(s) to draw: trace and density (default: the scalar latent "
                           "nodes), shrinkage (one array, required)")
    plot.add_argument("--stat", action="append", default=None, metavar="NAME[,NAME...]",
                      help="the ppc statistic(s) (mean)")
    plot.add_argument("-o", "--output", required=True, metavar="OUT",
                      help="the picture: .png, .svg or .pdf")
    eb = _command(
        commands, "eb", "empirical Bayes: estimate hyperparameters from the marginal likelihood",
        "Estimate the named hyperparameters by maximising the marginal likelihood of the data "
        "with the conjugate layer below them (beta-binomial, gamma-Poisson, normal-normal) "
        "integrated out, with standard errors from its curvature; or by the method of "
        "moments. --then-sample fixes them at the estimates and samples the rest.")
    eb.add_argument("--hyper", action="append", required=True, metavar="NAME[,NAME...]",
                    help="the hyperparameters (unobserved scalar nodes); may be repeated")
    eb.add_argument("--method", choices=METHODS, default="mle",
                    help="mle: maximum marginal likelihood (default); moments: method of moments")
    eb.add_argument("--then-sample", action="store_true",
                    help="then sample the other nodes with the hyperparameters fixed at the estimates")
    for sub in (check, compile_, sample, graph, ppc_, plot, eb):
        sub.add_argument("model", metavar="MODEL", help="model file (.spec, .bug, .jags)")
        sub.add_argument("--data", metavar="FILE", action="append", default=[],
                         help="data file (R dump, BUGS list, JSON or CSV); may be repeated")
        sub.add_argument("--inits", metavar="FILE", action="append", default=[],
                         help="initial values, one file per chain (or one for all); may be repeated")
    for sub in (sample, ppc_, plot, eb):
        sub.add_argument("--chains", type=int, default=4, metavar="N", help="number of chains (4)")
        sub.add_argument("--burn", type=int, default=1000, metavar="B",
                         help="burn-in sweeps, during which samplers adapt (1000)")
        sub.add_argument("--iter", type=int, default=1000, metavar="I",
                         help="sweeps after burn-in (1000)")
        sub.add_argument("--thin", type=int, default=1, metavar="K", help="keep every K-th sweep (1)")
    sample.add_argument("--monitor", action="append", default=None, metavar="NAME",
                        help="node to keep, e.g. theta, theta[3], Y[2,1:5], deviance; may be "
                             "repeated (default: every latent stochastic node)")
    sample.add_argument("--out", required=True, metavar="DIR",
                        help="output folder (draws saved there before are replaced)")
    sample.add_argument("--format", choices=OUTPUT_FORMATS, action="append", default=None,
                        help="coda (JAGS's CODAindex.txt, CODAchainK.txt), csv (draws.csv) or "
                             "netcdf (draws.nc, ArviZ's InferenceData); may be repeated (coda)")
    for sub in (sample, run, ppc_, plot, eb):
        sub.add_argument("--backend", choices=BACKENDS, default="auto",
                         help="numba: sweeps compiled to machine code (pip install "
                              "'hiergraph[fast]'); numpy: the numpy engine; auto (default): "
                              "numba where it is installed and compiles every step")
        sub.add_argument("--cores", type=int, default=None, metavar="N",
                         help="chains run at once by the numba backend (default: every core "
                              "this process may use); the draws do not depend on it")
        sub.add_argument("--seed", type=int, default=None, metavar="S",
                         help="random seed (default: a new one, printed)")
        sub.add_argument("--quiet", action="store_true", help="no progress line and no summary")
    graph.add_argument("-o", "--output", required=True, metavar="OUT",
                       help=f"the diagram file; its ending ({', '.join(FORMATS)}) picks the format")
    graph.add_argument("--samplers", action=argparse.BooleanOptionalAction, default=True,
                       help="show each latent group's sampler (default: shown)")
    graph.add_argument("--expand", action="store_true",
                       help=f"draw every scalar node, without plates (models of at most "
                            f"{EXPAND_LIMIT} nodes)")
    for sub in (check, compile_, sample, graph, summary, run, ppc_, plot, eb):
        sub.add_argument("--debug", action="store_true", help="show Python tracebacks")
    return parser


def _check(args) -> int:
    print(_load(args).check())
    return 0


def _load(args, progress: Progress | None = None):
    return _warned(compile_model(args.model, data=args.data or None, inits=args.inits or None),
                   progress)


def _warned(model, progress: Progress | None = None):
    """The model, once its warnings (unused data and the like) are on stderr."""
    for warning in model.warnings:
        if progress:
            progress.write(str(warning))
        else:
            print(warning, file=sys.stderr)
    return model


def _compile(args) -> int:
    model = _load(args)
    plan = model.plan()
    print(plan)
    print(f"\n{backend_status(model.graph, plan)}")
    return 0


def _sample(args) -> int:
    output = Output(args.out, tuple(args.format or ["coda"]))
    with Progress(False if args.quiet else None) as progress:
        model = _load(args, progress)
        return _sampled(args, progress, [output], lambda: model.draws(
            chains=args.chains, burn=args.burn, iter=args.iter, thin=args.thin, seed=args.seed,
            monitor=args.monitor, out=output, progress=progress, **_engine(args)))


def _run(args) -> int:
    script = read_script(args.script)
    with Progress(False if args.quiet else None) as progress:
        for note in script.notes:
            progress.write(note)
        model = _warned(script.compile(), progress)
        options = script.sampling(args.out)
        return _sampled(args, progress, options["out"], lambda: model.draws(
            **options, seed=args.seed, progress=progress, **_engine(args)))


def _sampled(args, progress: Progress, outputs: list[Output], draw) -> int:
    """Run ``draw()``, then print the summary and where the draws are; on Ctrl-C, the same
    for the draws made so far."""
    try:
        draws, status = draw(), 0
    except SamplingInterrupted as stop:
        draws, status = stop.draws, 130
        where = "; ".join(output.describe(draws.chains) for output in outputs) or "nowhere (no output)"
        progress.write(f"hiergraph: interrupted: {stop}; they are saved in {where}")
    if not args.quiet:
        progress.waiting("summarising")
        summary = summarise(draws) if draws.labels and draws.values.shape[1] else None
        progress.close()
        if summary:
            print(summary)
        print(f"\n{draws.values.shape[1]} draws per chain from {draws.chains} chains (seed "
              f"{draws.seed}) of {len(draws.labels)} monitored values" +
              "".join(f"\nsaved in {output.describe(draws.chains)}" for output in outputs))
    return status


def _summary(args) -> int:
    draws, source = read_draws(args.path)
    summary = summarise(draws)
    print("\n".join([summary.table(fold=not args.all), *summary.warnings()]))
    print(f"\n{draws.values.shape[1]} draws per chain from {draws.chains} chains of "
          f"{len(draws.labels)} values, read from {source}")
    return 0


def _graph(args) -> int:
    dot = _load(args).to_graphviz(samplers=args.samplers, expand=args.expand)
    print(f"wrote {write_diagram(dot, args.output)}")
    return 0


def _statistics(args) -> list[str]:
    return check_statistics(name.strip() for given in args.stat or ["mean"] for name in given.split(","))


def _engine(args) -> dict:
    return dict(backend=args.backend, cores=args.cores)


def _lengths(args) -> dict:
    return dict(chains=args.chains, burn=args.burn, iter=args.iter, thin=args.thin, seed=args.seed,
                **_engine(args))


def _ppc(args) -> int:
    statistics = _statistics(args)
    with Progress(False if args.quiet else None) as progress:
        checks = _load(args, progress).ppc(statistics, **_lengths(args), progress=progress)
    print(checks)
    return 0


def _plot(args) -> int:
    statistics = _statistics(args)
    with Progress(False if args.quiet else None) as progress:
        path = _load(args, progress).plot(args.kind, args.output, nodes=args.node,
                                          statistics=statistics, **_lengths(args), progress=progress)
    print(f"wrote {path}")
    return 0


def _eb(args) -> int:
    hypers = [name.strip() for given in args.hyper for name in given.split(",")]
    estimates = _load(args).empirical_bayes(hypers, args.method)
    print(estimates)
    if not args.then_sample:
        return 0
    print()
    fixed = compile_model(args.model, data=[*args.data, estimates.as_data()], inits=args.inits or None)
    with Progress(False if args.quiet else None) as progress:
        model = _warned(fixed, progress)
        return _sampled(args, progress, [], lambda: model.draws(**_lengths(args), progress=progress))


COMMANDS = {"check": _check, "compile": _compile, "sample": _sample, "graph": _graph,
            "summary": _summary, "run": _run, "ppc": _ppc, "plot": _plot, "eb": _eb}


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
