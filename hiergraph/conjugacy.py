"""Conjugate updates as a table of rules: a prior family, the children it is conjugate to, and
what each child adds to the posterior.

A rule applies to a group when its prior is in the rule's family and every child density
reads the group only through the designated parameter, in the designated way (the node
itself, a multiple of it, or a linear function of it; :mod:`hiergraph.linearity`), and
its other parameters not at all. The coefficients of that dependence are read by
evaluating the children's parameters with the updated nodes set to 0 and to 1 (JAGS's
trick), skipped when a child reads the node directly. Posteriors (Gelman et al., *Bayesian
Data Analysis*, 3rd ed., ch. 2-3; JAGS's ConjugateBeta, ConjugateGamma, ConjugateNormal):

* beta(a, b) <- binomial y of n: a + y, b + n - y; Bernoulli y: a + y, b + 1 - y;
  negative binomial y with size r: a + r, b + y.
* gamma(r, mu) <- a child whose rate or precision is c * node: Poisson y (rate c·λ): r + y,
  mu + c; normal or log-normal y with mean m, precision c·τ: r + 1/2, mu + c·(y - m)²/2;
  exponential y: r + 1, mu + c·y; gamma y with shape s: r + s, mu + c·y; Weibull y with
  shape v: r + 1, mu + c·y^v.
* normal(m, τ) <- normal (or log-normal) children with mean a + b·node and precision t:
  precision τ + Σ t·b², mean (τ·m + Σ t·b·(y - a)) / precision.
* Dirichlet(α) <- categorical y: α + the indicator of y; multinomial y: α + y.
* Wishart(R, k) <- multivariate normal y with mean m and precision the node itself:
  R + Σ (y - m)(y - m)', k + the number of children (JAGS's dwish(R, k) has E = k R⁻¹).

A truncated prior gives the same posterior truncated to the same interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import special

from .arrays import distinct_rows
from .blanket import Blanket
from .consistency import known_parameters
from .distributions import DISTRIBUTIONS
from .evaluator import Const, Ref, nodes, refs, restrict
from .linearity import CONST, IDENTITY, LINEAR, NONLINEAR, SCALE, Linearity, at_most
from .samplers import per_chain, scatter_add
from .state import State


@dataclass(frozen=True)
class ChildRule:
    parameter: int  # which parameter of the child reads the updated node
    most: str  # the most general dependence allowed: IDENTITY, SCALE or LINEAR
    label: str  # the child family's name in the sampler's name
    # (child values, child parameters, coefficient, intercept) -> two posterior increments
    increments: Callable


def _log(y):
    with np.errstate(divide="ignore"):
        return np.log(y)


BETA_CHILDREN = {
    "dbin": ChildRule(0, IDENTITY, "binomial", lambda y, p, c, a: (y, p[1] - y)),
    "dbern": ChildRule(0, IDENTITY, "bernoulli", lambda y, p, c, a: (y, 1 - y)),
    "dnegbin": ChildRule(0, IDENTITY, "negbin", lambda y, p, c, a: (p[1], y)),
}
GAMMA_CHILDREN = {
    "dpois": ChildRule(0, SCALE, "poisson", lambda y, p, c, a: (y, c)),
    "dnorm": ChildRule(1, SCALE, "normal", lambda y, p, c, a: (np.full_like(y, 0.5), c * (y - p[0]) ** 2 / 2)),
    "dlnorm": ChildRule(1, SCALE, "lognormal",
                        lambda y, p, c, a: (np.full_like(y, 0.5), c * (_log(y) - p[0]) ** 2 / 2)),
    "dexp": ChildRule(0, SCALE, "exponential", lambda y, p, c, a: (np.ones_like(y), c * y)),
    "dgamma": ChildRule(1, SCALE, "gamma", lambda y, p, c, a: (p[0] + 0 * y, c * y)),
    "dweib": ChildRule(1, SCALE, "weibull", lambda y, p, c, a: (np.ones_like(y), c * y ** p[0])),
}
NORMAL_CHILDREN = {
    "dnorm": ChildRule(0, LINEAR, "normal", lambda y, p, b, a: (p[1] * b * b, p[1] * b * (y - a))),
    "dlnorm": ChildRule(0, LINEAR, "lognormal",
                        lambda y, p, b, a: (p[1] * b * b, p[1] * b * (_log(y) - a))),
}


def _beta_prior(dist_name, params):
    if dist_name == "dunif":  # uniform(0, 1) is beta(1, 1); checked to be exactly that
        return np.ones_like(params[0]), np.ones_like(params[0])
    return params[0], params[1]


def _gamma_prior(dist_name, params):
    if dist_name == "dexp":
        return np.ones_like(params[0]), params[0]
    if dist_name == "dchisqr":
        return params[0] / 2, np.full_like(params[0], 0.5)
    return params[0], params[1]


@dataclass(frozen=True)
class Rule:
    family: str  # 'beta', 'gamma', 'normal'
    priors: frozenset
    children: dict
    prior: Callable  # (prior name, its parameters) -> the two posterior parameters before data


def _category_counts(y, params, c, a):
    """A dcat child adds one to the count of its category (1-based)."""
    width = params[0].shape[-1]
    return (np.arange(1, width + 1) == y[..., None]).astype(float), None


DIRICHLET_CHILDREN = {
    "dcat": ChildRule(0, IDENTITY, "categorical", _category_counts),
    "dmulti": ChildRule(0, IDENTITY, "multinomial", lambda y, p, c, a: (y, None)),
}

WISHART_CHILDREN = {
    "dmnorm": ChildRule(1, IDENTITY, "mnormal",
                        lambda y, p, c, a: ((y - p[0])[..., :, None] * (y - p[0])[..., None, :], 1.0)),
}

RULES = [
    Rule("beta", frozenset({"dbeta", "dunif"}), BETA_CHILDREN, _beta_prior),
    Rule("gamma", frozenset({"dgamma", "dexp", "dchisqr"}), GAMMA_CHILDREN, _gamma_prior),
    Rule("normal", frozenset({"dnorm"}), NORMAL_CHILDREN, lambda name, p: (p[0], p[1])),
    # Dirichlet(alpha) <- categorical y: alpha + one-hot(y); multinomial y: alpha + y.
    Rule("dirichlet", frozenset({"ddirch"}), DIRICHLET_CHILDREN, lambda name, p: (p[0], None)),
    Rule("wishart", frozenset({"dwish"}), WISHART_CHILDREN, lambda name, p: (p[0], p[1])),
]


# Log normalising constants of each conjugate family in the parameters ConjugateStep.posterior
# uses: the density is exp(natural terms) / Z.
LOG_NORMALISERS = {
    "beta": lambda a, b: special.betaln(a, b),
    "gamma": lambda shape, rate: special.gammaln(shape) - shape * np.log(rate),
    "normal": lambda weighted, precision: 0.5 * weighted ** 2 / precision - 0.5 * np.log(precision),
}


@dataclass(frozen=True)
class LinkPlan:
    """How one child group enters a conjugate update."""

    rule: ChildRule
    kind: str  # IDENTITY, SCALE or LINEAR


def match(model, group, deterministic, children) -> tuple[Rule | None, dict, str]:
    """The rule that applies to ``group`` with these children, the plan for each child, or why none."""
    dist = group.distribution.name
    rules = [r for r in RULES if dist in r.priors]
    if not rules:
        return None, {}, f"no conjugate rule has a {dist} prior"
    rule = rules[0]
    if dist == "dunif" and not _is_unit_uniform(model, group):
        return None, {}, "a uniform prior is conjugate only as dunif(0, 1)"
    if not children:
        return None, {}, "it has no children"
    linearity = Linearity(model, group, deterministic)
    plans = {}
    for child in children:
        child_rule = rule.children.get(child.distribution.name)
        if child_rule is None:
            return None, {}, (f"its child {child.name} ~ {child.distribution.name} is not conjugate "
                              f"to a {rule.family} prior")
        if child.bounds is not None:
            return None, {}, f"its child {child.name} is truncated"
        kinds = [linearity.of(p) for p in child.params]
        kind = kinds[child_rule.parameter]
        others = [k for i, k in enumerate(kinds) if i != child_rule.parameter]
        param = child.distribution.params[child_rule.parameter]
        if any(k != CONST for k in others):
            return None, {}, f"its child {child.name} reads it in a parameter other than {param}"
        if kind == CONST or not at_most(kind, child_rule.most):
            how = {CONST: "not at all", LINEAR: "linearly, with an intercept",
                   NONLINEAR: "nonlinearly"}.get(kind, kind)
            need = {IDENTITY: "the node itself", SCALE: "the node times a constant",
                    LINEAR: "a linear function of the node"}[child_rule.most]
            return None, {}, (f"its child {child.name} ~ {child.distribution.name} reads it through "
                              f"{param} {how}; a {rule.family} prior needs {need}")
        plans[child.name] = LinkPlan(child_rule, kind)
    return rule, plans, ""


def _is_unit_uniform(model, group) -> bool:
    lower, upper = known_parameters(model, group)
    return bool(np.all(lower == 0) and np.all(upper == 1))


class ConjugateStep:
    """A direct draw from the full conditional of conditionally independent rows."""

    def __init__(self, blanket: Blanket, rule: Rule, plans: dict):
        self.group, self.rows, self.blanket = blanket.target, blanket.rows, blanket
        self.rule = rule
        self.links = [(link, plans[link.group.name]) for link in blanket.children]
        labels = sorted({plan.rule.label for _, plan in self.links})
        self.name = f"conjugate_{rule.family}_{'_'.join(labels)}"
        self._fixed = None  # the children's increments where the data fix them, else False
        self._classes = None  # rows sharing one log marginal (see log_marginal), else False

    def update(self, state: State, rngs, adapting: bool) -> None:
        _, posterior = self.posterior(state)
        state.set(self.group, self.rows, self._draw(state, rngs, *posterior))
        state.recompute(self.blanket.deterministic)

    def posterior(self, state: State):
        """``(prior, posterior)`` parameter pairs ``(chains, k)`` of the rows: (a, b) for beta,
        (shape, rate) for gamma, (precision x mean, precision) for normal."""
        prior = self._prior(state, slice(None))
        first, second = self._increments(state)
        return prior, (prior[0] + first, prior[1] + second)

    def _prior(self, state: State, positions):
        """The two posterior parameters before the data, at ``rows[positions]``."""
        return self._prior_from([p[:, self.rows[positions]] for p in state.parameters(self.group)])

    def _prior_from(self, params):
        first, second = self.rule.prior(self.group.distribution.name, params)
        first, second = np.array(first, float), np.array(second, float)
        if self.rule.family == "normal":
            first, second = second * first, second
        return first, second

    def _increments(self, state: State):
        """What the children add to the two parameters, ``(chains, k)`` each; summed once
        where nothing it reads can change (:meth:`_increments_fixed`)."""
        if self._fixed is None:
            self._fixed = self._sum_increments(state) if self._increments_fixed(state) else False
        return self._sum_increments(state) if self._fixed is False else self._fixed

    def _increments_fixed(self, state: State) -> bool:
        """Whether every child element is observed, reads the rows as they are, and has data
        in its other parameters. (A rule's increments never read the parameter through
        which a child reads the rows: they are the likelihood's sufficient statistics in it.)"""
        for link, plan in self.links:
            child = link.group
            if plan.kind != IDENTITY or not child.observed[link.child_rows].all():
                return False
            for i, param in enumerate(child.params):
                if i != plan.rule.parameter and any(np.ndim(state.values[r.var]) > 1 for r in refs(param)):
                    return False
        return True

    def _sum_increments(self, state: State):
        k = len(self.rows)
        first = second = np.zeros((state.chains, k))
        for (link, plan), (b, a) in zip(self.links, self._coefficients(state)):
            child = link.group
            y = state.get(child, link.child_rows).reshape(state.chains, -1)
            params = [p[:, link.child_rows] for p in state.parameters(child)]
            inc_a, inc_b = plan.rule.increments(y, params, b, a)
            if self.rule.family == "normal":
                inc_a, inc_b = inc_b, inc_a
            first = first + scatter_add(np.broadcast_to(inc_a, y.shape), link.positions, k)
            second = second + scatter_add(np.broadcast_to(inc_b, y.shape), link.positions, k)
        return first, second

    def log_marginal(self, state: State) -> np.ndarray:
        """``(chains, k)`` log marginal likelihood of each row's children with the row
        integrated out, up to terms that do not depend on the row's prior parameters:
        log Z(posterior) - log Z(prior) of the family's normaliser (e.g. the beta-binomial's
        log B(a + y, b + n - y) - log B(a, b)). Untruncated priors only."""
        classes = self.marginal_classes(state)
        if classes is not None:
            return self.class_log_marginal(state)[:, classes.of_row]
        prior = self._prior(state, slice(None))
        increments = self._increments(state)
        with np.errstate(all="ignore"):
            return self._normaliser(prior[0] + increments[0], prior[1] + increments[1], prior)

    def marginal_classes(self, state: State) -> MarginalClasses | None:
        """Classes of rows with equal marginals, where the increments are fixed by the data:
        rows with equal increments whose prior parameters are the same function of the same
        positions. A rat-tumour model with 10^6 experiments has a few thousand distinct (y, n),
        so each marginal is computed once per class."""
        if self._classes is None:
            increments = self._increments(state)
            self._classes = False if self._fixed is False else _classes(self.group, self.rows, increments)
        return self._classes or None

    def class_log_marginal(self, state: State) -> np.ndarray:
        """``(chains, classes)``: :meth:`log_marginal` at one row of each class."""
        classes = self.marginal_classes(state)
        prior = self._prior_from(state.parameters(self.group, classes.params, classes.param_rows))
        with np.errstate(all="ignore"):
            return self._normaliser(prior[0] + classes.increments[0], prior[1] + classes.increments[1],
                                    prior)

    def _normaliser(self, first, second, prior):
        normaliser = LOG_NORMALISERS[self.rule.family]
        return normaliser(first, second) - normaliser(*prior)

    def _coefficients(self, state: State):
        """``(b, a)`` per child link: the updated node's coefficient and the intercept."""
        needed = [i for i, (_, plan) in enumerate(self.links) if plan.kind != IDENTITY]
        result = [(1.0, 0.0)] * len(self.links)
        if not needed:
            return result
        group, rows = self.group, self.rows
        saved = state.get(group, rows).copy()
        at = []
        for point in (0.0, 1.0):
            state.set(group, rows, np.full(saved.shape, point))
            state.recompute(self.blanket.deterministic)
            at.append([state.parameters(self.links[i][0].group)[self.links[i][1].rule.parameter]
                       [:, self.links[i][0].child_rows].copy() for i in needed])
        state.set(group, rows, saved)
        state.recompute(self.blanket.deterministic)
        for i, zero, one in zip(needed, at[0], at[1]):
            result[i] = (one - zero, zero)
        return result

    def _draw(self, state, rngs, first, second):
        family, group, rows = self.rule.family, self.group, self.rows
        if family == "normal":
            mean, precision = first / second, second
            params, name = (mean, precision), "dnorm"
        else:
            params, name = (first, second), "dbeta" if family == "beta" else "dgamma"
        if group.bounds is None:
            if family == "normal":
                return per_chain(rngs, lambda rng, c: rng.normal(mean[c], 1 / np.sqrt(precision[c])))
            if family == "beta":
                return per_chain(rngs, lambda rng, c: rng.beta(first[c], second[c]))
            return per_chain(rngs, lambda rng, c: rng.gamma(first[c], 1 / second[c]))
        lower, upper = (None if b is None else b[:, rows] for b in state.bounds(group))
        dist = DISTRIBUTIONS[name]
        return per_chain(rngs, lambda rng, c: dist.truncated_rvs(
            rng, None if lower is None else lower[c], None if upper is None else upper[c],
            *(p[c] for p in params)))


class DirichletStep:
    """A direct draw of Dirichlet-distributed probability vectors given their categorical or
    multinomial children: the posterior is Dirichlet(alpha + counts)."""

    def __init__(self, blanket: Blanket, rule: Rule, plans: dict):
        self.group, self.rows, self.blanket = blanket.target, blanket.rows, blanket
        self.links = [(link, plans[link.group.name]) for link in blanket.children]
        labels = sorted({plan.rule.label for _, plan in self.links})
        self.name = f"conjugate_dirichlet_{'_'.join(labels)}"

    def update(self, state: State, rngs, adapting: bool) -> None:
        group, rows, k = self.group, self.rows, len(self.rows)
        alpha = np.array(state.parameters(group)[0][:, rows], float)  # (chains, k, K)
        for link, plan in self.links:
            child = link.group
            y = state.get(child, link.child_rows)
            params = [p[:, link.child_rows] for p in state.parameters(child)]
            counts, _ = plan.rule.increments(y, params, None, None)
            alpha += scatter_add(counts, link.positions, k)
        draws = per_chain(rngs, lambda rng, c: rng.standard_gamma(alpha[c]))
        state.set(group, rows, draws / draws.sum(axis=-1, keepdims=True))
        state.recompute(self.blanket.deterministic)


class WishartStep:
    """A direct draw of Wishart precision matrices given the multivariate normal children whose
    precision they are: the posterior is Wishart(R + sum of outer products, k + count)."""

    def __init__(self, blanket: Blanket, rule: Rule, plans: dict):
        self.group, self.rows, self.blanket = blanket.target, blanket.rows, blanket
        self.links = [(link, plans[link.group.name]) for link in blanket.children]
        self.name = "conjugate_wishart_mnormal"

    def update(self, state: State, rngs, adapting: bool) -> None:
        group, rows, k = self.group, self.rows, len(self.rows)
        scale, degrees = (np.array(p[:, rows], float) for p in state.parameters(group))
        for link, plan in self.links:
            y = state.get(link.group, link.child_rows)
            params = [p[:, link.child_rows] for p in state.parameters(link.group)]
            outer, count = plan.rule.increments(y, params, None, None)
            scale += scatter_add(outer, link.positions, k)
            degrees += scatter_add(np.full(y.shape[:2], count), link.positions, k)
        wishart = DISTRIBUTIONS["dwish"]
        draws = per_chain(rngs, lambda rng, c: wishart.rvs(rng, scale[c], degrees[c]))
        state.set(group, rows, draws)
        state.recompute(self.blanket.deterministic)


@dataclass(frozen=True)
class MarginalClasses:
    """Rows of a conjugate step sharing one log marginal (:meth:`ConjugateStep.marginal_classes`)."""

    representatives: np.ndarray  # positions in the step's rows: one row of each class
    of_row: np.ndarray  # each row's class
    increments: tuple  # the (fixed) increments at the representatives, (1, classes) each
    params: list  # the prior's parameters bound for the representatives, or for one row
    param_rows: int  # how many rows ``params`` are bound for: 1 where every row's prior is the same


def _classes(group, rows: np.ndarray, increments) -> MarginalClasses | bool:
    """Rows with equal increments whose prior parameters read the same positions (and equal
    per-element constants); False where a parameter reads runs of different lengths."""
    k = len(rows)
    prior_columns = []
    for param in group.params:
        for node in nodes(param):
            if isinstance(node, Const) and node.per_element:
                prior_columns.append(np.asarray(node.value)[rows])
            if isinstance(node, Ref):
                if node.lengths is not None:
                    return False
                prior_columns.extend(node.flat[rows].reshape(k, -1).T)
    # fixed increments are the same in every chain
    table = np.stack([increments[0][0], increments[1][0], *prior_columns], axis=1)
    representatives, of_row = distinct_rows(table)
    same_prior = k > 0 and all((column == column[0]).all() for column in prior_columns)
    bound_rows = rows[representatives[:1]] if same_prior else rows[representatives]
    return MarginalClasses(representatives, of_row,
                           tuple(inc[:1, representatives] for inc in increments),
                           [restrict(p, bound_rows) for p in group.params], len(bound_rows))
