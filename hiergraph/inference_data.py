"""Draws as ArviZ's ``InferenceData``, and back: what the NetCDF output holds and PyMC users read.

The monitored scalars (``theta[3]``, ``Y[2,1]``) become arrays again, one variable per node
array. Each array dimension's coordinates are JAGS's 1-based indices, so
``posterior.theta.sel(j=71)`` is ``theta[71]``; the dimension is named after the model's
loop index where the model says (``theta[j] ~ ...`` inside ``for (j in 1:J)`` gives ``j``),
else ArviZ's ``theta_dim_0``. Elements that do not fill a grid (the missing cells of a
partly observed matrix) stay a flat ``Y_element`` dimension whose coordinates are the
indices as text (``"2,1"``), rather than a grid padded with values that were never drawn.

Groups: ``posterior`` (the monitored nodes), ``sample_stats`` (``deviance`` of every draw),
``observed_data`` (the data of observed stochastic nodes, NaN where missing) and
``constant_data`` (the other data). The posterior's ``iteration`` coordinate keeps JAGS's
iteration number of each draw.

ArviZ takes seconds to import, so it is imported where it is used: ``hiergraph check`` and
``compile`` never pay for it.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from . import ast
from .engine import Draws
from .model_graph import ModelGraph

_RESERVED = ("chain", "draw", "iteration")
_LABEL = re.compile(r"^([A-Za-z][A-Za-z0-9._]*)\[\s*(\d+(?:\s*,\s*\d+)*)\s*\]$")


def parse_label(label: str) -> tuple[str, tuple[int, ...]]:
    """``Y[2,1]`` -> ``("Y", (2, 1))``; a scalar's name (or any other text) -> ``(label, ())``."""
    match = _LABEL.match(label)
    if not match:
        return label, ()
    return match.group(1), tuple(int(i) for i in match.group(2).split(","))


def loop_dimension_names(graph: ModelGraph) -> dict[str, list[str | None]]:
    """For each node array, the loop index that runs along each of its dimensions, where
    every statement defining it agrees (a constant index, as in ``x[1] ~ ...``, has no say)."""
    said: dict[str, list[set]] = {}
    for group in graph.groups:
        loops = {loop.index for loop in group.loops}
        indices = group.statement.target.indices or ()
        opinions = said.setdefault(group.var, [set() for _ in indices])
        for opinion, index in zip(opinions, indices):
            if not isinstance(index, ast.Number):
                loop_name = isinstance(index, ast.Variable) and index.indices is None and \
                    index.name in loops
                opinion.add(index.name if loop_name else None)
    return {var: [next(iter(o)) if len(o) == 1 else None for o in opinions]
            for var, opinions in said.items()}


def _unique_dimensions(variables: dict[str, tuple[list[str], list]]) -> dict[str, list[str]]:
    """One dataset's dimension names: a name two variables use with different coordinates,
    or that is also a variable's name or ArviZ's (chain, draw), becomes ``<variable>_<name>``."""
    coords_of: dict[str, list] = {}
    for names, coords in variables.values():
        for name, values in zip(names, coords):
            coords_of.setdefault(name, []).append(tuple(values))
    clash = {name for name, seen in coords_of.items() if len(set(seen)) > 1 or name in variables or name in _RESERVED}
    clash |= {name for names, _ in variables.values() for name, n in Counter(names).items() if n > 1}
    return {var: [f"{var}_{name}" if name in clash else name for name in names]
            for var, (names, _) in variables.items()}


def _dataset(arrays: dict[str, tuple[np.ndarray, list[str | None], list]], draws: Draws | None = None,
             attrs=None):
    """arrays: name -> (values, candidate dimension names, coordinates per dimension); with
    ``draws``, each value has the leading chain and draw axes, as ArviZ lays them out."""
    import xarray

    named = {var: ([name or f"{var}_dim_{d}" for d, name in enumerate(names)], coords)
             for var, (_, names, coords) in arrays.items()}
    dims = _unique_dimensions(named)
    coords = {name: values for var, (_, coord_list) in named.items()
              for name, values in zip(dims[var], coord_list)}
    lead = ()
    if draws is not None:
        lead = ("chain", "draw")
        coords.update(chain=np.arange(draws.chains), draw=np.arange(len(draws.iterations)),
                      iteration=("draw", np.asarray(draws.iterations)))
    return xarray.Dataset({var: (lead + tuple(dims[var]), values) for var, (values, _, _) in arrays.items()},
                          coords=coords, attrs=attrs or {})


def _grid(indices: list[tuple[int, ...]]) -> list[list[int]] | None:
    """The indices along each dimension, if ``indices`` fill exactly that grid (else None)."""
    rank = len(indices[0])
    if any(len(index) != rank for index in indices) or len(set(indices)) != len(indices):
        return None
    axes = [sorted({index[d] for index in indices}) for d in range(rank)]
    return axes if len(indices) == int(np.prod([len(a) for a in axes])) else None


def _posterior_arrays(labels: list[str], values: np.ndarray, dimension_names: dict) -> dict:
    """Monitored scalars, grouped back into their arrays."""
    columns: dict[str, list[tuple[int, tuple]]] = {}
    for k, label in enumerate(labels):
        var, index = parse_label(label)
        columns.setdefault(var, []).append((k, index))
    arrays = {}
    for var, items in columns.items():
        ks = [k for k, _ in items]
        indices = [index for _, index in items]
        if indices == [()]:
            arrays[var] = (values[..., ks[0]], [], [])
            continue
        axes = _grid(indices)
        if axes is not None:
            grid = np.empty(values.shape[:2] + tuple(len(a) for a in axes))
            where = tuple(np.searchsorted(a, [index[d] for index in indices]) for d, a in enumerate(axes))
            grid[(slice(None), slice(None), *where)] = values[..., ks]
            arrays[var] = (grid, dimension_names.get(var, [None] * len(axes)), axes)
        else:
            arrays[var] = (values[..., ks], [f"{var}_element"],
                           [[",".join(map(str, index)) for index in indices]])
    return arrays


def _data_arrays(graph: ModelGraph, dimension_names: dict) -> tuple[dict, dict]:
    """The data, split into observed stochastic nodes' data and the rest (constants)."""
    observed, constant = {}, {}
    for name, info in graph.arrays.items():
        if info.data is None:
            continue
        owners = {int(o) for o in np.unique(info.owner) if o >= 0}
        stochastic = any(graph.groups[o].kind == "stochastic" for o in owners)
        names = dimension_names.get(name, [None] * len(info.shape)) if stochastic else \
            [None] * len(info.shape)
        shape = () if info.size == 1 and len(info.shape) <= 1 else info.shape  # JAGS's scalars
        entry = (info.data.reshape(shape), names[:len(shape)], [list(range(1, n + 1)) for n in shape])
        (observed if stochastic else constant)[name] = entry
    return observed, constant


def to_inference_data(draws: Draws, graph: ModelGraph | None = None):
    """Draws (and, with the model graph, its data and loop names) as ``arviz.InferenceData``."""
    import arviz

    from . import __version__  # here, not at the top: the package imports this module first

    names = loop_dimension_names(graph) if graph is not None else {}
    attrs = {"inference_library": "hiergraph", "inference_library_version": __version__}
    if draws.seed is not None:
        attrs["seed"] = int(draws.seed)
    groups = {"posterior": _dataset(_posterior_arrays(draws.labels, draws.values, names), draws, attrs)}
    if draws.deviance is not None:
        groups["sample_stats"] = _dataset({"deviance": (draws.deviance, [], [])}, draws, attrs)
    if graph is not None:
        observed, constant = _data_arrays(graph, names)
        for group, arrays in (("observed_data", observed), ("constant_data", constant)):
            if arrays:
                groups[group] = _dataset(arrays)
    return arviz.InferenceData(**groups)


def _label(var: str, index: tuple) -> str:
    return f"{var}[{','.join(str(i) for i in index)}]" if index else var


def from_inference_data(idata) -> Draws:
    """The posterior as flat draws with JAGS's labels, arrays' elements in R's column-major
    order (as CODA lists them): the inverse of :func:`to_inference_data`."""
    posterior = idata.posterior
    labels, columns = [], []
    for var, array in posterior.data_vars.items():
        shape = array.shape[2:]
        coords = [array.coords[dim].values if dim in array.coords else np.arange(1, n + 1)
                  for dim, n in zip(array.dims[2:], shape)]
        for index in np.ndindex(*reversed(shape)):
            labels.append(_label(var, tuple(coords[d][i] for d, i in enumerate(reversed(index)))))
        columns.append(array.values.reshape(array.shape[:2] + (-1,), order="F"))
    chains, draws = posterior.sizes["chain"], posterior.sizes["draw"]
    values = np.concatenate(columns, axis=2) if columns else np.empty((chains, draws, 0))
    iterations = posterior.coords["iteration"].values if "iteration" in posterior.coords else \
        np.arange(1, draws + 1)
    stats = getattr(idata, "sample_stats", None)
    deviance = stats["deviance"].values if stats is not None and "deviance" in stats else None
    seed = posterior.attrs.get("seed")
    return Draws(labels, values, iterations, None if seed is None else int(seed), chains, deviance)
