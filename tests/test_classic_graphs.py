"""Volume 1 of the classic BUGS examples: every test script's model binds to its data, and
the node counts equal the ones JAGS 4.3.1 prints after compiling the same model and data."""

from __future__ import annotations

import pytest

from conftest import classic_bugs, jags_graph_sizes, run_cli, script_files

import hiergraph

CASES = jags_graph_sizes()


def _ids():
    return [f"{case['example'].split('/')[-1]}-{case['test']}" for case in CASES]


@pytest.mark.parametrize("case", CASES, ids=_ids())
def test_counts_equal_jags(case):
    folder = classic_bugs() / case["example"]
    files = script_files(folder / f"{case['test']}.cmd")
    assert files["model"].name == case["model"]
    model = hiergraph.compile_model(files["model"], data=[folder / d for d in case["data"]],
                                    inits=files.get("inits"))
    report = model.check()
    assert (report.observed, report.unobserved, report.total) == (
        case["observed_stochastic"], case["unobserved_stochastic"], case["total_graph_size"])


def test_suite_is_complete():
    """Every testN.cmd of volume 1 has an entry in JAGS's table, so none is silently skipped."""
    scripts = sorted(classic_bugs().glob("vol1/*/test*.cmd"))
    listed = {(c["example"], c["test"]) for c in CASES}
    assert {(f"vol1/{s.parent.name}", s.stem) for s in scripts} == listed


def test_check_command_prints_jags_counts():
    folder = classic_bugs() / "vol1" / "rats"
    result = run_cli("check", "rats.bug", "--data", "ratsmiss-data.R", "--inits", "rats-init.R",
                     cwd=folder)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:3] == ["Observed stochastic nodes: 90", "Unobserved stochastic nodes: 125",
                         "Total graph size: 537"]
    table = {line.split()[0]: line.split() for line in lines[5:]}
    assert table["Y[i,j]"] == ["Y[i,j]", "stochastic", "dnorm", "30x5", "90/150"]
    assert table["mu[i,j]"] == ["mu[i,j]", "deterministic", "-", "30x5", "-"]
    assert table["alpha.c"] == ["alpha.c", "stochastic", "dnorm", "1", "0/1"]
