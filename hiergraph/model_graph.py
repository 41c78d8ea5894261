"""The model graph: one networkx node per node group, element-level index maps on the edges.

A *node group* is everything one statement defines over its loops: ``theta[j] ~ dbeta(a, b)``
inside ``for (j in 1:J)`` is one group of J scalar nodes. The graph keeps one networkx node
per group (and one per data array the model reads), so a model with millions of scalar
nodes is still a small graph. Each edge ``parent -> child`` carries ``child_rows`` and
``parent_rows``: for every pair, child element ``child_rows[k]`` reads parent element
``parent_rows[k]``. Element-level questions are answered from those arrays;
:meth:`ModelGraph.expanded` builds the scalar-level graph only when a caller asks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import networkx as nx
import numpy as np

from . import ast
from .distributions import Distribution
from .errors import Span


def element_text(var: str, shape: tuple, positions) -> str:
    """JAGS's name for the elements at flat ``positions`` of an array: ``theta[3]``, ``Y[2,1:5]``."""
    positions = np.atleast_1d(positions)
    if not shape or (int(np.prod(shape)) == 1 and len(shape) <= 1):
        return var
    index = np.unravel_index(positions, shape)
    parts = []
    for axis in index:
        lo, hi = int(axis.min()) + 1, int(axis.max()) + 1
        parts.append(str(lo) if lo == hi else f"{lo}:{hi}")
    return f"{var}[{','.join(parts)}]"


@dataclass(eq=False)
class NodeGroup:
    """The nodes one statement defines: its declaration, elements, and bound expressions.

    Row ``r`` of the group is one node: its loop indices are ``loop_values[name][r]`` and it
    occupies the flat positions ``target[r]`` of the array ``var`` (one position for a
    scalar node, a block for a vector- or matrix-valued one).
    """

    name: str
    var: str
    kind: str  # 'stochastic' | 'deterministic'
    statement: ast.Stochastic | ast.Deterministic
    loops: tuple[ast.ForLoop, ...]
    loop_values: dict[str, np.ndarray]
    target: np.ndarray  # (size, block) flat positions in ``var``
    value_shape: tuple
    distribution: Distribution | None = None
    params: tuple = ()  # bound parameter expressions (stochastic)
    bounds: tuple | None = None  # (lower, upper) bound expressions or None, for T()/I()
    expr: object = None  # bound expression (deterministic)
    observed: np.ndarray | None = None  # bool per node (stochastic)

    @property
    def size(self) -> int:
        return self.target.shape[0]

    @property
    def span(self) -> Span | None:
        return self.statement.span

    @property
    def n_observed(self) -> int:
        return int(self.observed.sum()) if self.observed is not None else 0

    @property
    def n_latent(self) -> int:
        return self.size - self.n_observed if self.kind == "stochastic" else 0

    @property
    def truncated(self) -> bool:
        return self.bounds is not None

    def expressions(self):
        """Every bound expression this group evaluates (parameters, bounds, or its formula)."""
        exprs = list(self.params) if self.kind == "stochastic" else [self.expr]
        if self.bounds is not None:
            exprs += [b for b in self.bounds if b is not None]
        return exprs


@dataclass(eq=False)
class ArrayInfo:
    """A named array of the model: its shape, its data (NaN where missing) and who defines what."""

    name: str
    shape: tuple
    data: np.ndarray | None  # flat float array, or None when nothing of it is data
    owner: np.ndarray  # flat: index of the defining group in ModelGraph.groups, or -1
    owner_row: np.ndarray  # flat: row within that group

    @cached_property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))


@dataclass(eq=False)
class ModelGraph:
    """The bound model: node groups, arrays, the group-level DAG, and JAGS-style counts."""

    groups: list[NodeGroup]
    arrays: dict[str, ArrayInfo]
    graph: nx.DiGraph
    # Values known before any sampling, flat per array, NaN elsewhere: the data (observed
    # nodes included) and deterministic nodes computed from data alone.
    fixed_values: dict[str, np.ndarray] = field(default_factory=dict)
    total_graph_size: int = 0
    warnings: list = field(default_factory=list)  # HiergraphWarning: unused data and the like

    @property
    def observed_count(self) -> int:
        return sum(g.n_observed for g in self.groups if g.kind == "stochastic")

    @property
    def unobserved_count(self) -> int:
        return sum(g.n_latent for g in self.groups if g.kind == "stochastic")

    def group(self, name: str) -> NodeGroup:
        return self.graph.nodes[name]["group"]

    def element_name(self, group: NodeGroup, row: int) -> str:
        """The JAGS-style name of one node of a group, e.g. ``theta[3]`` or ``Y[2,1:5]``."""
        return element_text(group.var, self.arrays[group.var].shape, group.target[row])

    def expanded(self) -> nx.DiGraph:
        """The scalar-level graph: one node per element (``(group name, row)``), for small models."""
        scalar = nx.DiGraph()
        for group in self.groups:
            scalar.add_nodes_from((group.name, r) for r in range(group.size))
        for parent, child, data in self.graph.edges(data=True):
            if "group" not in self.graph.nodes[parent]:
                continue
            scalar.add_edges_from(zip(((parent, int(r)) for r in data["parent_rows"]),
                                      ((child, int(r)) for r in data["child_rows"])))
        return scalar
