"""Collapsed hyperparameter updates (:mod:`hiergraph.collapsed`): the hyperparameters' posterior
means, and a layer element's, against numerical integration of the closed-form marginal
likelihood on a grid, within 4 batch-means Monte Carlo standard errors."""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from hiergraph import compile_model
from hiergraph.compiler import compile_plan
from hiergraph.engine import resolve_monitor, run

from test_samplers import assert_mcmc_moments


def _draws(model, monitors, seed):
    plan = compile_plan(model.graph, 4)
    return run(model.graph, plan, chains=4, burn=200, iterations=2000, seed=seed,
               monitors=[resolve_monitor(model.graph, m) for m in monitors])


def _samplers(model) -> dict[str, str]:
    return {p.group.name: p.sampler for p in compile_plan(model.graph, 1).groups}


def _moments(log_density, values):
    """Posterior mean and variance of ``values`` (an array on the grid) by summation."""
    weights = np.exp(log_density - log_density.max())
    weights /= weights.sum()
    mean = (weights * values).sum()
    return mean, (weights * (values - mean) ** 2).sum()


def test_beta_binomial_hyperparameters_with_the_layer_integrated_out():
    y = np.array([0.0, 2.0, 1.0, 5.0, 3.0, 4.0, 1.0, 9.0])
    n = np.array([14.0, 20.0, 18.0, 25.0, 19.0, 22.0, 10.0, 30.0])
    model = compile_model("model { for (j in 1:8) { y[j] ~ dbin(theta[j], n[j])\n"
                          " theta[j] ~ dbeta(a, b) }\n phi ~ dunif(0, 1)\n s ~ dunif(0.05, 1)\n"
                          " a <- phi / pow(s, 2)\n b <- (1 - phi) / pow(s, 2) }", data={"y": y, "n": n})
    assert _samplers(model) == {"theta[j]": "conjugate_beta_binomial", "phi": "collapsed_slice",
                                "s": "collapsed_slice"}
    phi, s = np.meshgrid(np.linspace(0.0005, 0.9995, 500), np.linspace(0.0505, 0.9995, 500), indexing="ij")
    a, b = phi / s ** 2, (1 - phi) / s ** 2
    log_marginal = sum(special.betaln(a + yj, b + nj - yj) - special.betaln(a, b) for yj, nj in zip(y, n))
    # theta[4]'s posterior mean is E[(a + y4) / (a + b + n4)] over the hyperparameters
    targets = {"phi": phi, "s": s, "theta[4]": (a + y[3]) / (a + b + n[3])}
    draws = _draws(model, list(targets), seed=21)
    for label, values in targets.items():
        mean, var = _moments(log_marginal, values)
        if label == "theta[4]":  # the draws' variance adds theta's own spread given (a, b)
            var += _moments(log_marginal, (a + y[3]) * (b + n[3] - y[3]) /
                            ((a + b + n[3]) ** 2 * (a + b + n[3] + 1)))[0]
        assert_mcmc_moments(draws[label], mean, var, batch=50)


def test_normal_normal_hierarchy_scale_with_the_effects_integrated_out():
    """Eight schools (Rubin 1981): y[j] ~ N(theta[j], sigma[j]^2), theta[j] ~ N(mu, tau^2);
    marginally y[j] ~ N(mu, sigma[j]^2 + tau^2)."""
    y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
    sigma = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])
    model = compile_model("model { for (j in 1:8) { y[j] ~ dnorm(theta[j], pow(sigma[j], -2))\n"
                          " theta[j] ~ dnorm(mu, pow(tau, -2)) }\n mu ~ dnorm(0, 1.0E-4)\n"
                          " tau ~ dunif(0, 30) }", data={"y": y, "sigma": sigma})
    assert _samplers(model)["tau"] == "collapsed_slice"
    mu, tau = np.meshgrid(np.linspace(-40, 50, 451), np.linspace(0.01, 30, 450), indexing="ij")
    log_density = (stats.norm.logpdf(mu, 0, 100)
                   + sum(stats.norm.logpdf(yj, mu, np.sqrt(sj ** 2 + tau ** 2)) for yj, sj in zip(y, sigma)))
    draws = _draws(model, ["mu", "tau"], seed=22)
    for label, values in (("mu", mu), ("tau", tau)):
        mean, var = _moments(log_density, values)
        assert_mcmc_moments(draws[label], mean, var, batch=50)


def test_gamma_poisson_shape_with_the_rates_integrated_out():
    y = np.array([5.0, 1.0, 5.0, 14.0, 3.0, 19.0, 1.0, 1.0, 4.0, 22.0])
    exposure = np.array([94.3, 15.7, 62.9, 126.0, 5.24, 31.4, 1.05, 1.05, 2.1, 10.5])  # pump
    model = compile_model("model { for (i in 1:10) { y[i] ~ dpois(theta[i] * t[i])\n"
                          " theta[i] ~ dgamma(alpha, 1) }\n alpha ~ dexp(1) }",
                          data={"y": y, "t": exposure})
    assert _samplers(model) == {"theta[i]": "conjugate_gamma_poisson", "alpha": "collapsed_slice"}
    alpha = np.linspace(0.001, 6, 3000)
    # negative binomial marginal: Gamma(alpha + y) / Gamma(alpha) / (1 + t)^(alpha + y)
    log_density = -alpha + sum(special.gammaln(alpha + yi) - special.gammaln(alpha)
                               - (alpha + yi) * np.log1p(ti) for yi, ti in zip(y, exposure))
    mean, var = _moments(log_density, alpha)
    assert_mcmc_moments(_draws(model, ["alpha"], seed=23)["alpha"], mean, var, batch=50)


def _conjugate_step(model, chains, group):
    """The model's conjugate step for ``group`` and a state at the initial values."""
    from hiergraph.conjugacy import ConjugateStep
    from hiergraph.engine import initialise
    from hiergraph.state import State

    plan = compile_plan(model.graph, chains)
    step = next(s for p in plan.groups for s in p.steps if isinstance(s, ConjugateStep) and s.group.name == group)
    state = State(model.graph, chains)
    initialise(model.graph, state, [])
    return step, state


def test_beta_binomial_marginal_computed_once_per_class_of_equal_rows():
    """Rows with equal (y, n) under the same (a, b) share one marginal; the per-row values
    must still be each row's own log B(a + y, b + n - y) - log B(a, b), in every chain."""
    y = np.array([1.0, 1.0, 3.0, 1.0, 3.0, 0.0, 1.0, 1.0])
    n = np.array([10.0, 10.0, 12.0, 10.0, 12.0, 10.0, 10.0, 11.0])
    g = np.array([1, 1, 1, 2, 2, 2, 1, 2])
    model = compile_model("model { for (j in 1:8) { y[j] ~ dbin(theta[j], n[j])\n"
                          " theta[j] ~ dbeta(a[g[j]], b[g[j]]) }\n"
                          " for (k in 1:2) { a[k] ~ dexp(1)\n b[k] ~ dexp(1) } }",
                          data={"y": y, "n": n, "g": g})
    step, state = _conjugate_step(model, 3, "theta[j]")
    state.values["a"][:] = [[0.5, 2.0], [1.5, 0.7], [3.0, 3.0]]
    state.values["b"][:] = [[4.0, 1.0], [2.5, 6.0], [0.2, 9.0]]
    marginal = step.log_marginal(state)
    representatives = step.marginal_classes(state).representatives
    # (y, n, group): (1,10,1) for j = 1, 2, 7; (3,12,1); (1,10,2); (3,12,2); (0,10,2); (1,11,2)
    assert len(representatives) == 6
    a = state.values["a"][:, g - 1]
    b = state.values["b"][:, g - 1]
    expected = special.betaln(a + y, b + n - y) - special.betaln(a, b)
    np.testing.assert_allclose(marginal, expected, rtol=1e-12)


def test_marginal_classes_under_one_shared_prior_bind_it_for_one_row():
    """Where every row has the same prior (``dbeta(a, b)``), the classes evaluate it at one
    row and broadcast; each row's marginal must still be its own closed form, per chain."""
    y = np.array([1.0, 1.0, 3.0, 0.0, 3.0])
    n = np.array([10.0, 10.0, 12.0, 10.0, 12.0])
    model = compile_model("model { for (j in 1:5) { y[j] ~ dbin(theta[j], n[j])\n"
                          " theta[j] ~ dbeta(a, b) }\n a ~ dexp(1)\n b ~ dexp(1) }",
                          data={"y": y, "n": n})
    step, state = _conjugate_step(model, 2, "theta[j]")
    state.values["a"][:] = [[0.5], [3.0]]
    state.values["b"][:] = [[4.0], [0.2]]
    classes = step.marginal_classes(state)
    assert classes.param_rows == 1 and len(classes.representatives) == 3
    a, b = state.values["a"], state.values["b"]
    expected = special.betaln(a + y, b + n - y) - special.betaln(a, b)
    np.testing.assert_allclose(step.log_marginal(state), expected, rtol=1e-12)


def test_conjugate_increments_follow_a_latent_child_precision():
    """The children's sufficient statistics are summed once only when the data fix them: a
    latent child precision must be read afresh at every update."""
    y = np.array([1.0, 2.5, -0.5])
    model = compile_model("model { for (i in 1:3) { y[i] ~ dnorm(mu, tau) }\n"
                          " mu ~ dnorm(0, 0.5)\n tau ~ dgamma(2, 1) }", data={"y": y})
    step, state = _conjugate_step(model, 2, "mu")
    for tau in (0.3, 4.0):
        state.values["tau"][:] = tau
        _, (weighted, precision) = step.posterior(state)
        np.testing.assert_allclose(precision, 0.5 + 3 * tau)
        np.testing.assert_allclose(weighted, tau * y.sum())


def test_layer_drawn_once_per_sweep_where_collapsed_steps_follow_each_other():
    """Rat tumours: theta's own draw and phi's redraw of theta are superseded by s's redraw
    before anything reads theta; a draw that a step reads is kept."""
    from hiergraph.collapsed import CollapsedSliceStep
    from hiergraph.conjugacy import ConjugateStep
    from hiergraph.samplers import SliceStep

    text = ("model { for (j in 1:4) { y[j] ~ dbin(theta[j], 20)\n theta[j] ~ dbeta(a, b) }\n"
            " phi ~ dunif(0, 1)\n s ~ dunif(0.05, 1)\n a <- phi / pow(s, 2)\n b <- (1 - phi) / pow(s, 2)\n")
    y = np.array([1.0, 4.0, 2.0, 7.0])
    steps = compile_plan(compile_model(text + "}", data={"y": y}).graph, 1).steps
    assert [(type(s), s.group.name) for s in steps] == [(CollapsedSliceStep, "phi"), (CollapsedSliceStep, "s")]
    assert [s.deferred for s in steps] == [{"theta[j]"}, set()]
    # m's blanket reads theta[1] (through z): theta's own draw before it stays
    steps = compile_plan(compile_model(text + " z ~ dbin(theta[1], m)\n m ~ dpois(s * 10) }",
                                       data={"y": y, "z": 3}).graph, 1).steps
    assert [(type(s), s.group.name) for s in steps] == [
        (ConjugateStep, "theta[j]"), (SliceStep, "m"), (CollapsedSliceStep, "phi"), (CollapsedSliceStep, "s")]
    assert [s.deferred for s in steps[2:]] == [{"theta[j]"}, set()]
