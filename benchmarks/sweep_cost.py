"""How hiergraph's cost grows with the number of groups, up to J = 10^6: compile time, time
per sweep and peak memory (hiergraph alone; ``scaling.py`` compares with JAGS, which at
J = 10^6 would take days).

The beta-binomial and normal-normal hierarchies of ``scaling.py``, simulated the same way.
For each J, in a fresh process: import hiergraph, read the data, parse, bind and compile the
Plan (compile seconds, from the start of the process and without the imports); then run 2
chains for ``--sweeps`` burn-in and ``--sweeps`` kept sweeps monitoring the hyperparameters
(milliseconds per sweep of both chains, timed from the end of the first sweep to the end of
the last, so one-time costs such as initial values and lazy imports are left out; and that
over J: flat if the cost is linear in J).
From the project root::

    python benchmarks/sweep_cost.py                 # J = 10^2 .. 10^6, prints a table
    python benchmarks/sweep_cost.py --write         # and records it in RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from results import measured, record, run_measured
from scaling import MODELS, write_problem

CHILD = """
import json, sys, time
start = time.perf_counter()
import hiergraph
from hiergraph.compiler import compile_plan
from hiergraph.engine import resolve_monitor, run
imported = time.perf_counter()
model = hiergraph.compile_model(sys.argv[1], data=sys.argv[2])
plan = compile_plan(model.graph, 2)
compiled = time.perf_counter()
sweeps = int(sys.argv[3])
monitors = [resolve_monitor(model.graph, name) for name in sys.argv[4:]]
ends = []
run(model.graph, plan, chains=2, burn=sweeps, iterations=sweeps, seed=1, monitors=monitors,
    on_sweep=lambda sweep: ends.append(time.perf_counter()))
print(json.dumps({"total": compiled - start, "compile": compiled - imported,
                  "sweep": (ends[-1] - ends[0]) / (len(ends) - 1)}))
"""


def measure(model: str, J: int, sweeps: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        spec, data = write_problem(Path(tmp), model, J)
        result = run_measured([sys.executable, "-c", CHILD, spec, data, sweeps, *MODELS[model][1]],
                              check=True)
    return {"model": model, "J": J, "peak_mb": result["peak_mb"],
            **json.loads(result["stdout"].strip().splitlines()[-1])}


def table(rows) -> str:
    lines = ["| model | J | compile s (with imports) | ms per sweep | us per sweep per group | peak MB |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['J']:,} | {r['compile']:.2f} ({r['total']:.2f}) | "
                     f"{1000 * r['sweep']:.2f} | {1e6 * r['sweep'] / r['J']:.2f} | {r['peak_mb']:.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="*", default=["beta_binomial", "normal_normal"],
                        choices=["beta_binomial", "normal_normal"])
    parser.add_argument("--sizes", nargs="*", type=int, default=[100, 1000, 10000, 100000, 1000000])
    parser.add_argument("--sweeps", type=int, default=50, help="burn-in sweeps, and as many kept")
    parser.add_argument("--write", action="store_true", help="record the table in RESULTS.md")
    args = parser.parse_args()
    rows = []
    for model in args.models:
        for J in args.sizes:
            rows.append(measure(model, J, args.sweeps))
            print(table(rows).splitlines()[-1], flush=True)
    text = (f"{measured()}: hiergraph alone, 2 chains, {args.sweeps} burn-in and {args.sweeps} kept "
            f"sweeps, each J in a fresh process. Compile is reading the data, parsing, binding and "
            f"compiling the Plan (in brackets: from the start of the process, with Python's imports); "
            f"a sweep updates both chains, timed after the first (one-time costs left out).\n\n{table(rows)}")
    print(text)
    if args.write:
        record("Cost per sweep as J grows", text)


if __name__ == "__main__":
    main()
