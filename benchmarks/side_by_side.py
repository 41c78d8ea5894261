"""JAGS and hiergraph on the same JAGS script, alternately and repeatedly, every run a fresh
process measured alike: classic.py and scaling.py both compare the two this way."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from results import run_measured

# The draws call is timed alone; the CODA files are written after it.
HIERGRAPH_CHILD = """
import json, sys, time
from hiergraph.coda import write_coda
from hiergraph.jags_script import read_script
script = read_script(sys.argv[1])
model = script.compile()
start = time.perf_counter()
draws = model.draws(chains=script.chains, burn=script.burn, iter=script.iterations,
                    thin=script.thin, seed=int(sys.argv[3]), monitor=script.monitors,
                    backend=sys.argv[4], cores=int(sys.argv[5]) if sys.argv[5] else None)
sampling = time.perf_counter() - start
write_coda(draws, sys.argv[2])
print(json.dumps({"sampling": sampling}))
"""

MEASURES = ("s", "CPU s", "sampling s", "MB", "min ESS", "ESS/s")


def write_scripts(script, folder: Path) -> tuple[Path, Path]:
    """``script`` (a :class:`hiergraph.jags_script.Script`) as JAGS commands with absolute
    paths: the whole run, writing CODA files to the working folder, and its set-up alone
    (through ``initialize``), whose time taken off the whole run's is JAGS's sampling time."""
    setup = [f"model in {script.model}", *[f"data in {d}" for d in script.data],
             *[f"load {m}" for m in script.modules], f"compile, nchains({script.chains})",
             *[f"inits in {i}" for i in script.inits], "initialize"]
    run = [*setup, f"update {script.burn}",
           *[f"monitor {m}, thin({script.thin})" for m in script.monitors],
           f"update {script.iterations}", "coda *"]
    paths = folder / "run.cmd", folder / "setup.cmd"
    for path, lines in zip(paths, (run, setup)):
        path.write_text("\n".join([*lines, "exit"]) + "\n")
    return paths


def min_bulk_ess(folder: Path) -> float:
    import arviz

    from hiergraph.coda import read_coda

    draws = read_coda(folder)
    return float(min(arviz.ess(np.asarray(v), method="bulk") for v in draws.values()))


def _result(whole: dict, sampling: float, out: Path) -> dict:
    ess = min_bulk_ess(out)
    return {"seconds": whole["seconds"], "cpu": whole["cpu"], "sampling": sampling,
            "peak_mb": whole["peak_mb"], "ess": ess, "ess_per_s": ess / whole["seconds"]}


def _sampling_ratio(jags: dict, hiergraph: dict) -> str:
    """hiergraph's ESS per sampling second over JAGS's; blank where JAGS's sampling time is
    too short to measure as a difference of two runs."""
    if jags["sampling"] < SHORTEST_SAMPLING or hiergraph["sampling"] <= 0:
        return ""
    return f"{(hiergraph['ess'] / hiergraph['sampling']) / (jags['ess'] / jags['sampling']):.3g}"


SHORTEST_SAMPLING = 0.05  # seconds


def _jags(run: Path, setup: Path, out: Path) -> dict:
    setup_only = run_measured(["jags", setup], cwd=out)
    whole = run_measured(["jags", run], cwd=out)
    # JAGS exits with 0 when it cannot set a monitor; then it writes no CODA files
    if whole["returncode"] or not (out / "CODAindex.txt").exists():
        return {"error": whole["last_line"]}
    # on tiny runs the two runs' noise can exceed the sampling time
    return _result(whole, max(whole["seconds"] - setup_only["seconds"], 0.0), out)


def _hiergraph(run: Path, out: Path, seed: int, backend: str, cores: int | None) -> dict:
    whole = run_measured([sys.executable, "-c", HIERGRAPH_CHILD, run, out, seed, backend, "" if cores is None else cores])
    if whole["returncode"]:
        return {"error": whole["last_line"]}
    return _result(whole, json.loads(whole["stdout"])["sampling"], out)


def _medians(results: list[dict]) -> dict:
    """Each measure's median over the repetitions, or the failure that ended them."""
    if "error" in results[-1]:
        return results[-1]
    return {key: float(np.median([r[key] for r in results])) for key in results[0]}


def compare(script, repeat: int, backend: str = "auto", cores: int | None = None) -> dict:
    """``script`` run ``repeat`` times by JAGS then by hiergraph on ``backend`` with ``cores``
    (None: hiergraph's default, every core; seeded with the repetition's number; JAGS seeds
    itself afresh each run): ``{"jags": ..., "hiergraph": ...}``,
    each the medians of :data:`MEASURES` or an error. A program that fails is not run again."""
    runs = {"jags": [], "hiergraph": []}
    with tempfile.TemporaryDirectory() as tmp:
        run, setup = write_scripts(script, Path(tmp))
        for repetition in range(1, repeat + 1):
            for name, results in runs.items():
                if results and "error" in results[-1]:
                    continue
                out = Path(tmp) / f"{name}{repetition}"
                out.mkdir()
                results.append(_jags(run, setup, out) if name == "jags" else
                               _hiergraph(run, out, seed=repetition, backend=backend, cores=cores))
    return {name: _medians(results) for name, results in runs.items()}


def method(jags: str, repeat: int, backend: str = "auto", cores: int | None = None) -> str:
    """What the table's columns are, for the text above it."""
    threads = (f"chains run at once, one thread per core ({os.cpu_count()} here)" if cores is None
               else f"at most {cores} chain{'s' * (cores > 1)} at once")
    runs = "once" if repeat == 1 else f"{repeat} times, alternately"
    medians = "" if repeat == 1 else "; each cell is the median over the runs"
    return (f"JAGS {jags} and hiergraph each ran {runs}, JAGS first, every run a fresh "
            f"process{medians}. Seconds are wall time of the whole run including compile (and "
            f"hiergraph's Python start-up and imports); CPU seconds are user and system time of "
            f"all the process's threads (hiergraph's numba backend: {threads}; JAGS runs chains "
            f"one after another); sampling seconds are, for hiergraph, its `model.draws` call, and for JAGS the whole run less a run of the same script "
            f"without its updates (compile and initialize only, in another fresh process); MB "
            f"is peak resident memory; ESS is ArviZ's bulk ESS, the smallest over the monitored "
            f"scalars; ESS/s is ESS over wall seconds, run by run; the ratio is hiergraph's ESS/s "
            f"over JAGS's, and the sampling ratio the same with sampling seconds (blank where "
            f"JAGS's is under {SHORTEST_SAMPLING} s). hiergraph's backend: {backend} (numba "
            f"compiles a model once and keeps the machine code in its cache folder: a model's "
            f"first run pays for compiling, later runs load it).")


def _cells(result: dict) -> list[str]:
    if "error" in result:
        return [f"error: {result['error']}"] + [""] * (len(MEASURES) - 1)
    return [f"{result['seconds']:.2f}", f"{result['cpu']:.2f}", f"{result['sampling']:.2f}",
            f"{result['peak_mb']:.0f}", f"{result['ess']:.0f}", f"{result['ess_per_s']:.1f}"]


def table(keys: list[str], rows: list[dict]) -> str:
    """Markdown: the ``keys`` columns (each row's ``key`` cells), JAGS's and hiergraph's
    measures, and the ratio of their ESS/s."""
    measures = [f"{program} {m}" for program in ("JAGS", "hiergraph") for m in MEASURES]
    lines = ["| " + " | ".join([*keys, *measures, "ESS/s ratio", "ratio, sampling"]) + " |",
             "|" + "---|" * len(keys) + "---:|" * (len(measures) + 2)]
    for row in rows:
        j, h = row["jags"], row["hiergraph"]
        ok = "error" not in j and "error" not in h
        ratios = [f"{h['ess_per_s'] / j['ess_per_s']:.3g}", _sampling_ratio(j, h)] if ok else ["", ""]
        lines.append("| " + " | ".join([*row["key"], *_cells(j), *_cells(h), *ratios]) + " |")
    return "\n".join(lines)
