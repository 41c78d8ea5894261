"""Initial values: checked against the model before any chain starts.

Initial values come in the data formats (one file per chain or one for all). Each name must
be a stochastic node of the model, of the node's shape, given only for latent elements
(an observed node's value is its data), and possible under its prior. JAGS's ``.RNG.name``
and ``.RNG.seed`` entries choose a chain's random stream and are passed through.
"""

from __future__ import annotations

import difflib
from typing import Mapping

import numpy as np

from .consistency import check_values, known_parameters
from .errors import DataFileError, HiergraphWarning, ModelError
from .model_graph import ModelGraph, element_text

RNG_ENTRIES = (".RNG.name", ".RNG.seed", ".RNG.state")


def check_initial_values(model: ModelGraph, inits: Mapping) -> list[HiergraphWarning]:
    """Raise a :class:`DataFileError` pointing into the inits file at the first bad entry.

    As in JAGS, a name that is not in the model is only a warning (returned); a value for a
    data, deterministic or observed node is an error.
    """
    warnings = []
    for name, entry in inits.items():
        if name in RNG_ENTRIES:
            continue
        span = getattr(entry, "span", None)
        value = np.asarray(getattr(entry, "value", entry), dtype=float)
        info = model.arrays.get(name)
        owners = {g.var for g in model.groups}
        if info is None:
            close = difflib.get_close_matches(name, sorted(owners), n=2)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            warnings.append(HiergraphWarning(f"initial value given for '{name}', which is not in "
                                             f"the model; it is ignored{hint}", span))
            continue
        if name not in owners:
            raise DataFileError(f"initial value given for '{name}', which is data, not a node "
                                f"that is sampled", span)
        if value.size != info.size or (value.ndim > 1 and value.shape != info.shape):
            raise DataFileError(f"initial value for '{name}' has shape {list(value.shape) or 'scalar'}, "
                                f"but {name} has shape {list(info.shape) or 'scalar'}", span)
        _check_elements(model, name, value.reshape(-1), span)
    return warnings


def _check_elements(model: ModelGraph, name: str, flat_value: np.ndarray, span) -> None:
    info = model.arrays[name]
    given = np.flatnonzero(~np.isnan(flat_value))
    for index in np.unique(info.owner[given]):
        group = model.groups[index] if index >= 0 else None
        positions = given[info.owner[given] == index]
        if group is None or group.kind == "deterministic":
            element = element_text(name, info.shape, int(positions[0]))
            why = "is data" if group is None else "is deterministic: it is computed, not sampled"
            raise DataFileError(f"initial value given for {element}, which {why}", span,
                                [("defined here", group.span)] if group is not None else [])
        rows = np.unique(info.owner_row[positions])
        observed = rows[group.observed[rows]]
        if observed.size:
            raise DataFileError(f"initial value given for {model.element_name(group, int(observed[0]))},"
                                f" which is observed: its value is its data", span)
        params = known_parameters(model, group)
        if params is None:
            continue
        complete = rows[~np.isnan(flat_value[group.target[rows]]).any(axis=1)]
        values = flat_value[group.target[complete]].reshape((len(complete), *group.value_shape))
        try:
            check_values(model, group, complete, values, params, "the initial value", span)
        except ModelError as error:
            raise DataFileError(error.message, error.span, error.notes) from None
