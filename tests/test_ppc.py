"""Posterior predictive checks: replicates drawn from each draw's parameters, statistics,
p-values, prediction of a missing unit through the spec, and the command line.

Replication is tested without the sampler by handing it draws made up with known values:
the replicates must then follow the observed nodes' distributions exactly."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hiergraph import compile_model
from hiergraph.engine import Draws
from hiergraph.errors import UsageError
from hiergraph.ppc import PredictiveCheck, check, replicate

from checks import KS_LEVEL, assert_exact_draws
from conftest import REPO, run_cli

REGRESSION = """model {
  for (i in 1:N) {
    mu[i] <- a + b * x[i]
    y[i] ~ dnorm(mu[i], 4)
  }
  a ~ dnorm(0, 0.01)
  b ~ dnorm(0, 0.01)
}"""
X = np.array([0.0, 1.0, 2.0, 3.0])


def made_up(labels: list[str], values: list[float], draws: int = 4000) -> Draws:
    """``draws`` saved draws (two chains) with every label at a fixed value."""
    array = np.broadcast_to(np.array(values, float), (2, draws // 2, len(values))).copy()
    return Draws(labels, array, np.arange(draws // 2), 1, 2)


def assert_counts(draws: np.ndarray, exact, top: int) -> None:
    """Independent draws on 0..top against a frozen discrete distribution: a chi-square test
    (KS is not valid for discrete draws), values expected fewer than 5 times lumped together."""
    values = np.arange(top + 1)
    expected = exact.pmf(values) * draws.size
    observed = np.bincount(draws.astype(int).ravel(), minlength=top + 1)
    rare = expected < 5
    expected = np.append(expected[~rare], expected[rare].sum())
    observed = np.append(observed[~rare], observed[rare].sum())
    assert stats.chisquare(observed, expected).pvalue > KS_LEVEL


def test_replicates_follow_each_draws_parameters_through_deterministic_nodes():
    model = compile_model(REGRESSION, data={"N": 4, "x": X, "y": np.zeros(4)})
    copies = replicate(model.graph, made_up(["a", "b"], [1.0, 2.0]), np.random.default_rng(1))["y[i]"]
    assert copies.shape == (4000, 4)
    for i in range(4):  # y[i] ~ N(1 + 2 x[i], sd 1/2)
        assert_exact_draws(copies[:, i], stats.norm(1 + 2 * X[i], 0.5))


def test_only_observed_elements_are_replicated_and_a_missing_unit_is_predicted_by_the_spec():
    """y[3] is missing: the sampler draws it forward (the prediction for a new unit, from
    theta[3] ~ beta(a, b) then y[3] ~ binomial): exactly beta-binomial."""
    spec = "model { for (j in 1:3) { y[j] ~ dbin(theta[j], n[j]); theta[j] ~ dbeta(2, 5) } }"
    model = compile_model(spec, data={"y": np.array([3.0, 7.0, np.nan]), "n": np.full(3, 20.0)})
    draws = model.draws(chains=4, burn=10, iter=500, seed=3, monitor=["theta", "y[3]"])
    assert_counts(draws["y[3]"], stats.betabinom(20, 2, 5), 20)
    copies = replicate(model.graph, draws, np.random.default_rng(2))["y[j]"]
    assert copies.shape == (2000, 2)
    # y_rep[1] given theta[1] ~ beta(2 + 3, 5 + 17): beta-binomial again, pooled over draws
    assert_counts(copies[:, 0], stats.betabinom(20, 5, 22), 20)


def test_p_value_is_the_share_of_replicates_at_or_above_the_data():
    assert PredictiveCheck("y", "max", 3.0, np.array([1.0, 3.0, 4.0, 2.0])).p_value == 0.5


def test_overdispersed_counts_fail_the_poisson_models_sd_check():
    spec = "model { for (i in 1:N) { y[i] ~ dpois(lambda) }\n lambda ~ dgamma(1, 0.1) }"
    y = np.array([0, 0, 1, 0, 40, 35, 0, 52, 1, 0], float)
    model = compile_model(spec, data={"N": len(y), "y": y})
    table = model.ppc(["mean", "sd", "zeros"], chains=2, burn=10, iter=500, seed=4)
    by_stat = {c.statistic: c for c in table}
    assert by_stat["sd"].observed == pytest.approx(np.std(y, ddof=1))
    assert by_stat["sd"].p_value == 0.0 and by_stat["zeros"].p_value == 0.0
    assert 0.05 < by_stat["mean"].p_value < 0.95  # the mean is what the Poisson fits
    assert str(table).splitlines()[0].split()[:2] == ["node", "statistic"]


def test_unknown_statistic_and_incomplete_draws_are_one_clear_error():
    model = compile_model(REGRESSION, data={"N": 4, "x": X, "y": np.zeros(4)})
    with pytest.raises(UsageError, match="unknown statistic 'mode'; choose from mean"):
        check(model.graph, made_up(["a", "b"], [0.0, 0.0]), ["mode"])
    with pytest.raises(UsageError, match="do not monitor all of 'b'"):
        check(model.graph, made_up(["a"], [0.0]), ["mean"])


def test_command_line_prints_the_table_and_refuses_a_bad_statistic():
    spec, data = REPO / "specs" / "rat_tumors_complete_pooling.spec", REPO / "specs" / "rat_tumors.R"
    done = run_cli("ppc", spec, "--data", data, "--stat", "mean,max", "--stat", "zeros",
                   "--chains", 2, "--burn", 10, "--iter", 200, "--seed", 1)
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines()]
    assert [row[:2] for row in rows[1:4]] == [["y[j]", "mean"], ["y[j]", "max"], ["y[j]", "zeros"]]
    bad = run_cli("ppc", spec, "--data", data, "--stat", "mode")
    assert bad.returncode == 1
    assert bad.stderr.strip() == ("error: unknown statistic 'mode'; choose from mean, sd, min, "
                                  "max, median, zeros")
