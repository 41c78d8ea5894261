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
from scipy import sparse

from .conjugacy import ConjugateStep
from .evaluator import refs
from .samplers import BlanketDensity, SliceStep, scatter_add
from .state import State


class CollapsedDensity(BlanketDensity):
    """The log density of a step's rows with each collapsible child group's conjugate
    elements integrated out: their log marginal replaces their log density."""

    def __init__(self, blanket, layers: dict[str, ConjugateStep]):
        super().__init__(blanket)
        self.layers = layers
        self._counts = {}  # per child link: class counts per row of the step, or None

    def __call__(self, state: State, values: np.ndarray) -> np.ndarray:
        b = self.blanket
        state.set(b.target, b.rows, values)
        state.recompute(b.deterministic)
        total = state.log_density(b.target)[:, b.rows]
        for i, link in enumerate(b.children):
            layer = self.layers.get(link.group.name)
            counts = None if layer is None else self._class_counts(state, i, link, layer)
            if counts is not None:  # work in the number of classes, not of the layer's rows
                total = total + (counts @ layer.class_log_marginal(state).T).T
                continue
            if layer is None:
                density = state.log_density(link.group)
            else:  # observed elements of a layer keep their density; the rest integrate out
                observed = link.group.observed[link.child_rows].any()
                density = state.log_density(link.group) if observed else np.zeros((state.chains, link.group.size))
                density[:, layer.rows] = layer.log_marginal(state)
            total = total + scatter_add(density[:, link.child_rows], link.positions, len(b.rows))
        return np.where(np.isnan(total), -np.inf, total)

    def _class_counts(self, state: State, index: int, link, layer: ConjugateStep):
        """A sparse ``(rows, classes)`` count of the layer's elements of each class that each
        of the step's rows reads, where the layer has marginal classes and no observed element."""
        if index not in self._counts:
            classes = layer.marginal_classes(state)
            counts = None
            if classes is not None and not link.group.observed[link.child_rows].any():
                position = np.full(link.group.size, -1)
                position[layer.rows] = np.arange(len(layer.rows))
                found = position[link.child_rows]
                inside = found >= 0  # rows outside the layer have no children: marginal 1
                counts = sparse.csr_matrix(
                    (np.ones(inside.sum()), (link.positions[inside], classes.of_row[found[inside]])),
                    shape=(len(self.blanket.rows), len(classes.representatives)))
            self._counts[index] = counts
        return self._counts[index]


class CollapsedSliceStep(SliceStep):
    """Slice sampling on the collapsed density, then a fresh draw of the integrated-out layers."""

    name = "collapsed_slice"

    def __init__(self, step: SliceStep, layers: dict[str, ConjugateStep], chains: int):
        super().__init__(step.blanket, chains, discrete=step.discrete)
        self.density = CollapsedDensity(step.blanket, layers)
        self.layers = layers
        self.deferred = set()  # layers the next step draws again (see drop_superseded_draws)

    def update(self, state: State, rngs, adapting: bool) -> None:
        super().update(state, rngs, adapting)
        for name, layer in self.layers.items():
            if name not in self.deferred:
                layer.update(state, rngs, adapting)


def drop_superseded_draws(steps: list) -> list:
    """The sweep without draws of a conjugate layer that the very next step draws again
    before anything reads them.

    In rat tumours the sweep ``theta | a, b``; ``phi`` collapsed, then ``theta``; ``s``
    collapsed, then ``theta`` draws the 10^6 thetas three times, and only the last draw is
    ever read: the collapsed steps in between integrate ``theta`` out. Leaving out the first
    two keeps the sampler a partially collapsed Gibbs sampler with the same stationary
    distribution (van Dyk and Park 2008, section 3: a draw that no later step conditions on
    before it is drawn again may be removed) at a third of the cost."""
    kept = []
    for step, following in zip(steps, steps[1:] + [None]):
        again = _redrawn_unread(following)
        if isinstance(step, CollapsedSliceStep):
            step.deferred = {name for name, layer in step.layers.items() if layer in again}
        elif step in again:
            continue
        kept.append(step)
    return kept


def _redrawn_unread(step) -> set:
    """The conjugate layer steps that ``step`` draws afresh without reading their values first."""
    if isinstance(step, ConjugateStep):
        return {step}
    if not isinstance(step, CollapsedSliceStep):
        return set()
    b = step.blanket
    read = {r.var for g in b.deterministic for r in refs(g.expr)}
    read |= {r.var for link in b.children if link.group.name not in step.layers
             for param in link.group.params for r in refs(param)}
    return {layer for layer in step.layers.values() if layer.group.var not in read}


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
