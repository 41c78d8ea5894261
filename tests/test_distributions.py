"""The distributions' arithmetic, checked against references that do not share its code.

Log densities are compared with the closed forms of the JAGS 4.3 user manual (ch. 9) written
out here, or with scipy.stats' multivariate distributions under the mapping JAGS's manual
gives; normalisation is checked by quadrature or summation. Random draws are checked with
goodness-of-fit tests at fixed seeds (KS for continuous, chi-square for discrete, each at
significance ALPHA), or for multivariate draws by sample moments within 4 Monte Carlo
standard errors (estimated from the sample itself). Tolerances follow from that error only.
"""

from __future__ import annotations

import itertools
import zlib

import numpy as np
import pytest
from scipy import integrate, special, stats

from hiergraph.distributions import ALIASES, DISTRIBUTIONS, DistributionError, value_in_support

ALPHA = 1e-3
N_DRAWS = 4000
N_MULTIVARIATE = 20000


def rng_for(*key) -> np.random.Generator:
    """A fixed, distinct seed per test case, so cases do not share random streams."""
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def log_choose(n, k):
    return special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)


def log_hyper(x, n1, n2, m1, psi):
    """Fisher's non-central hypergeometric mass, JAGS manual ch. 9, by explicit summation."""
    def log_weight(y):
        return log_choose(n1, y) + log_choose(n2, m1 - y) + y * np.log(psi)

    support = np.arange(max(0, m1 - n2), min(n1, m1) + 1)
    return log_weight(x) - special.logsumexp(log_weight(support))


def log_normmix(x, mu, tau, pi):
    mu, tau, pi = map(np.asarray, (mu, tau, pi))
    density = pi * np.sqrt(tau / (2 * np.pi)) * np.exp(-tau * (x[..., None] - mu) ** 2 / 2)
    return np.log(density.sum(-1) / pi.sum())


def normmix_cdf(mu, tau, pi):
    mu, tau, pi = map(np.asarray, (mu, tau, pi))
    return lambda x: np.sum(pi * stats.norm.cdf((np.asarray(x)[..., None] - mu) * np.sqrt(tau)), -1) / pi.sum()


# name: (closed-form log density from the JAGS manual, parameter sets, values to evaluate at)
CLOSED_FORMS = {
    "dnorm": (lambda x, mu, tau: 0.5 * np.log(tau / (2 * np.pi)) - tau * (x - mu) ** 2 / 2,
              [(0.0, 1.0), (1.5, 4.0), (-2.0, 0.25)], np.linspace(-5, 5, 21)),
    "dlnorm": (lambda x, mu, tau: 0.5 * np.log(tau / (2 * np.pi)) - np.log(x) - tau * (np.log(x) - mu) ** 2 / 2,
               [(0.0, 1.0), (1.0, 2.0)], np.linspace(0.1, 8, 17)),
    "dt": (lambda x, mu, tau, k: special.gammaln((k + 1) / 2) - special.gammaln(k / 2)
           + 0.5 * np.log(tau / (k * np.pi)) - (k + 1) / 2 * np.log1p(tau * (x - mu) ** 2 / k),
           [(0.0, 1.0, 3.0), (1.0, 4.0, 1.5)], np.linspace(-6, 6, 25)),
    "dlogis": (lambda x, mu, tau: np.log(tau) + (x - mu) * tau - 2 * np.logaddexp(0, (x - mu) * tau),
               [(0.0, 1.0), (2.0, 3.0)], np.linspace(-5, 5, 21)),
    "ddexp": (lambda x, mu, tau: np.log(tau / 2) - tau * np.abs(x - mu),
              [(0.0, 1.0), (-1.0, 2.5)], np.linspace(-5, 5, 21)),
    "dgamma": (lambda x, r, lam: r * np.log(lam) + (r - 1) * np.log(x) - lam * x - special.gammaln(r),
               [(2.0, 1.0), (0.7, 3.0), (5.0, 0.5)], np.linspace(0.05, 10, 20)),
    "dexp": (lambda x, lam: np.log(lam) - lam * x, [(1.0,), (0.3,)], np.linspace(0, 10, 11)),
    "dchisqr": (lambda x, k: (k / 2 - 1) * np.log(x) - x / 2 - k / 2 * np.log(2) - special.gammaln(k / 2),
                [(3.0,), (1.5,)], np.linspace(0.1, 10, 12)),
    "dweib": (lambda x, v, lam: np.log(v * lam) + (v - 1) * np.log(x) - lam * x**v,
              [(1.5, 2.0), (0.8, 0.5)], np.linspace(0.05, 4, 16)),
    "dpar": (lambda x, a, c: np.log(a) + a * np.log(c) - (a + 1) * np.log(x),
             [(2.0, 1.0), (0.7, 3.0)], np.linspace(3, 20, 18)),
    "dbeta": (lambda x, a, b: (a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - special.betaln(a, b),
              [(2.0, 3.0), (0.5, 0.5)], np.linspace(0.02, 0.98, 17)),
    "dunif": (lambda x, a, b: -np.log(b - a) + 0 * x, [(-1.0, 2.0)], np.linspace(-1, 2, 7)),
    "df": (lambda x, n, m: special.gammaln((n + m) / 2) - special.gammaln(n / 2) - special.gammaln(m / 2)
           + n / 2 * np.log(n / m) + (n / 2 - 1) * np.log(x) - (n + m) / 2 * np.log1p(n * x / m),
           [(3.0, 5.0), (10.0, 2.5)], np.linspace(0.1, 6, 12)),
    "dgen.gamma": (lambda x, r, lam, b: np.log(b) + b * r * np.log(lam) + (b * r - 1) * np.log(x)
                   - (lam * x) ** b - special.gammaln(r),
                   [(2.0, 1.5, 0.8), (1.0, 0.5, 2.0)], np.linspace(0.05, 6, 14)),
    "dnormmix": (log_normmix, [([0.0, 3.0], [1.0, 4.0], [1.0, 3.0])], np.linspace(-3, 6, 19)),
    "dbern": (lambda x, p: x * np.log(p) + (1 - x) * np.log1p(-p), [(0.3,), (0.8,)], np.array([0.0, 1.0])),
    "dbin": (lambda x, p, n: log_choose(n, x) + x * np.log(p) + (n - x) * np.log1p(-p),
             [(0.3, 10.0), (0.9, 4.0)], np.arange(0.0, 5.0)),
    "dbetabin": (lambda x, a, b, n: log_choose(n, x) + special.betaln(x + a, n - x + b) - special.betaln(a, b),
                 [(2.0, 3.0, 12.0), (0.5, 0.7, 5.0)], np.arange(0.0, 6.0)),
    "dpois": (lambda x, lam: x * np.log(lam) - lam - special.gammaln(x + 1), [(3.5,), (0.2,)], np.arange(0.0, 15.0)),
    "dnegbin": (lambda x, p, r: special.gammaln(x + r) - special.gammaln(r) - special.gammaln(x + 1)
                + r * np.log(p) + x * np.log1p(-p), [(0.4, 3.0), (0.7, 2.5)], np.arange(0.0, 20.0)),
    "dcat": (lambda x, pi: np.log(np.asarray(pi)[x.astype(int) - 1] / np.sum(pi)),
             [([1.0, 2.0, 0.5, 3.0],)], np.arange(1.0, 5.0)),
    "dhyper": (np.vectorize(log_hyper), [(5, 4, 6, 1.7), (3, 8, 4, 0.5), (4, 4, 3, 1.0)], np.arange(2.0, 4.0)),
}
CONTINUOUS = ["dnorm", "dlnorm", "dt", "dlogis", "ddexp", "dgamma", "dexp", "dchisqr", "dweib", "dpar",
              "dbeta", "dunif", "df", "dgen.gamma"]
DISCRETE = ["dbern", "dbin", "dbetabin", "dpois", "dnegbin", "dhyper"]
CASES = [(name, params) for name, (_, sets, _) in CLOSED_FORMS.items() for params in sets]


def case_id(case):
    return f"{case[0]}{case[1]}"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_logpdf_matches_closed_form(case):
    name, params = case
    closed_form, _, x = CLOSED_FORMS[name]
    expected = closed_form(x, *params)
    np.testing.assert_allclose(DISTRIBUTIONS[name].logpdf(x, *params), expected, rtol=1e-9, atol=1e-12)


def support_of(name, params):
    lower, upper = DISTRIBUTIONS[name].support(*map(np.asarray, params))
    return float(lower), float(upper)


@pytest.mark.parametrize("case", [c for c in CASES if c[0] in CONTINUOUS + ["dnormmix"]], ids=case_id)
def test_continuous_density_integrates_to_one(case):
    name, params = case
    dist = DISTRIBUTIONS[name]
    lower, upper = support_of(name, params)
    middle = float(dist.typical(*params))

    def density(x):
        return float(np.exp(dist.logpdf(x, *params)))

    # Split at a typical value so quad sees the mass on both sides of an infinite range.
    total = integrate.quad(density, lower, middle, limit=200)[0] + integrate.quad(density, middle, upper, limit=200)[0]
    assert total == pytest.approx(1.0, abs=1e-6)


def discrete_support(name, params):
    """All values with any mass, stopping an infinite support where the tail is below 1e-15."""
    dist = DISTRIBUTIONS[name]
    lower, upper = support_of(name, params)
    if np.isinf(upper):
        upper = float(dist.ppf(1 - 1e-15, *params))
    return np.arange(lower, upper + 1)


@pytest.mark.parametrize("case", [c for c in CASES if c[0] in DISCRETE + ["dcat"]], ids=case_id)
def test_discrete_mass_sums_to_one(case):
    name, params = case
    values = np.arange(1.0, 5.0) if name == "dcat" else discrete_support(name, params)
    assert np.exp(DISTRIBUTIONS[name].logpdf(values, *params)).sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("case", [c for c in CASES if c[0] in CONTINUOUS + DISCRETE], ids=case_id)
def test_logpdf_is_minus_inf_outside_support(case):
    name, params = case
    dist = DISTRIBUTIONS[name]
    lower, upper = support_of(name, params)
    outside = [-np.inf, np.inf, np.nan]
    outside += [lower - 0.5] if np.isfinite(lower) else []
    outside += [upper + 0.5] if np.isfinite(upper) else []
    outside += [lower + 0.5] if dist.discrete else []
    assert np.all(dist.logpdf(np.array(outside), *params) == -np.inf)


@pytest.mark.parametrize("case", [c for c in CASES if c[0] in CONTINUOUS + DISCRETE], ids=case_id)
def test_cdf_and_ppf_agree_with_density(case):
    """The cdf is the integral (sum) of exp(logpdf), itself checked against the closed form."""
    name, params = case
    dist = DISTRIBUTIONS[name]
    lower, _ = support_of(name, params)
    if dist.discrete:
        values = discrete_support(name, params)[:12]
        mass = np.exp(dist.logpdf(values, *params))
        np.testing.assert_allclose(dist.cdf(values, *params), np.cumsum(mass), rtol=1e-9)
        # Halfway up each step of the cdf the quantile is that step's value.
        visible = mass > 1e-9
        halfway = dist.cdf(values, *params) - mass / 2
        np.testing.assert_array_equal(dist.ppf(halfway[visible], *params), values[visible])
        return
    for q in (0.1, 0.5, 0.9):
        x = float(dist.ppf(q, *params))
        mass = integrate.quad(lambda v: float(np.exp(dist.logpdf(v, *params))), max(lower, x - 200), x, limit=200)[0]
        tail = float(dist.cdf(max(lower, x - 200), *params))
        assert mass + tail == pytest.approx(q, abs=1e-7)


# A parameter set each distribution rejects, with a value inside the support to evaluate at.
INVALID = {
    "dnorm": (0.0, (0, -1)), "dlnorm": (1.0, (0, 0)), "dt": (0.0, (0, 1, 0)), "dlogis": (0.0, (0, -1)),
    "ddexp": (0.0, (0, 0)), "dgamma": (1.0, (0, 1)), "dexp": (1.0, (-1,)), "dchisqr": (1.0, (0,)),
    "dweib": (1.0, (1, 0)), "dpar": (2.0, (1, -1)), "dbeta": (0.5, (0, 1)), "dunif": (1.5, (2, 1)),
    "df": (1.0, (1, 0)), "dgen.gamma": (1.0, (1, 1, 0)), "dnormmix": (0.0, ([0, 1], [1, 1], [1, 0])),
    "dbern": (1.0, (1.5,)), "dbin": (1.0, (0.5, 2.5)), "dbetabin": (1.0, (1, 1, np.inf)),
    "dpois": (1.0, (-1,)), "dnegbin": (1.0, (0, 2)), "dcat": (1.0, ([0, 0],)), "dhyper": (2.0, (3, 2, 6, 1.0)),
    "dinterval": (1.0, (0.5, [2, 1])),
    "dmnorm": ([0.0, 0.0], ([0, 0], [[1, 2], [2, 1]])),
    "dmnorm.vcov": ([0.0, 0.0], ([0, 0], [[1, 0.5], [0, 1]])),
    "dmt": ([0.0, 0.0], ([0, 0], np.eye(2), 0)),
    "dmulti": ([1.0, 2.0], ([0, 0], 3)),
    "ddirch": ([0.5, 0.5], ([0, 0],)),
    "dwish": (np.eye(2), (np.eye(2), 1.5)),
}


def test_every_distribution_has_an_invalid_case():
    assert set(INVALID) == set(DISTRIBUTIONS) - set(ALIASES) - {"dflat"}


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_parameters_are_rejected_and_give_nan(name):
    x, params = INVALID[name]
    dist = DISTRIBUTIONS[name]
    assert not np.any(dist.valid(*map(np.asarray, params)))
    assert np.isnan(dist.logpdf(x, *params))


@pytest.mark.parametrize("name", sorted(set(INVALID) - {"dinterval"}))
def test_draws_with_invalid_parameters_raise(name):
    with pytest.raises(DistributionError):
        DISTRIBUTIONS[name].rvs(rng_for(name), *INVALID[name][1])


def stacked(sets):
    """Two parameter sets as arrays with one node axis, so a draw also checks broadcasting."""
    return tuple(np.array(column, dtype=float) for column in zip(*sets))


@pytest.mark.parametrize("name", CONTINUOUS)
def test_continuous_draws_fit_their_cdf(name):
    dist = DISTRIBUTIONS[name]
    sets = CLOSED_FORMS[name][1][:2]
    sample = dist.rvs(rng_for(name), *stacked(sets), size=N_DRAWS)
    assert sample.shape == (N_DRAWS, len(sets))
    for node, params in enumerate(sets):
        assert stats.kstest(sample[:, node], lambda x: dist.cdf(x, *params)).pvalue > ALPHA


def test_normmix_draws_fit_the_mixture_cdf():
    params = CLOSED_FORMS["dnormmix"][1][0]
    sample = DISTRIBUTIONS["dnormmix"].rvs(rng_for("dnormmix"), *params, size=N_DRAWS)
    assert stats.kstest(sample, normmix_cdf(*params)).pvalue > ALPHA


def assert_fits_mass(sample, values, log_mass):
    """Chi-square of counts against expected counts, rare values pooled into one cell."""
    expected = len(sample) * np.exp(log_mass)
    observed = np.array([np.sum(sample == v) for v in values], dtype=float)
    assert observed.sum() == len(sample), "draws outside the values with mass"
    common = expected >= 5
    cells_expected = np.append(expected[common], expected[~common].sum())
    cells_observed = np.append(observed[common], observed[~common].sum())
    keep = cells_expected > 0
    cells_expected *= cells_observed[keep].sum() / cells_expected[keep].sum()
    if np.count_nonzero(keep) > 1:  # a single cell (a point mass) has nothing left to test
        assert stats.chisquare(cells_observed[keep], cells_expected[keep]).pvalue > ALPHA


@pytest.mark.parametrize("name", DISCRETE + ["dcat"])
def test_discrete_draws_fit_their_mass(name):
    dist = DISTRIBUTIONS[name]
    sets = CLOSED_FORMS[name][1][:2]
    if name == "dcat":
        sample = dist.rvs(rng_for(name), *sets[0], size=N_DRAWS)
        values = np.arange(1.0, 5.0)
        assert_fits_mass(sample, values, dist.logpdf(values, *sets[0]))
        return
    sample = dist.rvs(rng_for(name), *stacked(sets), size=N_DRAWS)
    for node, params in enumerate(sets):
        values = discrete_support(name, params)
        assert_fits_mass(sample[:, node], values, dist.logpdf(values, *params))


def test_negbin_with_zero_size_is_a_point_mass_at_zero():
    dist = DISTRIBUTIONS["dnegbin"]
    assert dist.logpdf(0, 0.4, 0) == 0 and dist.logpdf(1, 0.4, 0) == -np.inf
    assert np.all(dist.rvs(rng_for("negbin0"), 0.4, 0, size=10) == 0)


# Multivariate parameters: a covariance, its precision, and moments known in closed form.
SIGMA = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.5]])
OMEGA = np.linalg.inv(SIGMA)
MU = np.array([1.0, -1.0, 0.5])
PI = np.array([1.0, 2.0, 3.0])
ALPHA_DIRICHLET = np.array([2.0, 3.0, 5.0])
R_WISHART = np.array([[2.0, 0.5], [0.5, 1.0]])
K_WISHART = 5.0
K_T = 8.0


def multinomial_moments(p, n):
    p = p / p.sum()
    return n * p, n * (np.diag(p) - np.outer(p, p))


def dirichlet_moments(alpha):
    m = alpha / alpha.sum()
    return m, (np.diag(m) - np.outer(m, m)) / (alpha.sum() + 1)


def wishart_moments(R, k):
    """E[W] = k S and Cov(W_ij, W_kl) = k (S_ik S_jl + S_il S_jk), S = R^-1, for vec(W)."""
    s = np.linalg.inv(R)
    p = len(s)
    cov = np.array([[k * (s[i, a] * s[j, b] + s[i, b] * s[j, a])
                     for a, b in itertools.product(range(p), repeat=2)]
                    for i, j in itertools.product(range(p), repeat=2)])
    return k * s, cov


MOMENT_CASES = {
    "dmnorm": ((MU, OMEGA), MU, SIGMA),
    "dmnorm.vcov": ((MU, SIGMA), MU, SIGMA),
    "dmt": ((MU, OMEGA, K_T), MU, K_T / (K_T - 2) * SIGMA),
    "dmulti": ((PI, 10.0), *multinomial_moments(PI, 10.0)),
    "ddirch": ((ALPHA_DIRICHLET,), *dirichlet_moments(ALPHA_DIRICHLET)),
    "dwish": ((R_WISHART, K_WISHART), *wishart_moments(R_WISHART, K_WISHART)),
}


def assert_moments(sample, mean, cov):
    """Sample mean and covariance within 4 Monte Carlo standard errors of the truth.

    The standard error of each covariance entry is that of the mean of the centred
    products, estimated from the same sample.
    """
    n = len(sample)
    flat = sample.reshape(n, -1)
    centred = flat - flat.mean(0)
    mean_error = np.abs(flat.mean(0) - np.ravel(mean))
    assert np.all(mean_error <= 4 * flat.std(0, ddof=1) / np.sqrt(n)), mean_error
    products = centred[:, :, None] * centred[:, None, :]
    cov_error = np.abs(products.mean(0) - cov)
    assert np.all(cov_error <= 4 * products.std(0, ddof=1) / np.sqrt(n) + 1e-12), cov_error


@pytest.mark.parametrize("name", sorted(MOMENT_CASES))
def test_multivariate_draws_have_the_known_moments(name):
    params, mean, cov = MOMENT_CASES[name]
    dist = DISTRIBUTIONS[name]
    sample = dist.rvs(rng_for(name), *params, size=N_MULTIVARIATE)
    assert np.all(value_in_support(dist, sample, list(map(np.asarray, params))))
    assert_moments(sample, mean, cov)


def test_dirichlet_structural_zero_is_drawn_as_zero_and_small_shapes_stay_on_the_simplex():
    dist = DISTRIBUTIONS["ddirch"]
    sample = dist.rvs(rng_for("zero"), [2.0, 0.0, 3.0], size=100)
    assert np.all(sample[:, 1] == 0)
    tiny = dist.rvs(rng_for("tiny"), [1e-3, 1e-3, 1e-3], size=100)
    np.testing.assert_allclose(tiny.sum(-1), 1.0)


def random_points(name, rng, count):
    """Values of each multivariate distribution inside its support, to evaluate at."""
    if name == "dmulti":
        return rng.multinomial(10, PI / PI.sum(), size=count).astype(float)
    if name == "ddirch":
        return rng.dirichlet(ALPHA_DIRICHLET, size=count)
    if name == "dwish":
        return stats.wishart(df=K_WISHART, scale=np.linalg.inv(R_WISHART)).rvs(count, random_state=rng)
    return MU + rng.standard_normal((count, 3))


SCIPY_MULTIVARIATE = {
    "dmnorm": lambda: stats.multivariate_normal(MU, SIGMA),
    "dmnorm.vcov": lambda: stats.multivariate_normal(MU, SIGMA),
    "dmt": lambda: stats.multivariate_t(MU, SIGMA, df=K_T),
    "dmulti": lambda: stats.multinomial(10, PI / PI.sum()),
    "ddirch": lambda: stats.dirichlet(ALPHA_DIRICHLET),
    "dwish": lambda: stats.wishart(df=K_WISHART, scale=np.linalg.inv(R_WISHART)),
}


@pytest.mark.parametrize("name", sorted(SCIPY_MULTIVARIATE))
def test_multivariate_logpdf_matches_scipy(name):
    points = random_points(name, rng_for(name, "points"), 6)
    reference = SCIPY_MULTIVARIATE[name]()
    expected = reference.logpmf(points) if name == "dmulti" else reference.logpdf(
        np.moveaxis(points, 0, -1) if name in ("ddirch", "dwish") else points)
    params = MOMENT_CASES[name][0]
    np.testing.assert_allclose(DISTRIBUTIONS[name].logpdf(points, *params), expected, rtol=1e-9)


def test_multinomial_mass_sums_to_one():
    n = 4
    values = np.array([v for v in itertools.product(range(n + 1), repeat=3) if sum(v) == n], dtype=float)
    assert np.exp(DISTRIBUTIONS["dmulti"].logpdf(values, PI, n)).sum() == pytest.approx(1.0, abs=1e-12)


def test_dirichlet_with_structural_zero_is_the_beta_of_the_rest():
    a = np.linspace(0.05, 0.95, 7)
    values = np.stack([a, np.zeros_like(a), 1 - a], axis=-1)
    np.testing.assert_allclose(DISTRIBUTIONS["ddirch"].logpdf(values, [2.0, 0.0, 3.0]), stats.beta(2, 3).logpdf(a))
    off = np.array([0.5, 0.1, 0.4])
    assert DISTRIBUTIONS["ddirch"].logpdf(off, [2.0, 0.0, 3.0]) == -np.inf


@pytest.mark.parametrize("name, value, params", [
    ("dmulti", [1.0, 2.0, 3.0], (PI, 5.0)),          # does not sum to n
    ("dmulti", [1.5, 2.0, 1.5], (PI, 5.0)),          # not integers
    ("ddirch", [0.5, 0.6, 0.1], (ALPHA_DIRICHLET,)),  # off the simplex
    ("ddirch", [-0.1, 0.6, 0.5], (ALPHA_DIRICHLET,)),
    ("dwish", [[1.0, 2.0], [2.0, 1.0]], (R_WISHART, K_WISHART)),  # not positive definite
    ("dmnorm", [np.inf, 0.0, 0.0], (MU, OMEGA)),
])
def test_multivariate_logpdf_is_minus_inf_outside_support(name, value, params):
    assert DISTRIBUTIONS[name].logpdf(value, *params) == -np.inf


def test_multivariate_logpdf_broadcasts_over_node_axes():
    """x (4, 2, 3) against one mu (3,) and two precisions (2, 3, 3): one value per node."""
    omegas = np.stack([OMEGA, 2 * np.eye(3)])
    x = MU + rng_for("broadcast").standard_normal((4, 2, 3))
    out = DISTRIBUTIONS["dmnorm"].logpdf(x, MU, omegas)
    expected = [[stats.multivariate_normal(MU, np.linalg.inv(omegas[j])).logpdf(x[i, j]) for j in range(2)]
                for i in range(4)]
    np.testing.assert_allclose(out, expected)


def test_draw_shapes_are_size_then_nodes_then_value():
    rng = rng_for("shapes")
    assert DISTRIBUTIONS["dnorm"].rvs(rng, [0.0, 1.0, 2.0], 1.0, size=5).shape == (5, 3)
    assert DISTRIBUTIONS["dnorm"].rvs(rng, 0.0, 1.0).shape == ()
    assert DISTRIBUTIONS["dmnorm"].rvs(rng, np.zeros((2, 3)), np.eye(3), size=4).shape == (4, 2, 3)
    assert DISTRIBUTIONS["dwish"].rvs(rng, np.eye(3), [4.0, 5.0], size=(2,)).shape == (2, 2, 3, 3)
    assert DISTRIBUTIONS["dcat"].rvs(rng, np.ones((3, 4)), size=2).shape == (2, 3)
    assert DISTRIBUTIONS["dnormmix"].rvs(rng, [0.0, 1.0], [1.0, 1.0], np.ones((5, 2))).shape == (5,)


# Truncation cases: (name, params, the same distribution built in scipy here, lower, upper).
TRUNCATED_CONTINUOUS = [
    ("dnorm", (0.0, 1.0), stats.norm(0, 1), 1.0, 2.0),
    ("dnorm", (0.0, 1.0), stats.norm(0, 1), 3.0, None),
    ("dnorm", (0.0, 1.0), stats.norm(0, 1), None, -4.0),
    ("dnorm", (0.0, 1.0), stats.norm(0, 1), 40.0, None),   # P(X > 40) underflows a double
    ("dnorm", (2.0, 0.25), stats.norm(2, 2), -1.0, 7.0),
    ("dgamma", (2.0, 1.0), stats.gamma(2, scale=1.0), 0.1, 0.5),
    ("dt", (0.0, 1.0, 3.0), stats.t(3), 5.0, None),
    ("dbeta", (2.0, 3.0), stats.beta(2, 3), 0.9, None),
    ("dweib", (1.5, 2.0), stats.weibull_min(1.5, scale=2.0 ** (-1 / 1.5)), None, 0.2),
    ("df", (3.0, 5.0), stats.f(3, 5), 50.0, None),
    ("dlnorm", (0.0, 1.0), stats.lognorm(1.0), 0.5, 3.0),
    ("dpar", (2.0, 1.0), stats.pareto(2.0), None, 2.0),
]
TRUNCATED_DISCRETE = [
    ("dpois", (4.0,), stats.poisson(4), 2.0, 6.0),
    ("dbin", (0.3, 20.0), stats.binom(20, 0.3), 8.0, None),
    ("dpois", (2.0,), stats.poisson(2), 25.0, None),       # P(X >= 25) ~ 1e-18, lost by 1 - cdf
    ("dnegbin", (0.5, 3.0), stats.nbinom(3, 0.5), None, 1.0),
    ("dbetabin", (2.0, 3.0, 15.0), stats.betabinom(15, 2, 3), 3.5, 9.2),   # i.e. 4 <= x <= 9
    ("dbern", (0.3,), stats.bernoulli(0.3), 1.0, None),
]


def truncation_id(case):
    return f"{case[0]}{case[1]}T({case[3]},{case[4]})"


def bounds(case):
    lower = -np.inf if case[3] is None else case[3]
    upper = np.inf if case[4] is None else case[4]
    return lower, upper


def truncated_cdf(reference, lower, upper):
    """The cdf of ``reference`` truncated to [lower, upper], from survival terms in the upper
    half of the distribution and cumulative terms below, so far tails keep their precision."""
    if reference.sf(lower) < 0.5:
        def cdf(x):  # (S(L) - S(x)) / (S(L) - S(U))
            s = reference.logsf
            return np.expm1(s(np.clip(x, lower, upper)) - s(lower)) / np.expm1(s(upper) - s(lower))
    else:
        def cdf(x):  # 1 - (F(U) - F(x)) / (F(U) - F(L))
            f = reference.logcdf
            return 1 - np.expm1(f(np.clip(x, lower, upper)) - f(upper)) / np.expm1(f(lower) - f(upper))
    return cdf


@pytest.mark.parametrize("case", TRUNCATED_CONTINUOUS, ids=truncation_id)
def test_truncated_continuous_draws_fit_the_truncated_cdf(case):
    name, params, reference, _, _ = case
    lower, upper = bounds(case)
    sample = DISTRIBUTIONS[name].truncated_rvs(rng_for(case[:2], case[3:]), case[3], case[4], *params, size=N_DRAWS)
    assert np.all((sample >= lower) & (sample <= upper))
    assert stats.kstest(sample, truncated_cdf(reference, lower, upper)).pvalue > ALPHA


@pytest.mark.parametrize("case", TRUNCATED_CONTINUOUS, ids=truncation_id)
def test_truncated_density_integrates_to_one(case):
    name, params, reference, _, _ = case
    lower, upper = bounds(case)
    dist = DISTRIBUTIONS[name]
    # Split at the truncated median so quad sees the mass on both sides of an infinite end.
    ends = [max(lower, float(reference.ppf(0))), float(dist.truncated_typical(case[3], case[4], *params)),
            min(upper, float(reference.isf(0)))]

    def density(x):
        return float(np.exp(dist.truncated_logpdf(x, case[3], case[4], *params)))

    total = sum(integrate.quad(density, a, b, limit=200)[0] for a, b in zip(ends, ends[1:]))
    assert total == pytest.approx(1.0, abs=1e-6)
    assert dist.truncated_logpdf(lower - 1.0, case[3], case[4], *params) == -np.inf
    assert dist.truncated_logpdf(upper + 1.0, case[3], case[4], *params) == -np.inf


def discrete_interval(reference, lower, upper):
    """The integers of [lower, upper], an infinite upper end cut where the mass is negligible."""
    top = upper if np.isfinite(upper) else max(lower, 0) + 200
    return np.arange(max(np.ceil(lower), reference.support()[0]), min(np.floor(top), reference.support()[1]) + 1)


@pytest.mark.parametrize("case", TRUNCATED_DISCRETE, ids=truncation_id)
def test_truncated_discrete_draws_fit_the_truncated_mass(case):
    name, params, reference, _, _ = case
    lower, upper = bounds(case)
    values = discrete_interval(reference, lower, upper)
    log_mass = reference.logpmf(values) - special.logsumexp(reference.logpmf(values))
    sample = DISTRIBUTIONS[name].truncated_rvs(rng_for(case[:2], case[3:]), case[3], case[4], *params, size=N_DRAWS)
    assert_fits_mass(sample, values, log_mass)


@pytest.mark.parametrize("case", TRUNCATED_DISCRETE, ids=truncation_id)
def test_truncated_mass_sums_to_one(case):
    name, params, reference, _, _ = case
    lower, upper = bounds(case)
    dist = DISTRIBUTIONS[name]
    values = discrete_interval(reference, lower, upper)
    masses = np.exp(dist.truncated_logpdf(values, case[3], case[4], *params))
    assert masses.sum() == pytest.approx(1.0, abs=1e-9)
    assert dist.truncated_logpdf(values[0] - 1, case[3], case[4], *params) == -np.inf


@pytest.mark.parametrize("case", TRUNCATED_CONTINUOUS + TRUNCATED_DISCRETE, ids=truncation_id)
def test_truncated_typical_is_inside_the_interval(case):
    lower, upper = bounds(case)
    value = DISTRIBUTIONS[case[0]].truncated_typical(case[3], case[4], *case[1])
    assert lower <= value <= upper


def test_truncation_errors():
    for name, params in [("dhyper", (5, 4, 6, 1.0)), ("dcat", ([1.0, 1.0],)), ("dnormmix", ([0, 1], [1, 1], [1, 1]))]:
        assert not DISTRIBUTIONS[name].can_truncate
        with pytest.raises(DistributionError):
            DISTRIBUTIONS[name].truncated_rvs(rng_for(name), 0, 1, *params)
    with pytest.raises(DistributionError):
        DISTRIBUTIONS["dunif"].truncated_rvs(rng_for("empty"), 2.0, 3.0, 0.0, 1.0)
    assert DISTRIBUTIONS["dunif"].truncated_logpdf(2.5, 2.0, 3.0, 0.0, 1.0) == -np.inf
    assert np.isnan(DISTRIBUTIONS["dnorm"].truncated_logpdf(0.5, 0.0, 1.0, 0.0, -1.0))


# Parameter sets for typical values: the closed-form cases plus the multivariate ones.
TYPICAL_CASES = CASES + [(name, spec[0]) for name, spec in MOMENT_CASES.items()] + [
    ("dgamma", (0.2, 1.0)), ("dbeta", (0.3, 0.2)), ("dbin", (0.0, 5.0)), ("dbin", (1.0, 5.0)),
    ("dnegbin", (0.5, 0.0)), ("ddirch", (np.array([2.0, 0.0, 1.0]),)), ("dinterval", (1.5, [1.0, 2.0])),
    ("dflat", ()), ("dmulti", (np.array([0.0, 1.0, 1.0]), 7.0)),
]


@pytest.mark.parametrize("case", TYPICAL_CASES, ids=case_id)
def test_typical_value_is_inside_the_support(case):
    name, params = case
    dist = DISTRIBUTIONS[name]
    value = dist.typical(*params)
    assert np.all(value_in_support(dist, value, list(map(np.asarray, params))))
    assert np.isfinite(dist.logpdf(value, *params))
    if dist.value_rank == 0 and not dist.discrete:
        lower, upper = support_of(name, params)
        assert lower < value < upper


@pytest.mark.parametrize("name, params, expected", [
    ("dnorm", (1.5, 4.0), 1.5),
    ("dgamma", (3.0, 2.0), 1.5),
    ("dbeta", (2.0, 6.0), 0.25),
    ("dbin", (0.3, 10.0), 3.0),
    ("dunif", (-1.0, 2.0), 0.5),
    ("dpar", (2.0, 3.0), 3.0 * 2**0.5),
    ("dcat", ([1.0, 5.0, 2.0],), 2.0),
    ("dinterval", (2.0, [1.0, 2.0, 3.0]), 1.0),
    ("dmnorm", (MU, OMEGA), MU),
    ("ddirch", (ALPHA_DIRICHLET,), ALPHA_DIRICHLET / ALPHA_DIRICHLET.sum()),
    ("dwish", (R_WISHART, K_WISHART), K_WISHART * np.linalg.inv(R_WISHART)),
    ("dmulti", (PI, 12.0), [2.0, 4.0, 6.0]),
])
def test_typical_values_are_jags_choices(name, params, expected):
    np.testing.assert_allclose(DISTRIBUTIONS[name].typical(*params), expected)


@pytest.mark.parametrize("name, params", [
    ("dexp", (0.7,)), ("dchisqr", (3.5,)), ("dweib", (1.7, 0.4)), ("dpar", (2.5, 1.5)),
    ("dunif", (-1.0, 3.0)), ("df", (4.0, 9.0)), ("dgen.gamma", (2.5, 0.8, 1.7)),
    ("dbern", (0.3,)), ("dbern", (0.5,)), ("dbern", (0.8,)),
])
def test_closed_form_typical_values_are_scipys_median(name, params):
    """The median written out (or from scipy.special) where scipy.stats's would cost its import."""
    dist = DISTRIBUTIONS[name]
    np.testing.assert_allclose(dist.typical(*params), dist.family.ppf(0.5, *params), rtol=1e-12)


def test_typical_broadcasts_to_the_nodes():
    assert DISTRIBUTIONS["dmnorm"].typical(MU, np.stack([OMEGA, OMEGA])).shape == (2, 3)
    assert DISTRIBUTIONS["dgamma"].typical([1.0, 2.0], 1.0).shape == (2,)


def test_interval_counts_cutpoints_strictly_below_t():
    """JAGS: y = 0 if t <= c1, y = m if c_m < t <= c_(m+1); a t on a cutpoint falls below it."""
    dist = DISTRIBUTIONS["dinterval"]
    cut = np.array([1.0, 2.0])
    for t, y in [(0.5, 0), (1.0, 0), (1.5, 1), (2.0, 1), (2.5, 2)]:
        assert dist.logpdf(y, t, cut) == 0
        assert dist.logpdf((y + 1) % 3, t, cut) == -np.inf
    assert not dist.valid(0.5, np.array([1.0, 1.0]))


def test_flat_and_interval_have_no_draws():
    assert DISTRIBUTIONS["dflat"].logpdf(np.array([-1e300, 0.0, 5.0])).tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(DistributionError, match="improper"):
        DISTRIBUTIONS["dflat"].rvs(rng_for("flat"))
    with pytest.raises(DistributionError, match="observed"):
        DISTRIBUTIONS["dinterval"].rvs(rng_for("interval"), 1.0, [0.0, 2.0])


def test_cdf_exists_only_for_the_scalar_r_style_distributions():
    assert {n for n, d in DISTRIBUTIONS.items() if d.has_cdf and n not in ALIASES} == set(CONTINUOUS + DISCRETE)
    with pytest.raises(DistributionError):
        DISTRIBUTIONS["dcat"].cdf(1, [1.0, 1.0])
    assert np.isnan(DISTRIBUTIONS["dnorm"].cdf(0.0, 0.0, -1.0))


def test_aliases_name_the_same_distribution():
    for alias, name in ALIASES.items():
        assert DISTRIBUTIONS[alias] is DISTRIBUTIONS[name]
    assert ALIASES["dggamma"] == "dgen.gamma" and ALIASES["dmultinom"] == "dmulti"


def test_infinite_values_are_outside_every_scalar_support():
    assert not value_in_support(DISTRIBUTIONS["dnorm"], np.inf, [np.asarray(0.0), np.asarray(1.0)])
    assert not value_in_support(DISTRIBUTIONS["dpois"], np.inf, [np.asarray(2.0)])


@pytest.mark.parametrize("name, params, reference, x", [
    ("dnorm", (1.0, 4.0), stats.norm(1.0, 0.5), [-40.0, -2.0, 0.3, 1.0, 2.5, 40.0]),
    ("dgamma", (2.5, 1.5), stats.gamma(2.5, scale=1 / 1.5), [-1.0, 0.0, 1e-8, 0.7, 3.0, 60.0]),
    ("dbeta", (0.7, 3.0), stats.beta(0.7, 3.0), [-0.5, 0.0, 1e-9, 0.2, 0.9999, 1.0, 1.5]),
])
def test_closed_form_tails_match_scipy(name, params, reference, x):
    """Truncation reads log cdf and log survival on every evaluation; the scipy.special forms
    must be scipy.stats' numbers, support ends and far tails included."""
    family, x = DISTRIBUTIONS[name].family, np.array(x)
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(family.logcdf(x, *params), reference.logcdf(x), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(family.logsf(x, *params), reference.logsf(x), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name, params, reference", [
    ("dnorm", (1.0, 4.0), stats.norm(1.0, 0.5)),
    ("dgamma", (2.5, 1.5), stats.gamma(2.5, scale=1 / 1.5)),
    ("dbeta", (0.7, 3.0), stats.beta(0.7, 3.0)),
])
def test_closed_form_quantiles_match_scipy(name, params, reference):
    """Truncated draws and initial values invert the tails: scipy.special's inverses must be
    scipy.stats' numbers, down to probabilities near 0 and 1 and the ends themselves."""
    family = DISTRIBUTIONS[name].family
    q = np.array([0.0, 1e-300, 1e-20, 0.03, 0.5, 0.97, 1 - 1e-12, 1.0])
    np.testing.assert_allclose(family.ppf(q, *params), reference.ppf(q), rtol=1e-12)
    np.testing.assert_allclose(family.isf(q, *params), reference.isf(q), rtol=1e-12)
