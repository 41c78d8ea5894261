"""hiergraph and JAGS side by side on the classic BUGS examples, volume 1.

For each test script (``../shared/classic-bugs/vol1/*/testN.cmd``), both run the script's
model, data, initial values, chains, burn-in, iterations and thinning (optionally all
scaled by ``--scale``), alternately, each in a fresh process. Reported per script: wall
time of the whole run (including compile), the smallest bulk effective sample size over
the monitored scalars (ArviZ's rank-normalised split-R-hat ESS), and ESS per second; and
the ratio of hiergraph's ESS/s to JAGS's.

Needs JAGS (``apt-get install jags``) and ArviZ (``pip install arviz``); it installs
nothing itself. From the project root::

    python benchmarks/classic.py                          # every script, full length
    python benchmarks/classic.py line pump --scale 0.1    # some examples, 10% of the sweeps
    python benchmarks/classic.py --write                  # record the table in RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
from results import machine, record

ROOT = Path(__file__).resolve().parents[1]
VOL1 = ROOT.parent / "shared" / "classic-bugs" / "vol1"

HIERGRAPH_CHILD = """
import json, sys, time
start = time.perf_counter()
import hiergraph
from hiergraph.coda import write_coda
from hiergraph.jags_script import read_script
s = read_script(sys.argv[1])
scale = float(sys.argv[2])
model = hiergraph.compile_model(s.model, data=s.data, inits=s.inits or None)
draws = model.draws(chains=s.chains, burn=int(s.burn * scale), iter=int(s.iterations * scale),
                    thin=s.thin, seed=1, monitor=s.monitors)
write_coda(draws, sys.argv[3])
print(json.dumps({"seconds": time.perf_counter() - start}))
"""


def jags_script(script, scale: float, folder: Path) -> Path:
    """The test script rewritten with scaled updates and absolute paths, writing CODA to folder."""
    lines = [f"model in {script.model}"]
    lines += [f"data in {d}" for d in script.data]
    lines += [f"load {m}" for m in script.modules if m != "dic"]
    lines.append(f"compile, nchains({script.chains})")
    lines += [f"inits in {i}" for i in script.inits]
    lines += ["initialize", f"update {int(script.burn * scale)}"]
    lines += [f"monitor {m}, thin({script.thin})" for m in script.monitors]
    lines += [f"update {int(script.iterations * scale)}", "coda *", "exit"]
    path = folder / "run.cmd"
    path.write_text("\n".join(lines) + "\n")
    return path


def min_bulk_ess(folder: Path) -> float:
    import arviz

    from hiergraph.coda import read_coda

    draws = read_coda(folder)
    return float(min(arviz.ess(np.asarray(v), method="bulk") for v in draws.values()))


def run_hiergraph(cmd: Path, scale: float, folder: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", HIERGRAPH_CHILD, str(cmd), str(scale), str(folder)],
                         capture_output=True, text=True)
    if out.returncode:
        return {"error": out.stderr.strip().splitlines()[-1][:120]}
    return {"seconds": json.loads(out.stdout)["seconds"], "ess": min_bulk_ess(folder)}


def run_jags(cmd: Path, scale: float, folder: Path) -> dict:
    from hiergraph.jags_script import read_script

    script = jags_script(read_script(cmd), scale, folder)
    start = time.perf_counter()
    out = subprocess.run(["jags", str(script)], capture_output=True, text=True, cwd=folder)
    seconds = time.perf_counter() - start
    if out.returncode or not (folder / "CODAindex.txt").exists():
        return {"error": (out.stdout + out.stderr).strip().splitlines()[-1][:120]}
    return {"seconds": seconds, "ess": min_bulk_ess(folder)}


def measure(cmd: Path, scale: float) -> dict:
    row = {"test": f"{cmd.parent.name}/{cmd.stem}"}
    for name, runner in (("jags", run_jags), ("hiergraph", run_hiergraph)):
        with tempfile.TemporaryDirectory() as tmp:
            row[name] = runner(cmd, scale, Path(tmp))
    return row


def _cells(result: dict) -> str:
    if "error" in result:
        return f"error: {result['error']} | | "
    return f"{result['seconds']:.2f} | {result['ess']:.0f} | {result['ess'] / result['seconds']:.1f}"


def table(rows) -> str:
    lines = ["| test | JAGS s | JAGS min ESS | JAGS ESS/s | hiergraph s | hiergraph min ESS | "
             "hiergraph ESS/s | ESS/s ratio |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        j, h = row["jags"], row["hiergraph"]
        ratio = (f"{(h['ess'] / h['seconds']) / (j['ess'] / j['seconds']):.3f}"
                 if "error" not in j and "error" not in h else "")
        lines.append(f"| {row['test']} | {_cells(j)} | {_cells(h)} | {ratio} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("examples", nargs="*", help="example folders (default: all of volume 1)")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of each script's sweeps")
    parser.add_argument("--write", action="store_true", help="record the table in RESULTS.md")
    args = parser.parse_args()
    if not shutil.which("jags"):
        sys.exit("JAGS is not installed: apt-get install jags")
    scripts = [c for c in sorted(VOL1.glob("*/test*.cmd"))
               if not args.examples or c.parent.name in args.examples]
    rows = []
    for cmd in scripts:
        rows.append(measure(cmd, args.scale))
        print(table(rows).splitlines()[-1], flush=True)
    text = (f"Measured {date.today().isoformat()} on {machine()} by `python benchmarks/classic.py "
            f"{' '.join(args.examples)}{' --scale ' + str(args.scale) if args.scale != 1 else ''} "
            f"--write`: each volume-1 test script's model, data, inits, chains and thinning, "
            f"{'at ' + format(args.scale, '.0%') + ' of its sweeps' if args.scale != 1 else 'full length'},"
            f" JAGS 4.3.1 then hiergraph, each in a fresh process. Seconds are wall time of the "
            f"whole run including compile; ESS is ArviZ's bulk ESS, the smallest over the "
            f"monitored scalars; the ratio is hiergraph's ESS/s over JAGS's.\n\n" + table(rows))
    print(text)
    if args.write:
        record("Sampling the classic BUGS examples", text)


if __name__ == "__main__":
    main()
