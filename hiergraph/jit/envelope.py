"""The layout of a block's sparse precision for the compiled Cholesky kernels.

A block's precision ``H = diag(prior) + X' W X`` is nonzero only where two coordinates share
a child row. In a random-effects model most coordinates share rows with a few others (one
subject's effects) and a few share rows with all (the fixed effects): an arrow. Stored
dense, its Cholesky factor costs ``d^3 / 6`` per factorisation, which on epil's
301-coordinate block was most of a sweep.

Envelope (profile) storage keeps, for each row ``i`` of the lower triangle in some order of
the coordinates, the entries from its first nonzero column to the diagonal; the Cholesky
factor of the reordered matrix fills in only inside that envelope (George and Liu 1981,
*Computer Solution of Large Sparse Positive Definite Systems*, ch. 4), so the kernels of
:mod:`hiergraph.jit.scalar` factor it in place. The order chosen here puts the coordinates
that couple many others (the border) last and the rest in the connected pieces they fall
into once the border is removed, so an arrow costs ``O(d)`` and a dense block no more than
before. Any order is exact; the order decides only the cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ..coupling import borders, coupled, pieces

PATIENCE = 16  # border growths without a cheaper factorisation before the search stops


@dataclass(frozen=True)
class Envelope:
    """``order[i]`` is the coordinate at position ``i``; row ``i`` of the lower triangle holds
    columns ``first[i] .. i`` at ``start[i] + (k - first[i])`` of a flat array of ``size``."""

    order: np.ndarray
    first: np.ndarray
    start: np.ndarray
    size: int

    @property
    def position(self) -> np.ndarray:
        """The position of each coordinate."""
        return _positions(self.order)


def _positions(order: np.ndarray) -> np.ndarray:
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    return position


def envelope(pattern: sparse.spmatrix) -> Envelope:
    """The envelope layout for ``X' X`` of a ``(rows, d)`` design pattern, with the border
    (:func:`hiergraph.coupling.borders`) that makes the factorisation cheapest."""
    coupling = coupled(pattern)
    best = _layout(coupling, _order(coupling, []))
    best_cost, since_best = _cost(best), 0
    for border in borders(coupling):
        trial = _layout(coupling, _order(coupling, border))
        since_best += 1
        if _cost(trial) < best_cost:
            best, best_cost, since_best = trial, _cost(trial), 0
        if since_best >= PATIENCE:
            break
    return best


def _order(coupling: sparse.csr_matrix, border: list[int]) -> np.ndarray:
    """The coordinates outside ``border`` piece by piece, the less coupled first within a
    piece (a subject's observation effects before its subject effect: no fill), then the
    border in reverse order of removal (the most coupled last)."""
    keep, piece = pieces(coupling, border)
    degree = np.diff(coupling.indptr)[keep]
    inside = keep[np.lexsort((keep, degree, piece))]
    return np.concatenate([inside, np.asarray(border[::-1], dtype=np.int64)]).astype(np.int64)


def _layout(coupling: sparse.csr_matrix, order: np.ndarray) -> Envelope:
    position = _positions(order)
    reordered = sparse.coo_matrix(coupling)
    rows, cols = position[reordered.row], position[reordered.col]
    lower = cols <= rows
    first = np.arange(len(order))
    np.minimum.at(first, rows[lower], cols[lower])
    widths = np.arange(len(order)) - first + 1
    start = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64)
    return Envelope(order, first.astype(np.int64), start, int(widths.sum()))


def _cost(layout: Envelope) -> int:
    """Multiply-adds of the envelope Cholesky: entry ``(i, j)`` takes one for each column
    both rows ``i`` and ``j`` hold left of ``j``."""
    first = layout.first
    widths = np.arange(len(first)) - first + 1
    rows = np.repeat(np.arange(len(first)), widths)
    cols = rows - (np.arange(len(rows)) - np.repeat(layout.start, widths))
    return int(np.sum(cols - np.maximum(first[rows], first[cols])))
