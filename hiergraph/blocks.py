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
  in the tails comes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import networkx as nx
import numpy as np
from scipy import linalg, special, sparse

from .blanket import dependence, downstream
from .evaluator import Apply, Ref, evaluate
from .linearity import CONST, NONLINEAR, Linearity
from .model_graph import ModelGraph, NodeGroup
from .state import State

MAX_COORDINATES = 400  # a dense Cholesky factor per chain and sweep: O(d^3)
# The independence proposal is a normal mixed with a little multivariate t, whose heavy
# tails let a chain that starts far out in the tails (or gets there) come back.
HEAVY, TAIL_DF = 0.1, 4


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


@dataclass(frozen=True)
class Family:
    """A child distribution with a link: ``(eta, y, size) -> (log likelihood up to a constant,
    Fisher weight W, score d loglik / d eta)``."""

    name: str
    terms: Callable
    size: Callable  # the child's parameters -> its second argument (n, precision), or 1


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
    return Predictor(family, None if link is None else expr, owner, rows)


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
    """Child elements ``child_rows`` of one group, at rows ``offset:offset+len`` of the stacked
    linear predictor."""

    group: NodeGroup
    child_rows: np.ndarray
    predictor: Predictor
    offset: int


class BlockStep:
    """One joint update of several groups' rows (see the module docstring)."""

    def __init__(self, members, links, pattern, deterministic, chains):
        self.members = members  # [(group, rows, offset)]
        self.group, self.rows = members[0][0], members[0][1]
        self.links = links
        self.size = sum(len(rows) for _, rows, _ in members)
        self.pattern = pattern.tocoo()  # (stacked child rows) x coordinates, 1 where read
        self.colours = _colour(pattern)
        self.deterministic = deterministic
        self.exact = all(link.predictor.family.name == "normal" for link in links)
        self.name = "conjugate_normal_block" if self.exact else "glm_iwls_block"
        self.accepted = np.zeros(chains)
        self.updates = 0
        self.mode = None  # the last conditional mode found: where the next search starts

    # --- reading and writing the block --------------------------------------------------

    def _get(self, state: State) -> np.ndarray:
        return np.concatenate([state.get(g, rows).reshape(state.chains, -1)
                               for g, rows, _ in self.members], axis=1)

    def _set(self, state: State, values: np.ndarray) -> None:
        for group, rows, offset in self.members:
            state.set(group, rows, values[:, offset:offset + len(rows)])
        state.recompute(self.deterministic)

    def _eta(self, state: State) -> np.ndarray:
        """``(chains, n)`` stacked linear predictors of every child element at the current values."""
        parts = []
        for link in self.links:
            p = link.predictor
            if p.expr is None:
                value = state.parameters(link.group)[0][:, link.child_rows]
            else:
                with np.errstate(all="ignore"):
                    value = np.broadcast_to(evaluate(p.expr, state.values), (state.chains, p.owner.size))
                value = value[:, link.child_rows if p.rows is None else p.rows[link.child_rows]]
            parts.append(value)
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
        """Stacked child values, sizes (n or precision) and families' term functions."""
        values, sizes = [], []
        for link in self.links:
            values.append(state.get(link.group, link.child_rows).reshape(state.chains, -1))
            params = [p[:, link.child_rows] for p in state.parameters(link.group)]
            sizes.append(np.broadcast_to(link.predictor.family.size(params), values[-1].shape))
        return np.concatenate(values, axis=1), np.concatenate(sizes, axis=1)

    def _terms(self, eta, y, size):
        """Log likelihood (per chain), Fisher weights and scores of the stacked children."""
        loglik, weight, score = (np.empty(y.shape) for _ in range(3))
        with np.errstate(all="ignore"):
            for link in self.links:
                part = slice(link.offset, link.offset + len(link.child_rows))
                loglik[:, part], weight[:, part], score[:, part] = link.predictor.family.terms(
                    eta[:, part], y[:, part], size[:, part])
        return loglik.sum(axis=1), weight, score

    # --- the update -----------------------------------------------------------------------

    def update(self, state: State, rngs, adapting: bool) -> None:
        current = self._get(state)
        design, intercept = self._design(state, current)
        y, size = self._observations(state)
        conditional = _Conditional(self, design, intercept, y, size, *self._prior(state))
        if self.exact:  # one Newton step from anywhere reaches the mean of the exact conditional
            here = conditional.at(current)
            self._set(state, here.draw(current + here.step, rngs))
            return
        # Independence Metropolis-Hastings: the normal approximation at the conditional mode.
        start = current if self.mode is None else np.where(np.isfinite(self.mode), self.mode, current)
        self.mode, peak = conditional.mode(start)
        proposed = peak.draw(self.mode, rngs, HEAVY)
        log_ratio = (conditional.log_target(proposed) - conditional.log_target(current)
                     + peak.log_density(current, self.mode, HEAVY)
                     - peak.log_density(proposed, self.mode, HEAVY))
        log_u = np.log([rng.uniform() for rng in rngs])
        accept = (log_u < np.nan_to_num(log_ratio, nan=-np.inf)) & peak.usable
        self._set(state, np.where(accept[:, None], proposed, current))
        self.updates += 1
        self.accepted += accept

    def _prior(self, state: State):
        means, precisions = [], []
        for group, rows, _ in self.members:
            mean, precision = state.parameters(group)
            means.append(mean[:, rows])
            precisions.append(precision[:, rows])
        return np.concatenate(means, axis=1), np.concatenate(precisions, axis=1)


class _Conditional:
    """The block's log full conditional, its gradient and Fisher information, all chains."""

    newton_limit = 50
    tolerance = 1e-10  # on the Newton decrement g' H^-1 g

    def __init__(self, step: BlockStep, design, intercept, y, size, prior_mean, prior_precision):
        self.step, self.design, self.intercept, self.y, self.size = step, design, intercept, y, size
        self.prior_mean, self.prior_precision = prior_mean, prior_precision

    def _eta(self, beta):
        return self.intercept + np.einsum("cnd,cd->cn", self.design, beta)

    def log_target(self, beta) -> np.ndarray:
        loglik, _, _ = self.step._terms(self._eta(beta), self.y, self.size)
        log_prior = -0.5 * np.sum(self.prior_precision * (beta - self.prior_mean) ** 2, axis=1)
        return np.nan_to_num(loglik + log_prior, nan=-np.inf)

    def at(self, beta) -> _Point:
        _, weight, score = self.step._terms(self._eta(beta), self.y, self.size)
        precision = np.einsum("cnd,cn,cne->cde", self.design, weight, self.design)
        index = np.arange(beta.shape[1])
        precision[:, index, index] += self.prior_precision
        gradient = (self.prior_precision * (self.prior_mean - beta)
                    + np.einsum("cnd,cn->cd", self.design, score))
        return _Point(self.log_target(beta), gradient, precision)

    def mode(self, beta):
        """Newton (Fisher scoring) with backtracking from ``beta`` to the conditional mode."""
        point = self.at(beta)
        for _ in range(self.newton_limit):
            decrement = np.einsum("cd,cd->c", point.gradient, point.step)
            moving = point.usable & (decrement > self.tolerance)
            if not moving.any():
                break
            scale = np.ones(len(beta))
            for _ in range(40):
                trial = beta + np.where(moving, scale, 0.0)[:, None] * point.step
                better = self.log_target(trial) >= point.log_target + 1e-4 * scale * decrement
                if (better | ~moving).all():
                    break
                scale = np.where(better, scale, scale / 2)
            beta = np.where((moving & better)[:, None], trial, beta)
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

    def draw(self, centre, rngs, heavy: float = 0.0) -> np.ndarray:
        """One draw per chain around ``centre`` with this precision: normal, or with
        probability ``heavy`` multivariate t with ``TAIL_DF`` degrees of freedom."""
        out = []
        for c, rng in enumerate(rngs):
            if not self.usable[c]:
                out.append(centre[c])
                continue
            z = linalg.solve_triangular(self.factor[c], rng.standard_normal(centre.shape[1]),
                                        lower=True, trans="T")
            if heavy and rng.uniform() < heavy:
                z = z / np.sqrt(rng.chisquare(TAIL_DF) / TAIL_DF)
            out.append(centre[c] + z)
        return np.stack(out)

    def log_density(self, x, centre, heavy: float = 0.0) -> np.ndarray:
        """Log density of ``x`` under the normal (or the normal-t mixture ``heavy``) around
        ``centre``, up to a constant common to every point."""
        distance = np.einsum("cd,cde,ce->c", x - centre, self.precision, x - centre)
        normal = -0.5 * distance
        if not heavy:
            return normal
        d, nu = x.shape[1], TAIL_DF
        t = (special.gammaln((nu + d) / 2) - special.gammaln(nu / 2) - d / 2 * np.log(nu / 2)
             - (nu + d) / 2 * np.log1p(distance / nu))  # both relative to (2 pi)^-d/2 |H|^1/2
        return np.logaddexp(np.log1p(-heavy) + normal, np.log(heavy) + t)


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
    return (group.kind == "stochastic" and group.distribution.name == "dnorm"
            and group.bounds is None and not group.value_shape)


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
        step = _block(model, members, rows, informed, chains)
        if step is not None:
            steps.append(step)
    return steps


def _block(model, members, rows, informed, chains) -> BlockStep | None:
    """The largest workable block of ``members``: jointly linear, within the size limit."""
    while members:
        if sum(len(rows[g.name]) for g in members) <= MAX_COORDINATES:
            predictors = _reads_linearly(model, members)
            if isinstance(predictors, dict):
                return _assemble(model, members, rows, informed, predictors, chains)
        members = sorted(members, key=lambda g: len(rows[g.name]))[:-1]
    return None


def _assemble(model, members, rows, informed, predictors, chains) -> BlockStep | None:
    deterministic, children = downstream(model, *members)
    placed, offset, columns = [], 0, {c.name: [] for c in children}
    for group in members:
        mine = rows[group.name]
        det, kids = downstream(model, group)
        matrices = dependence(model, group, det, kids)
        for child in children:
            matrix = matrices.get(child.name)
            if matrix is None:
                matrix = sparse.csr_matrix((child.size, group.size), dtype=np.int8)
            keep = child.observed | informed[child.name]
            columns[child.name].append(sparse.diags(keep.astype(np.int8), dtype=np.int8) @ matrix[:, mine])
        placed.append((group, mine, offset))
        offset += len(mine)
    links, blocks, start = [], [], 0
    for child in children:
        matrix = sparse.hstack(columns[child.name]).tocsr()
        child_rows = np.flatnonzero(matrix.getnnz(axis=1))
        if not len(child_rows):
            continue
        links.append(BlockLink(child, child_rows, predictors[child.name], start))
        blocks.append(matrix[child_rows])
        start += len(child_rows)
    if not links:
        return None
    pattern = sparse.vstack(blocks).tocsr()
    if (pattern.getnnz(axis=1) < 2).all():  # no child reads two coordinates: nothing to gain
        return None
    return BlockStep(placed, links, pattern, deterministic, chains)
