"""Convergence diagnostics of the summary: rank-normalised split R-hat, bulk and tail
effective sample sizes, and the Monte Carlo standard error of the mean.

These follow Vehtari, Gelman, Simpson, Carpenter and Bürkner (2021), "Rank-normalization,
folding, and localization: an improved R-hat for assessing convergence of MCMC", *Bayesian
Analysis* 16(2), 667-718, with the effective sample size of Geyer's initial monotone
sequence estimator (Geyer 1992, *Statistical Science* 7, 473-483), as Stan and ArviZ compute
them; tests/test_diagnostics.py checks every value against ArviZ's. They are computed here,
for every monitored scalar at once, because importing ArviZ (with its plotting and xarray)
takes about 2.7 s on the benchmark machine: longer than JAGS's whole run of most classic
examples, for a table printed after every run.

``draws`` is ``(chains, draws, scalars)`` throughout; each function returns one value per
scalar, NaN where the draws hold a NaN or are too few (under 4 per chain; R-hat also needs
2 chains).
"""

from __future__ import annotations

import numpy as np
from scipy import special

MIN_DRAWS = 4
TAIL = (0.05, 0.95)  # the quantiles whose indicators give the tail effective sample size
BLOM = 3 / 8  # the offset of the normal scores of ranks (Blom 1958)


def mcse_mean(draws: np.ndarray) -> np.ndarray:
    """The Monte Carlo standard error of each scalar's posterior mean."""
    ess = _ess(_split(draws))
    with np.errstate(all="ignore"):
        sd = draws.reshape(-1, draws.shape[2]).std(axis=0, ddof=1)
        return _valid(draws, sd / np.sqrt(ess))


def ess_bulk(draws: np.ndarray) -> np.ndarray:
    """The effective sample size of the rank-normalised split chains."""
    return _valid(draws, _ess(_normal_scores(_split(draws))))


def ess_tail(draws: np.ndarray) -> np.ndarray:
    """The smaller effective sample size of the indicators of the 5% and 95% quantiles."""
    pooled = draws.reshape(-1, draws.shape[2])
    ess = [_ess(_split((draws <= np.quantile(pooled, q, axis=0)).astype(float))) for q in TAIL]
    return _valid(draws, np.minimum(*ess))


def rhat(draws: np.ndarray) -> np.ndarray:
    """The larger of the split R-hats of the rank-normalised draws and of their distances
    from the median (the folded draws, sensitive to differences in scale)."""
    split = _split(draws)
    folded = np.abs(split - np.median(split.reshape(-1, split.shape[2]), axis=0))
    value = np.maximum(_rhat(_normal_scores(split)), _rhat(_normal_scores(folded)))
    return _valid(draws, np.where(draws.shape[0] < 2, np.nan, value))


def _valid(draws: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values``, with NaN for scalars whose draws hold a NaN or are too few."""
    bad = np.isnan(draws).any(axis=(0, 1)) | (draws.shape[1] < MIN_DRAWS)
    return np.where(bad, np.nan, values)


def _split(draws: np.ndarray) -> np.ndarray:
    """Each chain's first and last halves as two chains (the middle draw of an odd count
    left out)."""
    half = draws.shape[1] // 2
    return np.concatenate([draws[:, :half], draws[:, draws.shape[1] - half:]], axis=0)


def _normal_scores(draws: np.ndarray) -> np.ndarray:
    """Each scalar's draws replaced by the normal quantiles of their pooled ranks (ties
    given their average rank)."""
    chains, count, scalars = draws.shape
    ranks = _average_ranks(draws.reshape(-1, scalars).T)
    scores = special.ndtri((ranks - BLOM) / (ranks.shape[1] - 2 * BLOM + 1))
    return scores.T.reshape(chains, count, scalars)


def _average_ranks(rows: np.ndarray) -> np.ndarray:
    """The 1-based rank of each value within its row, tied values sharing their mean rank."""
    count, n = rows.shape
    order = np.argsort(rows, axis=1)
    ordered = np.take_along_axis(rows, order, axis=1)
    rank = np.broadcast_to(np.arange(1.0, n + 1), rows.shape)
    tied = ordered[:, 1:] == ordered[:, :-1]
    if tied.any():  # a run of equal values gets the mean of its first and last ranks
        starts = np.ones(rows.shape, dtype=bool)
        starts[:, 1:] = ~tied
        ends = np.ones(rows.shape, dtype=bool)
        ends[:, :-1] = ~tied
        first = np.maximum.accumulate(np.where(starts, rank, 0.0), axis=1)
        last = np.ascontiguousarray(np.where(ends, rank, float(n))[:, ::-1])
        rank = (first + np.minimum.accumulate(last, axis=1)[:, ::-1]) / 2
    ranks = np.empty(rows.shape)
    ranks.reshape(-1)[(order + n * np.arange(count)[:, None]).reshape(-1)] = rank.reshape(-1)
    return ranks


def _rhat(draws: np.ndarray) -> np.ndarray:
    """Gelman and Rubin's potential scale reduction of each scalar, over the chains given."""
    count = draws.shape[1]
    with np.errstate(all="ignore"):
        between = count * draws.mean(axis=1).var(axis=0, ddof=1)
        within = draws.var(axis=1, ddof=1).mean(axis=0)
        return np.sqrt((between / within + count - 1) / count)


def _ess(draws: np.ndarray) -> np.ndarray:
    """Geyer's initial monotone sequence estimate of each scalar's effective sample size,
    pooling the chains' autocorrelations (Vehtari et al. 2021, section 3.2)."""
    chains, count, scalars = draws.shape
    total = chains * count
    centred = draws - draws.mean(axis=1, keepdims=True)
    spectrum = np.fft.rfft(centred, n=2 * count, axis=1)
    autocovariance = np.fft.irfft(spectrum * np.conjugate(spectrum), n=2 * count, axis=1)[:, :count] / count
    within = autocovariance[:, 0].mean(axis=0) * count / (count - 1.0)
    with np.errstate(all="ignore"):
        pooled = within * (count - 1.0) / count
        if chains > 1:
            pooled = pooled + draws.mean(axis=1).var(axis=0, ddof=1)
        rho = 1.0 - (within - autocovariance.mean(axis=0)) / pooled  # (count, scalars)
    rho[0] = 1.0
    ess = total / _autocorrelation_time(rho, total)
    constant = draws.max(axis=(0, 1)) - draws.min(axis=(0, 1)) < np.finfo(float).resolution
    return np.where(constant, total, ess)


def _autocorrelation_time(rho: np.ndarray, total: int) -> np.ndarray:
    """Per column of ``rho`` (lags x scalars): ``1 + 2 sum rho_t`` truncated where the sums
    of adjacent pairs of autocorrelations first stop being positive (or the lags run out),
    those pair sums made non-increasing."""
    count, scalars = rho.shape
    pairs = rho[:count // 2 * 2].reshape(-1, 2, scalars).sum(axis=1)
    k = np.arange(len(pairs))[:, None]
    # the pair where the sum stops (its even lag still counts); the final pair always
    # stops it, as the lags run out there
    last = np.argmax((pairs <= 0) | (2 * k + 1 >= count - 3), axis=0)
    counted = k < last
    monotone = np.where(counted, np.minimum.accumulate(pairs, axis=0), 0.0).sum(axis=0)
    columns = np.arange(scalars)
    even, at_last = rho[2 * last, columns], pairs[last, columns]
    tail = np.where((even > 0) | ((last > 0) & (at_last >= 0)), even, 0.0)
    tau = np.maximum(-1.0 + 2.0 * monotone + tail, 1.0 / np.log10(total))
    undefined = np.isnan(rho[:2]).any(axis=0) | (np.isnan(pairs) & (k <= last)).any(axis=0)
    return np.where(undefined, np.nan, tau)
