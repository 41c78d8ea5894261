"""Compiling a Plan's generated module with numba, and running chains in it.

The module is written to a cache folder under a name made from a hash of its source and of
the kernels it calls, and imported from there, so numba's own cache (``cache=True``) keeps
the machine code between runs: a model is compiled once, not every time it is sampled.
The cache is ``$HIERGRAPH_CACHE`` or ``~/.cache/hiergraph``.

Sweeps run in chunks, one call per chain per chunk, each chunk about
``CHUNK_SECONDS`` long; between chunks the caller sees the draws and the progress, and may
stop the run. The generated functions release the GIL (``nogil``) and each chain has its own
arrays and random generator, so the chains of a chunk run in threads, up to ``cores`` at
once, with the same draws as one after another.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import codegen, expressions

CHUNK_SECONDS = 0.25


def cache_folder() -> Path:
    root = os.environ.get("HIERGRAPH_CACHE") or Path.home() / ".cache" / "hiergraph"
    return Path(root) / "jit"


@dataclass
class Compiled:
    """A Plan's generated module and the tables its functions read."""

    module: object
    tables: expressions.Tables
    path: Path
    cached: bool  # whether numba's cache holds the machine code (else the first call compiles)


def compile_plan(model, plan, monitors) -> Compiled:
    """The Plan's module, imported; :class:`~hiergraph.jit.expressions.NotCompilable` if it has a
    step the code generator cannot write."""
    import numba

    source, tables = codegen.write(model, plan, monitors)
    kernels = Path(__file__).with_name("scalar.py").read_bytes()
    digest = hashlib.sha256(source.encode() + kernels + numba.__version__.encode()).hexdigest()[:20]
    folder = cache_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"sweep_{digest}.py"
    if not path.exists():
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(source)
        partial.replace(path)  # atomic: a concurrent run sees the whole file or none
    name = f"hiergraph_sweep_{digest}"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
    cached = any(folder.joinpath("__pycache__").glob(f"{path.stem}.sweeps-*.nbi"))  # numba's index
    return Compiled(module, tables, path, cached)


@dataclass
class Arrays:
    """What the generated functions read: ``V`` and ``A`` per chain, ``I`` and ``F`` shared,
    and the flat position in ``V`` of each monitored scalar (-1: the deviance)."""

    values: list
    ints: np.ndarray
    floats: np.ndarray
    memory: list
    monitored: np.ndarray


def arrays(compiled: Compiled, state) -> Arrays:
    """The state's values, one flat copy per chain, and the tables packed (see
    :class:`hiergraph.jit.expressions.Tables`)."""
    tables = compiled.tables
    names = list(tables.variables)
    ints, floats, offsets = tables.pack([state.values[name].shape[-1] for name in names])
    values = [np.concatenate([np.zeros(0)] + [state.values[name][c] if state.values[name].ndim == 2
                                              else state.values[name] for name in names])
              for c in range(state.chains)]
    which, position = tables.monitored
    monitored = np.where(which < 0, -1, offsets[np.maximum(which, 0)] + position).astype(np.int64)
    return Arrays(values, ints, floats, [tables.memory_for_a_chain() for _ in range(state.chains)],
                  monitored)


def run(compiled: Compiled, state, rngs, *, burn: int, saved: int, thin: int, values: np.ndarray,
        on_saved, on_sweep, cores: int = 1) -> None:
    """Burn in and sample every chain into ``values`` (chains, saved, scalars), up to ``cores``
    chains at a time.

    ``on_saved(k)`` is called once draw ``k`` of every chain is made, ``on_sweep(sweep)``
    after every sweep, both in sweep order after each chunk (a chunk's later draws are made
    but not handed over if ``on_sweep`` stops the run)."""
    packed = arrays(compiled, state)
    sweeps = compiled.module.sweeps

    def chunk_of(c: int, sweep: int, count: int, k: int) -> int:
        return sweeps(packed.values[c], packed.ints, packed.floats, packed.memory[c], rngs[c], sweep,
                      count, burn, thin, packed.monitored, values[c], k)

    total, sweep, k, chunk = burn + saved * thin, 1, 0, 1
    workers = max(1, min(cores, state.chains))
    with ThreadPoolExecutor(workers) as threads:
        while sweep <= total:
            count = min(chunk, total - sweep + 1)
            start = time.perf_counter()
            # the first sweep one chain at a time: numba compiles or loads the code in it
            spread = threads.map if workers > 1 and sweep > 1 else map
            made = list(spread(lambda c: chunk_of(c, sweep, count, k), range(state.chains)))
            for done in range(sweep, sweep + count):  # in sweep order, so a stop asked for by
                if done > burn and (done - burn) % thin == 0:  # on_sweep keeps the draws up to it
                    on_saved(k)
                    k += 1
                on_sweep(done)
            assert made == [k] * state.chains
            sweep += count
            elapsed = time.perf_counter() - start
            chunk = max(1, min(chunk * 4, int(chunk * CHUNK_SECONDS / max(elapsed, 1e-6))))
