"""The worked examples in ``specs/`` against answers computed without the sampler.

References: closed forms (the normal-inverse-gamma posterior, conjugate beta posteriors,
Gelman's method-of-moments estimates for the rat tumours), and numerical integration on a
grid where one or two hyperparameters remain (the rat tumours' (phi, s) under Gelman's
hyperprior; tau in the normal-normal models: eight schools, the heart-attack meta-analysis,
Morris's baseball data). Sampled values must be within 4 Monte Carlo standard errors (batch
means, as in test_samplers.py; ArviZ's quantile MCSE for medians and interval ends).

Sampling is slow on this machine, so the default suite samples the cheap models at
reduced lengths; the whole set at the README's default lengths, with its R-hat check, is
marked slow.
"""

from __future__ import annotations

import functools

import arviz
import numpy as np
import pytest
from scipy import optimize, special, stats

from hiergraph import compile_model
from hiergraph.datafiles import read_data_file

from conftest import REPO
from test_samplers import assert_mcmc_moments, batch_means

SPECS = REPO / "specs"

# every spec in specs/ with its data file
EXAMPLES = {
    "rat_tumors": "rat_tumors", "rat_tumors_no_pooling": "rat_tumors",
    "rat_tumors_complete_pooling": "rat_tumors", "kidney_cancer": "kidney_cancer",
    "eight_schools_centred": "eight_schools", "eight_schools_noncentred": "eight_schools",
    "heart_attack": "heart_attack", "morris_baseball": "morris_baseball",
    "normal_nig": "normal_nig", "three_level": "three_level", "sleep_study": "sleep_study",
    "kruschke_batting": "kruschke_batting",
}


def data(name: str) -> dict[str, np.ndarray]:
    return {key: entry.value for key, entry in read_data_file(SPECS / f"{name}.R").items()}


def model(spec: str):
    return compile_model(SPECS / f"{spec}.spec", data=SPECS / f"{EXAMPLES[spec]}.R")


# --- references ------------------------------------------------------------------------------

def rat_moments() -> tuple[float, float]:
    """Gelman's method-of-moments (a, b) from the 70 historical experiments' raw rates."""
    rats = data("rat_tumors")
    rates = rats["y"][:70] / rats["n"][:70]
    m, v = rates.mean(), rates.var()
    total = m * (1 - m) / v - 1
    return m * total, (1 - m) * total


@functools.cache
def rat_grid():
    """The rat tumours' posterior over (phi, s) (uniform prior: Gelman's (a + b)^(-5/2)) on a
    grid, and the 71st experiment's risk given each grid point; returns ``(weights, phi, s,
    theta71 mean, theta71 variance)`` arrays. As s -> 0 the density tends to the complete-
    pooling likelihood, not to 0, so the grid stops short of s = 0 where it is below 1e-6
    of the top; every other edge is far below that."""
    rats = data("rat_tumors")
    (y, n), repeats = np.unique(np.stack([rats["y"], rats["n"]]), axis=1, return_counts=True)
    y, n, repeats = (v[:, None, None] for v in (y, n, repeats))
    phi, s = np.meshgrid(np.linspace(0.06, 0.26, 201), np.linspace(0.005, 1, 250), indexing="ij")
    a, b = phi / s ** 2, (1 - phi) / s ** 2
    log_post = (repeats * (special.betaln(a + y, b + n - y) - special.betaln(a, b))).sum(axis=0)
    weights = np.exp(log_post - log_post.max())
    edges = np.concatenate([weights[0], weights[-1], weights[:, 0], weights[:, -1]])
    assert edges.max() < 1e-6
    weights /= weights.sum()
    big_a, big_b = a + 4, b + 10  # the 71st experiment: 4 tumours in 14 rats
    mean = big_a / (big_a + big_b)
    var = mean * (1 - mean) / (big_a + big_b + 1)
    return weights, phi, s, mean, var


def mixture_moments(weights, means, variances) -> tuple[float, float]:
    """Mean and variance of a mixture: E[mean], E[variance] + Var[mean]."""
    mean = float((weights * means).sum())
    return mean, float((weights * (variances + means ** 2)).sum() - mean ** 2)


class NormalNormal:
    """y[j] ~ N(theta[j], sigma[j]^2), theta[j] ~ N(mu, tau^2), mu ~ N(m0, 1/p0) (p0 = 0: flat),
    on a grid of tau with prior density ``prior(tau)`` (Gelman et al., BDA 3rd ed., 5.4):
    given tau, mu and the thetas are normal in closed form; tau's posterior is

        p(tau | y) ∝ p(tau) V^(1/2) prod_j w_j^(1/2) exp(-w_j (y_j - mu_hat)^2 / 2
                                                          - p0 (mu_hat - m0)^2 / 2),

    w_j = 1 / (sigma_j^2 + tau^2), 1/V = sum w_j + p0, mu_hat = V (sum w_j y_j + p0 m0)."""

    def __init__(self, y, sigma, m0: float, p0: float, prior, upper: float, points: int = 20001):
        y, sigma = np.asarray(y, float), np.asarray(sigma, float)
        tau = np.linspace(0, upper, points)[1:, None]
        w = 1 / (sigma ** 2 + tau ** 2)
        self.mu_var = 1 / (w.sum(axis=1, keepdims=True) + p0)
        self.mu_mean = self.mu_var * ((w * y).sum(axis=1, keepdims=True) + p0 * m0)
        log_post = (np.log(prior(tau[:, 0])) + 0.5 * np.log(self.mu_var[:, 0])
                    + 0.5 * np.log(w).sum(axis=1) - 0.5 * (w * (y - self.mu_mean) ** 2).sum(axis=1)
                    - 0.5 * p0 * (self.mu_mean[:, 0] - m0) ** 2)
        self.weights = np.exp(log_post - log_post.max())
        self.weights /= self.weights.sum()
        self.tau = tau
        shrink = (1 / tau ** 2) / (1 / sigma ** 2 + 1 / tau ** 2)  # B_j: weight on mu
        self.theta_mean = (1 - shrink) * y + shrink * self.mu_mean
        self.theta_var = 1 / (1 / sigma ** 2 + 1 / tau ** 2) + shrink ** 2 * self.mu_var

    def moments(self, what: str, j: int = 0) -> tuple[float, float]:
        if what == "tau":
            return mixture_moments(self.weights, self.tau[:, 0], 0 * self.tau[:, 0])
        means, variances = ((self.mu_mean[:, 0], self.mu_var[:, 0]) if what == "mu" else
                            (self.theta_mean[:, j], self.theta_var[:, j]))
        return mixture_moments(self.weights, means, variances)

    def theta_quantile(self, j: int, q: float) -> float:
        means, sds = self.theta_mean[:, j], np.sqrt(self.theta_var[:, j])
        cdf = lambda x: float((self.weights * stats.norm.cdf(x, means, sds)).sum()) - q
        return optimize.brentq(cdf, means.min() - 10 * sds.max(), means.max() + 10 * sds.max())


def eight_schools_reference(spec_name="eight_schools", sd="sigma", upper=30.0) -> NormalNormal:
    values = data(spec_name)
    return NormalNormal(values["y"], values[sd], 0.0, 1e-4, lambda t: np.ones_like(t), upper)


def morris_reference() -> NormalNormal:
    """Flat on (mu, tau^2), tau^2 < 1: in tau the prior density is 2 tau."""
    values = data("morris_baseball")
    return NormalNormal(values["y"], np.full(18, values["sigma"]), 0.0, 0.0, lambda t: 2 * t, 1.0)


def normal_inverse_gamma():
    """The normal_nig posterior (BDA 3.3): prec ~ gamma(alpha_n, beta_n); theta ~ t with
    2 alpha_n degrees of freedom, location mu_n, scale^2 beta_n / (alpha_n kappa_n)."""
    values = data("normal_nig")
    y = values["y"]
    n, ybar, kappa0 = len(y), y.mean(), 1 / values["tau0sq"]
    kappa = kappa0 + n
    mu = (kappa0 * values["mu0"] + n * ybar) / kappa
    alpha = values["alpha"] + n / 2
    beta = (values["beta"] + 0.5 * ((y - ybar) ** 2).sum()
            + kappa0 * n * (ybar - values["mu0"]) ** 2 / (2 * kappa))
    return (stats.gamma(alpha, scale=1 / beta),
            stats.t(2 * alpha, loc=mu, scale=np.sqrt(beta / (alpha * kappa))))


# --- references without the sampler ----------------------------------------------------------

def test_rat_tumour_method_of_moments_matches_gelman():
    a, b = rat_moments()
    assert a == pytest.approx(1.378, abs=5e-4) and b == pytest.approx(8.752, abs=5e-4)
    assert (4 + a) / (14 + a + b) == pytest.approx(0.2229, abs=5e-5)


def test_rat_tumour_full_bayes_grid_is_where_gelman_finds_it():
    """BDA 3rd ed., 5.3: E(a | y) = 2.4 and E(b | y) = 14.3, to the digits printed."""
    weights, phi, s, _, _ = rat_grid()
    a, b = phi / s ** 2, (1 - phi) / s ** 2
    assert float((weights * a).sum()) == pytest.approx(2.4, abs=0.05)
    assert float((weights * b).sum()) == pytest.approx(14.3, abs=0.05)


def test_morris_hierarchical_estimates_beat_the_raw_averages():
    truth = np.loadtxt(SPECS / "morris_baseball.csv", delimiter=",", skiprows=1, usecols=3)
    raw = data("morris_baseball")["y"]
    reference = morris_reference()
    medians = np.array([reference.theta_quantile(j, 0.5) for j in range(18)])
    assert ((raw - truth) ** 2).sum() == pytest.approx(0.075, abs=0.0005)
    assert ((medians - truth) ** 2).sum() < 0.5 * ((raw - truth) ** 2).sum()


# --- sampled against the references ----------------------------------------------------------

def assert_quantile(draws: np.ndarray, q: float, exact: float) -> None:
    """A sample quantile within 4 of ArviZ's Monte Carlo standard errors of the exact one."""
    estimate = float(np.quantile(draws, q))
    mcse = float(arviz.mcse(np.asarray(draws), method="quantile", prob=q))
    assert abs(estimate - exact) < 4 * mcse, (q, estimate, exact, mcse)


def test_normal_inverse_gamma_posterior():
    draws = model("normal_nig").draws(chains=4, burn=100, iter=1000, seed=3)
    prec, theta = normal_inverse_gamma()
    assert_mcmc_moments(draws["prec"], prec.mean(), prec.var())
    assert_mcmc_moments(draws["theta"], theta.mean(), theta.var())


@pytest.mark.slow
def test_rat_tumours_full_bayes_against_the_grid():
    weights, phi, s, mean71, var71 = rat_grid()
    draws = model("rat_tumors").draws(chains=4, burn=300, iter=1000, seed=5,
                                      monitor=["phi", "s", "theta[71]"])
    assert_mcmc_moments(draws["phi"], *mixture_moments(weights, phi, 0 * phi))
    assert_mcmc_moments(draws["s"], *mixture_moments(weights, s, 0 * s))
    assert_mcmc_moments(draws["theta[71]"], *mixture_moments(weights, mean71, var71))


def test_rat_tumours_no_and_complete_pooling_are_conjugate():
    rats = data("rat_tumors")
    y, n = rats["y"], rats["n"]
    pooled = model("rat_tumors_complete_pooling").draws(chains=4, burn=10, iter=500, seed=2)
    exact = stats.beta(1 + y.sum(), 1 + (n - y).sum())
    assert_mcmc_moments(pooled["theta"], exact.mean(), exact.var())
    alone = model("rat_tumors_no_pooling").draws(chains=4, burn=10, iter=500, seed=2,
                                                 monitor=["theta[1]", "theta[71]"])
    for j in (1, 71):
        exact = stats.beta(1 + y[j - 1], 1 + n[j - 1] - y[j - 1])
        assert_mcmc_moments(alone[f"theta[{j}]"], exact.mean(), exact.var())


@pytest.mark.slow
@pytest.mark.parametrize("spec", ["eight_schools_centred", "eight_schools_noncentred"])
def test_eight_schools_against_the_grid(spec):
    reference = eight_schools_reference()
    draws = model(spec).draws(chains=4, burn=1000, iter=2000, seed=11,
                              monitor=["mu", "tau", "theta[1]"])
    for node, j in (("mu", 0), ("tau", 0), ("theta[1]", 0)):
        assert_mcmc_moments(draws[node], *reference.moments(node.split("[")[0], j))


@pytest.mark.slow
def test_heart_attack_against_the_grid():
    reference = eight_schools_reference("heart_attack", sd="sd", upper=10.0)
    draws = model("heart_attack").draws(chains=4, burn=1000, iter=2000, seed=11,
                                        monitor=["mu", "tau", "theta[6]"])
    for node, j in (("mu", 0), ("tau", 0), ("theta[6]", 5)):
        assert_mcmc_moments(draws[node], *reference.moments(node.split("[")[0], j))


@pytest.mark.slow
def test_morris_medians_and_intervals_against_the_grid():
    reference = morris_reference()
    draws = model("morris_baseball").draws(chains=4, burn=1000, iter=2000, seed=11,
                                           monitor=["theta[1]", "theta[18]", "mu"])
    assert_mcmc_moments(draws["mu"], *reference.moments("mu"))
    for j in (0, 17):
        for q in (0.025, 0.5, 0.975):
            assert_quantile(draws[f"theta[{j + 1}]"], q, reference.theta_quantile(j, q))


@pytest.mark.slow
@pytest.mark.parametrize("spec", sorted(EXAMPLES))
def test_each_example_converges_at_the_default_lengths(spec):
    """The README's command: 4 chains, 1000 burn-in, 1000 kept, every latent node monitored."""
    draws = model(spec).draws(chains=4, burn=1000, iter=1000, seed=1)
    rhat = arviz.rhat(arviz.convert_to_dataset(draws.values))
    worst = float(np.nanmax(rhat.to_array().values))
    assert worst <= 1.01, (spec, worst)
