"""The Python API: what the command line calls, and what a notebook uses.

    >>> model = hiergraph.compile_model("specs/rat_tumors.spec", data="specs/rat_tumors.R")
    >>> print(model.check())

``spec`` is a path to a model file or the model text itself; ``data`` and ``inits`` are a
dict of arrays, a path, or a list of paths (merged; a name given twice is an error).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from . import ast
from .binder import bind
from .compiler import Plan, compile_plan
from .engine import Draws, resolve_monitor, run
from .datafiles import DataValue, merge_data, read_data_file
from .diagram import plate_diagram, scalar_diagram
from .diagram_render import to_graphviz
from .errors import UsageError
from .initial_values import check_initial_values
from .model_graph import ModelGraph, NodeGroup
from .parser import parse, parse_file

MODEL_SUFFIXES = (".spec", ".bug", ".jags", ".txt", ".model")


def _looks_like_path(spec: str) -> bool:
    """A model's text has a relation (``~``, ``<-``, ``=``) or a block; a file name has none."""
    return not any(mark in spec for mark in ("\n", "{", "~", "<-", "="))


def _read_spec(spec: str | os.PathLike) -> ast.Program:
    if isinstance(spec, os.PathLike) or _looks_like_path(str(spec)):
        return parse_file(spec)
    return parse(str(spec), "<model>")


def _read_values(values, what: str) -> dict:
    """A dict of arrays, a path, or several paths, as one mapping of name to value."""
    if values is None:
        return {}
    if isinstance(values, Mapping):
        return dict(values)
    if isinstance(values, (str, os.PathLike)):
        values = [values]
    if isinstance(values, Sequence):
        return merge_data(read_data_file(path) for path in values)
    raise UsageError(f"{what} must be a dict of arrays, a file path or a list of file paths, "
                     f"not {type(values).__name__}")


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

    def sample(self, *, chains: int = 4, burn: int = 1000, iter: int = 1000, thin: int = 1,
               seed: int | None = None, monitor=None, overrides: dict | None = None) -> Draws:
        """Run ``chains`` chains: ``burn`` adapting sweeps, then ``iter`` sweeps keeping every
        ``thin``-th. ``monitor`` names what to keep (``["theta", "Y[2,1]", "deviance"]``);
        by default every latent stochastic node."""
        monitors = None if monitor is None else [resolve_monitor(self.graph, m) for m in
                                                 ([monitor] if isinstance(monitor, str) else monitor)]
        return run(self.graph, self.plan(chains, overrides), chains=chains, burn=burn,
                   iterations=iter, thin=thin, seed=seed, inits=self.inits, monitors=monitors)

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
    elif isinstance(inits, (Mapping, str, os.PathLike)):
        chains = [inits]
    else:
        chains = list(inits)
    inits_per_chain = [_read_values(one, "inits") for one in chains]
    warnings = list(graph.warnings)
    for values in inits_per_chain:
        warnings += check_initial_values(graph, values)
    return Model(program, graph, inits_per_chain, warnings)


__all__ = ["compile_model", "Model", "CheckReport", "DataValue", "Draws", "Plan"]
