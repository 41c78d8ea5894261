"""hiergraph and JAGS side by side on the classic BUGS examples, volume 1.

For each test script (``../shared/classic-bugs/vol1/*/testN.cmd``), both run the script's
model, data, initial values, chains, burn-in, iterations and thinning (the sweeps
optionally scaled by ``--scale``), ``--repeat`` times alternately, each run a fresh
process (see side_by_side.py). Reported per script, medians over the runs: wall time of
the whole run (including compile), sampling time, peak memory, the smallest bulk effective
sample size over the monitored scalars (ArviZ's rank-normalised split-R-hat ESS), and ESS
per second; and the ratio of hiergraph's ESS/s to JAGS's.

Needs JAGS (``apt-get install jags``) and ArviZ (``pip install arviz``); it installs
nothing itself. From the project root::

    python benchmarks/classic.py                          # every script, full length
    python benchmarks/classic.py line pump --scale 0.1    # some examples, 10% of the sweeps
    python benchmarks/classic.py --repeat 3 --write       # medians of 3 runs, into RESULTS.md
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from hiergraph.jags_script import Script, read_script
from results import jags_version, measured, record
from side_by_side import compare, method, table

ROOT = Path(__file__).resolve().parents[1]
VOL1 = ROOT.parent / "shared" / "classic-bugs" / "vol1"


def scaled(cmd: Path, scale: float) -> Script:
    """The test script with ``scale`` of its burn-in and iterations, without the dic module."""
    script = read_script(cmd)
    return replace(script, burn=int(script.burn * scale), iterations=int(script.iterations * scale),
                   modules=[m for m in script.modules if m != "dic"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("examples", nargs="*", help="example folders (default: all of volume 1)")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of each script's sweeps")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each program; medians reported")
    parser.add_argument("--write", action="store_true", help="record the table in RESULTS.md")
    parser.add_argument("--backend", default="auto", choices=("auto", "numpy", "numba"),
                        help="hiergraph's backend (auto)")
    parser.add_argument("--cores", type=int, default=None,
                        help="chains hiergraph runs at once (default: one per core)")
    args = parser.parse_args()
    jags = jags_version() or sys.exit("JAGS is not installed: apt-get install jags")
    scripts = [c for c in sorted(VOL1.glob("*/test*.cmd"))
               if not args.examples or c.parent.name in args.examples]
    rows = []
    for cmd in scripts:
        result = compare(scaled(cmd, args.scale), args.repeat, args.backend, args.cores)
        rows.append({"key": [f"{cmd.parent.name}/{cmd.stem}"], **result})
        print(table(["test"], rows).splitlines()[-1], flush=True)
    length = "full length" if args.scale == 1 else f"at {args.scale:.0%} of its sweeps"
    text = (f"{measured()}: each volume-1 test script's model, data, inits, chains and thinning, "
            f"{length}. {method(jags, args.repeat, args.backend, args.cores)}\n\n{table(['test'], rows)}")
    print(text)
    if args.write:
        record("Sampling the classic BUGS examples", text)


if __name__ == "__main__":
    main()
