"""The scale group move (:mod:`hiergraph.scale_move`) written out for the numba backend.

For each scale node ``p`` in turn: its effects, their means and the scale are kept as they
are, then ``u = log g`` is sliced from 0 on the density of ``b' = m + g (b - m)``,
``s' = s g^(-2/k)`` (with the Jacobian term ``(n_p - 2/k) u``), exactly as the numpy step
does for all scale nodes at once.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from ..blanket import dependence
from ..scale_move import ScaleGroupStep
from .expressions import _indent


def _by_scale(of: np.ndarray, scales: int) -> sparse.csr_matrix:
    """A (elements x scale nodes) 0/1 matrix: element ``k`` belongs to scale node ``of[k]``."""
    return sparse.csr_matrix((np.ones(len(of)), (np.arange(len(of)), of)), shape=(len(of), scales))


def write(writer, step: ScaleGroupStep, s: str) -> None:
    w, tables, model = writer, writer.tables, writer.model
    effects, scale, size = step.effects, step.group, step.group.size
    memory = tables.memory_of
    start_effects, start_means, start_scale = memory(effects.size, 0.0), memory(effects.size, 0.0), memory(size, 0.0)
    members = _by_scale(step.of_effect, size)  # effects x scale nodes
    pointer, index = w.csr(members.T)  # per scale node: its effects

    # per scale node: the deterministic elements that it or its effects feed
    w._no_self_reads(step.deterministic)
    from_effects = dependence(model, effects, step.deterministic, step.deterministic)
    from_scale = dependence(model, scale, step.deterministic, step.deterministic)
    reads = {g.name: ((from_effects[g.name] @ members + from_scale[g.name]) > 0).astype(np.int8)
             for g in step.deterministic}

    e, pre = w.temp("r"), []
    mean = w.code(effects.params[0], e, pre)
    before = [f"for {e} in range({tables.ints_of(effects.target)}.shape[0]):"]
    before += _indent(pre + [f"{start_effects}[{e}] = {w.value(effects, e)}", f"{start_means}[{e}] = {mean}"], 1)
    before += [f"for p in range({size}):", f"    {start_scale}[p] = {w.value(scale, 'p')}"]

    q, row = w.temp("q"), w.temp("r")
    body = ["g = math.exp(x)",
            f"for {q} in range({pointer}[p], {pointer}[p + 1]):",
            f"    {row} = {index}[{q}]",
            f"    {w.value(effects, row)} = {start_means}[{row}] + g * ({start_effects}[{row}] - {start_means}[{row}])",
            f"{w.value(scale, 'p')} = {start_scale}[p] * g ** {-2.0 / step.power!r}"]
    body += w.recompute_read(step.deterministic, reads, "p")
    pre = []
    prior = w.own_density(scale, "p", pre)
    body += pre + [f"total = {tables.floats_of(step.exponent)}[p] * x + {prior}"]
    inner: list = []
    density = w.own_density(effects, row, inner)
    body += [f"for {q} in range({pointer}[p], {pointer}[p + 1]):", f"    {row} = {index}[{q}]"]
    body += _indent(inner + [f"total += {density}"], 1)
    for child, rows, of_row in step.children:
        child_pointer, child_index = w.csr(sparse.csr_matrix(
            (np.ones(len(rows)), (of_row, rows)), shape=(size, child.size)))
        q, row, inner = w.temp("q"), w.temp("r"), []
        density = w.own_density(child, row, inner)
        body += [f"for {q} in range({child_pointer}[p], {child_pointer}[p + 1]):", f"    {row} = {child_index}[{q}]"]
        body += _indent(inner + [f"total += {density}"], 1)
    body += ["return total if total == total else -INF"]
    w.function(f"def density_{s}(V, I, F, A, p, x):", body)
    trying, after = _kept_where_it_pays(w, step, start_scale) if step.tried else ([], [])
    w.slice(step, s, after, before=trying + before, origin=("0.0", "-INF", "INF"))


def _kept_where_it_pays(w, step: ScaleGroupStep, start: str) -> tuple[list[str], list[str]]:
    """A tried move's statements before and after its rows' loop (``start``: the scale as it
    was before the loop): through the burn-in, sum how far it moves ``log s`` and how far the
    other updates move it in between; after it, keep the move (this chain's) only if its own
    sum is the larger, as the numpy step does."""
    memory, size = w.tables.memory_of, step.group.size
    kept, moved, between, last = memory(1, 1.0), memory(1, 0.0), memory(1, 0.0), memory(size, np.nan)
    value = w.value(step.group, "p")
    before = ["if adapting:",
              f"    for p in range({size}):",
              f"        if {last}[p] == {last}[p]:",
              f"            {between}[0] += abs(math.log({value} / {last}[p]))",
              f"elif {last}[0] == {last}[0]:",
              f"    {kept}[0] = 1.0 if {moved}[0] >= {between}[0] else 0.0",
              f"    {last}[0] = np.nan",
              f"if {kept}[0] == 0.0:",
              "    return"]
    after = ["if adapting:",
             f"    for p in range({size}):",
             f"        {moved}[0] += abs(math.log({value} / {start}[p]))",
             f"        {last}[p] = {value}"]
    return before, after
