"""CODA output as JAGS writes it, which R's coda package reads (``coda::read.coda``).

``CODAindex.txt`` has one line per monitored scalar, ``name first last``: the lines of
``CODAchainK.txt`` that hold its draws. Each chain file lists, scalar after scalar, one
``iteration value`` line per saved draw. ``CODA`` is JAGS's default *stem*; a script's
``coda *, stem(run1)`` writes ``run1index.txt`` and ``run1chain1.txt`` instead.

Each file is written whole to a temporary name and then renamed over the old one, so a run
stopped while writing leaves the previous complete file, never half of one.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .engine import Draws
from .errors import UsageError


def coda_paths(folder: str | Path, stem: str = "CODA") -> tuple[Path, list[Path]]:
    """The index file, and the chain files there are now, in chain order."""
    folder = Path(folder)
    prefix = Path(stem).name
    chains = [p for p in (folder / stem).parent.glob(f"{prefix}chain*.txt")
              if p.stem[len(prefix) + 5:].isdigit()]
    return folder / f"{stem}index.txt", sorted(chains, key=lambda p: int(p.stem[len(prefix) + 5:]))


def _replace(path: Path, lines) -> None:
    """Write ``lines`` to ``path`` through a temporary file, so the old file stays whole until then."""
    temporary = path.with_name(path.name + ".partial")
    with temporary.open("w") as out:
        out.writelines(lines)
    os.replace(temporary, path)


def write_coda(draws: Draws, folder: str | Path, stem: str = "CODA") -> list[Path]:
    folder = Path(folder)
    index = folder / f"{stem}index.txt"
    try:
        index.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create the output folder '{index.parent}': {error.strerror}") from None
    n = len(draws.iterations)
    prefixes = [f"{i} " for i in draws.iterations.tolist()]
    line = "{}{:.10g}\n".format  # on Python floats, not numpy scalars: twice as fast
    written = []
    try:
        for chain in range(draws.chains):
            path = folder / f"{stem}chain{chain + 1}.txt"
            _replace(path, ("".join(map(line, prefixes, column.tolist())) for column in draws.values[chain].T))
            written.append(path)
        _replace(index, (f"{label} {k * n + 1} {(k + 1) * n}\n" for k, label in enumerate(draws.labels)))
    except OSError as error:
        raise UsageError(f"cannot write to the output folder '{index.parent}': {error.strerror}") from None
    return [index, *written]


def read_coda_draws(folder: str | Path, stem: str = "CODA") -> Draws:
    """Read CODA files back (JAGS's or ours) as draws; every scalar must have as many draws."""
    index_path, chain_paths = coda_paths(folder, stem)
    try:
        index = [line.split() for line in index_path.read_text().splitlines() if line.strip()]
        tables = [np.loadtxt(path, ndmin=2) for path in chain_paths]
        ranges = [(label, int(first), int(last)) for label, first, last in index]
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot read the CODA files {index_path}: {error}") from None
    lengths = {last - first + 1 for _, first, last in ranges}
    if len(lengths) > 1 or not tables:
        raise UsageError(f"cannot read the CODA files {index_path}: " +
                         ("no chain files beside it" if not tables else
                          "its nodes have different numbers of draws"))
    n = lengths.pop() if lengths else 0
    if any(len(table) < max((last for _, _, last in ranges), default=0) for table in tables):
        raise UsageError(f"cannot read the CODA files {index_path}: a chain file is shorter than "
                         f"the index says")
    values = np.stack([np.stack([t[first - 1:last, 1] for _, first, last in ranges], axis=-1)
                       for t in tables]) if ranges else np.empty((len(tables), n, 0))
    iterations = tables[0][ranges[0][1] - 1:ranges[0][2], 0].astype(np.int64) if ranges else \
        np.arange(1, n + 1)
    return Draws([label for label, _, _ in ranges], values, iterations, None, len(tables))


def read_coda(folder: str | Path, stem: str = "CODA") -> dict[str, np.ndarray]:
    """Read CODA files back: label -> ``(chains, draws)``."""
    draws = read_coda_draws(folder, stem)
    return {label: draws[label] for label in draws.labels}
