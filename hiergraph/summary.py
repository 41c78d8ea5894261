"""A table of posterior summaries of monitored draws: mean, sd and quantiles per scalar node.

Convergence diagnostics (split R-hat, bulk and tail ESS) come from ArviZ in a later step
rather than being written here.
"""

from __future__ import annotations

import numpy as np

from .engine import Draws

COLUMNS = ("node", "mean", "sd", "2.5%", "50%", "97.5%")


def summary_rows(draws: Draws) -> list[tuple]:
    pooled = draws.values.reshape(-1, len(draws.labels))
    quantiles = np.quantile(pooled, [0.025, 0.5, 0.975], axis=0) if len(pooled) else \
        np.full((3, len(draws.labels)), np.nan)
    return [(label, pooled[:, k].mean(), pooled[:, k].std(ddof=1) if len(pooled) > 1 else np.nan,
             *quantiles[:, k]) for k, label in enumerate(draws.labels)]


def summary_table(draws: Draws) -> str:
    rows = [COLUMNS] + [(r[0], *(f"{v:.4g}" for v in r[1:])) for r in summary_rows(draws)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                               for i, (cell, w) in enumerate(zip(row, widths)))
                     for row in rows)
