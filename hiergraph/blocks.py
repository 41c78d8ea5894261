"""Block updates of regression coefficients: normal-prior nodes that enter generalised linear
model (GLM) children through a linear predictor are drawn together, as JAGS's glm module does.

Single-site updates of correlated coefficients (an intercept with uncentred covariates, or
with the random effects added to it) barely move; a joint update moves them together.

Which nodes: latent, untruncated scalar ``dnorm`` nodes whose every child reads them only
through a linear predictor ``eta``: a normal child's mean (identity link), a binomial or
Bernoulli child's probability through ``logit``, ``probit`` or ``cloglog``, a Poisson child's
rate through ``log`` (written ``logit(p[i]) <- eta`` or ``p[i] <- ilogit(eta)``, or inside the
child's parameter). Groups that share children form one block, up to ``MAX_COORDINATES``
values (beyond that the largest groups keep their own samplers); a block is made only when
some child reads two of its values, which is when updating them one at a time is slow.

The update: ``eta = a + X beta`` for the block's values ``beta``; ``X`` is read by probing
(the block set to zero, then one colour of coordinates at one: coordinates of a colour never
share a child), JAGS's trick for linear coefficients. Then

* every child normal: a direct draw from the exact multivariate normal full conditional,
  precision ``diag(p0) + X' T X`` (Gelman et al., *Bayesian Data Analysis*, 3rd ed., 14.2);
* otherwise independence Metropolis-Hastings from the normal approximation at the mode of the
  block's full conditional (found by Fisher scoring, i.e. iteratively reweighted least
  squares, from the last mode; Gamerman 1997, *Statistics and Computing* 7, 57-68, uses one
  such step from the current value), with precision the Fisher information
  ``diag(p0) + X' W X`` there, mixed with a little multivariate t so that a chain far out
  in the tails comes back; then, unless every independent part of the block accepted at
  least ``FOLLOW_BELOW`` of its proposals in the burn-in, follow-up moves keep a chain moving
  where the joint proposal is refused often (many coordinates, or a poor normal
  approximation): where a few coordinates couple all the rest (fixed effects and the random
  effects they shift, :func:`hiergraph.coupling.split`), the same block move of each side
  given the other, the random effects in independent parts of one subject each (these
  accept far more often than the whole); otherwise a componentwise (slice) move of each
  member.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import networkx as nx
import numpy as np
from scipy import linalg, special, sparse
from scipy.sparse import csgraph

from .blanket import blankets, dependence, downstream
from .coupling import coupled, split
from .evaluator import Apply, Ref, evaluate, restrict
from .linearity import CONST, NONLINEAR, Linearity
from .model_graph import ModelGraph, NodeGroup
from .samplers import EllipticalSliceStep, SliceStep, scatter_add
from .state import State

MAX_COORDINATES = 400  # a dense Cholesky factor per chain and sweep: O(d^3)
# A larger block that falls into independent parts is updated in blocks of whole parts of up
# to this many coordinates: each costs the numpy engine a step's overhead plus O(d^3), so
# the total, linear in the number of parts, is least around here (J = 1000 varying
# intercepts and slopes, 2 chains: 260 ms a sweep in blocks of 400, 39 in blocks of 64,
# 31 in blocks of 96 to 200).
CHUNK_COORDINATES = 128
# The independence proposal is a normal mixed with a little multivariate t, whose heavy
# tails let a chain that starts far out in the tails (or gets there) come back.
HEAVY, TAIL_DF = 0.1, 4
FOLLOW_BELOW = 0.6  # burn-in acceptance rate of a part under which componentwise moves follow
# Burn-in updates after which a block that has accepted at least FOLLOW_BELOW in every part
# stops its follow-up moves for good; otherwise they run to the end of the burn-in and are
# decided on the whole of it. On seeds' 25-coordinate block (accepting 0.89) the 25 slice
# moves that followed every burn-in sweep cost more than the rest of the run.
DECIDE_EARLY_AFTER = 200


def _normal(eta, y, tau):
    residual = y - eta
    return -0.5 * tau * residual ** 2, tau, tau * residual


def _logit(eta, y, n):
    p = special.expit(eta)
    return y * eta - n * np.logaddexp(0.0, eta), n * p * (1 - p), y - n * p


def _probit(eta, y, n):
    log_phi = -0.5 * eta ** 2 - 0.5 * np.log(2 * np.pi)
    log_p, log_q = special.log_ndtr(eta), special.log_ndtr(-eta)
    score = y * np.exp(log_phi - log_p) - (n - y) * np.exp(log_phi - log_q)
    return y * log_p + (n - y) * log_q, n * np.exp(2 * log_phi - log_p - log_q), score


def _cloglog(eta, y, n):
    rate = np.exp(eta)
    log_p = np.log(-np.expm1(-rate))  # p = 1 - exp(-exp(eta)); log(1 - p) = -exp(eta)
    odds_against = np.exp(-rate - log_p)  # (1 - p) / p
    return (y * log_p - (n - y) * rate, n * rate ** 2 * odds_against,
            rate * (y * odds_against - (n - y)))


def _log(eta, y, n):
    mean = np.exp(eta)
    return y * eta - mean, mean, y - mean


class Family:
    """A scalar child distribution with a link. ``terms(eta, y, size)`` gives, per child, the
    log likelihood up to a constant, the Fisher weight W and the score d loglik / d eta."""

    def __init__(self, name: str, terms: Callable, size: Callable):
        self.name, self.terms = name, terms
        self.size = size  # the child's parameters -> its second argument (n, precision), or 1

    def log_likelihood(self, eta, y, size) -> np.ndarray:
        """``(chains, rows)``: each child's log likelihood."""
        return self.terms(eta, y, size)[0]

    def information(self, design, eta, y, size, pairs=None):
        """Log likelihood, Fisher information ``X' W X`` and gradient ``X' score``. ``pairs``
        (row, j, k) lists the nonzero products of a sparse X: ``X' W X`` from those alone."""
        loglik, weight, score = self.terms(eta, y, size)
        transposed = np.swapaxes(design, 1, 2)
        gradient = (transposed @ score[..., None])[..., 0]
        if pairs is None:
            return loglik.sum(axis=1), (transposed * weight[:, None, :]) @ design, gradient
        row, j, k = pairs
        d = design.shape[2]
        products = weight[:, row] * design[:, row, j] * design[:, row, k]
        information = np.stack([np.bincount(j * d + k, weights=p, minlength=d * d) for p in products])
        return loglik.sum(axis=1), information.reshape(-1, d, d), gradient


class MultivariateNormal(Family):
    """``dmnorm`` children with mean linear in the block: each child's K components are K
    consecutive rows of the predictor, its precision matrix Omega the weight."""

    def __init__(self):
        super().__init__("normal", None, lambda params: params[1])

    @staticmethod
    def _split(eta, y, omega):
        width = omega.shape[-1]
        residual = (y - eta).reshape(eta.shape[0], -1, width)
        return residual, np.einsum("cnkl,cnl->cnk", omega, residual)

    def log_likelihood(self, eta, y, omega):
        """``(chains, rows)``: each child's log likelihood, on the first of its rows."""
        residual, weighted = self._split(eta, y, omega)
        out = np.zeros(eta.shape)
        out[:, ::omega.shape[-1]] = -0.5 * np.einsum("cnk,cnk->cn", residual, weighted)
        return out

    def information(self, design, eta, y, omega, pairs=None):
        residual, weighted = self._split(eta, y, omega)
        rows = design.reshape(design.shape[0], -1, omega.shape[-1], design.shape[-1])
        return (-0.5 * np.einsum("cnk,cnk->c", residual, weighted),
                np.einsum("cnkd,cnkl,cnle->cde", rows, omega, rows),
                np.einsum("cnkd,cnk->cd", rows, weighted))


def _one(params):
    """Bernoulli and Poisson children have no size parameter."""
    return 1.0


FAMILIES = {  # (child distribution, inverse link in its parameter) -> family
    ("dnorm", None): Family("normal", _normal, lambda params: params[1]),
    ("dbin", "ilogit"): Family("logit", _logit, lambda params: params[1]),
    ("dbin", "phi"): Family("probit", _probit, lambda params: params[1]),
    ("dbin", "icloglog"): Family("cloglog", _cloglog, lambda params: params[1]),
    ("dbern", "ilogit"): Family("logit", _logit, _one),
    ("dbern", "phi"): Family("probit", _probit, _one),
    ("dbern", "icloglog"): Family("cloglog", _cloglog, _one),
    ("dpois", "exp"): Family("log", _log, _one),
    ("dmnorm", None): MultivariateNormal(),
}
_INVERSE_LINKS = {link for _, link in FAMILIES if link is not None}


@dataclass(eq=False)
class Predictor:
    """Where a child's linear predictor is: its first parameter (identity link), an expression
    inside it (``dbin(ilogit(eta), n)``), or the expression of the deterministic group it reads
    (``logit(p[i]) <- eta``), gathered at ``rows`` of that group."""

    family: Family
    expr: object  # the linear predictor, bound to ``owner``'s elements; None: the parameter
    owner: NodeGroup  # the group whose elements ``expr`` is bound to
    rows: np.ndarray | None  # the owner's row for each child element (None: the child itself)
    fixed: bool  # its coefficients are fixed by the data: read them once


def predictor(model: ModelGraph, child: NodeGroup, linearity: Linearity) -> Predictor | str:
    """How ``child`` reads the targets of ``linearity``: a :class:`Predictor`, or why not linearly."""
    dist = child.distribution.name
    if child.bounds is not None:
        return f"its child {child.name} is truncated"
    if any(linearity.of(p) != CONST for p in child.params[1:]):
        return f"its child {child.name} reads it in a parameter other than the first"
    param, owner, rows, link = child.params[0], child, None, None
    if isinstance(param, Apply) and param.function.name in _INVERSE_LINKS:
        link, expr = param.function.name, param.args[0]
    elif isinstance(param, Ref) and param.lengths is None:
        defined = _inverse_link_owner(model, param)
        if defined is not None:
            owner, rows = defined
            link, expr = owner.expr.function.name, owner.expr.args[0]
        else:
            expr = param
    else:
        expr = param
    family = FAMILIES.get((dist, link))
    if family is None:
        return f"its child {child.name} ~ {dist} has no linear predictor through {link or 'identity'}"
    if linearity.of(expr) in (CONST, NONLINEAR):
        return f"the linear predictor of its child {child.name} is not linear in it"
    return Predictor(family, None if link is None else expr, owner, rows,
                     linearity.coefficients_fixed(expr))


def _inverse_link_owner(model: ModelGraph, ref: Ref):
    """``(group, rows)`` when ``ref`` reads elements of one deterministic group defined through
    an inverse link (``logit(p[i]) <- ...``), else None."""
    owners = np.unique(model.arrays[ref.var].owner[ref.flat.reshape(-1)])
    if len(owners) != 1 or owners[0] < 0:
        return None
    group = model.groups[owners[0]]
    if (group.kind != "deterministic" or group.value_shape or not isinstance(group.expr, Apply)
            or group.expr.function.name not in _INVERSE_LINKS):
        return None
    row_of = np.full(model.arrays[ref.var].size, -1)
    row_of[group.target.reshape(-1)] = np.arange(group.size)
    return group, row_of[ref.flat.reshape(-1)]


@dataclass(eq=False)
class BlockLink:
    """Child elements ``child_rows`` of one group: rows ``offset:offset + size`` of the stacked
    linear predictor (``width`` rows per element: the components of a vector child)."""

    group: NodeGroup
    child_rows: np.ndarray
    predictor: Predictor
    offset: int
    width: int
    pairs: tuple | None = None  # for a sparse X: (row, j, k) of every nonzero X_rj X_rk

    def __post_init__(self):
        self.bound_params = _bound(self.group.params, self.child_rows)
        found = self.predictor
        owner_rows = self.child_rows if found.rows is None else found.rows[self.child_rows]
        self.bound_predictor = None if found.expr is None else _bound([found.expr], owner_rows)

    @property
    def rows(self) -> slice:
        return slice(self.offset, self.offset + len(self.child_rows) * self.width)


@dataclass(eq=False)
class Member:
    """Rows of one group in the block, at coordinates ``offset:offset + size``."""

    group: NodeGroup
    rows: np.ndarray
    offset: int

    def __post_init__(self):
        self.width = _width(self.group)
        self.bound_params = _bound(self.group.params, self.rows)
        # where each node's prior precision (a number, or a width x width matrix) sits in the
        # block's precision, in the order of the parameter's values
        first = self.offset + self.width * np.arange(len(self.rows))
        within = np.arange(self.width)
        self.prior_entries = ((first[:, None, None] + within[:, None] + 0 * within).reshape(-1),
                              (first[:, None, None] + 0 * within[:, None] + within).reshape(-1))

    @property
    def coordinates(self) -> slice:
        return slice(self.offset, self.offset + len(self.rows) * self.width)


def _bound(exprs, rows: np.ndarray) -> list | None:
    """``exprs`` bound for their group's ``rows`` only (:func:`hiergraph.evaluator.restrict`),
    so that a block of some groups' rows reads only their children (a varying-slopes model's
    groups come in many blocks); None where one reads runs of different lengths."""
    try:
        return [restrict(e, rows) for e in exprs]
    except ValueError:
        return None


def _parameters(state: State, group: NodeGroup, rows: np.ndarray, bound) -> list[np.ndarray]:
    """The group's parameters at ``rows``, ``(chains, len(rows), ...)``, from ``bound`` where
    there is one."""
    if bound is None:
        return [p[:, rows] for p in state.parameters(group)]
    return state.parameters(group, bound, len(rows))


class BlockStep:
    """One joint update of several groups' rows (see the module docstring). ``deterministic``
    lists the groups downstream, each with the elements the block's rows feed (None: all)."""

    def __init__(self, members: list[Member], links: list[BlockLink], pattern, deterministic, chains):
        self.members = members
        self.group, self.rows = members[0].group, members[0].rows
        self.links = links
        self.size = members[-1].coordinates.stop
        self.pattern = pattern.tocoo()  # stacked predictor rows x coordinates, 1 where read
        self.parts = _Parts(pattern, members)
        for link in links:
            if link.width == 1:
                link.pairs = _sparse_pairs(pattern[link.rows])
        self.colours = _colour(pattern)
        self.deterministic = [(group, rows, None if rows is None else _bound([group.expr], rows))
                              for group, rows in deterministic]
        self.exact = all(link.predictor.family.name == "normal" for link in links)
        self.name = "conjugate_normal_block" if self.exact else "glm_iwls_block"
        self.accepted = np.zeros((chains, self.parts.count))  # burn-in acceptances per part
        self.updates = 0  # burn-in updates
        self.fixed_design = all(link.predictor.fixed for link in links)
        self.followers = []  # componentwise steps run after a GLM block move (see update)
        self.follow = True  # whether they run: see DECIDE_EARLY_AFTER and update
        self.design = None  # X, kept when its coefficients are fixed by the data
        self.mode = None  # the last conditional mode found: where the next search starts

    # --- reading and writing the block --------------------------------------------------

    def _get(self, state: State) -> np.ndarray:
        return np.concatenate([state.get(m.group, m.rows).reshape(state.chains, -1)
                               for m in self.members], axis=1)

    def _set(self, state: State, values: np.ndarray) -> None:
        for m in self.members:
            state.set(m.group, m.rows, values[:, m.coordinates])
        for group, rows, bound in self.deterministic:
            if bound is None:
                state.recompute([group])
            else:
                state.recompute_rows(group, rows, bound[0])

    def _eta(self, state: State) -> np.ndarray:
        """``(chains, n)`` stacked linear predictors of every child element at the current values."""
        parts = []
        for link in self.links:
            p = link.predictor
            if p.expr is None:
                value = _parameters(state, link.group, link.child_rows, link.bound_params)[0]
            elif link.bound_predictor is not None:
                with np.errstate(all="ignore"):
                    value = np.broadcast_to(evaluate(link.bound_predictor[0], state.values),
                                            (state.chains, len(link.child_rows)))
            else:
                with np.errstate(all="ignore"):
                    value = np.broadcast_to(evaluate(p.expr, state.values), (state.chains, p.owner.size))
                value = value[:, link.child_rows if p.rows is None else p.rows[link.child_rows]]
            parts.append(value.reshape(state.chains, -1))
        return np.concatenate(parts, axis=1)

    def _design(self, state: State, current: np.ndarray):
        """``X`` ``(chains, n, d)`` and the intercept ``a`` ``(chains, n)``, by probing."""
        chains = state.chains
        self._set(state, np.zeros((chains, self.size)))
        intercept = self._eta(state)
        design = np.zeros((chains, intercept.shape[1], self.size))
        rows, cols = self.pattern.row, self.pattern.col
        for colour in self.colours:
            probe = np.zeros((chains, self.size))
            probe[:, colour] = 1.0
            self._set(state, probe)
            change = self._eta(state) - intercept
            mine = np.isin(cols, colour)
            design[:, rows[mine], cols[mine]] = change[:, rows[mine]]
        self._set(state, current)
        return design, intercept

    def _observations(self, state: State):
        """Per link: the child values ``(chains, rows)`` and sizes (n, precision or Omega)."""
        observed = []
        for link in self.links:
            y = state.get(link.group, link.child_rows).reshape(state.chains, -1)
            size = link.predictor.family.size(_parameters(state, link.group, link.child_rows, link.bound_params))
            observed.append((y, size if link.width > 1 else np.broadcast_to(size, y.shape)))
        return observed

    # --- the update -----------------------------------------------------------------------

    def update(self, state: State, rngs, adapting: bool) -> None:
        current = self._get(state)
        if self.design is not None:
            design = self.design
            intercept = self._eta(state) - (design @ current[..., None])[..., 0]
        else:
            design, intercept = self._design(state, current)
            self.design = design if self.fixed_design else None
        conditional = _Conditional(self.links, design, intercept, self._observations(state),
                                   *self._prior(state), self.parts)
        if self.exact:  # one Newton step from anywhere reaches the mean of the exact conditional
            here = conditional.at(current)
            self._set(state, here.draw(current + here.step, rngs))
            return
        # Independence Metropolis-Hastings: the normal approximation at the conditional mode.
        start = current if self.mode is None else np.where(np.isfinite(self.mode), self.mode, current)
        self.mode, peak = conditional.mode(start)
        # Parts of the block that share no child are independent: each accepts on its own.
        parts = self.parts
        proposed = peak.draw(self.mode, rngs, HEAVY, parts)
        log_ratio = (conditional.log_target(proposed) - conditional.log_target(current)
                     + peak.log_density(current, self.mode, HEAVY, parts)
                     - peak.log_density(proposed, self.mode, HEAVY, parts))
        log_u = np.log(np.stack([rng.uniform(size=parts.count) for rng in rngs]))
        accept = (log_u < np.nan_to_num(log_ratio, nan=-np.inf)) & peak.usable[:, None]
        self._set(state, np.where(accept[:, parts.of_coordinate], proposed, current))
        # An independence proposal in many dimensions can be refused for a long time where
        # the conditional is far from normal (few Bernoulli children per random effect, a
        # wide prior): componentwise moves after it keep every chain moving. Where every
        # part accepted often during the burn-in they would only double the cost of a
        # sweep, so from then on they are left out (the kernel is fixed after the burn-in;
        # a block that accepts often by DECIDE_EARLY_AFTER burn-in updates drops them then).
        if adapting:
            self.updates += 1
            self.accepted += accept
        if self.follow and self.updates and (not adapting or self.updates == DECIDE_EARLY_AFTER):
            self.follow = self.accepted.min() / self.updates < FOLLOW_BELOW
        if self.follow:
            for follower in self.followers:
                follower.update(state, rngs, adapting)

    def _prior(self, state: State):
        """The members' prior means ``(chains, d)`` and block-diagonal precision ``(chains, d, d)``."""
        mean = np.zeros((state.chains, self.size))
        precision = np.zeros((state.chains, self.size, self.size))
        for m in self.members:
            centre, spread = _parameters(state, m.group, m.rows, m.bound_params)
            mean[:, m.coordinates] = centre.reshape(state.chains, -1)
            rows, cols = m.prior_entries
            precision[:, rows, cols] = spread.reshape(state.chains, -1)
        return mean, precision


class _Conditional:
    """The block's log full conditional, its gradient and Fisher information, all chains."""

    newton_limit = 50
    tolerance = 1e-10  # on the Newton decrement g' H^-1 g

    def __init__(self, links, design, intercept, observed, prior_mean, prior_precision, parts):
        self.links, self.design, self.intercept, self.observed = links, design, intercept, observed
        self.prior_mean, self.prior_precision = prior_mean, prior_precision
        self.parts = parts

    def _log_prior(self, beta):
        delta = beta - self.prior_mean
        return -0.5 * np.einsum("cd,cde,ce->c", delta, self.prior_precision, delta)

    def log_target(self, beta) -> np.ndarray:
        """``(chains, parts)``: the log full conditional of each independent part."""
        delta = beta - self.prior_mean
        prior = -0.5 * delta * (self.prior_precision @ delta[..., None])[..., 0]
        eta = self.intercept + (self.design @ beta[..., None])[..., 0]
        with np.errstate(all="ignore"):
            rows = np.concatenate([link.predictor.family.log_likelihood(eta[:, link.rows], y, size)
                                   for link, (y, size) in zip(self.links, self.observed)], axis=1)
        total = (scatter_add(prior, self.parts.of_coordinate, self.parts.count)
                 + scatter_add(rows, self.parts.of_row, self.parts.count))
        return np.nan_to_num(total, nan=-np.inf)

    def at(self, beta) -> _Point:
        eta = self.intercept + (self.design @ beta[..., None])[..., 0]
        total = self._log_prior(beta)
        precision = self.prior_precision.copy()
        gradient = np.einsum("cde,ce->cd", self.prior_precision, self.prior_mean - beta)
        with np.errstate(all="ignore"):
            for link, (y, size) in zip(self.links, self.observed):
                loglik, information, score = link.predictor.family.information(
                    self.design[:, link.rows], eta[:, link.rows], y, size, link.pairs)
                total, precision, gradient = total + loglik, precision + information, gradient + score
        return _Point(np.nan_to_num(total, nan=-np.inf), gradient, precision)

    def mode(self, beta):
        """Newton (Fisher scoring) with backtracking from ``beta`` to the conditional mode; a
        chain stops where no step along the Newton direction improves (at the mode, up to
        rounding)."""
        point = self.at(beta)
        searching = np.ones(len(beta), bool)
        for _ in range(self.newton_limit):
            decrement = np.einsum("cd,cd->c", point.gradient, point.step)
            searching &= point.usable & (decrement > self.tolerance)
            if not searching.any():
                break
            scale = np.ones(len(beta))
            for _ in range(30):
                trial = beta + np.where(searching, scale, 0.0)[:, None] * point.step
                better = self.log_target(trial).sum(axis=1) >= point.log_target + 1e-4 * scale * decrement
                if (better | ~searching).all():
                    break
                scale = np.where(better, scale, scale / 2)
            searching &= better
            beta = np.where(searching[:, None], trial, beta)
            point = self.at(beta)
        return beta, point


class _Point:
    """What the conditional looks like at one point: log density, gradient, Fisher information
    (as precision), its Cholesky factor and the Newton step; ``usable`` is False for chains
    where the information is not positive definite (far in the tails)."""

    def __init__(self, log_target, gradient, precision):
        self.log_target, self.gradient, self.precision = log_target, gradient, precision
        chains, d = gradient.shape
        self.factor = np.tile(np.eye(d), (chains, 1, 1))
        self.step = np.zeros((chains, d))
        self.usable = np.isfinite(log_target)
        for c in range(chains):
            try:
                self.factor[c] = linalg.cholesky(precision[c], lower=True)
                self.step[c] = linalg.cho_solve((self.factor[c], True), gradient[c])
            except (linalg.LinAlgError, ValueError):
                self.usable[c] = False

    def draw(self, centre, rngs, heavy: float = 0.0, parts: _Parts | None = None) -> np.ndarray:
        """One draw per chain around ``centre`` with this precision: normal, or, each of the
        independent ``parts`` with probability ``heavy``, multivariate t with ``TAIL_DF``
        degrees of freedom."""
        out = []
        for c, rng in enumerate(rngs):
            if not self.usable[c]:
                out.append(centre[c])
                continue
            z = linalg.solve_triangular(self.factor[c], rng.standard_normal(centre.shape[1]),
                                        lower=True, trans="T")
            if heavy:
                stretched = rng.uniform(size=parts.count) < heavy
                scale = np.where(stretched, np.sqrt(TAIL_DF / rng.chisquare(TAIL_DF, size=parts.count)), 1.0)
                z = z * scale[parts.of_coordinate]
            out.append(centre[c] + z)
        return np.stack(out)

    def log_density(self, x, centre, heavy: float = 0.0, parts: _Parts | None = None) -> np.ndarray:
        """Log density of ``x`` under the normal (or the normal-t mixture ``heavy``) around
        ``centre``, up to a constant common to every point: ``(chains,)``, or ``(chains,
        parts)`` for the independent parts (the precision has no entries across them)."""
        delta = x - centre
        terms = delta * (self.precision @ delta[..., None])[..., 0]
        if parts is None:
            return -0.5 * terms.sum(axis=1)
        distance = scatter_add(terms, parts.of_coordinate, parts.count)
        normal = -0.5 * distance
        if not heavy:
            return normal
        d, nu = parts.sizes, TAIL_DF
        t = (special.gammaln((nu + d) / 2) - special.gammaln(nu / 2) - d / 2 * np.log(nu / 2)
             - (nu + d) / 2 * np.log1p(distance / nu))  # both relative to (2 pi)^-d/2 |H|^1/2
        return np.logaddexp(np.log1p(-heavy) + normal, np.log(heavy) + t)


class _Parts:
    """The block's independent parts: coordinates linked by a shared child or by one
    multivariate prior are in one part; separate parts have separate accept decisions."""

    def __init__(self, pattern: sparse.csr_matrix, members: list[Member]):
        size = pattern.shape[1]
        links = coupled(pattern)
        for m in members:
            if m.width > 1:  # the components of one dmnorm node
                first = np.arange(m.offset, m.coordinates.stop, m.width)
                within = np.repeat(first, m.width) + np.tile(np.arange(m.width), len(first))
                links = links + sparse.csr_matrix((np.ones(len(within)), (within, np.repeat(first, m.width))),
                                                  shape=(size, size))
        self.count, self.of_coordinate = csgraph.connected_components(links, directed=False)
        self.of_row = self.of_coordinate[pattern.indices[pattern.indptr[:-1]]]
        self.sizes = np.bincount(self.of_coordinate, minlength=self.count)


def _sparse_pairs(pattern: sparse.csr_matrix):
    """``(row, j, k)`` for every two coordinates ``j, k`` a row reads, when that is much less
    work than the dense ``X' W X``; else None."""
    counts = pattern.getnnz(axis=1)
    if (counts ** 2).sum() * 8 > pattern.shape[0] * pattern.shape[1] ** 2:
        return None
    pairs = counts ** 2  # per row, its coordinates j (outer) by k (inner)
    within = np.arange(pairs.sum()) - np.repeat(np.cumsum(pairs) - pairs, pairs)
    width, first = np.repeat(counts, pairs), np.repeat(pattern.indptr[:-1], pairs)
    return (np.repeat(np.arange(pattern.shape[0]), pairs), pattern.indices[first + within // width],
            pattern.indices[first + within % width])


def _colour(pattern: sparse.csr_matrix) -> list[np.ndarray]:
    """Coordinates in sets that never share a child element: one probe per set."""
    conflicts = (pattern.T @ pattern).tocoo()
    graph = nx.Graph()
    graph.add_nodes_from(range(pattern.shape[1]))
    graph.add_edges_from((int(a), int(b)) for a, b in zip(conflicts.row, conflicts.col) if a < b)
    colour_of = nx.greedy_color(graph, strategy="largest_first")
    sets: dict[int, list[int]] = {}
    for node, colour in colour_of.items():
        sets.setdefault(colour, []).append(node)
    return [np.array(sorted(members)) for _, members in sorted(sets.items())]


# --- finding the blocks ---------------------------------------------------------------------


def _candidate(group: NodeGroup) -> bool:
    return (group.kind == "stochastic" and group.bounds is None
            and (group.distribution.name, len(group.value_shape)) in (("dnorm", 0), ("dmnorm", 1)))


def _reads_linearly(model: ModelGraph, targets: list[NodeGroup]) -> dict | str:
    """Each child group's :class:`Predictor` when every child reads the targets jointly linearly."""
    deterministic, children = downstream(model, *targets)
    names = {t.name for t in targets}
    if names & {c.name for c in children}:
        return "one of them is another's child"
    linearity = Linearity(model, targets, deterministic)
    found = {}
    for child in children:
        result = predictor(model, child, linearity)
        if isinstance(result, str):
            return result
        found[child.name] = result
    return found if found else "no children"


def find_blocks(model: ModelGraph, rows: dict[str, np.ndarray], informed, chains: int) -> list[BlockStep]:
    """The block steps for the candidate groups, given their MCMC ``rows`` by group name."""
    eligible = [g for g in model.groups if g.name in rows and _candidate(g)
                and isinstance(_reads_linearly(model, [g]), dict)]
    sharing = nx.Graph()
    sharing.add_nodes_from(g.name for g in eligible)
    readers: dict[str, list[str]] = {}
    for group in eligible:
        for child in downstream(model, group)[1]:
            readers.setdefault(child.name, []).append(group.name)
    for names in readers.values():
        sharing.add_edges_from(zip(names, names[1:]))
    steps = []
    for component in nx.connected_components(sharing):
        members = sorted((model.group(n) for n in component), key=lambda g: model.groups.index(g))
        steps += _block(model, members, rows, informed, chains)
    return steps


def _block(model, members, rows, informed, chains) -> list[BlockStep]:
    """The largest workable block of ``members``: jointly linear, within the size limit; or,
    where they fall into small independent parts (each group's effects in a varying-slopes
    model), blocks of whole parts."""
    while members:
        size = sum(len(rows[g.name]) * _width(g) for g in members)
        predictors = _reads_linearly(model, members)
        if isinstance(predictors, dict):
            reads = _element_reads(model, members, rows, informed)
            chunks = _chunks(model, members, rows, informed, predictors, chains, reads) if size > CHUNK_COORDINATES else []
            if chunks:
                return chunks
            if size <= MAX_COORDINATES:
                step = _assemble(model, members, rows, informed, predictors, chains, reads)
                return [step] if step is not None else []
        members = sorted(members, key=lambda g: len(rows[g.name]) * _width(g))[:-1]
    return []


def _width(group: NodeGroup) -> int:
    return int(np.prod(group.value_shape, dtype=int))


def _element_reads(model, members, rows, informed) -> dict:
    """Per child group of the members: for each member, a sparse (child elements x the
    member's ``rows``) matrix of which informative child elements read which rows."""
    children = downstream(model, *members)[1]
    reads = {c.name: [] for c in children}
    for group in members:
        matrices = dependence(model, group, *downstream(model, group))
        for child in children:
            matrix = matrices.get(child.name)
            if matrix is None:
                matrix = sparse.csr_matrix((child.size, group.size), dtype=np.int8)
            keep = sparse.diags((child.observed | informed[child.name]).astype(np.int8), dtype=np.int8)
            reads[child.name].append((keep @ matrix[:, rows[group.name]]).tocsr())
    return reads


def _chunks(model, members, rows, informed, predictors, chains, reads) -> list[BlockStep]:
    """Blocks of consecutive independent parts (rows that share no child element, directly
    or through others), each block up to ``CHUNK_COORDINATES`` coordinates: updating them one
    after another is the joint draw, at a cost linear in the number of parts. Empty where a
    part alone is too large or a block would gain nothing. ``reads``: as
    :func:`_element_reads` gives them."""
    counts = [len(rows[g.name]) for g in members]
    widths = np.repeat([_width(g) for g in members], counts)
    shared = sparse.vstack([sparse.hstack(matrices) for matrices in reads.values()]).tocsr()
    if ((shared != 0) @ widths < 2).all():  # no child reads two coordinates: nothing to gain
        return []
    _, part = csgraph.connected_components(coupled(shared), directed=False)
    part_width = np.bincount(part, weights=widths)
    if part_width.max() > CHUNK_COORDINATES:
        return []
    # parts in order of their first row, packed greedily
    first_row = np.full(len(part_width), len(part))
    np.minimum.at(first_row, part, np.arange(len(part)))
    chunk_of_part, filled, chunk = np.zeros(len(part_width), int), 0, 0
    for p in np.argsort(first_row):
        if filled + part_width[p] > CHUNK_COORDINATES:
            chunk, filled = chunk + 1, 0
        chunk_of_part[p], filled = chunk, filled + part_width[p]
    chunk_of_row = chunk_of_part[part]
    starts = np.cumsum([0] + counts)
    steps = []
    for c in range(chunk + 1):
        mine = [np.flatnonzero(chunk_of_row[a:b] == c) for a, b in zip(starts, starts[1:])]
        inside = [k for k, positions in enumerate(mine) if len(positions)]
        step = _assemble(model, [members[k] for k in inside],
                         {members[k].name: rows[members[k].name][mine[k]] for k in inside}, informed,
                         predictors, chains,
                         {name: [matrices[k][:, mine[k]] for k in inside] for name, matrices in reads.items()})
        if step is None:
            return []
        steps.append(step)
    return steps


def _assemble(model, members, rows, informed, predictors, chains, reads=None) -> BlockStep | None:
    """The block step: which child elements read which coordinates, stacked over the
    children (``reads``, from :func:`_element_reads`, where already made)."""
    deterministic, children = downstream(model, *members)
    reads = reads if reads is not None else _element_reads(model, members, rows, informed)
    placed, offset = [], 0
    for group in members:
        placed.append(Member(group, rows[group.name], offset))
        offset += len(rows[group.name]) * _width(group)
    links, blocks, start = [], [], 0
    for child in children:
        child_rows = np.flatnonzero(sparse.hstack(reads[child.name]).getnnz(axis=1))
        if not len(child_rows):
            continue
        width = _width(child)
        # element level -> coordinate level: each component of a child element may read each
        # component of a member element
        blocks.append(sparse.hstack([sparse.kron(m[child_rows], np.ones((width, _width(g)), np.int8))
                                     for m, g in zip(reads[child.name], members)]).tocsr())
        links.append(BlockLink(child, child_rows, predictors[child.name], start, width))
        start += len(child_rows) * width
    if not links:
        return None
    pattern = sparse.vstack(blocks).tocsr()
    if (pattern.getnnz(axis=1) < 2).all():  # no child reads two coordinates: nothing to gain
        return None
    step = BlockStep(placed, links, pattern, _fed(model, members, rows, deterministic), chains)
    if not step.exact:
        step.followers = _followers(model, step, informed, chains)
    return step


def _fed(model, members, rows, deterministic) -> list[tuple]:
    """Each deterministic group downstream, with the elements that the members' ``rows``
    feed (None: all, for a group whose elements read each other)."""
    fed = {group.name: np.zeros(group.size, bool) for group in deterministic}
    for member in members:
        for name, matrix in dependence(model, member, deterministic, deterministic).items():
            fed[name] |= matrix[:, rows[member.name]].getnnz(axis=1) > 0
    return [(group, None if model.graph.has_edge(group.name, group.name) else np.flatnonzero(fed[group.name]))
            for group in deterministic]


def _followers(model, step: BlockStep, informed, chains) -> list:
    """The moves after a GLM block's: where a few coordinates couple the rest (fixed
    effects and the random effects they shift, :func:`hiergraph.coupling.split`), a block
    move of the pieces given the border and one of the border given the pieces, each with
    followers of its own; else, or where a side is not a block, componentwise moves."""
    sides = split(step.pattern) if all(m.width == 1 for m in step.members) else None
    if sides is None:
        return _componentwise(model, step.members, informed, chains)
    followers = []
    for coordinates in sides:
        rows = {m.group.name: m.rows[_within(m, coordinates)] for m in step.members}
        members = [m for m in step.members if len(rows[m.group.name])]
        groups = [m.group for m in members]
        predictors = _reads_linearly(model, groups)
        block = _assemble(model, groups, rows, informed, predictors, chains) if isinstance(predictors, dict) else None
        followers += [block] if block is not None else _componentwise(
            model, [Member(m.group, rows[m.group.name], 0) for m in members], informed, chains)
    return followers


def _within(member: Member, coordinates: np.ndarray) -> np.ndarray:
    """The positions in ``member.rows`` of those of ``coordinates`` that are the member's."""
    return coordinates[(coordinates >= member.offset) & (coordinates < member.coordinates.stop)] - member.offset


def _componentwise(model, members: list[Member], informed, chains) -> list:
    return [EllipticalSliceStep(b) if m.width > 1 else SliceStep(b, chains)
            for m in members for b in blankets(model, m.group, m.rows, informed)]
