"""Progress of a run on stderr: the phase, sweeps per second and the time left.

For a person watching a terminal only: off when stderr is not a terminal (a log file, a
pipe, a test) or when asked. The drawing is tqdm's, which keeps one line up to date on any
terminal and estimates the rate and the time left.
"""

from __future__ import annotations

import sys

from tqdm import tqdm

_WAITING = "{desc} ..."
_PHASE_WIDTH = len("burn-in (adapting)")  # phases padded alike, so the bar does not jump
_SWEEPING = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} sweeps [{elapsed}<{remaining}, {rate_fmt}]"


class Progress:
    """One status line: ``compiling ...``, then ``burn-in (adapting)`` and ``sampling`` with a
    bar, then ``summarising ...``. ``enabled`` None means: when stderr is a terminal."""

    def __init__(self, enabled: bool | None = None):
        if enabled is None:
            enabled = sys.stderr.isatty()
        self._bar = tqdm(desc="compiling", bar_format=_WAITING, disable=not enabled, leave=False,
                         file=sys.stderr, unit="it", dynamic_ncols=True)

    def sweeps(self, total: int, phase: str) -> None:
        """The sweeps begin: ``total`` of them, the first in ``phase``."""
        self._bar.bar_format = _SWEEPING
        self._bar.set_description_str(phase.ljust(_PHASE_WIDTH), refresh=False)
        self._bar.reset(total=total)

    def phase(self, name: str) -> None:
        self._bar.set_description_str(name.ljust(_PHASE_WIDTH))

    def waiting(self, name: str) -> None:
        """A phase without a count: ``summarising ...``."""
        self._bar.bar_format = _WAITING
        self._bar.set_description_str(name)

    def sweep(self) -> None:
        self._bar.update()

    def write(self, text: str) -> None:
        """Print a message on stderr without breaking the status line."""
        self._bar.write(text, file=sys.stderr)

    def close(self) -> None:
        self._bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
