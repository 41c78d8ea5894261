"""Componentwise update steps: slice, adaptive random-walk Metropolis, exact enumeration of a
finite support, and forward draws. Each step updates some rows of one node group, for all
chains at once, evaluating only their Markov blanket (:mod:`hiergraph.blanket`).

Every step has ``name``, ``group``, ``rows`` and ``update(state, rngs, adapting)``; ``rngs``
holds one ``numpy.random.Generator`` per chain, so each chain's draws come from its own
stream whatever the others do.
"""

from __future__ import annotations

import numpy as np

from .blanket import Blanket
from .state import State


def scatter_add(values: np.ndarray, positions: np.ndarray, size: int) -> np.ndarray:
    """``out[c, p] = sum of values[c, k] over k with positions[k] == p``."""
    return np.stack([np.bincount(positions, weights=v, minlength=size) for v in values])


def per_chain(rngs, draw) -> np.ndarray:
    """``draw(rng, c)`` for each chain's generator, stacked on the chain axis."""
    return np.stack([draw(rng, c) for c, rng in enumerate(rngs)])


class BlanketDensity:
    """The log full conditional of a step's rows, up to a constant, for all chains."""

    def __init__(self, blanket: Blanket):
        self.blanket = blanket

    def __call__(self, state: State, values: np.ndarray) -> np.ndarray:
        """Set the rows to ``values`` ``(chains, k)``, recompute downstream, return ``(chains, k)``."""
        b = self.blanket
        state.set(b.target, b.rows, values)
        state.recompute(b.deterministic)
        total = state.log_density(b.target)[:, b.rows]
        for link in b.children:
            child = state.log_density(link.group)[:, link.child_rows]
            total = total + scatter_add(child, link.positions, len(b.rows))
        return np.where(np.isnan(total), -np.inf, total)


def support_bounds(state: State, blanket: Blanket):
    """``(chains, k)`` lower and upper limits of the rows' values: support and truncation."""
    group, rows = blanket.target, blanket.rows
    params = state.parameters(group)
    lower, upper = group.distribution.support(*params)
    shape = (state.chains, group.size)
    lower = np.broadcast_to(np.asarray(lower, float), shape)
    upper = np.broadcast_to(np.asarray(upper, float), shape)
    if group.bounds is not None:
        low, high = state.bounds(group)
        if low is not None:
            lower = np.maximum(lower, np.broadcast_to(low, shape))
        if high is not None:
            upper = np.minimum(upper, np.broadcast_to(high, shape))
    return lower[:, rows], upper[:, rows]


class SliceStep:
    """Slice sampling with stepping out and shrinkage (Neal 2003, Ann. Statist. 31, fig. 3 and 5).

    All rows and chains step together: a mask says which are still stepping out or still
    shrinking. The interval width adapts during burn-in toward twice the mean size of a move
    (as JAGS's slice sampler does), then stays fixed. ``discrete`` slices a continuous
    auxiliary variable whose floor is the node's value (JAGS's DiscreteSlicer).
    """

    name = "slice"
    max_steps = 10  # stepping-out limit on each side: m in Neal's figure 3
    max_shrinks = 200

    def __init__(self, blanket: Blanket, chains: int, discrete: bool = False):
        self.group, self.rows, self.blanket = blanket.target, blanket.rows, blanket
        self.density = BlanketDensity(blanket)
        self.discrete = discrete
        self.width = np.ones((chains, len(self.rows)))
        self.moves = np.zeros((chains, len(self.rows)))
        self.updates = 0

    def _value(self, y):
        return np.floor(y) if self.discrete else y

    def update(self, state: State, rngs, adapting: bool) -> None:
        shape = (state.chains, len(self.rows))
        current = state.get(self.group, self.rows).reshape(shape)
        lower, upper = support_bounds(state, self.blanket)
        if self.discrete:
            upper = upper + 1.0  # y in [lower, upper + 1) has floor(y) in lower..upper
            current = current + per_chain(rngs, lambda rng, c: rng.uniform(size=shape[1]))
        log_y = self.density(state, self._value(current)) - per_chain(
            rngs, lambda rng, c: rng.exponential(size=shape[1]))
        left, right = self._step_out(state, rngs, current, log_y, lower, upper)
        chosen = self._shrink(state, rngs, current, log_y, left, right)
        self.density(state, self._value(chosen))
        if adapting:
            self.updates += 1
            self.moves += np.abs(chosen - current)
            self.width = np.maximum(2 * self.moves / self.updates, 1e-8)

    def _step_out(self, state, rngs, x0, log_y, lower, upper):
        k = x0.shape[1]
        u = per_chain(rngs, lambda rng, c: rng.uniform(size=k))
        left = x0 - self.width * u
        right = left + self.width
        steps = per_chain(rngs, lambda rng, c: rng.integers(0, self.max_steps, size=k))
        left_steps, right_steps = steps, self.max_steps - 1 - steps
        for side, budget, direction in ((left, left_steps, -1), (right, right_steps, 1)):
            limit = lower if direction < 0 else upper
            active = (budget > 0) & ((side > limit) if direction < 0 else (side < limit))
            while active.any():
                trial = np.where(active, side, x0)
                inside = self.density(state, self._value(trial)) > log_y
                active &= inside
                side[active] += direction * self.width[active]
                budget = budget - active
                active &= (budget > 0) & ((side > limit) if direction < 0 else (side < limit))
        return np.maximum(left, lower), np.minimum(right, upper)

    def _shrink(self, state, rngs, x0, log_y, left, right):
        chosen = x0.copy()
        pending = np.ones(x0.shape, bool)
        for _ in range(self.max_shrinks):
            # A chain draws only while it has rows left to settle, so that its stream never
            # depends on how long the other chains take.
            u = per_chain(rngs, lambda rng, c: rng.uniform(size=x0.shape[1]) if pending[c].any()
                          else np.zeros(x0.shape[1]))
            trial = np.where(pending, left + u * (right - left), chosen)
            accept = pending & (self.density(state, self._value(trial)) > log_y)
            chosen = np.where(accept, trial, chosen)
            pending &= ~accept
            if not pending.any():
                break
            left = np.where(pending & (trial < x0), trial, left)
            right = np.where(pending & (trial >= x0), trial, right)
        return chosen


class MetropolisStep:
    """Random-walk Metropolis with normal proposals, one scale per node and chain, tuned during
    burn-in toward acceptance 0.44 (Roberts and Rosenthal 2009, J. Comp. Graph. Stat. 18) and
    frozen afterwards."""

    name = "rw_metropolis"
    target_acceptance = 0.44

    def __init__(self, blanket: Blanket, chains: int):
        self.group, self.rows, self.blanket = blanket.target, blanket.rows, blanket
        self.density = BlanketDensity(blanket)
        self.log_scale = np.zeros((chains, len(self.rows)))
        self.updates = 0

    def update(self, state: State, rngs, adapting: bool) -> None:
        shape = (state.chains, len(self.rows))
        current = state.get(self.group, self.rows).reshape(shape)
        before = self.density(state, current)
        noise = per_chain(rngs, lambda rng, c: rng.standard_normal(shape[1]))
        proposal = current + np.exp(self.log_scale) * noise
        after = self.density(state, proposal)
        log_u = np.log(per_chain(rngs, lambda rng, c: rng.uniform(size=shape[1])))
        accept = log_u < after - before
        self.density(state, np.where(accept, proposal, current))
        if adapting:
            self.updates += 1
            self.log_scale += (accept - self.target_acceptance) / np.sqrt(self.updates)


class FiniteStep:
    """Exact draws of a discrete node with a small finite support: evaluate the full
    conditional at every possible value and draw from it."""

    name = "finite_enumeration"

    def __init__(self, blanket: Blanket, values: np.ndarray):
        self.group, self.rows, self.blanket = blanket.target, blanket.rows, blanket
        self.density = BlanketDensity(blanket)
        self.values = values  # every value any row can take, ascending

    def update(self, state: State, rngs, adapting: bool) -> None:
        shape = (state.chains, len(self.rows))
        log_p = np.stack([self.density(state, np.full(shape, v)) for v in self.values], axis=-1)
        gumbel = per_chain(rngs, lambda rng, c: rng.gumbel(size=shape[1:] + (len(self.values),)))
        choice = np.argmax(np.where(np.isfinite(log_p), log_p + gumbel, -np.inf), axis=-1)
        self.density(state, self.values[choice])


class ForwardStep:
    """Latent nodes with no observed descendant: a draw from their prior given their parents."""

    name = "forward"

    def __init__(self, group, rows, deterministic):
        self.group, self.rows, self.deterministic = group, rows, deterministic

    def update(self, state: State, rngs, adapting: bool) -> None:
        dist, rows = self.group.distribution, self.rows
        params = [p[:, rows] for p in state.parameters(self.group)]
        if self.group.bounds is None:
            values = per_chain(rngs, lambda rng, c: dist.rvs(rng, *(p[c] for p in params)))
        else:
            lower, upper = (None if b is None else b[:, rows] for b in state.bounds(self.group))
            values = per_chain(rngs, lambda rng, c: dist.truncated_rvs(
                rng, None if lower is None else lower[c], None if upper is None else upper[c],
                *(p[c] for p in params)))
        state.set(self.group, rows, values)
        state.recompute(self.deterministic)
