"""Statistical checks shared by the sampler tests: draws against an exact distribution."""

from __future__ import annotations

import numpy as np
from scipy import stats

KS_LEVEL = 1e-3  # a KS test at this level fails by chance once in a thousand runs


def assert_exact_draws(draws: np.ndarray, exact) -> None:
    """Independent draws against a frozen scipy distribution: mean, variance, KS."""
    x = np.asarray(draws, float).ravel()
    n = len(x)
    mean, var, kurtosis = (float(v) for v in exact.stats(moments="mvk"))
    # the sample mean has sd sqrt(var / n); the sample variance sd var * sqrt((kurtosis + 2) / n)
    assert abs(x.mean() - mean) < 4 * np.sqrt(var / n), (x.mean(), mean)
    assert abs(x.var(ddof=1) - var) < 4 * var * np.sqrt((kurtosis + 2) / n), (x.var(ddof=1), var)
    assert stats.kstest(x, exact.cdf).pvalue > KS_LEVEL


def assert_exact_frequencies(draws: np.ndarray, values: np.ndarray, pmf: np.ndarray) -> None:
    """Independent draws of a discrete distribution, which takes only ``values``, with
    probabilities ``pmf``: each value's frequency within 4 binomial sds (KS tests do not
    hold for discrete distributions: ties make them fail at random)."""
    x = np.asarray(draws).ravel()
    counts = np.array([(x == v).sum() for v in values])
    n = x.size
    assert counts.sum() == n, "draws outside the values"
    assert np.all(np.abs(counts / n - pmf) < 4 * np.sqrt(pmf * (1 - pmf) / n)), (counts / n, pmf)

