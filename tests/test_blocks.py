"""Block updates of regression coefficients (:mod:`hiergraph.blocks`).

The exact linear-Gaussian block is checked against its closed-form bivariate normal
posterior (independent draws: exact standard errors, KS on the marginals and on a linear
combination, which sees the correlation). The GLM block (independence Metropolis-Hastings)
is checked for each link against posterior means and standard deviations from numerical
integration on a grid, within 4 batch-means Monte Carlo standard errors.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from hiergraph import blocks, compile_model
from hiergraph.compiler import compile_plan
from hiergraph.engine import resolve_monitor, run

from checks import assert_exact_draws
from test_samplers import assert_mcmc_moments, batch_means

X = np.array([10.0, 11.0, 12.0, 13.0, 14.0])  # uncentred: intercept and slope correlate strongly


def _draws(model, monitors, chains, burn, iterations, seed, inits=None, backend="numpy"):
    plan = compile_plan(model.graph, chains)
    return run(model.graph, plan, chains=chains, burn=burn, iterations=iterations, seed=seed,
               inits=inits or [], monitors=[resolve_monitor(model.graph, m) for m in monitors],
               backend=backend)


def _samplers(model, overrides=None) -> dict[str, str]:
    return {p.group.name: p.sampler for p in compile_plan(model.graph, 1, overrides).groups}


def test_linear_gaussian_block_draws_the_exact_bivariate_posterior():
    y = np.array([3.1, 3.9, 5.2, 5.8, 7.1])
    tau, prior = 2.0, 0.01
    model = compile_model(
        "model { for (i in 1:5) { y[i] ~ dnorm(a + b * x[i], 2) }\n"
        " a ~ dnorm(0, 0.01)\n b ~ dnorm(0, 0.01) }", data={"y": y, "x": X})
    assert _samplers(model) == {"a": "conjugate_normal_block", "b": "conjugate_normal_block"}
    design = np.column_stack([np.ones(5), X])
    precision = prior * np.eye(2) + tau * design.T @ design
    covariance = np.linalg.inv(precision)
    mean = covariance @ (tau * design.T @ y)
    draws = _draws(model, ["a", "b"], chains=8, burn=2, iterations=250, seed=11)
    a, b = draws["a"], draws["b"]
    assert_exact_draws(a, stats.norm(mean[0], np.sqrt(covariance[0, 0])))
    assert_exact_draws(b, stats.norm(mean[1], np.sqrt(covariance[1, 1])))
    # a + 12 b is nearly independent of b: its spread is small only if the draws correlate
    combination = np.array([1.0, 12.0])
    assert_exact_draws(a + 12 * b, stats.norm(combination @ mean,
                                              np.sqrt(combination @ covariance @ combination)))


def _logit(eta):
    return special.expit(eta)


def _probit(eta):
    return special.ndtr(eta)


def _cloglog(eta):
    return -np.expm1(-np.exp(eta))


BINOMIAL_Y, BINOMIAL_N = np.array([3.0, 6.0, 9.0, 13.0, 16.0]), 20.0
POISSON_Y = np.array([2.0, 4.0, 3.0, 8.0, 11.0])

# Each chain starts far out in the tails (where the data still have positive probability in
# floating point): the chains must find their way back during burn-in.
FAR, NEAR = {"a": 15.0, "b": -1.0}, {"a": -12.0, "b": 1.0}
GLM_CASES = [
    pytest.param("logit(p[i]) <- a + b * x[i]\n y[i] ~ dbin(p[i], 20)", _logit, "binomial", FAR,
                 id="binomial-logit"),
    pytest.param("probit(p[i]) <- a + b * x[i]\n y[i] ~ dbin(p[i], 20)", _probit, "binomial", FAR,
                 id="binomial-probit"),
    pytest.param("y[i] ~ dbin(icloglog(a + b * x[i]), 20)", _cloglog, "binomial", NEAR,
                 id="binomial-cloglog-inline"),
    pytest.param("log(mu[i]) <- a + b * x[i]\n y[i] ~ dpois(mu[i])", np.exp, "poisson", FAR,
                 id="poisson-log"),
]


def _grid_posterior(inverse_link, family, prior_precision):
    """Posterior means and sds of (a, b), whose prior is normal with mean zero and the 2 x 2
    ``prior_precision``, by summing the unnormalised density on a fine grid around the mode
    (found by a coarse grid first)."""
    y = BINOMIAL_Y if family == "binomial" else POISSON_Y

    def log_density(a, b):
        mean = inverse_link(a[..., None] + b[..., None] * X)
        if family == "binomial":
            with np.errstate(divide="ignore"):
                loglik = (y * np.log(mean) + (BINOMIAL_N - y) * np.log1p(-mean)).sum(axis=-1)
        else:
            loglik = (y * np.log(mean) - mean).sum(axis=-1)
        (paa, pab), (_, pbb) = prior_precision
        return loglik - 0.5 * (paa * a ** 2 + 2 * pab * a * b + pbb * b ** 2)

    centre, width = np.zeros(2), np.array([20.0, 2.0])
    for _ in range(4):  # zoom in on the posterior
        a, b = np.meshgrid(*(np.linspace(c - w, c + w, 401) for c, w in zip(centre, width)),
                           indexing="ij")
        weights = np.exp(log_density(a, b) - np.nanmax(log_density(a, b)))
        weights = np.nan_to_num(weights) / np.nansum(weights)
        means = np.array([(weights * a).sum(), (weights * b).sum()])
        sds = np.sqrt(np.array([(weights * (a - means[0]) ** 2).sum(),
                                (weights * (b - means[1]) ** 2).sum()]))
        centre, width = means, 8 * sds
    return means, sds


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("statements, inverse_link, family, start", GLM_CASES)
def test_glm_block_matches_numerical_integration(statements, inverse_link, family, start, backend):
    """Both backends: the numba backend compiles the block (hiergraph.jit.blockcode)."""
    if backend == "numba":
        pytest.importorskip("numba")
    y = BINOMIAL_Y if family == "binomial" else POISSON_Y
    model = compile_model(
        f"model {{ for (i in 1:5) {{ {statements} }}\n a ~ dnorm(0, 0.01)\n b ~ dnorm(0, 0.01) }}",
        data={"y": y, "x": X})
    assert _samplers(model) == {"a": "glm_iwls_block", "b": "glm_iwls_block"}
    means, sds = _grid_posterior(inverse_link, family, 0.01 * np.eye(2))
    draws = _draws(model, ["a", "b"], chains=4, burn=100, iterations=1500, seed=5, inits=[start],
                   backend=backend)
    for name, mean, sd in zip("ab", means, sds):
        assert_mcmc_moments(draws[name], mean, sd ** 2, batch=50, min_ess_fraction=0.2)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_glm_block_with_a_multivariate_normal_prior_matches_numerical_integration(backend):
    """A dmnorm prior whose precision couples the coefficients, in the GLM block's prior terms."""
    if backend == "numba":
        pytest.importorskip("numba")
    precision = np.array([[0.5, 0.3], [0.3, 0.4]])
    model = compile_model("model { for (i in 1:5) { logit(p[i]) <- beta[1] + beta[2] * x[i]\n"
                          " y[i] ~ dbin(p[i], 20) }\n beta[1:2] ~ dmnorm(m0[], P[,]) }",
                          data={"y": BINOMIAL_Y, "x": X, "m0": np.zeros(2), "P": precision})
    assert _samplers(model) == {"beta[1:2]": "glm_iwls_block"}
    means, sds = _grid_posterior(_logit, "binomial", precision)
    draws = _draws(model, ["beta"], chains=4, burn=100, iterations=1500, seed=5, backend=backend)
    for k, (mean, sd) in enumerate(zip(means, sds), start=1):
        assert_mcmc_moments(draws[f"beta[{k}]"], mean, sd ** 2, batch=50, min_ess_fraction=0.2)


def test_plan_reports_the_block_and_leaves_out_what_cannot_join():
    data = {"y": BINOMIAL_Y, "x": X}
    joint = compile_model("model { for (i in 1:5) { logit(p[i]) <- a + b * x[i] + c * x[i] * x[i]\n"
                          " y[i] ~ dbin(p[i], 20) }\n a ~ dnorm(0, 1)\n b ~ dnorm(0, 1)\n"
                          " c ~ dnorm(0, 1) T(0, ) }", data=data)
    assert _samplers(joint) == {"a": "glm_iwls_block", "b": "glm_iwls_block", "c": "slice"}
    report = str(compile_plan(joint.graph, 1))
    assert "one block with b" in report and "one block with a" in report
    # forcing a sampler on a member takes it out of the block, and a lone member is no block
    assert _samplers(joint, {"a": "slice"}) == {"a": "slice", "b": "slice", "c": "slice"}
    # a product of two coefficients is not linear in the block
    product = compile_model("model { for (i in 1:5) { logit(p[i]) <- a * b * x[i]\n"
                            " y[i] ~ dbin(p[i], 20) }\n a ~ dnorm(0, 1)\n b ~ dnorm(0, 1) }",
                            data=data)
    assert _samplers(product) == {"a": "slice", "b": "slice"}


def test_independent_random_effects_are_not_blocked():
    """Each child reads one element: a block would gain nothing over one array step."""
    model = compile_model("model { for (j in 1:5) { logit(p[j]) <- u[j]\n y[j] ~ dbin(p[j], 20)\n"
                          " u[j] ~ dnorm(0, 1) } }", data={"y": BINOMIAL_Y})
    assert _samplers(model) == {"u[j]": "slice"}


P0 = np.array([[0.1, 0.02], [0.02, 0.1]])


def _assert_bivariate(draws, name, mean, covariance):
    """Independent draws of a 2-vector against N(mean, covariance): both marginals and the
    difference of the components, whose spread depends on the correlation."""
    first, second = draws[f"{name}[1]"], draws[f"{name}[2]"]
    for values, weights in ((first, (1, 0)), (second, (0, 1)), (first - second, (1, -1))):
        w = np.array(weights, float)
        assert_exact_draws(values, stats.norm(w @ mean, np.sqrt(w @ covariance @ w)))


def test_multivariate_normal_prior_with_regression_children_is_one_exact_block():
    design = np.column_stack([np.ones(5), X])
    y = np.array([6.2, 6.4, 7.3, 7.4, 8.1])
    model = compile_model("model { for (i in 1:5) { y[i] ~ dnorm(inprod(beta[], Z[i,]), 2) }\n"
                          " beta[1:2] ~ dmnorm(m0[], P0[,]) }",
                          data={"y": y, "Z": design, "m0": np.array([1.0, -1.0]), "P0": P0})
    assert _samplers(model) == {"beta[1:2]": "conjugate_normal_block"}
    precision = P0 + 2 * design.T @ design
    covariance = np.linalg.inv(precision)
    mean = covariance @ (P0 @ np.array([1.0, -1.0]) + 2 * design.T @ y)
    _assert_bivariate(_draws(model, ["beta"], chains=8, burn=2, iterations=250, seed=3),
                      "beta", mean, covariance)


def test_multivariate_normal_prior_with_multivariate_normal_children():
    y = np.array([[1.2, 2.5], [0.4, 1.1], [1.9, 2.8], [0.8, 2.2]])
    omega = np.array([[2.0, -0.6], [-0.6, 1.0]])
    model = compile_model("model { for (i in 1:4) { y[i, 1:2] ~ dmnorm(mu[], omega[,]) }\n"
                          " mu[1:2] ~ dmnorm(m0[], P0[,]) }",
                          data={"y": y, "omega": omega, "m0": np.zeros(2), "P0": P0})
    assert _samplers(model) == {"mu[1:2]": "conjugate_normal_block"}
    precision = P0 + 4 * omega
    covariance = np.linalg.inv(precision)
    mean = covariance @ (omega @ y.sum(axis=0))
    _assert_bivariate(_draws(model, ["mu"], chains=8, burn=2, iterations=250, seed=4),
                      "mu", mean, covariance)


VARYING_SLOPES = """model {
  for (i in 1:N) {
    m[i] <- b[g[i], 1] + b[g[i], 2] * x[i]
    y[i] ~ dnorm(m[i], 2)
  }
  for (j in 1:J) { b[j, 1:2] ~ dmnorm(mu[], Omega[, ]) }
}"""


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_many_independent_groups_are_drawn_in_blocks_of_whole_groups(backend):
    """70 groups' intercepts and slopes (140 coordinates, more than blocks.CHUNK_COORDINATES):
    each group's pair shares children with no other, so they are drawn in two blocks of
    whole pairs, each pair from its exact bivariate posterior. Each block recomputes only
    the means its pairs feed."""
    if backend == "numba":
        pytest.importorskip("numba")
    rng = np.random.default_rng(8)
    groups, per_group = 70, 3
    g = np.repeat(np.arange(1, groups + 1), per_group)
    x = rng.normal(3.0, 1.0, g.size)  # uncentred: each pair's posterior is strongly correlated
    mu, omega = np.array([1.0, -0.5]), np.array([[2.0, 0.8], [0.8, 3.0]])
    y = 1.0 - 0.5 * x + rng.normal(0, 1, g.size)
    model = compile_model(VARYING_SLOPES, data={"N": g.size, "J": groups, "g": g, "x": x, "y": y,
                                                "mu": mu, "Omega": omega})
    plan = compile_plan(model.graph, 2)
    assert 2 * groups > blocks.CHUNK_COORDINATES
    assert [(p.sampler, len(p.steps)) for p in plan.groups] == [("conjugate_normal_block", 2)]
    draws = _draws(model, ["b"], chains=2, burn=2, iterations=500, seed=6, backend=backend)
    for j in (1, 40, 70):  # the first and the last group in the second block
        rows = g == j
        design = np.column_stack([np.ones(rows.sum()), x[rows]])
        precision = omega + 2 * design.T @ design
        covariance = np.linalg.inv(precision)
        mean = covariance @ (omega @ mu + 2 * design.T @ y[rows])
        _assert_bivariate({f"b[{k}]": draws[f"b[{j},{k}]"] for k in (1, 2)}, "b", mean, covariance)


def test_wishart_precision_of_multivariate_normal_children():
    """Posterior Wishart(R + S, k + n): each entry's mean k' (R + S)^-1 and the Wishart
    variance of entry (i, j), k' (V_ij^2 + V_ii V_jj) with V = (R + S)^-1."""
    y = np.array([[1.2, 2.5], [0.4, 1.1], [1.9, 2.8], [0.8, 2.2], [1.5, 1.9]])
    mu, scale = np.array([1.0, 2.0]), np.array([[1.0, 0.3], [0.3, 2.0]])
    model = compile_model("model { for (i in 1:5) { y[i, 1:2] ~ dmnorm(mu[], Omega[,]) }\n"
                          " Omega[1:2, 1:2] ~ dwish(R[,], 3) }",
                          data={"y": y, "mu": mu, "R": scale})
    assert _samplers(model) == {"Omega[1:2,1:2]": "conjugate_wishart_mnormal"}
    residual = y - mu
    posterior = np.linalg.inv(scale + residual.T @ residual)
    degrees = 3 + 5
    draws = _draws(model, ["Omega"], chains=8, burn=2, iterations=500, seed=6)
    for i, j in ((1, 1), (2, 1), (2, 2)):
        values = draws[f"Omega[{i},{j}]"].ravel()
        mean = degrees * posterior[i - 1, j - 1]
        var = degrees * (posterior[i - 1, j - 1] ** 2 + posterior[i - 1, i - 1] * posterior[j - 1, j - 1])
        assert abs(values.mean() - mean) < 4 * np.sqrt(var / len(values)), (i, j, values.mean(), mean)
    # Omega[1,1] alone is (V_11) x chi-squared(k'): the exact marginal
    assert_exact_draws(draws["Omega[1,1]"], stats.gamma(degrees / 2, scale=2 * posterior[0, 0]))


GLMM = """model {
  for (j in 1:12) {
    u[j] ~ dnorm(0, 1)
    for (k in 1:2) {
      log(mu[j, k]) <- a + b * x[j] + u[j] + e[j, k]
      y[j, k] ~ dpois(mu[j, k])
      e[j, k] ~ dnorm(0, 4)
    }
  }
  a ~ dnorm(0, 0.01)
  b ~ dnorm(0, 0.01)
}"""


def _glmm():
    rng = np.random.default_rng(3)
    x = np.linspace(1.0, 3.0, 12)
    y = rng.poisson(np.exp(0.5 + 0.3 * x[:, None] + rng.normal(0, 1, (12, 1)) + rng.normal(0, 0.5, (12, 2))))
    return compile_model(GLMM, data={"x": x, "y": y.astype(float)})


GLMM_NAMES = ["a", "b", "u[1]"]


@pytest.fixture(scope="module")
def glmm_whole_block_draws():
    """The GLMM by the whole block's move alone (its followers never run), numpy engine."""
    from hiergraph import blocks
    kept = blocks.FOLLOW_BELOW
    blocks.FOLLOW_BELOW = 0.0
    try:
        return _draws(_glmm(), GLMM_NAMES, chains=4, burn=200, iterations=4000, seed=8)
    finally:
        blocks.FOLLOW_BELOW = kept


@pytest.mark.parametrize("backend, iterations", [("numpy", 800), ("numba", 4000)])
def test_glm_block_follow_up_splits_fixed_from_random_effects(backend, iterations, monkeypatch,
                                                              glmm_whole_block_draws):
    """The fixed effects couple every subject's effects: after the whole block's move, the
    two are moved again each given the other (subjects independently). With those moves
    forced on, the posterior agrees with that of the whole block's move alone (itself
    checked against numerical integration above)."""
    from hiergraph import blocks
    monkeypatch.setattr(blocks, "FOLLOW_BELOW", 2.0)  # always follow
    if backend == "numba":
        pytest.importorskip("numba")
        from hiergraph.jit import blockcode
        monkeypatch.setattr(blockcode, "FOLLOW_BELOW", 2.0)
    model = _glmm()
    plan = compile_plan(model.graph, 1)
    (block,) = [s for s in plan.steps if s.name == "glm_iwls_block"]
    assert [sorted(m.group.name for m in f.members) for f in block.followers] == [["a", "b"], ["e[j,k]", "u[j]"]]
    assert "again with b given the rest" in str(plan)
    split = _draws(model, GLMM_NAMES, chains=4, burn=200, iterations=iterations, seed=9, backend=backend)
    for name in GLMM_NAMES:
        (mine, mine_se, _), (whole, whole_se, _) = (batch_means(d[name], 100)
                                                   for d in (split, glmm_whole_block_draws))
        assert abs(mine - whole) < 4 * np.hypot(mine_se, whole_se), (name, mine, whole)


@pytest.mark.parametrize("follow_below", [0.6, 2.0])
def test_followers_of_a_block_that_accepts_often_stop_early_in_the_burn_in(monkeypatch, follow_below):
    """A two-coefficient logistic block accepts far more often than FOLLOW_BELOW: its
    componentwise followers run on its first DECIDE_EARLY_AFTER - 1 burn-in updates and not
    after (the decision is made at that update); a block held below the threshold keeps
    them on every sweep of the 300 burn-in and 100 kept sweeps."""
    from hiergraph import blocks, samplers

    monkeypatch.setattr(blocks, "FOLLOW_BELOW", follow_below)
    calls = []
    update = samplers.SliceStep.update

    def counted_update(self, *args):
        calls.append(self)
        return update(self, *args)

    monkeypatch.setattr(samplers.SliceStep, "update", counted_update)
    model = compile_model(
        "model { for (i in 1:5) { logit(p[i]) <- a + b * x[i]\n y[i] ~ dbin(p[i], 20) }\n"
        " a ~ dnorm(0, 0.01)\n b ~ dnorm(0, 0.01) }", data={"y": BINOMIAL_Y, "x": X})
    plan = compile_plan(model.graph, 2)
    (block,) = plan.steps
    assert len(block.followers) == 2
    run(model.graph, plan, chains=2, burn=300, iterations=100, seed=3, inits=[NEAR],
        monitors=[resolve_monitor(model.graph, "a")])
    followed = blocks.DECIDE_EARLY_AFTER - 1 if follow_below < 1 else 300 + 100
    assert len(calls) == followed * len(block.followers)
    assert block.accepted.min() / block.updates > 0.6
