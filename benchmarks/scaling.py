"""How cost grows with the number of groups: synthetic hierarchies, hiergraph and JAGS side by side.

Four models, each with J groups simulated from a fixed seed: a beta-binomial (rat
tumours, Gelman's hyperprior), a normal-normal (eight schools, J schools), a
varying-intercept logistic regression with groups nested in regions, and a
varying-intercept-and-slope normal regression (dmnorm group effects with a Wishart
precision). For each J both run
the same chains, burn-in and iterations, ``--repeat`` times alternately, each run a fresh
process (see side_by_side.py). Reported, medians over the runs: wall time including
compile, sampling time, peak resident memory, the smallest bulk ESS over the
hyperparameters (where hierarchies mix slowest), ESS per second, and hiergraph's ESS/s
over JAGS's.

Needs JAGS (``apt-get install jags``); installs nothing. From the project root::

    python benchmarks/scaling.py                               # J = 10^2, 10^3, 10^4
    python benchmarks/scaling.py --sizes 100000 --models beta_binomial --write
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from graph_build import MODEL as RAT_TUMOURS
from hiergraph.jags_script import Script
from results import jags_version, measured, record
from side_by_side import compare, method, table

MODELS = {
    "beta_binomial": (RAT_TUMOURS.strip(), ["phi", "s"]),  # the graph-build benchmark's model
    "normal_normal": ("""model {
  for (j in 1:J) {
    y[j] ~ dnorm(theta[j], pow(sigma[j], -2))
    theta[j] ~ dnorm(mu, pow(tau, -2))
  }
  mu ~ dnorm(0, 1.0E-4)
  tau ~ dunif(0, 50)
}""", ["mu", "tau"]),
    "logistic_nested": ("""model {
  for (i in 1:N) {
    logit(p[i]) <- alpha[group[i]] + beta * x[i]
    y[i] ~ dbern(p[i])
  }
  for (j in 1:J) {
    alpha[j] ~ dnorm(eta[region[j]], pow(sigma.alpha, -2))
  }
  for (k in 1:K) {
    eta[k] ~ dnorm(mu, pow(sigma.eta, -2))
  }
  mu ~ dnorm(0, 0.01)
  beta ~ dnorm(0, 0.01)
  sigma.alpha ~ dunif(0, 10)
  sigma.eta ~ dunif(0, 10)
}""", ["mu", "beta", "sigma.alpha", "sigma.eta"]),
    "varying_slopes": ("""model {
  for (i in 1:N) {
    y[i] ~ dnorm(b[group[i], 1] + b[group[i], 2] * x[i], tau)
  }
  for (j in 1:J) {
    b[j, 1:2] ~ dmnorm(mu[], Omega[, ])
  }
  mu[1:2] ~ dmnorm(zero[], prior.precision[, ])
  Omega[1:2, 1:2] ~ dwish(R[, ], 3)
  Sigma[1:2, 1:2] <- inverse(Omega[, ])
  tau ~ dgamma(0.001, 0.001)
}""", ["mu", "Sigma", "tau"]),
}


def simulate(model: str, J: int) -> dict:
    """Data for J groups, seed 1: the rat tumours' spread, eight schools' scale, five
    Bernoulli observations per group with ten groups per region, and ten normal
    observations per group around correlated intercepts and slopes."""
    rng = np.random.default_rng(1)
    if model == "beta_binomial":
        n = rng.integers(10, 60, size=J)
        return {"J": J, "y": rng.binomial(n, rng.beta(1.4, 8.8, size=J)), "n": n}
    if model == "normal_normal":
        sigma = rng.uniform(9, 18, size=J)
        return {"J": J, "y": np.round(rng.normal(8, np.sqrt(6.0 ** 2 + sigma ** 2)), 2),
                "sigma": np.round(sigma, 2)}
    if model == "varying_slopes":
        b = rng.multivariate_normal([1.0, -0.5], [[0.5, 0.2], [0.2, 0.3]], size=J)
        group = np.repeat(np.arange(1, J + 1), 10)
        x = np.round(rng.normal(size=len(group)), 3)
        y = np.round(b[group - 1, 0] + b[group - 1, 1] * x + rng.normal(0, 0.7, len(group)), 3)
        return {"N": len(group), "J": J, "group": group, "x": x, "y": y, "zero": np.zeros(2),
                "prior.precision": 0.01 * np.eye(2), "R": np.eye(2)}
    K = max(J // 10, 1)
    region = np.repeat(np.arange(1, K + 1), int(np.ceil(J / K)))[:J]
    alpha = rng.normal(rng.normal(-0.5, 0.5, size=K)[region - 1], 0.8)
    group = np.repeat(np.arange(1, J + 1), 5)
    x = np.round(rng.normal(size=len(group)), 3)
    y = rng.binomial(1, 1 / (1 + np.exp(-(alpha[group - 1] + 0.7 * x))))
    return {"N": len(group), "J": J, "K": K, "group": group, "region": region, "x": x, "y": y}


def write_problem(folder: Path, model: str, J: int) -> tuple[Path, Path]:
    spec = folder / f"{model}.bug"
    spec.write_text(MODELS[model][0] + "\n")
    data = folder / f"{model}-data.R"
    with data.open("w") as f:
        for name, value in simulate(model, J).items():
            values = np.ravel(value, order="F").tolist()  # R's order: by column
            numbers = f'c({", ".join(map(str, values))})'
            f.write(f'"{name}" <- {values[0]}\n' if np.ndim(value) == 0 else
                    f'"{name}" <- {numbers}\n' if np.ndim(value) == 1 else
                    f'"{name}" <- structure({numbers}, .Dim = c({", ".join(map(str, np.shape(value)))}))\n')
    return spec, data


def measure(model: str, J: int, chains: int, burn: int, iterations: int, repeat: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        spec, data = write_problem(Path(tmp), model, J)
        script = Script(spec, model=spec, data=[data], chains=chains, burn=burn,
                        iterations=iterations, monitors=MODELS[model][1])
        return {"key": [model, f"{J:,}"], **compare(script, repeat)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--sizes", nargs="*", type=int, default=[100, 1000, 10000])
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--burn", type=int, default=1000)
    parser.add_argument("--iter", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each program; medians reported")
    parser.add_argument("--write", action="store_true", help="record the table in RESULTS.md")
    args = parser.parse_args()
    jags = jags_version() or sys.exit("JAGS is not installed: apt-get install jags")
    rows = []
    for model in args.models:
        for J in args.sizes:
            rows.append(measure(model, J, args.chains, args.burn, args.iter, args.repeat))
            print(table(["model", "J"], rows).splitlines()[-1], flush=True)
    text = (f"{measured()}: {args.chains} chains, {args.burn} burn-in and {args.iter} kept sweeps "
            f"each, monitoring the hyperparameters; JAGS with its default samplers, no modules. "
            f"{method(jags, args.repeat)}\n\n{table(['model', 'J'], rows)}")
    print(text)
    if args.write:
        record("Scaling with the number of groups", text)


if __name__ == "__main__":
    main()
