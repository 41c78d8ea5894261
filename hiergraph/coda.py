"""CODA output as JAGS writes it, which R's coda package reads (``coda::read.coda``).

``CODAindex.txt`` has one line per monitored scalar, ``name first last``: the lines of
``CODAchainK.txt`` that hold its draws. Each chain file lists, scalar after scalar, one
``iteration value`` line per saved draw.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .engine import Draws
from .errors import UsageError


def write_coda(draws: Draws, folder: str | Path) -> list[Path]:
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create the output folder '{folder}': {error.strerror}") from None
    n = len(draws.iterations)
    lines = [f"{label} {k * n + 1} {(k + 1) * n}" for k, label in enumerate(draws.labels)]
    written = [folder / "CODAindex.txt"]
    try:
        written[0].write_text("\n".join(lines) + "\n")
        for chain in range(draws.chains):
            path = folder / f"CODAchain{chain + 1}.txt"
            with path.open("w") as out:
                for k in range(len(draws.labels)):
                    column = draws.values[chain, :, k]
                    out.writelines(f"{i} {v:.10g}\n" for i, v in zip(draws.iterations, column))
            written.append(path)
    except OSError as error:
        raise UsageError(f"cannot write to the output folder '{folder}': {error.strerror}") from None
    return written


def read_coda(folder: str | Path) -> dict[str, np.ndarray]:
    """Read CODA files back: label -> ``(chains, draws)``."""
    folder = Path(folder)
    index = [line.split() for line in (folder / "CODAindex.txt").read_text().splitlines() if line]
    chains = sorted(folder.glob("CODAchain*.txt"), key=lambda p: int(p.stem[9:]))
    columns = [np.loadtxt(path, ndmin=2)[:, 1] for path in chains]
    return {label: np.stack([c[int(first) - 1:int(last)] for c in columns])
            for label, first, last in index}
