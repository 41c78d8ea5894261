"""Whole models checked by simulation-based calibration (Talts, Betancourt, Simpson, Vehtari
and Gelman 2018, arXiv:1804.06788).

If the parameters are drawn from the prior and the data from the model given them, the true
value is one more draw from the posterior given those data; so its rank among ``L``
independent posterior draws is uniform on 0..L, whatever the model. A sampler that is
biased, too narrow or too wide puts too many true values low, high, in the tails or in the
middle of its draws.

Each model below holds ``R`` independent replicates of a small model (an outer loop over
``r``; no parameter is shared between replicates), so one run samples all ``R`` posteriors
at once, the engine updating conditionally independent elements in one array step (where a
sampler would couple the replicates, as the GLM block step does, the replicates run in
batches). The true values and the data are simulated here with numpy, in JAGS's
parameterisations (dnorm(mean, precision), dgamma(shape, rate)). Each run starts from the
samplers' usual initial values and, after burn-in, keeps every ``thin``-th sweep of each
chain, so that the ``L`` saved draws are nearly independent (a failure report shows their
lag-1 autocorrelation). Ranks of discrete quantities break ties at random (Talts et al.,
sec. 4.1), which keeps them uniform.

For every checked quantity the ranks, in ``BINS`` bins, face a chi-square test of
uniformity. A model fails if any of its quantities has a p-value below ``SBC_LEVEL`` divided
by the number of its quantities (Bonferroni), so a correct sampler fails a model's test by
chance at most once in a thousand seeds. Seeds are fixed, so each test is deterministic.

Each model mixes conjugate draws with samplers that are not: slice sampling (of a continuous
node, of a discrete one, or collapsed, with the conjugate layer integrated out), the
Metropolis-Hastings block step for GLM coefficients, exact enumeration of a discrete node.
Each test asserts the samplers the compiler chose, so that it keeps testing what it says.
The default tests use ``R = 200`` replicates. That they can fail is checked twice: the same
run's draws of a non-conjugate quantity, distorted as a wrong sampler's would be (biased by
0.75 posterior sd, 25% too narrow, twice too wide), must fail; and (``slow``) true values
simulated from another prior, or data from another model, must fail. The other ``slow``
tests use 1000 replicates, and so catch smaller errors, also with plain slice sampling forced
where the compiler now chooses a block or a collapsed update.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pytest
from scipy import stats

from hiergraph.api import compile_model
from hiergraph.compiler import Plan, compile_plan
from hiergraph.engine import resolve_monitor, run

SBC_LEVEL = 1e-3  # per model, shared between its checked quantities
BINS = 10


# --- the calibration harness -----------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    """How many replicates, and how the run goes: ``draws`` (L) saved draws over all chains."""

    replicates: int = 200
    chains: int = 2
    burn: int = 100
    draws: int = 50


FAST = Settings()
THOROUGH = Settings(replicates=1000, draws=100)


@dataclass
class Simulated:
    """The replicates' data, and each checked quantity's true value in every replicate."""

    data: dict
    truths: dict  # monitor (e.g. "mu" or "theta[,1]") -> (R,) true values in replicate order
    inits: dict = field(default_factory=dict)


@dataclass
class Calibration:
    """The saved draws of each checked quantity, and the true values they are ranked against."""

    plan: Plan
    draws: dict  # name -> (chains, draws per chain, R)
    truths: dict  # name -> (R,)
    seed: int  # for breaking ties

    @property
    def samplers(self) -> dict[str, str]:
        return {p.group.name: p.sampler for p in self.plan.groups}

    @property
    def saved(self) -> int:
        """L: each rank is one of 0..L."""
        chains, per_chain, _ = next(iter(self.draws.values())).shape
        return chains * per_chain

    def ranks(self, distort: dict | None = None) -> dict[str, np.ndarray]:
        """Each quantity's ranks; ``distort[name](draws)`` first changes that quantity's draws,
        ``(L, R)``, as a wrong sampler would."""
        tie_breaks = np.random.default_rng(self.seed)
        ranks = {}
        for name, kept in self.draws.items():
            pooled = kept.reshape(-1, kept.shape[2])
            if distort and name in distort:
                pooled = distort[name](pooled)
            ranks[name] = sbc_ranks(pooled, self.truths[name], tie_breaks)
        return ranks

    def pvalues(self, distort: dict | None = None) -> dict[str, float]:
        return {name: uniformity_pvalue(r, self.saved) for name, r in self.ranks(distort).items()}

    def passes(self, distort: dict | None = None) -> bool:
        return min(self.pvalues(distort).values()) > SBC_LEVEL / len(self.draws)

    def report(self, distort: dict | None = None) -> str:
        lines = [str(self.plan), f"ranks 0..{self.saved}, level {SBC_LEVEL / len(self.draws):.2g} each"]
        pvalues = self.pvalues(distort)
        for name, ranks in self.ranks(distort).items():
            lines.append(f"{name}: p = {pvalues[name]:.3g}, bins {bin_counts(ranks, self.saved).tolist()}, "
                         f"lag-1 autocorrelation {lag1_autocorrelation(self.draws[name]):.2f}")
        return "\n".join(lines)


def sbc_ranks(draws: np.ndarray, truth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rank of each replicate's true value among its ``(L, R)`` draws, ties broken at random."""
    below = (draws < truth).sum(axis=0)
    ties = (draws == truth).sum(axis=0)
    return below + rng.integers(0, ties + 1)


def bin_edges(draws: int) -> np.ndarray:
    """Edges splitting the ranks 0..draws into ``BINS`` bins as equal as whole ranks allow."""
    return np.round(np.linspace(0, draws + 1, BINS + 1)).astype(int)


def bin_counts(ranks: np.ndarray, draws: int) -> np.ndarray:
    return np.histogram(ranks, bins=bin_edges(draws))[0]


def uniformity_pvalue(ranks: np.ndarray, draws: int) -> float:
    """Chi-square test that ranks are uniform on 0..draws, each bin with its exact probability."""
    expected = len(ranks) * np.diff(bin_edges(draws)) / (draws + 1)
    return float(stats.chisquare(bin_counts(ranks, draws), expected).pvalue)


def lag1_autocorrelation(draws: np.ndarray) -> float:
    """Lag-1 autocorrelation within chains of ``(chains, L, R)`` draws, mean over replicates."""
    centred = draws - draws.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = (centred[:, 1:] * centred[:, :-1]).sum(axis=1) / (centred ** 2).sum(axis=1)
    return float(np.nanmean(ratio))  # a chain that never moved has no autocorrelation


def sample(spec: str, simulated: Simulated, settings: Settings, thin: int, seed: int, overrides=None,
           backend: str = "numpy"):
    """One run over the replicates: the plan and each checked quantity's draws."""
    model = compile_model(spec, data=simulated.data)
    plan = compile_plan(model.graph, settings.chains, overrides)
    monitors = [resolve_monitor(model.graph, name) for name in simulated.truths]
    per_chain = settings.draws // settings.chains
    result = run(model.graph, plan, chains=settings.chains, burn=settings.burn,
                 iterations=per_chain * thin, thin=thin, seed=seed,
                 inits=[simulated.inits] if simulated.inits else [], monitors=monitors,
                 backend=backend)
    draws = {}
    for monitor, (name, truth) in zip(monitors, simulated.truths.items()):
        columns = [result.labels.index(label) for label in monitor.labels]
        draws[name] = result.values[:, :, columns]  # (chains, draws per chain, R)
        assert draws[name].shape == (settings.chains, per_chain, len(truth)), (name, draws[name].shape)
    return plan, draws


# --- (a) a normal hierarchy with nested indexing ---------------------------------------------

HIERARCHY = """model {
  for (r in 1:R) {
    for (i in 1:N) {
      y[r, i] ~ dnorm(theta[r, group[i]], tau.y[r])
    }
    for (j in 1:J) {
      theta[r, j] ~ dnorm(mu[r], tau.theta[r])
    }
    mu[r] ~ dnorm(0, 0.25)
    sigma.theta[r] ~ dunif(0, 3)
    tau.theta[r] <- 1 / (sigma.theta[r] * sigma.theta[r])
    tau.y[r] ~ dgamma(3, 2)
  }
}"""
HIERARCHY_SAMPLERS = {"theta[r,j]": "conjugate_normal_normal", "mu[r]": "collapsed_slice",
                      "sigma.theta[r]": "collapsed_slice", "tau.y[r]": "conjugate_gamma_normal"}
GROUP = np.array([1, 1, 1, 1, 2, 2, 3, 3, 3, 4, 4, 4, 4, 4, 5, 6, 6, 6])  # unbalanced groups


def simulate_hierarchy(R: int, seed: int, wrong: bool = False) -> Simulated:
    rng = np.random.default_rng(seed)
    J = GROUP.max()
    mu = rng.normal(0, 2, R)
    # the wrong prior: the model says sigma.theta ~ dunif(0, 3)
    sigma = rng.uniform(0, 2, R) if wrong else rng.uniform(0, 3, R)
    tau_y = rng.gamma(3, 1 / 2, R)
    theta = rng.normal(mu[:, None], sigma[:, None], (R, J))
    y = rng.normal(theta[:, GROUP - 1], 1 / np.sqrt(tau_y)[:, None])
    return Simulated({"y": y, "group": GROUP.astype(float), "R": R, "N": len(GROUP), "J": J},
                     {"mu": mu, "sigma.theta": sigma, "tau.y": tau_y,
                      "theta[,1]": theta[:, 0], "theta[,5]": theta[:, 4]})


# --- (b) a discrete latent indicator: a mixture with a known shift ---------------------------

MIXTURE = """model {
  for (r in 1:R) {
    for (i in 1:N) {
      z[r, i] ~ dbern(p[r])
      y[r, i] ~ dnorm(mu[r] + delta * z[r, i], tau[r])
    }
    shifted[r] <- sum(z[r, ])
    p[r] ~ dbeta(2, 3)
    mu[r] ~ dnorm(0, 0.5)
    sigma[r] ~ dunif(0.5, 1.5)
    tau[r] <- 1 / (sigma[r] * sigma[r])
  }
}"""
MIXTURE_SAMPLERS = {"z[r,i]": "finite_enumeration", "p[r]": "conjugate_beta_bernoulli",
                    "mu[r]": "conjugate_normal_normal", "sigma[r]": "slice"}


def simulate_mixture(R: int, seed: int, wrong: bool = False) -> Simulated:
    rng = np.random.default_rng(seed)
    N, delta = 12, 3.0
    # the wrong prior: the model says p ~ dbeta(2, 3)
    p = rng.beta(2, 2, R) if wrong else rng.beta(2, 3, R)
    mu = rng.normal(0, 1 / np.sqrt(0.5), R)
    sigma = rng.uniform(0.5, 1.5, R)
    z = (rng.uniform(size=(R, N)) < p[:, None]).astype(float)
    y = rng.normal(mu[:, None] + delta * z, sigma[:, None])
    return Simulated({"y": y, "R": R, "N": N, "delta": delta},
                     {"p": p, "mu": mu, "sigma": sigma, "z[,1]": z[:, 0], "shifted": z.sum(axis=1)})


# --- (c) a Poisson regression with a log link and random site effects ------------------------

POISSON_GLM = """model {
  for (r in 1:R) {
    for (i in 1:N) {
      log(lambda[r, i]) <- b[r] * x[i] + u[r, site[i]]
      y[r, i] ~ dpois(lambda[r, i])
    }
    for (j in 1:J) {
      u[r, j] ~ dnorm(mu[r], tau.u[r])
    }
    mu[r] ~ dnorm(1, 1)
    b[r] ~ dnorm(0, 4)
    tau.u[r] ~ dgamma(3, 1)
  }
}"""
POISSON_GLM_SAMPLERS = {"u[r,j]": "glm_iwls_block", "mu[r]": "conjugate_normal_normal",
                        "b[r]": "glm_iwls_block", "tau.u[r]": "conjugate_gamma_normal"}
POISSON_GLM_SLICE_SAMPLERS = {**POISSON_GLM_SAMPLERS, "u[r,j]": "slice", "b[r]": "slice"}
SITE = np.repeat([1, 2, 3, 4], 3)
X = np.tile([-1.0, 0.0, 1.0], 4)


def simulate_poisson_glm(R: int, seed: int, wrong: bool = False) -> Simulated:
    rng = np.random.default_rng(seed)
    J = SITE.max()
    mu = rng.normal(1, 1, R)
    b = rng.normal(0, 0.5, R)
    tau_u = rng.gamma(3, 1, R)
    u = rng.normal(mu[:, None], 1 / np.sqrt(tau_u)[:, None], (R, J))
    # the wrong model: the data come from a slope twice as steep as the true value says
    slope = 2 * b if wrong else b
    y = rng.poisson(np.exp(slope[:, None] * X + u[:, SITE - 1])).astype(float)
    return Simulated({"y": y, "x": X, "site": SITE.astype(float), "R": R, "N": len(X), "J": J},
                     {"mu": mu, "b": b, "tau.u": tau_u, "u[,1]": u[:, 0], "u[,4]": u[:, 3]})


# --- (c2) logistic random effects whose scale has a uniform prior ----------------------------
# Bernoulli data, three per site: the effects barely inform sigma, the case in which sigma
# and the effects pin each other under componentwise updates and the scale group move
# (:mod:`hiergraph.scale_move`) moves them together.

LOGIT_SCALE = """model {
  for (r in 1:R) {
    for (i in 1:N) {
      logit(p[r, i]) <- a[r] + u[r, site[i]]
      y[r, i] ~ dbern(p[r, i])
    }
    for (j in 1:J) {
      u[r, j] ~ dnorm(0, tau.u[r])
    }
    tau.u[r] <- pow(sigma[r], -2)
    sigma[r] ~ dunif(0, 2)
    a[r] ~ dnorm(0, 1)
  }
}"""
LOGIT_SCALE_SAMPLERS = {"u[r,j]": "glm_iwls_block", "sigma[r]": "slice", "a[r]": "glm_iwls_block"}


def simulate_logit_scale(R: int, seed: int, wrong: bool = False) -> Simulated:
    rng = np.random.default_rng(seed)
    J = SITE.max()
    a = rng.normal(0, 1, R)
    # the wrong prior: the model says sigma ~ dunif(0, 2)
    sigma = rng.uniform(0, 1, R) if wrong else rng.uniform(0, 2, R)
    u = rng.normal(0, sigma[:, None], (R, J))
    y = rng.binomial(1, 1 / (1 + np.exp(-(a[:, None] + u[:, SITE - 1])))).astype(float)
    return Simulated({"y": y, "site": SITE.astype(float), "R": R, "N": len(SITE), "J": J},
                     {"sigma": sigma, "a": a, "u[,1]": u[:, 0]})


# --- (d) a beta-binomial hierarchy (rat tumours) with non-conjugate hyperparameters ----------

RAT_TUMOURS = """model {
  for (r in 1:R) {
    for (j in 1:J) {
      y[r, j] ~ dbin(theta[r, j], n[j])
      theta[r, j] ~ dbeta(a[r], b[r])
    }
    a[r] <- m[r] * kappa[r]
    b[r] <- (1 - m[r]) * kappa[r]
    m[r] ~ dbeta(3, 7)
    kappa[r] ~ dgamma(4, 0.25)
  }
}"""
RAT_TUMOURS_SAMPLERS = {"theta[r,j]": "conjugate_beta_binomial", "m[r]": "collapsed_slice",
                        "kappa[r]": "collapsed_slice"}
RAT_TUMOURS_SLICE_SAMPLERS = {**RAT_TUMOURS_SAMPLERS, "m[r]": "slice", "kappa[r]": "slice"}
RATS = np.array([20.0, 15, 25, 10, 30, 20])  # rats in each experiment


def simulate_rat_tumours(R: int, seed: int, wrong: bool = False) -> Simulated:
    rng = np.random.default_rng(seed)
    # the wrong prior: the model says m ~ dbeta(3, 7), mean 0.3
    m = rng.beta(4, 6, R) if wrong else rng.beta(3, 7, R)
    kappa = rng.gamma(4, 1 / 0.25, R)
    theta = rng.beta((m * kappa)[:, None], ((1 - m) * kappa)[:, None], (R, len(RATS)))
    y = rng.binomial(RATS.astype(int), theta).astype(float)
    return Simulated({"y": y, "n": RATS, "R": R, "J": len(RATS)},
                     {"m": m, "kappa": kappa, "theta[,1]": theta[:, 0], "theta[,4]": theta[:, 3]})


# --- (e) a latent count: repeated binomial counts of N animals (an N-mixture) ----------------

ABUNDANCE = """model {
  for (r in 1:R) {
    for (t in 1:T) {
      y[r, t] ~ dbin(p[r], N[r])
    }
    N[r] ~ dpois(lambda[r])
    lambda[r] ~ dgamma(8, 0.5)
    p[r] ~ dbeta(6, 4)
  }
}"""
ABUNDANCE_SAMPLERS = {"N[r]": "slice", "lambda[r]": "conjugate_gamma_poisson",
                      "p[r]": "conjugate_beta_binomial"}


def simulate_abundance(R: int, seed: int, wrong: bool = False) -> Simulated:
    rng = np.random.default_rng(seed)
    T = 4
    # the wrong prior: the model says lambda ~ dgamma(8, 0.5), mean 16
    lam = rng.gamma(8, 1 / (0.4 if wrong else 0.5), R)
    p = rng.beta(6, 4, R)
    N = rng.poisson(lam)
    y = rng.binomial(N[:, None], p[:, None], (R, T)).astype(float)
    # N's usual initial value, the prior mean of lambda, may be below a count: start above all
    return Simulated({"y": y, "R": R, "T": T},
                     {"N": N.astype(float), "lambda": lam, "p": p},
                     inits={"N": y.max(axis=1) + 5})


@dataclass(frozen=True)
class Case:
    spec: str
    simulate: Callable  # (R, seed, wrong) -> Simulated
    samplers: dict  # the sampler the compiler must choose for each latent group
    probe: str  # a quantity drawn by a non-conjugate sampler, for the can-it-fail checks
    seed: int
    # sweeps per saved draw: enough that the saved draws' lag-1 autocorrelation is near 0
    thin: int = 5
    batch: int | None = None  # replicates per run, where not all in one
    overrides: dict | None = None  # samplers forced on groups


MODELS = {
    "normal-hierarchy-nested-index":
        Case(HIERARCHY, simulate_hierarchy, HIERARCHY_SAMPLERS, "sigma.theta", 11, thin=3),
    "mixture-bernoulli-indicator":
        Case(MIXTURE, simulate_mixture, MIXTURE_SAMPLERS, "sigma", 21),
    # The block step draws all of a run's coefficients in one block (up to 400 coordinates),
    # as one Metropolis-Hastings proposal: 20 replicates per run keep it small enough to move.
    # The probe is a site effect: for the slope b, 200 replicates detect draws 25% too narrow
    # only marginally (p = 0.009 against the level 0.0002 at this seed).
    "poisson-log-link-random-effects":
        Case(POISSON_GLM, simulate_poisson_glm, POISSON_GLM_SAMPLERS, "u[,1]", 31, batch=20),
    "logistic-random-effects-uniform-scale":
        Case(LOGIT_SCALE, simulate_logit_scale, LOGIT_SCALE_SAMPLERS, "sigma", 35, batch=20),
    "rat-tumours-beta-binomial":
        Case(RAT_TUMOURS, simulate_rat_tumours, RAT_TUMOURS_SAMPLERS, "m", 41, thin=2),
    "abundance-latent-count":
        Case(ABUNDANCE, simulate_abundance, ABUNDANCE_SAMPLERS, "N", 51),
}
# the samplers that blocks and collapsed updates replaced, forced
SLOW_MODELS = {
    "poisson-log-link-slice":
        Case(POISSON_GLM, simulate_poisson_glm, POISSON_GLM_SLICE_SAMPLERS, "b", 61,
             overrides={"u[r,j]": "slice", "b[r]": "slice"}),
    "rat-tumours-slice":
        Case(RAT_TUMOURS, simulate_rat_tumours, RAT_TUMOURS_SLICE_SAMPLERS, "m", 71,
             overrides={"m[r]": "slice", "kappa[r]": "slice"}),
}
ALL_MODELS = {**MODELS, **SLOW_MODELS}


@functools.lru_cache(maxsize=None)
def calibrate(name: str, settings: Settings, wrong: bool = False, backend: str = "numpy") -> Calibration:
    """Sample every replicate's posterior, ``batch`` replicates a run; keep the draws of the
    checked quantities. Cached: one run per model and settings, shared by the tests."""
    case = ALL_MODELS[name]
    batch = case.batch or settings.replicates
    plans, draws, truths = [], [], []
    for k, start in enumerate(range(0, settings.replicates, batch)):
        simulated = case.simulate(min(batch, settings.replicates - start), case.seed + 1000 * k, wrong)
        plan, kept = sample(case.spec, simulated, settings, case.thin, case.seed + 1 + 1000 * k,
                            case.overrides, backend)
        plans.append(plan)
        draws.append(kept)
        truths.append(simulated.truths)
    return Calibration(plans[0],
                       {name: np.concatenate([d[name] for d in draws], axis=2) for name in draws[0]},
                       {name: np.concatenate([np.asarray(t[name], float) for t in truths])
                        for name in truths[0]},
                       case.seed)


def shifted(by: float):
    """Draws moved up by ``by`` of their own sd: a sampler biased by that much."""
    return lambda draws: draws + by * draws.std(axis=0)


def scaled(factor: float):
    """Draws spread ``factor`` times as far about their mean: a posterior too wide or narrow."""
    return lambda draws: draws.mean(axis=0) + factor * (draws - draws.mean(axis=0))


@pytest.mark.parametrize("name", MODELS)
def test_simulation_based_calibration(name):
    calibration = calibrate(name, FAST)
    assert calibration.samplers == MODELS[name].samplers, calibration.report()
    assert calibration.passes(), calibration.report()


@pytest.mark.parametrize("name", MODELS)
def test_simulation_based_calibration_compiled(name):
    """The numba backend (hiergraph.jit) compiles every sampler of these models; its sweeps
    calibrate too: same models, same seeds, its own code."""
    pytest.importorskip("numba")
    calibration = calibrate(name, FAST, backend="numba")
    assert calibration.passes(), calibration.report()


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("distortion", [shifted(0.75), scaled(0.75), scaled(2.0)],
                         ids=["biased-0.75-sd", "too-narrow-0.75", "too-wide-2"])
def test_calibration_would_catch_a_wrong_sampler(name, distortion):
    """The same run's draws of a non-conjugate quantity, distorted as a wrong sampler's
    would be, fail the test: it has the power to catch such errors with these replicates."""
    calibration = calibrate(name, FAST)
    probe = MODELS[name].probe
    assert not calibration.passes({probe: distortion}), calibration.report({probe: distortion})


@pytest.mark.slow
@pytest.mark.parametrize("name", ALL_MODELS)
def test_simulation_based_calibration_many_replicates(name):
    calibration = calibrate(name, THOROUGH)
    assert calibration.samplers == ALL_MODELS[name].samplers, calibration.report()
    assert calibration.passes(), calibration.report()


@pytest.mark.slow
@pytest.mark.parametrize("name", ALL_MODELS)
def test_calibration_fails_when_the_simulation_is_not_the_model(name):
    """End to end, the test can fail: true values simulated from another prior (or data from
    another model) are not draws from the model's posterior."""
    calibration = calibrate(name, FAST, wrong=True)
    assert not calibration.passes(), calibration.report()


# --- the harness itself ----------------------------------------------------------------------

def test_ranks_of_exact_posterior_draws_are_uniform():
    """Conjugate normal model, posterior drawn exactly with numpy: the harness passes it."""
    rng = np.random.default_rng(5)
    R, L = 2000, 50
    mu = rng.normal(0, 1, R)
    y = rng.normal(mu, 1)  # posterior: normal(y / 2, 1 / 2)
    draws = rng.normal(y / 2, np.sqrt(0.5), (L, R))
    ranks = sbc_ranks(draws, mu, rng)
    assert ranks.min() >= 0 and ranks.max() <= L
    assert uniformity_pvalue(ranks, L) > SBC_LEVEL
    # a posterior too narrow by a fifth is caught
    narrow = rng.normal(y / 2, 0.8 * np.sqrt(0.5), (L, R))
    assert uniformity_pvalue(sbc_ranks(narrow, mu, rng), L) < SBC_LEVEL


def test_ranks_of_discrete_draws_break_ties_at_random():
    rng = np.random.default_rng(6)
    R, L = 4000, 20
    z = (rng.uniform(size=R) < 0.3).astype(float)
    draws = (rng.uniform(size=(L, R)) < 0.3).astype(float)  # the posterior is the prior here
    ranks = sbc_ranks(draws, z, rng)
    assert uniformity_pvalue(ranks, L) > SBC_LEVEL
    # without the random tie-break the ranks of a 0/1 quantity pile up at 0 and at the top
    assert uniformity_pvalue((draws < z).sum(axis=0), L) < SBC_LEVEL


def test_bins_cover_every_rank_once():
    for draws in (19, 50, 99, 100):
        edges = bin_edges(draws)
        assert edges[0] == 0 and edges[-1] == draws + 1 and np.all(np.diff(edges) > 0)
        assert bin_counts(np.arange(draws + 1), draws).sum() == draws + 1
