"""Are given values possible under the model? Data, and initial values, checked before sampling.

A value is impossible when it lies outside its distribution's support (``dbin`` with 1.5 or
with a count above ``n``, a negative Poisson count, a probability outside [0, 1]) or
outside its truncation bounds; a parameter is impossible when the distribution has no
meaning for it (a negative precision, a matrix that is not positive definite). Only what is
known before sampling can be checked: parameters computed from data alone
(``ModelGraph.fixed_values``); the rest is NaN here and checked by the samplers.
"""

from __future__ import annotations

import numpy as np

from .distributions import value_in_support
from .errors import ModelError, Span
from .evaluator import evaluate, known_rows
from .model_graph import ModelGraph, NodeGroup


def known_parameters(model: ModelGraph, group: NodeGroup) -> list[np.ndarray] | None:
    """The group's parameter values per node, NaN where they depend on unknowns.

    None when a parameter is a range whose length varies from node to node (``dcat(p[i,
    1:K[i]])``): those are left to the samplers.
    """
    if any(p.shape is None for p in group.params):
        return None
    return [_known_value(model, group, p, (1,) * r) for p, r in
            zip(group.params, group.distribution.param_ranks)]


def _known_value(model: ModelGraph, group: NodeGroup, expr, empty_shape=()) -> np.ndarray:
    """``expr`` per node, NaN for nodes whose value depends on anything unknown.

    ``empty_shape``: a single value where a vector or matrix is expected is one of length 1.
    """
    shape = expr.shape or empty_shape
    with np.errstate(all="ignore"):
        value = np.asarray(evaluate(expr, model.fixed_values), float)
    value = np.broadcast_to(value, (group.size, *expr.shape)).reshape(group.size, *shape)
    known = known_rows(expr, model.fixed_values, group.size)
    return np.where(known.reshape((group.size,) + (1,) * len(shape)), value, np.nan)


def check_parameters(model: ModelGraph, group: NodeGroup, params) -> None:
    """Parameters known before sampling must be valid for every node of the group."""
    dist = group.distribution
    if dist.value_rank == 0 and not any(dist.param_ranks):
        known = np.all([~np.isnan(p) for p in params], axis=0) if params else np.ones(group.size, bool)
        if not known.any():
            return
        ok = np.asarray(dist.valid(*[p[known] for p in params]), bool)
        if not ok.all():
            row = int(np.flatnonzero(known)[np.argmin(ok)])
            values = ", ".join(f"{name} = {p[row]:g}" for name, p in zip(dist.params, params))
            raise ModelError(f"{model.element_name(group, row)} ~ {dist.name}({values}): these "
                             f"parameter values are impossible for {dist.name}", group.span)
        return
    known = np.all([~np.isnan(p).reshape(group.size, int(np.prod(p.shape[1:]))).any(axis=1)
                    for p in params], axis=0)
    if known.any():
        ok = np.broadcast_to(np.asarray(dist.valid(*[p[known] for p in params]), bool), (int(known.sum()),))
        if not ok.all():
            row = int(np.flatnonzero(known)[np.argmin(ok)])
            raise ModelError(f"the parameters of {model.element_name(group, row)} ~ {dist.name} are "
                             f"impossible (a precision or covariance matrix must be symmetric "
                             f"positive definite, probabilities and counts non-negative)", group.span)


def check_values(model: ModelGraph, group: NodeGroup, rows: np.ndarray, values: np.ndarray,
                 params, what: str, span: Span | None) -> None:
    """Each ``values[k]`` (node ``rows[k]``) must be a possible draw of its distribution."""
    if rows.size == 0:
        return
    dist = group.distribution
    node_params = [p[rows] for p in params]
    if dist.value_rank == 0:
        ok, reason = _scalar_possible(dist, values, node_params)
    else:
        complete = np.all([~np.isnan(p).reshape(len(rows), -1).any(axis=1) for p in node_params], axis=0)
        ok = np.ones(len(rows), bool)
        ok[complete] = value_in_support(dist, values[complete], [p[complete] for p in node_params])
        reason = np.full(len(rows), "it is not a possible value", dtype=object)
    if group.bounds is not None:
        ok, reason = _within_bounds(model, group, rows, values, ok, reason)
    if not ok.all():
        k = int(np.argmin(ok))
        shown = f"{values[k]:g}" if np.ndim(values[k]) == 0 else np.array2string(np.asarray(values[k]))
        raise ModelError(f"{what} {model.element_name(group, int(rows[k]))} = {shown} is impossible "
                         f"under {dist.name}: {reason[k]}", span or group.span,
                         [("the node is defined here", group.span)] if span is not None else [])


def _scalar_possible(dist, values, params):
    lower, upper = (np.broadcast_to(np.asarray(b, float), values.shape) for b in dist.support(*params))
    reason = np.full(values.shape, "", dtype=object)
    ok = np.ones(values.shape, bool)
    if dist.discrete:
        whole = values == np.floor(values)
        reason[~whole] = "it must be a whole number"
        ok &= whole
    below = ~np.isnan(lower) & (values < lower)
    above = ~np.isnan(upper) & (values > upper)
    for mask, bound, word in ((below, lower, "at least"), (above, upper, "at most")):
        hit = mask & ok
        reason[hit] = [f"it must be {word} {b:g}" for b in bound[hit]]
        ok &= ~mask
    return ok, reason


def _within_bounds(model, group, rows, values, ok, reason):
    for bound, word, outside in ((group.bounds[0], "at least", np.less),
                                 (group.bounds[1], "at most", np.greater)):
        if bound is None:
            continue
        limit = _known_value(model, group, bound)[rows]
        hit = ~np.isnan(limit) & outside(values, limit) & ok
        reason[hit] = [f"the truncation T(,) makes it {word} {b:g}" for b in limit[hit]]
        ok = ok & ~hit
    return ok, reason


def check_data(model: ModelGraph) -> None:
    """Observed values possible under their distributions, known parameters valid."""
    for group in model.groups:
        if group.kind != "stochastic":
            continue
        params = known_parameters(model, group)
        if params is None:
            continue
        check_parameters(model, group, params)
        rows = np.flatnonzero(group.observed)
        if rows.size:
            values = model.arrays[group.var].data[group.target[rows]]
            check_values(model, group, rows, values.reshape((len(rows), *group.value_shape)),
                         params, "the data value", None)
