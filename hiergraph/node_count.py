"""JAGS's "Total graph size" for a bound model.

JAGS counts every node of its scalar-level graph: stochastic nodes, one constant node per
non-missing data element (used or not) and per distinct literal value, one logical node
per operator or function application (identical applications to the same parents are one
node, and ``s <- mu`` is no node at all but another name for ``mu``), and one aggregate
node for each distinct run of elements read as a vector that is not already a node of its
own (``x[]`` in ``mean(x[])``). This module reproduces that count from the node groups
without building the scalar graph: ids are given out per element in numpy arrays, and
identical applications are merged by hashing the ids of their arguments.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from .arrays import distinct_rows
from .evaluator import Apply, Const, Ref, evaluate, known_rows
from .model_graph import ModelGraph


class _Ids:
    """Hands out node ids; identical keys (a constant's value, an application) share one id."""

    def __init__(self):
        self.count = 0
        self.keys: dict = {}

    def fresh(self, n: int) -> np.ndarray:
        ids = np.arange(self.count, self.count + n, dtype=np.int64)
        self.count += n
        return ids

    def shared(self, rows: np.ndarray, tag) -> np.ndarray:
        """One id per distinct row of ``rows`` (n, k), merged with equal rows seen before."""
        first, inverse = distinct_rows(rows)
        ids = np.empty(len(first), np.int64)
        for i, row in enumerate(rows[first]):
            key = (tag, row.tobytes())
            if key not in self.keys:
                self.keys[key] = self.fresh(1)[0]
            ids[i] = self.keys[key]
        return ids[inverse]


def jags_graph_size(model: ModelGraph) -> int:
    ids = _Ids()
    element_ids = _data_and_stochastic_ids(model, ids)
    known = model.fixed_values
    node_sizes = _node_sizes(model)

    def id_of(expr, n) -> np.ndarray:
        if isinstance(expr, Const):
            values = np.broadcast_to(np.asarray(expr.value, float), (n,))
            return ids.shared(values[:, None], "constant")
        if isinstance(expr, Ref):
            return _reference_ids(expr, element_ids, node_sizes, ids, n)
        keys = [_parent_key(arg, id_of(arg, n), known, n) for arg in _operands(expr)]
        return ids.shared(np.concatenate(keys, axis=1), expr.function.name)

    deterministic = [g for g in model.groups if g.kind == "deterministic"]
    for group in _in_dependency_order(model, deterministic):
        if model.graph.has_edge(group.name, group.name):
            element_ids[group.var][group.target] = ids.fresh(group.size)[:, None]
            id_of(group.expr, group.size)
        else:
            element_ids[group.var][group.target] = id_of(group.expr, group.size)[:, None]
    for group in model.groups:
        if group.kind == "stochastic":
            for expr in group.expressions():
                id_of(expr, group.size)
    return ids.count


def _operands(expr: Apply) -> list:
    """The arguments of one JAGS logical node: ``a + b + c`` is one sum of three (so is ``*``)."""
    if expr.function.name not in ("+", "*"):
        return list(expr.args)
    left, right = expr.args
    if isinstance(left, Apply) and left.function is expr.function:
        return _operands(left) + [right]
    return [left, right]


def _parent_key(arg, arg_ids, known, n) -> np.ndarray:
    """How a parent enters an application's identity: a fixed parent by its value, others by id.

    JAGS merges logical nodes whose parents compare equal, and it compares fixed nodes
    (constants, observed nodes, functions of those) by value.
    """
    key = np.stack([np.zeros(n), arg_ids.astype(float)], axis=1)
    if arg.shape != ():  # a vector or matrix parent: by id (JAGS compares values of scalars)
        return key
    with np.errstate(all="ignore"):
        values = np.broadcast_to(np.asarray(evaluate(arg, known), float), (n,))
    fixed = known_rows(arg, known, n) & ~np.isnan(values)
    key[fixed, 0], key[fixed, 1] = 1.0, values[fixed]
    return key


def _data_and_stochastic_ids(model: ModelGraph, ids: _Ids) -> dict[str, np.ndarray]:
    """Ids of stochastic nodes (one per node, shared by a vector node's elements) and data."""
    element_ids = {}
    for name, info in model.arrays.items():
        element = np.full(info.size, -1, np.int64)
        if info.data is not None:
            constant = (info.owner < 0) & ~np.isnan(info.data)
            element[constant] = ids.fresh(int(constant.sum()))
        element_ids[name] = element
    for group in model.groups:
        if group.kind == "stochastic":
            element_ids[group.var][group.target] = ids.fresh(group.size)[:, None]
    return element_ids


def _reference_ids(ref: Ref, element_ids, node_sizes, ids: _Ids, n: int) -> np.ndarray:
    """The node a reference reads: a node itself, or a subset/aggregate node over its elements.

    A read of exactly one whole node is that node; anything else (part of a vector-valued
    node, a run of several nodes) is an aggregate node, one per distinct run of elements.
    """
    elements = element_ids[ref.var][ref.flat]
    if ref.lengths is not None:
        starts = np.concatenate(([0], np.cumsum(ref.lengths)[:-1])).astype(np.int64)
        return np.array([_run_id(ref.var, ref.flat[s:s + k], elements[s:s + k], node_sizes[ref.var], ids)
                         for s, k in zip(starts, ref.lengths)], np.int64)
    width = int(np.prod(ref.flat.shape[1:], dtype=np.int64))
    flat = ref.flat.reshape(n, width)
    elements = elements.reshape(n, width)
    node_size = node_sizes[ref.var]
    whole = (elements == elements[:, :1]).all(axis=1) & (node_size[flat[:, 0]] == flat.shape[1])
    result = elements[:, 0].copy()
    if not whole.all():
        result[~whole] = ids.shared(flat[~whole], ("aggregate", ref.var))
    return result


def _node_sizes(model: ModelGraph) -> dict[str, np.ndarray]:
    """For each element of each array, how many elements its node has (a vector node has several)."""
    sizes = {name: np.ones(info.size, np.int64) for name, info in model.arrays.items()}
    for group in model.groups:
        sizes[group.var][group.target] = group.target.shape[1]
    return sizes


def _run_id(var, flat, elements, sizes, ids: _Ids) -> int:
    if len(flat) and (elements == elements[0]).all() and sizes[flat[0]] == len(flat):
        return int(elements[0])
    return int(ids.shared(flat[None, :], ("aggregate", var, len(flat)))[0])


def _in_dependency_order(model: ModelGraph, groups):
    names = {g.name: g for g in groups}
    order = nx.DiGraph()
    order.add_nodes_from(names)
    order.add_edges_from((u, v) for u, v in model.graph.edges if u in names and v in names and u != v)
    return [names[n] for n in nx.topological_sort(order)]
