"""The numba backend's truncated nodes with moving parameters (hiergraph.jit.tails): the tail
kernels against the numpy engine's scipy tails, the normaliser against
``Distribution.truncated_logpdf``, and compiled draws against posteriors by quadrature."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("numba")

from scipy import special, stats  # noqa: E402

from hiergraph.api import compile_model  # noqa: E402
from hiergraph.distributions import DISTRIBUTIONS  # noqa: E402
from hiergraph.engine import resolve_monitor, run  # noqa: E402
from hiergraph.jit import expressions, scalar, tails  # noqa: E402

from checks import assert_exact_draws, assert_exact_frequencies  # noqa: E402
from test_samplers import assert_mcmc_moments, posterior_moments  # noqa: E402

# parameter values per truncatable distribution, ordinary and extreme
CASES = {
    "dnorm": [(0.5, 2.0), (-3.0, 1e-4), (0.0, 1e4)],
    "dlnorm": [(0.5, 2.0), (-1.0, 0.1)],
    "dt": [(0.5, 2.0, 3.0), (0.0, 1.0, 0.5), (1.0, 3.0, 30.0), (0.0, 1.0, 1e4)],
    "dlogis": [(0.5, 2.0), (-2.0, 0.3)],
    "ddexp": [(0.5, 2.0), (-2.0, 0.3)],
    "dgamma": [(2.0, 3.0), (0.5, 1.0), (200.0, 3.0), (1e-3, 1e-3), (1e4, 1e4)],
    "dchisqr": [(3.0,), (1.0,), (80.0,)],
    "dexp": [(2.0,), (0.01,)],
    "dweib": [(2.0, 0.5), (0.7, 1.0)],
    "dpar": [(2.0, 1.0), (0.5, 0.2)],
    "dbeta": [(2.0, 3.0), (0.5, 0.5), (300.0, 50.0), (0.01, 5.0), (2000.0, 3000.0)],
    "dunif": [(0.0, 1.0), (-2.0, 2.5)],
    "dbern": [(0.3,), (0.95,)],
    "dbin": [(0.3, 7.0), (0.01, 1000.0), (0.999, 50.0)],
    "dpois": [(2.5,), (300.0,), (1e-3,)],
    "dnegbin": [(0.3, 2.0), (0.9, 40.0), (0.5, 0.0)],
}
POINTS = [-math.inf, -50.0, -8.0, -3.0, -1.5, -0.5, 0.0, 1e-6, 0.01, 0.3, 0.5, 0.9999, 1.0, 2.0, 2.5,
          7.0, 30.0, 100.0, 250.0, 330.0, 1000.0, 1e4, math.inf]


def test_every_truncatable_compiled_distribution_has_its_cases_here():
    assert set(CASES) == set(expressions.TRUNCATABLE) <= set(expressions.SUPPORT)


@pytest.mark.parametrize("name", sorted(CASES))
def test_tail_kernels_match_the_registry(name):
    """Both log tails to 1e-12 where scipy's are finite; where scipy's underflow to -inf the
    kernel's are at least as small as the smallest double's log."""
    dist = DISTRIBUTIONS[name]
    kernel = getattr(tails, f"tails_{name}")
    for params in CASES[name]:
        for x in POINTS:
            x = math.floor(x) if dist.discrete and math.isfinite(x) else x
            with np.errstate(all="ignore"):
                expected = (float(dist.family.logcdf(x, *params)), float(dist.family.logsf(x, *params)))
            got = kernel(float(x), *map(float, params))
            for g, e in zip(got, expected):
                if e == -math.inf:
                    assert g < -700, (name, x, params, got, expected)
                else:
                    assert g == pytest.approx(e, rel=1e-12, abs=1e-12), (name, x, params, got, expected)


# (distribution, parameters, lower, upper): continuous and discrete, one- and two-sided,
# an interval far in a tail, and one with no mass
TRUNCATIONS = [
    ("dnorm", (0.5, 2.0), 0.0, None), ("dnorm", (0.0, 1.0), 9.0, 12.0), ("dnorm", (0.0, 1.0), -12.0, -9.0),
    ("dt", (0.5, 2.0, 3.0), -1.0, 3.0), ("dgamma", (2.0, 3.0), None, 0.2), ("dbeta", (5.0, 0.5), None, 0.9999),
    ("dbeta", (2.0, 3.0), 0.2, 0.4), ("dweib", (2.0, 0.5), 1.0, None), ("dpois", (2.5,), 1.0, None),
    ("dpois", (40.0,), None, 3.5), ("dbin", (0.3, 7.0), 2.0, 5.0), ("dnegbin", (0.3, 2.0), 1.5, None),
    ("dunif", (0.0, 1.0), 2.0, 3.0),
]


@pytest.mark.parametrize("name, params, lower, upper", TRUNCATIONS)
def test_log_density_less_log_mass_is_the_truncated_log_density(name, params, lower, upper):
    dist = DISTRIBUTIONS[name]
    kernel = getattr(tails, f"tails_{name}")
    low = tails.BELOW if lower is None else kernel(math.ceil(lower) - 1.0 if dist.discrete else lower, *params)
    high = tails.ABOVE if upper is None else kernel(math.floor(upper) if dist.discrete else upper, *params)
    mass = tails.log_mass(low, high)
    start, stop = dist.support(*params)
    low, high = max(start, -20.0 if lower is None else lower), min(stop, 40.0 if upper is None else upper)
    for x in np.arange(math.ceil(low), math.floor(high) + 1.0)[:8] if dist.discrete else np.linspace(low, high, 7):
        expected = float(dist.truncated_logpdf(x, lower, upper, *params))
        got = getattr(scalar, f"lp_{name}")(x, *params) - mass if mass > -math.inf else -math.inf
        assert got == pytest.approx(expected, rel=1e-10, abs=1e-10), (x, got, expected)


TRUNCATED_CHILDREN = """model {
  for (i in 1:4) { y[i] ~ dnorm(mu, 1) T(0, ) }
  mu ~ dnorm(0, 0.1)
  for (i in 1:5) { k[i] ~ dpois(lambda) T(1, ) }
  lambda ~ dgamma(1, 1)
  for (i in 1:3) { p[i] ~ dbeta(a, 2) T(, 0.9) }
  a ~ dunif(0, 10)
  for (i in 1:4) { z[i] ~ dt(m, 1, 4) T(-1, 3) }
  m ~ dnorm(0, 0.25)
}"""
DATA = {"y": [0.2, 0.1, 1.3, 0.05], "k": [1, 1, 2, 1, 3], "p": [0.85, 0.6, 0.89], "z": [-0.8, 2.9, 2.5, 2.7]}


def test_compiled_nodes_truncated_where_their_parameters_move():
    """Each parameter's children are truncated with its value in their normaliser; the four
    posteriors are one-dimensional and independent, so each is checked by quadrature."""
    y, k, p, z = (np.array(DATA[v], float) for v in "ykpz")
    posteriors = {
        "mu": (lambda mu: -0.05 * mu ** 2 - 0.5 * np.sum((y - mu) ** 2) - len(y) * special.log_ndtr(mu), -15.0, 15.0),
        "lambda": (lambda lam: -lam + np.sum(k) * np.log(lam) - len(k) * (lam + np.log(-np.expm1(-lam))),
                   1e-9, 30.0),
        "a": (lambda a: np.sum((a - 1) * np.log(p)) - len(p) * (special.betaln(a, 2) + np.log(special.betainc(a, 2, 0.9))),
              0.0, 10.0),
        "m": (lambda m: -0.125 * m ** 2 + np.sum(stats.t.logpdf(z, 4, m))
              - len(z) * np.log(stats.t.cdf(3, 4, m) - stats.t.cdf(-1, 4, m)), -15.0, 15.0),
    }
    model = compile_model(TRUNCATED_CHILDREN, data=DATA)
    plan = model.plan(2)
    draws = run(model.graph, plan, chains=2, burn=300, iterations=4000, seed=21, backend="numba",
                monitors=[resolve_monitor(model.graph, n) for n in posteriors])
    for name, (log_density, lower, upper) in posteriors.items():
        mean, var = posterior_moments(log_density, lower, upper)
        assert_mcmc_moments(draws[name], mean, var)


class _Truncated:
    """A frozen scipy distribution restricted to [lower, upper], for assert_exact_draws."""

    def __init__(self, base, lower, upper):
        self.base, self.lower, self.upper = base, lower, upper
        self.mass = base.cdf(upper) - base.cdf(lower)

    def cdf(self, x):
        return np.clip((self.base.cdf(np.clip(x, self.lower, self.upper)) - self.base.cdf(self.lower)) / self.mass, 0, 1)

    def stats(self, moments):
        from scipy import integrate

        def moment(k, centre=0.0):
            return integrate.quad(lambda t: (t - centre) ** k * self.base.pdf(t) / self.mass, self.lower, self.upper,
                                  epsabs=0, epsrel=1e-12, limit=200)[0]

        mean = moment(1)
        var = moment(2, mean)
        return mean, var, moment(4, mean) / var ** 2 - 3


FORWARD = """model {
  a ~ dnorm(1, 0.25) T(0, )
  b ~ dnorm(0, 1) T(4, )
  d ~ dgamma(3, 2) T(, 0.1)
  e ~ dbeta(2, 5) T(0.3, 0.9)
  c ~ dpois(3) T(1, 4)
}"""


def test_compiled_forward_draws_of_truncated_nodes():
    """No data below them: each draw is an exact draw of the truncated distribution, whether
    found by drawing the whole one until it lands inside (a, e) or by inverting the tail
    (b and d, whose intervals hold 3e-5 and 1e-3 of the mass; c's 0 and 1 on both sides)."""
    model = compile_model(FORWARD)
    plan = model.plan(1)
    assert {g.sampler for g in plan.groups} == {"forward"}
    draws = run(model.graph, plan, chains=1, burn=0, iterations=4000, seed=3, backend="numba",
                monitors=[resolve_monitor(model.graph, n) for n in "abdec"])
    exact = {"a": _Truncated(stats.norm(1, 2), 0, np.inf), "b": _Truncated(stats.norm(0, 1), 4, np.inf),
             "d": _Truncated(stats.gamma(3, scale=0.5), 0, 0.1), "e": _Truncated(stats.beta(2, 5), 0.3, 0.9)}
    for name, distribution in exact.items():
        assert_exact_draws(draws[name], distribution)
    values = np.arange(1, 5)
    assert_exact_frequencies(draws["c"], values, stats.poisson(3).pmf(values) / stats.poisson(3).pmf(values).sum())


def test_empty_truncation_bounds_nothing():
    """T(,) names no bound: the nodes are not truncated (it once gave the compiled code an
    empty condition), and mu's posterior is the untruncated normal, mean 0.25, precision 2."""
    model = compile_model("model { y ~ dnorm(mu, 1) T(,)\n mu ~ dnorm(0, 1) T(,) }", data={"y": 0.5})
    assert all(group.bounds is None for group in model.graph.groups)
    plan = model.plan(2)
    draws = run(model.graph, plan, chains=2, burn=100, iterations=3000, seed=4, backend="numba",
                monitors=[resolve_monitor(model.graph, "mu")])
    assert_mcmc_moments(draws["mu"], 0.25, 0.5)


@pytest.mark.parametrize("a, b", [(0.5, 1e6), (3.0, 1e6), (30.0, 1e6), (12.0, 15.0), (0.3, 4.0)])
def test_lbeta_keeps_its_precision_at_large_arguments(a, b):
    """B(a, b + 1) = B(a, b) b / (a + b): the step in log B is log(b / (a + b)) to 1e-12,
    which the sum of three log Gammas of size 10^7 misses by 2e-10 to 8e-10 here. (log B
    itself must be of modest size for an absolute test: at a = 10^6 it is near -10^7.)"""
    step = scalar.lbeta(a, b + 1.0) - scalar.lbeta(a, b)
    assert step == pytest.approx(math.log(b / (a + b)), rel=0, abs=1e-12)
