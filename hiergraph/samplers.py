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
    """``out[c, p, ...] = sum of values[c, k, ...] over k with positions[k] == p``."""
    if values.ndim == 2:
        return np.stack([np.bincount(positions, weights=v, minlength=size) for v in values])
    out = np.zeros((values.shape[0], size) + values.shape[2:])
    np.add.at(out, (slice(None), positions), values)
    return out


def per_chain(rngs, draw) -> np.ndarray:
    """``draw(rng, c)`` for each chain's generator, stacked on the chain axis."""
    return np.stack([draw(rng, c) for c, rng in enumerate(rngs)])


class BlanketDensity:
    """The log full conditional of a step's rows, up to a constant, for all chains (or, with
    ``prior=False``, only the children's part: the likelihood)."""

    def __init__(self, blanket: Blanket, prior: bool = True):
        self.blanket = blanket
        self.prior = prior

    def __call__(self, state: State, values: np.ndarray) -> np.ndarray:
        """Set the rows to ``values`` ``(chains, k, ...)``, recompute downstream, return ``(chains, k)``."""
        b = self.blanket
        state.set(b.target, b.rows, values)
        state.recompute(b.deterministic)
        total = state.log_density(b.target)[:, b.rows] if self.prior else np.zeros((state.chains, len(b.rows)))
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
        self._slice(state, rngs, current, lower, upper, adapting)

    def _slice(self, state: State, rngs, current, lower, upper, adapting: bool) -> None:
        """One slice move of ``current`` ``(chains, k)`` under ``self.density``, which is
        left set at the chosen point."""
        shape = current.shape
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


class EllipticalSliceStep:
    """Elliptical slice sampling of multivariate normal nodes (Murray, Adams and MacKay 2010,
    AISTATS, fig. 2): a move along the ellipse through the current value and a draw from the
    prior, with the angle found by shrinking a bracket until the likelihood is above the
    slice. Exact for any likelihood, no tuning; rows of a colour move together."""

    name = "elliptical_slice"
    max_shrinks = 200

    def __init__(self, blanket: Blanket):
        self.group, self.rows, self.blanket = blanket.target, blanket.rows, blanket
        self.likelihood = BlanketDensity(blanket, prior=False)

    def update(self, state: State, rngs, adapting: bool) -> None:
        rows, group = self.rows, self.group
        mean, matrix = (p[:, rows] for p in state.parameters(group))
        factor = np.linalg.cholesky(matrix)
        noise = per_chain(rngs, lambda rng, c: rng.standard_normal(mean.shape[1:]))
        if group.distribution.name == "dmnorm":  # matrix is the precision Omega = L L'
            prior_draw = np.linalg.solve(np.swapaxes(factor, -1, -2), noise[..., None])[..., 0]
        else:  # dmnorm.vcov: the covariance Sigma = L L'
            prior_draw = np.einsum("...ij,...j->...i", factor, noise)
        current = state.get(group, rows) - mean
        shape = current.shape[:2]
        log_y = self.likelihood(state, current + mean) - per_chain(
            rngs, lambda rng, c: rng.exponential(size=shape[1]))
        angle = per_chain(rngs, lambda rng, c: rng.uniform(0, 2 * np.pi, size=shape[1]))
        low, high = angle - 2 * np.pi, angle.copy()
        chosen = current.copy()
        pending = np.ones(shape, bool)
        for _ in range(self.max_shrinks):
            trial = current * np.cos(angle)[..., None] + prior_draw * np.sin(angle)[..., None]
            accept = pending & (self.likelihood(state, np.where(pending[..., None], trial, chosen) + mean) > log_y)
            chosen = np.where(accept[..., None], trial, chosen)
            pending &= ~accept
            if not pending.any():
                break
            low = np.where(pending & (angle < 0), angle, low)
            high = np.where(pending & (angle >= 0), angle, high)
            # as in the slice sampler, a chain draws only while it has rows left to settle
            u = per_chain(rngs, lambda rng, c: rng.uniform(size=shape[1]) if pending[c].any()
                          else np.zeros(shape[1]))
            angle = np.where(pending, low + u * (high - low), angle)
        self.likelihood(state, chosen + mean)


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
