"""Updates of vector and matrix nodes written out for the numba backend, one row at a time,
as :class:`hiergraph.conjugacy.WishartStep`, :class:`hiergraph.conjugacy.DirichletStep`,
:class:`hiergraph.samplers.EllipticalSliceStep` and :class:`hiergraph.samplers.ForwardStep`:

* a ``dwish(R, k)`` precision of ``dmnorm`` children: Wishart(R + the sum of the children's
  outer products (y - mu)(y - mu)', k + their number), drawn by Bartlett's decomposition
  (:func:`hiergraph.jit.scalar.rv_dwish`);
* a ``ddirch(alpha)`` probability vector of ``dcat`` and ``dmulti`` children: Dirichlet(alpha
  + the count of each category), drawn as independent gammas normalised;
* a ``dmnorm`` node with other children: an elliptical slice move;
* a vector or matrix node with no data below it: a draw from its prior.
"""

from __future__ import annotations

import numpy as np

from ..samplers import EllipticalSliceStep
from .expressions import NotCompilable, _indent


def _children(writer, step, per_child) -> list[str]:
    """Statements running ``per_child(child group, child row)`` (a list of statements) over
    the children of row ``p`` of the step."""
    lines = []
    for link, _ in step.links:
        pointer, index = writer.link_rows(link, len(step.rows))
        q, child = writer.temp("q"), writer.temp("r")
        lines += [f"for {q} in range({pointer}[p], {pointer}[p + 1]):", f"    {child} = {index}[{q}]"]
        lines += _indent(per_child(link.group, child), 1)
    return lines


def _update(writer, step, s: str, row: str, prior: list[str], children, draw: list[str], drawn: str) -> None:
    """``step_<s>``: for element ``row`` of each of the step's rows ``p``, the ``prior``
    statements, each child's, then ``draw``, which sets ``drawn`` (scratch memory, one value
    per component) and ``ok``; where ``ok``, the element takes the draw."""
    target, rows, e = step.group, writer.tables.ints_of(step.rows), writer.temp("e")
    take = [f"for {e} in range({int(np.prod(target.value_shape))}):",
            f"    {writer.component(target, row, e)} = {drawn}[{e}]"]
    body = ([f"for p in range({rows}.shape[0]):", f"    {row} = {rows}[p]"]
            + _indent(prior + _children(writer, step, children) + draw + ["if ok:"]
                      + _indent(take + writer.recompute(step.blanket, "p"), 1), 1))
    writer.function(f"def step_{s}(V, I, F, A, rng, adapting):", body)


def wishart(writer, step, s: str) -> None:
    target = step.group
    side = target.value_shape[0]
    width = side * side
    deviation, drawn = writer.tables.memory_of(side, 0.0), writer.tables.memory_of(width, 0.0)
    row, prior = writer.temp("r"), []
    scale, degrees = writer.gathered(target, row, prior)
    prior += [f"degrees = {degrees}"]

    def child_terms(group, child: str) -> list[str]:
        a, inner = writer.temp("e"), []
        mean = writer.code(group.params[0], child, inner, a)
        return ([f"for {a} in range({side}):"]
                + _indent(inner + [f"{deviation}[{a}] = {writer.component(group, child, a)} - {mean}"], 1)
                + [f"for {a} in range({width}):",
                   f"    {scale}[{a}] += {deviation}[{a} // {side}] * {deviation}[{a} % {side}]",
                   "degrees += 1.0"])

    draw = [f"ok = rv_dwish(rng, whole({scale}), degrees, {side}, whole({drawn}))"]
    _update(writer, step, s, row, prior, child_terms, draw, drawn)


def dirichlet(writer, step, s: str) -> None:
    target = step.group
    width = target.value_shape[0]
    drawn, e, row, prior = writer.tables.memory_of(width, 0.0), writer.temp("e"), writer.temp("r"), []
    alpha, = writer.gathered(target, row, prior)

    def child_terms(group, child: str) -> list[str]:
        if group.distribution.name == "dmulti":  # its counts
            return [f"for {e} in range({width}):", f"    {alpha}[{e}] += {writer.component(group, child, e)}"]
        return [f"{alpha}[int({writer.value(group, child)}) - 1] += 1.0"]  # dcat: its category

    draw = [f"ok = rv_ddirch(rng, whole({alpha}), {width}, whole({drawn}))"]
    _update(writer, step, s, row, prior, child_terms, draw, drawn)


def elliptical(writer, step, s: str) -> None:
    """``step_<s>``: Murray, Adams and MacKay's (2010) elliptical slice move of each row, as
    :class:`hiergraph.samplers.EllipticalSliceStep`, through ``density_<s>`` (the likelihood
    at a vector of components): the ellipse through the current value and a prior draw
    ``L'^-1 z`` (Omega = L L'), its angle bracket shrunk until the likelihood is above the
    slice (``dmnorm.vcov``: ``L z`` for Sigma = L L'); a row whose matrix has no Cholesky
    factor stays where it is."""
    target, tables = step.group, writer.tables
    if target.distribution.name not in ("dmnorm", "dmnorm.vcov"):
        raise NotCompilable(f"the {step.name} sampler of {target.name}")
    side = target.value_shape[0]
    noise, current, trial = (tables.memory_of(side, 0.0) for _ in range(3))
    e, row, gather = writer.temp("e"), writer.temp("r"), []
    mean, factor = writer.gathered(target, row, gather)
    likelihood = f"density_{s}(V, I, F, A, p, whole({trial}))"
    # the prior draw: L'^-1 z for a precision Omega = L L', L z for a covariance Sigma = L L'
    precision = "True" if target.distribution.name == "dmnorm" else "False"
    prior_draw = f"correlated_noise(rng, whole({factor}), {side}, {precision}, whole({noise}))"

    def point(on_ellipse: bool) -> list[str]:
        """``trial``: the point at ``angle`` on the ellipse, or the current value."""
        value = (f"{current}[{e}] * np.cos(angle) + {noise}[{e}] * np.sin(angle)" if on_ellipse
                 else f"{current}[{e}]")
        return [f"for {e} in range({side}):", f"    {trial}[{e}] = {value} + {mean}[{e}]"]

    move = ([prior_draw] + point(False)
            + [f"log_y = {likelihood} - draw_exponential(rng)",
               "angle = 2.0 * np.pi * draw_uniform(rng)",
               "low = angle - 2.0 * np.pi",
               "high = angle",
               "accepted = False",
               f"for _ in range({EllipticalSliceStep.max_shrinks}):"]
            + _indent(point(True)
                      + [f"if {likelihood} > log_y:", "    accepted = True", "    break",
                         "if angle < 0:", "    low = angle", "else:", "    high = angle",
                         "angle = low + draw_uniform(rng) * (high - low)"], 1)
            + ["if not accepted:"] + _indent(point(False) + [likelihood], 1))
    each = ([f"{row} = {tables.ints_of(step.rows)}[p]"] + gather
            + [f"for {e} in range({side}):",
               f"    {current}[{e}] = {writer.component(target, row, e)} - {mean}[{e}]",
               f"if dense_cholesky(whole({factor}), {side}):"] + _indent(move, 1))
    body = [f"for p in range({tables.ints_of(step.rows)}.shape[0]):"] + _indent(each, 1)
    writer.function(f"def step_{s}(V, I, F, A, rng, adapting):", body)


# each vector or matrix distribution's draw kernel (hiergraph.jit.scalar), called with the
# generator, the parameters (ExpressionWriter.kernel_arguments), the side and the output
FORWARD_DRAWS = {"dmnorm": "rv_dmnorm", "dmnorm.vcov": "rv_dmnorm_vcov", "ddirch": "rv_ddirch",
                 "dmulti": "rv_dmulti", "dwish": "rv_dwish"}


def forward(writer, step, s: str) -> None:
    """``step_<s>``: draws of vector and matrix nodes with no data below them from their
    prior, as :class:`hiergraph.samplers.ForwardStep`; a row whose parameters the kernel
    cannot draw from (a matrix with no Cholesky factor) keeps its value."""
    group, tables = step.group, writer.tables
    name = group.distribution.name
    if name not in FORWARD_DRAWS or group.bounds is not None:
        raise NotCompilable(f"{group.name} ~ {name}")
    side, width = group.value_shape[0], int(np.prod(group.value_shape))
    drawn, row, e, pre = tables.memory_of(width, 0.0), writer.temp("r"), writer.temp("e"), []
    args = writer.kernel_arguments(group, row, pre)
    rows = tables.ints_of(step.rows)
    each = ([f"{row} = {rows}[p]"] + pre
            + [f"if {FORWARD_DRAWS[name]}(rng, {args}, {side}, whole({drawn})):",
               f"    for {e} in range({width}):", f"        {writer.component(group, row, e)} = {drawn}[{e}]"])
    body = [f"for p in range({rows}.shape[0]):"] + _indent(each, 1) + writer.recompute_all(step.deterministic)
    writer.function(f"def step_{s}(V, I, F, A, rng, adapting):", body)

