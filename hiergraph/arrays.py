"""Array helpers shared by several steps of the flow."""

from __future__ import annotations

import numpy as np


def distinct_rows(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(first, inverse)`` for the rows of a 2-D ``table``: the position of one row of each
    distinct value (in sorted order) and each row's index into them. A lexicographic sort
    of the columns, much faster than ``np.unique(axis=0)`` on a million rows."""
    n = len(table)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    order = np.lexsort(table.T[::-1])
    ordered = table[order]
    starts = np.concatenate(([True], (ordered[1:] != ordered[:-1]).any(axis=1)))
    inverse = np.empty(n, np.int64)
    inverse[order] = np.cumsum(starts) - 1
    return order[starts], inverse
