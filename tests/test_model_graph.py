"""The model graph: one networkx node per node group, element-level index maps on the edges,
observed vs latent per element, the data block, and the scalar graph only on request."""

from __future__ import annotations

import numpy as np
import pytest

import hiergraph
from hiergraph.model_graph import ModelGraph


def graph_of(model: str, data=None) -> ModelGraph:
    return hiergraph.compile_model(model, data=data or {}).graph


def edge(graph: ModelGraph, parent: str, child: str):
    attributes = graph.graph.edges[parent, child]
    return attributes["child_rows"].tolist(), attributes["parent_rows"].tolist()


def test_one_graph_node_per_statement_not_per_scalar():
    graph = graph_of("""
        model {
          for (j in 1:J) {
            y[j] ~ dbin(theta[j], n[j])
            theta[j] ~ dbeta(a, b)
          }
          a ~ dexp(1)
          b ~ dexp(1)
        }""", {"J": 1000, "y": np.zeros(1000), "n": np.full(1000, 10.0)})
    groups = {n for n, kind in graph.graph.nodes(data="kind") if kind != "data"}
    assert groups == {"y[j]", "theta[j]", "a", "b"}
    assert graph.group("theta[j]").size == 1000
    assert edge(graph, "theta[j]", "y[j]") == (list(range(1000)), list(range(1000)))
    assert edge(graph, "a", "theta[j]") == (list(range(1000)), [0] * 1000)


def test_nested_indexing_maps_each_child_to_its_parent_element():
    graph = graph_of("""
        model {
          for (i in 1:5) { y[i] ~ dnorm(mu[group[i]], 1) }
          for (g in 1:2) { mu[g] ~ dnorm(0, 1) }
        }""", {"y": np.arange(5.0), "group": np.array([2.0, 1, 2, 2, 1])})
    children, parents = edge(graph, "mu[g]", "y[i]")
    assert dict(zip(children, parents)) == {0: 1, 1: 0, 2: 1, 3: 1, 4: 0}
    # Indices are resolved when the model is bound, so index data is not a parent node.
    assert not graph.graph.has_node("group")


def test_partly_observed_array_is_latent_where_missing():
    graph = graph_of("model { for (i in 1:4) { y[i] ~ dnorm(mu, 1) }\n mu ~ dnorm(0, 1) }",
                     {"y": np.array([1.0, np.nan, 3.0, np.nan])})
    y = graph.group("y[i]")
    assert y.observed.tolist() == [True, False, True, False]
    assert (graph.observed_count, graph.unobserved_count) == (2, 3)


def test_statements_defining_parts_of_one_array():
    graph = graph_of("""
        model {
          beta[1] <- 0
          for (k in 2:4) { beta[k] ~ dnorm(0, 1) }
          for (i in 1:3) { y[i] ~ dnorm(beta[d[i]], 1) }
        }""", {"y": np.ones(3), "d": np.array([1.0, 3, 4])})
    assert graph.arrays["beta"].shape == (4,)
    assert edge(graph, "beta[1]", "y[i]") == ([0], [0])
    assert edge(graph, "beta[k]", "y[i]") == ([1, 2], [1, 2])


def test_loop_bounds_may_depend_on_outer_indices():
    graph = graph_of("""
        model {
          for (j in 1:3) { for (k in 1:K[j]) { x[j, k] ~ dnorm(0, 1) } }
        }""", {"K": np.array([1.0, 3, 2])})
    group = graph.group("x[j,k]")
    assert group.size == 6
    assert group.loop_values["j"].tolist() == [1, 2, 2, 2, 3, 3]
    assert group.loop_values["k"].tolist() == [1, 1, 2, 3, 1, 2]
    assert graph.arrays["x"].shape == (3, 3)


def test_empty_range_runs_zero_times():
    graph = graph_of("model { for (i in 1:0) { x[i] ~ dnorm(0, 1) }\n y ~ dnorm(0, 1) }")
    assert graph.unobserved_count == 1


def test_data_block_results_are_data():
    graph = graph_of("""
        data { for (i in 1:N) { z[i] <- 2 * x[i] } }
        model { for (i in 1:N) { z[i] ~ dnorm(mu, 1) }
                mu ~ dnorm(0, 1) }""", {"N": 3, "x": np.array([1.0, 2, 3])})
    z = graph.group("z[i]")
    assert z.observed.all()
    assert graph.arrays["z"].data.tolist() == [2.0, 4.0, 6.0]


def test_data_block_statements_run_in_dependency_order():
    graph = graph_of("""
        data { w <- sum(v[])
               for (i in 1:2) { v[i] <- x[i] + 1 } }
        model { y ~ dnorm(w, 1) }""", {"x": np.array([1.0, 2.0]), "y": 0.0})
    assert graph.fixed_values["w"].tolist() == [5.0]


def test_multivariate_node_is_one_node():
    graph = graph_of("""
        model {
          for (i in 1:4) { x[i, 1:2] ~ dmnorm(mu[], Omega[, ]) }
          mu[1:2] ~ dmnorm(m0[], Omega[, ])
        }""", {"m0": np.zeros(2), "Omega": np.eye(2),
               "x": np.array([[1.0, 2], [3, 4], [np.nan, np.nan], [5, 6]])})
    x = graph.group("x[i,1:2]")
    assert x.size == 4 and x.value_shape == (2,)
    assert x.observed.tolist() == [True, True, False, True]
    assert (graph.observed_count, graph.unobserved_count) == (3, 2)
    assert edge(graph, "mu[1:2]", "x[i,1:2]") == ([0, 1, 2, 3], [0, 0, 0, 0])


def test_partly_observed_multivariate_node_is_an_error():
    with pytest.raises(hiergraph.HiergraphError, match="partly observed"):
        graph_of("model { x[1:2] ~ dmnorm(mu[], Omega[, ]) }",
                 {"mu": np.zeros(2), "Omega": np.eye(2), "x": np.array([1.0, np.nan])})


def test_link_function_and_truncation_are_kept():
    graph = graph_of("""
        model {
          for (i in 1:2) { logit(p[i]) <- b * x[i]
                           y[i] ~ dbern(p[i]) }
          b ~ dnorm(0, 1) T(0, )
        }""", {"x": np.array([1.0, 2.0]), "y": np.array([0.0, 1.0])})
    assert graph.group("p[i]").expr.function.name == "ilogit"
    b = graph.group("b")
    assert b.truncated and b.bounds[1] is None


def test_var_declaration_gives_the_shape():
    graph = graph_of("var r[2, 3]; data { for (j in 1:2) { r[j, ] <- resp[] } }\n"
                     "model { for (j in 1:2) { for (k in 1:3) { r[j, k] ~ dbern(0.5) } } }",
                     {"resp": np.array([0.0, 1, 1])})
    assert graph.arrays["r"].data.reshape(2, 3).tolist() == [[0, 1, 1], [0, 1, 1]]
    assert graph.observed_count == 6


def test_ragged_ranges_read_runs_of_different_lengths():
    graph = graph_of("""
        model {
          for (j in 1:3) { d[j] ~ dgamma(1, 1)
                           S[j] <- sum(d[1:j]) }
        }""")
    assert edge(graph, "d[j]", "S[j]") == ([0, 1, 1, 2, 2, 2], [0, 0, 1, 0, 1, 2])


def test_deterministic_nodes_of_data_alone_are_known_before_sampling():
    graph = graph_of("model { xbar <- mean(x[])\n for (i in 1:3) { c[i] <- x[i] - xbar }\n"
                     "y ~ dnorm(c[1], 1) }", {"x": np.array([1.0, 2, 6])})
    assert graph.fixed_values["c"].tolist() == [-2.0, -1.0, 3.0]


def test_expanded_graph_has_one_node_per_scalar():
    graph = graph_of("model { for (i in 1:3) { y[i] ~ dnorm(mu, 1) }\n mu ~ dnorm(0, 1) }",
                     {"y": np.ones(3)})
    scalar = graph.expanded()
    assert scalar.number_of_nodes() == 4
    assert sorted(scalar.edges) == [(("mu", 0), ("y[i]", r)) for r in range(3)]


def test_element_names_follow_jags():
    graph = graph_of("model { for (i in 1:2) { for (j in 1:3) { Y[i, j] ~ dnorm(0, 1) } } }")
    group = graph.group("Y[i,j]")
    assert [graph.element_name(group, r) for r in (0, 5)] == ["Y[1,1]", "Y[2,3]"]


def test_expression_read_alike_by_every_element_is_computed_once():
    """``pow(tau, -2)`` in a loop over j reads the same tau for every j: it is evaluated at
    one element and broadcast, giving what the per-element evaluation gives; ``pow(s[j], -2)``
    differs by element and is evaluated for each."""
    from hiergraph.evaluator import evaluate, refs

    graph = graph_of("""
        model {
          for (j in 1:4) {
            theta[j] ~ dnorm(mu, pow(tau, -2))
            y[j] ~ dnorm(theta[j], pow(s[j], -2))
            q[j, 1:2] <- a[1:2] * tau
          }
          mu ~ dnorm(0, 1)
          tau ~ dunif(0, 2)
        }""", {"y": np.arange(4.0), "s": np.array([1.0, 2, 4, 5]), "a": np.array([1.0, 2.0])})
    values = {"tau": np.array([[2.0], [0.5]]), "s": np.array([1.0, 2, 4, 5]), "a": np.array([1.0, 2.0])}
    precision = graph.group("theta[j]").params[1]
    one, n = precision.invariant
    assert n == 4 and all(len(r.flat) == 1 for r in refs(one))
    assert np.array_equal(evaluate(precision, values), np.repeat([[0.25], [4.0]], 4, axis=1))
    q = graph.group("q[j,1:2]").expr
    assert q.invariant is not None
    assert np.array_equal(evaluate(q, values), np.broadcast_to([[[2.0, 4.0]], [[0.5, 1.0]]], (2, 4, 2)))
    per_element = graph.group("y[j]").params[1]
    assert per_element.invariant is None
    assert np.array_equal(evaluate(per_element, values), [1.0, 0.25, 1 / 16, 1 / 25])


def test_distinct_rows_partition_like_numpy_unique():
    from hiergraph.arrays import distinct_rows

    table = np.random.default_rng(3).integers(0, 3, size=(500, 3)).astype(float)
    first, inverse = distinct_rows(table)
    unique, expected = np.unique(table, axis=0, return_inverse=True)
    assert np.array_equal(table[first], unique)
    assert np.array_equal(inverse, expected.reshape(-1))
    assert [len(a) for a in distinct_rows(np.zeros((0, 2)))] == [0, 0]
