"""The Gibbs sampler's non-conjugate steps, forward draws, imputation, and how a run is kept.

Posteriors are checked against exact values: numerical integration (scipy.integrate.quad)
of a one-dimensional posterior known up to a constant, or summation over a discrete one.
MCMC tolerances are 4 Monte Carlo standard errors, estimated by non-overlapping batch
means within each chain (Flegal, Haran and Jones 2008, Stat. Sci. 23); each such test also
checks that the effective sample size is not a small fraction of the draws, so that a
sampler that barely moves cannot pass on a huge standard error. Where the draws are
independent (a direct draw each sweep), the standard error is the exact sd / sqrt(draws).
Seeds are fixed: every test is deterministic. Many chains with few sweeps keep it fast, as
the chains of a run are updated together in arrays.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from hiergraph import compile_model
from hiergraph.coda import read_coda, write_coda

from checks import assert_exact_draws
from conftest import run_cli



# --- helpers ---------------------------------------------------------------------------------

def _data(values: dict) -> dict:
    return {name: np.asarray(value, float) for name, value in values.items()}


def _sampler(model, group: str, overrides=None) -> str:
    plans = {p.group.name: p for p in model.plan(overrides=overrides).groups}
    return plans[group].sampler


def batch_means(draws: np.ndarray, batch: int) -> tuple[float, float, float]:
    """Mean, its Monte Carlo standard error and the effective sample size, from the means
    of non-overlapping batches of ``batch`` draws within each chain of ``(chains, draws)``."""
    draws = np.atleast_2d(np.asarray(draws, float))
    n = draws.shape[1] // batch * batch
    used = draws[:, :n]
    means = used.reshape(draws.shape[0], -1, batch).mean(axis=2).ravel()
    mcse = float(means.std(ddof=1) / np.sqrt(len(means)))
    ess = used.var() / mcse ** 2 if mcse > 0 else np.inf
    return float(used.mean()), mcse, float(ess)


def assert_mcmc_moments(draws: np.ndarray, mean: float, var: float, batch: int = 50,
                        min_ess_fraction: float = 0.1) -> None:
    """Mean and variance of correlated draws against exact values, within 4 batch-means MCSEs."""
    estimate, mcse, ess = batch_means(draws, batch)
    assert ess > min_ess_fraction * draws.size, f"ESS {ess:.0f} of {draws.size} draws"
    assert abs(estimate - mean) < 4 * mcse, (estimate, mean, mcse)
    # E[(x - exact mean)^2] is the variance; its estimate's MCSE again by batch means
    spread, spread_mcse, _ = batch_means((draws - mean) ** 2, batch)
    assert abs(spread - var) < 4 * spread_mcse, (spread, var, spread_mcse)


def posterior_moments(log_density, lower: float, upper: float) -> tuple[float, float]:
    """Mean and variance of the density proportional to exp(log_density) on (lower, upper)."""
    mode = optimize.minimize_scalar(lambda t: -log_density(t), bounds=(lower, upper),
                                    method="bounded").x
    top = log_density(mode)

    def moment(k):
        return integrate.quad(lambda t: t ** k * np.exp(log_density(t) - top), lower, upper,
                              points=[mode], limit=200, epsabs=0, epsrel=1e-10)[0]

    mass, first, second = moment(0), moment(1), moment(2)
    mean = first / mass
    return mean, second / mass - mean ** 2


def pmf_moments(values: np.ndarray, log_weights: np.ndarray) -> tuple[np.ndarray, float, float]:
    weights = np.exp(log_weights - log_weights.max())
    pmf = weights / weights.sum()
    mean = float((values * pmf).sum())
    return pmf, mean, float(((values - mean) ** 2 * pmf).sum())


# --- slice sampling of continuous nodes ------------------------------------------------------

POISSON_LOG_RATE = "model { for (i in 1:N) { y[i] ~ dpois(exp(theta)) }\n theta ~ dnorm(0, 1) }"
COUNTS = np.array([3.0, 4.0, 7.0, 2.0])


def _poisson_log_rate_posterior():
    return posterior_moments(lambda t: -t * t / 2 + COUNTS.sum() * t - len(COUNTS) * np.exp(t), -10, 10)


def test_slice_poisson_log_rate_matches_numerical_integration():
    model = compile_model(POISSON_LOG_RATE, data=_data({"y": COUNTS, "N": 4}))
    assert _sampler(model, "theta") == "slice"
    draws = model.draws(chains=8, burn=100, iter=300, seed=101)["theta"]
    assert_mcmc_moments(draws, *_poisson_log_rate_posterior())


def test_slice_logistic_regression_slope():
    x = np.array([-2.0, -1, 0, 1, 2, 3])
    y = np.array([0.0, 1, 0, 1, 1, 1])
    a = -0.5
    model = compile_model(
        "model { for (i in 1:N) {\n logit(p[i]) <- a + b * x[i]\n y[i] ~ dbern(p[i]) }\n"
        " b ~ dnorm(0, 0.25) }", data=_data({"x": x, "y": y, "a": a, "N": 6}))
    assert _sampler(model, "b") == "slice"

    def log_density(b):
        eta = a + b * x
        return -0.25 * b * b / 2 + (y * eta - np.logaddexp(0, eta)).sum()

    draws = model.draws(chains=8, burn=100, iter=300, seed=102)["b"]
    assert_mcmc_moments(draws, *posterior_moments(log_density, -20, 20))


def test_slice_bounded_scale_stays_in_its_support():
    y = np.array([1.2, -0.7, 2.1, -1.5])
    model = compile_model(
        "model { for (i in 1:N) { y[i] ~ dnorm(0, 1 / (sigma * sigma)) }\n sigma ~ dunif(0, 10) }",
        data=_data({"y": y, "N": 4}))
    assert _sampler(model, "sigma") == "slice"
    draws = model.draws(chains=8, burn=100, iter=300, seed=103)["sigma"]
    assert draws.min() > 0 and draws.max() < 10
    squares = (y ** 2).sum()
    exact = posterior_moments(lambda s: -len(y) * np.log(s) - squares / (2 * s * s), 1e-9, 10)
    assert_mcmc_moments(draws, *exact)


def test_rw_metropolis_forced_by_override():
    model = compile_model(POISSON_LOG_RATE, data=_data({"y": COUNTS, "N": 4}))
    assert _sampler(model, "theta", {"theta": "rw_metropolis"}) == "rw_metropolis"
    assert "rw_metropolis" in str(model.plan(overrides={"theta": "rw_metropolis"}))
    draws = model.draws(chains=8, burn=300, iter=1000, seed=104, overrides={"theta": "rw_metropolis"})
    theta = draws["theta"]
    # a random walk tuned toward acceptance 0.44 moves often, but not every sweep
    moved = (np.diff(theta, axis=1) != 0).mean()
    assert 0.2 < moved < 0.7, moved
    assert_mcmc_moments(theta, *_poisson_log_rate_posterior(), batch=100, min_ess_fraction=0.05)


def test_unknown_sampler_override_is_an_error():
    from hiergraph.errors import ModelError
    model = compile_model(POISSON_LOG_RATE, data=_data({"y": COUNTS, "N": 4}))
    with pytest.raises(ModelError, match="unknown sampler"):
        model.plan(overrides={"theta": "hamiltonian"})
    with pytest.raises(ModelError, match="no such node group"):
        model.plan(overrides={"nothing": "slice"})


# --- discrete nodes --------------------------------------------------------------------------

def test_integer_slice_unbounded_poisson_count():
    """n ~ dpois(5), y ~ dbin(0.5, n), y = 3: a posteriori n - 3 ~ Poisson(2.5)."""
    model = compile_model("model { n ~ dpois(5)\n y ~ dbin(0.5, n) }", data={"y": 3.0})
    assert _sampler(model, "n") == "slice"
    draws = model.draws(chains=8, burn=100, iter=300, seed=105)["n"]
    assert np.all(draws == np.round(draws)) and draws.min() >= 3
    values = np.arange(0, 200.0)
    pmf, mean, var = pmf_moments(values, stats.poisson.logpmf(values, 5) + stats.binom.logpmf(3, values, 0.5))
    assert np.isclose(mean, 5.5) and np.isclose(var, 2.5)  # the summation agrees with the algebra
    assert_mcmc_moments(draws, mean, var)
    for k in (3, 5):  # single probabilities, as the mean of an indicator
        estimate, mcse, _ = batch_means((draws == k).astype(float), 50)
        assert abs(estimate - pmf[k]) < 4 * mcse, (k, estimate, pmf[k])


def test_integer_slice_bounded_binomial_count_beyond_enumeration():
    """k ~ dbin(0.3, 100) has 101 possible values, more than exact enumeration takes."""
    model = compile_model("model { k ~ dbin(0.3, 100)\n y ~ dpois(k / 10) }", data={"y": 6.0})
    assert _sampler(model, "k") == "slice"
    draws = model.draws(chains=8, burn=100, iter=300, seed=106)["k"]
    assert np.all(draws == np.round(draws)) and draws.min() >= 0 and draws.max() <= 100
    values = np.arange(0, 101.0)
    _, mean, var = pmf_moments(values, stats.binom.logpmf(values, 100, 0.3)
                               + stats.poisson.logpmf(6, values / 10))
    assert_mcmc_moments(draws, mean, var)


def test_finite_enumeration_bernoulli_indicator():
    y = 1.5
    model = compile_model("model { z ~ dbern(0.3)\n y ~ dnorm(2 * z, 1) }", data={"y": y})
    assert _sampler(model, "z") == "finite_enumeration"
    draws = model.draws(chains=8, burn=5, iter=300, seed=107)["z"]
    assert set(np.unique(draws)) <= {0.0, 1.0}
    one, zero = 0.3 * stats.norm.pdf(y - 2), 0.7 * stats.norm.pdf(y)
    p = one / (one + zero)
    # z is the only latent node: each sweep's draw is exact and independent
    assert abs(draws.mean() - p) < 4 * np.sqrt(p * (1 - p) / draws.size), (draws.mean(), p)


def test_finite_enumeration_categorical():
    w = np.array([0.2, 0.5, 0.3])
    y = 2.6
    model = compile_model("model { z ~ dcat(w[1:3])\n y ~ dnorm(z, 1) }", data=_data({"w": w, "y": y}))
    assert _sampler(model, "z") == "finite_enumeration"
    draws = model.draws(chains=8, burn=5, iter=300, seed=108)["z"].ravel()
    assert set(np.unique(draws)) <= {1.0, 2.0, 3.0}
    weights = w * stats.norm.pdf(y - np.arange(1, 4))
    pmf = weights / weights.sum()
    for k, p in enumerate(pmf, start=1):
        share = (draws == k).mean()
        assert abs(share - p) < 4 * np.sqrt(p * (1 - p) / draws.size), (k, share, p)


def test_finite_enumeration_small_binomial():
    model = compile_model("model { k ~ dbin(0.4, 6)\n y ~ dnorm(k, 0.5) }", data={"y": 4.2})
    assert _sampler(model, "k") == "finite_enumeration"
    draws = model.draws(chains=8, burn=5, iter=250, seed=109)["k"]
    values = np.arange(0, 7.0)
    pmf, mean, var = pmf_moments(values, stats.binom.logpmf(values, 6, 0.4)
                                 + stats.norm.logpdf(4.2, values, 1 / np.sqrt(0.5)))
    assert abs(draws.mean() - mean) < 4 * np.sqrt(var / draws.size)
    assert draws.min() >= 0 and draws.max() <= 6


# --- forward draws and missing data ----------------------------------------------------------

Y_OBS = np.array([1.2, 0.4, 2.0, 0.9])


def _mu_posterior(y, prior_precision=0.01):
    precision = prior_precision + len(y)
    return y.sum() / precision, 1 / precision


def test_forward_draw_of_a_node_without_observed_descendant_is_predictive():
    model = compile_model(
        "model { for (i in 1:N) { y[i] ~ dnorm(mu, 1) }\n mu ~ dnorm(0, 0.01)\n"
        " theta.new ~ dnorm(mu, 2) }", data=_data({"y": Y_OBS, "N": 4}))
    plans = {p.group.name: p for p in model.plan().groups}
    assert plans["theta.new"].sampler == "forward"
    assert (plans["theta.new"].mcmc_rows, plans["theta.new"].forward_rows) == (0, 1)
    assert plans["mu"].sampler == "conjugate_normal_normal"
    assert re.search(r"^theta\.new\s+forward\s+0 \(\+1 forward\)", str(model.samplers), re.M)
    draws = model.draws(chains=16, burn=5, iter=250, seed=110)
    mean, var = _mu_posterior(Y_OBS)
    assert_exact_draws(draws["mu"], stats.norm(mean, np.sqrt(var)))
    # mu is drawn exactly each sweep, and theta.new given it: independent predictive draws
    assert_exact_draws(draws["theta.new"], stats.norm(mean, np.sqrt(var + 1 / 2)))


MISSING = np.array([1.2, np.nan, 0.4, 2.0, 0.9])


def _missing_model():
    return compile_model("model { for (i in 1:N) { y[i] ~ dnorm(mu, 1) }\n mu ~ dnorm(0, 0.01) }",
                         data={"y": MISSING, "N": 5.0})


def test_missing_value_is_imputed_from_its_predictive_distribution():
    model = _missing_model()
    plans = {p.group.name: p for p in model.plan().groups}
    assert plans["y[i]"].sampler == "forward" and plans["y[i]"].forward_rows == 1
    draws = model.draws(chains=8, burn=50, iter=400, seed=111)
    assert sorted(draws.labels) == ["mu", "y[2]"]  # by default: every latent stochastic node
    mean, var = _mu_posterior(MISSING[~np.isnan(MISSING)])
    assert_mcmc_moments(draws["mu"], mean, var)
    assert_mcmc_moments(draws["y[2]"], mean, var + 1)


def test_deviance_counts_only_observed_nodes():
    model = _missing_model()
    draws = model.draws(chains=2, burn=10, iter=50, seed=112, monitor=["mu", "deviance"])
    observed = MISSING[~np.isnan(MISSING)]
    mu = draws["mu"]
    by_hand = -2 * stats.norm.logpdf(observed[None, None, :], mu[..., None], 1).sum(axis=-1)
    np.testing.assert_allclose(draws["deviance"], by_hand, rtol=1e-10)


def test_deviance_is_minus_twice_the_log_likelihood():
    y = np.array([0.3, -1.2, 2.5, 0.8, 1.1])
    model = compile_model("model { for (i in 1:N) { y[i] ~ dnorm(mu, tau) }\n"
                          " mu ~ dnorm(0, 0.01)\n tau ~ dgamma(1, 1) }", data=_data({"y": y, "N": 5}))
    draws = model.draws(chains=2, burn=10, iter=100, seed=113, monitor=["mu", "tau", "deviance"])
    assert draws.labels == ["mu", "tau", "deviance"]
    mu, tau = draws["mu"][..., None], draws["tau"][..., None]
    by_hand = -2 * stats.norm.logpdf(y, mu, 1 / np.sqrt(tau)).sum(axis=-1)
    np.testing.assert_allclose(draws["deviance"], by_hand, rtol=1e-10)


# --- reproducibility -------------------------------------------------------------------------

def _poisson_model(**kwargs):
    return compile_model(POISSON_LOG_RATE, data=_data({"y": COUNTS, "N": 4}), **kwargs)


def test_same_seed_same_draws_bit_for_bit():
    first = _poisson_model().draws(chains=2, burn=30, iter=40, seed=7)
    second = _poisson_model().draws(chains=2, burn=30, iter=40, seed=7)
    assert first.values.tobytes() == second.values.tobytes()
    assert first.seed == second.seed == 7
    other = _poisson_model().draws(chains=2, burn=30, iter=40, seed=8)
    assert not np.array_equal(first.values, other.values)
    assert not np.array_equal(first["theta"][0], first["theta"][1])  # chains differ


def test_no_seed_records_the_seed_used_which_reproduces_the_run():
    first = _poisson_model().draws(chains=2, burn=10, iter=20)
    assert first.seed is not None
    again = _poisson_model().draws(chains=2, burn=10, iter=20, seed=first.seed)
    assert np.array_equal(first.values, again.values)


def test_rng_seed_in_inits_reproduces_each_chain():
    inits = [{"theta": 0.0, ".RNG.seed": 5}, {"theta": 1.0, ".RNG.seed": 6}]
    first = _poisson_model(inits=inits).draws(chains=2, burn=30, iter=40, seed=1)
    again = _poisson_model(inits=inits).draws(chains=2, burn=30, iter=40, seed=2)
    # the chains' own seeds win over the run's seed
    assert np.array_equal(first["theta"], again["theta"])
    assert not np.array_equal(first["theta"][0], first["theta"][1])


def test_rng_seed_of_one_chain_fixes_that_chain_only():
    """Conjugate and Metropolis steps draw the same random numbers whatever the other chains do."""
    text = "model { for (i in 1:N) { y[i] ~ dpois(lam) }\n lam ~ dgamma(1, 1) }"
    data = _data({"y": COUNTS, "N": 4})

    def run(second_chain, seed, **kwargs):
        model = compile_model(text, data=data, inits=[{"lam": 1.0, ".RNG.seed": 5}, second_chain])
        return model.draws(chains=2, burn=20, iter=30, seed=seed, **kwargs)["lam"]

    first, again = run({"lam": 2.0}, 1), run({"lam": 3.0, ".RNG.seed": 9}, 2)
    assert np.array_equal(first[0], again[0])
    assert not np.array_equal(first[1], again[1])
    model = _poisson_model(inits=[{"theta": 0.0, ".RNG.seed": 5}, {"theta": 1.0}])
    a = model.draws(chains=2, burn=20, iter=30, seed=1, overrides={"theta": "rw_metropolis"})["theta"]
    b = model.draws(chains=2, burn=20, iter=30, seed=2, overrides={"theta": "rw_metropolis"})["theta"]
    assert np.array_equal(a[0], b[0]) and not np.array_equal(a[1], b[1])


def test_slice_chain_with_rng_seed_does_not_depend_on_the_other_chain():
    first = _poisson_model(inits=[{"theta": 0.0, ".RNG.seed": 5}, {"theta": 1.0, ".RNG.seed": 6}])
    second = _poisson_model(inits=[{"theta": 0.0, ".RNG.seed": 5}, {"theta": 1.0, ".RNG.seed": 7}])
    a = first.draws(chains=2, burn=20, iter=30, seed=1)["theta"]
    b = second.draws(chains=2, burn=20, iter=30, seed=1)["theta"]
    assert np.array_equal(a[0], b[0])


def test_chain_draws_do_not_depend_on_the_number_of_chains_conjugate():
    text = "model { for (i in 1:N) { y[i] ~ dpois(lam) }\n lam ~ dgamma(1, 1) }"
    model = compile_model(text, data=_data({"y": COUNTS, "N": 4}))
    one = model.draws(chains=1, burn=10, iter=30, seed=3)["lam"]
    three = model.draws(chains=3, burn=10, iter=30, seed=3)["lam"]
    assert np.array_equal(one[0], three[0])


# --- burn-in, thinning and CODA output -------------------------------------------------------

def test_thinning_keeps_every_thin_th_sweep_with_jags_iteration_numbers():
    model = _poisson_model()
    full = model.draws(chains=2, burn=50, iter=30, thin=1, seed=4)
    thinned = model.draws(chains=2, burn=50, iter=30, thin=4, seed=4)
    assert thinned["theta"].shape == (2, 30 // 4)
    np.testing.assert_array_equal(thinned.iterations, 50 + 4 * np.arange(1, 30 // 4 + 1))
    np.testing.assert_array_equal(full.iterations, np.arange(51, 81))
    # recording does not touch the random streams: the thinned run is the full one, thinned
    np.testing.assert_array_equal(thinned["theta"], full["theta"][:, 3::4][:, :30 // 4])


def test_burn_in_discards_exactly_the_first_sweeps():
    """A conjugate sampler does not adapt, so burn-in only decides which sweeps are kept."""
    text = "model { for (i in 1:N) { y[i] ~ dpois(lam) }\n lam ~ dgamma(1, 1) }"
    model = compile_model(text, data=_data({"y": COUNTS, "N": 4}))
    burned = model.draws(chains=2, burn=25, iter=20, seed=5)
    unburned = model.draws(chains=2, burn=0, iter=45, seed=5)
    np.testing.assert_array_equal(burned["lam"], unburned["lam"][:, 25:])
    np.testing.assert_array_equal(burned.iterations, unburned.iterations[25:])


def test_zero_iterations_gives_no_draws():
    draws = _poisson_model().draws(chains=2, burn=5, iter=0, seed=1)
    assert draws["theta"].shape == (2, 0)


def test_coda_round_trip_and_layout(tmp_path):
    model = compile_model(
        "model { for (i in 1:N) { y[i] ~ dnorm(mu, tau) }\n mu ~ dnorm(0, 0.01)\n"
        " tau ~ dgamma(1, 1)\n k ~ dpois(3) }",
        data=_data({"y": Y_OBS, "N": 4}))
    draws = model.draws(chains=3, burn=20, iter=10, thin=2, seed=6, monitor=["mu", "tau", "k", "deviance"])
    n = 10 // 2
    written = write_coda(draws, tmp_path / "out")
    assert [p.name for p in written] == ["CODAindex.txt", "CODAchain1.txt", "CODAchain2.txt",
                                         "CODAchain3.txt"]
    index = (tmp_path / "out" / "CODAindex.txt").read_text().splitlines()
    assert index == [f"{label} {k * n + 1} {(k + 1) * n}" for k, label in
                     enumerate(["mu", "tau", "k", "deviance"])]
    iterations = [20 + 2 * j for j in range(1, n + 1)]
    for chain in range(3):
        lines = (tmp_path / "out" / f"CODAchain{chain + 1}.txt").read_text().splitlines()
        assert len(lines) == 4 * n
        rows = [line.split() for line in lines]
        assert all(len(row) == 2 for row in rows)
        assert [int(row[0]) for row in rows] == iterations * 4
    back = read_coda(tmp_path / "out")
    assert list(back) == draws.labels
    for label in draws.labels:
        assert back[label].shape == (3, n)
        # CODA text keeps 10 significant digits, as JAGS's does
        np.testing.assert_allclose(back[label], draws[label], rtol=1e-9, atol=0)
    np.testing.assert_array_equal(back["k"], draws["k"])  # whole numbers exactly


def test_coda_labels_of_matrix_elements_in_column_major_order(tmp_path):
    data = {"Y": np.array([[1.0, np.nan, 2.0], [np.nan, 0.5, np.nan]])}
    model = compile_model("model { for (i in 1:2) { for (j in 1:3) { Y[i,j] ~ dnorm(mu, 1) } }\n"
                          " mu ~ dnorm(0, 1) }", data=data)
    draws = model.draws(chains=2, burn=5, iter=6, seed=1)
    assert draws.labels == ["Y[2,1]", "Y[1,2]", "Y[2,3]", "mu"]  # as R lists an array: by column
    assert model.draws(chains=2, burn=5, iter=6, seed=1, monitor=["Y[,3]"]).labels == ["Y[1,3]", "Y[2,3]"]
    write_coda(draws, tmp_path)
    back = read_coda(tmp_path)
    assert list(back) == draws.labels
    for label in draws.labels:
        np.testing.assert_allclose(back[label], draws[label], rtol=1e-9, atol=0)


# --- the command line ------------------------------------------------------------------------

CLI_MODEL = """model {
  for (i in 1:N) { y[i] ~ dpois(exp(theta)) }
  theta ~ dnorm(0, 1)
  for (i in 1:N) { z[i] ~ dpois(lam) }
  lam ~ dgamma(1, 1)
}
"""
CLI_DATA = '"y" <- c(3, 4, 7, 2)\n"z" <- c(1, 0, 2, 1)\n"N" <- 4\n'
# the sampling run uses direct draws only, to keep the subprocesses quick
CLI_CONJUGATE = """model {
  for (i in 1:N) { y[i] ~ dnorm(mu, tau) }
  mu ~ dnorm(0, 0.01)
  tau ~ dgamma(1, 1)
}
"""


@pytest.fixture
def cli_files(tmp_path):
    model, data = tmp_path / "model.bug", tmp_path / "data.R"
    model.write_text(CLI_MODEL)
    data.write_text(CLI_DATA)
    return model, data


def test_cli_sample_writes_coda_reproducibly(cli_files, tmp_path):
    model, data = cli_files
    model.write_text(CLI_CONJUGATE)
    outputs = []
    for name in ("first", "second"):
        out = tmp_path / name
        result = run_cli("sample", model, "--data", data, "--chains", 2, "--burn", 100, "--iter", 200,
                         "--seed", 1, "--out", out, "--format", "coda")
        assert result.returncode == 0, result.stderr
        assert sorted(p.name for p in out.iterdir()) == ["CODAchain1.txt", "CODAchain2.txt", "CODAindex.txt"]
        outputs.append(out)
    for name in ("CODAindex.txt", "CODAchain1.txt", "CODAchain2.txt"):
        assert (outputs[0] / name).read_bytes() == (outputs[1] / name).read_bytes()
    index = (outputs[0] / "CODAindex.txt").read_text().split()
    assert index == ["mu", "1", "200", "tau", "201", "400"]
    chain = np.loadtxt(outputs[0] / "CODAchain1.txt")
    assert chain.shape == (400, 2)
    np.testing.assert_array_equal(chain[:200, 0], np.arange(101, 301))
    # the command line runs the same sampler as the API, with the same seed
    api = compile_model(str(model), data=str(data)).draws(chains=2, burn=100, iter=200, seed=1)
    back = read_coda(outputs[0])
    np.testing.assert_allclose(back["mu"], api["mu"], rtol=1e-9)
    np.testing.assert_allclose(back["tau"], api["tau"], rtol=1e-9)


def test_cli_compile_prints_each_latent_group_with_its_sampler(cli_files):
    model, data = cli_files
    result = run_cli("compile", model, "--data", data)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["node", "group"]
    table = lines[1:lines.index("")]  # then a blank line and the backend that will sample it
    rows = {line.split()[0]: line.split()[1] for line in table}
    assert rows == {"theta": "slice", "lam": "conjugate_gamma_poisson"}
    assert lines[-1].startswith("backend: ")
    assert "not conjugate:" in next(line for line in lines if line.startswith("theta"))


def test_elliptical_slice_for_a_multivariate_normal_node_with_a_nonlinear_likelihood():
    """b ~ dmnorm with Poisson children reading exp(b[1]) + exp(b[2]) x: no conjugate rule and
    no linear predictor, so elliptical slice sampling; posterior means by numerical
    integration on a grid."""
    x, y = np.array([0.5, 1.0, 2.0, 3.0]), np.array([2.0, 3.0, 6.0, 7.0])
    mean0, precision0 = np.array([0.5, 0.5]), np.array([[2.0, 0.5], [0.5, 1.0]])
    model = compile_model("model { for (i in 1:4) { y[i] ~ dpois(exp(b[1]) + exp(b[2]) * x[i]) }\n"
                          " b[1:2] ~ dmnorm(m0[], P0[,]) }",
                          data={"y": y, "x": x, "m0": mean0, "P0": precision0})
    assert _sampler(model, "b[1:2]") == "elliptical_slice"
    grid = np.linspace(-4, 4, 801)
    b1, b2 = np.meshgrid(grid, grid, indexing="ij")
    rate = np.exp(b1)[..., None] + np.exp(b2)[..., None] * x
    delta = np.stack([b1 - mean0[0], b2 - mean0[1]], axis=-1)
    log_density = ((y * np.log(rate) - rate).sum(axis=-1)
                   - 0.5 * np.einsum("...i,ij,...j->...", delta, precision0, delta))
    weights = np.exp(log_density - log_density.max())
    weights /= weights.sum()
    draws = model.draws(chains=8, burn=100, iter=1500, seed=12, monitor="b")
    for label, values in (("b[1]", b1), ("b[2]", b2)):
        mean = (weights * values).sum()
        var = (weights * (values - mean) ** 2).sum()
        assert_mcmc_moments(draws[label], mean, var, batch=50)
