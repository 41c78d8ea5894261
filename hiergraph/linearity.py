"""How an expression depends on a node group: not at all, as the node itself, as a multiple of
it, linearly, or otherwise. Decided from structure alone, the way JAGS's ConjugateFactory
does (each function says whether it is linear or a scale function in each argument): false
negatives are allowed, false positives never. The coefficients themselves are then read
numerically (see :mod:`hiergraph.conjugacy`).
"""

from __future__ import annotations

import numpy as np

from .evaluator import Apply, Const, Ref, refs
from .model_graph import ModelGraph, NodeGroup

CONST, IDENTITY, SCALE, LINEAR, NONLINEAR = "const", "identity", "scale", "linear", "nonlinear"
_RANK = {CONST: 0, IDENTITY: 1, SCALE: 2, LINEAR: 3, NONLINEAR: 4}


class Linearity:
    """Classifies expressions by how they depend on target groups (one, or a block of several
    updated together), through deterministic nodes. With several targets, "linear" means
    jointly linear: ``a * b`` of two targets is nonlinear."""

    def __init__(self, model: ModelGraph, targets: NodeGroup | list[NodeGroup], deterministic):
        self.model = model
        self.targets = {g.name for g in ([targets] if isinstance(targets, NodeGroup) else targets)}
        self.dependent = {g.name: g for g in deterministic}
        self.memo: dict[str, str] = {}

    def of(self, expr) -> str:
        if isinstance(expr, Const):
            return CONST
        if isinstance(expr, Ref):
            return self._reference(expr)
        return self._apply(expr)

    def _reference(self, ref: Ref) -> str:
        owners = np.unique(self.model.arrays[ref.var].owner[np.asarray(ref.flat).reshape(-1)])
        names = {self.model.groups[o].name for o in owners if o >= 0}
        kinds = []
        for name in names:
            if name in self.targets:
                kinds.append(IDENTITY)
            elif name in self.dependent:
                if name not in self.memo:
                    self.memo[name] = NONLINEAR  # a guard while it is being worked out
                    self.memo[name] = self.of(self.dependent[name].expr)
                kinds.append(self.memo[name])
        return max(kinds, key=_RANK.get, default=CONST)

    def _apply(self, expr: Apply) -> str:
        kinds = [self.of(a) for a in expr.args]
        name = expr.function.name
        if all(k == CONST for k in kinds):
            return CONST
        if NONLINEAR in kinds:
            return NONLINEAR
        # Two terms that both read the group may read different elements of it (``lam[1] +
        # lam[2]``), and an update of one element sees the other as an intercept: linear,
        # not a scale. Sums and inner products over several elements likewise.
        if name in ("+", "-", "sum", "mean"):
            return LINEAR
        if name == "neg":
            return SCALE if kinds[0] == IDENTITY else kinds[0]
        if name in ("%*%", "inprod"):
            return LINEAR if CONST in kinds else NONLINEAR
        if name == "*":
            if CONST not in kinds:
                return NONLINEAR
            other = kinds[0] if kinds[1] == CONST else kinds[1]
            return SCALE if other in (IDENTITY, SCALE) else LINEAR
        if name == "/":
            if kinds[1] != CONST:
                return NONLINEAR
            return SCALE if kinds[0] in (IDENTITY, SCALE) else LINEAR
        return NONLINEAR


    def coefficients_fixed(self, expr) -> bool:
        """Whether the coefficients of the targets in a linear ``expr`` are fixed by the data
        (``b * x[i]`` with data ``x``), so that they need reading only once; False when a
        coefficient is another unknown (``b * z`` with ``z`` latent)."""
        if isinstance(expr, Const):
            return True
        if isinstance(expr, Ref):
            owners = np.unique(self.model.arrays[expr.var].owner[np.asarray(expr.flat).reshape(-1)])
            return all(self.coefficients_fixed(self.dependent[self.model.groups[o].name].expr)
                       for o in owners if o >= 0 and self.model.groups[o].name in self.dependent)
        kinds = [self.of(a) for a in expr.args]
        multiplies = expr.function.name in ("*", "/", "%*%", "inprod")
        return all(fixed_by_data(self.model, a) if k == CONST and multiplies
                   else k == CONST or self.coefficients_fixed(a)
                   for a, k in zip(expr.args, kinds))


def fixed_by_data(model, expr) -> bool:
    """Every value ``expr`` reads is fixed by the data."""
    return all(not np.isnan(model.fixed_values[r.var][np.asarray(r.flat).reshape(-1)]).any()
               for r in refs(expr))


def at_most(kind: str, limit: str) -> bool:
    return _RANK[kind] <= _RANK[limit]
