"""Scalar kernels the generated sweeps call: the language's functions, the distributions'
log densities, supports and draws, and the conjugate families' log normalisers.

Each is the one-value form of its numpy twin in :mod:`hiergraph.functions` and
:mod:`hiergraph.distributions` (same formulas, JAGS's parameterisations), and follows the
same convention as ``State.log_density``: ``-inf`` outside the support and for invalid
parameters. tests/test_jit.py checks every kernel against its twin.

The code generator names kernels by pattern: ``lp_<dist>(x, *params)`` log density,
``rv_<dist>(rng, *params)`` a draw, ``fn_<function>`` a function, ``normaliser_<family>``; see :data:`hiergraph.jit.expressions.FUNCTION_KERNELS`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

kernel = njit(cache=True, error_model="numpy", nogil=True)
# a generated function only compiled code calls: no Python wrapper (hiergraph.jit.assemble)
inner = njit(cache=True, error_model="numpy", nogil=True, no_cpython_wrapper=True)

INF = math.inf
LOG_2PI = math.log(2 * math.pi)
SQRT2 = math.sqrt(2.0)


# -- helpers ---------------------------------------------------------------------------------

@kernel
def xlogy(a, x):
    return 0.0 if a == 0 else a * np.log(x)


@kernel
def xlog1py(a, x):
    return 0.0 if a == 0 else a * np.log1p(x)


@kernel
def smallest(values):
    """min of a run: here, compiled once for every model, where numba would compile its own
    np.min again into each generated module."""
    least = INF
    for value in values:
        least = min(least, value)
    return least


@kernel
def stirling_error(x):
    """log Gamma(x) - ((x - 1/2) log x - x + log(2 pi) / 2) for x >= 10, by Stirling's series
    (DLMF 5.11.1) to its seventh term, within 1e-15 there."""
    w = 1.0 / (x * x)
    series = (1.0 / 12 - w * (1.0 / 360 - w * (1.0 / 1260 - w * (1.0 / 1680 - w * (
        1.0 / 1188 - w * (691.0 / 360360 - w / 156.0))))))
    return series / x


@kernel
def lbeta(a, b):
    """log B(a, b). With an argument of 10 or more, the large terms of the three log Gammas
    are cancelled by hand and Stirling's corrections added (the scheme of R's lbeta), so
    the result keeps its precision when a + b is large."""
    p, q = min(a, b), max(a, b)
    if q < 10 or not p > 0:
        return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    share = p / (p + q)
    correction = stirling_error(q) - stirling_error(p + q)
    if p < 10:
        return math.lgamma(p) + correction + p - p * math.log(p + q) + (q - 0.5) * math.log1p(-share)
    return (0.5 * (LOG_2PI - math.log(q)) + stirling_error(p) + correction + (p - 0.5) * math.log(share)
            + q * math.log1p(-share))


@kernel
def inside(x, lower, upper, discrete):
    """Is ``x`` a possible value: finite, within [lower, upper], whole if discrete."""
    if not (x >= lower and x <= upper) or math.isinf(x):
        return False
    return not discrete or x == np.floor(x)


@kernel
def finite_or_minus_inf(value):
    return value if value == value else -INF


# -- functions -------------------------------------------------------------------------------

@kernel
def fn_ilogit(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@kernel
def fn_logit(p):
    return np.log(p) - np.log1p(-p)


@kernel
def fn_phi(x):
    return 0.5 * math.erfc(-x / SQRT2)


@kernel
def log_ndtr(z):
    """log Phi(z); below z = -30, where erfc nears underflow, the asymptotic series
    (Abramowitz and Stegun 26.2.12) to its fourth term (relative error under 1e-12)."""
    if z > 0:
        return np.log1p(-0.5 * math.erfc(z / SQRT2))
    if z > -30:
        return np.log(0.5 * math.erfc(-z / SQRT2))
    w = 1.0 / (z * z)
    return -0.5 * z * z - np.log(-z) - 0.5 * LOG_2PI + np.log1p(w * (-1.0 + w * (3.0 + w * (-15.0 + w * 105.0))))


@kernel
def fn_cloglog(p):
    return np.log(-np.log1p(-p))


@kernel
def fn_icloglog(x):
    return -np.expm1(-np.exp(x))


@kernel
def fn_round(x):
    return np.floor(x + 0.5) if x >= 0 else np.ceil(x - 0.5)


@kernel
def fn_loggam(x):
    return math.lgamma(x) if x > 0 or x != np.floor(x) else INF


@kernel
def fn_logfact(x):
    return fn_loggam(x + 1.0)


# -- log densities, JAGS's parameterisations ---------------------------------------------------

@kernel
def lp_dnorm(x, mu, tau):
    if not (tau > 0) or not inside(x, -INF, INF, False):
        return -INF
    return finite_or_minus_inf(0.5 * (math.log(tau) - LOG_2PI) - 0.5 * tau * (x - mu) ** 2)


@kernel
def lp_dlnorm(x, mu, tau):
    if not (tau > 0) or not inside(x, 0.0, INF, False) or x == 0:
        return -INF
    log_x = math.log(x)
    return finite_or_minus_inf(0.5 * (math.log(tau) - LOG_2PI) - log_x - 0.5 * tau * (log_x - mu) ** 2)


@kernel
def lp_dgamma(x, shape, rate):
    if not (shape > 0 and rate > 0) or not inside(x, 0.0, INF, False):
        return -INF
    return finite_or_minus_inf(shape * math.log(rate) + xlogy(shape - 1, x) - rate * x - math.lgamma(shape))


@kernel
def lp_dexp(x, rate):
    if not (rate > 0) or not inside(x, 0.0, INF, False):
        return -INF
    return math.log(rate) - rate * x


@kernel
def lp_dchisqr(x, k):
    if not (k > 0) or not inside(x, 0.0, INF, False):
        return -INF
    half = k / 2
    return finite_or_minus_inf(xlogy(half - 1, x) - x / 2 - half * math.log(2.0) - math.lgamma(half))


@kernel
def lp_dbeta(x, a, b):
    if not (a > 0 and b > 0) or not inside(x, 0.0, 1.0, False):
        return -INF
    return finite_or_minus_inf(xlogy(a - 1, x) + xlog1py(b - 1, -x) - lbeta(a, b))


@kernel
def lp_dunif(x, a, b):
    if not (a < b) or not inside(x, a, b, False):
        return -INF
    return -math.log(b - a)


@kernel
def lp_dt(x, mu, tau, k):
    if not (tau > 0 and k > 0) or not inside(x, -INF, INF, False):
        return -INF
    return (math.lgamma((k + 1) / 2) - math.lgamma(k / 2) + 0.5 * math.log(tau / (k * math.pi))
            - (k + 1) / 2 * np.log1p(tau * (x - mu) ** 2 / k))


@kernel
def lp_dlogis(x, mu, tau):
    if not (tau > 0) or not inside(x, -INF, INF, False):
        return -INF
    u = tau * (x - mu)
    return math.log(tau) - u - 2 * np.logaddexp(0.0, -u)


@kernel
def lp_ddexp(x, mu, tau):
    if not (tau > 0) or not inside(x, -INF, INF, False):
        return -INF
    return math.log(tau / 2) - tau * abs(x - mu)


@kernel
def lp_dweib(x, v, lam):
    if not (v > 0 and lam > 0) or not inside(x, 0.0, INF, False):
        return -INF
    return finite_or_minus_inf(math.log(v * lam) + xlogy(v - 1, x) - lam * x ** v)


@kernel
def lp_dpar(x, a, c):
    if not (a > 0 and c > 0) or not inside(x, c, INF, False):
        return -INF
    return math.log(a) + a * math.log(c) - (a + 1) * math.log(x)


@kernel
def lp_dflat(x):
    return 0.0 if inside(x, -INF, INF, False) else -INF


@kernel
def lp_dbern(x, p):
    if not (p >= 0 and p <= 1) or not inside(x, 0.0, 1.0, True):
        return -INF
    return finite_or_minus_inf(xlogy(x, p) + xlog1py(1 - x, -p))


@kernel
def whole(n):
    return n >= 0 and not math.isinf(n) and n == np.floor(n)


# lk_<dist>: the log density less its terms in the value alone, for a child whose value is
# fixed while its parent moves (a slice density): the same differences, no lgamma calls.

@kernel
def lk_dbin(x, p, n):
    if not (p >= 0 and p <= 1 and whole(n)) or not inside(x, 0.0, n, True):
        return -INF
    return finite_or_minus_inf(xlogy(x, p) + xlog1py(n - x, -p))


@kernel
def lp_dbin(x, p, n):
    kernel = lk_dbin(x, p, n)
    return kernel if kernel == -INF else kernel + math.lgamma(n + 1) - math.lgamma(x + 1) - math.lgamma(n - x + 1)


@kernel
def lk_dpois(x, lam):
    if not (lam >= 0) or not inside(x, 0.0, INF, True):
        return -INF
    return finite_or_minus_inf(xlogy(x, lam) - lam)


@kernel
def lp_dpois(x, lam):
    kernel = lk_dpois(x, lam)
    return kernel if kernel == -INF else kernel - math.lgamma(x + 1)


@kernel
def lp_dnegbin(x, p, r):
    if not (p > 0 and p <= 1 and r >= 0) or not inside(x, 0.0, INF, True):
        return -INF
    if r == 0:  # a point mass at 0, as in JAGS
        return 0.0 if x == 0 else -INF
    return finite_or_minus_inf(math.lgamma(x + r) - math.lgamma(r) - math.lgamma(x + 1)
                               + xlogy(r, p) + xlog1py(x, -p))


# -- draws -----------------------------------------------------------------------------------
# Every use of the generator goes through a kernel here: numba compiles a Generator method
# afresh (seconds) in each function that calls it, but links a cached kernel in no time.

@kernel
def draw_uniform(rng):
    return rng.random()


@kernel
def draw_open_uniform(rng):
    """A uniform draw in (0, 1), the midpoint of one of 2^53 equal cells: a truncated draw
    inverts it, and 0 would put the draw on an infinite end (distributions._open_uniform)."""
    return (np.floor(rng.random() * 9007199254740992.0) + 0.5) / 9007199254740992.0


@kernel
def draw_exponential(rng):
    return rng.standard_exponential()


@kernel
def draw_integer(rng, below):
    return rng.integers(0, below)


@kernel
def rv_dnorm(rng, mu, tau):
    return mu + rng.standard_normal() / math.sqrt(tau)


@kernel
def rv_dlnorm(rng, mu, tau):
    return math.exp(mu + rng.standard_normal() / math.sqrt(tau))


@kernel
def rv_dgamma(rng, shape, rate):
    return rng.standard_gamma(shape) / rate


@kernel
def rv_dexp(rng, rate):
    return rng.standard_exponential() / rate


@kernel
def rv_dchisqr(rng, k):
    return 2.0 * rng.standard_gamma(k / 2)


@kernel
def rv_dbeta(rng, a, b):
    return rng.beta(a, b)


@kernel
def rv_dunif(rng, a, b):
    return a + (b - a) * rng.random()


@kernel
def rv_dt(rng, mu, tau, k):
    return mu + rng.standard_t(k) / math.sqrt(tau)


@kernel
def rv_dlogis(rng, mu, tau):
    u = rng.random()
    return mu + math.log(u / (1 - u)) / tau


@kernel
def rv_ddexp(rng, mu, tau):
    magnitude = rng.standard_exponential() / tau
    return mu + magnitude if rng.random() < 0.5 else mu - magnitude


@kernel
def rv_dweib(rng, v, lam):
    return (rng.standard_exponential() / lam) ** (1 / v)


@kernel
def rv_dpar(rng, a, c):
    return c * (1 - rng.random()) ** (-1 / a)


@kernel
def rv_dbern(rng, p):
    return 1.0 if rng.random() < p else 0.0


@kernel
def rv_dbin(rng, p, n):
    return float(rng.binomial(int(n), p))


@kernel
def rv_dpois(rng, lam):
    return float(rng.poisson(lam))


@kernel
def rv_dnegbin(rng, p, r):
    if r == 0:
        return 0.0
    return float(rng.poisson(rng.standard_gamma(r) * (1 - p) / p))


# -- conjugate families' log normalisers (hiergraph.conjugacy.LOG_NORMALISERS) ------------------

@kernel
def normaliser_beta(a, b):
    return lbeta(a, b)


@kernel
def normaliser_gamma(shape, rate):
    return math.lgamma(shape) - shape * math.log(rate)


@kernel
def normaliser_normal(weighted, precision):
    return 0.5 * weighted ** 2 / precision - 0.5 * math.log(precision)


# -- envelope linear algebra for the blocks (hiergraph.jit.envelope, hiergraph.jit.blockcode) ----
# Row i of the lower triangle (position i of the block's order) holds columns first[i] .. i
# at h[start[i] + k - first[i]]; vectors are in coordinate order, order[i] the coordinate at i.

@kernel
def cholesky(h, first, start):
    """``h`` (the lower envelope of a symmetric positive definite H) overwritten by that of
    its Cholesky factor L (H = L L'); False where H is not positive definite."""
    for i in range(first.shape[0]):
        row = start[i] - first[i]
        for j in range(first[i], i):
            column = start[j] - first[j]
            t = h[row + j]
            for k in range(max(first[i], first[j]), j):
                t -= h[row + k] * h[column + k]
            h[row + j] = t / h[column + j]
        t = h[row + i]
        for k in range(first[i], i):
            t -= h[row + k] * h[row + k]
        if not (t > 0):
            return False
        h[row + i] = math.sqrt(t)
    return True


@kernel
def forward_solve(factor, first, start, order, b, out):
    """``out = L^-1 b`` (``out`` may be ``b``)."""
    for i in range(first.shape[0]):
        row = start[i] - first[i]
        t = b[order[i]]
        for k in range(first[i], i):
            t -= factor[row + k] * out[order[k]]
        out[order[i]] = t / factor[row + i]


@kernel
def backward_solve(factor, first, start, order, y, out):
    """``out = L^-T y`` (``out`` may be ``y``), a column of L' at a time."""
    for i in range(first.shape[0]):
        out[order[i]] = y[order[i]]
    for i in range(first.shape[0] - 1, -1, -1):
        row = start[i] - first[i]
        x = out[order[i]] / factor[row + i]
        out[order[i]] = x
        for k in range(first[i], i):
            out[order[k]] -= factor[row + k] * x


@kernel
def gaussian_draw(h, first, start, order, b, z, out):
    """``out = H^-1 b + L^-T z`` for the precision ``H = L L'`` (``h``, overwritten by L): a
    draw from N(H^-1 b, H^-1) given standard normals ``z``. False where H is not positive
    definite (``out`` then untouched)."""
    if not cholesky(h, first, start):
        return False
    y = np.empty(b.shape[0])
    forward_solve(h, first, start, order, b, y)
    for i in range(y.shape[0]):
        y[i] += z[i]
    backward_solve(h, first, start, order, y, out)
    return True


# -- small dense matrices, row-major in a flat array: inverse() and logdet() ----------------------

@kernel
def pivot_into_place(m, n, c):
    """Partial pivoting for column ``c``: the row from ``c`` down with the largest entry
    there is swapped into row ``c``; returns that row's former index."""
    pivot = c
    for r in range(c + 1, n):
        if abs(m[r * n + c]) > abs(m[pivot * n + c]):
            pivot = r
    swap_rows(m, n, c, pivot)
    return pivot


@kernel
def swap_rows(m, n, a, b):
    for j in range(n):
        m[a * n + j], m[b * n + j] = m[b * n + j], m[a * n + j]


@kernel
def invert(m, out, n):
    """``out`` = the inverse of the n x n matrix ``m`` (which is overwritten), by Gauss-Jordan
    elimination with partial pivoting; NaN throughout if it is singular."""
    for i in range(n * n):
        out[i] = 1.0 if i // n == i % n else 0.0
    for c in range(n):
        swap_rows(out, n, c, pivot_into_place(m, n, c))
        if not m[c * n + c] != 0:
            for i in range(n * n):
                out[i] = np.nan
            return
        scale = 1.0 / m[c * n + c]
        for j in range(n):
            m[c * n + j] *= scale
            out[c * n + j] *= scale
        for r in range(n):
            factor = m[r * n + c]
            if r != c and factor != 0:
                for j in range(n):
                    m[r * n + j] -= factor * m[c * n + j]
                    out[r * n + j] -= factor * out[c * n + j]


@kernel
def log_determinant(m, n):
    """log det of the n x n matrix ``m`` (overwritten) by LU with partial pivoting; NaN where
    the determinant is not positive, as ``functions._logdet``."""
    total, sign = 0.0, 1.0
    for c in range(n):
        if pivot_into_place(m, n, c) != c:
            sign = -sign
        head = m[c * n + c]
        if not head != 0:
            return np.nan
        sign = -sign if head < 0 else sign
        total += math.log(abs(head))
        for r in range(c + 1, n):
            factor = m[r * n + c] / head
            for j in range(c, n):
                m[r * n + j] -= factor * m[c * n + j]
    return total if sign > 0 else np.nan


@kernel
def dense_cholesky(m, n):
    """The lower triangle of the n x n matrix ``m`` (row-major) overwritten by its Cholesky
    factor L (M = L L', from M's lower triangle); False where M is not positive definite."""
    for i in range(n):
        for j in range(i + 1):
            t = m[i * n + j]
            for k in range(j):
                t -= m[i * n + k] * m[j * n + k]
            if i == j:
                if not t > 0:
                    return False
                m[i * n + i] = math.sqrt(t)
            else:
                m[i * n + j] = t / m[j * n + j]
    return True


@kernel
def solve_transposed(factor, n, b, first, stride):
    """``b``'s n-vector at ``first, first + stride, ...`` overwritten by L'^-1 times it, for the
    lower triangular n x n ``factor`` L (row-major): back substitution, L' being upper."""
    for i in range(n - 1, -1, -1):
        t = b[first + i * stride]
        for m in range(i + 1, n):
            t -= factor[m * n + i] * b[first + m * stride]
        b[first + i * stride] = t / factor[i * n + i]


@kernel
def symmetric(m, n):
    """Whether the n x n matrix ``m`` is symmetric to numpy's isclose, as
    distributions._positive_definite asks."""
    for i in range(n):
        for j in range(i):
            a, b = m[i * n + j], m[j * n + i]
            if not abs(a - b) <= 1e-8 + 1e-5 * abs(b) or not abs(b - a) <= 1e-8 + 1e-5 * abs(a):
                return False
    return True


@kernel
def multiply_lower(factor, n, z):
    """``z`` overwritten by L z for the lower triangular n x n ``factor`` L (row-major), from
    the last row up, which reads only entries not yet overwritten."""
    for i in range(n - 1, -1, -1):
        t = 0.0
        for m in range(i + 1):
            t += factor[i * n + m] * z[m]
        z[i] = t


@kernel
def lp_dmnorm(x, mu, omega, n):
    """dmnorm(mu, Omega)'s log density at the n-vector ``x``: (log |Omega| - n log 2 pi - (x -
    mu)' Omega (x - mu)) / 2 (JAGS manual ch. 9); -inf unless Omega is symmetric and positive
    definite. ``omega`` is overwritten."""
    if not symmetric(omega, n):
        return -INF
    quadratic = 0.0
    for i in range(n):
        for j in range(n):
            quadratic += (x[i] - mu[i]) * omega[i * n + j] * (x[j] - mu[j])
    if not dense_cholesky(omega, n):
        return -INF
    log_det = 0.0
    for i in range(n):
        log_det += 2.0 * math.log(omega[i * n + i])
    return 0.5 * (log_det - n * LOG_2PI - quadratic)


@kernel
def lp_dmnorm_vcov(x, mu, sigma, n):
    """dmnorm.vcov(mu, Sigma)'s log density at ``x``: -(log |Sigma| + n log 2 pi + |L^-1 (x -
    mu)|^2) / 2 with Sigma = L L'; -inf unless Sigma is symmetric and positive definite.
    ``sigma`` is overwritten."""
    if not symmetric(sigma, n) or not dense_cholesky(sigma, n):
        return -INF
    log_det, quadratic = 0.0, 0.0
    u = np.empty(n)
    for i in range(n):  # forward substitution: L u = x - mu
        t = x[i] - mu[i]
        for m in range(i):
            t -= sigma[i * n + m] * u[m]
        u[i] = t / sigma[i * n + i]
        quadratic += u[i] * u[i]
        log_det += 2.0 * math.log(sigma[i * n + i])
    return -0.5 * (log_det + n * LOG_2PI + quadratic)


@kernel
def lp_dmulti(x, pi, size, n):
    """dmulti(pi, size)'s log density at the n-vector of counts ``x``: log size! + sum of x_j
    log p_j - log x_j! with p = pi / sum(pi) (JAGS manual ch. 9); -inf unless every pi_j >= 0,
    size is a whole number and some pi_j > 0 unless size = 0, as the registry asks."""
    total = 0.0
    for j in range(n):
        if not pi[j] >= 0:
            return -INF
        total += pi[j]
    if not whole(size) or not (total > 0 or size == 0):
        return -INF
    out = math.lgamma(size + 1)
    for j in range(n):
        out += xlogy(x[j], pi[j] / total if total > 0 else 0.0) - math.lgamma(x[j] + 1)
    return finite_or_minus_inf(out)


@kernel
def correlated_noise(rng, factor, n, precision, z):
    """``z`` = a draw of N(0, M^-1) for a precision M (``precision``), or of N(0, M) for a
    covariance, given M's Cholesky factor L: L'^-1 or L times standard normals."""
    for i in range(n):
        z[i] = rng.standard_normal()
    if precision:
        solve_transposed(factor, n, z, 0, 1)
    else:
        multiply_lower(factor, n, z)


@kernel
def multivariate_normal_draw(rng, mu, matrix, n, precision, out):
    """``out`` = a draw of N(mu, M^-1) (``precision``) or N(mu, M), ``matrix`` M overwritten by
    its Cholesky factor; False where it has none (``out`` then untouched)."""
    if not dense_cholesky(matrix, n):
        return False
    correlated_noise(rng, matrix, n, precision, out)
    for i in range(n):
        out[i] += mu[i]
    return True


@kernel
def rv_dmnorm(rng, mu, omega, n, out):
    """``out`` = a draw of dmnorm(mu, Omega), Omega the precision (overwritten)."""
    return multivariate_normal_draw(rng, mu, omega, n, True, out)


@kernel
def rv_dmnorm_vcov(rng, mu, sigma, n, out):
    """``out`` = a draw of dmnorm.vcov(mu, Sigma), Sigma the covariance (overwritten)."""
    return multivariate_normal_draw(rng, mu, sigma, n, False, out)


@kernel
def rv_ddirch(rng, alpha, n, out):
    """``out`` = a draw of ddirch(alpha): independent gammas normalised (a zero alpha_j, a
    structural zero, gives 0)."""
    total = 0.0
    for j in range(n):
        out[j] = rng.standard_gamma(alpha[j]) if alpha[j] > 0 else 0.0
        total += out[j]
    if not total > 0:
        return False
    for j in range(n):
        out[j] /= total
    return True


@kernel
def rv_dmulti(rng, pi, size, n, out):
    """``out`` = a draw of dmulti(pi, size): each count a binomial draw of what is left, with
    its share of the weight left (pi normalised as the density does)."""
    left = size
    for j in range(n):
        rest = 0.0  # summed afresh, so that no rounding puts a count on a zero weight
        for m in range(j, n):
            rest += pi[m]
        share = min(pi[j] / rest, 1.0) if rest > 0 else 0.0
        out[j] = rv_dbin(rng, share, left) if share < 1.0 else left
        left -= out[j]
    return True


@kernel
def rv_dwish(rng, r, k, n, out):
    """``out`` = a draw of dwish(R, k) for the n x n matrix ``r`` (overwritten): with R = U U'
    (Cholesky) and Bartlett's A (lower triangular, A_ii^2 ~ chi-squared(k - i) from i = 0,
    N(0, 1) below the diagonal), B = U'^-1 A has B B' ~ Wishart(R^-1, k), the draw
    (distributions._Wish.rvs takes the other square root of R^-1). False where R is not
    positive definite (``out`` then untouched)."""
    if not dense_cholesky(r, n):
        return False
    b = np.zeros(n * n)
    for i in range(n):
        b[i * n + i] = math.sqrt(rv_dchisqr(rng, k - i))
        for j in range(i):
            b[i * n + j] = rng.standard_normal()
    for c in range(n):  # solve U' B = A column by column
        solve_transposed(r, n, b, c, n)
    for i in range(n):
        for j in range(i + 1):
            t = 0.0
            for m in range(n):
                t += b[i * n + m] * b[j * n + m]
            out[i * n + j] = t
            out[j * n + i] = t
    return True


# -- GLM children of a block: (log likelihood, Fisher weight, score) at the linear predictor ----
# (hiergraph.blocks: _normal, _logit, _probit, _cloglog, _log)

@kernel
def glm_normal(eta, y, tau):
    residual = y - eta
    return -0.5 * tau * residual ** 2, tau, tau * residual


@kernel
def glm_logit(eta, y, n):
    p = fn_ilogit(eta)
    log1p_exp = max(eta, 0.0) + np.log1p(math.exp(-abs(eta)))
    return y * eta - n * log1p_exp, n * p * (1 - p), y - n * p


@kernel
def glm_probit(eta, y, n):
    log_phi = -0.5 * eta * eta - 0.5 * LOG_2PI
    log_p, log_q = log_ndtr(eta), log_ndtr(-eta)
    score = y * math.exp(log_phi - log_p) - (n - y) * math.exp(log_phi - log_q)
    return y * log_p + (n - y) * log_q, n * math.exp(2 * log_phi - log_p - log_q), score


@kernel
def glm_cloglog(eta, y, n):
    rate = math.exp(eta)
    log_p = np.log(-np.expm1(-rate))
    odds_against = math.exp(-rate - log_p)
    return (y * log_p - (n - y) * rate, n * rate ** 2 * odds_against,
            rate * (y * odds_against - (n - y)))


@kernel
def glm_log(eta, y, n):
    mean = math.exp(eta)
    return y * eta - mean, mean, y - mean
