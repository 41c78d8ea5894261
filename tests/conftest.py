"""Shared test helpers: where the classic BUGS suite is, and how to run the command line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CLASSIC = SHARED / "classic-bugs"


def classic_bugs() -> Path:
    """The classic BUGS suite beside the checkout; skip the test where it is absent."""
    if not CLASSIC.is_dir():
        pytest.skip(f"the classic BUGS suite is not at {CLASSIC} (it ships beside the project, "
                    f"not inside it)")
    return CLASSIC


def jags_graph_sizes() -> list[dict]:
    """JAGS 4.3.1's node counts for each volume-1 test script's model and data."""
    path = CLASSIC / "jags-graph-sizes.json"
    return json.loads(path.read_text())["tests"] if path.is_file() else []


def script_files(cmd: Path) -> dict[str, Path]:
    """The model, data and inits files a JAGS test script (``testN.cmd``) names."""
    files = {}
    for line in cmd.read_text().splitlines():
        match = re.match(r'\s*(model|data|inits|parameters)\s+in\s+"?([^"\s]+)"?', line)
        if match:
            kind = "inits" if match.group(1) == "parameters" else match.group(1)
            files[kind] = cmd.parent / match.group(2)
    return files


def run_cli(*args, cwd=None) -> subprocess.CompletedProcess:
    """``hiergraph ARGS`` in a subprocess, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "hiergraph", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


@pytest.fixture(scope="session", autouse=True)
def fresh_compile_cache(tmp_path_factory):
    """The numba backend's cache (hiergraph.jit.runner) in a folder of this session's own, for
    this process and the command lines it starts: every model is compiled afresh, as on a new
    machine, and the user's cache is left alone."""
    import os

    previous = os.environ.get("HIERGRAPH_CACHE")
    os.environ["HIERGRAPH_CACHE"] = str(tmp_path_factory.mktemp("hiergraph-cache"))
    yield
    if previous is None:
        del os.environ["HIERGRAPH_CACHE"]
    else:
        os.environ["HIERGRAPH_CACHE"] = previous
