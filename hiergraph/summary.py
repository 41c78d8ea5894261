"""The posterior summary printed after sampling and by ``hiergraph summary``.

Per monitored scalar: mean, sd, the 2.5%, 50% and 97.5% quantiles, then the convergence
diagnostics of :mod:`hiergraph.diagnostics` (ArviZ's, computed without importing ArviZ):
the Monte Carlo standard error of the mean, bulk and tail effective sample sizes, and the
rank-normalised split R-hat (Vehtari, Gelman, Simpson, Carpenter and Bürkner 2021). A
warning line follows where R-hat exceeds 1.01 or an effective sample size is below 400, the
thresholds that paper recommends.

A large array is folded: its first rows, one line for the rest (with their highest R-hat and
lowest ESS, so a bad element is not hidden), and its last row.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from itertools import groupby

import numpy as np

from . import diagnostics
from .engine import Draws
from .inference_data import parse_label

COLUMNS = ("node", "mean", "sd", "2.5%", "50%", "97.5%", "mcse_mean", "ess_bulk", "ess_tail", "r_hat")
RHAT_LIMIT = 1.01
ESS_LIMIT = 400
FOLD_ABOVE = 12  # arrays with more elements than this are folded ...
FOLD_HEAD = 5  # ... to their first FOLD_HEAD rows, a line for the rest, and the last row
DIAGNOSED_AT_ONCE = 1024  # scalars whose diagnostics are computed together


def _diagnostics(values: np.ndarray) -> np.ndarray:
    """(scalars, 4): MCSE of the mean, bulk ESS, tail ESS, R-hat; a chunk of scalars at a
    time, so that the transforms' working arrays stay small beside the draws."""
    if values.shape[1] < diagnostics.MIN_DRAWS:  # too few draws for any of them
        return np.full((values.shape[2], 4), np.nan)
    columns = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant nodes give NaN R-hat
        for start in range(0, values.shape[2], DIAGNOSED_AT_ONCE):
            chunk = values[:, :, start:start + DIAGNOSED_AT_ONCE]
            columns.append(np.column_stack([diagnostics.mcse_mean(chunk), diagnostics.ess_bulk(chunk),
                                            diagnostics.ess_tail(chunk), diagnostics.rhat(chunk)]))
    return np.concatenate(columns) if columns else np.empty((0, 4))


@dataclass(frozen=True)
class Summary:
    """One row per scalar: ``stats[k]`` holds ``COLUMNS[1:]`` for ``labels[k]``."""

    labels: list[str]
    stats: np.ndarray

    def table(self, fold: bool = True) -> str:
        rows = [COLUMNS]
        for var, block in groupby(range(len(self.labels)), key=lambda k: parse_label(self.labels[k])[0]):
            block = list(block)
            if fold and len(block) > FOLD_ABOVE:
                hidden = block[FOLD_HEAD:-1]
                rows += [self._row(k) for k in block[:FOLD_HEAD]]
                rows.append(self._fold(var, hidden))
                rows.append(self._row(block[-1]))
            else:
                rows += [self._row(k) for k in block]
        widths = [max(len(row[i]) for row in rows if len(row) > 1) for i in range(len(COLUMNS))]
        return "\n".join(row[0] if len(row) == 1 else
                         "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                                   for i, (cell, w) in enumerate(zip(row, widths)))
                         for row in rows)

    def _row(self, k: int) -> tuple[str, ...]:
        mean, sd, low, mid, high, mcse, bulk, tail, rhat = self.stats[k]
        cells = [f"{v:.4g}" for v in (mean, sd, low, mid, high, mcse)]
        cells += [f"{v:.0f}" for v in (bulk, tail)] + [f"{rhat:.3f}"]
        return (self.labels[k], *("-" if c == "nan" else c for c in cells))

    def _fold(self, var: str, hidden: list[int]) -> tuple[str]:
        first, last = self.labels[hidden[0]], self.labels[hidden[-1]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # all-NaN diagnostics of very short runs
            rhat = np.nanmax(self.stats[hidden, 8])
            ess = np.nanmin(self.stats[hidden, 6:8])
        return (f"  ... {len(hidden)} more {var} ({first} to {last}): R-hat at most {rhat:.3f}, "
                f"ESS at least {ess:.0f}",)

    def warnings(self) -> list[str]:
        total = len(self.labels)
        lines = []
        rhat = self.stats[:, 8]
        high = np.flatnonzero(rhat > RHAT_LIMIT)
        if len(high):
            worst = high[np.argmax(rhat[high])]
            lines.append(f"warning: R-hat above {RHAT_LIMIT} for {len(high)} of {total} values "
                         f"(highest: {self.labels[worst]} {rhat[worst]:.3f}): the chains have not "
                         f"mixed; run longer")
        ess = np.fmin(self.stats[:, 6], self.stats[:, 7])
        low = np.flatnonzero(ess < ESS_LIMIT)
        if len(low):
            worst = low[np.argmin(ess[low])]
            lines.append(f"warning: effective sample size below {ESS_LIMIT} for {len(low)} of "
                         f"{total} values (lowest: {self.labels[worst]} {ess[worst]:.0f}): too few "
                         f"for reliable intervals; run longer")
        return lines

    def __str__(self) -> str:
        return "\n".join([self.table(), *self.warnings()])


def summarise(draws: Draws) -> Summary:
    """Each monitored scalar's summary, pooling the chains."""
    pooled = draws.values.reshape(-1, len(draws.labels))
    if len(pooled):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the sd of one draw is NaN
            stats = np.column_stack([pooled.mean(axis=0), pooled.std(axis=0, ddof=1),
                                     *np.quantile(pooled, [0.025, 0.5, 0.975], axis=0)])
    else:
        stats = np.full((len(draws.labels), 5), np.nan)
    return Summary(list(draws.labels), np.column_stack([stats, _diagnostics(draws.values)]))
