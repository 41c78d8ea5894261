"""The classic BUGS suite, volume 1, run as its JAGS scripts say: each monitored node's
posterior mean within 0.15 benchmark standard deviations of JAGS's benchmark mean (the
suite's own rule, from its ReadMe). Every script is here, marked ``slow``; the ones in
``FAST`` also run in the default test run. ``pytest -m slow`` runs the rest."""

from __future__ import annotations

import re

import numpy as np
import pytest

from conftest import CLASSIC, classic_bugs

import hiergraph
from hiergraph.jags_script import read_script

# Quick enough at their scripts' full length to run on every change, and between them
# conjugate normal and gamma updates, slice sampling and forward draws.
FAST = {"line/test1", "pump/test1"}
TOLERANCE = 0.15  # benchmark SDs


def benchmark(path, monitors) -> dict[str, tuple[float, float]]:
    """JAGS's benchmark means and SDs, by node name, from ``bench-testN.R``."""
    text = path.read_text()
    numbers = [float(v) for v in re.search(r"c\((.*?)\)", text, re.S).group(1).split(",")]
    if ".Dimnames" not in text:  # one node: a named vector Mean, SD, ...
        return {monitors[0]: (numbers[0], numbers[1])}
    names = re.findall(r'"([^"]+)"', text.split(".Dimnames")[1].split('c("Mean"')[0])
    table = np.array(numbers).reshape((len(names), -1), order="F")
    return {name: (table[i, 0], table[i, 1]) for i, name in enumerate(names)}


def scripts():
    if not CLASSIC.is_dir():
        return [pytest.param(None, id="classic-bugs-absent")]
    params = []
    for cmd in sorted(CLASSIC.glob("vol1/*/test*.cmd")):
        name = f"{cmd.parent.name}/{cmd.stem}"
        marks = [] if name in FAST else [pytest.mark.slow]
        params.append(pytest.param(cmd, id=name, marks=marks))
    return params


@pytest.mark.parametrize("cmd", scripts())
def test_posterior_means_match_jags(cmd):
    classic_bugs()
    script = read_script(cmd)
    model = hiergraph.compile_model(script.model, data=script.data, inits=script.inits or None)
    draws = model.draws(chains=script.chains, burn=script.burn, iter=script.iterations,
                        thin=script.thin, seed=20261123, monitor=script.monitors)
    bench = benchmark(cmd.parent / f"bench-{cmd.stem}.R", script.monitors)
    z = {label: (draws[label].mean() - mean) / sd
         for label, (mean, sd) in bench.items() if label in draws.labels}
    assert set(z) == set(bench), f"not monitored: {set(bench) - set(z)}"
    far = {label: round(float(v), 3) for label, v in z.items() if abs(v) > TOLERANCE}
    assert not far, f"posterior means off by more than {TOLERANCE} benchmark SDs: {far}"
