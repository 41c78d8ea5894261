"""Posterior predictive checks: replicate the observed data from the posterior draws.

For each saved draw, every observed stochastic node is drawn again from its own
distribution with its parameters at that draw: ``y.rep[j] ~ dbin(theta[j], n[j])`` without
the user writing it (Gelman et al., *Bayesian Data Analysis*, 3rd ed., 6.3). A test statistic
T of the observed data is compared with T of each replicate; the Bayesian p-value is
P(T(y_rep) >= T(y) | y). Values near 0 or 1 say the model does not reproduce that feature.

The draws' state is rebuilt with the saved draws as the chain axis of a
:class:`~hiergraph.state.State` (one "chain" per draw), so the parameters of every observed
node are evaluated for all draws in the same vectorised calls the sampler uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .blanket import downstream
from .engine import Draws, default_monitors
from .errors import UsageError
from .model_graph import ModelGraph, NodeGroup
from .state import State

STATISTICS = {
    "mean": lambda x: x.mean(axis=-1),
    "sd": lambda x: x.std(axis=-1, ddof=1),
    "min": lambda x: x.min(axis=-1),
    "max": lambda x: x.max(axis=-1),
    "median": lambda x: np.median(x, axis=-1),
    "zeros": lambda x: (x == 0).mean(axis=-1),
}


@dataclass(frozen=True)
class PredictiveCheck:
    """One statistic of one observed node group: its value on the data and on each replicate."""

    node: str
    statistic: str
    observed: float
    replicated: np.ndarray  # one value per saved draw, chains pooled

    @property
    def p_value(self) -> float:
        """P(T(y_rep) >= T(y) | y)."""
        return float((self.replicated >= self.observed).mean())


class ChecksTable(list):
    """A list of :class:`PredictiveCheck` that prints as a table."""

    HEADER = ("node", "statistic", "observed", "replicated mean", "2.5%", "97.5%", "p-value")

    def __str__(self) -> str:
        rows = [self.HEADER]
        for check in self:
            low, high = np.quantile(check.replicated, [0.025, 0.975])
            rows.append((check.node, check.statistic, f"{check.observed:.4g}",
                         f"{check.replicated.mean():.4g}", f"{low:.4g}", f"{high:.4g}",
                         f"{check.p_value:.3f}"))
        widths = [max(len(row[i]) for row in rows) for i in range(len(self.HEADER))]
        return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
                         for row in rows)


def check_statistics(names) -> list[str]:
    """The statistics' names, each checked to be one of :data:`STATISTICS`."""
    names = list(names)
    for name in names:
        if name not in STATISTICS:
            raise UsageError(f"unknown statistic '{name}'; choose from {', '.join(STATISTICS)}")
    return names


def observed_groups(graph: ModelGraph) -> list[NodeGroup]:
    groups = [g for g in graph.groups if g.kind == "stochastic" and g.observed.any()]
    if not groups:
        raise UsageError("the model has no observed stochastic nodes to check")
    return groups


def replay(graph: ModelGraph, draws: Draws) -> State:
    """A State whose chain axis is the saved draws (chains pooled), deterministic nodes
    recomputed; ``draws`` must hold every latent stochastic node (the default monitors)."""
    values = draws.values.reshape(-1, draws.values.shape[2])
    state = State(graph, len(values))
    for monitor in default_monitors(graph):
        try:
            columns = [draws.labels.index(label) for label in monitor.labels]
        except ValueError:
            raise UsageError(f"the draws do not monitor all of '{monitor.var}', which replicating "
                             f"the data needs; monitor every latent node") from None
        state.values[monitor.var][:, monitor.positions] = values[:, columns]
    latent = [g for g in graph.groups if g.kind == "stochastic" and not g.observed.all()]
    state.recompute(downstream(graph, *latent)[0])
    return state


def replicate(graph: ModelGraph, draws: Draws, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Each observed group's replicated observed elements: ``(draws, observed nodes, *value)``."""
    state = replay(graph, draws)
    out = {}
    for group in observed_groups(graph):
        params = state.parameters(group)
        dist = group.distribution
        if group.bounds is None:
            copies = dist.rvs(rng, *params)
        else:
            copies = dist.truncated_rvs(rng, *state.bounds(group), *params)
        out[group.name] = np.broadcast_to(copies, state.get(group).shape)[:, group.observed]
    return out


def check(graph: ModelGraph, draws: Draws, statistics=("mean",), seed: int | None = None,
          replicated: dict | None = None) -> ChecksTable:
    """Each statistic on each observed group's data and on its replicates (``replicated``
    from :func:`replicate`, else drawn here with ``seed``)."""
    check_statistics(statistics)
    if replicated is None:
        replicated = replicate(graph, draws, np.random.default_rng(seed))
    table = ChecksTable()
    for group in observed_groups(graph):
        data = graph.fixed_values[group.var][group.target[group.observed]].reshape(-1)
        copies = replicated[group.name].reshape(len(replicated[group.name]), -1)
        for name in statistics:
            table.append(PredictiveCheck(group.name, name, float(STATISTICS[name](data)),
                                         STATISTICS[name](copies)))
    return table
