"""What every benchmark script shares: measuring a program in a fresh process, naming the
machine and JAGS, and recording a table in RESULTS.md, one section per script."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


# Runs a program (argv[2:]) and writes its wall seconds, exit code, ru_maxrss (kB) and CPU
# seconds (user and system, all its threads) to the file argv[1]. A program's ru_maxrss includes what the process it was forked from held
# before its exec: forked from a benchmark (numpy, ArviZ, hiergraph loaded), a 6 MB JAGS
# run would read as the benchmark's own 150-200 MB. This launcher, run with ``python -S``
# and importing nothing before the fork, holds about 6 MB, the floor of the figures.
MEASURE = """
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as report:
    report.write(f"{time.perf_counter() - start} {os.waitstatus_to_exitcode(status)} {usage.ru_maxrss} "
                 f"{usage.ru_utime + usage.ru_stime}")
"""


def run_measured(argv: list, cwd: Path | None = None, check: bool = False) -> dict:
    """Run ``argv`` in a fresh process: its exit code, standard output, last line of output,
    wall seconds, CPU seconds and peak resident MB. ``check`` raises RuntimeError if the program fails."""
    with tempfile.NamedTemporaryFile("w+") as report:
        run = subprocess.run([sys.executable, "-S", "-c", MEASURE, report.name, *map(str, argv)],
                             capture_output=True, text=True, cwd=cwd)
        seconds, returncode, maxrss_kb, cpu = report.read().split()
    output = (run.stdout + run.stderr).strip().splitlines()
    result = {"returncode": int(returncode), "stdout": run.stdout,
              "last_line": output[-1][:120] if output else "",
              "seconds": float(seconds), "cpu": float(cpu), "peak_mb": int(maxrss_kb) / 1024}
    if check and result["returncode"]:
        raise RuntimeError(f"{argv[0]} failed: {result['last_line']}")
    return result


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def jags_version() -> str | None:
    """The installed JAGS's version, from its welcome line; None without JAGS."""
    if not shutil.which("jags"):
        return None
    welcome = subprocess.run(["jags"], input="exit\n", capture_output=True, text=True).stdout
    return re.search(r"JAGS (\S+)", welcome).group(1)


def measured() -> str:
    """The opening of a table's text: when, on what, and the exact command that made it."""
    command = " ".join(["python", f"benchmarks/{Path(sys.argv[0]).name}", *sys.argv[1:]])
    return f"Measured {date.today().isoformat()} on {machine()} by `{command}`"


def record(heading: str, text: str) -> None:
    """Replace the section ``## heading`` of RESULTS.md with ``text``, keeping the others."""
    heading = f"## {heading}"
    old = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    before, _, after = old.partition(heading)
    rest = after.split("\n## ", 1)
    tail = "\n## " + rest[1] if len(rest) > 1 else ""
    RESULTS.write_text(before.rstrip() + "\n\n" + heading + "\n\n" + text + "\n" + tail)
