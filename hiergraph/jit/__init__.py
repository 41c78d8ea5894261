"""The numba backend: a Plan's whole sweep compiled to machine code.

The numpy engine (:mod:`hiergraph.engine`) pays Python's overhead on every step of every
sweep: a fraction of a millisecond each, which on the small classic models is all of the
run. This backend writes each Plan out as the scalar loops of one Python module
(:mod:`hiergraph.jit.codegen`), compiles it with numba, and runs many sweeps per call
(:mod:`hiergraph.jit.runner`), so that a sweep of a small model costs microseconds.

numba is optional (``pip install hiergraph[fast]``). Where it is missing, or a Plan has a
step the code generator does not know, the numpy engine runs instead; both draw from the
same posterior (tests/test_jit.py), though not the same stream of numbers.
"""

from __future__ import annotations

import importlib.util

from ..blocks import BlockStep


def available() -> bool:
    """Whether numba can be imported here."""
    return importlib.util.find_spec("numba") is not None


# Above this many latent nodes updated by MCMC, ``--backend auto`` keeps the numpy engine: its
# array steps no longer pay much per-step overhead, and its collapsed updates share work
# between rows with equal data, which the scalar code does not. Measured (2 chains, ms per
# sweep, numba / numpy): J = 10^3 beta-binomial 3.1 / 7.3, normal-normal 2.6 / 5.2;
# J = 10^4 beta-binomial 44.6 / 17.8, normal-normal 27.4 / 29.9.
# Block steps do not count: they update at most a few hundred coordinates at a time in both
# engines, so the numpy engine gains nothing from their number (J = 10^4 varying intercepts
# and slopes, 157 block steps: 204 ms a sweep there against 8 ms compiled).
AUTO_LIMIT = 5000


def too_large(plan) -> bool:
    blocked = {m.group.name for step in plan.steps if isinstance(step, BlockStep) for m in step.members}
    return sum(g.mcmc_rows for g in plan.groups if g.group.name not in blocked) > AUTO_LIMIT


def status(model, plan) -> str:
    """One line for ``hiergraph compile``: whether sampling this Plan runs compiled."""
    if not available():
        return "backend: numpy (numba is not installed: pip install 'hiergraph[fast]')"
    if too_large(plan):
        return (f"backend: numpy (over {AUTO_LIMIT:,} latent nodes, where the numpy engine is as "
                f"fast; --backend numba compiles it)")
    from .codegen import NotCompilable, write
    try:
        write(model, plan, [])
    except NotCompilable as reason:
        return f"backend: numpy (the numba backend does not compile {reason} yet)"
    return "backend: numba (every step compiles)"
