"""Plots are files: each kind is written, is a PNG of the size asked, and is not empty; the
raw estimates behind the shrinkage plot are each unit's own-data estimate. (The pictures
themselves were looked at when the plots were made; a test cannot judge them.)"""

from __future__ import annotations

import struct

import numpy as np
import pytest

from hiergraph import compile_model
from hiergraph.errors import UsageError
from hiergraph.plots import DPI, FIGURE_SIZE
from hiergraph.raw import raw_estimates

from conftest import REPO, run_cli

SPEC = """model {
  for (j in 1:J) {
    y[j] ~ dbin(theta[j], n[j])
    theta[j] ~ dbeta(a, b)
  }
  a ~ dgamma(2, 0.5)
  b ~ dgamma(2, 0.1)
}"""
DATA = {"J": 6, "y": np.array([0.0, 2, 5, 1, 9, 3]), "n": np.array([10.0, 20, 25, 5, 40, 12])}
RUN = dict(chains=2, burn=20, iter=100, seed=1)


def png_size(path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


@pytest.fixture(scope="module")
def model():
    return compile_model(SPEC, data=DATA)


@pytest.fixture(scope="module")
def draws(model):
    return model.draws(**RUN)


@pytest.mark.parametrize("kind, nodes, height", [
    ("trace", ["a", "b"], 5 * DPI), ("density", None, FIGURE_SIZE[1] * DPI),
    ("shrinkage", "theta", FIGURE_SIZE[1] * DPI), ("ppc", None, FIGURE_SIZE[1] * DPI)])
def test_each_plot_is_a_png_of_its_size(model, draws, tmp_path, kind, nodes, height):
    path = model.plot(kind, tmp_path / f"{kind}.png", nodes=nodes, statistics=["mean", "max"], draws=draws)
    assert path.stat().st_size > 10_000  # axes, labels and data, not a blank canvas
    assert png_size(path) == (FIGURE_SIZE[0] * DPI, height)


def test_raw_estimates_are_each_units_own_data():
    rates, sizes, positions = raw_estimates(compile_model(SPEC, data=DATA).graph, "theta")
    assert np.allclose(rates, DATA["y"] / DATA["n"]) and np.allclose(sizes, DATA["n"])
    counts = compile_model(REPO / "specs" / "kidney_cancer.spec", data=REPO / "specs" / "kidney_cancer.R")
    rates, sizes, _ = raw_estimates(counts.graph, "theta")  # dpois(n[j] * theta[j]): y / n
    y, n = (counts.graph.fixed_values[v] for v in ("y", "n"))
    assert np.allclose(rates, y / n) and np.allclose(sizes, n)


def test_mistakes_are_one_clear_error(model, draws, tmp_path):
    with pytest.raises(UsageError, match="needs one node"):
        model.plot("shrinkage", tmp_path / "s.png", draws=draws)
    with pytest.raises(UsageError, match="name a .png, .svg or .pdf"):
        model.plot("trace", tmp_path / "t.jpeg", nodes=["a"], draws=draws)
    with pytest.raises(UsageError, match="no observed binomial, Poisson or normal node reads it"):
        model.plot("shrinkage", tmp_path / "s.png", nodes="a", draws=draws)


def test_command_line_writes_the_file(tmp_path):
    out = tmp_path / "shrinkage.png"
    done = run_cli("plot", "shrinkage", REPO / "specs" / "rat_tumors_no_pooling.spec", "--data",
                   REPO / "specs" / "rat_tumors.R", "--node", "theta", "--chains", 2, "--burn", 10,
                   "--iter", 100, "--seed", 1, "-o", out)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"wrote {out}" and png_size(out) == (800, 500)
