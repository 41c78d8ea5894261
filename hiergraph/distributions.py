"""The distributions of the language, in JAGS's parameterisations: one registry.

Each :class:`Distribution` says what the model binder needs to know to build and check a
model: its parameters and their ranks (scalar, vector, matrix), the shape of a draw, whether
it is discrete, its support (which may depend on the parameters, as ``dbin``'s upper bound
is ``n``), and which parameter values are valid. Parameter names and order follow the JAGS
4.3 user manual (Plummer, *JAGS Version 4.3.0 user manual*, 2017, ch. 6 and 9).

Each also computes with itself: ``logpdf``, ``rvs`` and ``typical`` for every distribution,
``cdf`` and ``ppf`` for the scalar ones JAGS builds on R's d/p/q/r functions, and the
truncated ``T(L, U)`` forms of those it can bound. The conventions are applied once, in
:class:`Distribution`, so every family obeys them alike:

* ``logpdf`` is ``-inf`` where :func:`value_in_support` says the value is impossible and
  ``nan`` where ``valid`` says a parameter is; ``cdf`` and ``ppf`` are ``nan`` there too.
  A sampler can thus tell "this value is impossible" from "this model state is invalid".
* ``rvs`` raises :class:`DistributionError` instead: a forward draw has nothing to return.

Arrays carry the per-node axes first and a distribution's value/parameter axes last, so the
same functions check one node or a million.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import special

_INF = np.inf
_LOG_HALF = np.log(0.5)
# Halvings of the bracket in _smallest_reaching and in the compiled truncated draw: enough to
# pin any double in asinh space.
BISECTIONS = 100


class DistributionError(ValueError):
    """A request a distribution cannot meet.

    A draw from ``dflat`` (improper) or ``dinterval`` (observed only), a draw with invalid
    parameters, ``cdf`` of a distribution that has none, or ``T(L, U)`` on an interval of
    probability zero or on a distribution JAGS cannot bound.
    """


def _always(*params):
    return True


@dataclass(frozen=True)
class Distribution:
    """What the binder knows of a distribution before any sampling, and how to compute with it.

    ``support(*params)`` gives ``(lower, upper)`` arrays for scalar distributions (broadcast
    over nodes); ``valid(*params)`` is a boolean array, False where a parameter value is
    impossible. ``value_shape(*param_shapes)`` gives the shape of one draw for multivariate
    distributions from the shapes of one node's parameters. ``family`` does the arithmetic
    (see the ``_Scipy``, ``_MNorm``... classes below); the methods here wrap it in the
    conventions of the module docstring.
    """

    name: str
    params: tuple[str, ...]
    param_ranks: tuple[int, ...]
    value_rank: int = 0
    discrete: bool = False
    support: Callable = lambda *p: (-_INF, _INF)
    valid: Callable = _always
    value_shape: Callable | None = None
    # ``dinterval``'s value is observed censoring information, never sampled.
    observed_only: bool = False
    # ``dflat`` is improper: a sampler may use it, a forward draw may not.
    improper: bool = False
    family: object = None

    @property
    def arity(self) -> int:
        return len(self.params)

    def signature(self) -> str:
        return f"{self.name}({', '.join(self.params)})"

    @property
    def has_cdf(self) -> bool:
        """True for the scalar distributions with ``cdf``/``ppf`` (JAGS's p/q functions)."""
        return hasattr(self.family, "cdf")

    @property
    def can_truncate(self) -> bool:
        """True where JAGS accepts ``T(L, U)``: scalar distributions it can bound."""
        return getattr(self.family, "truncatable", False)

    def logpdf(self, x, *params) -> np.ndarray:
        """Log density (log mass if discrete) of ``x``, broadcast over leading node axes.

        ``-inf`` outside the support, ``nan`` for invalid parameters.
        """
        x = np.asarray(x, dtype=float)
        params = _as_arrays(params)
        with np.errstate(all="ignore"):
            out = np.where(value_in_support(self, x, params), self.family.logpdf(x, *params), -_INF)
            return np.where(self.valid(*params), out, np.nan)

    def rvs(self, rng: np.random.Generator, *params, size=None) -> np.ndarray:
        """Random draws of shape ``size + nodes + value shape``, nodes broadcast from params.

        Raises :class:`DistributionError` for ``dflat``, ``dinterval`` or invalid parameters.
        """
        params = self._drawable(params)
        shape = _leading(size) + self._batch_shape(params)
        with np.errstate(all="ignore"):
            return np.asarray(self.family.rvs(rng, shape, *params), dtype=float)

    def cdf(self, x, *params) -> np.ndarray:
        """P(X <= x); ``nan`` for invalid parameters. Backs the language's ``pnorm``, ``pgamma``..."""
        return self._scalar_function("cdf", x, params)

    def ppf(self, q, *params) -> np.ndarray:
        """The smallest x with P(X <= x) >= q (R's ``q`` functions); backs ``qnorm``..."""
        return self._scalar_function("ppf", q, params)

    def typical(self, *params) -> np.ndarray:
        """A value inside the support for initialising a latent node, as JAGS does.

        The mean, median or mode, whichever the family names (see each entry of the registry);
        broadcast to ``nodes + value shape``.
        """
        params = _as_arrays(params)
        with np.errstate(all="ignore"):
            out = np.asarray(self.family.typical(*params), dtype=float)
        value_shape = out.shape[out.ndim - self.value_rank:]
        return np.broadcast_to(out, self._batch_shape(params) + value_shape).copy()

    def truncated_logpdf(self, x, lower, upper, *params) -> np.ndarray:
        """Log density of ``X ~ dist(params) T(lower, upper)``; a bound may be None.

        The log density less the log probability of [lower, upper] (both ends included, which
        is JAGS's meaning for discrete distributions); ``-inf`` outside the interval or if the
        interval has probability zero; ``nan`` for invalid parameters.
        """
        self._require_truncatable()
        x = np.asarray(x, dtype=float)
        params = _as_arrays(params)
        lower, upper = _bound(lower, -_INF), _bound(upper, _INF)
        with np.errstate(all="ignore"):
            near, far, _ = self._log_tails(*self._interval(lower, upper), params)
            log_mass = _log_diff(near, far)
            inside = (x >= lower) & (x <= upper) & (log_mass > -_INF)
            out = np.where(inside, self.logpdf(x, *params) - log_mass, -_INF)
            return np.where(self.valid(*params), out, np.nan)

    def truncated_rvs(self, rng: np.random.Generator, lower, upper, *params, size=None) -> np.ndarray:
        """Draws of ``X ~ dist(params) T(lower, upper)`` by inverting the cdf (see below)."""
        self._require_truncatable()
        params = self._drawable(params)
        lower, upper = _bound(lower, -_INF), _bound(upper, _INF)
        shape = _leading(size) + np.broadcast_shapes(self._batch_shape(params), lower.shape, upper.shape)
        return self._truncated_quantile(_open_uniform(rng, shape), lower, upper, params)

    def truncated_typical(self, lower, upper, *params) -> np.ndarray:
        """The median of ``dist(params) T(lower, upper)``: inside the interval, as an initial
        value of a truncated node must be (``typical`` ignores the bounds). JAGS 3's
        RScalarDist::typicalValue likewise started from the median of the truncated distribution."""
        self._require_truncatable()
        params = _as_arrays(params)
        return self._truncated_quantile(0.5, _bound(lower, -_INF), _bound(upper, _INF), params)

    def _batch_shape(self, params) -> tuple[int, ...]:
        """The node axes: each parameter's shape less its own (vector/matrix) axes, broadcast."""
        return np.broadcast_shapes(*(np.shape(p)[:np.ndim(p) - r] for p, r in zip(params, self.param_ranks)))

    def _drawable(self, params) -> list[np.ndarray]:
        """The parameters as arrays, or an error saying why a draw is impossible."""
        if self.improper:
            raise DistributionError(f"{self.name} is improper: it has no random draws")
        if self.observed_only:
            raise DistributionError(f"{self.name} is observed censoring information: it has no random draws")
        params = _as_arrays(params)
        if not np.all(self.valid(*params)):
            raise DistributionError(f"{self.signature()}: invalid parameter values for a random draw")
        return params

    def _scalar_function(self, method: str, x, params) -> np.ndarray:
        if not self.has_cdf:
            raise DistributionError(f"{self.name} has no {method}")
        params = _as_arrays(params)
        with np.errstate(all="ignore"):
            out = getattr(self.family, method)(np.asarray(x, dtype=float), *params)
            return np.where(self.valid(*params), out, np.nan)

    def _require_truncatable(self) -> None:
        if not self.can_truncate:
            raise DistributionError(f"{self.name} cannot be truncated with T(,)")

    def _interval(self, lower, upper):
        """``(lo, hi)`` with [lower, upper] = (lo, hi] for discrete X: P(X < L) = F(ceil(L) - 1)."""
        if self.discrete:
            return np.ceil(lower) - 1, np.floor(upper)
        return lower, upper

    def _log_tails(self, lo, hi, params):
        """Log tail probabilities bounding (lo, hi], on whichever side of the median lo lies.

        Returns ``(near, far, upper_side)``: on the upper side ``near = log P(X > lo)`` and
        ``far = log P(X > hi)``, else ``near = log P(X <= hi)`` and ``far = log P(X <= lo)``,
        so the interval's mass is ``exp(near) - exp(far)`` without the cancellation of
        ``F(hi) - F(lo)`` when both are near 1 (the scheme of JAGS's RScalarDist::logDensity).
        """
        family = self.family
        log_above = family.logsf(lo, *params)
        upper_side = log_above < _LOG_HALF
        near = np.where(upper_side, log_above, family.logcdf(hi, *params))
        far = np.where(upper_side, family.logsf(hi, *params), family.logcdf(lo, *params))
        return near, far, upper_side

    def _truncated_quantile(self, u, lower, upper, params) -> np.ndarray:
        """The value at probability ``u`` (0 < u < 1) of the distribution truncated to [lower, upper].

        As JAGS's RScalarDist::randomSample, it picks a tail probability uniformly between
        those at the interval's ends in logs and inverts it on the side holding less mass, so an
        interval far in a tail keeps its precision. Continuous ones invert with scipy's
        ppf/isf; where that fails (a tail probability that underflows, or scipy's generic isf,
        which inverts 1 - q) and for discrete ones (whose scipy isf is generic) it bisects on
        the log tail instead.
        """
        lo, hi = self._interval(lower, upper)
        family = self.family
        with np.errstate(all="ignore"):
            near, far, upper_side = self._log_tails(lo, hi, params)
            if not np.all(near > far):
                raise DistributionError(f"{self.name}: the interval of T(,) has probability zero")
            target = near + np.log1p(u * np.expm1(far - near))
            if self.discrete:
                x = np.full(target.shape, np.nan)
            else:
                p = np.exp(target)
                x = np.where(upper_side, family.isf(p, *params), family.ppf(p, *params))
            failed = ~(np.isfinite(x) & (x >= lo) & (x <= hi))
            if np.any(failed):
                def rising(v):
                    """-log P(X > v) on the upper side, log P(X <= v) below: both rise with v.
                    Each tail is computed only if some node needs it (scipy's generic discrete
                    tails, e.g. betabinom's, sum the mass value by value)."""
                    out = np.zeros(np.shape(v))
                    if np.any(upper_side):
                        out = np.where(upper_side, -family.logsf(v, *params), out)
                    if not np.all(upper_side):
                        out = np.where(upper_side, out, family.logcdf(v, *params))
                    return out

                found = _smallest_reaching(rising, np.where(upper_side, -target, target), lo, hi, self.discrete)
                x = np.where(failed, found, x)
        return x


def _as_arrays(params) -> list[np.ndarray]:
    return [np.asarray(p, dtype=float) for p in params]


def _leading(size) -> tuple[int, ...]:
    if size is None:
        return ()
    return tuple(np.atleast_1d(size).astype(int))


def _bound(value, default) -> np.ndarray:
    return np.asarray(default if value is None else value, dtype=float)


def _open_uniform(rng: np.random.Generator, shape) -> np.ndarray:
    """Uniform draws in the open interval (0, 1): the midpoints of 2**53 equal cells.

    ``rng.random`` can return 0, which would put a truncated draw on an infinite bound.
    """
    return (rng.integers(0, 2**53, size=shape) + 0.5) / 2.0**53


def _log_diff(a, b):
    """log(exp(a) - exp(b)) for a >= b, -inf when they are equal (both -inf included)."""
    return np.where(a > b, a + np.log(-np.expm1(b - a)), -_INF)


def _smallest_reaching(rising, target, lo, hi, discrete: bool) -> np.ndarray:
    """The smallest x in (lo, hi] with ``rising(x) >= target``, elementwise, by bisection.

    ``rising`` must be nondecreasing with rising(lo) < target <= rising(hi). Bisecting at
    the midpoint in asinh space halves relative width for large values and absolute width
    near 0, so an infinite end (taken as the largest double) costs a few dozen halvings,
    not a thousand. Discrete answers are integers: the midpoint is kept strictly inside the
    bracket until its ends are adjacent.
    """
    big = np.finfo(float).max
    lo, hi, target = (np.array(a, dtype=float) for a in
                      np.broadcast_arrays(np.clip(lo, -big, big), np.clip(hi, -big, big), target))
    for _ in range(BISECTIONS):
        mid = np.sinh((np.arcsinh(lo) + np.arcsinh(hi)) / 2)
        if discrete:
            mid = np.minimum(np.maximum(np.floor(mid), lo + 1), hi - 1)
        if np.all((mid <= lo) | (mid >= hi)):
            break  # every bracket is down to adjacent integers or doubles
        reached = rising(mid) >= target
        hi = np.where(reached, mid, hi)
        lo = np.where(reached, lo, mid)
    return hi


def _sd(tau):
    """JAGS's precision ``tau`` of the normal family as scipy's scale 1/sqrt(tau)."""
    return np.asarray(tau, dtype=float) ** -0.5


class _Scipy:
    """A scalar distribution scipy.stats has: only the map from JAGS's parameters differs.

    ``to_scipy(*params)`` returns scipy's positional arguments (shape parameters, then loc
    and scale where scipy has them). ``typical`` is the median, which is strictly inside the
    support of a continuous distribution and in the support of a discrete one: in closed
    form or from scipy.special where there is one (an initial value should not cost the
    run scipy.stats's import, most of a second), else scipy's quantile.
    JAGS itself wraps R's d/p/q/r functions the same way (RScalarDist); those it cannot
    bound say so with ``truncatable=False``.
    """

    def __init__(self, name: str, to_scipy: Callable, typical: Callable | None = None, truncatable: bool = True,
                 closed_form: Callable | None = None, closed_tails: tuple[Callable, Callable] | None = None,
                 closed_quantiles: tuple[Callable, Callable] | None = None):
        self.name = name  # in scipy.stats, imported on first use: it takes most of a second
        self.to_scipy = to_scipy
        self.truncatable = truncatable
        self._typical = typical
        self._closed_form = closed_form
        self._closed_tails = closed_tails  # (log cdf, log survival) from scipy.special
        self._closed_quantiles = closed_quantiles  # (ppf, isf) from scipy.special

    @functools.cached_property
    def dist(self):
        from scipy import stats
        return getattr(stats, self.name)

    def logpdf(self, x, *params):
        """The closed form where there is one: the same numbers as scipy's (tested), without
        scipy's per-call argument handling, which dominates a sampler's inner loop."""
        if self._closed_form is not None:
            return self._closed_form(x, *params)
        log_density = getattr(self.dist, "logpmf", None) or self.dist.logpdf
        return log_density(x, *self.to_scipy(*params))

    def cdf(self, x, *params):
        return self.dist.cdf(x, *self.to_scipy(*params))

    def ppf(self, q, *params):
        """scipy.special's inverse where the family has one (the numbers scipy.stats gives,
        tested), as for ``logcdf``: truncated nodes' draws and initial values need it, and
        scipy.stats's import costs a run most of a second."""
        if self._closed_quantiles is not None:
            return self._closed_quantiles[0](q, *params)
        return self.dist.ppf(q, *self.to_scipy(*params))

    def isf(self, q, *params):
        if self._closed_quantiles is not None:
            return self._closed_quantiles[1](q, *params)
        return self.dist.isf(q, *self.to_scipy(*params))

    def logcdf(self, x, *params):
        """Truncated densities need these on every evaluation: scipy.special's functions where
        the family has them (tested against scipy.stats), as for ``logpdf``."""
        if self._closed_tails is not None:
            return self._closed_tails[0](x, *params)
        return self.dist.logcdf(x, *self.to_scipy(*params))

    def logsf(self, x, *params):
        if self._closed_tails is not None:
            return self._closed_tails[1](x, *params)
        return self.dist.logsf(x, *self.to_scipy(*params))

    def rvs(self, rng, shape, *params):
        """numpy's own sampler where it has one for the family (:data:`_NUMPY_DRAWS`): no
        scipy.stats import, none of its per-call argument handling; else scipy's."""
        draw = _NUMPY_DRAWS.get(self.name)
        if draw is not None:
            return draw(rng, shape, *params)
        return self.dist.rvs(*self.to_scipy(*params), size=shape, random_state=rng)

    def typical(self, *params):
        if self._typical is None:
            return self.ppf(0.5, *params)
        return self._typical(*params)


# Log densities in closed form, JAGS's parameterisations (JAGS user manual, ch. 9). Values
# outside the support and invalid parameters are masked by Distribution.logpdf.
_LOG_2PI = np.log(2 * np.pi)


def _norm_logpdf(x, mu, tau):
    return 0.5 * (np.log(tau) - _LOG_2PI) - 0.5 * tau * (x - mu) ** 2


def _lnorm_logpdf(x, mu, tau):
    log_x = np.log(x)
    return 0.5 * (np.log(tau) - _LOG_2PI) - log_x - 0.5 * tau * (log_x - mu) ** 2


def _gamma_logpdf(x, shape, rate):
    return shape * np.log(rate) + special.xlogy(shape - 1, x) - rate * x - special.gammaln(shape)


# Log tail probabilities (log cdf, log survival) from scipy.special, for truncation.
_NORM_TAILS = (lambda x, mu, tau: special.log_ndtr((x - mu) * np.sqrt(tau)),
               lambda x, mu, tau: special.log_ndtr((mu - x) * np.sqrt(tau)))
_BETA_TAILS = (lambda x, a, b: np.log(special.betainc(a, b, np.clip(x, 0.0, 1.0))),
               lambda x, a, b: np.log(special.betaincc(a, b, np.clip(x, 0.0, 1.0))))
_GAMMA_TAILS = (lambda x, shape, rate: np.log(special.gammainc(shape, rate * np.maximum(x, 0.0))),
                lambda x, shape, rate: np.log(special.gammaincc(shape, rate * np.maximum(x, 0.0))))
# Draws by numpy's Generator, JAGS's parameters mapped as for scipy (see _Scipy.rvs); the
# draws are checked against each family's cdf or mass in tests/test_distributions.py.
_NUMPY_DRAWS = {
    "norm": lambda rng, size, mu, tau: rng.normal(mu, _sd(tau), size),
    "lognorm": lambda rng, size, mu, tau: rng.lognormal(mu, _sd(tau), size),
    "t": lambda rng, size, mu, tau, k: mu + _sd(tau) * rng.standard_t(k, size),
    "logistic": lambda rng, size, mu, tau: rng.logistic(mu, 1 / np.asarray(tau, float), size),
    "gamma": lambda rng, size, shape, rate: rng.gamma(shape, 1 / np.asarray(rate, float), size),
    "expon": lambda rng, size, rate: rng.exponential(1 / np.asarray(rate, float), size),
    "chi2": lambda rng, size, k: rng.chisquare(k, size),
    "beta": lambda rng, size, a, b: rng.beta(a, b, size),
    "uniform": lambda rng, size, a, b: rng.uniform(a, b, size),
    "bernoulli": lambda rng, size, p: rng.binomial(1, p, size),
    "binom": lambda rng, size, p, n: rng.binomial(_trials(n), p, size),
    "poisson": lambda rng, size, lam: rng.poisson(lam, size),
}

# Their inverses (ppf, isf), as scipy.stats computes them.
_NORM_QUANTILES = (lambda q, mu, tau: special.ndtri(q) * _sd(tau) + mu,
                   lambda q, mu, tau: -special.ndtri(q) * _sd(tau) + mu)
_BETA_QUANTILES = (lambda q, a, b: special.betaincinv(a, b, q), lambda q, a, b: special.betainccinv(a, b, q))
_GAMMA_QUANTILES = (lambda q, shape, rate: special.gammaincinv(shape, q) * (1 / rate),
                    lambda q, shape, rate: special.gammainccinv(shape, q) * (1 / rate))


def _beta_logpdf(x, a, b):
    return special.xlogy(a - 1, x) + special.xlog1py(b - 1, -x) - special.betaln(a, b)


def _binom_logpmf(x, p, n):
    return (special.gammaln(n + 1) - special.gammaln(x + 1) - special.gammaln(n - x + 1)
            + special.xlogy(x, p) + special.xlog1py(n - x, -p))


def _pois_logpmf(x, lam):
    return special.xlogy(x, lam) - lam - special.gammaln(x + 1)


def _t_logpdf(x, mu, tau, k):
    return (special.gammaln((k + 1) / 2) - special.gammaln(k / 2) + 0.5 * np.log(tau / (k * np.pi))
            - (k + 1) / 2 * np.log1p(tau * (x - mu) ** 2 / k))


def _logis_logpdf(x, mu, tau):
    u = tau * (x - mu)
    return np.log(tau) - u - 2 * np.logaddexp(0, -u)


def _negbin_logpmf(x, p, r):
    """r = 0 is a point mass at 0, as in JAGS."""
    with np.errstate(all="ignore"):
        general = (special.gammaln(x + r) - special.gammaln(r) - special.gammaln(x + 1)
                   + special.xlogy(r, p) + special.xlog1py(x, -p))
    return np.where(r == 0, np.where(x == 0, 0.0, -np.inf), general)


def _trials(n):
    """A binomial trial count as the integer numpy's binomial sampler insists on.

    Invalid counts (non-integer, nan) are cast too; ``valid`` masks or rejects them anyway.
    """
    return np.nan_to_num(n).astype(np.int64)


def _negbin_to_scipy(p, r):
    """dnegbin(p, r) as scipy's nbinom(n=r, p): failures before the r-th success.

    JAGS allows r = 0, a point mass at 0 (DNegBin.cc), which scipy rejects; nbinom(1, 1)
    is the same point mass, so r = 0 is passed as that.
    """
    degenerate = np.asarray(r) == 0
    return np.where(degenerate, 1.0, r), np.where(degenerate, 1.0, p)


def _categorical(rng, weights, shape) -> np.ndarray:
    """Indices 0..K-1 drawn with probability proportional to ``weights`` (last axis).

    A uniform on [0, sum) located among the cumulative sums, as JAGS's DCat does; a zero
    weight never owns any of that range, so its category is never drawn.
    """
    cumulative = np.cumsum(np.broadcast_to(weights, shape + weights.shape[-1:]), axis=-1)
    u = rng.random(shape) * cumulative[..., -1]
    # Rounding can make u equal the total (odds ~1e-16): keep that index in range.
    return np.minimum(np.sum(cumulative <= u[..., None], axis=-1), weights.shape[-1] - 1)


def _log_normalised(weights):
    """Log of unnormalised probability weights divided by their sum (dcat, dnormmix)."""
    return np.log(weights) - np.log(np.sum(weights, axis=-1, keepdims=True))


class _NormMix:
    """dnormmix(mu, tau, pi): sum_j pi_j N(x; mu_j, 1/tau_j) / sum(pi) (JAGS mix module,
    DNormMix.cc). JAGS cannot bound it, so it has no cdf and no truncation."""

    def logpdf(self, x, mu, tau, pi):
        components = 0.5 * np.log(tau / (2 * np.pi)) - tau * (x[..., None] - mu) ** 2 / 2
        return special.logsumexp(_log_normalised(pi) + components, axis=-1)

    def rvs(self, rng, shape, mu, tau, pi):
        chosen = _categorical(rng, pi, shape)[..., None]

        def pick(a):
            return np.take_along_axis(np.broadcast_to(a, shape + a.shape[-1:]), chosen, axis=-1)[..., 0]

        return rng.normal(pick(mu), _sd(pick(tau)))

    def typical(self, mu, tau, pi):
        """The mixture's mean."""
        return np.sum(pi * mu, axis=-1) / np.sum(pi, axis=-1)


class _Cat:
    """dcat(pi): P(x = j) = pi_j / sum(pi), j = 1..K, pi unnormalised (JAGS manual ch. 9)."""

    def logpdf(self, x, pi):
        k = pi.shape[-1]
        batch = np.broadcast_shapes(x.shape, pi.shape[:-1])
        # Values outside 1..K are masked by value_in_support; clip only to index safely.
        index = np.clip(np.nan_to_num(x), 1, k).astype(int) - 1
        log_p = np.broadcast_to(_log_normalised(pi), batch + (k,))
        return np.take_along_axis(log_p, np.broadcast_to(index, batch)[..., None], axis=-1)[..., 0]

    def rvs(self, rng, shape, pi):
        return _categorical(rng, pi, shape) + 1

    def typical(self, pi):
        """The mode (the first, on ties)."""
        return np.argmax(pi, axis=-1) + 1


class _Interval:
    """dinterval(t, c): mass 1 at y = #{j : c_j < t}, i.e. c_y < t <= c_{y+1}.

    JAGS manual ch. 9 and DInterval.cc: a t equal to a cutpoint falls in the interval
    below it. Observed only, so it has no draws; its typical value is that deterministic y.
    """

    @staticmethod
    def _count(t, c):
        return np.sum(c < t[..., None], axis=-1)

    def logpdf(self, x, t, c):
        return np.where(x == self._count(t, c), 0.0, -_INF)

    def typical(self, t, c):
        return self._count(t, c)


class _Flat:
    """dflat(): log density 0 everywhere (improper); typical value 0."""

    def logpdf(self, x):
        return np.zeros_like(x)

    def typical(self):
        return 0.0


def _normal_spectrum(matrix, precision: bool):
    """Eigenvalues of a normal's precision and their eigenvectors, from Omega or from Sigma.

    One symmetric eigen-decomposition serves both parameterisations (the precision's
    eigenvalues are the reciprocals of the covariance's, on the same vectors), and unlike a
    Cholesky factorisation it never raises on an invalid matrix, so a batch with one bad
    node still evaluates; that node is masked to nan by ``valid``.
    """
    eigenvalues, vectors = np.linalg.eigh(matrix)
    return (eigenvalues if precision else 1.0 / eigenvalues), vectors


def _mahalanobis(x, mu, lam, vectors):
    """(x - mu)' Omega (x - mu) with Omega = V diag(lam) V'."""
    z = np.einsum("...ji,...j->...i", vectors, x - mu)
    return np.sum(lam * z**2, axis=-1)


def _normal_noise(rng, lam, vectors, shape):
    """Draws of N(0, Omega^-1) of shape ``shape + (k,)``: V diag(lam)^-1/2 z."""
    z = rng.standard_normal(shape + lam.shape[-1:])
    return np.einsum("...ij,...j->...i", vectors, z / np.sqrt(lam))


class _MNorm:
    """dmnorm(mu, Omega) (precision) or dmnorm.vcov(mu, Sigma) (covariance).

    Density |Omega|^1/2 (2 pi)^-k/2 exp{-(x - mu)' Omega (x - mu) / 2} (JAGS manual ch. 9).
    """

    def __init__(self, precision: bool):
        self.precision = precision

    def logpdf(self, x, mu, matrix):
        lam, vectors = _normal_spectrum(matrix, self.precision)
        k = lam.shape[-1]
        return 0.5 * (np.sum(np.log(lam), axis=-1) - k * np.log(2 * np.pi) - _mahalanobis(x, mu, lam, vectors))

    def rvs(self, rng, shape, mu, matrix):
        lam, vectors = _normal_spectrum(matrix, self.precision)
        return mu + _normal_noise(rng, lam, vectors, shape)

    def typical(self, mu, *rest):
        """The mean (and mode) mu."""
        return mu


class _MT(_MNorm):
    """dmt(mu, Omega, k): multivariate t with precision-like Omega (JAGS manual ch. 9, DMT.cc).

    Density Gamma((k+p)/2) / (Gamma(k/2) (k pi)^(p/2)) |Omega|^1/2
    {1 + (x - mu)' Omega (x - mu) / k}^-((k+p)/2); a draw is mu + z / sqrt(w / k) with
    z ~ N(0, Omega^-1) and w ~ chi-squared(k).
    """

    def __init__(self):
        super().__init__(precision=True)

    def logpdf(self, x, mu, omega, k):
        lam, vectors = _normal_spectrum(omega, True)
        p = lam.shape[-1]
        return (special.gammaln((k + p) / 2) - special.gammaln(k / 2) - p / 2 * np.log(k * np.pi)
                + 0.5 * np.sum(np.log(lam), axis=-1)
                - (k + p) / 2 * np.log1p(_mahalanobis(x, mu, lam, vectors) / k))

    def rvs(self, rng, shape, mu, omega, k):
        lam, vectors = _normal_spectrum(omega, True)
        w = rng.chisquare(np.broadcast_to(k, shape)) / k
        return mu + _normal_noise(rng, lam, vectors, shape) / np.sqrt(w)[..., None]


class _Multi:
    """dmulti(pi, n): n! prod_j p_j^x_j / x_j! with p = pi / sum(pi) (JAGS manual ch. 9)."""

    @staticmethod
    def _probabilities(pi):
        """pi normalised; all zero is allowed when n = 0 and then gives zeros, not 0/0."""
        total = np.sum(pi, axis=-1, keepdims=True)
        return np.where(total > 0, pi / np.where(total > 0, total, 1.0), 0.0)

    def logpdf(self, x, pi, n):
        p = self._probabilities(pi)
        return special.gammaln(n + 1) + np.sum(special.xlogy(x, p) - special.gammaln(x + 1), axis=-1)

    def rvs(self, rng, shape, pi, n):
        p = self._probabilities(pi)
        return rng.multinomial(np.broadcast_to(n, shape).astype(np.int64), np.broadcast_to(p, shape + p.shape[-1:]))

    def typical(self, pi, n):
        """JAGS's DMulti::typicalValue: a draw by successive binomials, each replaced by its median.

        The counts then sum to n exactly and a category with pi_j = 0 gets 0.
        """
        from scipy import stats

        batch = np.broadcast_shapes(pi.shape[:-1], n.shape)
        pi = np.broadcast_to(pi, batch + pi.shape[-1:])
        left, rest = np.broadcast_to(n, batch).astype(float), np.sum(pi, axis=-1)
        out = np.zeros(pi.shape)
        for j in range(pi.shape[-1] - 1):
            share = np.clip(np.where(rest > 0, pi[..., j] / np.where(rest > 0, rest, 1.0), 0.0), 0.0, 1.0)
            out[..., j] = stats.binom.ppf(0.5, left, share)
            left, rest = left - out[..., j], rest - pi[..., j]
        out[..., -1] = left
        return out


class _Dirch:
    """ddirch(alpha): Gamma(sum alpha) prod_j x_j^(alpha_j - 1) / Gamma(alpha_j) on the simplex.

    JAGS (manual ch. 9, DDirch.cc) allows alpha_j = 0, a structural zero: x_j must be 0 and
    the factor j is left out of the density.
    """

    def logpdf(self, x, alpha):
        live = alpha > 0
        terms = np.where(live, special.xlogy(alpha - 1, x) - special.gammaln(alpha), 0.0)
        dead_mass = np.any(~live & (x != 0), axis=-1)
        return np.where(dead_mass, -_INF, special.gammaln(np.sum(alpha, axis=-1)) + np.sum(terms, axis=-1))

    def rvs(self, rng, shape, alpha):
        """Normalised gammas, as JAGS; drawn in logs via G(a) = G(a + 1) U^(1/a) so that small
        shapes, whose gammas underflow to 0 (giving 0/0), still give a point on the simplex."""
        alpha = np.broadcast_to(alpha, shape + alpha.shape[-1:])
        log_gamma = np.log(rng.standard_gamma(alpha + 1)) + np.log(rng.random(alpha.shape)) / alpha
        return np.exp(log_gamma - special.logsumexp(log_gamma, axis=-1, keepdims=True))

    def typical(self, alpha):
        """The mean alpha / sum(alpha)."""
        return alpha / np.sum(alpha, axis=-1, keepdims=True)


def _log_multigamma(a, p: int):
    """log Gamma_p(a) = p(p-1)/4 log(pi) + sum_{j<p} log Gamma(a - j/2)."""
    return p * (p - 1) / 4 * np.log(np.pi) + sum(special.gammaln(a - j / 2) for j in range(p))


class _Wish:
    """dwish(R, k): Wishart with E[x] = k R^-1 (JAGS manual ch. 9, DWish.cc).

    Density |x|^((k-p-1)/2) |R|^(k/2) exp{-tr(R x)/2} / (2^(pk/2) Gamma_p(k/2)), i.e. the
    Wishart of scale matrix R^-1 and k degrees of freedom.
    """

    def logpdf(self, x, R, k):
        p = R.shape[-1]
        trace = np.einsum("...ij,...ji->...", R, x)
        return (0.5 * ((k - p - 1) * np.linalg.slogdet(x)[1] - trace + k * np.linalg.slogdet(R)[1]
                       - k * p * np.log(2.0)) - _log_multigamma(k / 2, p))

    def rvs(self, rng, shape, R, k):
        """Bartlett's decomposition, as JAGS: x = C A A' C' with C C' = R^-1 and A lower
        triangular, A_ii^2 ~ chi-squared(k - i) (i from 0), A_ij ~ N(0, 1) below the diagonal."""
        p = R.shape[-1]
        rows, cols = np.tril_indices(p, -1)
        diagonal = np.arange(p)
        a = np.zeros(shape + (p, p))
        a[..., rows, cols] = rng.standard_normal(shape + (rows.size,))
        a[..., diagonal, diagonal] = np.sqrt(rng.chisquare(np.broadcast_to(k, shape)[..., None] - diagonal))
        factor = np.linalg.cholesky(np.linalg.inv(R)) @ a
        return factor @ np.swapaxes(factor, -1, -2)

    def typical(self, R, k):
        """The mean k R^-1, as JAGS's DWish::typicalValue."""
        return k[..., None, None] * np.linalg.inv(R)


def _positive(x):
    return np.asarray(x) > 0


def _probability(p):
    p = np.asarray(p)
    return (p >= 0) & (p <= 1)


def _nonneg_int(x):
    x = np.asarray(x)
    return (x >= 0) & np.isfinite(x) & (x == np.floor(x))


def _vector_length(mu, *rest):
    return (mu[-1],)


def _matrix_side(R, *rest):
    return (R[-2], R[-1])


def _pos(*p):
    return (0.0, _INF)


def _unit(*p):
    return (0.0, 1.0)


def _location(mu, tau, *shape):
    """The median of a family symmetric about ``mu``, shaped like its parameters."""
    return np.broadcast_arrays(mu, tau, *shape)[0] * 1.0


_SCALAR_CONTINUOUS = [
    Distribution("dnorm", ("mu", "tau"), (0, 0), valid=lambda mu, tau: _positive(tau),
                 family=_Scipy("norm", lambda mu, tau: (mu, _sd(tau)), closed_form=_norm_logpdf, typical=_location,
                               closed_tails=_NORM_TAILS, closed_quantiles=_NORM_QUANTILES)),
    Distribution("dlnorm", ("mu", "tau"), (0, 0), support=_pos, valid=lambda mu, tau: _positive(tau),
                 family=_Scipy("lognorm", lambda mu, tau: (_sd(tau), 0.0, np.exp(mu)),
                               closed_form=_lnorm_logpdf,
                               typical=lambda mu, tau: np.exp(_location(mu, tau)))),
    Distribution("dt", ("mu", "tau", "k"), (0, 0, 0),
                 valid=lambda mu, tau, k: _positive(tau) & _positive(k),
                 family=_Scipy("t", lambda mu, tau, k: (k, mu, _sd(tau)), closed_form=_t_logpdf,
                               typical=_location)),
    Distribution("dlogis", ("mu", "tau"), (0, 0), valid=lambda mu, tau: _positive(tau),
                 family=_Scipy("logistic", lambda mu, tau: (mu, 1 / tau), closed_form=_logis_logpdf,
                               typical=_location)),
    Distribution("ddexp", ("mu", "tau"), (0, 0), valid=lambda mu, tau: _positive(tau),
                 family=_Scipy("laplace", lambda mu, tau: (mu, 1 / tau),
                               closed_form=lambda x, mu, tau: np.log(tau / 2) - tau * np.abs(x - mu),
                               typical=_location)),
    Distribution("dgamma", ("shape", "rate"), (0, 0), support=_pos,
                 valid=lambda shape, rate: _positive(shape) & _positive(rate),
                 family=_Scipy("gamma", lambda shape, rate: (shape, 0.0, 1 / rate), closed_form=_gamma_logpdf,
                               typical=lambda shape, rate: shape / rate, closed_tails=_GAMMA_TAILS,
                               closed_quantiles=_GAMMA_QUANTILES)),
    Distribution("dexp", ("rate",), (0,), support=_pos, valid=_positive,
                 family=_Scipy("expon", lambda rate: (0.0, 1 / rate),
                               closed_form=lambda x, rate: np.log(rate) - rate * x,
                               typical=lambda rate: np.log(2) / rate)),
    Distribution("dchisqr", ("k",), (0,), support=_pos, valid=_positive,
                 family=_Scipy("chi2", lambda k: (k,), typical=lambda k: special.chdtri(k, 0.5))),
    # v lambda x^(v-1) exp(-lambda x^v) is scipy's weibull_min(c=v) with scale lambda^(-1/v).
    Distribution("dweib", ("v", "lambda"), (0, 0), support=_pos,
                 valid=lambda v, lam: _positive(v) & _positive(lam),
                 family=_Scipy("weibull_min", lambda v, lam: (v, 0.0, lam ** (-1 / v)),
                               closed_form=lambda x, v, lam: np.log(v * lam) + special.xlogy(v - 1, x) - lam * x ** v,
                               typical=lambda v, lam: (np.log(2) / lam) ** (1 / v))),
    Distribution("dpar", ("alpha", "c"), (0, 0), support=lambda a, c: (c, _INF),
                 valid=lambda a, c: _positive(a) & _positive(c),
                 family=_Scipy("pareto", lambda alpha, c: (alpha, 0.0, c),
                               closed_form=lambda x, a, c: np.log(a) + a * np.log(c) - (a + 1) * np.log(x),
                               typical=lambda a, c: c * 2 ** (1 / a))),
    Distribution("dbeta", ("a", "b"), (0, 0), support=_unit,
                 valid=lambda a, b: _positive(a) & _positive(b),
                 family=_Scipy("beta", lambda a, b: (a, b), typical=lambda a, b: a / (a + b),
                               closed_form=_beta_logpdf, closed_tails=_BETA_TAILS, closed_quantiles=_BETA_QUANTILES)),
    Distribution("dunif", ("a", "b"), (0, 0), support=lambda a, b: (a, b),
                 valid=lambda a, b: np.asarray(a) < np.asarray(b),
                 family=_Scipy("uniform", lambda a, b: (a, b - a),
                               closed_form=lambda x, a, b: -np.log(b - a) + 0 * x,
                               typical=lambda a, b: (np.asarray(a) + b) / 2)),
    Distribution("df", ("n", "m"), (0, 0), support=_pos,
                 valid=lambda n, m: _positive(n) & _positive(m),
                 family=_Scipy("f", lambda n, m: (n, m), typical=lambda n, m: special.fdtri(n, m, 0.5))),
    # JAGS (DGenGamma.cc): (lambda x)^b ~ dgamma(r, 1), density
    # b lambda^(br) x^(br-1) exp{-(lambda x)^b} / Gamma(r): scipy's gengamma(a=r, c=b), scale 1/lambda.
    Distribution("dgen.gamma", ("r", "lambda", "b"), (0, 0, 0), support=_pos,
                 valid=lambda r, lam, b: _positive(r) & _positive(lam) & _positive(b),
                 family=_Scipy("gengamma", lambda r, lam, b: (r, b, 0.0, 1 / lam),
                               typical=lambda r, lam, b: special.gammaincinv(r, 0.5) ** (1 / b) / lam)),
    Distribution("dnormmix", ("mu", "tau", "pi"), (1, 1, 1),
                 valid=lambda mu, tau, pi: np.all(_positive(tau), axis=-1) & np.all(_positive(pi), axis=-1),
                 family=_NormMix()),
    Distribution("dflat", (), (), improper=True, family=_Flat()),
]

_SCALAR_DISCRETE = [
    Distribution("dbern", ("p",), (0,), discrete=True, support=_unit, valid=_probability,
                 family=_Scipy("bernoulli", lambda p: (p,),
                               closed_form=lambda x, p: special.xlogy(x, p) + special.xlog1py(1 - x, -p),
                               typical=lambda p: (np.asarray(p) > 0.5).astype(float))),
    Distribution("dbin", ("p", "n"), (0, 0), discrete=True,
                 support=lambda p, n: (0.0, n), valid=lambda p, n: _probability(p) & _nonneg_int(n),
                 family=_Scipy("binom", lambda p, n: (_trials(n), p), typical=lambda p, n: np.round(n * p),
                               closed_form=_binom_logpmf)),
    Distribution("dbetabin", ("a", "b", "n"), (0, 0, 0), discrete=True,
                 support=lambda a, b, n: (0.0, n),
                 valid=lambda a, b, n: _positive(a) & _positive(b) & _nonneg_int(n),
                 family=_Scipy("betabinom", lambda a, b, n: (_trials(n), a, b),
                               typical=lambda a, b, n: np.round(n * a / (a + b)))),
    Distribution("dpois", ("lambda",), (0,), discrete=True, support=_pos,
                 valid=lambda lam: np.asarray(lam) >= 0,
                 family=_Scipy("poisson", lambda lam: (lam,), closed_form=_pois_logpmf)),
    Distribution("dnegbin", ("p", "r"), (0, 0), discrete=True, support=_pos,
                 valid=lambda p, r: (np.asarray(p) > 0) & (np.asarray(p) <= 1) & (np.asarray(r) >= 0),
                 family=_Scipy("nbinom", _negbin_to_scipy, closed_form=_negbin_logpmf)),
    Distribution("dcat", ("pi",), (1,), discrete=True,
                 support=lambda pi: (1.0, np.shape(pi)[-1]),
                 valid=lambda pi: np.all(np.asarray(pi) >= 0, axis=-1) & (np.sum(pi, axis=-1) > 0),
                 family=_Cat()),
    # Fisher's non-central hypergeometric (JAGS manual ch. 9, DHyper.cc): x white balls among
    # m1 drawn from n1 white and n2 black, odds ratio psi. JAGS cannot bound it (canBound false).
    Distribution("dhyper", ("n1", "n2", "m1", "psi"), (0, 0, 0, 0), discrete=True,
                 support=lambda n1, n2, m1, psi: (np.maximum(0, np.asarray(m1) - n2),
                                                  np.minimum(n1, m1)),
                 valid=lambda n1, n2, m1, psi: _nonneg_int(n1) & _nonneg_int(n2) & _nonneg_int(m1)
                 & (np.asarray(m1) <= np.asarray(n1) + np.asarray(n2)) & _positive(psi),
                 family=_Scipy("nchypergeom_fisher", lambda n1, n2, m1, psi: (n1 + n2, n1, m1, psi),
                               truncatable=False)),
    # JAGS rejects cutpoints that are not strictly increasing (DInterval.cc).
    Distribution("dinterval", ("t", "cutpoints"), (0, 1), discrete=True,
                 support=lambda t, c: (0.0, np.shape(c)[-1]), observed_only=True,
                 valid=lambda t, c: np.all(np.diff(c, axis=-1) > 0, axis=-1),
                 family=_Interval()),
]


def _positive_definite(m):
    m = np.asarray(m, dtype=float)
    symmetric = np.all(np.isclose(m, np.swapaxes(m, -1, -2)), axis=(-1, -2))
    eig = np.linalg.eigvalsh(np.where(symmetric[..., None, None], m, np.eye(m.shape[-1])))
    return symmetric & np.all(eig > 0, axis=-1)


_MULTIVARIATE = [
    Distribution("dmnorm", ("mu", "Omega"), (1, 2), value_rank=1, value_shape=_vector_length,
                 valid=lambda mu, omega: _positive_definite(omega), family=_MNorm(precision=True)),
    Distribution("dmnorm.vcov", ("mu", "Sigma"), (1, 2), value_rank=1, value_shape=_vector_length,
                 valid=lambda mu, sigma: _positive_definite(sigma), family=_MNorm(precision=False)),
    Distribution("dmt", ("mu", "Omega", "k"), (1, 2, 0), value_rank=1, value_shape=_vector_length,
                 valid=lambda mu, omega, k: _positive_definite(omega) & _positive(k), family=_MT()),
    # JAGS (DMulti.cc) needs some pi_j > 0 unless n = 0.
    Distribution("dmulti", ("pi", "n"), (1, 0), value_rank=1, discrete=True,
                 value_shape=_vector_length,
                 valid=lambda pi, n: np.all(np.asarray(pi) >= 0, axis=-1) & _nonneg_int(n)
                 & ((np.sum(pi, axis=-1) > 0) | (np.asarray(n) == 0)),
                 family=_Multi()),
    Distribution("ddirch", ("alpha",), (1,), value_rank=1, value_shape=_vector_length,
                 valid=lambda alpha: np.all(np.asarray(alpha) >= 0, axis=-1)
                 & np.any(np.asarray(alpha) > 0, axis=-1),
                 family=_Dirch()),
    Distribution("dwish", ("R", "k"), (2, 0), value_rank=2, value_shape=_matrix_side,
                 valid=lambda R, k: _positive_definite(R) & (np.asarray(k) >= np.shape(R)[-1]),
                 family=_Wish()),
]

DISTRIBUTIONS: dict[str, Distribution] = {
    d.name: d for d in _SCALAR_CONTINUOUS + _SCALAR_DISCRETE + _MULTIVARIATE
}
# JAGS's alternative names, as in R and OpenBUGS (JAGS manual, section 9; DMulti.cc for dmultinom).
ALIASES = {"dbinom": "dbin", "dnbinom": "dnegbin", "dchisq": "dchisqr", "dweibull": "dweib",
           "ddirich": "ddirch", "dggamma": "dgen.gamma", "dmultinom": "dmulti"}
for _alias, _name in ALIASES.items():
    DISTRIBUTIONS[_alias] = DISTRIBUTIONS[_name]


def value_in_support(dist: Distribution, value: np.ndarray, params: list[np.ndarray]) -> np.ndarray:
    """Boolean per scalar node: is the observed ``value`` a possible draw of ``dist``?

    For multivariate distributions the check is per node (trailing value axes reduced).
    Infinite and nan values are never possible draws.
    """
    value = np.asarray(value, dtype=float)
    if dist.value_rank == 0:
        lower, upper = dist.support(*params)
        ok = np.isfinite(value) & (value >= lower) & (value <= upper)
        if dist.discrete:
            ok &= value == np.floor(value)
        return ok
    axes = tuple(range(-dist.value_rank, 0))
    ok = np.all(np.isfinite(value), axis=axes)
    if dist.name == "dmulti":
        ok &= np.all(value >= 0, axis=-1) & np.all(value == np.floor(value), axis=-1)
        ok &= np.sum(value, axis=-1) == params[1]
    elif dist.name == "ddirch":
        ok &= np.all(value >= 0, axis=-1) & np.isclose(np.sum(value, axis=-1), 1.0)
    elif dist.name == "dwish":
        ok &= _positive_definite(value)
    return ok
