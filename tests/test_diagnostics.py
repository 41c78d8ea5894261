"""The summary's convergence diagnostics against ArviZ's, which implement the same published
estimators (Vehtari et al. 2021): every value agrees to rounding, on chains of every kind
the summary meets."""

import warnings

import arviz
import numpy as np
import pytest

from hiergraph import diagnostics


def _autoregressive(rng, chains, draws, scalars, phi):
    x = np.zeros((chains, draws, scalars))
    noise = rng.normal(size=x.shape)
    for t in range(1, draws):
        x[:, t] = phi * x[:, t - 1] + noise[:, t]
    return x


def _cases():
    rng = np.random.default_rng(3)
    drifting = rng.normal(size=(2, 200, 2))
    drifting[0, :, 1] += np.linspace(0, 3, 200)  # one chain has not converged
    scaled = rng.normal(size=(4, 400, 1))
    scaled[1] *= 3  # one chain wider than the rest: the folded R-hat sees it
    with_nan = rng.normal(size=(2, 100, 2))
    with_nan[1, 7, 0] = np.nan
    return {
        "sticky": _autoregressive(rng, 4, 1000, 3, 0.9),
        "very sticky": _autoregressive(rng, 2, 2000, 2, 0.99),
        "odd draw count": _autoregressive(rng, 2, 501, 2, 0.5),
        "antithetic": _autoregressive(rng, 3, 50, 2, -0.6),
        "one chain": rng.normal(size=(1, 200, 2)),
        "drifting": drifting,
        "scaled": scaled,
        "discrete with ties": rng.poisson(1.0, size=(2, 300, 3)).astype(float),
        "very short": _autoregressive(rng, 2, 8, 2, 0.3),
        "constant": np.ones((2, 100, 1)),
        "with NaN": with_nan,
    }


CASES = _cases()


@pytest.mark.parametrize("name", list(CASES))
def test_each_diagnostic_agrees_with_arviz(name):
    draws = CASES[name]
    dataset = arviz.convert_to_dataset({"x": draws})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = {"mcse_mean": arviz.mcse(dataset, method="mean"),
                    "ess_bulk": arviz.ess(dataset, method="bulk"),
                    "ess_tail": arviz.ess(dataset, method="tail"),
                    "rhat": arviz.rhat(dataset)}
        for function, reference in expected.items():
            ours = getattr(diagnostics, function)(draws)
            np.testing.assert_allclose(ours, reference["x"].values, rtol=1e-9, equal_nan=True,
                                       err_msg=function)


def test_the_cases_reach_every_branch():
    """The cases above are not all alike: they give an undefined R-hat (one chain, a NaN, a
    constant), one that flags non-convergence, effective sizes above the draw count
    (antithetic chains) and far below it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(diagnostics.rhat(CASES["one chain"])).all()
        assert np.isnan(diagnostics.rhat(CASES["with NaN"])[0]) and not np.isnan(diagnostics.rhat(CASES["with NaN"])[1])
        assert diagnostics.rhat(CASES["drifting"])[1] > 1.1 > diagnostics.rhat(CASES["drifting"])[0]
        assert diagnostics.rhat(CASES["scaled"])[0] > 1.01
        antithetic = CASES["antithetic"]
        assert (diagnostics.ess_bulk(antithetic) > antithetic.shape[0] * antithetic.shape[1]).all()
        assert (diagnostics.ess_bulk(CASES["very sticky"]) < 100).all()
        assert diagnostics.ess_bulk(CASES["constant"])[0] == 200


def test_average_ranks_share_ties():
    ranks = diagnostics._average_ranks(np.array([[3.0, 1.0, 3.0, 2.0, 3.0], [5.0, 4.0, 3.0, 2.0, 1.0]]))
    np.testing.assert_array_equal(ranks, [[4.0, 1.0, 4.0, 2.0, 4.0], [5.0, 4.0, 3.0, 2.0, 1.0]])
