"""The Python API: what the command line calls, and what a notebook uses.

    >>> model = hiergraph.compile_model("specs/rat_tumors.spec", data="specs/rat_tumors.R")
    >>> print(model.check())
    >>> idata = model.sample(chains=4, burn=1000, iter=1000, seed=1)   # arviz.InferenceData

``spec`` is a path to a model file or the model text itself; ``data`` and ``inits`` are a
dict of arrays, a pandas DataFrame (its columns), a path, or a list of those (merged; a
name given twice is an error).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from . import ast, empirical_bayes, plots, ppc
from .binder import bind
from .compiler import Plan, compile_plan
from .engine import Draws, check_run_lengths
from .datafiles import DataValue, merge_data, read_data_file
from .diagram import plate_diagram, scalar_diagram
from .diagram_render import to_graphviz
from .errors import UsageError
from .inference_data import to_inference_data
from .initial_values import check_initial_values
from .model_graph import ModelGraph, NodeGroup
from .outputs import Output
from .parser import parse, parse_file
from .progress import Progress
from .sampling import SamplingInterrupted, resolve_monitors, sample

MODEL_SUFFIXES = (".spec", ".bug", ".jags", ".txt", ".model")


def _looks_like_path(spec: str) -> bool:
    """A model's text has a relation (``~``, ``<-``, ``=``) or a block; a file name has none."""
    return not any(mark in spec for mark in ("\n", "{", "~", "<-", "="))


def _read_spec(spec: str | os.PathLike) -> ast.Program:
    if isinstance(spec, os.PathLike) or _looks_like_path(str(spec)):
        return parse_file(spec)
    return parse(str(spec), "<model>")


def _is_path(value) -> bool:
    return isinstance(value, (str, os.PathLike))


def _data_frame(frame) -> dict:
    """A pandas DataFrame's columns as vectors; NaN and None are missing values."""
    columns = {}
    for name in frame.columns:
        try:
            columns[str(name)] = frame[name].to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError):
            raise UsageError(f"the data frame's column '{name}' is not numbers; pass only the "
                             f"columns the model uses, e.g. frame[['y', 'x']]") from None
    return columns


def _source(value, what: str) -> dict:
    if _is_path(value):
        return read_data_file(value)
    if isinstance(value, Mapping):
        return dict(value)
    if hasattr(value, "columns") and hasattr(value, "to_numpy"):
        return _data_frame(value)
    raise UsageError(f"{what} must be a dict of arrays, a pandas DataFrame, a file path or a list "
                     f"of those, not {type(value).__name__}")


def _read_values(values, what: str) -> dict:
    """A dict of arrays, a DataFrame, a path, or a list of those, as one mapping of name to value.

    Files alone are merged by :func:`merge_data`, whose errors point into them."""
    if values is None:
        return {}
    sources = values if isinstance(values, Sequence) and not _is_path(values) else [values]
    if all(_is_path(source) for source in sources):
        return merge_data(read_data_file(path) for path in sources)
    merged: dict = {}
    for part in (_source(source, what) for source in sources):
        twice = sorted(part.keys() & merged.keys())
        if twice:
            raise UsageError(f"'{twice[0]}' is given twice in the {what}")
        merged.update(part)
    return merged


def _outputs(out, formats) -> list[Output]:
    """``out`` as a list of :class:`Output`: None, a folder (with ``formats``), or Outputs."""
    if out is None:
        return []
    if isinstance(out, Output):
        return [out]
    if _is_path(out):
        return [Output(out, (formats,) if isinstance(formats, str) else tuple(formats))]
    return list(out)


@dataclass(frozen=True)
class CheckReport:
    """What ``hiergraph check`` prints: JAGS's node counts, then one line per node group."""

    observed: int
    unobserved: int
    total: int
    rows: tuple[tuple[str, str, str, str, str], ...]

    HEADER = ("node group", "kind", "distribution", "shape", "observed")

    def __str__(self) -> str:
        lines = [f"Observed stochastic nodes: {self.observed}",
                 f"Unobserved stochastic nodes: {self.unobserved}",
                 f"Total graph size: {self.total}", ""]
        table = [self.HEADER, *self.rows]
        widths = [max(len(row[i]) for row in table) for i in range(len(self.HEADER))]
        lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]
        return "\n".join(lines)


def _group_shape(group: NodeGroup) -> str:
    """The loops' extents when they form a grid (``30x5``), else the node count; then the value shape."""
    extents = [len(np.unique(group.loop_values[loop.index])) for loop in group.loops]
    grid = extents if extents and int(np.prod(extents)) == group.size else [group.size]
    text = "x".join(map(str, grid))
    if group.value_shape:
        text += f" of [{'x'.join(map(str, group.value_shape))}]"
    return text


class Model:
    """A model bound to its data: the checked :class:`ModelGraph`, and its initial values."""

    def __init__(self, program: ast.Program, graph: ModelGraph, inits: list[dict], warnings=()):
        self.program = program
        self.graph = graph
        self.inits = inits
        self.warnings = list(warnings)

    def plan(self, chains: int = 1, overrides: dict | None = None) -> Plan:
        """The compiled Plan: each latent group's sampler. ``overrides`` forces samplers by
        group name, e.g. ``{"theta[j]": "slice"}``."""
        return compile_plan(self.graph, chains, overrides)

    @property
    def samplers(self) -> Plan:
        return self.plan()

    def sample(self, **options):
        """Sample, and return the draws as ArviZ's ``InferenceData``: groups ``posterior``,
        ``sample_stats`` (``deviance``), ``observed_data`` and ``constant_data``. The options
        are :meth:`draws`'s: ``chains``, ``burn``, ``iter``, ``thin``, ``seed``, ``monitor``,
        ``overrides``, ``out``, ``formats``, ``progress``, ``backend``, ``cores``."""
        return self.inference_data(self.draws(**options))

    def draws(self, *, chains: int = 4, burn: int = 1000, iter: int = 1000, thin: int = 1,
              seed: int | None = None, monitor=None, overrides: dict | None = None,
              out=None, formats=("coda",), progress: bool | Progress | None = False,
              backend: str = "auto", cores: int | None = None) -> Draws:
        """Run ``chains`` chains: ``burn`` sweeps in which the samplers adapt, then ``iter``
        sweeps keeping every ``thin``-th; the monitored draws as plain arrays.

        ``monitor`` names what to keep (``["theta", "theta[1:3]", "Y[2,1]", "deviance"]``);
        by default every latent stochastic node. ``overrides`` forces samplers, as in
        :meth:`plan`. ``out``, a folder, receives the draws in ``formats`` (``coda``, ``csv``,
        ``netcdf``) while they are made (or give :class:`~hiergraph.outputs.Output` objects).
        ``progress`` shows the phase, speed and time left on stderr (None: when stderr is a
        terminal). Ctrl-C stops after the current sweep, writes what was drawn, and raises
        :class:`~hiergraph.sampling.SamplingInterrupted` (a KeyboardInterrupt) whose
        ``draws`` hold it. ``backend``: ``numba`` runs the sweeps compiled (:mod:`hiergraph.jit`),
        ``numpy`` in the numpy engine, ``auto`` compiled where numba is installed and compiles
        every step of the plan. The numba backend runs up to ``cores`` chains at once, each in
        its own thread (None: as many as this process may use), with the same draws as one
        at a time.
        """
        check_run_lengths(chains, burn, iter, thin)
        monitors = resolve_monitors(self.graph, monitor)
        display = progress if isinstance(progress, Progress) else Progress(progress)
        try:
            return sample(self.graph, self.plan(chains, overrides), chains=chains, burn=burn,
                          iterations=iter, thin=thin, seed=seed, inits=self.inits,
                          monitors=monitors, outputs=_outputs(out, formats),
                          convert=self.inference_data, progress=display, backend=backend,
                          cores=cores)
        finally:
            if display is not progress:
                display.close()

    def ppc(self, statistics=("mean",), draws: Draws | None = None, **options):
        """Posterior predictive checks (:mod:`hiergraph.ppc`): every observed node replicated
        from the posterior, each statistic (``mean``, ``sd``, ``min``, ``max``, ``median``,
        ``zeros``) on data and replicates, and its Bayesian p-value. Uses ``draws`` if given
        (they must monitor every latent node), else runs :meth:`draws` with ``options``."""
        if draws is None:
            draws = self.draws(**options)
        return ppc.check(self.graph, draws, tuple(statistics), seed=draws.seed)

    def plot(self, kind: str, path, nodes=None, statistics=("mean",), draws: Draws | None = None,
             **options):
        """Draw a run into the file ``path`` (.png, .svg, .pdf) with :mod:`hiergraph.plots`:
        ``kind`` is ``trace`` or ``density`` of ``nodes`` (default: the scalar latent nodes),
        ``shrinkage`` of one array ``nodes`` (e.g. ``"theta"``), or ``ppc`` (the histograms of
        the replicated ``statistics``). Uses ``draws`` if given, else runs :meth:`draws`
        with ``options``; returns the path written."""
        nodes = plots.nodes_to_plot(self.graph, kind, nodes)
        if draws is None:
            draws = self.draws(**{"monitor": nodes or None, **options})
        if kind == "ppc":
            return plots.ppc_histogram(self.ppc(statistics, draws=draws), path)
        if kind == "shrinkage":
            return plots.shrinkage(self.graph, draws, nodes[0], path)
        return plots.PLOTS[kind](self.inference_data(draws), nodes, path)

    def empirical_bayes(self, hypers, method: str = "mle") -> empirical_bayes.Estimates:
        """Estimate the hyperparameters ``hypers`` (node names) from the marginal likelihood,
        the conjugate layer below them integrated out (:mod:`hiergraph.empirical_bayes`);
        ``method`` is ``mle`` (with standard errors) or ``moments``. To sample the rest with
        them fixed: ``compile_model(spec, data=[data, estimates.as_data()]).draws(...)``."""
        return empirical_bayes.estimate(self.graph, self.plan(1), hypers, method)

    def inference_data(self, draws: Draws):
        """Draws (from :meth:`draws`, or a stopped run's ``SamplingInterrupted.draws``) as
        ``arviz.InferenceData``, with this model's data and loop names."""
        return to_inference_data(draws, self.graph)

    def check(self) -> CheckReport:
        rows = []
        for group in self.graph.groups:
            stochastic = group.kind == "stochastic"
            rows.append((group.name, group.kind,
                         group.distribution.name if stochastic else "-",
                         _group_shape(group),
                         f"{group.n_observed}/{group.size}" if stochastic else "-"))
        return CheckReport(self.graph.observed_count, self.graph.unobserved_count,
                           self.graph.total_graph_size, tuple(rows))

    def to_graphviz(self, samplers: bool = True, expand: bool = False):
        """The plate diagram as a ``graphviz.Digraph`` (Jupyter shows it inline), with each
        latent group's sampler unless ``samplers`` is False; ``expand`` draws every scalar
        node instead, without plates or samplers, for small models only."""
        if expand:
            return to_graphviz(scalar_diagram(self.graph))
        return to_graphviz(plate_diagram(self.graph, self.plan() if samplers else None))


def compile_model(spec: str | os.PathLike, data=None, inits=None) -> Model:
    """Parse, bind and check a model; raise a :class:`~hiergraph.errors.HiergraphError` if it is wrong.

    ``inits`` may be one set of initial values for every chain or a list with one per chain
    (each a dict or a path).
    """
    program = _read_spec(spec)
    graph = bind(program, _read_values(data, "data"))
    if inits is None:
        chains = []
    elif _is_path(inits) or not isinstance(inits, Sequence):  # one set (a dict, a file) for all
        chains = [inits]
    else:
        chains = list(inits)
    inits_per_chain = [_read_values(one, "inits") for one in chains]
    warnings = list(graph.warnings)
    for values in inits_per_chain:
        warnings += check_initial_values(graph, values)
    return Model(program, graph, inits_per_chain, warnings)


__all__ = ["compile_model", "Model", "CheckReport", "DataValue", "Draws", "Output", "Plan",
           "SamplingInterrupted"]
