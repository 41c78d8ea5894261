"""Expressions bound to a node group's elements, and their vectorised evaluation.

The binder turns each expression of a statement into a small tree of :class:`Const`,
:class:`Ref` and :class:`Apply` nodes in which every variable reference already holds the
flat positions it reads for every element of the group (index expressions, loops and
nested indexing are resolved once, at bind time). Evaluating the tree is then a handful of
numpy gathers and ufunc calls for all elements (and all chains) at once.

``values`` maps a variable name to a flat array ``(*lead, size)``: the leading axes (chains,
for instance) pass through unchanged. A result is ``(*lead, n, *value_shape)`` for ``n``
elements, or a :class:`Ragged` when each element reads a range of a different length
(``sum(x[1:j])``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .functions import Function


@dataclass(frozen=True)
class Ragged:
    """Per-element runs of different lengths, concatenated along the last axis."""

    values: np.ndarray  # (*lead, total)
    lengths: np.ndarray  # (n,)

    @property
    def starts(self) -> np.ndarray:
        return np.concatenate(([0], np.cumsum(self.lengths)[:-1])).astype(np.int64)


class _Node:
    """What every node of a bound expression has."""

    @cached_property
    def evaluator(self):
        """``values -> value`` (:func:`evaluate`): the tree walked once, here, into nested
        closures, so that the thousands of evaluations of a run pay for the numpy calls
        alone, not for dispatching on the kinds of node and function each time."""
        return _closure(self)


@dataclass(frozen=True, eq=False)
class Const(_Node):
    """A number, or one number per element (``per_element``) such as a loop index's value."""

    value: np.ndarray
    per_element: bool = False
    shape: tuple = ()


@dataclass(frozen=True, eq=False)
class Ref(_Node):
    """A read of ``var``: ``flat`` is ``(n, *block)`` positions, or concatenated runs with ``lengths``."""

    var: str
    flat: np.ndarray
    lengths: np.ndarray | None = None
    span: object = None  # where the reference is written, for errors

    @property
    def shape(self) -> tuple | None:
        """One element's value shape; None for runs of varying length."""
        return None if self.lengths is not None else self.flat.shape[1:]


@dataclass(frozen=True, eq=False)
class Apply(_Node):
    function: Function
    args: tuple
    shape: tuple | None

    @cached_property
    def invariant(self) -> tuple[Apply, int] | None:
        """``(the expression at one element, n)`` where every element reads the same
        positions (``pow(tau, -2)`` in a loop over j): its value is computed once and
        broadcast, not once per element. None where the elements differ, or n < 2."""
        found = list(refs(self))
        if self.shape is None or not found or not all(_same_for_every_element(r) for r in found):
            return None
        if any(isinstance(node, Const) and node.per_element for node in nodes(self)):
            return None
        return restrict(self, np.zeros(1, np.int64)), len(found[0].flat)


def _same_for_every_element(ref: Ref) -> bool:
    """Whether the read is for several elements and every one reads the same positions."""
    return (ref.lengths is None and ref.flat.ndim > 0 and len(ref.flat) > 1
            and bool((ref.flat == ref.flat[:1]).all()))


def rank(expr) -> int:
    """How many value axes one element of ``expr`` has (a run of varying length has one)."""
    return 1 if expr.shape is None else len(expr.shape)


def nodes(expr):
    """Every node of a bound expression, depth first."""
    yield expr
    if isinstance(expr, Apply):
        for arg in expr.args:
            yield from nodes(arg)


def refs(expr):
    """Every :class:`Ref` in a bound expression, depth first."""
    return (node for node in nodes(expr) if isinstance(node, Ref))


def restrict(expr, rows: np.ndarray):
    """The expression bound for the elements ``rows`` only; plain gathers, not ragged runs."""
    if isinstance(expr, Const):
        return Const(np.asarray(expr.value)[rows], True, expr.shape) if expr.per_element else expr
    if isinstance(expr, Ref):
        if expr.lengths is not None:
            raise ValueError("a read of runs of different lengths cannot be restricted to rows")
        return Ref(expr.var, expr.flat[rows], None, expr.span)
    return Apply(expr.function, tuple(restrict(arg, rows) for arg in expr.args), expr.shape)


def known_rows(expr, values: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Which of the ``n`` elements read only known values (not NaN in ``values``).

    Decided from the references, not from the result: ``step(x)`` of an unknown ``x`` is
    still 0 or 1, so a NaN test on the value would call it known.
    """
    known = np.ones(n, bool)
    for ref in refs(expr):
        present = ~np.isnan(np.asarray(values[ref.var])[..., ref.flat])
        if ref.lengths is None:
            known &= present.reshape(n, -1).all(axis=1) if present.size else True
        else:
            missing = np.add.reduceat(np.append(~present, False).astype(np.int64),
                                      np.minimum(Ragged(present, ref.lengths).starts, present.size))
            known &= np.where(ref.lengths > 0, missing[:n] == 0, True)
    return known


def evaluate(expr, values: dict[str, np.ndarray]):
    """The expression's value for every element: an array ``(*lead, n, *shape)`` or :class:`Ragged`."""
    return expr.evaluator(values)


def _closure(expr):
    """``values -> value`` for ``expr``, made once per node (see :attr:`_Node.evaluator`)."""
    if isinstance(expr, Const):
        value = expr.value
        return lambda values: value
    if isinstance(expr, Ref):
        var, flat, lengths = expr.var, expr.flat, expr.lengths
        if lengths is None:
            return lambda values: np.asarray(values[var])[..., flat]
        return lambda values: Ragged(np.asarray(values[var])[..., flat], lengths)
    if expr.invariant is not None:
        (one, n), shape = expr.invariant, tuple(expr.shape)
        at_one = one.evaluator

        def broadcast(values):
            value = np.asarray(at_one(values))
            return np.broadcast_to(value, value.shape[:value.ndim - len(shape) - 1] + (n,) + shape)
        return broadcast
    args = [arg.evaluator for arg in expr.args]
    function, ranks = expr.function, tuple(rank(a) for a in expr.args)
    if function.kind == "reduction":
        (arg,), (arg_rank,) = args, ranks
        return lambda values: _reduce(function, arg(values), arg_rank)
    if function.kind == "array":
        return lambda values: function.compute([arg(values) for arg in args], ranks)
    out_rank = rank(expr)
    widen = tuple(None if r == out_rank else (...,) + (None,) * out_rank for r in ranks)
    return lambda values: _elementwise(function, [arg(values) for arg in args], widen)


def _elementwise(function: Function, args, widen):
    """``function`` of ``args``, each widened by its index in ``widen`` (None: as it is) to
    the result's value axes; or of runs, if an argument is :class:`Ragged`."""
    ragged = next((a for a in args if isinstance(a, Ragged)), None)
    if ragged is not None:
        flat = [a.values if isinstance(a, Ragged) else _repeat_per_run(a, ragged.lengths)
                for a in args]
        return Ragged(function.compute(*flat), ragged.lengths)
    return function.compute(*[a if index is None else np.asarray(a)[index] for a, index in zip(args, widen)])


def _repeat_per_run(value, lengths):
    """A per-element scalar spread over each element's run of a ragged operand."""
    value = np.asarray(value)
    if value.ndim == 0:
        return value
    return np.repeat(value, lengths, axis=-1)


def _reduce(function: Function, value, value_rank: int):
    if isinstance(value, Ragged):
        return _reduce_runs(function, value)
    return function.compute(np.asarray(value, dtype=float), tuple(range(-value_rank, 0)))


def _reduce_runs(function: Function, ragged: Ragged):
    """A reduction over runs of different lengths, with ``reduceat`` over the run starts."""
    lengths, starts = ragged.lengths, ragged.starts
    data = np.asarray(ragged.values, dtype=float)
    if function.name in ("sum", "mean", "length", "sd"):
        padded = np.concatenate([data, np.zeros(data.shape[:-1] + (1,))], axis=-1)
        sums = np.add.reduceat(padded, np.minimum(starts, data.shape[-1]), axis=-1)[..., : len(lengths)]
        sums = np.where(lengths > 0, sums, 0.0)
        if function.name == "sum":
            return sums
        if function.name == "length":
            return np.broadcast_to(lengths.astype(float), sums.shape).copy()
        with np.errstate(invalid="ignore", divide="ignore"):
            means = sums / lengths
        if function.name == "mean":
            return means
        deviations = (data - np.repeat(means, lengths, axis=-1)) ** 2
        padded = np.concatenate([deviations, np.zeros(data.shape[:-1] + (1,))], axis=-1)
        squares = np.add.reduceat(padded, np.minimum(starts, data.shape[-1]), axis=-1)[..., : len(lengths)]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(lengths > 1, np.sqrt(squares / (lengths - 1)), 0.0)
    identity = {"prod": 1.0, "min": np.inf, "max": -np.inf}[function.name]
    padded = np.concatenate([data, np.full(data.shape[:-1] + (1,), identity)], axis=-1)
    reduced = function.reducer.reduceat(padded, np.minimum(starts, data.shape[-1]), axis=-1)
    return np.where(lengths > 0, reduced[..., : len(lengths)], identity)
