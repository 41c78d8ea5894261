"""Pictures of a run, for where people look rather than read: trace and density of chosen
nodes (ArviZ's plots), the shrinkage plot, and the posterior predictive check's histogram.

The shrinkage plot puts each unit's raw estimate (its own data alone: y / n for a binomial,
y / exposure for a Poisson, the precision-weighted mean for normal data) against its
posterior mean with a 95% interval, each point's area proportional to the unit's amount of
data (n, exposure, or precision), with the line y = x: points off the line were pulled
toward the population, the small units furthest (Gelman et al., BDA 3rd ed., fig. 5.4).
The raw estimates are :func:`hiergraph.raw.raw_estimates`.

matplotlib is an optional dependency (``pip install 'hiergraph[plot]'``); it is imported
only when a plot is drawn.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .engine import Draws, resolve_monitor
from .errors import UsageError
from .model_graph import ModelGraph
from .ppc import PredictiveCheck
from .raw import raw_estimates

FIGURE_SIZE = (8, 5)  # inches, at 100 dots per inch
DPI = 100


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise UsageError("plots need matplotlib: pip install 'hiergraph[plot]'") from None
    matplotlib.use("Agg")  # files only, no window
    import matplotlib.pyplot as plt
    return plt


def _save(figure, path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise UsageError(f"cannot write a plot as '{path.name}': name a .png, .svg or .pdf file")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=DPI)
    _pyplot().close(figure)
    return path


def _names(nodes) -> list[str]:
    """``theta[1:3]`` is ArviZ's variable ``theta`` (the draws hold only what was monitored)."""
    return list(dict.fromkeys(node.split("[")[0].strip() for node in nodes))


def trace(idata, nodes, path) -> Path:
    """Each node's draws per chain against the iteration, beside their density (ArviZ)."""
    import arviz
    names = _names(nodes)
    axes = arviz.plot_trace(idata, var_names=names, compact=True,
                            figsize=(FIGURE_SIZE[0], 1 + 2 * len(names)))
    return _save(np.ravel(axes)[0].figure, path)


def density(idata, nodes, path) -> Path:
    """Each node's posterior density with its mean and 94% highest-density interval (ArviZ)."""
    import arviz
    axes = arviz.plot_posterior(idata, var_names=_names(nodes), figsize=FIGURE_SIZE)
    return _save(np.ravel(axes)[0].figure, path)


def shrinkage(graph: ModelGraph, draws: Draws, node: str, path) -> Path:
    """Raw estimate against posterior mean and 95% interval, sized by the amount of data."""
    raw, size, positions = raw_estimates(graph, node)
    monitor = resolve_monitor(graph, node)
    column = {p: draws.labels.index(label) for p, label in zip(monitor.positions, monitor.labels)}
    samples = draws.values[:, :, [column[p] for p in positions]].reshape(-1, len(positions))
    mean = samples.mean(axis=0)
    low, high = np.quantile(samples, [0.025, 0.975], axis=0)
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=FIGURE_SIZE)
    axis.errorbar(raw, mean, yerr=[mean - low, high - mean], fmt="none", ecolor="0.6", lw=0.8, zorder=1)
    area = 200 * size / size.max()
    axis.scatter(raw, mean, s=np.maximum(area, 8), alpha=0.7, zorder=2, label="posterior mean (95% interval)")
    ends = [min(raw.min(), low.min()), max(raw.max(), high.max())]
    axis.plot(ends, ends, color="0.3", ls="--", lw=1, label="no pooling (y = x)")
    axis.axhline(mean.mean(), color="C3", lw=1, label="average posterior mean")
    axis.set_xlabel(f"raw estimate of {node} (its own data alone)")
    axis.set_ylabel(f"posterior mean of {node}")
    axis.set_title(f"Shrinkage of {node}: point area proportional to the amount of data")
    axis.legend(loc="upper left", fontsize="small")
    figure.tight_layout()
    return _save(figure, path)


def ppc_histogram(checks: list[PredictiveCheck], path) -> Path:
    """The replicated statistic's histogram with the observed value, one panel per check."""
    plt = _pyplot()
    figure, axes = plt.subplots(1, len(checks), figsize=FIGURE_SIZE, squeeze=False)
    for axis, check in zip(axes[0], checks):
        replicated = check.replicated
        bins = min(40, max(5, len(np.unique(replicated))))
        axis.hist(replicated, bins=bins, color="C0", alpha=0.7, label="replicated data")
        axis.axvline(check.observed, color="C3", lw=2, label="observed data")
        axis.set_xlabel(f"{check.statistic} of {check.node}")
        axis.set_title(f"p = {check.p_value:.3f}")
    axes[0][0].set_ylabel("draws")
    axes[0][0].legend(fontsize="small")
    figure.suptitle("Posterior predictive check: P(T(y_rep) >= T(y) | y)")
    figure.tight_layout()
    return _save(figure, path)


PLOTS = {"trace": trace, "density": density, "shrinkage": shrinkage, "ppc": ppc_histogram}


def nodes_to_plot(graph: ModelGraph, kind: str, nodes) -> list[str]:
    """The monitors a plot needs: trace and density, the nodes given or every scalar latent
    node; shrinkage, exactly one array; the ppc histogram, none of its own."""
    if kind not in PLOTS:
        raise UsageError(f"unknown plot '{kind}'; choose from {', '.join(PLOTS)}")
    nodes = [nodes] if isinstance(nodes, str) else list(nodes or [])
    if kind == "shrinkage" and len(nodes) != 1:
        raise UsageError("the shrinkage plot needs one node, e.g. --node theta")
    if kind in ("trace", "density") and not nodes:
        nodes = [g.var for g in graph.groups
                 if g.kind == "stochastic" and g.size == 1 and not g.observed.all()]
        if not nodes:
            raise UsageError(f"the model has no scalar latent node; name the nodes to {kind}")
    return nodes if kind != "ppc" else []
