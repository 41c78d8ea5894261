"""The plate diagram's specification: plates, nodes and edges as plain data, before any drawing.

Tests and tools read this stage; :mod:`hiergraph.diagram_render` only draws it. Every list
is sorted, so the same model always gives the same specification (and the same DOT text).

- **Plates come from the ``for`` loops as written**, not from array shapes: a node group sits
  in the plates of the loops around its statement, outermost first, and nested loops give
  nested plates. Loops with the same header (``for (i in 1:N)``) at the same depth are one
  plate however many times the program opens them. A plate is labelled with its index and
  range, evaluated with the data where the bounds are constants (``j = 1..71``), and as
  written where they depend on an outer index (``k = 1..ncat[j]``).
- **Crossed loops.** Graphviz clusters cannot overlap, so an index that is crossed with
  another rather than nested in it (``b[j]`` in a loop over ``j`` alone, ``y[i,j]`` in a
  loop over ``j`` inside one over ``i``) is drawn as one plate in each place the program
  uses it: a plate ``j = 1..J`` on its own holding ``b[j]``, and a plate ``j = 1..J``
  inside the plate ``i = 1..N`` holding ``y[i,j]``. Plates with the same label are the
  same index; the index letters in the node labels tie the nodes together.
- **Nodes.** One per node group, labelled with its statement (``theta[j] ~ dbeta(a, b)``),
  and one per data array the model reads, indexed data in indices included (``pos`` in
  ``theta[pos[i]]`` chooses elements, so it is drawn as a parent; a constant alone in an
  index, ``Q[i, Ncut]``, is not, any more than a number). A data array that is only ever
  read as ``n[j]``, one loop index per dimension, sits in those loops' plate as ``n[j]``;
  any other is drawn outside the plates under its JAGS name (``x[1:5]``). Loop bounds and
  range sizes are not nodes: they are in the plate labels.
- **Edges** run from each parent to each child group, as the model graph has them (a
  group reading its own earlier elements, ``x[t] ~ dnorm(x[t-1], tau)``, has an edge to
  itself).

:func:`scalar_diagram` is the same specification with one node per scalar node and no
plates, for models of at most :data:`EXPAND_LIMIT` nodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import ast
from .compiler import GroupPlan, Plan
from .errors import UsageError
from .model_graph import ModelGraph, NodeGroup, element_text

# Past this many scalar nodes an expanded diagram is unreadable, and dot slow to lay it out.
EXPAND_LIMIT = 500


@dataclass(frozen=True)
class Plate:
    """One plate: ``id`` is its loops' headers from the outermost (``i in 1:N / j in 1:T``)."""

    id: str
    label: str  # "j = 1..71"
    parent: str | None


@dataclass(frozen=True)
class Node:
    """One diagram node: a node group, a data array, or (expanded) one scalar node."""

    id: str
    label: str
    kind: str  # 'stochastic' | 'deterministic' | 'data'
    plate: str | None = None
    observed: int = 0  # how many of its ``size`` nodes are observed (stochastic)
    size: int = 1
    sampler: str | None = None


@dataclass(frozen=True)
class Diagram:
    plates: tuple[Plate, ...]
    nodes: tuple[Node, ...]
    edges: tuple[tuple[str, str], ...]  # (parent id, child id)


def plate_diagram(model: ModelGraph, plan: Plan | None = None) -> Diagram:
    """The model as plates, one node per node group and data array; with ``plan``, each
    latent group's sampler."""
    samplers = {p.group.name: _sampler_text(p) for p in plan.groups} if plan else {}
    paths = [group.loops for group in model.groups]
    nodes = []
    for group in model.groups:
        nodes.append(Node(group.name, _statement_text(group.statement), group.kind,
                          _path_id(group.loops), group.n_observed, group.size,
                          samplers.get(group.name)))
    reads = _data_reads(model)
    for name in sorted(reads):
        path, label = _data_place(model, name, reads[name])
        paths.append(path)
        nodes.append(Node(name, label, "data", _path_id(path)))
    edges = {(parent, child) for parent, child in model.graph.edges}
    edges |= {(name, group.name) for name, found in reads.items()
              for group, _, role in found if role == "index"}
    return Diagram(_plates(model, paths), tuple(sorted(nodes, key=lambda n: n.id)),
                   tuple(sorted(edges)))


def scalar_diagram(model: ModelGraph) -> Diagram:
    """One node per scalar (or vector-valued) node, no plates: refused above EXPAND_LIMIT."""
    total = sum(group.size for group in model.groups)
    if total > EXPAND_LIMIT:
        raise UsageError(f"the model has {total:,} nodes; an expanded diagram draws at most "
                         f"{EXPAND_LIMIT} (draw the plate diagram, without --expand, instead)")
    names = {(group.name, row): model.element_name(group, row)
             for group in model.groups for row in range(group.size)}
    nodes = []
    for (name, row), text in names.items():
        group = model.group(name)
        observed = int(group.observed[row]) if group.kind == "stochastic" else 0
        nodes.append(Node(text, text, group.kind, observed=observed))
    edges = {(names[parent], names[child]) for parent, child in model.expanded().edges}
    return Diagram((), tuple(sorted(nodes, key=lambda n: n.id)), tuple(sorted(edges)))


def _sampler_text(plan: GroupPlan) -> str:
    if plan.mcmc_rows and plan.forward_rows:
        return f"{plan.sampler} (+{plan.forward_rows} forward)"
    return plan.sampler


def _statement_text(statement) -> str:
    """One statement as BUGS text: the line :func:`ast.to_source` prints for it alone."""
    return ast.to_source(ast.Program((), (), (statement,))).splitlines()[1].strip()


# ---- plates -------------------------------------------------------------------------------

def _loop_key(loop: ast.ForLoop) -> str:
    return f"{loop.index} in {ast.expr_to_source(loop.range.lower)}:{ast.expr_to_source(loop.range.upper)}"


def _path_id(path) -> str | None:
    return " / ".join(_loop_key(loop) for loop in path) or None


def _plates(model: ModelGraph, paths) -> tuple[Plate, ...]:
    """A plate for every prefix of every node's loop path."""
    prefixes = {}
    for path in paths:
        for depth in range(1, len(path) + 1):
            prefixes.setdefault(_path_id(path[:depth]), path[:depth])
    plates = [Plate(id, _plate_label(model, path), _path_id(path[:-1]))
              for id, path in prefixes.items()]
    return tuple(sorted(plates, key=lambda p: p.id))


def _plate_label(model: ModelGraph, path) -> str:
    """``j = 1..71`` where the bounds are constants (the values the loop took), else as written."""
    loop = path[-1]
    outer = {l.index for l in path[:-1]}
    lower, upper = (ast.expr_to_source(b) for b in (loop.range.lower, loop.range.upper))
    constant = not outer & {v.name for bound in (loop.range.lower, loop.range.upper)
                            for v, _ in _variables(bound)}
    key = _loop_key(loop)
    values = [group.loop_values[loop.index] for group in model.groups if group.size
              and any(_loop_key(l) == key for l in group.loops)]
    if constant and values:
        lower, upper = int(min(v.min() for v in values)), int(max(v.max() for v in values))
    return f"{loop.index} = {lower}..{upper}"


# ---- data arrays --------------------------------------------------------------------------

def _variables(expr, role: str = "value"):
    """Every variable an expression reads, with its role: its ``value``, an ``index`` (data
    choosing which elements are read) or a ``size`` (a range bound)."""
    if isinstance(expr, ast.Variable):
        yield expr, role
        for index in expr.indices or ():
            if isinstance(index, ast.Range):
                yield from _variables(index.lower, "size")
                yield from _variables(index.upper, "size")
            elif not isinstance(index, ast.EmptyIndex):
                yield from _variables(index, "index" if role == "value" else role)
    elif isinstance(expr, ast.Call):
        for arg in expr.args:
            yield from _variables(arg, role)
    elif isinstance(expr, ast.Unary):
        yield from _variables(expr.operand, role)
    elif isinstance(expr, ast.Binary):
        yield from _variables(expr.left, role)
        yield from _variables(expr.right, role)


def _right_hand_side(statement):
    if isinstance(statement, ast.Deterministic):
        return [statement.expr]
    bounds = statement.bounds
    return [*statement.distribution.args,
            *([b for b in (bounds.lower, bounds.upper) if b is not None] if bounds else [])]


def _data_reads(model: ModelGraph) -> dict[str, list[tuple[NodeGroup, ast.Variable, str]]]:
    """Each data array's reads in the model's statements: (group, variable, role).

    The data arrays are the model graph's data nodes and the indexed data read in indices
    (``pos[i]``; binding resolves them to element positions, so the graph has no node for
    them). A name alone in an index (``Q[i, Ncut]``) is a constant, like a number."""
    data = {name for name, kind in model.graph.nodes(data="kind") if kind == "data"}
    found = []
    for group in model.groups:
        indices = {loop.index for loop in group.loops}
        for expr in _right_hand_side(group.statement):
            for variable, role in _variables(expr):
                constant = role == "index" and variable.indices is None
                if variable.name not in indices and role != "size" and not constant:
                    found.append((group, variable, role))
                    if role == "index":
                        data.add(variable.name)
    reads = {name: [] for name in data}
    for group, variable, role in found:
        if variable.name in reads:
            reads[variable.name].append((group, variable, role))
    return reads


def _data_place(model: ModelGraph, name: str, reads) -> tuple[tuple[ast.ForLoop, ...], str]:
    """The plate path and label of a data array: the loops of its indices when every read is
    the same ``n[j]``, else no plate and its JAGS name."""
    info = model.arrays[name]
    places = {}  # by plate id and label: sibling loops with one header are one plate
    for group, variable, _ in reads:
        place = _indexed_place(variable, group.loops)
        places[place and (_path_id(place[0]), place[1])] = place
    place = next(iter(places.values())) if len(places) == 1 else None
    if place is not None and (info.owner < 0).all():
        return place
    return (), element_text(name, info.shape, np.flatnonzero(info.owner < 0))


def _indexed_place(variable: ast.Variable, loops):
    """(loops, text) for a read indexed by distinct loop indices only (``z[i,j]``), else None.

    The loops keep the written order; a loop whose range reads another index of ``loops``
    that the variable does not use cannot stand outside that loop, so that read is None."""
    names = [index.name if isinstance(index, ast.Variable) and index.indices is None else None
             for index in variable.indices or ()]
    indices = {loop.index for loop in loops}
    if not names or None in names or len(set(names)) != len(names) or not set(names) <= indices:
        return None
    used = tuple(loop for loop in loops if loop.index in names)
    for depth, loop in enumerate(used):
        bound_reads = {v.name for bound in (loop.range.lower, loop.range.upper)
                       for v, _ in _variables(bound)}
        if bound_reads & indices - {l.index for l in used[:depth]}:
            return None
    return used, ast.expr_to_source(variable)
