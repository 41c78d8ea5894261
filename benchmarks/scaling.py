"""How cost grows with the number of groups: synthetic hierarchies, hiergraph and JAGS side by side.

Three models, each with J groups simulated from a fixed seed: a beta-binomial (rat
tumours, Gelman's hyperprior), a normal-normal (eight schools, J schools) and a
varying-intercept logistic regression with groups nested in regions. For each J both run
the same chains, burn-in and iterations, JAGS first, each in a fresh process. Reported:
wall time including compile, peak resident memory, the smallest bulk ESS over the
hyperparameters (where hierarchies mix slowest), ESS per second, and hiergraph's ESS/s
over JAGS's.

Needs JAGS (``apt-get install jags``); installs nothing. From the project root::

    python benchmarks/scaling.py                               # J = 10^2, 10^3, 10^4
    python benchmarks/scaling.py --sizes 100000 --models beta_binomial --write
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import numpy as np
from classic import min_bulk_ess
from graph_build import MODEL as RAT_TUMOURS
from results import machine, record

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
}


def simulate(model: str, J: int) -> dict:
    """Data for J groups, seed 1: the rat tumours' spread, eight schools' scale, and five
    Bernoulli observations per group with ten groups per region."""
    rng = np.random.default_rng(1)
    if model == "beta_binomial":
        n = rng.integers(10, 60, size=J)
        return {"J": J, "y": rng.binomial(n, rng.beta(1.4, 8.8, size=J)), "n": n}
    if model == "normal_normal":
        sigma = rng.uniform(9, 18, size=J)
        return {"J": J, "y": np.round(rng.normal(8, np.sqrt(6.0 ** 2 + sigma ** 2)), 2),
                "sigma": np.round(sigma, 2)}
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
            values = np.atleast_1d(value).tolist()
            f.write(f'"{name}" <- {values[0]}\n' if np.ndim(value) == 0 else
                    f'"{name}" <- c({", ".join(map(str, values))})\n')
    return spec, data


HIERGRAPH_CHILD = """
import json, resource, sys, time
start = time.perf_counter()
import hiergraph
from hiergraph.coda import write_coda
spec, data, out, chains, burn, iterations = sys.argv[1:4] + [int(v) for v in sys.argv[4:7]]
model = hiergraph.compile_model(spec, data=data)
draws = model.draws(chains=chains, burn=burn, iter=iterations, seed=1, monitor=sys.argv[7:])
write_coda(draws, out)
print(json.dumps({"seconds": time.perf_counter() - start,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

JAGS_CHILD = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
out = subprocess.run(["jags", sys.argv[1]], capture_output=True, text=True, cwd=sys.argv[2])
print(json.dumps({"seconds": time.perf_counter() - start, "returncode": out.returncode,
                  "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def run_child(code: str, *args) -> dict:
    result = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True)
    if result.returncode:
        return {"error": (result.stderr.strip().splitlines() or ["failed"])[-1][:120]}
    return json.loads(result.stdout)


def measure(model: str, J: int, chains: int, burn: int, iterations: int) -> dict:
    monitors = MODELS[model][1]
    row = {"model": model, "J": J}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        spec, data = write_problem(folder, model, J)
        jags_out, ours_out = folder / "jags", folder / "hiergraph"
        jags_out.mkdir()
        script = jags_out / "run.cmd"
        script.write_text("\n".join([f"model in {spec}", f"data in {data}", f"compile, nchains({chains})",
                                     "initialize", f"update {burn}",
                                     *[f"monitor {m}" for m in monitors],
                                     f"update {iterations}", "coda *", "exit"]) + "\n")
        row["jags"] = run_child(JAGS_CHILD, script, jags_out)
        if "error" not in row["jags"] and (jags_out / "CODAindex.txt").exists():
            row["jags"]["ess"] = min_bulk_ess(jags_out)
        else:
            row["jags"].setdefault("error", "JAGS failed")
        row["hiergraph"] = run_child(HIERGRAPH_CHILD, spec, data, ours_out, chains, burn, iterations, *monitors)
        if "error" not in row["hiergraph"]:
            row["hiergraph"]["ess"] = min_bulk_ess(ours_out)
    return row


def _cells(result: dict) -> str:
    if "error" in result:
        return f"error: {result['error']} | | | "
    return (f"{result['seconds']:.1f} | {result['peak_mb']:.0f} | {result['ess']:.0f} | "
            f"{result['ess'] / result['seconds']:.1f}")


def table(rows) -> str:
    lines = ["| model | J | JAGS s | JAGS MB | JAGS min ESS | JAGS ESS/s | hiergraph s | hiergraph MB | "
             "hiergraph min ESS | hiergraph ESS/s | ESS/s ratio |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        j, h = row["jags"], row["hiergraph"]
        ratio = (f"{(h['ess'] / h['seconds']) / (j['ess'] / j['seconds']):.2f}"
                 if "error" not in j and "error" not in h else "")
        lines.append(f"| {row['model']} | {row['J']:,} | {_cells(j)} | {_cells(h)} | {ratio} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--sizes", nargs="*", type=int, default=[100, 1000, 10000])
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--burn", type=int, default=1000)
    parser.add_argument("--iter", type=int, default=1000)
    parser.add_argument("--write", action="store_true", help="record the table in RESULTS.md")
    args = parser.parse_args()
    if not shutil.which("jags"):
        sys.exit("JAGS is not installed: apt-get install jags")
    rows = []
    for model in args.models:
        for J in args.sizes:
            rows.append(measure(model, J, args.chains, args.burn, args.iter))
            print(table(rows).splitlines()[-1], flush=True)
    text = (f"Measured {date.today().isoformat()} on {machine()} by `python benchmarks/scaling.py "
            f"--models {' '.join(args.models)} --sizes {' '.join(map(str, args.sizes))} "
            f"--chains {args.chains} --burn {args.burn} --iter {args.iter} --write`: "
            f"{args.chains} chains, {args.burn} burn-in and {args.iter} kept sweeps each, JAGS 4.3.1 "
            f"(default samplers, no modules) then hiergraph, each in a fresh process. Seconds are wall "
            f"time including compile; MB is peak resident memory; ESS is ArviZ's bulk ESS, the "
            f"smallest over the hyperparameters; the ratio is hiergraph's ESS/s over JAGS's.\n\n"
            + table(rows))
    print(text)
    if args.write:
        record("Scaling with the number of groups", text)


if __name__ == "__main__":
    main()
