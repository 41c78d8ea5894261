"""The numba backend (hiergraph.jit): its kernels against their numpy twins, the generated
module's deviance against the numpy engine's, draws against exact distributions, and the
choice between backends. Whole sweeps are checked by simulation-based calibration
(tests/test_calibration.py, ``test_simulation_based_calibration_compiled``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("numba")

from hiergraph.api import compile_model  # noqa: E402
from hiergraph.distributions import DISTRIBUTIONS  # noqa: E402
from hiergraph.engine import compiled_sweep, default_monitors, deviance, initialise, resolve_monitor, run  # noqa: E402
from hiergraph.errors import UsageError  # noqa: E402
from hiergraph.functions import FUNCTIONS  # noqa: E402
from hiergraph import blocks  # noqa: E402
from hiergraph.jit import blockcode, expressions, runner, scalar  # noqa: E402
from hiergraph.state import State  # noqa: E402

from checks import assert_exact_draws, assert_exact_frequencies  # noqa: E402
from test_samplers import assert_mcmc_moments  # noqa: E402

from conftest import REPO  # noqa: E402

REPO_RAT_TUMOURS, REPO_RAT_DATA = REPO / "specs" / "rat_tumors.spec", REPO / "specs" / "rat_tumors.R"
VALUES = [-1.5, 0.0, 0.3, 1.0, 2.0, 2.5, 7.0, math.inf, math.nan]
# parameter values per distribution: valid ones, and invalid ones (which give -inf)
PARAMETERS = {
    "dnorm": [(0.5, 2.0), (-1.0, 0.1), (0.0, 0.0), (0.0, -1.0)],
    "dt": [(0.5, 2.0, 3.0), (0.0, 1.0, 0.5), (0.0, 1.0, 0.0)],
    "dlogis": [(0.5, 2.0), (0.0, -1.0)],
    "ddexp": [(0.5, 2.0), (0.0, 0.0)],
    "dlnorm": [(0.5, 2.0), (0.0, -1.0)],
    "dgamma": [(2.0, 3.0), (0.5, 1.0), (1.0, 2.0), (0.0, 1.0)],
    "dexp": [(2.0,), (-1.0,)],
    "dchisqr": [(3.0,), (1.0,), (0.0,)],
    "dweib": [(2.0, 0.5), (0.7, 1.0), (1.0, -1.0)],
    "dpar": [(2.0, 1.0), (0.5, 0.2), (1.0, 0.0)],
    "dbeta": [(2.0, 3.0), (0.5, 0.5), (0.0, 1.0)],
    "dunif": [(0.0, 1.0), (-2.0, 2.5), (1.0, 1.0)],
    "dbern": [(0.3,), (1.0,), (1.5,)],
    "dbin": [(0.3, 7.0), (0.0, 2.0), (0.3, 2.5), (-0.1, 3.0)],
    "dpois": [(2.5,), (0.0,), (-1.0,)],
    "dnegbin": [(0.3, 2.0), (0.5, 0.0), (1.0, 3.0), (0.0, 2.0)],
    "dflat": [()],
}


def _numpy_log_density(name, x, params):
    """What ``State.log_density`` makes of the registry's logpdf: nan is -inf."""
    with np.errstate(all="ignore"):
        value = float(DISTRIBUTIONS[name].logpdf(x, *params))
    return -math.inf if math.isnan(value) else value


def test_every_compiled_distribution_has_its_cases_here():
    assert set(PARAMETERS) == set(expressions.SUPPORT)


@pytest.mark.parametrize("name", sorted(PARAMETERS))
def test_log_density_kernels_match_the_registry(name):
    kernel = getattr(scalar, f"lp_{name}")
    for params in PARAMETERS[name]:
        for x in VALUES:
            expected = _numpy_log_density(name, x, params)
            got = kernel(x, *params)
            assert got == pytest.approx(expected, rel=1e-11, abs=1e-12), (name, x, params, got, expected)


@pytest.mark.parametrize("family", sorted(blockcode.FAMILY_KERNELS))
def test_glm_kernels_match_the_block_families(family):
    """Each GLM block child's (log likelihood, Fisher weight, score) against blocks' numpy twin,
    far into both tails of the linear predictor."""
    kernel = getattr(scalar, blockcode.FAMILY_KERNELS[family])
    for eta in (-40.0, -3.0, -0.5, 0.0, 0.7, 4.0, 40.0):
        for y, size in ((0.0, 1.0), (1.0, 1.0), (3.0, 10.0), (10.0, 10.0)):
            with np.errstate(all="ignore"):
                expected = [float(v) for v in getattr(blocks, f"_{family}")(np.array(eta), np.array(y), size)]
            got = kernel(eta, y, size)
            assert got == pytest.approx(expected, rel=1e-10, abs=1e-300), (family, eta, y, size, got, expected)


FUNCTION_POINTS = [-3.0, -0.5, 0.0, 0.2, 0.5, 1.0, 2.5, 40.0, -800.0, math.nan]


@pytest.mark.parametrize("name", sorted(n for n, f in expressions.FUNCTION_KERNELS.items() if f.startswith("fn_")))
def test_function_kernels_match_the_registry(name):
    kernel = getattr(scalar, expressions.FUNCTION_KERNELS[name].split("(")[0])
    for x in FUNCTION_POINTS:
        with np.errstate(all="ignore"):
            expected = float(FUNCTIONS[name].compute(np.array(x)))
        got = kernel(x)
        if math.isnan(expected):
            assert math.isnan(got), (name, x, got)
        else:
            assert got == pytest.approx(expected, rel=1e-12, abs=1e-300), (name, x, got, expected)


DRAWN = {"dnorm": (0.5, 2.0), "dt": (0.5, 2.0, 4.0), "dlogis": (0.5, 2.0), "ddexp": (-1.0, 3.0),
         "dlnorm": (0.2, 4.0), "dgamma": (2.5, 3.0), "dexp": (2.0,), "dchisqr": (3.0,),
         "dweib": (2.0, 0.5), "dpar": (6.0, 1.5), "dbeta": (2.0, 3.0), "dunif": (-2.0, 2.5),
         "dbern": (0.3,), "dbin": (0.3, 7.0), "dpois": (2.5,), "dnegbin": (0.3, 2.0)}


def test_every_compiled_distribution_is_drawn_here():
    assert set(DRAWN) == set(expressions.SUPPORT) - {"dflat"}  # improper: never drawn


@pytest.mark.parametrize("name", sorted(DRAWN))
def test_draw_kernels_follow_the_distribution(name):
    family = DISTRIBUTIONS[name].family
    exact = family.dist(*family.to_scipy(*DRAWN[name]))
    rng = np.random.default_rng(7)
    draw = getattr(scalar, f"rv_{name}")
    draws = np.array([draw(rng, *DRAWN[name]) for _ in range(4000)])
    if DISTRIBUTIONS[name].discrete:  # a KS test is not for discrete draws: mean and variance
        mean, var = exact.stats()
        assert abs(draws.mean() - mean) < 4 * math.sqrt(var / len(draws))
        assert np.isin(draws, np.arange(0, 100)).all()
        assert abs(draws.var() - var) < 0.1 * var
    elif name == "dt":  # heavy tails: its variance's standard error is too wide to test
        from scipy import stats
        assert stats.kstest(draws, exact.cdf).pvalue > 1e-3
    else:
        assert_exact_draws(draws, exact)


SURVIVAL = """model {
  for (i in 1:N) {
    y[i] ~ dpois(mu[i])
    log(mu[i]) <- a + b * x[i] + u[g[i]]
    w[i] ~ dgamma(2, rate)
    c[i] ~ dbin(p, 4)
    k[i] ~ dcat(pr[i, 1:K[i]])
  }
  for (j in 1:3) { u[j] ~ dnorm(0, tau) }
  a ~ dnorm(0, 0.01)
  b ~ dt(0, 1, 3)
  tau ~ dgamma(1, 1)
  rate ~ dexp(1)
  p ~ dbeta(1, 1)
}"""
# every sampler the code generator writes: slice (u, a, b; tau forced to its conjugate draw,
# which turns off the scale group move), conjugate gamma and beta, forward draws of nothing
SLICED = {"u[j]": "slice", "a": "slice", "b": "slice", "tau": "conjugate"}
SURVIVAL_DATA = {"N": 6, "y": [1, 0, 3, 2, 5, 1], "x": [0.1, -0.4, 1.2, 0.3, 0.9, -1.0],
                 "g": [1, 1, 2, 2, 3, 3], "w": [0.5, 1.5, 2.0, 0.7, 1.1, 3.2], "c": [0, 1, 2, 4, 3, 1],
                 "k": [1, 2, 3, 1, 2, 2], "K": [2, 3, 3, 1, 2, 4],
                 "pr": np.array([[0.3, 0.7, 0, 0], [1, 2, 3, 0], [0.2, 0.2, 0.6, 0], [1, 0, 0, 0],
                                 [0.5, 0.5, 0, 0], [0.1, 0.2, 0.3, 0.4]])}


def assert_generated_deviance_is_the_engines(model, plan) -> None:
    """The generated module's deviance at the model's initial values against the numpy engine's."""
    compiled = compiled_sweep(model.graph, plan, default_monitors(model.graph), "numba")
    state = State(model.graph, 1)
    initialise(model.graph, state, model.inits)
    packed = runner.arrays(compiled, state)
    generated = compiled.module.deviance(packed.values[0], packed.ints, packed.floats, packed.memory[0])
    assert generated == pytest.approx(float(deviance(model.graph, state)[0]), rel=1e-12)


def test_the_generated_deviance_is_the_engines():
    model = compile_model(SURVIVAL, data=SURVIVAL_DATA, inits={"a": 0.3, "b": -0.2, "u": [0.1, -0.2, 0.05]})
    assert_generated_deviance_is_the_engines(model, model.plan(1, overrides=SLICED))


def test_auto_runs_numpy_where_a_step_is_not_compiled_and_numba_says_why():
    # forced random-walk Metropolis moves are not compiled
    model = compile_model("model { y ~ dnorm(mu, 1)\n mu ~ dnorm(0, 1)\n nu ~ dnorm(mu, 1) }",
                          data={"y": 0.5})
    plan = model.plan(1, overrides={"mu": "rw_metropolis"})
    assert compiled_sweep(model.graph, plan, default_monitors(model.graph), "auto") is None
    with pytest.raises(UsageError, match=r"cannot compile this model yet: the rw_metropolis sampler of mu; "):
        compiled_sweep(model.graph, plan, default_monitors(model.graph), "numba")
    with pytest.raises(UsageError, match="unknown backend"):
        compiled_sweep(model.graph, plan, default_monitors(model.graph), "fortran")
    draws = run(model.graph, plan, chains=1, burn=10, iterations=20, seed=1, backend="auto",
                monitors=default_monitors(model.graph))
    assert draws.values.shape == (1, 20, 2)


def test_compiled_runs_keep_the_numpy_runs_shape_thinning_and_callbacks():
    model = compile_model(SURVIVAL, data=SURVIVAL_DATA)
    plan = model.plan(2, overrides=SLICED)
    seen, sweeps = [], []
    draws = run(model.graph, plan, chains=2, burn=10, iterations=30, thin=3, seed=3,
                monitors=default_monitors(model.graph), backend="numba",
                on_draw=lambda iteration, row: seen.append((iteration, row.copy())), on_sweep=sweeps.append)
    numpy = run(model.graph, plan, chains=2, burn=10, iterations=30, thin=3, seed=3,
                monitors=default_monitors(model.graph), backend="numpy")
    assert draws.labels == numpy.labels and draws.values.shape == numpy.values.shape == (2, 10, len(numpy.labels))
    assert list(draws.iterations) == list(numpy.iterations) == list(range(13, 41, 3))
    assert sweeps == list(range(1, 41))
    assert [i for i, _ in seen] == list(draws.iterations)
    assert all(np.array_equal(row, draws.values[:, k]) for k, (_, row) in enumerate(seen))
    assert np.isfinite(draws.values).all()


def test_the_command_line_samples_compiled_and_compile_says_so(tmp_path):
    from conftest import REPO, run_cli

    spec, data = REPO / "specs" / "rat_tumors.spec", REPO / "specs" / "rat_tumors.R"
    shown = run_cli("compile", spec, "--data", data)
    assert shown.returncode == 0 and "backend: numba (every step compiles)" in shown.stdout
    done = run_cli("sample", spec, "--data", data, "--backend", "numba", "--chains", 2, "--burn", 100,
                   "--iter", 200, "--seed", 1, "--monitor", "phi", "--out", tmp_path, "--quiet")
    assert done.returncode == 0, done.stderr
    assert len((tmp_path / "CODAchain2.txt").read_text().splitlines()) == 200


FUNCTIONS_MODEL = """model {
  for (i in 1:5) {
    y[i] ~ dnorm(x[i], 1)
    x[i] ~ dnorm(0, 0.5)
    running[i] <- sum(x[1:i])
    shaped[i] <- ilogit(x[i]) * step(x[i]) + pow(abs(x[i]), 1.5) - ifelse(x[i] > 0, 1, 2)
  }
  centre <- mean(x[])
  weighted <- inprod(x[], w[])
  largest <- max(x[])
  spread <- prod(exp(x[2:4]))
  ordered[1:5] <- sort(x[])
  ranks[1:5] <- rank(x[])
  scaled[1:5] <- x[] * 2 + w[]
  v ~ dnorm(ordered[5] - ordered[1] + ranks[2] + projected[2], 1)
  projected[1:2] <- Q[, ] %*% x[]
  across[1:2] <- x[] %*% W[, ]
  for (i in 1:5) { for (k in 1:2) { W[i, k] <- x[i] * k } }
  product[1:2, 1:2] <- Q[, ] %*% W[, ]
  flipped[1:2, 1:5] <- t(W[, ])
  for (i in 1:3) { for (j in 1:3) { S[i, j] <- equals(i, j) * (exp(x[i]) + 1) + 0.3 * x[i] * x[j] } }
  inverted[1:3, 1:3] <- inverse(S[, ])
  spread3 <- logdet(S[, ])
  P[1, 1] <- 0
  P[1, 2] <- 1 + x[1] * x[1]
  P[2, 1] <- x[3] + 0.5
  P[2, 2] <- x[2]
  pivoted[1:2, 1:2] <- inverse(P[, ])
  signed <- logdet(P[, ])
}"""


def test_compiled_deterministic_nodes_are_what_their_formulas_say():
    """Runs of different lengths, reductions, elementwise functions and vector-valued nodes
    (sort, rank, matrix products, t, inverse and logdet, which v's density recomputes as x moves), each checked
    draw by draw against the formula computed here from the monitored x."""
    q = np.array([[1.0, -2.0, 0.5, 3.0, 0.0], [0.25, 1.0, -1.0, 2.0, 4.0]])
    model = compile_model(FUNCTIONS_MODEL, data={"y": [0.5, -1.0, 2.0, 0.1, -0.3], "w": [1, 2, 3, 4, 5], "v": 3.0,
                                                 "Q": q})
    plan = model.plan(2, overrides={"x[i]": "slice"})
    names = ["x", "running", "shaped", "centre", "weighted", "largest", "spread", "ordered", "ranks", "scaled",
             "projected", "across", "product", "flipped", "inverted", "spread3", "pivoted", "signed"]
    draws = run(model.graph, plan, chains=2, burn=20, iterations=50, seed=5, backend="numba",
                monitors=[resolve_monitor(model.graph, name) for name in names])
    x = np.stack([draws[f"x[{i}]"] for i in range(1, 6)], axis=-1)
    expected = {"running": np.cumsum(x, axis=-1),
                "shaped": 1 / (1 + np.exp(-x)) * (x >= 0) + np.abs(x) ** 1.5 - np.where(x > 0, 1, 2),
                "ordered": np.sort(x, axis=-1), "ranks": np.argsort(np.argsort(x, axis=-1), axis=-1) + 1.0,
                "scaled": 2 * x + np.arange(1, 6.0)}
    w = x[..., :, None] * np.array([1.0, 2.0])
    expected.update({"projected": x @ q.T, "across": np.einsum("...i,...ik->...k", x, w)})
    product = np.stack([draws[f"product[{i},{k}]"] for i in (1, 2) for k in (1, 2)], axis=-1)
    np.testing.assert_allclose(product, (q @ w).reshape(*x.shape[:-1], 4), rtol=1e-12)
    flipped = np.stack([draws[f"flipped[{k},{i}]"] for i in range(1, 6) for k in (1, 2)], axis=-1)
    np.testing.assert_allclose(flipped, w.reshape(*x.shape[:-1], 10), rtol=1e-12)
    three = x[..., :3]
    s = np.eye(3) * (np.exp(three)[..., None] + 1) + 0.3 * three[..., :, None] * three[..., None, :]
    p = np.zeros(x.shape[:-1] + (2, 2))
    p[..., 0, 1], p[..., 1, 0], p[..., 1, 1] = 1 + x[..., 0] ** 2, x[..., 2] + 0.5, x[..., 1]
    for name, matrix, side in (("inverted", s, 3), ("pivoted", p, 2)):
        got = np.stack([draws[f"{name}[{i},{j}]"] for i in range(1, side + 1) for j in range(1, side + 1)], axis=-1)
        np.testing.assert_allclose(got, np.linalg.inv(matrix).reshape(got.shape), rtol=1e-10, atol=1e-12, err_msg=name)
    for name, matrix in (("spread3", s), ("signed", p)):
        sign, value = np.linalg.slogdet(matrix)
        np.testing.assert_allclose(draws[name], np.where(sign > 0, value, np.nan), rtol=1e-10, equal_nan=True)
    assert np.isnan(draws["signed"]).any() and not np.isnan(draws["signed"]).all()  # both signs of det P
    for name, values in expected.items():
        got = np.stack([draws[f"{name}[{i}]"] for i in range(1, values.shape[-1] + 1)], axis=-1)
        np.testing.assert_allclose(got, values, rtol=1e-12)
    np.testing.assert_allclose(draws["centre"], x.mean(axis=-1), rtol=1e-12)
    np.testing.assert_allclose(draws["weighted"], x @ np.arange(1, 6.0), rtol=1e-12)
    np.testing.assert_allclose(draws["largest"], x.max(axis=-1), rtol=1e-12)
    np.testing.assert_allclose(draws["spread"], np.exp(x[..., 1:4]).prod(axis=-1), rtol=1e-12)
    assert x.std() > 0.3  # the chains moved


def test_a_singular_matrix_has_a_nan_inverse_in_both_engines():
    """Rather than an error from numpy's inv in the middle of a run (the numpy engine) or
    meaningless numbers (the compiled elimination): NaN, as for a logdet of a matrix that
    is not positive definite."""
    singular, regular = np.array([[1.0, 2.0], [2.0, 4.0]]), np.array([[2.0, 0.0], [0.0, 4.0]])
    inverses = FUNCTIONS["inverse"].compute([np.stack([singular, regular])], (2,))
    assert np.isnan(inverses[0]).all() and np.allclose(inverses[1], np.diag([0.5, 0.25]))
    out = np.zeros(4)
    scalar.invert(singular.ravel().copy(), out, 2)
    assert np.isnan(out).all()


BONES_LIKE = """model {
  for (i in 1:N) {
    k[i] ~ dcat(pr[i, 1:K[i]])
    z[i] ~ dcat(pr[i, 1:K[i]])
  }
}"""


def test_compiled_categorical_draws_with_weights_of_different_lengths():
    """z has no data below it: forward draws from its weights, checked against them."""
    weights = np.array([[1, 3, 0], [2, 1, 1], [5, 0, 0]], float)
    model = compile_model(BONES_LIKE, data={"N": 3, "K": [2, 3, 1], "pr": weights, "k": [1, 2, 1]})
    plan = model.plan(1)
    draws = run(model.graph, plan, chains=1, burn=0, iterations=6000, seed=9, backend="numba",
                monitors=[resolve_monitor(model.graph, "z")])
    for i, (row, width) in enumerate(zip(weights, [2, 3, 1])):
        counts = np.bincount(draws[f"z[{i + 1}]"][0].astype(int), minlength=4)[1:]
        probabilities = row / row.sum()
        n = counts.sum()
        assert (counts[width:] == 0).all()
        assert np.all(np.abs(counts / n - probabilities) < 4 * np.sqrt(probabilities * (1 - probabilities) / n) + 1e-12)


OPERATORS = {"+", "-", "*", "/", "^", "<", "<=", ">", ">=", "==", "!=", "&&", "||"}


def _applied(name: str) -> str:
    """``name`` applied to x and the constants 0.7 and 1.3, in the language's syntax."""
    if name in OPERATORS:
        return f"(x {name} 0.7)"
    if name == "neg":
        return "-(x)"
    if name == "!":
        return "!(x)"
    return f"{name}({', '.join(['x', '0.7', '1.3'][:FUNCTIONS[name].min_args])})"


def test_every_compiled_function_computes_what_the_numpy_engine_does():
    names = sorted(expressions.FUNCTION_KERNELS)
    lines = [f"  f{k} <- {_applied(name)}" for k, name in enumerate(names)]
    spec = "model {\n  y ~ dnorm(x, 1)\n  x ~ dnorm(0, 0.1)\n" + "\n".join(lines) + "\n}"
    model = compile_model(spec, data={"y": 0.4})
    plan = model.plan(1, overrides={"x": "slice"})
    monitors = [resolve_monitor(model.graph, name) for name in ["x"] + [f"f{k}" for k in range(len(names))]]
    draws = run(model.graph, plan, chains=1, burn=10, iterations=200, seed=2, backend="numba", monitors=monitors)
    x = draws["x"][0]
    assert (x < 0).any() and (x > 0).any()
    for k, name in enumerate(names):
        args = [x, np.full_like(x, 0.7), np.full_like(x, 1.3)][:FUNCTIONS[name].min_args]
        with np.errstate(all="ignore"):
            expected = FUNCTIONS[name].compute(*args)
        np.testing.assert_allclose(draws[f"f{k}"][0], expected, rtol=1e-12, equal_nan=True, err_msg=name)


def test_the_generated_source_is_the_same_in_every_process():
    """The cache keys modules by their source: a process with another string hash seed must
    write the same text, or every run would compile afresh."""
    import subprocess
    import sys

    from conftest import REPO

    program = ("from hiergraph import compile_model\nfrom hiergraph.jit import codegen\n"
               "m = compile_model('specs/rat_tumors.spec', data='specs/rat_tumors.R')\n"
               "print(codegen.write(m.graph, m.plan(2), [])[0])")
    texts = {subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=REPO,
                            env={**__import__("os").environ, "PYTHONHASHSEED": seed}).stdout
             for seed in ("1", "2", "3")}
    assert len(texts) == 1 and "def sweeps" in texts.pop()


CENTRED = """model {
  for (i in 1:N) {
    c[i] ~ dlogis(0, tau)
    b[i] <- c[i] - mean(c[])
    y[i] ~ dpois(exp(a0 + a1 * x[i] + b[i]))
  }
  a0 ~ dnorm(0, 0.1)
  a1 ~ dnorm(0.5, 0.2)
  tau ~ dgamma(2, 2)
}"""


def _with_and_without_twins(monkeypatch, model, plan, monitors):
    """The module's source, draws (2 chains, seed 4) and compiled module as written, with
    functions alike shared; then the source and draws with every function written out."""
    from hiergraph.jit import assemble, codegen

    def sample():
        return run(model.graph, plan, chains=2, burn=50, iterations=100, seed=4, backend="numba",
                   monitors=monitors).values

    shared = codegen.write(model.graph, plan, monitors)[0], sample(), \
        compiled_sweep(model.graph, plan, monitors, "numba").module
    monkeypatch.setattr(assemble, "_twins", lambda shapes: set())
    return shared, (codegen.write(model.graph, plan, monitors)[0], sample())


def test_steps_that_differ_only_in_their_tables_share_one_compiled_function(monkeypatch):
    """Each c[i] reads every other through mean(c[]), so each is its own slice step: one
    density, slide and step function serve all six, each call reading its own tables. a0
    and a1 share theirs too, although their priors' numbers differ and each writes the
    value the other reads. The draws must be those of the module written out step by step,
    to the last bit, and numba must compile each function once (a literal argument would
    make a copy per value)."""
    model = compile_model(CENTRED, data={"N": 6, "y": [1, 0, 3, 2, 5, 1], "x": [0.1, -0.4, 1.2, 0.3, 0.9, -1.0]})
    plan = model.plan(2, overrides={"c[i]": "slice", "a0": "slice", "a1": "slice"})
    monitors = [resolve_monitor(model.graph, name) for name in ("a0", "a1", "tau", "c")]
    (shared_source, shared, module), (separate_source, separate) = _with_and_without_twins(
        monkeypatch, model, plan, monitors)
    assert separate_source.count("def density_") == 9  # c[1..6], a0, a1, tau
    assert shared_source.count("def density_") == 3
    assert "(T, V, I, F, A, p, x):" in shared_source
    np.testing.assert_array_equal(separate, shared)
    functions = [f for f in vars(module).values() if hasattr(f, "signatures") and f.__module__ == module.__name__]
    assert len(functions) == shared_source.count("\ndef ")
    assert all(len(f.signatures) == 1 for f in functions), [(f.__name__, f.signatures) for f in functions]


GLMM = """model {
  for (i in 1:N) {
    logit(p[i]) <- a + b * x[i] + c * z[i] + u[g[i]]
    y[i] ~ dbern(p[i])
  }
  for (k in 1:G) { u[k] ~ dnorm(0, tau) }
  a ~ dnorm(0, 0.01)
  b ~ dnorm(0.5, 0.1)
  c ~ dnorm(-2, 1)
  tau ~ dgamma(1, 1)
}"""


def test_block_members_alike_share_their_compiled_loops(monkeypatch):
    """A GLM block's members each gather, place and set the prior of their coordinates in a
    function of their own, and members alike share it: all four gather and place alike, and
    a, b and c set their priors alike although the numbers differ, c's mean negative (u's
    reads tau). The draws are those of the module written out member by member, to the
    last bit."""
    rng = np.random.default_rng(3)
    N, G = 60, 6
    data = {"N": N, "G": G, "g": np.arange(N) % G + 1, "x": rng.normal(size=N), "z": rng.normal(size=N),
            "y": (rng.random(N) < 0.5).astype(float)}
    model = compile_model(GLMM, data=data)
    plan = model.plan(2)
    assert [m.group.name for s in plan.steps if isinstance(s, blocks.BlockStep) for m in s.members][:4] == \
        ["u[k]", "a", "b", "c"]
    monitors = [resolve_monitor(model.graph, name) for name in ("a", "b", "c", "tau")]
    (shared_source, shared, _), (separate_source, separate) = _with_and_without_twins(
        monkeypatch, model, plan, monitors)
    for kind, shared_functions in (("put", 1), ("get", 1), ("prior", 2)):
        assert separate_source.count(f"def {kind}_0_") == 4
        assert shared_source.count(f"def {kind}_0_") == shared_functions, kind
    np.testing.assert_array_equal(separate, shared)


REGRESSION = """model {
  for (i in 1:N) { y[i] ~ dnorm(a + b * x[i], 4) }
  a ~ dnorm(0, 0.01)
  b ~ dnorm(1, 0.04)
}"""


def test_the_compiled_normal_block_draws_the_exact_joint_posterior():
    """An uncentred regression, so that a and b are strongly correlated a posteriori: each
    sweep's block draw is an independent draw from the closed-form bivariate normal."""
    from scipy import stats

    rng = np.random.default_rng(4)
    x = np.linspace(10, 20, 12)
    y = 2.0 + 0.5 * x + rng.normal(0, 0.5, x.size)
    model = compile_model(REGRESSION, data={"N": x.size, "x": x, "y": y})
    plan = model.plan(2)
    assert plan.groups[0].sampler == "conjugate_normal_block"
    design = np.column_stack([np.ones_like(x), x])
    precision = np.diag([0.01, 0.04]) + 4 * design.T @ design
    covariance = np.linalg.inv(precision)
    mean = covariance @ (np.array([0.0, 0.04 * 1.0]) + 4 * design.T @ y)
    draws = run(model.graph, plan, chains=2, burn=5, iterations=2000, seed=8, backend="numba",
                monitors=[resolve_monitor(model.graph, "a"), resolve_monitor(model.graph, "b")])
    for k, name in enumerate("ab"):
        assert_exact_draws(draws[name], stats.norm(mean[k], np.sqrt(covariance[k, k])))
    correlation = covariance[0, 1] / np.sqrt(covariance[0, 0] * covariance[1, 1])
    observed = np.corrcoef(draws["a"].ravel(), draws["b"].ravel())[0, 1]
    assert abs(observed - correlation) < 4 * (1 - correlation ** 2) / np.sqrt(4000)


THREE_COEFFICIENTS = """model {
  for (i in 1:N) { y[i] ~ dnorm(a * u[i] + b * x[i] + c * w[i], tau[i]) }
  a ~ dnorm(0, 0.01)
  b ~ dnorm(1, 0.04)
  c ~ dnorm(-1, 0.1)
}"""


def test_the_compiled_normal_block_weighs_every_pair_of_a_rows_coordinates():
    """Three coefficients read by every row, with no column of ones and unequal precisions:
    each row adds its weight times every product of two of its design values to the
    precision, whatever order the coordinates are stored in (a column of ones, as in the
    test above, hides an error in any weight but the first)."""
    from scipy import stats

    rng = np.random.default_rng(5)
    n = 15
    u, x, w = rng.uniform(1.5, 3, n), rng.uniform(-2, 2, n), rng.uniform(0.2, 1, n)
    tau = rng.uniform(1, 6, n)
    y = 1.0 * u + 0.5 * x - 2.0 * w + rng.normal(0, 1 / np.sqrt(tau))
    model = compile_model(THREE_COEFFICIENTS, data={"N": n, "u": u, "x": x, "w": w, "tau": tau, "y": y})
    plan = model.plan(2)
    assert {g.sampler for g in plan.groups} == {"conjugate_normal_block"}
    design = np.column_stack([u, x, w])
    prior_precision = np.array([0.01, 0.04, 0.1])
    precision = np.diag(prior_precision) + design.T @ (tau[:, None] * design)
    covariance = np.linalg.inv(precision)
    mean = covariance @ (prior_precision * np.array([0.0, 1.0, -1.0]) + design.T @ (tau * y))
    draws = run(model.graph, plan, chains=2, burn=5, iterations=2000, seed=8, backend="numba",
                monitors=[resolve_monitor(model.graph, name) for name in "abc"])
    for k, name in enumerate("abc"):
        assert_exact_draws(draws[name], stats.norm(mean[k], np.sqrt(covariance[k, k])))
    combination = np.array([1.0, -2.0, 3.0])  # a direction the marginals alone do not check
    values = sum(c * draws[name] for c, name in zip(combination, "abc"))
    assert_exact_draws(values, stats.norm(combination @ mean, np.sqrt(combination @ covariance @ combination)))


MULTIVARIATE = """model {
  for (i in 1:N) { y[i] ~ dnorm(beta[1] + beta[2] * x[i], 4) }
  beta[1:2] ~ dmnorm(m0[], P0[, ])
  for (i in 1:M) { z[i, 1:2] ~ dmnorm(theta[], Q[, ]) }
  theta[1:2] ~ dmnorm(m1[], P1[, ])
  for (i in 1:M) { w[i, 1:2] ~ dmnorm(c0[], Omega[, ]) }
  Omega[1:2, 1:2] ~ dwish(R[, ], 5)
  for (i in 1:K) { category[i] ~ dcat(pi[]) }
  pi[1:3] ~ ddirch(a[])
  for (i in 1:2) { counts[i, 1:3] ~ dmulti(q[], 20) }
  q[1:3] ~ ddirch(a[])
}"""


def _multivariate_data() -> dict:
    rng = np.random.default_rng(6)
    n, m = 12, 8
    x = np.linspace(10, 20, n)
    return dict(N=n, M=m, K=9, x=x, y=2.0 + 0.5 * x + rng.normal(0, 0.5, n),
                m0=np.array([1.0, -1.0]), P0=np.array([[0.5, 0.2], [0.2, 0.3]]),
                z=rng.normal([1, 2], 1, (m, 2)), Q=np.array([[2.0, -0.8], [-0.8, 1.0]]),
                m1=np.array([0.0, 0.5]), P1=np.array([[0.3, 0.1], [0.1, 0.2]]),
                w=rng.normal(0, [1, 2], (m, 2)), c0=np.array([0.1, -0.2]), R=np.array([[1.0, 0.3], [0.3, 2.0]]),
                category=[1, 3, 3, 2, 3, 1, 3, 3, 2], a=np.array([0.5, 1.0, 2.0]),
                counts=np.array([[3, 10, 7], [6, 6, 8]]))


def test_the_generated_deviance_of_multivariate_children_is_the_engines():
    """Observed dmnorm children, of a latent mean and of a latent precision."""
    model = compile_model(MULTIVARIATE, data=_multivariate_data(),
                          inits={"theta": [0.4, 1.7], "Omega": [[1.5, 0.4], [0.4, 0.8]]})
    assert_generated_deviance_is_the_engines(model, model.plan(1))


def _registry_log_density(name, x, params):
    """The registry's log density where its parameters are valid, else -inf."""
    if not bool(DISTRIBUTIONS[name].valid(*params)):
        return -math.inf
    return _numpy_log_density(name, x, params)


@pytest.mark.parametrize("name", ["dmnorm", "dmnorm.vcov"])
def test_the_multivariate_normal_kernels_are_the_registrys(name):
    """Positive definite, not symmetric, and symmetric but indefinite matrices."""
    kernel = getattr(scalar, expressions.VECTOR_DENSITIES[name])
    x, mu = np.array([0.3, -1.2, 2.0]), np.array([0.0, -1.0, 1.5])
    for matrix in (np.array([[2.0, 0.5, 0.1], [0.5, 1.0, -0.3], [0.1, -0.3, 0.7]]),
                   np.array([[2.0, 0.5, 0.1], [0.4, 1.0, -0.3], [0.1, -0.3, 0.7]]),
                   np.array([[1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]])):
        expected = _registry_log_density(name, x, (mu, matrix))
        assert kernel(x, mu, matrix.ravel().copy(), 3) == pytest.approx(expected, rel=1e-12)


def test_the_multinomial_kernel_is_the_registrys():
    """Unnormalised weights, a zero weight with and without a count on it, no weight at all
    with and without draws, a negative weight and a size that is not whole."""
    cases = [([2, 3, 1], [1.0, 2.0, 1.0], 6), ([2, 0, 1], [0.5, 0.0, 0.5], 3), ([2, 1, 1], [0.5, 0.0, 0.5], 4),
             ([0, 0, 0], [0.0, 0.0, 0.0], 0), ([1, 0, 0], [0.0, 0.0, 0.0], 1), ([1, 1, 0], [0.5, -0.1, 0.6], 2),
             ([1, 1, 0], [0.5, 0.5, 0.5], 2.5)]
    for x, pi, size in cases:
        x, pi = np.array(x, float), np.array(pi)
        expected = _registry_log_density("dmulti", x, (pi, np.float64(size)))
        assert scalar.lp_dmulti(x, pi, float(size), 3) == pytest.approx(expected, rel=1e-12), (x, pi, size)


def test_compiled_multivariate_conjugate_updates_draw_their_exact_posteriors():
    """Five independent parts, each drawn exactly every sweep: a dmnorm prior (with a
    correlated precision) of normal children's coefficients, a dmnorm mean of dmnorm
    children, a Wishart precision of dmnorm children and Dirichlets of categorical and of
    multinomial ones.
    Each is checked against its closed-form posterior, along directions that mix components."""
    from scipy import stats

    data = _multivariate_data()
    n, m, x = data["N"], data["M"], data["x"]
    model = compile_model(MULTIVARIATE, data=data)
    plan = model.plan(2)
    assert [g.sampler for g in plan.groups] == ["conjugate_normal_block"] * 2 + [
        "conjugate_wishart_mnormal", "conjugate_dirichlet_categorical", "conjugate_dirichlet_multinomial"]
    draws = run(model.graph, plan, chains=2, burn=5, iterations=2000, seed=8, backend="numba",
                monitors=[resolve_monitor(model.graph, name) for name in ("beta", "theta", "Omega", "pi", "q")])

    def vector(name, size):
        return np.stack([draws[f"{name}[{k}]"].ravel() for k in range(1, size + 1)], axis=1)

    design = np.column_stack([np.ones(n), x])
    normal_posteriors = {  # (draws, precision, precision x mean)
        "beta": (vector("beta", 2), data["P0"] + 4 * design.T @ design, data["P0"] @ data["m0"] + 4 * design.T @ data["y"]),
        "theta": (vector("theta", 2), data["P1"] + m * data["Q"], data["P1"] @ data["m1"] + data["Q"] @ data["z"].sum(0)),
    }
    for values, precision, linear in normal_posteriors.values():
        covariance = np.linalg.inv(precision)
        mean = covariance @ linear
        for direction in ([1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, -2.0]):
            v = np.array(direction)
            assert_exact_draws(values @ v, stats.norm(v @ mean, np.sqrt(v @ covariance @ v)))
    # Omega | w ~ Wishart(scale (R + S)^-1, 5 + M): v' Omega v ~ (v' scale v) chi-squared(5 + M)
    deviations = data["w"] - data["c0"]
    scale = np.linalg.inv(data["R"] + deviations.T @ deviations)
    omega = np.stack([draws[f"Omega[{i},{j}]"].ravel() for i in (1, 2) for j in (1, 2)], axis=1).reshape(-1, 2, 2)
    assert np.array_equal(omega[:, 0, 1], omega[:, 1, 0])
    for direction in ([1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, -1.0]):
        v = np.array(direction)
        assert_exact_draws(np.einsum("i,nij,j->n", v, omega, v), stats.gamma(2.5 + m / 2, scale=2 * v @ scale @ v))
    # pi | category ~ Dirichlet(a + counts), q | counts likewise: each component a beta
    for name, counts in (("pi", np.bincount(data["category"], minlength=4)[1:]), ("q", data["counts"].sum(0))):
        alpha = data["a"] + counts
        values = vector(name, 3)
        assert np.allclose(values.sum(axis=1), 1.0)
        for k in range(3):
            assert_exact_draws(values[:, k], stats.beta(alpha[k], alpha.sum() - alpha[k]))


PREDICTIVE = """model {
  ynew[1:2] ~ dmnorm(m[], P[, ])
  vnew[1:2] ~ dmnorm.vcov(m[], S[, ])
  W[1:2, 1:2] ~ dwish(R[, ], 5)
  d[1:3] ~ ddirch(a[])
  counts[1:3] ~ dmulti(q[], 10)
}"""


def test_compiled_forward_draws_of_vector_and_matrix_nodes():
    """Nodes with no data below them are drawn from their priors each sweep: independent
    draws, checked against each distribution along mixing directions."""
    from scipy import stats

    data = dict(m=np.array([1.0, -1.0]), P=np.array([[2.0, 0.7], [0.7, 1.0]]), S=np.array([[0.5, -0.3], [-0.3, 2.0]]),
                R=np.array([[1.0, 0.4], [0.4, 2.0]]), a=np.array([0.5, 0.0, 2.0]), q=np.array([1.0, 2.0, 5.0]))
    model = compile_model(PREDICTIVE, data=data)
    plan = model.plan(2)
    assert {g.sampler for g in plan.groups} == {"forward"}
    names = ("ynew", "vnew", "W", "d", "counts")
    draws = run(model.graph, plan, chains=2, burn=0, iterations=2000, seed=11, backend="numba",
                monitors=[resolve_monitor(model.graph, name) for name in names])

    def vector(name, labels):
        return np.stack([draws[f"{name}[{k}]"].ravel() for k in labels], axis=1)

    for name, covariance in (("ynew", np.linalg.inv(data["P"])), ("vnew", data["S"])):
        for v in (np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.array([1.0, 1.0])):
            assert_exact_draws(vector(name, (1, 2)) @ v, stats.norm(v @ data["m"], np.sqrt(v @ covariance @ v)))
    scale = np.linalg.inv(data["R"])
    wishart = vector("W", ("1,1", "1,2", "2,1", "2,2")).reshape(-1, 2, 2)
    for v in (np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.array([1.0, -1.0])):
        assert_exact_draws(np.einsum("i,nij,j->n", v, wishart, v), stats.gamma(2.5, scale=2 * v @ scale @ v))
    shares = vector("d", (1, 2, 3))
    assert np.allclose(shares.sum(axis=1), 1.0) and (shares[:, 1] == 0).all()  # a structural zero
    for k in (0, 2):
        assert_exact_draws(shares[:, k], stats.beta(data["a"][k], data["a"].sum() - data["a"][k]))
    counts = vector("counts", (1, 2, 3))
    assert (counts.sum(axis=1) == 10).all()
    for k in range(3):
        assert_exact_frequencies(counts[:, k], np.arange(11), stats.binom(10, data["q"][k] / data["q"].sum()).pmf(np.arange(11)))


ELLIPTICAL = """model {
  for (i in 1:N) { y[i] ~ dnorm(inprod(b[], X[i, ]), 0.5) }
  b[1:3] ~ dmnorm(m[], P[, ])
  for (i in 1:N) { w[i] ~ dnorm(inprod(c[], X[i, 1:2]), 0.5) }
  c[1:2] ~ dmnorm.vcov(m[1:2], S[, ])
}"""


def test_the_compiled_elliptical_slice_move_keeps_the_exact_posterior():
    """The elliptical slice move forced on a conjugate model, so that the posterior is a
    closed-form normal: correlated draws, checked by batch means along mixing directions;
    the same for a dmnorm.vcov node (its prior draw from the covariance's factor)."""
    rng = np.random.default_rng(7)
    n = 10
    design = rng.normal(0, 1, (n, 3))
    data = dict(N=n, X=design, y=design @ [0.5, -1.0, 2.0] + rng.normal(0, 0.7, n),
                m=np.array([0.0, 1.0, 0.0]), P=np.array([[1.0, 0.3, 0.0], [0.3, 0.5, -0.2], [0.0, -0.2, 0.8]]),
                w=design[:, :2] @ [1.0, 0.5] + rng.normal(0, 1.4, n), S=np.array([[2.0, -0.6], [-0.6, 1.0]]))
    model = compile_model(ELLIPTICAL, data=data)
    plan = model.plan(2, overrides={"b[1:3]": "elliptical_slice"})
    assert [g.sampler for g in plan.groups] == ["elliptical_slice"] * 2
    prior_precision = np.linalg.inv(data["S"])
    posteriors = {  # (precision, precision x mean)
        "b": (data["P"] + 0.5 * design.T @ design, data["P"] @ data["m"] + 0.5 * design.T @ data["y"]),
        "c": (prior_precision + 0.5 * design[:, :2].T @ design[:, :2],
              prior_precision @ data["m"][:2] + 0.5 * design[:, :2].T @ data["w"]),
    }
    draws = run(model.graph, plan, chains=2, burn=100, iterations=20000, seed=9, backend="numba",
                monitors=[resolve_monitor(model.graph, name) for name in posteriors])
    for name, (precision, linear) in posteriors.items():
        covariance = np.linalg.inv(precision)
        mean = covariance @ linear
        size = len(mean)
        values = np.stack([draws[f"{name}[{k}]"] for k in range(1, size + 1)], axis=-1)  # (chains, draws, size)
        for direction in np.vstack([np.eye(size), np.resize([1.0, 1.0, -1.0], size)]):
            # a move along one random ellipse a sweep: about one effective draw in ten here
            assert_mcmc_moments((values @ direction).ravel(), direction @ mean, direction @ covariance @ direction,
                                min_ess_fraction=0.05)


CENSORED = """model {
  above ~ dinterval(t1, 2)
  between ~ dinterval(t2, cuts[])
  t1 ~ dexp(1)
  t2 ~ dexp(1)
}"""


def test_compiled_interval_censoring_truncates_the_latent_value():
    """t1 is only known to exceed 2, t2 to lie in (1, 2.5]: exponential(1) truncated there,
    whose moments are known; the censoring nodes' dinterval code is what truncates."""
    from test_samplers import assert_mcmc_moments, posterior_moments

    model = compile_model(CENSORED, data={"above": 1, "between": 1, "cuts": [1.0, 2.5]},
                          inits={"t1": 3.0, "t2": 2.0})
    draws = run(model.graph, model.plan(2), chains=2, burn=200, iterations=4000, seed=6, backend="numba",
                inits=model.inits, monitors=[resolve_monitor(model.graph, n) for n in ("t1", "t2")])
    assert_mcmc_moments(draws["t1"], 3.0, 1.0)
    mean, var = posterior_moments(lambda t: -t, 1.0, 2.5)
    assert_mcmc_moments(draws["t2"], mean, var)


@pytest.mark.parametrize("y, upper", [(8, 0.6), (10, 0.3)], ids=["rejection", "slice-fallback"])
def test_compiled_conjugate_draw_of_a_truncated_prior(y, upper):
    """p ~ dbeta(2, 2) T(, upper) with a binomial child: its posterior is beta(2 + y, 12 - y)
    truncated at ``upper``. At 0.6 the untruncated posterior's draws fall inside often
    enough; at 0.3 (posterior mass ~1e-6 there) every draw is refused and the slice move
    takes over."""
    from test_samplers import assert_mcmc_moments, posterior_moments
    from scipy import stats

    model = compile_model("model { y ~ dbin(p, 10)\n p ~ dbeta(2, 2) T(, U) }", data={"y": y, "U": upper})
    plan = model.plan(2)
    assert plan.groups[0].sampler == "conjugate_beta_binomial"
    draws = run(model.graph, plan, chains=2, burn=100, iterations=3000, seed=12, backend="numba",
                monitors=[resolve_monitor(model.graph, "p")])
    mean, var = posterior_moments(lambda p: stats.beta.logpdf(p, 2 + y, 12 - y), 0.0, upper)
    assert_mcmc_moments(draws["p"], mean, var)


def test_auto_leaves_large_models_to_the_numpy_engine(monkeypatch):
    """Beyond AUTO_LIMIT latent nodes the numpy engine is as fast (its collapsed steps share
    work between rows with equal data): auto does not compile; numba still does."""
    import hiergraph.jit as jit

    model = compile_model(REPO_RAT_TUMOURS, data=REPO_RAT_DATA)
    plan = model.plan(1)
    monkeypatch.setattr(jit, "AUTO_LIMIT", 50)  # rat tumours has 73 latent nodes
    assert compiled_sweep(model.graph, plan, [], "auto") is None
    assert "over 50 latent nodes" in jit.status(model.graph, plan)
    assert compiled_sweep(model.graph, plan, [], "numba") is not None


def test_nodes_in_block_steps_do_not_count_towards_the_auto_limit(monkeypatch):
    """Block steps update a bounded number of coordinates at a time in both engines: however
    many groups' effects come in them, auto compiles."""
    import hiergraph.jit as jit

    regression = compile_model(REGRESSION, data={"N": 3, "x": [1.0, 2.0, 3.0], "y": [0.5, 1.0, 2.0]})
    survival = compile_model(SURVIVAL, data=SURVIVAL_DATA)
    monkeypatch.setattr(jit, "AUTO_LIMIT", 1)
    assert not jit.too_large(regression.plan(1))  # a and b: one block
    assert jit.too_large(survival.plan(1, overrides=SLICED))


@pytest.mark.parametrize("name, params", [("dpois", (3.7,)), ("dbin", (0.3, 12.0))])
def test_value_free_kernels_differ_from_the_log_density_by_the_value_terms_alone(name, params):
    """A slice density reads ``lk_``: moving the parameter changes it as ``lp_`` changes."""
    full, kernel = getattr(scalar, f"lp_{name}"), getattr(scalar, f"lk_{name}")
    for x in (0.0, 4.0, 7.0):
        gaps = [full(x, *moved) - kernel(x, *moved)
                for moved in (params, (params[0] * 0.5,) + params[1:], (params[0] * 1.5,) + params[1:])]
        assert gaps == pytest.approx([gaps[0]] * 3, abs=1e-12)
        assert gaps[0] != 0.0 or x == 0.0
    assert kernel(-1.0, *params) == -math.inf and kernel(2.5, *params) == -math.inf
    assert kernel(2.0, *((-0.1,) + params[1:])) == -math.inf


def test_a_run_says_when_numba_is_about_to_compile_its_sweep():
    """The first run of a model compiles (seconds to a minute, before the first sweep), so
    it says so; the next run loads the machine code from the cache and says nothing."""
    model = compile_model("model { y ~ dnorm(mu, 2.5)  mu ~ dlogis(0.25, 3) }", data={"y": 0.4})
    plan = model.plan(1)
    calls = []
    for _ in range(2):
        run(model.graph, plan, chains=1, burn=5, iterations=5, seed=1, backend="numba",
            on_compiling=lambda: calls.append(True))
    assert calls == [True]


def test_chains_run_in_threads_draw_what_they_draw_one_at_a_time(monkeypatch):
    """Each chain has its own arrays and generator, so running three at once (in threads,
    the GIL released) changes nothing in the draws, to the last bit."""
    import threading

    model = compile_model(REPO_RAT_TUMOURS, data=REPO_RAT_DATA)
    plan = model.plan(3)
    compiled = compiled_sweep(model.graph, plan, default_monitors(model.graph), "numba")
    sweeps, threads = compiled.module.sweeps, set()

    def noting_the_thread(*args):
        threads.add(threading.get_ident())
        return sweeps(*args)

    draws = {}
    for cores in (1, 3):
        threads.clear()
        monkeypatch.setattr(compiled.module, "sweeps", noting_the_thread)
        draws[cores] = run(model.graph, plan, chains=3, burn=200, iterations=300, seed=11,
                           backend="numba", cores=cores)
        workers = threads - {threading.get_ident()}  # the first sweep runs in this thread
        assert len(workers) == (cores if cores > 1 else 0)
    np.testing.assert_array_equal(draws[1].values, draws[3].values)
    assert not np.array_equal(draws[1].values[0], draws[1].values[1])  # the chains differ


def test_cores_must_be_at_least_one():
    model = compile_model("model { mu ~ dnorm(0, 1) }")
    with pytest.raises(UsageError, match="cores must be at least 1, not 0"):
        model.draws(chains=2, burn=1, iter=1, cores=0)
