"""Plate diagrams: the specification (plates, nodes, edges) as plain data for several model
shapes, the same specifications drawn by the real ``dot`` into SVG and PNG, and the
``hiergraph graph`` command with its errors."""

from __future__ import annotations

import json

import graphviz
import numpy as np
import pytest

from conftest import REPO, classic_bugs, run_cli, script_files

import hiergraph
from hiergraph.diagram import EXPAND_LIMIT, Node, Plate, plate_diagram, scalar_diagram
from hiergraph.diagram_render import to_graphviz, write_diagram
from hiergraph.errors import UsageError

RAT_TUMORS = REPO / "specs" / "rat_tumors.spec"
RAT_TUMORS_DATA = REPO / "specs" / "rat_tumors.R"

THREE_LEVELS = """
model {
  for (s in 1:S) {
    for (c in 1:C) {
      for (k in 1:K) {
        y[s, c, k] ~ dnorm(mu.class[s, c], tau.y)
      }
      mu.class[s, c] ~ dnorm(mu.school[s], tau.class)
    }
    mu.school[s] ~ dnorm(mu, tau.school)
  }
  mu ~ dnorm(0, 1.0E-4)
  tau.y ~ dgamma(1, 1)
  tau.class ~ dgamma(1, 1)
  tau.school ~ dgamma(1, 1)
}"""
THREE_LEVELS_DATA = {"S": 3, "C": 2, "K": 4, "y": np.linspace(-1, 1, 24).reshape(3, 2, 4)}

CROSSED = """
model {
  for (i in 1:N) {
    for (j in 1:J) {
      y[i, j] ~ dnorm(a[i] + b[j] + beta * x[j], tau)
    }
  }
  for (i in 1:N) { a[i] ~ dnorm(0, tau.a) }
  for (j in 1:J) { b[j] ~ dnorm(0, tau.b) }
  beta ~ dnorm(0, 0.01)
  tau ~ dgamma(1, 1)
  tau.a ~ dgamma(1, 1)
  tau.b ~ dgamma(1, 1)
}"""
CROSSED_DATA = {"N": 4, "J": 3, "y": np.linspace(0, 1, 12).reshape(4, 3), "x": [1.0, 2.0, 3.0]}

NESTED_INDEX = """
model {
  for (i in 1:N) {
    y[i] ~ dnorm(theta[pos[i]], tau)
  }
  for (k in 1:K) {
    theta[k] ~ dnorm(mu, 1)
  }
  mu ~ dnorm(0, 0.01)
  tau ~ dgamma(1, 1)
}"""
NESTED_INDEX_DATA = {"N": 6, "K": 2, "y": [0.5, 1.5, -0.5, 2.0, 1.0, 0.0],
                     "pos": [1, 2, 1, 2, 2, 1]}


def rats():
    folder = classic_bugs() / "vol1" / "rats"
    files = script_files(folder / "test1.cmd")
    return hiergraph.compile_model(files["model"], data=files["data"])


def models():
    """Every model the tests draw, by name (rats only where the classic suite is present)."""
    return {
        "rat_tumors": lambda: hiergraph.compile_model(RAT_TUMORS, data=RAT_TUMORS_DATA),
        "three_levels": lambda: hiergraph.compile_model(THREE_LEVELS, data=THREE_LEVELS_DATA),
        "crossed": lambda: hiergraph.compile_model(CROSSED, data=CROSSED_DATA),
        "nested_index": lambda: hiergraph.compile_model(NESTED_INDEX, data=NESTED_INDEX_DATA),
        "rats": rats,
    }


def placement(diagram):
    """node id -> (kind, plate id)."""
    return {node.id: (node.kind, node.plate) for node in diagram.nodes}


# ---- the specification ----------------------------------------------------------------------

def test_rat_tumors_specification():
    model = hiergraph.compile_model(RAT_TUMORS, data=RAT_TUMORS_DATA)
    diagram = plate_diagram(model.graph, model.plan())
    assert diagram.plates == (Plate("j in 1:J", "j = 1..71", None),)
    assert diagram.nodes == (
        Node("a", "a <- phi / pow(s, 2)", "deterministic"),
        Node("b", "b <- (1 - phi) / pow(s, 2)", "deterministic"),
        Node("n", "n[j]", "data", "j in 1:J"),
        Node("phi", "phi ~ dunif(0, 1)", "stochastic", sampler="collapsed_slice"),
        Node("s", "s ~ dunif(0, 1)", "stochastic", sampler="collapsed_slice"),
        Node("theta[j]", "theta[j] ~ dbeta(a, b)", "stochastic", "j in 1:J", size=71,
             sampler="conjugate_beta_binomial"),
        Node("y[j]", "y[j] ~ dbin(theta[j], n[j])", "stochastic", "j in 1:J", observed=71, size=71),
    )
    assert diagram.edges == (("a", "theta[j]"), ("b", "theta[j]"), ("n", "y[j]"), ("phi", "a"),
                             ("phi", "b"), ("s", "a"), ("s", "b"), ("theta[j]", "y[j]"))
    assert all(node.sampler is None for node in plate_diagram(model.graph).nodes)


def test_rats_plates_nest_as_the_loops_do():
    diagram = plate_diagram(rats().graph)
    assert diagram.plates == (Plate("i in 1:N", "i = 1..30", None),
                              Plate("i in 1:N / j in 1:T", "j = 1..5", "i in 1:N"))
    inner = "i in 1:N / j in 1:T"
    assert placement(diagram) == {
        "Y[i,j]": ("stochastic", inner), "mu[i,j]": ("deterministic", inner),
        "alpha[i]": ("stochastic", "i in 1:N"), "beta[i]": ("stochastic", "i in 1:N"),
        **{name: ("stochastic", None) for name in ("alpha.c", "beta.c", "tau.c", "tau.alpha",
                                                   "tau.beta")},
        **{name: ("deterministic", None) for name in ("sigma", "x.bar", "alpha0")},
        # read as x[j] and as x[]: not one plate's array, so drawn outside the plates
        "x": ("data", None),
    }
    labels = {node.id: node.label for node in diagram.nodes}
    assert labels["x"] == "x[1:5]"
    assert labels["mu[i,j]"] == "mu[i, j] <- alpha[i] + beta[i] * (x[j] - x.bar)"
    assert set(diagram.edges) == {
        ("alpha.c", "alpha[i]"), ("tau.alpha", "alpha[i]"), ("beta.c", "beta[i]"),
        ("tau.beta", "beta[i]"), ("alpha[i]", "mu[i,j]"), ("beta[i]", "mu[i,j]"),
        ("x", "mu[i,j]"), ("x.bar", "mu[i,j]"), ("mu[i,j]", "Y[i,j]"), ("tau.c", "Y[i,j]"),
        ("tau.c", "sigma"), ("x", "x.bar"), ("alpha.c", "alpha0"), ("beta.c", "alpha0"),
        ("x.bar", "alpha0")}


def test_three_levels_nest_three_plates():
    model = hiergraph.compile_model(THREE_LEVELS, data=THREE_LEVELS_DATA)
    diagram = plate_diagram(model.graph, model.plan())
    school, school_class = "s in 1:S", "s in 1:S / c in 1:C"
    pupil = "s in 1:S / c in 1:C / k in 1:K"
    assert diagram.plates == (Plate(school, "s = 1..3", None),
                              Plate(school_class, "c = 1..2", school),
                              Plate(pupil, "k = 1..4", school_class))
    assert placement(diagram) == {
        "y[s,c,k]": ("stochastic", pupil), "mu.class[s,c]": ("stochastic", school_class),
        "mu.school[s]": ("stochastic", school),
        **{name: ("stochastic", None) for name in ("mu", "tau.y", "tau.class", "tau.school")}}
    assert diagram.edges == (
        ("mu", "mu.school[s]"), ("mu.class[s,c]", "y[s,c,k]"), ("mu.school[s]", "mu.class[s,c]"),
        ("tau.class", "mu.class[s,c]"), ("tau.school", "mu.school[s]"), ("tau.y", "y[s,c,k]"))
    latent = {node.id for node in diagram.nodes if node.sampler}
    assert latent == {"mu", "tau.y", "tau.class", "tau.school", "mu.school[s]", "mu.class[s,c]"}


def test_crossed_loops_draw_one_plate_where_each_is_written():
    model = hiergraph.compile_model(CROSSED, data=CROSSED_DATA)
    diagram = plate_diagram(model.graph)
    # j is crossed with i: inside i for y[i,j], and on its own for b[j] and the data x[j]
    assert diagram.plates == (Plate("i in 1:N", "i = 1..4", None),
                              Plate("i in 1:N / j in 1:J", "j = 1..3", "i in 1:N"),
                              Plate("j in 1:J", "j = 1..3", None))
    assert placement(diagram) == {
        "y[i,j]": ("stochastic", "i in 1:N / j in 1:J"), "a[i]": ("stochastic", "i in 1:N"),
        "b[j]": ("stochastic", "j in 1:J"), "x": ("data", "j in 1:J"),
        **{name: ("stochastic", None) for name in ("beta", "tau", "tau.a", "tau.b")}}
    assert {node.label for node in diagram.nodes if node.id == "x"} == {"x[j]"}
    assert {parent for parent, child in diagram.edges if child == "y[i,j]"} == {
        "a[i]", "b[j]", "beta", "tau", "x"}


def test_nested_indexing_draws_the_index_as_a_parent():
    model = hiergraph.compile_model(NESTED_INDEX, data=NESTED_INDEX_DATA)
    diagram = plate_diagram(model.graph)
    assert diagram.plates == (Plate("i in 1:N", "i = 1..6", None), Plate("k in 1:K", "k = 1..2", None))
    assert placement(diagram) == {
        "y[i]": ("stochastic", "i in 1:N"), "pos": ("data", "i in 1:N"),
        "theta[k]": ("stochastic", "k in 1:K"), "mu": ("stochastic", None),
        "tau": ("stochastic", None)}
    assert diagram.edges == (("mu", "theta[k]"), ("pos", "y[i]"), ("tau", "y[i]"), ("theta[k]", "y[i]"))


def test_a_constant_alone_in_an_index_is_not_a_parent():
    model = hiergraph.compile_model("""
        model {
          for (i in 1:N) { y[i] ~ dnorm(mu[g[i], K], 1) }
          for (k in 1:2) { for (l in 1:3) { mu[k, l] ~ dnorm(0, 1) } }
        }""", data={"N": 2, "K": 3, "g": [2, 1], "y": [0.0, 1.0]})
    diagram = plate_diagram(model.graph)
    assert {node.id: node.plate for node in diagram.nodes if node.kind == "data"} == {"g": "i in 1:N"}
    assert {parent for parent, child in diagram.edges if child == "y[i]"} == {"g", "mu[k,l]"}


def test_sibling_loops_share_a_plate_and_bounds_from_an_outer_index_stay_as_written():
    model = hiergraph.compile_model("""
        model {
          for (j in 1:J) { for (k in 1:m[j]) { y[j, k] ~ dnorm(mu[j], 1) } }
          for (j in 1:J) { mu[j] ~ dnorm(0, 1) }
          for (j in 1:J) { z[j] ~ dnorm(mu[j] * w[j], 1) }
        }""", data={"J": 2, "m": [2, 3], "y": [[1.0, 2.0, np.nan], [1.0, 2.0, 3.0]],
                    "z": [0.0, 1.0], "w": [0.5, 2.0]})
    diagram = plate_diagram(model.graph)
    assert diagram.plates == (Plate("j in 1:J", "j = 1..2", None),
                              Plate("j in 1:J / k in 1:m[j]", "k = 1..m[j]", "j in 1:J"))
    assert placement(diagram)["w"] == ("data", "j in 1:J")
    assert placement(diagram)["mu[j]"] == ("stochastic", "j in 1:J")


def test_partly_observed_group_counts_its_observed_nodes():
    data = dict(NESTED_INDEX_DATA, y=[0.5, np.nan, -0.5, 2.0, 1.0, 0.0])
    model = hiergraph.compile_model(NESTED_INDEX, data=data)
    (y,) = [node for node in plate_diagram(model.graph).nodes if node.id == "y[i]"]
    assert (y.observed, y.size) == (5, 6)
    assert "5 of 6 observed" in to_graphviz(plate_diagram(model.graph)).source


def test_expanded_diagram_has_one_node_per_scalar_node(tmp_path):
    model = hiergraph.compile_model(NESTED_INDEX, data=NESTED_INDEX_DATA)
    svg = write_diagram(model.to_graphviz(expand=True), tmp_path / "expanded.svg").read_text()
    assert (svg.count('class="node"'), svg.count('class="cluster"')) == (10, 0)
    diagram = scalar_diagram(model.graph)
    assert diagram.plates == ()
    assert [node.id for node in diagram.nodes] == [
        "mu", "tau", "theta[1]", "theta[2]", *[f"y[{i}]" for i in range(1, 7)]]
    assert all(node.observed == node.id.startswith("y") for node in diagram.nodes)
    pos = NESTED_INDEX_DATA["pos"]
    assert {(p, c) for p, c in diagram.edges if p.startswith("theta")} == {
        (f"theta[{k}]", f"y[{i}]") for i, k in enumerate(pos, start=1)}


def test_expanded_diagram_is_refused_for_a_large_model():
    n = EXPAND_LIMIT
    model = hiergraph.compile_model(NESTED_INDEX, data=dict(N=n, K=2, y=np.zeros(n),
                                                             pos=np.ones(n)))
    with pytest.raises(UsageError, match=f"has {n + 4:,} nodes; an expanded diagram draws at most"):
        model.to_graphviz(expand=True)


# ---- drawing ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(models()))
def test_drawn_with_dot_as_svg_and_png(name, tmp_path):
    model = models()[name]()
    diagram = plate_diagram(model.graph, model.plan())
    dot = model.to_graphviz()
    assert isinstance(dot, graphviz.Digraph)
    assert dot.source == to_graphviz(diagram).source
    svg = write_diagram(dot, tmp_path / f"{name}.svg").read_text()
    # dot drew exactly the specification: no node made up from a mangled id, no plate lost
    assert svg.count('class="node"') == len(diagram.nodes)
    assert svg.count('class="cluster"') == len(diagram.plates)
    assert svg.count('class="edge"') == len(diagram.edges)
    for plate in diagram.plates:
        assert f">{plate.label}</text>" in svg
    png = write_diagram(dot, tmp_path / f"{name}.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def test_dot_text_is_the_same_for_the_same_model():
    first, second = (hiergraph.compile_model(CROSSED, data=CROSSED_DATA) for _ in range(2))
    assert first.to_graphviz().source == second.to_graphviz().source
    diagram = plate_diagram(first.graph)
    assert [node.id for node in diagram.nodes] == sorted(node.id for node in diagram.nodes)
    assert list(diagram.edges) == sorted(diagram.edges)
    assert [plate.id for plate in diagram.plates] == sorted(plate.id for plate in diagram.plates)


def test_range_in_a_node_name_is_one_dot_node(tmp_path):
    model = hiergraph.compile_model("""
        model {
          for (i in 1:N) {
            y[i] ~ dcat(p[i, 1:K])
            p[i, 1:K] ~ ddirch(alpha[])
          }
        }""", data={"N": 2, "K": 3, "y": [1, 3], "alpha": [1.0, 1.0, 1.0]})
    dot = model.to_graphviz(samplers=False)
    assert '"p[i,1\N{RATIO}K]" -> "y[i]"' in dot.source
    svg = write_diagram(dot, tmp_path / "dirichlet.svg").read_text()
    assert svg.count('class="node"') == 3  # p, y and the data alpha
    assert "p[i, 1:K] ~ ddirch(alpha[])" in svg


def test_unknown_file_ending_is_an_error(tmp_path):
    dot = hiergraph.compile_model(NESTED_INDEX, data=NESTED_INDEX_DATA).to_graphviz()
    with pytest.raises(UsageError, match=r"\.svg, \.png, \.pdf or \.dot"):
        write_diagram(dot, tmp_path / "model.jpg")
    assert not (tmp_path / "model.jpg").exists()


# ---- the command line ---------------------------------------------------------------------

@pytest.fixture
def nested_index_files(tmp_path):
    (tmp_path / "model.bug").write_text(NESTED_INDEX)
    (tmp_path / "data.json").write_text(json.dumps(NESTED_INDEX_DATA))
    return tmp_path


def test_cli_draws_the_diagram_with_or_without_samplers(nested_index_files):
    folder = nested_index_files
    result = run_cli("graph", "model.bug", "--data", "data.json", "-o", "out.svg", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "wrote out.svg"
    assert "sampler: conjugate_normal_normal" in (folder / "out.svg").read_text()
    result = run_cli("graph", "model.bug", "--data", "data.json", "-o", "plain.dot",
                     "--no-samplers", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert "sampler:" not in (folder / "plain.dot").read_text()


def test_pdf_and_dot_text(tmp_path, monkeypatch):
    dot = hiergraph.compile_model(NESTED_INDEX, data=NESTED_INDEX_DATA).to_graphviz()
    assert write_diagram(dot, tmp_path / "m.pdf").read_bytes().startswith(b"%PDF")
    monkeypatch.setenv("PATH", str(tmp_path))  # DOT text needs no dot program
    assert write_diagram(dot, tmp_path / "m.dot").read_text() == dot.source


def test_cli_without_dot_names_the_packages(nested_index_files, monkeypatch):
    monkeypatch.setenv("PATH", str(nested_index_files))  # python is run by its full path
    result = run_cli("graph", "model.bug", "--data", "data.json", "-o", "out.png",
                     cwd=nested_index_files)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    for package in ("apt-get install graphviz", "brew install graphviz", "conda install graphviz"):
        assert package in result.stderr
    assert not (nested_index_files / "out.png").exists()


def test_cli_refuses_to_expand_a_large_model(nested_index_files):
    n = EXPAND_LIMIT + 1
    (nested_index_files / "big.json").write_text(json.dumps(
        {"N": n, "K": 2, "y": [0.0] * n, "pos": [1] * n}))
    result = run_cli("graph", "model.bug", "--data", "big.json", "-o", "out.svg", "--expand",
                     cwd=nested_index_files)
    assert result.returncode == 1
    assert result.stderr.strip() == (f"error: the model has {n + 4:,} nodes; an expanded diagram "
                                     f"draws at most {EXPAND_LIMIT} (draw the plate diagram, "
                                     f"without --expand, instead)")
    assert not (nested_index_files / "out.svg").exists()
