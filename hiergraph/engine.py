"""Running a Plan: initial values, the Gibbs sweep for all chains at once, monitored draws.

Each chain has its own random stream, spawned from one seed with
``numpy.random.SeedSequence.spawn`` (or taken from JAGS's ``.RNG.seed`` in that chain's
initial values), so a run is reproducible bit for bit. Adaptive samplers adapt during the
burn-in only.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import networkx as nx
import numpy as np

from .compiler import Plan
from .errors import DataFileError, ModelError, UsageError
from .model_graph import ModelGraph, element_text
from .state import State


@dataclass(frozen=True)
class Monitor:
    """One monitored array (or part of it): its name as asked and its elements' flat positions."""

    var: str
    positions: np.ndarray  # flat positions; empty for 'deviance'
    labels: tuple[str, ...]


@dataclass
class Draws:
    """Monitored draws: ``values[k]`` is ``(chains, saved draws)`` for the scalar ``labels[k]``."""

    labels: list[str]
    values: np.ndarray  # (chains, draws, scalars)
    iterations: np.ndarray  # JAGS's iteration number of each saved draw
    seed: int | None
    chains: int
    # (chains, draws): the deviance of each saved draw whether or not 'deviance' is among
    # the labels, for ArviZ's sample_stats; None where it was not recorded
    deviance: np.ndarray | None = None

    def __getitem__(self, label: str) -> np.ndarray:
        return self.values[:, :, self.labels.index(label)]


_MONITOR = re.compile(r"^\s*([A-Za-z][A-Za-z0-9._]*)\s*(?:\[(.*)\])?\s*$")


def resolve_monitor(model: ModelGraph, text: str) -> Monitor:
    """``theta``, ``Y[26,2]``, ``theta[1:3]``, ``Y[,2]`` or ``deviance``."""
    match = _MONITOR.match(text)
    if not match:
        raise UsageError(f"cannot read the monitor '{text}': write a name such as theta, theta[3] "
                         f"or theta[1:3]")
    name, index = match.groups()
    if name == "deviance" and index is None and name not in model.arrays:
        return Monitor("deviance", np.zeros(0, np.int64), ("deviance",))
    info = model.arrays.get(name)
    if info is None:
        raise UsageError(f"cannot monitor '{name}': there is no such node in the model")
    shape = info.shape or (1,)
    grid = np.arange(info.size).reshape(shape)
    if index is not None:
        parts = index.split(",")
        if len(parts) != len(shape):
            raise UsageError(f"cannot monitor '{text}': {name} has {len(shape)} dimension(s)")
        selection = []
        for part, extent in zip(parts, shape):
            part = part.strip()
            if not part:
                selection.append(slice(None))
                continue
            bounds = part.split(":")
            try:
                low, high = int(bounds[0]), int(bounds[-1])
            except ValueError:
                raise UsageError(f"cannot monitor '{text}': indices must be whole numbers") from None
            if not 1 <= low <= high <= extent:
                raise UsageError(f"cannot monitor '{text}': index out of range 1..{extent}")
            selection.append(slice(low - 1, high))
        grid = grid[tuple(selection)]
    positions = np.ravel(grid, order="F")  # JAGS lists array elements column-major, as R does
    labels = tuple(element_text(name, info.shape, p) for p in positions)
    return Monitor(name, positions, labels)


def default_monitors(model: ModelGraph) -> list[Monitor]:
    """Every latent stochastic node group's latent elements, as JAGS users monitor them."""
    monitors = []
    for group in model.groups:
        if group.kind == "stochastic" and not group.observed.all():
            rows = np.flatnonzero(~group.observed)
            info = model.arrays[group.var]
            positions = _column_major(group.target[rows].reshape(-1), info.shape)
            monitors.append(Monitor(group.var, positions,
                                    tuple(element_text(group.var, info.shape, p) for p in positions)))
    return monitors


def _column_major(positions: np.ndarray, shape: tuple) -> np.ndarray:
    """Flat (row-major) positions sorted in R's column-major order."""
    if len(shape) < 2:
        return np.sort(positions)
    order = np.ravel_multi_index(np.unravel_index(positions, shape), shape, order="F")
    return positions[np.argsort(order)]


def chain_generators(seed: int | None, chains: int, inits: list[dict]) -> tuple[list, int]:
    """One independent generator per chain, from ``seed`` or a chain's ``.RNG.seed``."""
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**32))
    streams = np.random.SeedSequence(seed).spawn(chains)
    generators = []
    for c in range(chains):
        own = _chain_inits(inits, c).get(".RNG.seed")
        if own is not None:
            value = np.asarray(getattr(own, "value", own), float).reshape(-1)[0]
            generators.append(np.random.default_rng(int(value)))
        else:
            generators.append(np.random.default_rng(streams[c]))
    return generators, seed


def _chain_inits(inits: list[dict], chain: int) -> dict:
    if not inits:
        return {}
    return inits[chain] if len(inits) > 1 else inits[0]


def initialise(model: ModelGraph, state: State, inits: list[dict]) -> None:
    """Initial values from the user where given, else JAGS's typical value of each prior."""
    if len(inits) > 1 and len(inits) != state.chains:
        raise UsageError(f"{len(inits)} initial-value files for {state.chains} chains: give one file "
                         f"for every chain, or one for all")
    for c in range(state.chains):
        for name, entry in _chain_inits(inits, c).items():
            if name.startswith(".RNG") or name not in model.arrays:
                continue
            value = np.asarray(getattr(entry, "value", entry), float).reshape(-1)
            given = ~np.isnan(value)
            state.values[name][c, given] = value[given]
    order = model.graph.subgraph(g.name for g in model.groups).copy()
    order.remove_edges_from(nx.selfloop_edges(order))
    for name in nx.topological_sort(order):
        group = model.group(name)
        if group.kind == "deterministic":
            state.recompute([group])
        elif not group.observed.all():
            _typical_values(state, group)
    for group in model.groups:
        if group.kind == "stochastic":
            _check_possible(model, state, group)


def _typical_values(state: State, group) -> None:
    """Fill unset latent nodes with the typical value of their prior given their parents."""
    for _ in range(group.size):
        current = state.get(group).reshape(state.chains, group.size, -1)
        unset = np.isnan(current).any(axis=2)
        if not unset.any():
            return
        params = state.parameters(group)
        dist = group.distribution
        with np.errstate(all="ignore"):
            if group.bounds is not None:
                lower, upper = state.bounds(group)
                typical = dist.truncated_typical(lower, upper, *params)
            else:
                typical = dist.typical(*params)
        typical = np.broadcast_to(typical, (state.chains, group.size, *group.value_shape))
        typical = typical.reshape(state.chains, group.size, -1)
        filled = np.where(unset[..., None], typical, current)
        state.values[group.var][:, group.target] = filled
        if not np.isnan(typical[unset]).any():
            return


def _check_possible(model: ModelGraph, state: State, group) -> None:
    density = state.log_density(group)
    bad = ~np.isfinite(density)
    if bad.any():
        chain, row = (int(i[0]) for i in np.nonzero(bad))
        value = state.get(group, [row])[chain].reshape(-1)
        shown = f"{value[0]:g}" if value.size == 1 else np.array2string(value)
        raise ModelError(f"{model.element_name(group, row)} = {shown} has zero density given its "
                         f"parents at the initial values (chain {chain + 1}); give initial values "
                         f"that make it possible", group.span)


def deviance(model: ModelGraph, state: State) -> np.ndarray:
    """-2 x the log density of the observed stochastic nodes, per chain."""
    total = np.zeros(state.chains)
    for group in model.groups:
        if group.kind == "stochastic" and group.observed.any():
            total += state.log_density(group)[:, group.observed].sum(axis=1)
    return -2 * total


def check_run_lengths(chains: int, burn: int, iterations: int, thin: int) -> None:
    """A run's lengths, checked before anything is compiled or written."""
    for value, what in ((chains, "chains"), (thin, "thin")):
        if value < 1:
            raise UsageError(f"{what} must be at least 1, not {value}")
    for value, what in ((burn, "burn-in"), (iterations, "iterations")):
        if value < 0:
            raise UsageError(f"{what} must not be negative, not {value}")


def usable_cores(cores: int | None) -> int:
    """``cores``, checked, or (None) every core this process may run on: how many chains the
    numba backend runs at once."""
    if cores is None:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if cores < 1:
        raise UsageError(f"cores must be at least 1, not {cores}")
    return cores


BACKENDS = ("auto", "numpy", "numba")


def compiled_sweep(model: ModelGraph, plan: Plan, monitors, backend: str):
    """The Plan compiled by the numba backend (:mod:`hiergraph.jit`), or None for the numpy
    engine: ``numba`` insists, ``auto`` compiles where numba is installed, the model is
    small enough (:data:`hiergraph.jit.AUTO_LIMIT`) and the Plan's steps are all ones the
    code generator writes."""
    if backend not in BACKENDS:
        raise UsageError(f"unknown backend '{backend}'; choose one of {', '.join(BACKENDS)}")
    if backend == "numpy":
        return None
    from . import jit
    if backend == "auto" and jit.too_large(plan):
        return None
    if not jit.available():
        if backend == "numba":
            raise UsageError("the numba backend needs numba: pip install 'hiergraph[fast]'")
        return None
    from .jit import codegen, runner
    try:
        return runner.compile_plan(model, plan, monitors)
    except codegen.NotCompilable as reason:
        if backend == "numba":
            raise UsageError(f"the numba backend cannot compile this model yet: {reason}; "
                             f"the numpy backend can run it") from None
        return None


def run(model: ModelGraph, plan: Plan, *, chains: int, burn: int, iterations: int, thin: int = 1,
        seed: int | None = None, inits: list[dict] | None = None, monitors=None,
        on_draw=None, on_sweep=None, on_compiling=None, backend: str = "numpy",
        cores: int | None = None) -> Draws:
    """Burn in, then sample; keep every ``thin``-th sweep of the monitored nodes.

    ``on_draw(iteration, row)`` (optional) sees each saved draw as it is made; ``row`` is
    that draw's own storage in the returned values (chains x scalars), kept as it is, so a
    caller may hold on to it without copying. ``on_sweep(sweep)`` (optional) is called after
    every sweep, burn-in included: for progress, and to stop a run cleanly between sweeps
    by raising. ``on_compiling()`` (optional) is called when numba is about to compile the
    sweep, this model's first run: seconds to a minute before the first sweep. ``backend``
    is one of :data:`BACKENDS` (see :func:`compiled_sweep`). The numba backend runs up to
    ``cores`` chains at once (None: :func:`usable_cores`), with the same draws; the numpy
    engine updates all chains in each array operation.
    """
    check_run_lengths(chains, burn, iterations, thin)
    cores = usable_cores(cores)
    inits = inits or []
    monitors = monitors if monitors is not None else default_monitors(model)
    compiled = compiled_sweep(model, plan, monitors, backend)
    rngs, seed = chain_generators(seed, chains, inits)
    state = State(model, chains)
    try:
        initialise(model, state, inits)
    except ModelError as error:
        if inits:
            raise DataFileError(error.message, error.span, error.notes) from None
        raise
    labels = [label for m in monitors for label in m.labels]
    saved = iterations // thin
    values = np.empty((chains, saved, len(labels)))
    numbers = burn + thin * np.arange(1, saved + 1)
    if compiled is not None:
        from .jit import runner

        if not compiled.cached and on_compiling is not None:
            on_compiling()

        def saved_draw(k: int) -> None:
            if on_draw is not None:
                on_draw(int(numbers[k]), values[:, k])

        runner.run(compiled, state, rngs, burn=burn, saved=saved, thin=thin, values=values,
                   on_saved=saved_draw, on_sweep=on_sweep or (lambda sweep: None), cores=cores)
        return Draws(labels, values, numbers, seed, chains)
    k = 0
    for sweep in range(1, burn + saved * thin + 1):
        adapting = sweep <= burn
        for step in plan.steps:
            step.update(state, rngs, adapting)
        for step in plan.forward:
            step.update(state, rngs, adapting)
        if not adapting and (sweep - burn) % thin == 0:
            values[:, k] = _record(model, state, monitors)
            if on_draw is not None:
                on_draw(int(numbers[k]), values[:, k])
            k += 1
        if on_sweep is not None:
            on_sweep(sweep)
    return Draws(labels, values, numbers, seed, chains)


def _record(model: ModelGraph, state: State, monitors) -> np.ndarray:
    parts = []
    for monitor in monitors:
        if monitor.var == "deviance" and not len(monitor.positions):
            parts.append(deviance(model, state)[:, None])
        else:
            values = np.broadcast_to(state.values[monitor.var], (state.chains, model.arrays[monitor.var].size))
            parts.append(values[:, monitor.positions])
    return np.concatenate(parts, axis=1) if parts else np.empty((state.chains, 0))
