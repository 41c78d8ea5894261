"""The Markov blanket of a node group, element by element, and the colouring that vectorises it.

Updating some elements of a group needs their *blanket*: the deterministic groups
downstream of them (recomputed after a change, in order) and the stochastic children whose
densities change. Which child element depends on which target element is a sparse 0/1
matrix, composed along the graph's edge index maps (``child x parent`` times ``parent x
target``). Two elements of the group *conflict* when one's density depends on the other or
they share a child; elements that do not conflict are conditionally independent and are
updated together in one array step. A greedy colouring of the conflict graph gives the
steps; a group whose children each depend on one element is one step.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy import sparse

from .model_graph import ModelGraph, NodeGroup


@dataclass(eq=False)
class ChildLink:
    """Child elements ``child_rows[k]`` depend on updated element ``positions[k]`` of a step."""

    group: NodeGroup
    child_rows: np.ndarray
    positions: np.ndarray  # index into the step's rows


@dataclass(eq=False)
class Blanket:
    """What one vectorised update of ``rows`` of ``target`` touches."""

    target: NodeGroup
    rows: np.ndarray
    deterministic: list[NodeGroup]  # downstream, in the order to recompute them
    children: list[ChildLink]


def edge_matrix(model: ModelGraph, parent: str, child: str) -> sparse.csr_matrix:
    """``M[c, p] = 1`` when element ``c`` of ``child`` reads element ``p`` of ``parent``."""
    data = model.graph.edges[parent, child]
    shape = (model.group(child).size, model.group(parent).size)
    ones = np.ones(len(data["child_rows"]), np.int8)
    return sparse.csr_matrix((ones, (data["child_rows"], data["parent_rows"])), shape=shape)


def downstream(model: ModelGraph, *targets: NodeGroup) -> tuple[list[NodeGroup], list[NodeGroup]]:
    """The deterministic groups fed by the targets (topologically ordered) and the stochastic
    groups whose densities read a target directly or through them."""
    graph = model.graph
    deterministic, stochastic, frontier = set(), set(), [t.name for t in targets]
    while frontier:
        name = frontier.pop()
        for child in graph.successors(name):
            kind = graph.nodes[child]["kind"]
            if kind == "deterministic" and child not in deterministic:
                deterministic.add(child)
                frontier.append(child)
            elif kind == "stochastic":
                stochastic.add(child)
    order = graph.subgraph(deterministic).copy()
    order.remove_edges_from(nx.selfloop_edges(order))
    # ties broken by the model's own order, so that the order is the same in every process
    # (the numba backend's generated code, and so its cache, depend on it)
    rank = {g.name: k for k, g in enumerate(model.groups)}
    ordered = [model.group(n) for n in nx.lexicographical_topological_sort(order, key=rank.__getitem__)]
    return ordered, [g for g in model.groups if g.name in stochastic]


def dependence(model: ModelGraph, target: NodeGroup, deterministic, children):
    """For each child group, the sparse ``child x target`` matrix of which element reads which."""
    reads = {target.name: sparse.identity(target.size, dtype=np.int8, format="csr")}

    def through(group: NodeGroup, own_edge: bool) -> sparse.csr_matrix:
        total = sparse.csr_matrix((group.size, target.size), dtype=np.int8)
        for parent in model.graph.predecessors(group.name):
            if parent in reads and (own_edge or parent != group.name):
                total = total + edge_matrix(model, parent, group.name) @ reads[parent]
        return (total > 0).astype(np.int8)

    for group in deterministic:
        reads[group.name] = through(group, own_edge=False)
        if model.graph.has_edge(group.name, group.name):  # S[t] <- S[t-1] + ...: to a fixed point
            own = edge_matrix(model, group.name, group.name)
            while True:
                grown = ((reads[group.name] + own @ reads[group.name]) > 0).astype(np.int8)
                if grown.nnz == reads[group.name].nnz:
                    break
                reads[group.name] = grown
    return {child.name: through(child, own_edge=True) for child in children}


def blankets(model: ModelGraph, target: NodeGroup, rows: np.ndarray, informed=None) -> list[Blanket]:
    """The vectorised steps that update ``rows`` of ``target``: one per colour of the conflicts.

    ``informed`` (group name -> bool per element: has an observed descendant) leaves out child
    elements that are latent and uninformed, such as missing responses: they integrate to
    one, so the update draws from the posterior with them marginalised out (better mixing
    than conditioning on their current values), and they are drawn forward afterwards.
    """
    deterministic, children = downstream(model, target)
    matrices = dependence(model, target, deterministic, children)
    if informed is not None:
        for child in children:
            keep = child.observed | informed[child.name]
            matrices[child.name] = sparse.diags(keep.astype(np.int8), dtype=np.int8) @ matrices[child.name]
    colours = _colour(target, rows, matrices)
    steps = []
    for colour_rows in colours:
        position = np.full(target.size, -1)
        position[colour_rows] = np.arange(len(colour_rows))
        links = []
        for child in children:
            matrix = matrices[child.name][:, colour_rows].tocoo()
            matrix.eliminate_zeros()
            if matrix.nnz:
                links.append(ChildLink(child, matrix.row.astype(np.int64),
                                       matrix.col.astype(np.int64)))
        steps.append(Blanket(target, colour_rows, deterministic, links))
    return steps


def _colour(target: NodeGroup, rows: np.ndarray, matrices) -> list[np.ndarray]:
    """Sets of mutually non-conflicting rows covering ``rows``."""
    stacked = [m[:, rows] for m in matrices.values()]
    if not stacked:
        return [rows]
    reads = sparse.vstack(stacked).tocsr()
    own = matrices.get(target.name)
    self_dependent = own is not None and own[rows][:, rows].nnz > 0
    if not self_dependent and (reads.getnnz(axis=1) <= 1).all():
        return [rows]
    conflicts = (reads.T @ reads).tocoo()
    graph = nx.Graph()
    graph.add_nodes_from(range(len(rows)))
    graph.add_edges_from((int(a), int(b)) for a, b in zip(conflicts.row, conflicts.col) if a != b)
    if own is not None:
        mine = own[rows][:, rows].tocoo()
        graph.add_edges_from((int(a), int(b)) for a, b in zip(mine.row, mine.col) if a != b)
    colour_of = nx.greedy_color(graph, strategy="largest_first")
    groups: dict[int, list[int]] = {}
    for node, colour in colour_of.items():
        groups.setdefault(colour, []).append(node)
    return [rows[np.sort(members)] for _, members in sorted(groups.items())]
