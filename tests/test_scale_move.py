"""The scale group move (:mod:`hiergraph.scale_move`): random effects and their scale moved
jointly. Normal data make the scale's posterior a one-dimensional integral
(``y[i] ~ N(0, 1 + sigma^2)`` marginally); the effects are forced to slice sampling so the
move is in play, and the draws must match the integral within 4 batch-means MCSE."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hiergraph import compile_model
from hiergraph.compiler import compile_plan
from hiergraph.engine import resolve_monitor, run
from hiergraph.scale_move import ScaleGroupStep

from test_samplers import assert_mcmc_moments

Y = np.array([2.1, -0.4, 3.3, 1.2, -2.5, 0.7])


def _posterior_moments(log_prior, grid, scale_sd):
    """Mean and variance on a grid of a scale with ``y[i] ~ N(0, 1 + scale_sd(grid)^2)``."""
    log_density = log_prior(grid) + sum(stats.norm.logpdf(y, 0, np.sqrt(1 + scale_sd(grid) ** 2)) for y in Y)
    weights = np.exp(log_density - log_density.max())
    weights /= weights.sum()
    mean = (weights * grid).sum()
    return mean, (weights * (grid - mean) ** 2).sum()


def _draws(text, monitor, seed, backend):
    if backend == "numba":
        pytest.importorskip("numba")
    model = compile_model(text, data={"y": Y})
    plan = compile_plan(model.graph, 4, overrides={"b[i]": "slice"})
    assert any(isinstance(s, ScaleGroupStep) for s in plan.steps)
    return run(model.graph, plan, chains=4, burn=300, iterations=3000, seed=seed,
               monitors=[resolve_monitor(model.graph, monitor)], backend=backend)[monitor]


BACKENDS = pytest.mark.parametrize("backend", ["numpy", "numba"])  # numba: hiergraph.jit.scalecode


@BACKENDS
def test_standard_deviation_with_uniform_prior(backend):
    text = ("model { for (i in 1:6) { y[i] ~ dnorm(b[i], 1)\n b[i] ~ dnorm(0, tau) }\n"
            " tau <- pow(sigma, -2)\n sigma ~ dunif(0, 5) }")
    grid = np.linspace(1e-4, 5, 20001)
    mean, var = _posterior_moments(lambda s: np.zeros_like(s), grid, lambda s: s)
    assert_mcmc_moments(_draws(text, "sigma", seed=31, backend=backend), mean, var, batch=50)


@BACKENDS
def test_precision_with_gamma_prior(backend):
    text = ("model { for (i in 1:6) { y[i] ~ dnorm(b[i], 1)\n b[i] ~ dnorm(0, tau) }\n"
            " tau ~ dgamma(2, 1) }")
    grid = np.linspace(1e-4, 30, 60001)
    mean, var = _posterior_moments(lambda t: stats.gamma.logpdf(t, 2), grid, lambda t: 1 / np.sqrt(t))
    assert_mcmc_moments(_draws(text, "tau", seed=32, backend=backend), mean, var, batch=50)


def test_plan_names_the_move_and_leaves_it_out_where_it_does_not_apply():
    text = ("model { for (i in 1:6) { y[i] ~ dnorm(b[i], 1)\n b[i] ~ dnorm(0, tau) }\n"
            " tau <- pow(sigma, -2)\n sigma ~ dunif(0, 5) EXTRA }")
    report = str(compile_plan(compile_model(text.replace("EXTRA", ""), data={"y": Y}).graph, 1,
                              overrides={"b[i]": "slice"}))
    assert "then moved jointly with b[i]" in report
    # b[i] conjugate and sigma collapsed over it: no move needed
    plan = compile_plan(compile_model(text.replace("EXTRA", ""), data={"y": Y}).graph, 1)
    assert not any(isinstance(s, ScaleGroupStep) for s in plan.steps)
    # a node drawn forward from the prior is no part of the MCMC target
    plan = compile_plan(compile_model(text.replace("EXTRA", "z ~ dnorm(0, tau)"), data={"y": Y}).graph,
                        1, overrides={"b[i]": "slice"})
    assert any(isinstance(s, ScaleGroupStep) for s in plan.steps)
    # sigma also scales another child: the move would have to move it too
    plan = compile_plan(compile_model(text.replace("EXTRA", "z ~ dnorm(0, tau)"), data={"y": Y, "z": 1.0}).graph,
                        1, overrides={"b[i]": "slice"})
    assert not any(isinstance(s, ScaleGroupStep) for s in plan.steps)
