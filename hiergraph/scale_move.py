"""Random effects moved jointly with their scale: the scale group move.

In ``b[i] ~ dnorm(m[i], tau)`` with little data per effect, componentwise updates mix
slowly: given the effects the scale is pinned by them, and given the scale so are the
effects (inhaler's subject effects and ``sigma``, JAGS's slow case too). This step moves
along ``b' = m + g (b - m)``, ``tau' = tau / g^2``, which leaves the standardised effects
``(b - m) sqrt(tau)`` unchanged (the non-centred parameterisation's move, made in the
centred one). Drawing ``g > 0`` from ``p(g)`` proportional to ``pi(T_g x) |J_g(x)|`` with
respect to the group's Haar measure ``dg / g`` leaves the posterior ``pi`` invariant (Liu
and Sabatti 2000, JASA 95, "Generalized Gibbs sampler and multigrid Monte Carlo",
theorem 1). The scale is a stochastic node ``s`` with ``tau = c s^k``, so ``s' = s g^(-2/k)``;
with ``n`` effects on it ``|J_g| = g^(n - 2/k)``. The step slices ``u = log g`` from 0,
all chains and all scale nodes at once.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from .blanket import dependence, downstream
from .linearity import CONST, Linearity
from .model_graph import ModelGraph, NodeGroup
from .samplers import SliceStep, scatter_add
from .state import State

# samplers of the effects under which the move pays
SLOW_EFFECTS = ("slice", "glm_iwls_block", "rw_metropolis")
# ... and under which it may: exact draws of the effects given the scale, and of the scale
# given the effects, mix slowly where the effects are weakly informed (dyes' batch means and
# their precision: bulk ESS of sigma2.between 1,571 of 4,000 draws without the move, 3,885
# with it) and well where they are not (rats' intercepts and slopes, where the move costs a
# quarter of the run and adds nothing). So there the move is tried through the burn-in and
# kept only where it moved the scale at least as far as the scale's own updates did; never
# where the scale's update integrates the effects out (a collapsed step).
TRIED_EFFECTS = ("conjugate_normal",)


class ScaleGroupStep(SliceStep):
    """A slice move of ``u = log g`` for every scale node, with its effects.

    A ``tried`` move measures, through the burn-in, how far it moves ``log s`` and how far
    the scale's other updates move it between two of its moves (both summed over the scale
    nodes); after the burn-in each chain keeps the move only if its own was the farther."""

    name = "scale_group_move"

    def __init__(self, model: ModelGraph, effects: NodeGroup, scale: NodeGroup, power: float,
                 of_effect: np.ndarray, children: list, chains: int, tried: bool = False):
        self.tried, self.kept = tried, np.ones(chains, bool)
        self.between, self.last = np.zeros(chains), None  # the other updates' moves of log s
        self.group, self.rows = scale, np.arange(scale.size)
        self.effects, self.power, self.of_effect = effects, power, of_effect
        self.deterministic = downstream(model, effects, scale)[0]
        self.children = children  # (child group, its elements that read effects, their scale rows)
        self.exponent = np.bincount(of_effect, minlength=scale.size) - 2.0 / power
        self.discrete = False
        self.width = np.ones((chains, scale.size))
        self.moves = np.zeros((chains, scale.size))
        self.updates = 0
        self.density = self._log_density
        self._start = None

    def update(self, state: State, rngs, adapting: bool) -> None:
        scale = state.get(self.group).reshape(state.chains, -1).copy()
        if self.tried and adapting and self.last is not None:
            self.between += np.abs(np.log(scale / self.last)).sum(axis=1)
        elif self.tried and not adapting and self.last is not None:
            self.kept = 2.0 / abs(self.power) * self.moves.sum(axis=1) >= self.between
            self.last = None
        if not self.kept.any():
            return
        effects = state.get(self.effects).reshape(state.chains, -1)
        mean = np.array(state.parameters(self.effects)[0]).reshape(state.chains, -1)
        self._start = (effects.copy(), mean, scale)
        at_zero = np.zeros((state.chains, self.group.size))
        reach = np.where(self.kept, np.inf, 0.0)[:, None]  # a chain without the move stays at u = 0
        self._slice(state, rngs, at_zero, at_zero - reach, at_zero + reach, adapting)
        if self.tried and adapting:
            self.last = state.get(self.group).reshape(state.chains, -1).copy()

    def _log_density(self, state: State, u: np.ndarray) -> np.ndarray:
        effects, mean, scale = self._start
        g = np.exp(u)
        state.set(self.effects, slice(None), mean + g[:, self.of_effect] * (effects - mean))
        state.set(self.group, slice(None), scale * g ** (-2.0 / self.power))
        state.recompute(self.deterministic)
        size = self.group.size
        with np.errstate(all="ignore"):
            total = (self.exponent * u + state.log_density(self.group)
                     + scatter_add(state.log_density(self.effects), self.of_effect, size))
            for child, rows, of_row in self.children:
                total = total + scatter_add(state.log_density(child)[:, rows], of_row, size)
        return np.where(np.isnan(total), -np.inf, total)


def scale_moves(model: ModelGraph, plans, chains: int, overrides, informed) -> list[ScaleGroupStep]:
    """A scale group move for every scale node whose only stochastic child is a group of
    normal effects updated by a slow sampler (:data:`SLOW_EFFECTS`); ``plans`` get a note.
    The move belongs to the scale node: forcing that node's sampler leaves it out.
    ``informed`` (per group, per element: has it observed descendants) tells the MCMC
    target from the nodes drawn forward after it."""
    by_name = {p.group.name: p for p in plans}
    steps = []
    for plan in plans:
        step = _scale_move(model, plan.group, by_name, chains, overrides, informed)
        if step is not None:
            plan.scale_move = step.effects.name + (" where it pays in the burn-in" if step.tried else "")
            steps.append(step)
    return steps


def _scale_move(model, scale: NodeGroup, plans, chains, overrides, informed) -> ScaleGroupStep | None:
    dist = scale.distribution
    if (dist.discrete or dist.value_rank or scale.observed.any() or scale.name in overrides
            or plans[scale.name].mcmc_rows != scale.size):
        return None
    deterministic, children = downstream(model, scale)
    # nodes drawn forward from their prior (blocker's delta.new) are no part of the MCMC target
    children = [c for c in children if c.observed.any() or plans[c.name].mcmc_rows]
    if len(children) != 1:
        return None
    effects = children[0]
    effect_plan = plans.get(effects.name)
    if (effects.distribution.name != "dnorm" or effects.bounds is not None or effects.observed.any()
            or effect_plan is None
            or not (effect_plan.sampler in SLOW_EFFECTS or effect_plan.sampler.startswith(TRIED_EFFECTS))
            or effects.name in plans[scale.name].collapsed or effect_plan.forward_rows
            or model.graph.has_edge(effects.name, effects.name)):
        return None
    tried = effect_plan.sampler.startswith(TRIED_EFFECTS)
    mean, precision = effects.params
    linearity = Linearity(model, scale, deterministic)
    if linearity.of(mean) != CONST or linearity.of(precision) == CONST:
        return None
    reads = dependence(model, scale, deterministic, [effects])[effects.name]
    if (reads.getnnz(axis=1) != 1).any():
        return None  # each effect must read exactly one scale node
    of_effect = reads.indices[reads.indptr[:-1]]
    power = _power(model, scale, effects, deterministic)
    children = _children(model, effects, of_effect, scale.size, informed)
    if power is None or children is None:
        return None
    return ScaleGroupStep(model, effects, scale, power, of_effect, children, chains, tried)


def _power(model, scale: NodeGroup, effects: NodeGroup, deterministic) -> float | None:
    """``k`` where the effects' precision is ``c s^k`` in the scale ``s`` and nothing else
    unknown, found by setting ``s`` to 1, 2 and 4 with every other unknown left missing."""
    state = State(model, 1)
    precisions = []
    for value in (1.0, 2.0, 4.0):
        state.values[scale.var][..., scale.target] = value
        state.recompute(deterministic)
        precisions.append(np.asarray(state.parameters(effects)[1], float))
    one, two, four = precisions
    with np.errstate(all="ignore"):
        if not (np.isfinite(one).all() and (one > 0).all() and np.isfinite(two).all()):
            return None
        powers = np.log2(two / one)
        power = float(powers.flat[0])
        if not np.allclose(powers, power, rtol=1e-9) or power == 0 or not np.isfinite(power):
            return None
        if not np.allclose(four / one, 4.0 ** power, rtol=1e-9):
            return None
    return power


def _children(model, effects: NodeGroup, of_effect: np.ndarray, scales: int, informed):
    """Per stochastic child of the effects: the elements reading them and each one's scale
    node; None where an element reads effects of two scale nodes (they would not move apart).
    Elements drawn forward (missing data, predictions) are left out: they are no part of the
    target, and their values, drawn at the end of the last sweep, are stale by now."""
    deterministic, children = downstream(model, effects)
    matrices = dependence(model, effects, deterministic, children)
    to_scale = sparse.csr_matrix((np.ones(len(of_effect), np.int8), (np.arange(len(of_effect)), of_effect)),
                                 shape=(len(of_effect), scales))
    found = []
    for child in children:
        reads = ((matrices[child.name] @ to_scale) > 0).tocsr()
        counts = reads.getnnz(axis=1) * (child.observed | informed[child.name])
        if (counts > 1).any():
            return None
        rows = np.flatnonzero(counts)
        found.append((child, rows, reads.indices[reads.indptr[rows]]))
    return found
