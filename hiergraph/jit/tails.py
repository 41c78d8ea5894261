"""Log tail probabilities of the truncatable distributions, for the numba backend.

A node truncated with ``T(L, U)`` whose parameters move has the log density
``log f(x) - log P(L <= X <= U)``, so the generated code needs the mass of an interval as a
function of the parameters. ``tails_<dist>(x, *params)`` returns ``(log P(X <= x),
log P(X > x))`` with neither computed as one minus the other where that would cancel;
:func:`log_mass` combines the tails at both ends as ``Distribution._log_tails`` does (the
scheme of JAGS's RScalarDist::logDensity). tests/test_jit_tails.py checks each kernel
against the numpy engine's scipy tails.

The regularised incomplete gamma and beta functions are evaluated by their power series and
continued fractions (DLMF 8.7.1, 8.9.2 and 8.17.22), each continued fraction by the modified
Lentz method (Press et al., Numerical Recipes, 3rd ed., section 5.2).
"""

from __future__ import annotations

import math

import numpy as np

from .scalar import kernel, lbeta, log_ndtr, stirling_error

INF = math.inf
LOG_HALF = math.log(0.5)
LOG_2PI = math.log(2 * math.pi)
EPSILON = 1e-15  # relative change at which a series or continued fraction has converged
TINY = 1e-300  # Lentz's stand-in for a zero denominator
# Cap on terms: enough to converge for shapes near 10^8 (where the beta prefactor's large
# terms leave about 1e-8 relative precision); NaN arguments stop here.
TERMS = 100_000
BELOW, ABOVE = (-INF, 0.0), (0.0, -INF)  # the tails at -inf and at +inf
BIGGEST = 1.7976931348623157e308  # an infinite end of a bisection bracket


@kernel
def log1mexp(v):
    """log(1 - exp(v)) for v <= 0, accurate at both ends (Maechler, 2012)."""
    if v > -0.6931471805599453:
        return np.log(-np.expm1(v))
    return np.log1p(-np.exp(v))


@kernel
def log1pexp(v):
    """log(1 + exp(v)) without overflow."""
    if v > 0:
        return v + np.log1p(np.exp(-v))
    return np.log1p(np.exp(v))


@kernel
def log_mass(lower, upper):
    """log P(lo < X <= hi) from the tails at ``lo`` and ``hi``: the difference of the two
    tails on the side of the median ``lo`` is on, -inf when the interval has no mass."""
    if lower[1] < LOG_HALF:
        near, far = lower[1], upper[1]
    else:
        near, far = upper[0], lower[0]
    if not near > far:
        return -INF
    return near + log1mexp(far - near)


@kernel
def log_gamma_front(a, x):
    """log(x^a e^-x / Gamma(a)); from a = 10 on with log Gamma(a) by Stirling's series, so
    that the large terms a log x and x cancel exactly."""
    if a < 10:
        return a * np.log(x) - x - math.lgamma(a)
    d = (x - a) / a
    log_ratio = np.log(x / a) if d < -0.5 else np.log1p(d)
    return a * (log_ratio - d) + 0.5 * (np.log(a) - LOG_2PI) - stirling_error(a)


@kernel
def lentz(numerator, denominator, c, d):
    """One term of a continued fraction by the modified Lentz method: the new (C, 1/D),
    a zero denominator replaced by TINY; the fraction's value is multiplied by their product."""
    d = denominator + numerator * d
    c = denominator + numerator / c
    return (TINY if abs(c) < TINY else c), 1.0 / (TINY if abs(d) < TINY else d)


@kernel
def gamma_tails(a, x):
    """(log P(a, x), log Q(a, x)), the regularised incomplete gamma functions: the power
    series of P below x = a + 1, the continued fraction of Q above it."""
    if not x > 0:
        return BELOW if x <= 0 else (x, x)
    if math.isinf(x):
        return ABOVE
    log_front = log_gamma_front(a, x)
    if x < a + 1:
        term = 1.0 / a
        total = term
        shape = a
        for _ in range(TERMS):
            shape += 1.0
            term *= x / shape
            total += term
            if term < total * EPSILON:
                break
        log_p = log_front + np.log(total)
        return log_p, log1mexp(log_p)
    b = x + 1.0 - a
    c, d = 1.0 / TINY, 1.0 / b
    h = d
    for i in range(1, TERMS):
        b += 2.0
        c, d = lentz(-i * (i - a), b, c, d)
        h *= d * c
        if abs(d * c - 1.0) < EPSILON:
            break
    log_q = log_front + np.log(h)
    return log1mexp(log_q), log_q


@kernel
def beta_fraction(a, b, x):
    """The continued fraction of I_x(a, b) (DLMF 8.17.22) by modified Lentz: I_x(a, b) is
    x^a (1-x)^b / (a B(a, b)) times it; it converges fast for x < (a + 1) / (a + b + 2)."""
    c = 1.0
    d = 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (TINY if abs(d) < TINY else d)
    h = d
    for m in range(1, TERMS):
        for step in (m * (b - m) * x / ((a + 2 * m - 1.0) * (a + 2 * m)),
                     -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1.0))):
            c, d = lentz(step, 1.0, c, d)
            h *= d * c
        if abs(d * c - 1.0) < EPSILON:
            break
    return h


@kernel
def beta_tails(a, b, x, y):
    """(log I_x(a, b), log (1 - I_x(a, b))) with ``y = 1 - x`` passed in so that callers
    can give it without cancellation; each from the continued fraction on its own side."""
    if not x > 0:
        return BELOW if x <= 0 else (x, x)
    if not y > 0:
        return ABOVE if y <= 0 else (y, y)
    log_front = a * np.log(x) + b * np.log(y) - lbeta(a, b)
    if x < (a + 1.0) / (a + b + 2.0):
        log_p = log_front + np.log(beta_fraction(a, b, x) / a)
        return log_p, log1mexp(log_p)
    log_q = log_front + np.log(beta_fraction(b, a, y) / b)
    return log1mexp(log_q), log_q


@kernel
def flipped(tails):
    return tails[1], tails[0]


@kernel
def from_survival(log_sf):
    return log1mexp(log_sf), log_sf


# -- each distribution's (log P(X <= x), log P(X > x)), JAGS's parameterisations --------------------

@kernel
def tails_dnorm(x, mu, tau):
    z = (x - mu) * math.sqrt(tau)
    return log_ndtr(z), log_ndtr(-z)


@kernel
def tails_dlnorm(x, mu, tau):
    if x <= 0:
        return BELOW
    return tails_dnorm(np.log(x), mu, tau)


@kernel
def tails_dt(x, mu, tau, k):
    """P(T > |t|) = I_w(k/2, 1/2) / 2 with w = k / (k + t^2)."""
    t = (x - mu) * math.sqrt(tau)
    if math.isinf(t):
        return BELOW if t < 0 else ABOVE
    spread = k + t * t
    far = LOG_HALF + beta_tails(0.5 * k, 0.5, k / spread, t * t / spread)[0]
    return (far, log1mexp(far)) if t < 0 else (log1mexp(far), far)


@kernel
def tails_dlogis(x, mu, tau):
    z = (x - mu) * tau
    return -log1pexp(-z), -log1pexp(z)


@kernel
def tails_ddexp(x, mu, tau):
    z = (x - mu) * tau
    if z < 0:
        return LOG_HALF + z, np.log1p(-0.5 * np.exp(z))
    return np.log1p(-0.5 * np.exp(-z)), LOG_HALF - z


@kernel
def tails_dgamma(x, shape, rate):
    return gamma_tails(shape, rate * x)


@kernel
def tails_dchisqr(x, k):
    return gamma_tails(0.5 * k, 0.5 * x)


@kernel
def tails_dexp(x, rate):
    return BELOW if x <= 0 else from_survival(-rate * x)


@kernel
def tails_dweib(x, v, lam):
    return BELOW if x <= 0 else from_survival(-lam * x ** v)


@kernel
def tails_dpar(x, a, c):
    return BELOW if x <= c else from_survival(a * (np.log(c) - np.log(x)))


@kernel
def tails_dbeta(x, a, b):
    return beta_tails(a, b, x, 1.0 - x)


@kernel
def tails_dunif(x, a, b):
    if x <= a:
        return BELOW
    if x >= b:
        return ABOVE
    return np.log((x - a) / (b - a)), np.log((b - x) / (b - a))


# Discrete ones at whole x (the generated code passes ceil(L) - 1 and floor(U)).

@kernel
def tails_dbern(x, p):
    if x < 0:
        return BELOW
    if x >= 1:
        return ABOVE
    return np.log1p(-p), np.log(p)


@kernel
def tails_dbin(x, p, n):
    """P(X <= x) = I_{1-p}(n - x, x + 1)."""
    if x < 0:
        return BELOW
    if x >= n:
        return ABOVE
    return beta_tails(n - x, x + 1.0, 1.0 - p, p)


@kernel
def tails_dpois(x, lam):
    """P(X <= x) = Q(x + 1, lambda)."""
    if x < 0:
        return BELOW
    if math.isinf(x):
        return ABOVE
    return flipped(gamma_tails(x + 1.0, lam))


@kernel
def tails_dnegbin(x, p, r):
    """P(X <= x) = I_p(r, x + 1), x failures before the r-th success; JAGS allows r = 0, a
    point mass at 0."""
    if x < 0:
        return BELOW
    if math.isinf(x) or r == 0:
        return ABOVE
    return beta_tails(r, x + 1.0, p, 1.0 - p)
