"""Conjugate updates: every rule of :mod:`hiergraph.conjugacy`, one small model each.

For each model the test checks (1) which sampler the compiler chose for the latent group and
(2) its draws against the closed-form posterior worked out here by hand (Gelman et al.,
*Bayesian Data Analysis*, ch. 2-3). The updated node is the only latent node and the data
are fixed, so each sweep's conjugate draw is an independent draw from the exact posterior:
the tolerances are Monte Carlo errors with the number of draws as the sample size
(4 standard errors for the mean and the variance), plus a Kolmogorov-Smirnov test against
the exact posterior cdf at level 0.001. Seeds are fixed, so each test is deterministic.

Parameterisations are JAGS's: dnorm(mean, precision), dgamma(shape, rate), dbin(p, n),
dnegbin(p, r), dweib(v, lambda) with density v lambda y^(v-1) exp(-lambda y^v).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from checks import assert_exact_draws

from hiergraph import compile_model


def _data(values: dict) -> dict:
    return {name: np.asarray(value, float) for name, value in values.items()}


def _group_plan(model, name: str):
    plans = {p.group.name: p for p in model.plan().groups}
    assert name in plans, f"no latent group {name}: {sorted(plans)}"
    return plans[name]


def gamma_rate(shape, rate):
    return stats.gamma(shape, scale=1 / rate)


def truncated(dist, lower=-np.inf, upper=np.inf):
    """A frozen distribution truncated to (lower, upper): what the tests need of it."""
    low, high = dist.cdf(lower), dist.cdf(upper)
    mass = high - low

    class Truncated:
        def cdf(self, x):
            return np.clip((dist.cdf(x) - low) / mass, 0, 1)

        def stats(self, moments="mvk"):
            def moment(k):
                from scipy import integrate
                return integrate.quad(lambda t: t ** k * dist.pdf(t), max(lower, dist.support()[0]),
                                      min(upper, dist.support()[1]))[0] / mass
            m1, m2, m3, m4 = (moment(k) for k in (1, 2, 3, 4))
            var = m2 - m1 ** 2
            central4 = m4 - 4 * m1 * m3 + 6 * m1 ** 2 * m2 - 3 * m1 ** 4
            return m1, var, central4 / var ** 2 - 3

    return Truncated()


Y3 = [3.0, 4.0, 7.0]  # counts
POS = [0.3, 1.5, 2.0]  # positive continuous data


def _beta_cases():
    y, n = np.array([3.0, 5, 1]), np.array([10.0, 10, 5])
    bern = np.array([1.0, 0, 1, 1, 0, 1])
    nb, r = np.array([3.0, 0, 7]), 4.0
    return [
        pytest.param(
            "model { for (i in 1:N) { y[i] ~ dbin(p, n[i]) }\n p ~ dbeta(2, 3) }",
            {"y": y, "n": n, "N": 3}, "p", "conjugate_beta_binomial",
            stats.beta(2 + y.sum(), 3 + (n - y).sum()), id="beta-binomial"),
        pytest.param(
            "model { for (i in 1:N) { y[i] ~ dbern(p) }\n p ~ dbeta(1.5, 2) }",
            {"y": bern, "N": 6}, "p", "conjugate_beta_bernoulli",
            stats.beta(1.5 + bern.sum(), 2 + (1 - bern).sum()), id="beta-bernoulli"),
        pytest.param(
            "model { for (i in 1:N) { y[i] ~ dnegbin(p, r) }\n p ~ dbeta(2, 2) }",
            {"y": nb, "N": 3, "r": r}, "p", "conjugate_beta_negbin",
            # P(y) = C(y + r - 1, y) p^r (1 - p)^y: each child adds r to a and y to b
            stats.beta(2 + 3 * r, 2 + nb.sum()), id="beta-negbin"),
        pytest.param(
            "model { for (i in 1:N) { y[i] ~ dbin(p, 10) }\n p ~ dunif(0, 1) }",
            {"y": [3.0, 4.0], "N": 2}, "p", "conjugate_beta_binomial",
            stats.beta(1 + 7, 1 + 13), id="unit-uniform-binomial"),
    ]


def _gamma_cases():
    y, t = np.array(Y3), np.array([1.0, 2.0, 0.5])
    z, mu, c = np.array([0.3, -1.0, 2.0]), 0.5, np.array([1.0, 2.0, 4.0])
    pos = np.array(POS)
    return [
        pytest.param(
            "model { for (i in 1:N) { y[i] ~ dpois(lam) }\n lam ~ dgamma(2, 1) }",
            {"y": y, "N": 3}, "lam", "conjugate_gamma_poisson",
            gamma_rate(2 + y.sum(), 1 + 3), id="gamma-poisson"),
        pytest.param(
            "model { for (i in 1:N) {\n lambda[i] <- theta * t[i]\n y[i] ~ dpois(lambda[i]) }\n"
            " theta ~ dgamma(2, 1) }",
            {"y": y, "t": t, "N": 3}, "theta", "conjugate_gamma_poisson",
            gamma_rate(2 + y.sum(), 1 + t.sum()), id="gamma-poisson-exposure"),
        pytest.param(
            "model { for (i in 1:N) { y[i] ~ dpois(lam) }\n lam ~ dexp(0.5) }",
            {"y": y, "N": 3}, "lam", "conjugate_gamma_poisson",
            gamma_rate(1 + y.sum(), 0.5 + 3), id="exponential-prior-poisson"),
        pytest.param(
            "model { for (i in 1:N) { y[i] ~ dpois(lam) }\n lam ~ dchisqr(3) }",
            {"y": y, "N": 3}, "lam", "conjugate_gamma_poisson",
            gamma_rate(1.5 + y.sum(), 0.5 + 3), id="chisqr-prior-poisson"),
        pytest.param(
            "model { for (i in 1:N) { y[i] ~ dnorm(mu, tau) }\n tau ~ dgamma(1, 1) }",
            {"y": z, "N": 3, "mu": mu}, "tau", "conjugate_gamma_normal",
            gamma_rate(1 + 3 / 2, 1 + ((z - mu) ** 2).sum() / 2), id="gamma-normal-precision"),
        pytest.param(
            "model { for (i in 1:N) {\n prec[i] <- c[i] * tau\n y[i] ~ dnorm(mu, prec[i]) }\n"
            " tau ~ dgamma(1, 1) }",
            {"y": z, "N": 3, "mu": mu, "c": c}, "tau", "conjugate_gamma_normal",
            gamma_rate(1 + 3 / 2, 1 + (c * (z - mu) ** 2).sum() / 2), id="gamma-normal-scaled-precision"),
        pytest.param(
            "model { for (i in 1:N) { y[i] ~ dlnorm(mu, tau) }\n tau ~ dgamma(1, 1) }",
            {"y": pos, "N": 3, "mu": 0.1}, "tau", "conjugate_gamma_lognormal",
            gamma_rate(1 + 3 / 2, 1 + ((np.log(pos) - 0.1) ** 2).sum() / 2), id="gamma-lognormal-precision"),
        pytest.param(
            "model { for (i in 1:N) { y[i] ~ dexp(lam) }\n lam ~ dgamma(2, 1) }",
            {"y": pos, "N": 3}, "lam", "conjugate_gamma_exponential",
            gamma_rate(2 + 3, 1 + pos.sum()), id="gamma-exponential"),
        pytest.param(
            "model { for (i in 1:N) { y[i] ~ dgamma(s, lam) }\n lam ~ dgamma(2, 1) }",
            {"y": pos, "N": 3, "s": 2.5}, "lam", "conjugate_gamma_gamma",
            gamma_rate(2 + 3 * 2.5, 1 + pos.sum()), id="gamma-gamma-rate"),
        pytest.param(
            "model { for (i in 1:N) { y[i] ~ dweib(v, lam) }\n lam ~ dgamma(2, 1) }",
            {"y": pos, "N": 3, "v": 1.7}, "lam", "conjugate_gamma_weibull",
            gamma_rate(2 + 3, 1 + (pos ** 1.7).sum()), id="gamma-weibull-lambda"),
        pytest.param(
            "model { for (i in 1:N) { y[i] ~ dpois(lam) }\n z ~ dexp(lam)\n lam ~ dgamma(1, 1) }",
            {"y": y, "N": 3, "z": 0.5}, "lam", "conjugate_gamma_exponential_poisson",
            gamma_rate(1 + y.sum() + 1, 1 + 3 + 0.5), id="gamma-two-child-families"),
    ]


def _normal_cases():
    y, tau = np.array(POS), np.array([1.0, 2.0, 0.5])
    x, a, b, t = np.array([1.0, 2.0, 3.0]), 0.5, 2.0, 4.0
    reg_prec = 0.1 + (t * (b * x) ** 2).sum()
    reg_mean = (t * b * x * (y - a)).sum() / reg_prec
    ln_prec = 1 + 3 * 2.0
    return [
        pytest.param(
            "model { for (i in 1:N) { y[i] ~ dnorm(mu, tau[i]) }\n mu ~ dnorm(1, 0.5) }",
            {"y": y, "N": 3, "tau": tau}, "mu", "conjugate_normal_normal",
            stats.norm((0.5 * 1 + (tau * y).sum()) / (0.5 + tau.sum()), 1 / np.sqrt(0.5 + tau.sum())),
            id="normal-normal-known-precisions"),
        pytest.param(
            "model { for (i in 1:N) {\n m[i] <- a + b * x[i] * beta\n y[i] ~ dnorm(m[i], t) }\n"
            " beta ~ dnorm(0, 0.1) }",
            {"y": y, "N": 3, "x": x, "a": a, "b": b, "t": t}, "beta", "conjugate_normal_normal",
            stats.norm(reg_mean, 1 / np.sqrt(reg_prec)), id="normal-regression-slope"),
        pytest.param(
            "model { for (i in 1:N) { y[i] ~ dlnorm(mu, 2) }\n mu ~ dnorm(0, 1) }",
            {"y": y, "N": 3}, "mu", "conjugate_normal_lognormal",
            stats.norm(2 * np.log(y).sum() / ln_prec, 1 / np.sqrt(ln_prec)), id="normal-lognormal-mean"),
    ]


@pytest.mark.parametrize("text, data, group, sampler, exact",
                         _beta_cases() + _gamma_cases() + _normal_cases())
def test_conjugate_rule(text, data, group, sampler, exact):
    model = compile_model(text, data=_data(data))
    plan = _group_plan(model, group)
    assert plan.sampler == sampler
    assert plan.why_not_conjugate == ""
    assert sampler in str(model.samplers)
    draws = model.draws(chains=16, burn=5, iter=250, seed=20240611)
    assert_exact_draws(draws[group], exact)


def test_truncated_normal_prior_gives_truncated_normal_posterior():
    y = np.array([-0.5, -1.0, 0.2])
    model = compile_model("model { for (i in 1:N) { y[i] ~ dnorm(mu, 1) }\n mu ~ dnorm(0, 1) T(0, ) }",
                          data=_data({"y": y, "N": 3}))
    assert _group_plan(model, "mu").sampler == "conjugate_normal_normal"
    draws = model.draws(chains=8, burn=5, iter=150, seed=7)["mu"]
    precision = 1 + len(y)
    mean, sd = y.sum() / precision, 1 / np.sqrt(precision)
    assert draws.min() >= 0
    assert_exact_draws(draws, stats.truncnorm((0 - mean) / sd, np.inf, loc=mean, scale=sd))


def test_truncated_gamma_prior_gives_truncated_gamma_posterior():
    y = np.array(Y3)
    model = compile_model("model { for (i in 1:N) { y[i] ~ dpois(lam) }\n lam ~ dgamma(2, 1) T(, 3) }",
                          data=_data({"y": y, "N": 3}))
    assert _group_plan(model, "lam").sampler == "conjugate_gamma_poisson"
    draws = model.draws(chains=8, burn=5, iter=150, seed=8)["lam"]
    assert draws.max() <= 3
    assert_exact_draws(draws, truncated(gamma_rate(2 + y.sum(), 1 + 3), upper=3.0))


def test_truncated_beta_prior_gives_truncated_beta_posterior():
    model = compile_model("model { for (i in 1:N) { y[i] ~ dbin(p, 10) }\n p ~ dbeta(1, 1) T(0.5, ) }",
                          data=_data({"y": [3.0, 4.0], "N": 2}))
    assert _group_plan(model, "p").sampler == "conjugate_beta_binomial"
    draws = model.draws(chains=8, burn=5, iter=150, seed=9)["p"]
    assert draws.min() >= 0.5
    assert_exact_draws(draws, truncated(stats.beta(8, 14), lower=0.5))


def test_vector_of_conjugate_nodes_each_gets_its_own_posterior():
    """theta[j] with fixed prior: each element's children are picked out by a data index."""
    y = np.array([3.0, 4.0, 7.0, 1.0, 2.0, -1.0])
    g = np.array([1, 2, 1, 3, 2, 2])
    model = compile_model(
        "model { for (i in 1:N) { y[i] ~ dnorm(theta[g[i]], 2) }\n"
        " for (j in 1:J) { theta[j] ~ dnorm(1, 0.5) } }",
        data=_data({"y": y, "g": g, "N": 6, "J": 3}))
    assert _group_plan(model, "theta[j]").sampler == "conjugate_normal_normal"
    draws = model.draws(chains=16, burn=5, iter=150, seed=10)
    for j in (1, 2, 3):
        mine = y[g == j]
        precision = 0.5 + 2 * len(mine)
        exact = stats.norm((0.5 * 1 + 2 * mine.sum()) / precision, 1 / np.sqrt(precision))
        assert_exact_draws(draws[f"theta[{j}]"], exact)


# --- where no conjugate rule may apply -------------------------------------------------------

NOT_CONJUGATE = [
    pytest.param("model { for (i in 1:N) { y[i] ~ dpois(exp(theta)) }\n theta ~ dgamma(1, 1) }",
                 {"y": Y3, "N": 3}, "nonlinearly", id="nonlinear-rate"),
    pytest.param("model { for (i in 1:N) { y[i] ~ dnorm(theta, theta) }\n theta ~ dgamma(1, 1) }",
                 {"y": POS, "N": 3}, "other than", id="in-two-parameters-gamma-prior"),
    pytest.param("model { for (i in 1:N) { y[i] ~ dnorm(theta, theta) }\n theta ~ dnorm(1, 1) }",
                 {"y": POS, "N": 3}, "other than", id="in-two-parameters-normal-prior"),
    pytest.param("model { for (i in 1:N) { y[i] ~ dnorm(theta, 1) T(-5, 5) }\n theta ~ dnorm(0, 1) }",
                 {"y": POS, "N": 3}, "truncated", id="truncated-child"),
    pytest.param("model { for (i in 1:N) { y[i] ~ dpois(exp(theta)) }\n theta ~ dnorm(0, 1) }",
                 {"y": Y3, "N": 3}, "not conjugate", id="poisson-child-normal-prior"),
    pytest.param("model { for (i in 1:N) { y[i] ~ dnorm(exp(theta), 1) }\n theta ~ dnorm(0, 1) }",
                 {"y": POS, "N": 3}, "a linear function of the node", id="normal-child-reads-normal-prior-nonlinearly"),
    pytest.param("model { for (i in 1:N) { y[i] ~ dbin(1 - p, 10) }\n p ~ dbeta(1, 1) }",
                 {"y": Y3, "N": 3}, "p", id="beta-prior-read-through-1-minus-p"),
    pytest.param("model { for (i in 1:N) { y[i] ~ dpois(theta + 1) }\n theta ~ dgamma(1, 1) }",
                 {"y": Y3, "N": 3}, "lambda", id="gamma-prior-read-with-intercept"),
    pytest.param("model { for (i in 1:N) { y[i] ~ dbin(p, 10) }\n p ~ dunif(0, 0.5) }",
                 {"y": [1.0, 2.0, 0.0], "N": 3}, "dunif(0, 1)", id="uniform-not-unit"),
]


@pytest.mark.parametrize("text, data, why", NOT_CONJUGATE)
def test_no_conjugate_sampler_where_the_rule_does_not_hold(text, data, why):
    model = compile_model(text, data=_data(data))
    (plan,) = model.plan().groups
    assert plan.sampler == "slice"
    assert plan.why_not_conjugate, "the compile report must say why no conjugate rule applied"
    assert why in plan.why_not_conjugate
    assert "not conjugate: " + plan.why_not_conjugate in str(model.samplers)


def test_forcing_conjugate_where_no_rule_applies_is_an_error():
    from hiergraph.errors import ModelError
    model = compile_model("model { for (i in 1:N) { y[i] ~ dpois(exp(theta)) }\n theta ~ dgamma(1, 1) }",
                          data=_data({"y": Y3, "N": 3}))
    with pytest.raises(ModelError, match="no conjugate update"):
        model.plan(overrides={"theta": "conjugate"})


SUM_OF_TWO = "model {{ y ~ dpois({rate})\n for (j in 1:2) {{ lam[j] ~ dgamma(1, 1) }} }}"


def _assert_sum_of_two_posterior(draws: np.ndarray, y: float) -> None:
    """y ~ dpois(lam[1] + lam[2]), lam[j] ~ dgamma(1, 1): s = lam[1] + lam[2] ~ Gamma(2, 1) a
    priori and lam[1] / s ~ U(0, 1) independently of s; a posteriori s ~ Gamma(2 + y, 2), so
    E[lam[1] | y] = E[s] / 2 and E[lam[1]^2 | y] = E[s^2] / 3."""
    mean = (2 + y) / 2 / 2
    second = (2 + y) * (3 + y) / 4 / 3
    estimate, mcse = _batch_means(draws)
    assert abs(estimate - mean) < 4 * mcse, (estimate, mean, mcse)
    estimate2, mcse2 = _batch_means(draws ** 2)
    assert abs(estimate2 - second) < 4 * mcse2, (estimate2, second, mcse2)


def test_rate_summing_two_elements_forced_to_slice_has_the_exact_posterior():
    """The reference for the test below: the same posterior by slice sampling."""
    model = compile_model(SUM_OF_TWO.format(rate="lam[1] + lam[2]"), data={"y": 5.0})
    draws = model.draws(chains=8, burn=100, iter=200, seed=11, overrides={"lam[j]": "slice"})
    _assert_sum_of_two_posterior(draws["lam[1]"], 5.0)


@pytest.mark.parametrize("rate", ["lam[1] + lam[2]", "sum(lam[])"])
def test_gamma_prior_with_rate_summing_two_elements_of_the_group(rate):
    model = compile_model(SUM_OF_TWO.format(rate=rate), data={"y": 5.0})
    draws = model.draws(chains=8, burn=100, iter=300, seed=11)
    _assert_sum_of_two_posterior(draws["lam[1]"], 5.0)


def test_reason_for_a_linear_but_not_scale_dependence_does_not_say_nonlinear():
    model = compile_model("model { for (i in 1:N) { y[i] ~ dpois(theta + 1) }\n theta ~ dgamma(1, 1) }",
                          data=_data({"y": Y3, "N": 3}))
    (plan,) = model.plan().groups
    assert "nonlinear" not in plan.why_not_conjugate


def _batch_means(draws: np.ndarray, batch: int = 50):
    """Mean and its Monte Carlo standard error from non-overlapping batch means per chain."""
    draws = np.atleast_2d(draws)
    n = draws.shape[1] // batch * batch
    means = draws[:, :n].reshape(draws.shape[0], -1, batch).mean(axis=2).ravel()
    return float(draws.mean()), float(means.std(ddof=1) / np.sqrt(len(means)))


def test_dirichlet_with_categorical_and_multinomial_children():
    """Dirichlet(alpha) <- dcat: alpha + category counts; <- dmulti: alpha + y. Each component
    of a Dirichlet(a) vector is Beta(a_j, sum(a) - a_j)."""
    model = compile_model("""model {
      for (i in 1:6) { y[i] ~ dcat(p[]) }
      p[1:3] ~ ddirch(alpha[])
      for (g in 1:2) { z[g, 1:3] ~ dmulti(q[g, ], n[g])
                       q[g, 1:3] ~ ddirch(alpha[]) }
    }""", data=_data({"y": [1, 1, 2, 3, 3, 3], "alpha": [1, 2, 3],
                      "z": [[5, 0, 1], [0, 2, 2]], "n": [6, 4]}))
    assert _group_plan(model, "p[1:3]").sampler == "conjugate_dirichlet_categorical"
    assert _group_plan(model, "q[g,1:3]").sampler == "conjugate_dirichlet_multinomial"
    draws = model.draws(chains=4, burn=0, iter=1000, seed=11, monitor=["p", "q"])
    posteriors = {"p": [3.0, 3.0, 6.0], "q[1,": [6.0, 2.0, 4.0], "q[2,": [1.0, 4.0, 5.0]}
    for prefix, alpha in posteriors.items():
        for j, a in enumerate(alpha, start=1):
            label = f"p[{j}]" if prefix == "p" else f"{prefix}{j}]"
            assert_exact_draws(draws[label], stats.beta(a, sum(alpha) - a))
