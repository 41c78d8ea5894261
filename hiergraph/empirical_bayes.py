"""Empirical Bayes: estimate hyperparameters from the marginal likelihood of the data.

Type-II maximum likelihood (Gelman et al., BDA 3rd ed., 5.3; Morris 1983): the named
hyperparameters maximise p(y | hyper) = ∫ p(y | theta) p(theta | hyper) d theta, with the
layer theta between them and the data integrated out in closed form where it is conjugate
(beta-binomial, gamma-Poisson, normal-normal). The closed form is the sampler's own:
:meth:`hiergraph.conjugacy.ConjugateStep.log_marginal` (log Z(posterior) - log Z(prior)
of the conjugate family, per element), summed over the layer. scipy.optimize maximises it
on an unconstrained scale (log or logit of a bounded hyperparameter); standard errors come
from the inverse of the curvature (the observed information) at the maximum, on the
hyperparameters' own scale.

The method of moments matches the layer's population mean and variance to those of the
units' raw estimates (:mod:`hiergraph.raw`), less the sampling variance of binomial,
Poisson or normal data where the family has it, then solves for the hyperparameters that
give the layer's prior those parameters.

Every latent node must be a named hyperparameter or in the conjugate layer, whose children
are all data; anything else is named in the error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .blanket import downstream
from .conjugacy import ConjugateStep
from .engine import initialise
from .errors import UsageError
from .model_graph import ModelGraph, NodeGroup
from .raw import raw_estimates
from .state import State

METHODS = ("mle", "moments")
FAMILIES = {"beta": "beta-binomial", "gamma": "gamma-Poisson", "normal": "normal-normal"}


@dataclass(frozen=True)
class Estimates:
    """The hyperparameters' estimates (and standard errors; NaN where not defined)."""

    names: tuple[str, ...]
    values: np.ndarray
    errors: np.ndarray
    method: str
    layer: str
    log_marginal: float  # at the estimates, up to a constant
    at_bound: tuple[str, ...] = ()  # maximised at the edge of their support (tau -> 0)

    def as_data(self) -> dict[str, np.ndarray]:
        """The estimates as data, to fix them and sample the rest."""
        return {name: np.asarray(value) for name, value in zip(self.names, self.values)}

    def __str__(self) -> str:
        rows = [("node", "estimate", "std. error")]
        rows += [(n, f"{v:.5g}", "-" if np.isnan(e) else f"{e:.3g}")
                 for n, v, e in zip(self.names, self.values, self.errors)]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        table = "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)
        how = ("maximum marginal likelihood" if self.method == "mle" else "method of moments")
        edge = "".join(f"\nthe likelihood is highest at the edge of {name}'s support (the value "
                       f"shown is where the search stopped), so it has no standard error"
                       for name in self.at_bound)
        return (f"{table}\n\n{how}, with {self.layer} integrated out; log marginal likelihood "
                f"{self.log_marginal:.4f} (up to a constant){edge}")


class Marginal:
    """The log marginal likelihood of the named hyperparameters, the layer integrated out."""

    def __init__(self, graph: ModelGraph, plan, names):
        self.graph = graph
        self.hypers = [_hyper(graph, name) for name in names]
        steps = {p.group.name: p for p in plan.groups}
        named = {h.name for h in self.hypers}
        layer = [p for p in plan.groups if p.group.name not in named and p.mcmc_rows]
        for group_plan in layer:
            _check_layer(graph, group_plan)
        if not layer:
            raise UsageError(f"nothing lies between {', '.join(names)} and the data to integrate out")
        self.layer = [p.group for p in layer]
        self.steps = [s for p in layer for s in steps[p.group.name].steps]
        self.state = State(graph, 1)
        initialise(graph, self.state, [])
        self.deterministic = downstream(graph, *self.hypers)[0]
        self.bounds = [_support(self.state, h) for h in self.hypers]

    def set(self, values) -> None:
        for hyper, value in zip(self.hypers, values):
            self.state.set(hyper, [0], np.full((1, 1), value))
        self.state.recompute(self.deterministic)

    def __call__(self, values) -> float:
        self.set(values)
        total = sum(float(step.log_marginal(self.state).sum()) for step in self.steps)
        return total if np.isfinite(total) else -np.inf

    def start(self) -> np.ndarray:
        return np.array([self.state.get(h)[0, 0] for h in self.hypers], float)

    def to_free(self, values) -> np.ndarray:
        return np.array([_to_free(v, low, high) for v, (low, high) in zip(values, self.bounds)])

    def from_free(self, free) -> np.ndarray:
        return np.array([_from_free(z, low, high) for z, (low, high) in zip(free, self.bounds)])


def _hyper(graph: ModelGraph, name: str) -> NodeGroup:
    group = next((g for g in graph.groups if g.name == name or g.var == name), None)
    if group is None:
        raise UsageError(f"cannot estimate '{name}': there is no such node")
    if group.kind != "stochastic" or group.size != 1 or group.observed.all():
        raise UsageError(f"cannot estimate '{name}': a hyperparameter must be one unobserved "
                         f"stochastic node")
    return group


def _check_layer(graph: ModelGraph, group_plan) -> None:
    """The layer must be conjugate to its children, and its children data."""
    name = group_plan.group.name
    steps = group_plan.steps
    if not steps or not all(isinstance(s, ConjugateStep) and s.rule.family in FAMILIES for s in steps):
        raise UsageError(f"the marginal likelihood is not available in closed form: {name} gets "
                         f"the sampler {group_plan.sampler}, not a beta-binomial, gamma-Poisson or "
                         f"normal-normal conjugate draw (name it with --hyper if it is a "
                         f"hyperparameter)")
    children = downstream(graph, group_plan.group)[1]
    latent = [c.name for c in children if not c.observed.all()]
    if latent:
        raise UsageError(f"the marginal likelihood is not available in closed form: {name} has "
                         f"the unobserved child {latent[0]}; name {name} with --hyper, or the "
                         f"layer below it")


def _support(state: State, group: NodeGroup) -> tuple[float, float]:
    low, high = group.distribution.support(*state.parameters(group))
    return float(np.ravel(low)[0]), float(np.ravel(high)[0])


def _to_free(value, low, high):
    if np.isfinite(low) and np.isfinite(high):
        p = (value - low) / (high - low)
        return np.log(p / (1 - p))
    return np.log(value - low) if np.isfinite(low) else value


def _from_free(z, low, high):
    if np.isfinite(low) and np.isfinite(high):
        return low + (high - low) / (1 + np.exp(-z))
    return low + np.exp(z) if np.isfinite(low) else z


def maximum_likelihood(marginal: Marginal) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """The maximum, its standard errors from the observed information, and which
    coordinates are at a bound of their support."""
    from scipy import optimize  # half a second to import: only here, not for every run

    objective = lambda z: -marginal(marginal.from_free(z))
    found = optimize.minimize(objective, marginal.to_free(marginal.start()), method="Nelder-Mead",
                              options={"xatol": 1e-9, "fatol": 1e-10, "maxiter": 20000})
    found = optimize.minimize(objective, found.x, method="BFGS")
    values = marginal.from_free(found.x)
    edge = _on_the_boundary(objective, found.x)
    # no quadratic approximation at the edge of the support
    errors = np.full(len(values), np.nan) if edge else _standard_errors(marginal, values)
    return values, errors, edge


def _on_the_boundary(objective, free) -> list[int]:
    """Coordinates along which the maximum ran off to infinity on the free scale: there the
    log marginal is flat (a change of one in log or logit moves it by under 1e-4), so the
    maximum is the bound itself (the eight schools' tau = 0)."""
    flat = []
    for i in range(len(free)):
        step = np.zeros(len(free))
        step[i] = 1.0
        bend = objective(free + step) - 2 * objective(free) + objective(free - step)
        if abs(bend) < 1e-4 and abs(free[i]) > 5:
            flat.append(i)
    return flat


def _standard_errors(marginal: Marginal, values: np.ndarray) -> np.ndarray:
    """sqrt(diag(H^-1)) of the negative log marginal's Hessian H, by central differences;
    NaN where it is not positive definite (a maximum on the boundary, tau = 0)."""
    k = len(values)
    steps = 1e-4 * np.maximum(np.abs(values), 1e-3)
    hessian = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            corners = []
            for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                point = values.copy()
                point[i] += si * steps[i]
                point[j] += sj * steps[j]
                corners.append(-marginal(point))
            hessian[i, j] = (corners[0] - corners[1] - corners[2] + corners[3]) / (4 * steps[i] * steps[j])
    try:
        np.linalg.cholesky(hessian)
    except np.linalg.LinAlgError:
        return np.full(k, np.nan)
    return np.sqrt(np.diag(np.linalg.inv(hessian)))


def _moment_targets(graph: ModelGraph, layer: NodeGroup, family: str) -> np.ndarray:
    """The layer prior's parameters whose mean and variance match the raw estimates'."""
    raw, size, _ = raw_estimates(graph, layer.var)
    mean, spread = raw.mean(), raw.var()
    if family == "beta":  # Gelman's: no correction for binomial noise
        total = mean * (1 - mean) / spread - 1
        return np.array([mean * total, (1 - mean) * total])
    if family == "gamma":  # less the Poisson variance mean / exposure
        excess = spread - np.mean(mean / size)
        _require(excess > 0, layer, "the raw rates vary no more than Poisson counts would")
        return np.array([mean ** 2 / excess, mean / excess])
    excess = spread - np.mean(1 / size)  # normal: less each unit's sampling variance
    _require(excess > 0, layer, "the raw estimates vary no more than their standard errors")
    return np.array([mean, 1 / excess])


def _require(condition: bool, layer: NodeGroup, why: str) -> None:
    if not condition:
        raise UsageError(f"the method of moments gives no estimate for {layer.name}'s population: {why}")


def moments(marginal: Marginal) -> np.ndarray:
    """Hyperparameters that give the layer's prior its method-of-moments parameters."""
    if len(marginal.layer) != 1:
        raise UsageError("the method of moments needs one layer between the hyperparameters "
                         "and the data")
    layer = marginal.layer[0]
    targets = _moment_targets(marginal.graph, layer, marginal.steps[0].rule.family)

    def mismatch(free):
        marginal.set(marginal.from_free(free))
        params = np.array([p[0].reshape(-1)[0] for p in marginal.state.parameters(layer)[:2]])
        return params / targets - 1

    from scipy import optimize

    found = optimize.least_squares(mismatch, marginal.to_free(marginal.start()), xtol=1e-14, ftol=1e-14)
    if np.max(np.abs(found.fun)) > 1e-6:
        raise UsageError(f"no values of the hyperparameters give {layer.name}'s prior the "
                         f"method-of-moments parameters {', '.join(f'{t:.4g}' for t in targets)}")
    return marginal.from_free(found.x)


def estimate(graph: ModelGraph, plan, names, method: str = "mle") -> Estimates:
    """Estimate the hyperparameters ``names`` by ``method`` (``mle`` or ``moments``)."""
    if method not in METHODS:
        raise UsageError(f"unknown method '{method}'; choose from {', '.join(METHODS)}")
    names = list(names)
    marginal = Marginal(graph, plan, names)
    if method == "mle":
        values, errors, edge = maximum_likelihood(marginal)
    else:
        values, errors, edge = moments(marginal), np.full(len(names), np.nan), []
    layer = ", ".join(g.name for g in marginal.layer)
    hypers = tuple(h.var for h in marginal.hypers)
    return Estimates(hypers, values, errors, method, layer, marginal(values),
                     tuple(hypers[i] for i in edge))
