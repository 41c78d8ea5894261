"""The sampler's state: every array's current values, all chains at once.

Arrays that vary during sampling (latent stochastic nodes and what is computed from them)
are ``(chains, size)``; arrays fixed by the data stay one flat ``(size,)`` array shared by
the chains, which numpy broadcasts against the chain axis in every gather.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from .evaluator import Ragged, evaluate
from .model_graph import ModelGraph, NodeGroup


def _dense(value):
    """A ragged parameter (``dcat(p[i, 1:K[i]])``) padded with zeros, which every
    distribution taking a vector of weights reads as "no such category"."""
    if not isinstance(value, Ragged):
        return value
    lengths, starts = value.lengths, value.starts
    width = int(lengths.max()) if len(lengths) else 0
    lead = value.values.shape[:-1]
    out = np.zeros(lead + (len(lengths), width))
    rows = np.repeat(np.arange(len(lengths)), lengths)
    within = np.arange(value.values.shape[-1]) - np.repeat(starts, lengths)
    out[..., rows, within] = value.values
    return out


class State:
    """Current values of every array of the model for ``chains`` chains."""

    def __init__(self, model: ModelGraph, chains: int):
        self.model = model
        self.chains = chains
        self.fixed = {g.name for g in model.groups if g.kind == "deterministic"
                      and not np.isnan(model.fixed_values[g.var][g.target]).any()}
        varying = {g.var for g in model.groups
                   if (g.kind == "stochastic" and not g.observed.all())
                   or (g.kind == "deterministic" and g.name not in self.fixed)}
        self.passes = {g.name: _passes(model, g) for g in model.groups if g.kind == "deterministic"}
        self.values: dict[str, np.ndarray] = {}
        for name, known in model.fixed_values.items():
            self.values[name] = np.tile(known, (chains, 1)) if name in varying else known

    def get(self, group: NodeGroup, rows=None) -> np.ndarray:
        """``(chains, n, *value_shape)`` values of a group's nodes (all, or ``rows``)."""
        target = group.target if rows is None else group.target[rows]
        values = self.values[group.var][..., target]
        if values.ndim == 2:  # fixed by the data: the same for every chain
            values = np.broadcast_to(values, (self.chains,) + values.shape)
        return values.reshape((self.chains, len(target), *group.value_shape))

    def set(self, group: NodeGroup, rows, values: np.ndarray) -> None:
        target = group.target[rows]
        self.values[group.var][:, target] = np.reshape(values, (self.chains,) + target.shape)

    def parameters(self, group: NodeGroup, params=None, size: int | None = None) -> list[np.ndarray]:
        """Each parameter's values as ``(chains, size, *parameter shape)``: the group's, or
        ``params`` bound for ``size`` of its elements (:func:`hiergraph.evaluator.restrict`)."""
        params, size = (group.params, group.size) if params is None else (params, size)
        out = []
        for param, rank in zip(params, group.distribution.param_ranks):
            value = np.asarray(_dense(evaluate(param, self.values)), float)
            if rank and param.shape == ():  # a single value where a vector is expected
                value = value[(...,) + (None,) * rank]
            shape = (self.chains, size) + (value.shape[value.ndim - rank:] if rank else ())
            out.append(value if value.shape == shape else np.broadcast_to(value, shape))
        return out

    def bounds(self, group: NodeGroup):
        """Truncation bounds ``(lower, upper)``, each ``(chains, size)`` or None where open."""
        return tuple(None if b is None else
                     np.broadcast_to(np.asarray(evaluate(b, self.values), float), (self.chains, group.size))
                     for b in group.bounds)

    def log_density(self, group: NodeGroup) -> np.ndarray:
        """``(chains, size)`` log density of each node of a stochastic group at the current values."""
        params = self.parameters(group)
        x = self.get(group)
        dist = group.distribution
        with np.errstate(all="ignore"):
            if group.bounds is not None:
                lower, upper = self.bounds(group)
                out = dist.truncated_logpdf(x, lower, upper, *params)
            else:
                out = dist.logpdf(x, *params)
        if out.shape != (self.chains, group.size):
            out = np.broadcast_to(out, (self.chains, group.size))
        return np.where(np.isnan(out), -np.inf, out)

    def recompute(self, groups) -> None:
        """Recompute deterministic groups, in the order given, from the current values."""
        for group in groups:
            if group.name in self.fixed:
                continue
            for _ in range(self.passes[group.name]):
                self._compute(group, group.target, group.expr)

    def recompute_rows(self, group: NodeGroup, rows: np.ndarray, expr) -> None:
        """Recompute the elements ``rows`` of a deterministic group whose elements do not read
        each other, from ``expr``, its expression bound for them (evaluator.restrict)."""
        if group.name not in self.fixed:
            self._compute(group, group.target[rows], expr)

    def _compute(self, group: NodeGroup, target: np.ndarray, expr) -> None:
        with np.errstate(all="ignore"):
            value = evaluate(expr, self.values)
        shape = (self.chains, len(target), *group.value_shape)
        if np.shape(value) != shape:  # broadcast_to costs microseconds, and this runs often
            value = np.broadcast_to(value, shape)
        self.values[group.var][:, target] = value.reshape(self.chains, len(target), -1)


def _passes(model: ModelGraph, group: NodeGroup) -> int:
    """How many vectorised passes a deterministic group needs: 1, or the length of the longest
    chain of its elements reading each other (``S[t] <- S[t-1] + d[t]``)."""
    if not model.graph.has_edge(group.name, group.name):
        return 1
    data = model.graph.edges[group.name, group.name]
    chain = nx.DiGraph()
    chain.add_nodes_from(range(group.size))
    chain.add_edges_from(zip(data["parent_rows"].tolist(), data["child_rows"].tolist()))
    return nx.dag_longest_path_length(chain) + 1
