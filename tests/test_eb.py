"""Empirical Bayes against closed forms and likelihoods written out independently with
scipy.stats: Gelman's method of moments for the rat tumours, the beta-binomial and
negative-binomial (gamma-Poisson) marginal likelihoods maximised directly, and the
equal-variance normal-normal model, whose maximum and curvature are known exactly."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, stats

from hiergraph import compile_model
from hiergraph.errors import UsageError

from conftest import REPO, run_cli
from test_examples import data, rat_moments

SPECS = REPO / "specs"


def rats(count: int):
    values = data("rat_tumors")
    return compile_model(SPECS / "rat_tumors.spec",
                         data={"J": count, "y": values["y"][:count], "n": values["n"][:count]})


def test_rat_tumour_moments_are_gelmans():
    phi, s = rats(70).empirical_bayes(["phi", "s"], "moments").values
    a, b = phi / s ** 2, (1 - phi) / s ** 2
    assert (a, b) == pytest.approx(rat_moments(), rel=1e-6)
    assert (a, b) == pytest.approx((1.378, 8.752), abs=5e-4)
    assert (4 + a) / (14 + a + b) == pytest.approx(0.2229, abs=5e-5)


def test_beta_binomial_maximum_is_the_direct_maximum():
    values = data("rat_tumors")
    y, n = values["y"], values["n"]
    direct = optimize.minimize(
        lambda t: -stats.betabinom.logpmf(y, n, np.exp(t[0]), np.exp(t[1])).sum(), [0.0, 2.0],
        method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12})
    a, b = np.exp(direct.x)
    found = rats(71).empirical_bayes(["phi", "s"])
    assert found.values == pytest.approx([a / (a + b), (a + b) ** -0.5], rel=1e-4)
    assert np.all(found.errors > 0)


def test_gamma_poisson_maximum_is_the_negative_binomial_maximum():
    values = data("kidney_cancer")
    y, n = values["y"], values["n"]
    # y ~ negative binomial(size a, probability b / (b + n)) with b = a / m
    nll = lambda t: -stats.nbinom.logpmf(y, np.exp(t[1]), 1 / (1 + n * np.exp(t[0] - t[1]))).sum()
    direct = optimize.minimize(nll, [np.log(10), np.log(20)], method="Nelder-Mead",
                               options={"xatol": 1e-10, "fatol": 1e-12})
    found = compile_model(SPECS / "kidney_cancer.spec", data=SPECS / "kidney_cancer.R").empirical_bayes(["m", "a"])
    assert found.values == pytest.approx(np.exp(direct.x), rel=1e-4)


def test_normal_normal_with_equal_variances_is_exact():
    """Morris: with a common sigma, mu = mean(y), tau^2 = mean((y - mean)^2) - sigma^2, and
    mu's standard error is sqrt((sigma^2 + tau^2) / N)."""
    values = data("morris_baseball")
    y, sigma = values["y"], float(values["sigma"])
    model = compile_model(SPECS / "morris_baseball.spec", data=SPECS / "morris_baseball.R")
    tau2 = y.var() - sigma ** 2
    for method in ("mle", "moments"):
        found = model.empirical_bayes(["mu", "tau2"], method)
        assert found.values == pytest.approx([y.mean(), tau2], rel=1e-4)
    assert found.errors[0] != found.errors[0]  # moments: no standard error
    mle = model.empirical_bayes(["mu", "tau2"])
    assert mle.errors[0] == pytest.approx(np.sqrt((sigma ** 2 + tau2) / len(y)), rel=1e-3)


def test_eight_schools_tau_is_at_its_bound():
    found = compile_model(SPECS / "eight_schools_centred.spec",
                          data=SPECS / "eight_schools.R").empirical_bayes(["mu", "tau"])
    assert found.at_bound == ("tau",) and found.values[1] < 0.01
    assert "highest at the edge of tau's support" in str(found)


def test_a_layer_without_closed_form_is_named():
    with pytest.raises(UsageError, match="not available in closed form: s gets the sampler"):
        rats(71).empirical_bayes(["phi"])
    with pytest.raises(UsageError, match="cannot estimate 'alpha': there is no such node"):
        rats(71).empirical_bayes(["alpha"])
    with pytest.raises(UsageError, match=r"mu gets the sampler collapsed_slice, not a beta-binomial"):
        compile_model(SPECS / "eight_schools_centred.spec",
                      data=SPECS / "eight_schools.R").empirical_bayes(["tau"])


def test_command_line_estimates_then_samples_with_them_fixed():
    done = run_cli("eb", SPECS / "eight_schools_centred.spec", "--data", SPECS / "eight_schools.R",
                   "--hyper", "mu", "--hyper", "tau", "--method", "moments", "--then-sample",
                   "--chains", 2, "--burn", 20, "--iter", 50, "--seed", 1)
    assert done.returncode == 1 and "vary no more than their standard errors" in done.stderr
    done = run_cli("eb", SPECS / "morris_baseball.spec", "--data", SPECS / "morris_baseball.R",
                   "--hyper", "mu,tau2", "--then-sample", "--chains", 2, "--burn", 20,
                   "--iter", 50, "--seed", 1)
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines()]
    assert rows[0] == ["node", "estimate", "std.", "error"] and rows[1][0] == "mu"
    assert done.stdout.rstrip().endswith("of 18 monitored values")  # only the thetas sampled
