"""How long building the model graph takes, and how much memory, as the model grows.

A rat-tumour style beta-binomial model (``y[j] ~ dbin(theta[j], n[j])``,
``theta[j] ~ dbeta(a, b)``) with J experiments, its data simulated with a fixed seed and
written as an R dump file. For each J, in fresh processes:

* hiergraph: read the data file, parse, bind and check the model (``compile_model``);
* JAGS (when the ``jags`` program is installed: ``apt-get install jags``): ``model in``,
  ``data in``, ``compile`` -- the same work.

Wall time and peak resident memory (``ru_maxrss``) of each process, both programs printing
the number of unobserved stochastic nodes as a check that they built the same graph. Run
from the project
root::

    python benchmarks/graph_build.py                 # J = 10^4, 10^5, 10^6, prints a table
    python benchmarks/graph_build.py --write         # and records it in benchmarks/RESULTS.md
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from results import jags_version, measured, record, run_measured

MODEL = """model {
  for (j in 1:J) {
    y[j] ~ dbin(theta[j], n[j])
    theta[j] ~ dbeta(a, b)
  }
  phi ~ dunif(0, 1)
  s ~ dunif(0, 1)
  a <- phi / pow(s, 2)
  b <- (1 - phi) / pow(s, 2)
}
"""

# Prints the count in JAGS's words, so that both programs' output is read alike.
HIERGRAPH_CHILD = """
import sys
import hiergraph
model = hiergraph.compile_model(sys.argv[1], data=sys.argv[2])
print("Unobserved stochastic nodes:", model.check().unobserved)
"""


def write_problem(folder: Path, J: int) -> tuple[Path, Path]:
    """The model and R-dump data for J experiments, simulated with seed 1."""
    rng = np.random.default_rng(1)
    n = rng.integers(10, 60, size=J)
    theta = rng.beta(1.4, 8.8, size=J)
    y = rng.binomial(n, theta)
    model = folder / "rats.bug"
    model.write_text(MODEL)
    data = folder / "rats-data.R"
    with data.open("w") as f:
        f.write(f'"J" <- {J}\n')
        for name, values in (("y", y), ("n", n)):
            f.write(f'"{name}" <- c({", ".join(map(str, values.tolist()))})\n')
    return model, data


def build(argv: list) -> dict:
    result = run_measured(argv, check=True)
    result["unobserved"] = int(result["stdout"].split("Unobserved stochastic nodes:")[1].split()[0])
    return result


def measure(J: int, jags: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model, data = write_problem(folder, J)
        row = {"J": J, "hiergraph": build([sys.executable, "-c", HIERGRAPH_CHILD, model, data])}
        if jags:
            script = folder / "compile.cmd"
            script.write_text(f"model in {model}\ndata in {data}\ncompile, nchains(1)\nexit\n")
            row["jags"] = build(["jags", script])
        return row


def table(rows: list[dict]) -> str:
    lines = ["| J | hiergraph build s | hiergraph peak MB | JAGS compile s | JAGS peak MB |",
             "|---:|---:|---:|---:|---:|"]
    for row in rows:
        h, j = row["hiergraph"], row.get("jags")
        jags = f"{j['seconds']:.2f} | {j['peak_mb']:.0f}" if j else "not run | not run"
        lines.append(f"| {row['J']:,} | {h['seconds']:.2f} | {h['peak_mb']:.0f} | {jags} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10**4, 10**5, 10**6])
    parser.add_argument("--write", action="store_true", help="record the table in RESULTS.md")
    args = parser.parse_args()
    jags = jags_version()
    rows = []
    for J in args.sizes:
        row = measure(J, jags is not None)
        assert row["hiergraph"]["unobserved"] == J + 2
        if "jags" in row:
            assert row["jags"]["unobserved"] == J + 2
        rows.append(row)
        print(table(rows).splitlines()[-1], flush=True)
    text = (f"{measured()}: a rat-tumour style beta-binomial model with J experiments, from an R"
            f" dump data file to a checked model graph (hiergraph: read data, parse, bind, check;"
            f" JAGS {jags or '(not installed)'}: `model in`, `data in`, `compile`). Wall seconds"
            f" and peak resident memory of a fresh process each.\n\n" + table(rows))
    print(text)
    if args.write:
        record("Building the model graph", text)


if __name__ == "__main__":
    main()
