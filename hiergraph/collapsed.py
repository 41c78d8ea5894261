"""Hyperparameters updated with the conjugate layer below them integrated out.

In a hierarchy ``y[j] ~ dbin(theta[j], n[j]); theta[j] ~ dbeta(a, b)`` the hyperparameters
``a, b`` given thousands of ``theta[j]`` barely move (each draw is pinned by them), which
is where JAGS mixes badly. Their posterior with ``theta`` integrated out, ``p(a, b | y)``,
is known in closed form from the layer's conjugacy (the beta-binomial, gamma-Poisson and
normal-normal marginals: :meth:`hiergraph.conjugacy.ConjugateStep.log_marginal`). A
collapsed step slices the hyperparameter on that marginal and then draws the layer afresh
from ``p(theta | a, b, y)``: together one move that leaves the joint posterior invariant
(van Dyk and Park 2008, *JASA* 103, "partially collapsed Gibbs samplers").

A slice-sampled group collapses over a child group when that child is updated by one
conjugate beta, gamma or normal step (its rows conditionally independent), is untruncated,
and its own children do not read the hyperparameter directly.
"""

from __future__ import annotations

import numpy as np

from .conjugacy import ConjugateStep
from .samplers import BlanketDensity, SliceStep, scatter_add
from .state import State


class CollapsedDensity(BlanketDensity):
    """The log density of a step's rows with each collapsible child group's conjugate
    elements integrated out: their log marginal replaces their log density."""

    def __init__(self, blanket, layers: dict[str, ConjugateStep]):
        super().__init__(blanket)
        self.layers = layers

    def __call__(self, state: State, values: np.ndarray) -> np.ndarray:
        b = self.blanket
        state.set(b.target, b.rows, values)
        state.recompute(b.deterministic)
        total = state.log_density(b.target)[:, b.rows]
        for link in b.children:
            layer = self.layers.get(link.group.name)
            if layer is None:
                density = state.log_density(link.group)
            else:  # observed elements of a layer keep their density; the rest integrate out
                observed = link.group.observed[link.child_rows].any()
                density = state.log_density(link.group) if observed else np.zeros((state.chains, link.group.size))
                density[:, layer.rows] = layer.log_marginal(state)
            total = total + scatter_add(density[:, link.child_rows], link.positions, len(b.rows))
        return np.where(np.isnan(total), -np.inf, total)


class CollapsedSliceStep(SliceStep):
    """Slice sampling on the collapsed density, then a fresh draw of the integrated-out layers."""

    name = "collapsed_slice"

    def __init__(self, step: SliceStep, layers: dict[str, ConjugateStep], chains: int):
        super().__init__(step.blanket, chains, discrete=step.discrete)
        self.density = CollapsedDensity(step.blanket, layers)
        self.layers = layers

    def update(self, state: State, rngs, adapting: bool) -> None:
        super().update(state, rngs, adapting)
        for layer in self.layers.values():
            layer.update(state, rngs, adapting)


def collapsible_layers(step: SliceStep, conjugate: dict[str, list], children_of) -> dict[str, ConjugateStep]:
    """The child groups of a slice step that it can integrate out, with their conjugate step.

    ``conjugate`` maps a group name to its MCMC steps; ``children_of(group)`` gives the
    stochastic groups reading a group (directly or through deterministic nodes)."""
    layers = {}
    reads_target = {g.name for g in children_of(step.group)}
    for link in step.blanket.children:
        steps = conjugate.get(link.group.name, [])
        if (len(steps) != 1 or not isinstance(steps[0], ConjugateStep) or link.group.bounds is not None
                or steps[0].rule.family not in ("beta", "gamma", "normal")):
            continue
        if reads_target & {g.name for g in children_of(link.group)}:
            continue  # the layer's children read the hyperparameter too
        layers[link.group.name] = steps[0]
    return layers
