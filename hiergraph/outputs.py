"""Writing the draws while they are made, in the formats R and Python read, and reading them back.

Formats: ``coda`` (JAGS's ``CODAindex.txt`` and ``CODAchainK.txt``, see :mod:`hiergraph.coda`),
``csv`` (``draws.csv``: one row per draw and chain, columns ``chain``, ``draw`` (both
counted from 1, as CODA's chain files are), then one per monitored scalar) and ``netcdf``
(``draws.nc``: ArviZ's InferenceData, see :mod:`hiergraph.inference_data`).

A writer is opened before the first sweep, so that an output folder that cannot be written
fails at once rather than after the run. CSV rows are appended as each draw is made; CODA
and NetCDF, whose layouts need every draw of a node together, are rewritten whole at each
checkpoint and at the end (see :mod:`hiergraph.sampling` for when).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from .coda import coda_paths, read_coda_draws, write_coda
from .engine import Draws
from .errors import UsageError

FORMATS = ("coda", "csv", "netcdf")
CSV_FILE = "draws.csv"
NETCDF_FILE = "draws.nc"


@dataclass(frozen=True)
class Output:
    """Where the draws go: a folder and the formats; for CODA, JAGS's file-name ``stem``;
    ``nodes`` keeps only those monitors (``coda theta`` in a JAGS script; None: all)."""

    folder: Path
    formats: tuple[str, ...] = ("coda",)
    stem: str = "CODA"
    nodes: tuple[str, ...] | None = None

    def __post_init__(self):
        unknown = [f for f in self.formats if f not in FORMATS]
        if unknown:
            raise UsageError(f"unknown output format '{unknown[0]}': choose from {', '.join(FORMATS)}")
        object.__setattr__(self, "folder", Path(self.folder))

    def describe(self, chains: int) -> str:
        """The files written, for a person to read."""
        names = {"coda": f"{self.stem}index.txt, {self.stem}chain1..{chains}.txt",
                 "csv": CSV_FILE, "netcdf": NETCDF_FILE}
        return f"{self.folder}{os.sep}: " + "; ".join(names[f] for f in dict.fromkeys(self.formats))


def _prepare(folder: Path) -> None:
    """Create the folder and check that files can be made in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as error:
        reason = error.strerror or str(error)
        raise UsageError(f"cannot write to the output folder '{folder}': {reason}") from None


def _selected(draws: Draws, columns: np.ndarray) -> Draws:
    return replace(draws, labels=[draws.labels[k] for k in columns], values=draws.values[..., columns])


class _Rewritten:
    """A format whose files are written whole: CODA and NetCDF."""

    def add(self, row) -> None:
        pass

    def close(self) -> None:
        pass


class _Coda(_Rewritten):
    def __init__(self, output: Output, columns: np.ndarray):
        index, chain_files = coda_paths(output.folder, output.stem)
        for stale in [index, *chain_files]:  # a folder holds one run's draws
            stale.unlink(missing_ok=True)
        self.output, self.columns = output, columns

    def save(self, draws: Draws) -> None:
        write_coda(_selected(draws, self.columns), self.output.folder, self.output.stem)


class _Netcdf(_Rewritten):
    def __init__(self, output: Output, columns: np.ndarray, convert: Callable):
        self.columns, self.convert = columns, convert
        self.path = output.folder / NETCDF_FILE
        self.path.unlink(missing_ok=True)  # a folder holds one run's draws

    def save(self, draws: Draws) -> None:
        path = self.path
        temporary = path.with_name(path.name + ".partial")
        try:
            self.convert(_selected(draws, self.columns)).to_netcdf(str(temporary))
            os.replace(temporary, path)
        except OSError as error:
            raise UsageError(f"cannot write '{path}': {error.strerror or error}") from None


class _Csv:
    """Each draw's rows appended as it is made, in one write, so a kill leaves whole rows."""

    def __init__(self, output: Output, columns: np.ndarray, labels: list[str]):
        self.columns, self.draw = columns, 0
        path = output.folder / CSV_FILE
        header = io.StringIO()
        csv.writer(header, lineterminator="\n").writerow(["chain", "draw", *labels])
        try:
            self.file = path.open("w")
            self.file.write(header.getvalue())
        except OSError as error:
            raise UsageError(f"cannot write '{path}': {error.strerror}") from None

    def add(self, row: np.ndarray) -> None:
        self.draw += 1
        rows = row[:, self.columns].tolist()
        self.file.write("".join(f"{chain},{self.draw},{','.join(map(repr, values))}\n"
                                for chain, values in enumerate(rows, start=1)))
        self.file.flush()

    def save(self, draws: Draws) -> None:
        pass

    def close(self) -> None:
        self.file.close()


class Writers:
    """Every output of a run: opened before it, fed each draw, saved at checkpoints and at the end.

    ``monitors`` are the run's monitors (``Output.nodes`` picks among them); ``convert``
    turns draws into ArviZ's InferenceData, for NetCDF.
    """

    def __init__(self, outputs: list[Output], monitors, convert: Callable):
        labels = [label for m in monitors for label in m.labels]
        self.writers = []
        for output in outputs:
            _prepare(output.folder)
            columns = _columns(monitors, output.nodes)
            for fmt in dict.fromkeys(output.formats):
                if fmt == "coda":
                    self.writers.append(_Coda(output, columns))
                elif fmt == "csv":
                    self.writers.append(_Csv(output, columns, [labels[k] for k in columns]))
                else:
                    self.writers.append(_Netcdf(output, columns, convert))

    def add(self, row: np.ndarray) -> None:
        for writer in self.writers:
            writer.add(row)

    def save(self, draws: Draws) -> None:
        for writer in self.writers:
            writer.save(draws)

    def close(self) -> None:
        for writer in self.writers:
            writer.close()


def _columns(monitors, nodes) -> np.ndarray:
    """Positions of the kept scalars: those whose array, or whose own label, is in ``nodes``."""
    labels = [(m.var, label) for m in monitors for label in m.labels]
    return np.array([k for k, (var, label) in enumerate(labels)
                     if nodes is None or var in nodes or label in nodes], dtype=np.int64)


# ---- reading back -------------------------------------------------------------------------


def _read_csv(path: Path) -> Draws:
    import pandas  # seconds to import; only reading CSV back needs it

    try:
        table = pandas.read_csv(path)
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot read '{path}': {error}") from None
    if list(table.columns[:2]) != ["chain", "draw"]:
        raise UsageError(f"cannot read '{path}': its first columns are not 'chain' and 'draw'")
    labels = list(table.columns[2:])
    chains = sorted(table["chain"].unique())
    per_chain = [table[table["chain"] == c].sort_values("draw") for c in chains]
    n = min((len(t) for t in per_chain), default=0)  # a killed run's last draw may lack chains
    values = np.stack([t[labels].to_numpy(float)[:n] for t in per_chain]) if per_chain else \
        np.empty((0, 0, len(labels)))
    return Draws(labels, values, np.arange(1, n + 1), None, len(chains))


def _read_netcdf(path: Path) -> Draws:
    import arviz

    from .inference_data import from_inference_data

    try:
        return from_inference_data(arviz.from_netcdf(str(path)))
    except (OSError, ValueError, KeyError, AttributeError) as error:
        raise UsageError(f"cannot read '{path}' as ArviZ InferenceData: {error}") from None


def read_draws(path: str | Path) -> tuple[Draws, Path]:
    """Saved draws from a folder (its newest CODA, CSV or NetCDF output) or from one file;
    with the file they were read from."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"'{path}' does not exist")
    if path.is_dir():
        found = [p for p in (path / "CODAindex.txt", path / CSV_FILE, path / NETCDF_FILE) if p.is_file()]
        if not found:
            raise UsageError(f"no saved draws in '{path}': expected CODAindex.txt, {CSV_FILE} "
                             f"or {NETCDF_FILE}")
        path = max(found, key=lambda p: p.stat().st_mtime)
    if path.suffix == ".nc":
        return _read_netcdf(path), path
    if path.suffix == ".csv":
        return _read_csv(path), path
    if path.name.endswith("index.txt"):
        return read_coda_draws(path.parent, path.name[:-len("index.txt")]), path
    raise UsageError(f"cannot tell the format of '{path}': give a folder, a CODA index file, "
                     f"a .csv or a .nc file")
