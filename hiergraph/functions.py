"""The BUGS function library and operators: one registry, vectorised over nodes.

Values are numpy arrays whose leading axes index nodes (and chains) and whose trailing
``rank`` axes are the value of one node (a vector, a matrix). Three kinds of function:

* ``elementwise``: scalar in, scalar out, applied to every element (``exp``, ``+``);
  the evaluator aligns the arguments' value axes before calling ``compute(*args)``.
* ``reduction``: a whole vector or array in, one scalar out (``sum``, ``mean``);
  ``compute(x, axes)`` reduces over the value axes.
* ``array``: array in, array out (``inverse``, ``%*%``, ``sort``); ``compute(args, ranks)`` with
  the value axes last, and ``result_shape(arg_shapes)`` gives one node's value shape.

``linear`` and ``scale`` list the argument positions in which a function is linear (sum of
terms) or a scale function (a product by it); the Gibbs compiler reads them to find
conjugate updates through deterministic nodes. False negatives are allowed, false positives
are not. Density, distribution and quantile functions (``dnorm(x, mu, tau)``,
``pnorm(q, mu, tau)``, ``qnorm(p, mu, tau)``) are generated from the distribution registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import special

from .distributions import DISTRIBUTIONS


@dataclass(frozen=True)
class Function:
    name: str
    min_args: int
    max_args: int
    kind: str  # 'elementwise' | 'reduction' | 'array'
    compute: Callable
    result_shape: Callable | None = None
    linear: frozenset = frozenset()
    scale: frozenset = frozenset()
    # Identity of the reduction, for empty or ragged segments (sum: 0, prod: 1).
    reducer: np.ufunc | None = None

    def arity_text(self) -> str:
        if self.min_args == self.max_args:
            return f"{self.min_args} argument{'s' if self.min_args != 1 else ''}"
        return f"{self.min_args} to {self.max_args} arguments"


def _elementwise(name, compute, nargs=1, linear=(), scale=()):
    return Function(name, nargs, nargs, "elementwise", compute,
                    linear=frozenset(linear), scale=frozenset(scale))


def _reduction(name, compute, reducer=None, linear=()):
    return Function(name, 1, 1, "reduction", compute, reducer=reducer, linear=frozenset(linear))


def _quiet(f, *args):
    """``f(*args)`` giving nan or inf where undefined, without numpy's warnings."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return f(*args)


def _safe_log(x):
    return _quiet(np.log, x)


def _pow(x, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.power(np.asarray(x, dtype=float), y)


def _divide(x, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.true_divide(x, y)


def _logit(p):
    with np.errstate(divide="ignore"):
        return special.logit(p)


def _cloglog(p):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(-np.log1p(-np.asarray(p, dtype=float)))


def _icloglog(x):
    return -np.expm1(-np.exp(x))


def _bool(x):
    return np.asarray(x, dtype=float)


def _sd(x, axes):
    n = np.prod([x.shape[a] for a in axes])
    return np.std(x, axis=axes, ddof=1) if n > 1 else np.zeros(np.delete(x.shape, axes))


def _length(x, axes):
    return np.full(np.delete(np.shape(x), axes), float(np.prod([np.shape(x)[a] for a in axes])))


def _matmul_shape(shapes):
    a, b = shapes
    return a[:-1] + b[1:]


_MATMUL_SUBSCRIPTS = {(1, 1): "...i,...i->...", (1, 2): "...i,...ij->...j",
                      (2, 1): "...ij,...j->...i", (2, 2): "...ij,...jk->...ik"}


def _matmul(args, ranks):
    """``a %*% b`` for vectors and matrices, batched over the leading (node) axes."""
    return np.einsum(_MATMUL_SUBSCRIPTS[ranks], *args)


def _inprod(args, ranks):
    a, b = args
    return np.sum(a * b, axis=-1)


def _rank(args, ranks):
    (x,) = args
    return (np.argsort(np.argsort(x, axis=-1, kind="stable"), axis=-1) + 1).astype(float)


def _same_shape(shapes):
    return shapes[0]


def _inverse(args, ranks):
    """The inverse of each matrix; NaN for a singular one, as the numba backend's."""
    matrices = np.asarray(args[0], dtype=float)
    try:
        return np.linalg.inv(matrices)
    except np.linalg.LinAlgError:
        flat = matrices.reshape((-1,) + matrices.shape[-2:])
        out = np.full(flat.shape, np.nan)
        for k, matrix in enumerate(flat):
            try:
                out[k] = np.linalg.inv(matrix)
            except np.linalg.LinAlgError:
                pass
        return out.reshape(matrices.shape)


def _logdet(args, ranks):
    sign, value = np.linalg.slogdet(args[0])
    return np.where(sign > 0, value, np.nan)


_OPERATORS = [
    _elementwise("+", np.add, 2, linear=(0, 1)),
    _elementwise("-", np.subtract, 2, linear=(0, 1)),
    _elementwise("*", np.multiply, 2, scale=(0, 1)),
    _elementwise("/", _divide, 2, scale=(0,)),
    _elementwise("^", _pow, 2),
    _elementwise("neg", np.negative, 1, linear=(0,)),
    _elementwise("<", lambda a, b: _bool(np.less(a, b)), 2),
    _elementwise("<=", lambda a, b: _bool(np.less_equal(a, b)), 2),
    _elementwise(">", lambda a, b: _bool(np.greater(a, b)), 2),
    _elementwise(">=", lambda a, b: _bool(np.greater_equal(a, b)), 2),
    _elementwise("==", lambda a, b: _bool(np.equal(a, b)), 2),
    _elementwise("!=", lambda a, b: _bool(np.not_equal(a, b)), 2),
    _elementwise("&&", lambda a, b: _bool(np.logical_and(a, b)), 2),
    _elementwise("||", lambda a, b: _bool(np.logical_or(a, b)), 2),
    _elementwise("!", lambda a: _bool(np.logical_not(a)), 1),
]

_SCALAR = [
    _elementwise("abs", np.abs),
    _elementwise("sqrt", lambda x: _quiet(np.sqrt, x)),
    _elementwise("exp", np.exp),
    _elementwise("log", _safe_log),
    _elementwise("pow", _pow, 2),
    _elementwise("logit", _logit),
    _elementwise("ilogit", special.expit),
    _elementwise("probit", special.ndtri),
    _elementwise("phi", special.ndtr),
    _elementwise("cloglog", _cloglog),
    _elementwise("icloglog", _icloglog),
    _elementwise("step", lambda x: _bool(np.greater_equal(x, 0))),
    _elementwise("equals", lambda a, b: _bool(np.equal(a, b)), 2),
    _elementwise("ifelse", lambda c, a, b: np.where(np.asarray(c) != 0, a, b), 3),
    _elementwise("round", lambda x: np.where(np.asarray(x) >= 0, np.floor(np.asarray(x) + 0.5),
                                             np.ceil(np.asarray(x) - 0.5))),
    _elementwise("trunc", np.trunc),
    _elementwise("logfact", lambda x: special.gammaln(np.asarray(x, dtype=float) + 1)),
    _elementwise("loggam", special.gammaln),
    _elementwise("sin", np.sin), _elementwise("cos", np.cos), _elementwise("tan", np.tan),
    _elementwise("arcsin", np.arcsin), _elementwise("arccos", np.arccos),
    _elementwise("arctan", np.arctan),
    _elementwise("sinh", np.sinh), _elementwise("cosh", np.cosh), _elementwise("tanh", np.tanh),
]

_REDUCTIONS = [
    _reduction("sum", lambda x, axes: np.sum(x, axis=axes), np.add, linear=(0,)),
    _reduction("prod", lambda x, axes: np.prod(x, axis=axes), np.multiply),
    _reduction("mean", lambda x, axes: np.mean(x, axis=axes), linear=(0,)),
    _reduction("sd", _sd),
    _reduction("min", lambda x, axes: np.min(x, axis=axes), np.minimum),
    _reduction("max", lambda x, axes: np.max(x, axis=axes), np.maximum),
    _reduction("length", _length),
]

_ARRAY = [
    Function("%*%", 2, 2, "array", _matmul, _matmul_shape, scale=frozenset({0, 1})),
    Function("inprod", 2, 2, "array", _inprod, lambda shapes: (), scale=frozenset({0, 1})),
    Function("sort", 1, 1, "array", lambda args, ranks: np.sort(args[0], axis=-1), _same_shape),
    Function("rank", 1, 1, "array", _rank, _same_shape),
    Function("inverse", 1, 1, "array", _inverse, _same_shape),
    Function("logdet", 1, 1, "array", _logdet, lambda shapes: ()),
    Function("t", 1, 1, "array", lambda args, ranks: np.swapaxes(args[0], -1, -2),
             lambda shapes: tuple(reversed(shapes[0]))),
]


def _distribution_functions() -> list[Function]:
    """``dnorm(x, mu, tau)``, ``pnorm(q, ...)``, ``qnorm(p, ...)`` for each scalar distribution."""
    made = []
    for name, dist in DISTRIBUTIONS.items():
        if dist.value_rank != 0 or any(dist.param_ranks) or dist.observed_only or dist.improper:
            continue
        stem = name[1:]
        n = dist.arity + 1
        made.append(_elementwise(name, lambda x, *p, d=dist: np.exp(d.logpdf(x, *p)), n))
        made.append(_elementwise("p" + stem, lambda q, *p, d=dist: d.cdf(q, *p), n))
        made.append(_elementwise("q" + stem, lambda u, *p, d=dist: d.ppf(u, *p), n))
    return made


FUNCTIONS: dict[str, Function] = {
    f.name: f for f in _OPERATORS + _SCALAR + _REDUCTIONS + _ARRAY + _distribution_functions()
}

# Inverse link functions: ``link(x) <- e`` means ``x <- inverse(e)``.
INVERSE_LINKS = {"logit": "ilogit", "log": "exp", "probit": "phi", "cloglog": "icloglog"}
