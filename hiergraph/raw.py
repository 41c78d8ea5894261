"""Each unit's estimate from its own data alone: the no-pooling estimate that the shrinkage
plot and the method of moments start from.

y / n for binomial children, y / exposure for Poisson ones, the precision-weighted mean for
normal ones; with it, the unit's amount of data (n, exposure, or precision). The children
must read the node directly through their first parameter, linearly (``theta[j]``,
``n[j] * theta[j]``); the coefficients come from evaluating that parameter with the node
at 0 and at 1.
"""

from __future__ import annotations

import numpy as np

from .errors import UsageError
from .evaluator import evaluate
from .model_graph import ModelGraph

# child distribution -> (y, its parameters, intercept a, coefficient c) -> (numerator,
# denominator, size) per child: the raw estimate is sum(numerator) / sum(denominator), the size sum(size)
RAW = {
    "dbin": lambda y, p, a, c: (y - a * p[1], c * p[1], p[1]),
    "dpois": lambda y, p, a, c: (y - a, c, c),
    "dnorm": lambda y, p, a, c: (p[1] * c * (y - a), p[1] * c * c, p[1] * c * c),
}


def raw_estimates(graph: ModelGraph, node: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Own-data estimates and amounts of data of ``node``'s elements that have data, and
    those elements' flat positions (see the module doc)."""
    groups = [g for g in graph.groups if g.var == node]
    if not groups:
        raise UsageError(f"no raw estimates of '{node}': there is no such node")
    numerator, denominator, size = (np.zeros(graph.arrays[node].size) for _ in range(3))
    links = [(group, child) for group in groups for child in graph.groups
             if child.kind == "stochastic" and child.observed.all()
             and child.distribution.name in RAW and graph.graph.has_edge(group.name, child.name)]
    if not links:
        raise UsageError(f"no raw estimates of '{node}': no observed binomial, Poisson "
                         f"or normal node reads it")
    for group, child in links:
        a, c = (_first_parameter(graph, child, node, value) for value in (0.0, 1.0))
        c = c - a
        if not (np.isfinite(a).all() and np.isfinite(c).all()):
            raise UsageError(f"no raw estimates of '{node}': {child.name} reads other "
                             f"unknowns in its first parameter")
        params = [np.broadcast_to(evaluate(p, graph.fixed_values), (child.size,)) for p in child.params]
        y = graph.fixed_values[child.var][child.target.reshape(-1)]
        edge = graph.graph.edges[group.name, child.name]
        parents = group.target.reshape(-1)[edge["parent_rows"]]
        rows = edge["child_rows"]
        parts = RAW[child.distribution.name](y[rows], [p[rows] for p in params], a[rows], c[rows])
        for total, part in zip((numerator, denominator, size), parts):
            total += np.bincount(parents, part, len(total))
    used = np.flatnonzero(denominator > 0)
    return numerator[used] / denominator[used], size[used], used


def _first_parameter(graph: ModelGraph, child, node: str, value: float) -> np.ndarray:
    """``child``'s first parameter with every element of ``node`` set to ``value``."""
    values = dict(graph.fixed_values)
    values[node] = np.full(graph.arrays[node].size, value)
    with np.errstate(all="ignore"):
        return np.broadcast_to(evaluate(child.params[0], values), (child.size,))
