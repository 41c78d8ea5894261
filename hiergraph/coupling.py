"""Which coordinates of a block are coupled, and the few that couple the rest.

Two coordinates of a block are coupled when a child reads both: the block's precision
``diag(prior) + X' W X`` is nonzero there. A random-effects model couples each subject's
effects with each other and with the fixed effects, and nothing else: remove the fixed
effects (the border) and the rest falls into small independent pieces. The block sampler
uses this to split its follow-up moves (:mod:`hiergraph.blocks`), the numba backend to
order the precision for a sparse factorisation (:mod:`hiergraph.jit.envelope`).

The border is found greedily, as in nested dissection's simplest form: remove the
coordinate coupled to the most others still in, one at a time.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph


def coupled(pattern: sparse.spmatrix) -> sparse.csr_matrix:
    """``(d, d)`` boolean: which coordinates a common row of the ``(rows, d)`` pattern reads."""
    x = sparse.csr_matrix(pattern, dtype=bool).astype(np.int64)
    return ((x.T @ x) != 0).tocsr()


def borders(coupling: sparse.csr_matrix) -> Iterator[list[int]]:
    """Ever larger borders: each the last plus the coordinate coupled to the most others
    outside it, until nothing outside is coupled to anything else."""
    degree = np.asarray(coupling.sum(axis=1)).ravel()  # outside the border, self included
    border: list[int] = []
    while degree.max() > 1:
        border.append(int(np.argmax(degree)))
        degree -= coupling[:, border[-1]].toarray().ravel()
        degree[border[-1]] = 0
        yield list(border)


def pieces(coupling: sparse.csr_matrix, border: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The coordinates outside ``border`` and the independent piece each falls into."""
    keep = np.setdiff1d(np.arange(coupling.shape[0]), border)
    _, piece = csgraph.connected_components(coupling[keep][:, keep], directed=False)
    return keep, piece


def split(pattern: sparse.spmatrix) -> tuple[np.ndarray, np.ndarray] | None:
    """``(border, inside)``: a border of at most a quarter of the coordinates whose removal
    leaves pieces of at most a tenth of them; None where the coordinates are in such pieces
    already, or no such border exists (a block all of whose coordinates are coupled)."""
    coupling = coupled(pattern)
    d = coupling.shape[0]
    small = max(1, d // 10)
    if np.bincount(pieces(coupling, [])[1]).max() <= small:
        return None
    for border in borders(coupling):
        if len(border) > d // 4:
            return None
        keep, piece = pieces(coupling, border)
        if np.bincount(piece).max() <= small:
            return np.sort(border), keep
    return None
