"""A sampling run as a user sees it: outputs written while drawing, progress, and a clean stop.

:func:`hiergraph.engine.run` does the sweeps; this module wraps it for people. Each saved
draw goes to the writers as it is made (CSV rows at once; CODA and NetCDF, which must be
written whole, at checkpoints), so a run that is stopped keeps its draws:

- Ctrl-C (SIGINT) or SIGTERM asks the run to stop after the current sweep; the draws so far
  are written in every format and :class:`SamplingInterrupted` says how many there are. A
  second Ctrl-C stops at once.
- A run killed outright (SIGKILL, a power cut) keeps every CSV row, and the CODA and NetCDF
  files of the last checkpoint: one every ``CHECKPOINT_SECONDS``, or less often when writing
  takes long, so that rewriting never costs more than about 1/``CHECKPOINT_RATIO`` of the run.

The deviance of every draw is recorded whether or not it is monitored: ArviZ's
``sample_stats`` carry it.
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from typing import Callable

import numpy as np

from .compiler import Plan
from .engine import Draws, Monitor, check_run_lengths, chain_generators, default_monitors, \
    resolve_monitor, run, usable_cores
from .model_graph import ModelGraph
from .outputs import Output, Writers
from .progress import Progress

CHECKPOINT_SECONDS = 10.0
CHECKPOINT_RATIO = 20
_DEVIANCE = Monitor("deviance", np.zeros(0, np.int64), ("deviance",))


class SamplingInterrupted(KeyboardInterrupt):
    """The run was stopped (Ctrl-C, SIGTERM); ``draws`` holds what was drawn, already written
    to every output."""

    def __init__(self, draws: Draws, planned: int):
        super().__init__(f"stopped after {draws.values.shape[1]} of {planned} draws per chain")
        self.draws, self.planned = draws, planned


class _Stop(Exception):
    """Raised between sweeps once a stop was asked for."""


def resolve_monitors(graph: ModelGraph, names) -> list[Monitor]:
    """Monitors by name (``theta``, ``theta[1:3]``, ``deviance``; None: every latent
    stochastic node), each scalar once, the first time it is named."""
    if names is None:
        return default_monitors(graph)
    seen, monitors = set(), []
    for name in [names] if isinstance(names, str) else names:
        monitor = resolve_monitor(graph, name)
        keep = [k for k, label in enumerate(monitor.labels) if label not in seen]
        seen.update(monitor.labels)
        if keep:
            monitors.append(Monitor(monitor.var, monitor.positions[keep] if len(monitor.positions)
                                    else monitor.positions, tuple(monitor.labels[k] for k in keep)))
    return monitors


@contextmanager
def _stop_between_sweeps():
    """While sampling, Ctrl-C and SIGTERM ask for a stop after the current sweep, so that no
    file is left half written; a second Ctrl-C stops at once. (Signals can only be caught in
    the main thread; elsewhere Ctrl-C simply interrupts.)"""
    asked: list[int] = []

    def ask(signum, frame):
        if asked:
            raise KeyboardInterrupt
        asked.append(signum)

    if threading.current_thread() is not threading.main_thread():
        yield asked
        return
    previous = {s: signal.signal(s, ask) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield asked
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


class _Recorder:
    """Keeps every saved draw as the engine makes it (its own storage, not a copy) and
    writes them out at checkpoints."""

    def __init__(self, monitors, hidden_deviance: bool, seed: int, chains: int, writers: Writers):
        self.labels = [label for m in monitors for label in m.labels]
        self.hidden_deviance, self.seed, self.chains = hidden_deviance, seed, chains
        self.writers = writers
        self.rows: list[np.ndarray] = []
        self.iterations: list[int] = []
        self.interval = CHECKPOINT_SECONDS
        self.last = time.monotonic()

    def add(self, iteration: int, row: np.ndarray) -> None:
        self.rows.append(row)
        self.iterations.append(iteration)
        self.writers.add(row)
        if time.monotonic() - self.last > self.interval:
            start = time.monotonic()
            self.writers.save(self.draws())
            self.last = time.monotonic()
            self.interval = max(CHECKPOINT_SECONDS, CHECKPOINT_RATIO * (self.last - start))

    def draws(self, values: np.ndarray | None = None) -> Draws:
        """The draws so far (or ``values``, the engine's finished array), deviance split off."""
        if values is None:
            values = np.stack(self.rows, axis=1) if self.rows else \
                np.empty((self.chains, 0, len(self.labels) + self.hidden_deviance))
        k = len(self.labels)
        deviance = values[..., k] if self.hidden_deviance else values[..., self.labels.index("deviance")]
        return Draws(list(self.labels), values[..., :k], np.array(self.iterations, np.int64),
                     self.seed, self.chains, deviance)


def sample(graph: ModelGraph, plan: Plan, *, chains: int, burn: int, iterations: int, thin: int,
           seed: int | None, inits: list[dict], monitors: list[Monitor], outputs: list[Output],
           convert: Callable, progress: Progress, backend: str = "auto",
           cores: int | None = None) -> Draws:
    """Run ``plan``, writing ``outputs``, on ``backend`` (:func:`hiergraph.engine.compiled_sweep`)
    with up to ``cores`` chains at once (:func:`hiergraph.engine.run`).

    ``convert`` turns draws into InferenceData for NetCDF. Raises
    :class:`SamplingInterrupted` if stopped.
    """
    check_run_lengths(chains, burn, iterations, thin)
    cores = usable_cores(cores)  # checked before any output is replaced
    hidden_deviance = not any(m.var == "deviance" and not len(m.positions) for m in monitors)
    seed = chain_generators(seed, chains, inits)[1]
    writers = Writers(outputs, monitors, convert)
    recorder = _Recorder(monitors, hidden_deviance, seed, chains, writers)

    def each_sweep(sweep: int) -> None:
        if sweep == 1:  # the bar starts with the sweeps, after any compiling
            progress.sweeps(burn + iterations // thin * thin, "burn-in (adapting)" if burn else "sampling")
        progress.sweep()
        if sweep == burn:
            progress.phase("sampling")
        if asked:
            raise _Stop

    def compiling() -> None:
        progress.waiting("compiling with numba (this model's first run; later runs load it from the cache)")

    try:
        with _stop_between_sweeps() as asked:
            try:
                finished = run(graph, plan, chains=chains, burn=burn, iterations=iterations,
                               thin=thin, seed=seed, inits=inits,
                               monitors=monitors + [_DEVIANCE] * hidden_deviance,
                               on_draw=recorder.add, on_sweep=each_sweep, on_compiling=compiling,
                               backend=backend, cores=cores)
            except (_Stop, KeyboardInterrupt):
                draws = recorder.draws()
                writers.save(draws)
                raise SamplingInterrupted(draws, iterations // thin) from None
            draws = recorder.draws(finished.values)
            writers.save(draws)
    finally:
        writers.close()
    return draws
