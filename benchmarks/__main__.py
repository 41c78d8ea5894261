"""Regenerate benchmarks/RESULTS.md: graph_build.py, sweep_cost.py, scaling.py and classic.py
in turn, each with its defaults and ``--write``.

From the project root::

    python -m benchmarks            # the whole of RESULTS.md: many hours, classic.py most
    python -m benchmarks --quick    # a smoke check, printed only: RESULTS.md is left alone

Each script runs as ``python benchmarks/NAME.py`` in its own process, exactly as it would be
run by hand, so its table records the command that made it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

# Each script, with its options for --quick: smaller problems and shorter runs.
QUICK = {
    "graph_build.py": ["--sizes", "10000", "100000"],
    "sweep_cost.py": ["--sizes", "1000", "100000", "--sweeps", "10"],
    "scaling.py": ["--sizes", "100", "1000", "--repeat", "1"],
    "classic.py": ["--scale", "0.1"],
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="short runs whose tables are printed, not written")
    args = parser.parse_args()
    for script, quick in QUICK.items():
        options = quick if args.quick else ["--write"]
        done = subprocess.run([sys.executable, f"benchmarks/{script}", *options],
                              cwd=Path(__file__).resolve().parents[1])
        if done.returncode:
            sys.exit(f"benchmarks/{script} failed; the scripts after it were not run")


if __name__ == "__main__":
    main()
