"""A Plan written out as the source of one Python module of scalar loops, for numba.

The numpy steps update a colour of rows for all chains at once; here one chain's rows are
updated one at a time (rows of a colour are conditionally independent, so the order does
not change the distribution). Every bound expression becomes scalar code in which a
reference ``x[i]`` reads ``V[k][I[m][row]]``: ``V`` holds one chain's value arrays, ``I``
the index arrays the binder made, ``F`` per-element constants and ``A`` one chain's
sampler memory (slice widths, scratch space). The generated functions:

* ``density_<s>(V, I, F, A, p, x)``: the log full conditional of row ``p`` of step ``s`` at
  ``x``, set in place, with the deterministic elements it feeds recomputed (the Markov
  blanket of :mod:`hiergraph.blanket`, element by element);
* ``posterior_<s>(V, I, F, A, p)``: a conjugate row's prior and posterior parameters
  (:mod:`hiergraph.conjugacy`), which collapsed densities also read;
* ``step_<s>(V, I, F, A, rng, adapting)``: one update of the step's rows;
* ``deviance``, ``record`` and ``sweeps``, which runs many sweeps and keeps the draws.

Data sizes and monitors are read from the tables, so a model's module is the same source,
and numba's cache serves it, whatever data and monitors it runs with.

Anything it cannot write raises :class:`NotCompilable` with the reason, and the numpy
engine runs the Plan instead.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from ..blanket import dependence
from ..blocks import BlockStep
from ..collapsed import CollapsedSliceStep
from ..conjugacy import ConjugateStep
from ..evaluator import Apply, Const, Ragged, Ref, nodes, refs
from ..linearity import IDENTITY
from ..samplers import FiniteStep, ForwardStep, SliceStep
from ..scale_move import ScaleGroupStep

# elementwise functions: a format string over the arguments' code
FUNCTION_KERNELS = {
    "+": "({0} + {1})", "-": "({0} - {1})", "*": "({0} * {1})", "/": "({0} / {1})",
    "^": "({0} ** {1})", "pow": "({0} ** {1})", "neg": "(-{0})",
    "<": "(1.0 if {0} < {1} else 0.0)", "<=": "(1.0 if {0} <= {1} else 0.0)", ">": "(1.0 if {0} > {1} else 0.0)",
    ">=": "(1.0 if {0} >= {1} else 0.0)", "==": "(1.0 if {0} == {1} else 0.0)", "!=": "(1.0 if {0} != {1} else 0.0)",
    "&&": "(1.0 if {0} != 0 and {1} != 0 else 0.0)", "||": "(1.0 if {0} != 0 or {1} != 0 else 0.0)", "!": "(1.0 if {0} == 0 else 0.0)",
    "abs": "abs({0})", "sqrt": "np.sqrt({0})", "exp": "np.exp({0})", "log": "np.log({0})",
    "logit": "fn_logit({0})", "ilogit": "fn_ilogit({0})", "phi": "fn_phi({0})",
    "cloglog": "fn_cloglog({0})", "icloglog": "fn_icloglog({0})", "step": "(1.0 if {0} >= 0 else 0.0)",
    "equals": "(1.0 if {0} == {1} else 0.0)", "ifelse": "({1} if {0} != 0 else {2})", "round": "fn_round({0})",
    "trunc": "np.trunc({0})", "logfact": "fn_logfact({0})", "loggam": "fn_loggam({0})",
    "sin": "np.sin({0})", "cos": "np.cos({0})", "tan": "np.tan({0})", "arcsin": "np.arcsin({0})",
    "arccos": "np.arccos({0})", "arctan": "np.arctan({0})", "sinh": "np.sinh({0})",
    "cosh": "np.cosh({0})", "tanh": "np.tanh({0})",
}
REDUCTIONS = ("sum", "mean", "prod", "min", "max", "length")

# scalar distributions with kernels in hiergraph.jit.scalar; their support as code over the
# parameters' code, for the slice sampler's bracket
SUPPORT = {
    "dnorm": ("-INF", "INF"), "dt": ("-INF", "INF"), "dlogis": ("-INF", "INF"),
    "ddexp": ("-INF", "INF"), "dlnorm": ("0.0", "INF"), "dgamma": ("0.0", "INF"),
    "dexp": ("0.0", "INF"), "dchisqr": ("0.0", "INF"), "dweib": ("0.0", "INF"),
    "dpar": ("{1}", "INF"), "dbeta": ("0.0", "1.0"), "dunif": ("{0}", "{1}"),
    "dbern": ("0.0", "1.0"), "dbin": ("0.0", "{1}"), "dpois": ("0.0", "INF"),
    "dnegbin": ("0.0", "INF"),
}
ALIASES = {"dbinom": "dbin", "dnbinom": "dnegbin", "dchisq": "dchisqr", "dweibull": "dweib"}

# conjugate updates: what one child adds to the two posterior parameters, as code over
# y (the child's value), c and a (its coefficient and intercept) and p0, p1 (its parameters);
# the table of hiergraph.conjugacy, in the order (first, second) of ConjugateStep.posterior
INCREMENTS = {
    ("beta", "dbin"): ("y", "p1 - y"), ("beta", "dbern"): ("y", "1.0 - y"),
    ("beta", "dnegbin"): ("p1", "y"),
    ("gamma", "dpois"): ("y", "c"), ("gamma", "dnorm"): ("0.5", "c * (y - p0) ** 2 / 2"),
    ("gamma", "dlnorm"): ("0.5", "c * (np.log(y) - p0) ** 2 / 2"), ("gamma", "dexp"): ("1.0", "c * y"),
    ("gamma", "dgamma"): ("p0", "c * y"), ("gamma", "dweib"): ("1.0", "c * y ** p0"),
    ("normal", "dnorm"): ("p1 * c * (y - a)", "p1 * c * c"),
    ("normal", "dlnorm"): ("p1 * c * (np.log(y) - a)", "p1 * c * c"),
}
# the prior's two parameters in the same terms, over its own parameters q0, q1
PRIORS = {
    ("beta", "dbeta"): ("q0", "q1"), ("beta", "dunif"): ("1.0", "1.0"),
    ("gamma", "dgamma"): ("q0", "q1"), ("gamma", "dexp"): ("1.0", "q0"),
    ("gamma", "dchisqr"): ("q0 / 2", "0.5"), ("normal", "dnorm"): ("q1 * q0", "q1"),
}
DRAWS = {
    "beta": "rv_dbeta(rng, {0}, {1})",
    "gamma": "rv_dgamma(rng, {0}, {1})",
    "normal": "rv_dnorm(rng, {0} / {1}, {1})",
}

REJECTIONS = 100  # draws of a truncated prior's untruncated posterior before a slice move instead
SLICE_STEPS_OUT = SliceStep.max_steps
SLICE_SHRINKS = SliceStep.max_shrinks


class NotCompilable(Exception):
    """The Plan has something the code generator does not write; the reason says what."""


def _dist(group) -> str:
    name = ALIASES.get(group.distribution.name, group.distribution.name)
    if name not in SUPPORT and name not in ("dcat", "dinterval"):
        raise NotCompilable(f"{group.name} ~ {group.distribution.name} has no compiled kernel")
    return name


def _indent(lines, depth: int) -> list[str]:
    return ["    " * depth + line for line in lines]


@dataclass
class Tables:
    """The arrays the generated code reads, collected while it is written.

    The code is written as if ``V``, ``I``, ``F`` and ``A`` were tuples of arrays (``I[3][r]``);
    :func:`render` turns each table into a run of one flat array (``I[oI_3 + r]``), with
    the runs' offsets at the head of ``I`` (:meth:`pack`). Passing four arrays between the
    generated functions, rather than tuples of hundreds, keeps numba's machine code small
    and its compile time short.
    """

    variables: dict = field(default_factory=dict)  # array name -> index in V
    ints: list = field(default_factory=list)  # 1-D int64 arrays: I
    floats: list = field(default_factory=list)  # 1-D float64 arrays: F
    memory: list = field(default_factory=list)  # (length, initial value) per array of A
    monitored: tuple = ()  # (V index or -1 for the deviance, position) of each monitored scalar
    _seen: dict = field(default_factory=dict)

    def var(self, name: str) -> str:
        return f"V[{self.variables.setdefault(name, len(self.variables))}]"

    def ints_of(self, array) -> str:
        return self._add(self.ints, np.ascontiguousarray(array, np.int64).reshape(-1), array, "I")

    def floats_of(self, array) -> str:
        return self._add(self.floats, np.ascontiguousarray(array, np.float64).reshape(-1), array, "F")

    def memory_of(self, length: int, initial: float) -> str:
        self.memory.append((max(int(length), 1), float(initial)))
        return f"A[{len(self.memory) - 1}]"

    def bases(self) -> dict[str, int]:
        """Where each table's offsets start in the head of the packed ``I``."""
        ints, variables, floats = len(self.ints), len(self.variables), len(self.floats)
        return {"I": 0, "V": ints + 1, "F": ints + variables + 2, "A": ints + variables + floats + 3}

    def pack(self, sizes: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The packed ``I`` and ``F``, and the offsets of the variables (of ``sizes``) in ``V``."""
        def offsets(lengths):
            return np.concatenate(([0], np.cumsum(lengths, dtype=np.int64)))

        head = len(self.ints) + len(sizes) + len(self.floats) + len(self.memory) + 4
        variables = offsets(sizes)
        header = np.concatenate([head + offsets([len(a) for a in self.ints]), variables,
                                 offsets([len(a) for a in self.floats]),
                                 offsets([n for n, _ in self.memory])]).astype(np.int64)
        ints = np.concatenate([header, *self.ints]).astype(np.int64)
        floats = np.concatenate([np.zeros(0), *self.floats])
        return ints, floats, variables

    def memory_for_a_chain(self) -> np.ndarray:
        return np.concatenate([np.zeros(0), *(np.full(n, initial) for n, initial in self.memory)])

    def _add(self, store: list, converted, original, letter: str) -> str:
        key = (letter, id(original))
        if key not in self._seen:
            store.append(converted)
            self._seen[key] = (len(store) - 1, original)  # the original kept alive: ids stay unique
        return f"{letter}[{self._seen[key][0]}]"


class Writer:
    """Writes the module for one Plan and collects its :class:`Tables`."""

    def __init__(self, model, plan, monitors):
        self.model, self.plan, self.monitors = model, plan, monitors
        self.tables = Tables()
        self.functions: list[str] = []
        self.names = itertools.count()
        self.step_names: dict[int, str] = {}  # id(step) -> its function's suffix

    # -- expressions ---------------------------------------------------------------------------

    def temp(self, stem: str = "t") -> str:
        return f"{stem}{next(self.names)}"

    def code(self, expr, row: str, pre: list, elem: str | None = None) -> str:
        """Scalar code of ``expr`` for the element ``row`` (and value component ``elem`` of
        a vector-valued expression), with any statements it needs appended to ``pre``."""
        if isinstance(expr, Const):
            value = np.asarray(expr.value, float)
            if expr.per_element:
                if value.ndim != 1:
                    raise NotCompilable("a per-element constant that is not a number")
                return f"{self.tables.floats_of(expr.value)}[{row}]"
            if value.ndim == 0:
                return repr(float(value))
            if elem is None or value.ndim != 1:
                raise NotCompilable("an array constant")
            return f"{self.tables.floats_of(expr.value)}[{elem}]"
        if isinstance(expr, Ref):
            values = self.tables.var(expr.var)
            if expr.lengths is not None:  # runs of different lengths: elem indexes them all
                if elem is None:
                    raise NotCompilable(f"a read of {expr.var} over ranges of different lengths")
                return f"{values}[{self.tables.ints_of(expr.flat)}[{elem}]]"
            if expr.flat.ndim == 1:
                return f"{values}[{self.tables.ints_of(expr.flat)}[{row}]]"
            if elem is None:
                raise NotCompilable(f"a vector or matrix read of {expr.var} outside a reduction")
            width = int(np.prod(expr.flat.shape[1:]))
            return f"{values}[{self.tables.ints_of(expr.flat)}[{row} * {width} + {elem}]]"
        function = expr.function
        if function.kind == "reduction" or function.name == "inprod":
            return self._reduction(expr, row, pre)
        if function.kind != "elementwise" or function.name not in FUNCTION_KERNELS:
            raise NotCompilable(f"the function {function.name}")
        shapes = {a.shape for a in expr.args if a.shape not in ((), None)}
        if len(shapes) > 1 or (elem is None and any(a.shape is None for a in expr.args)):
            raise NotCompilable(f"{function.name} of values of different shapes")
        args = [self.code(a, row, pre, None if a.shape == () else elem) for a in expr.args]
        return FUNCTION_KERNELS[function.name].format(*args)

    def runs(self, operands, row: str) -> tuple[str, str, bool]:
        """Code of where the values a reduction runs over start and how many there are, and
        whether they are runs of different lengths (``sum(x[1:j])``), in which case every
        vector in ``operands`` must be such a run of the same lengths (its index then counts
        over all the runs: see :meth:`code`)."""
        shape = operands[0].shape
        if shape is not None:
            if any(a.shape != shape for a in operands):
                raise NotCompilable("a reduction over values of different shapes")
            return "0", str(int(np.prod(shape))), False
        ragged = [r for a in operands for r in refs(a) if r.lengths is not None]
        lengths = ragged[0].lengths
        if any(not np.array_equal(r.lengths, lengths) for r in ragged) or any(
                node.shape not in ((), None) for a in operands for node in nodes(a)):
            raise NotCompilable("a reduction over runs of different lengths and other vectors")
        starts = Ragged(np.zeros(0), lengths).starts
        return (f"{self.tables.ints_of(starts)}[{row}]",
                f"{self.tables.ints_of(lengths)}[{row}]", True)

    def _reduction(self, expr, row: str, pre: list) -> str:
        name = expr.function.name
        if name not in REDUCTIONS + ("inprod",):
            raise NotCompilable(f"the function {name}")
        first, count, ragged = self.runs(expr.args, row)
        if name == "length":
            return f"(1.0 if {count} else 0.0)"
        result, j, inner = self.temp(), self.temp("j"), []
        parts = [self.code(a, row, inner, j if a.shape != () else None) for a in expr.args]
        term = " * ".join(parts) if name == "inprod" else parts[0]
        start, combine = {"sum": ("0.0", "{r} += {t}"), "mean": ("0.0", "{r} += {t}"),
                          "inprod": ("0.0", "{r} += {t}"), "prod": ("1.0", "{r} *= {t}"),
                          "min": ("INF", "{r} = min({r}, {t})"),
                          "max": ("-INF", "{r} = max({r}, {t})")}[name]
        pre.append(f"{result} = {start}")
        pre.append(f"for {j} in range({first}, {first} + {count}):" if ragged else f"for {j} in range({count}):")
        pre.extend(_indent(inner + [combine.format(r=result, t=term)], 1))
        if name == "mean":
            pre.append(f"{result} = {result} / {count}")
        return result

    def params(self, group, row: str, pre: list) -> list[str]:
        if _dist(group) == "dcat":
            raise NotCompilable("dcat parameters are read by its own code")
        return [self.code(p, row, pre) for p in group.params]

    def position(self, group, row: str) -> str:
        """Code of the flat position of a scalar group's element ``row`` in its array."""
        if group.value_shape:
            raise NotCompilable(f"{group.name} has vector or matrix values")
        return f"{self.tables.ints_of(group.target)}[{row}]"

    def value(self, group, row: str) -> str:
        return f"{self.tables.var(group.var)}[{self.position(group, row)}]"

    def log_density(self, group, row: str, x: str, pre: list, own_prior: bool = False) -> str:
        """Code of the log density of element ``row`` at ``x``. A truncated group only as the
        updated node's own prior (``own_prior``): the normalising constant does not depend on
        the node, so the density is the untruncated one inside the bounds."""
        name = _dist(group)
        if group.bounds is not None and not own_prior:
            raise NotCompilable(f"{group.name} is truncated")
        if name == "dcat":
            density = self._categorical(group, row, x, pre)
        elif name == "dinterval":
            density = self._interval(group, row, x, pre)
        else:
            density = f"lp_{name}({x}, {', '.join(self.params(group, row, pre))})"
        if group.bounds is not None:
            lower, upper = (None if b is None else self.code(b, row, pre) for b in group.bounds)
            checks = [f"{x} >= {lower}" if lower else "", f"{x} <= {upper}" if upper else ""]
            density = f"({density} if {' and '.join(c for c in checks if c)} else -INF)"
        return density

    def _categorical(self, group, row: str, x: str, pre: list) -> str:
        """dcat's log probability: log w[x] - log sum(w), for weights read as a vector or as
        runs of different lengths (``p[i, 1:K[i]]``)."""
        weights = group.params[0]
        if not isinstance(weights, Ref) or (weights.shape is not None and len(weights.shape) != 1):
            raise NotCompilable(f"{group.name}: dcat weights other than a vector read")
        first, count, ragged = self.runs([weights], row)
        j, total, bad, result = self.temp("j"), self.temp(), self.temp(), self.temp()
        inner: list = []
        w = self.code(weights, row, inner, j)
        loop = f"for {j} in range({first}, {first} + {count}):" if ragged else f"for {j} in range({count}):"
        pre += [f"{total} = 0.0", f"{bad} = False", loop]
        pre += _indent(inner + [f"{total} += {w}", f"if not ({w} >= 0):", f"    {bad} = True"], 1)
        pre += [f"{result} = -INF",
                f"if not {bad} and {total} > 0 and {x} >= 1 and {x} <= {count} and {x} == np.floor({x}):"]
        at: list = []
        w_at = self.code(weights, row, at, f"{first} + int({x}) - 1" if ragged else f"int({x}) - 1")
        pre += _indent(at + [f"{result} = np.log({w_at}) - np.log({total})"], 1)
        return result

    def _interval(self, group, row: str, x: str, pre: list) -> str:
        """dinterval(t, c): log mass 0 where ``x`` is the number of cutpoints below ``t``
        (strictly increasing cutpoints), else -inf (hiergraph.distributions._Interval)."""
        t, cutpoints = group.params
        value, result, below, last = self.temp(), self.temp(), self.temp(), self.temp()
        pre += [f"{value} = {self.code(t, row, pre)}"]
        if cutpoints.shape == ():
            pre += [f"{below} = 1.0 if {self.code(cutpoints, row, pre)} < {value} else 0.0",
                    f"{result} = 0.0 if {x} == {below} else -INF"]
            return result
        first, count, ragged = self.runs([cutpoints], row)
        j, inner = self.temp("j"), []
        c = self.code(cutpoints, row, inner, j)
        loop = f"for {j} in range({first}, {first} + {count}):" if ragged else f"for {j} in range({count}):"
        pre += [f"{below} = 0.0", f"{last} = -INF", f"{result} = 0.0", loop]
        pre += _indent(inner + [f"if not ({c} > {last}):", f"    {result} = -INF",
                                f"{last} = {c}", f"if {c} < {value}:", f"    {below} += 1.0"], 1)
        pre += [f"if {x} != {below}:", f"    {result} = -INF"]
        return result

    # -- the blanket of one step, element by element -------------------------------------------

    def csr(self, matrix) -> tuple[str, str]:
        """Index arrays of a sparse (rows of the step x elements) matrix, by row."""
        matrix = sparse.csr_matrix(matrix)
        matrix.sort_indices()
        return self.tables.ints_of(matrix.indptr), self.tables.ints_of(matrix.indices)

    def recompute(self, blanket, p: str) -> list[str]:
        """Statements recomputing the deterministic elements that row ``p`` of a step feeds."""
        if not blanket.deterministic:
            return []
        self._no_self_reads(blanket.deterministic)
        reads = dependence(self.model, blanket.target, blanket.deterministic, blanket.deterministic)
        return self.recompute_read(blanket.deterministic, {name: m[:, blanket.rows] for name, m in reads.items()}, p)

    def recompute_read(self, groups, reads: dict, p: str) -> list[str]:
        """Statements recomputing, of each deterministic group, the elements that ``reads[name]``
        (a sparse elements x positions matrix) says position ``p`` feeds, in the order given."""
        lines = []
        for group in groups:
            pointer, index = self.csr(reads[group.name].T)
            q, row, pre = self.temp("q"), self.temp("r"), []
            value = self.code(group.expr, row, pre)
            lines += [f"for {q} in range({pointer}[{p}], {pointer}[{p} + 1]):",
                      f"    {row} = {index}[{q}]"]
            lines += _indent(pre + [f"{self.value(group, row)} = {value}"], 1)
        return lines

    def _no_self_reads(self, groups) -> None:
        for group in groups:
            if self.model.graph.has_edge(group.name, group.name):
                raise NotCompilable(f"{group.name} reads its own elements")

    def recompute_all(self, groups) -> list[str]:
        self._no_self_reads(groups)
        lines = []
        for group in groups:
            row, pre = self.temp("r"), []
            value = self.code(group.expr, row, pre)
            lines += [f"for {row} in range({self.tables.ints_of(group.target)}.shape[0]):"]
            lines += _indent(pre + [f"{self.value(group, row)} = {value}"], 1)
        return lines

    def link_rows(self, link, rows: int) -> tuple[str, str]:
        matrix = sparse.coo_matrix((np.ones(len(link.child_rows)), (link.positions, link.child_rows)),
                                   shape=(rows, link.group.size))
        return self.csr(matrix)

    # -- steps ---------------------------------------------------------------------------------

    def function(self, header: str, body: list[str]) -> None:
        self.functions.append((header, body))

    def density(self, step, s: str, layers=None) -> None:
        """``density_<s>``: the log full conditional of the step's row ``p`` at ``x``."""
        b = step.blanket
        target = b.target
        row = self.temp("r")
        body = [f"{row} = {self.tables.ints_of(b.rows)}[p]", f"{self.value(target, row)} = x"]
        body += self.recompute(b, "p")
        pre: list = []
        prior = self.log_density(target, row, "x", pre, own_prior=True)
        body += pre + [f"total = {prior}"]
        for link in b.children:
            pointer, index = self.link_rows(link, len(b.rows))
            q, child = self.temp("q"), self.temp("r")
            inner: list = []
            density = self.log_density(link.group, child, self.value(link.group, child), inner)
            layer = (layers or {}).get(link.group.name)
            if layer is not None:
                inner = self._marginal(layer, link.group, child, density, inner)
            else:
                inner += [f"total += {density}"]
            body += [f"for {q} in range({pointer}[p], {pointer}[p + 1]):", f"    {child} = {index}[{q}]"]
            body += _indent(inner, 1)
        body += ["return total if total == total else -INF"]
        self.function(f"def density_{s}(V, I, F, A, p, x):", body)

    def _marginal(self, layer, group, child: str, density: str, pre: list) -> list[str]:
        """A layer element's log marginal where it is integrated out, else its log density."""
        position = np.full(group.size, -1)
        position[layer.rows] = np.arange(len(layer.rows))
        at, l = self.tables.ints_of(position), self.temp("l")
        name = self.step_name(layer)
        family = layer.rule.family
        return [f"{l} = {at}[{child}]", f"if {l} >= 0:",
                f"    a0, b0, a1, b1 = posterior_{name}(V, I, F, A, {l})",
                f"    total += normaliser_{family}(a1, b1) - normaliser_{family}(a0, b0)",
                "else:"] + _indent(pre + [f"total += {density}"], 1)

    def step_name(self, step) -> str:
        if id(step) not in self.step_names:
            self.step_names[id(step)] = str(len(self.step_names))
            self._write_step(step, self.step_names[id(step)])
        return self.step_names[id(step)]

    def _write_step(self, step, s: str) -> None:
        if isinstance(step, CollapsedSliceStep):
            if step.discrete:
                raise NotCompilable("a discrete collapsed step")
            self.density(step, s, step.layers)
            draws = [f"step_{self.step_name(layer)}(V, I, F, A, rng, adapting)"
                     for name, layer in step.layers.items() if name not in step.deferred]
            self.slice(step, s, draws)
        elif type(step) is SliceStep:
            self.density(step, s)
            self.slice(step, s, [])
        elif type(step) is ConjugateStep:
            self.conjugate(step, s)
        elif type(step) is FiniteStep:
            self.density(step, s)
            self.finite(step, s)
        elif type(step) is ForwardStep:
            self.forward(step, s)
        elif type(step) is BlockStep:
            from . import blockcode
            blockcode.write(self, step, s)
        elif type(step) is ScaleGroupStep:
            from . import scalecode
            scalecode.write(self, step, s)
        else:
            raise NotCompilable(f"the {step.name} sampler of {step.group.name}")

    def support(self, group, row: str, pre: list) -> tuple[str, str]:
        name = _dist(group)
        if name == "dcat":
            return "1.0", f"(1.0 if {self.runs([group.params[0]], row)[1]} else 0.0)"
        params = self.params(group, row, pre)
        lower, upper = (bound.format(*params) for bound in SUPPORT[name])
        if group.bounds is not None:
            low, high = (None if b is None else self.code(b, row, pre) for b in group.bounds)
            lower = lower if low is None else f"max({lower}, {low})"
            upper = upper if high is None else f"min({upper}, {high})"
        return lower, upper

    def slice(self, step, s: str, after: list[str], before=(), origin=None, whole: bool = True) -> None:
        """Neal's (2003) stepping out and shrinkage, as :class:`hiergraph.samplers.SliceStep`:
        ``slide_<s>(..., p)`` moves row ``p``, ``step_<s>`` (unless not ``whole``) every row,
        then adapts the width during burn-in the same way. ``origin`` (code of the starting
        point and the bounds; default: the node's value and support) serves moves of an
        auxiliary variable (:mod:`hiergraph.jit.scalecode`); ``before`` and ``after`` are
        statements around the rows' loop."""
        target, rows = step.group, step.rows
        width, moves, count = (self.tables.memory_of(len(rows), 1.0), self.tables.memory_of(len(rows), 0.0),
                               self.tables.memory_of(1, 0.0))
        row, pre = self.temp("r"), []
        x0, lower, upper = origin or (self.value(target, row), *self.support(target, row, pre))
        discrete = getattr(step, "discrete", False)  # a conjugate step's fallback slice: never
        floor = "np.floor" if discrete else ""
        body = [f"{row} = {self.tables.ints_of(rows)}[p]"]
        body += pre + [f"lower = {lower}", f"upper = {upper}", f"x0 = {x0}"]
        if discrete:
            body += ["upper = upper + 1.0", "x0 = x0 + draw_uniform(rng)"]
        call = f"density_{s}(V, I, F, A, p, {floor}({{}}))"
        body += [
            f"log_y = {call.format('x0')} - draw_exponential(rng)",
            f"w = {width}[p]",
            "left = x0 - w * draw_uniform(rng)",
            "right = left + w",
            f"j = draw_integer(rng, {SLICE_STEPS_OUT})",
            f"k = {SLICE_STEPS_OUT} - 1 - j",
            f"while j > 0 and left > lower and {call.format('left')} > log_y:",
            "    left -= w",
            "    j -= 1",
            f"while k > 0 and right < upper and {call.format('right')} > log_y:",
            "    right += w",
            "    k -= 1",
            "left = max(left, lower)",
            "right = min(right, upper)",
            "x1 = x0",
            f"for _ in range({SLICE_SHRINKS}):",
            "    trial = left + draw_uniform(rng) * (right - left)",
            f"    if {call.format('trial')} > log_y:",
            "        x1 = trial",
            "        break",
            "    if trial < x0:",
            "        left = trial",
            "    else:",
            "        right = trial",
            call.format("x1"),
            "if adapting:",
            f"    {moves}[p] += abs(x1 - x0)",
        ]
        self.function(f"def slide_{s}(V, I, F, A, rng, adapting, p):", body)
        if not whole:
            return
        body = list(before) + [f"for p in range({self.tables.ints_of(rows)}.shape[0]):",
                               f"    slide_{s}(V, I, F, A, rng, adapting, p)"]
        body += ["if adapting:", f"    {count}[0] += 1",
                 f"    for p in range({width}.shape[0]):",
                 f"        {width}[p] = max(2 * {moves}[p] / {count}[0], 1e-8)"]
        body += after
        self.function(f"def step_{s}(V, I, F, A, rng, adapting):", body)

    def conjugate(self, step: ConjugateStep, s: str) -> None:
        """``posterior_<s>`` and ``step_<s>``: JAGS's conjugate rules, one row at a time."""
        family, target, b = step.rule.family, step.group, step.blanket
        prior_name = ALIASES.get(target.distribution.name, target.distribution.name)
        if (family, prior_name) not in PRIORS:
            raise NotCompilable(f"the {step.name} update of {target.name}")
        row = self.temp("r")
        body = [f"{row} = {self.tables.ints_of(b.rows)}[p]"]
        pre: list = []
        q_codes = self.params(target, row, pre)
        body += pre + [f"q{i} = {c}" for i, c in enumerate(q_codes)]
        first, second = PRIORS[(family, prior_name)]
        body += [f"a0 = {first}", f"b0 = {second}", "a1 = a0", "b1 = b0"]
        for link, plan in step.links:
            body += self._increments(step, link, plan, row)
        body += ["return a0, b0, a1, b1"]
        self.function(f"def posterior_{s}(V, I, F, A, p):", body)
        row = self.temp("r")
        draw = DRAWS[family].format("a1", "b1")
        lines = [f"for p in range({self.tables.ints_of(b.rows)}.shape[0]):",
                 f"    a0, b0, a1, b1 = posterior_{s}(V, I, F, A, p)",
                 f"    {row} = {self.tables.ints_of(b.rows)}[p]",
                 f"    x = {draw}"]
        if target.bounds is not None:
            lines += _indent(self._truncated(step, s, row, draw), 1)
        lines += _indent([f"{self.value(target, row)} = x"] + self.recompute(b, "p"), 1)
        self.function(f"def step_{s}(V, I, F, A, rng, adapting):", lines)

    def _truncated(self, step, s: str, row: str, draw: str) -> list[str]:
        """A truncated prior's conjugate draw: the untruncated posterior's draws until one falls
        within the bounds, up to ``REJECTIONS`` of them; if none does, a slice move of the row
        instead (with a fixed width). Whether the slice runs does not depend on the row's
        current value, so the mixture of the two kernels keeps the posterior invariant."""
        pre: list = []
        low, high = (None if bound is None else self.code(bound, row, pre) for bound in step.group.bounds)
        inside = " and ".join([f"x >= {low}"] * (low is not None) + [f"x <= {high}"] * (high is not None))
        self.density(step, s)
        self.slice(step, s, [], whole=False)
        return pre + ["tries = 1",
                      f"while not ({inside}) and tries < {REJECTIONS}:",
                      f"    x = {draw}",
                      "    tries += 1",
                      f"if not ({inside}):",
                      f"    slide_{s}(V, I, F, A, rng, False, p)",
                      f"    x = {self.value(step.group, row)}"]

    def _increments(self, step, link, plan, row: str) -> list[str]:
        """Statements adding one child group's increments to ``a1, b1``; where the child reads
        the row through a multiple or a linear function, the coefficients are read by setting
        the row to 0 and to 1 (JAGS's trick), into scratch memory."""
        family, child = step.rule.family, link.group
        key = (family, ALIASES.get(child.distribution.name, child.distribution.name))
        if key not in INCREMENTS:
            raise NotCompilable(f"the {step.name} update of {step.group.name}")
        pointer, index = self.link_rows(link, len(step.rows))
        q, r, pre = self.temp("q"), self.temp("r"), []
        params = self.params(child, r, pre)
        first, second = INCREMENTS[key]
        loop = [f"for {q} in range({pointer}[p], {pointer}[p + 1]):", f"    {r} = {index}[{q}]"]
        use = [f"y = {self.value(child, r)}"] + [f"p{i} = {c}" for i, c in enumerate(params)]
        add = [f"a1 += {first}", f"b1 += {second}"]
        if plan.kind == IDENTITY:
            return loop + _indent(pre + use + ["c = 1.0", "a = 0.0"] + add, 1)
        counts = np.diff(sparse.csr_matrix(
            (np.ones(len(link.child_rows)), (link.positions, link.child_rows)),
            shape=(len(step.rows), child.size)).indptr)
        scratch = self.tables.memory_of(int(counts.max(initial=1)), 0.0)
        slot = f"{scratch}[{q} - {pointer}[p]]"
        reading = f"p{plan.rule.parameter}"
        where = self.value(step.group, f"{self.tables.ints_of(step.rows)}[p]")
        recompute = self.recompute(step.blanket, "p")
        return ([f"saved = {where}", f"{where} = 0.0"] + recompute + loop
                + _indent(pre + use + [f"{slot} = {reading}"], 1)
                + [f"{where} = 1.0"] + recompute + loop
                + _indent(pre + use + [f"a = {slot}", f"c = {reading} - a"] + add, 1)
                + [f"{where} = saved"] + recompute)

    def finite(self, step: FiniteStep, s: str) -> None:
        """A draw from the full conditional over every possible value, by the Gumbel-max trick
        as :class:`hiergraph.samplers.FiniteStep` (-log of an exponential is a Gumbel draw)."""
        values = self.tables.floats_of(step.values)
        body = [f"for p in range({self.tables.ints_of(step.rows)}.shape[0]):",
                "    best = -INF",
                f"    choice = {values}[0]",
                f"    for m in range({values}.shape[0]):",
                f"        v = {values}[m]",
                f"        score = density_{s}(V, I, F, A, p, v) - np.log(draw_exponential(rng))",
                "        if score > best:",
                "            best = score",
                "            choice = v",
                f"    density_{s}(V, I, F, A, p, choice)"]
        self.function(f"def step_{s}(V, I, F, A, rng, adapting):", body)

    def _categorical_draw(self, group, row: str, pre: list) -> str:
        """A dcat draw as JAGS's DCat makes it: a uniform on [0, sum of the weights) located
        among their cumulative sums (hiergraph.distributions._categorical)."""
        weights = group.params[0]
        first, count, ragged = self.runs([weights], row)
        j, total, u, result = self.temp("j"), self.temp(), self.temp(), self.temp()
        inner: list = []
        w = self.code(weights, row, inner, j)
        loop = f"for {j} in range({first}, {first} + {count}):" if ragged else f"for {j} in range({count}):"
        offset = f" - {first}" if ragged else ""
        pre += [f"{total} = 0.0", loop] + _indent(inner + [f"{total} += {w}"], 1)
        pre += [f"{u} = draw_uniform(rng) * {total}", f"{result} = float({count})", f"{total} = 0.0", loop]
        pre += _indent(inner + [f"{total} += {w}", f"if {u} < {total}:",
                                f"    {result} = float({j}{offset} + 1)", "    break"], 1)
        return result

    def forward(self, step: ForwardStep, s: str) -> None:
        group = step.group
        name = _dist(group)
        if group.bounds is not None:
            raise NotCompilable(f"forward draws of {group.name}")
        row, pre = self.temp("r"), []
        draw = self._categorical_draw(group, row, pre) if name == "dcat" else \
            f"rv_{name}(rng, {', '.join(self.params(group, row, pre))})"
        rows = self.tables.ints_of(step.rows)
        body = [f"for p in range({rows}.shape[0]):", f"    {row} = {rows}[p]"]
        body += _indent(pre + [f"{self.value(group, row)} = {draw}"], 1)
        body += self.recompute_all(step.deterministic)
        self.function(f"def step_{s}(V, I, F, A, rng, adapting):", body)

    # -- the run -------------------------------------------------------------------------------

    def deviance(self) -> None:
        body = ["total = 0.0"]
        for group in self.model.groups:
            if group.kind != "stochastic" or not group.observed.any():
                continue
            row, pre = self.temp("r"), []
            density = self.log_density(group, row, self.value(group, row), pre)
            rows = self.tables.ints_of(np.flatnonzero(group.observed))
            body += [f"for q in range({rows}.shape[0]):", f"    {row} = {rows}[q]"]
            body += _indent(pre + [f"total += {density}"], 1)
        body += ["return -2.0 * total"]
        self.function("def deviance(V, I, F, A):", body)

    def monitor_tables(self) -> None:
        """Each monitored scalar's array (its index in V, or -1 for the deviance) and position:
        tables, not code, so that one compiled module serves every choice of monitors."""
        arrays, positions = [], []
        for monitor in self.monitors:
            if monitor.var == "deviance" and not len(monitor.positions):
                arrays.append(-1)
                positions.append(0)
                continue
            index = self.tables.variables.setdefault(monitor.var, len(self.tables.variables))
            arrays += [index] * len(monitor.positions)
            positions += list(monitor.positions)
        self.tables.monitored = (np.array(arrays, np.int64), np.array(positions, np.int64))

    def module(self) -> str:
        calls = [f"step_{self.step_name(step)}(V, I, F, A, rng, adapting)"
                 for step in self.plan.steps + self.plan.forward]
        self.deviance()
        self.function("def record(V, I, F, A, positions, out, k):", [
            "for j in range(positions.shape[0]):",
            "    out[k, j] = deviance(V, I, F, A) if positions[j] < 0 else V[positions[j]]",
        ])
        self.function("def sweeps(V, I, F, A, rng, first, count, burn, thin, positions, out, k):", [
            "for sweep in range(first, first + count):",
            "    adapting = sweep <= burn",
        ] + _indent(calls, 1) + [
            "    if not adapting and (sweep - burn) % thin == 0:",
            "        record(V, I, F, A, positions, out, k)",
            "        k += 1",
            "return k",
        ])
        header = ['"""Generated by hiergraph.jit.codegen from one Plan; do not edit."""',
                  "import math", "import numpy as np",
                  "from hiergraph.jit.scalar import *  # noqa: F403 (the kernels)", "INF = math.inf"]
        bases = self.tables.bases()
        return "\n\n\n".join(["\n".join(header)] + [render(h, b, bases) for h, b in self.functions]) + "\n"


_TABLE = re.compile(r"\b([VIFA])\[(\d+)\]")


def render(header: str, body: list[str], bases: dict[str, int]) -> str:
    """One generated function, its table reads made reads of the packed arrays: ``I[3][r]``
    becomes ``I[oI_3 + r]`` and ``I[3].shape[0]`` ``nI_3``, each offset and length read
    once at the top (see :class:`Tables`)."""
    text = "\n".join(body)
    runs = set(re.findall(r"\bwhole\(([VIFA])\[(\d+)\]\)", text))  # a table's run as an array
    text = re.sub(r"\bwhole\(([VIFA])\[(\d+)\]\)", r"\1[o\1_\2:o\1_\2 + n\1_\2]", text)
    used_lengths = runs | set(re.findall(r"\b([VIFA])\[(\d+)\]\.shape\[0\]", text))
    text = re.sub(r"\b([VIFA])\[(\d+)\]\.shape\[0\]", r"n\1_\2", text)
    used_offsets = runs | set(re.findall(r"\b([VIFA])\[(\d+)\]\[", text))
    text = re.sub(r"\b([VIFA])\[(\d+)\]\[", r"\1[o\1_\2 + ", text)
    leftover = _TABLE.search(text)
    if leftover:
        raise AssertionError(f"a whole table read as an array: {leftover.group(0)}")
    bindings = [f"o{t}_{k} = I[{bases[t] + int(k)}]" for t, k in sorted(used_offsets)]
    bindings += [f"n{t}_{k} = I[{bases[t] + int(k) + 1}] - I[{bases[t] + int(k)}]" for t, k in sorted(used_lengths)]
    return "\n".join(["@kernel", header] + _indent(bindings + text.split("\n"), 1))


def write(model, plan, monitors) -> tuple[str, Tables]:
    """The module's source and the arrays it reads; :class:`NotCompilable` if it cannot be written."""
    writer = Writer(model, plan, monitors)
    source = writer.module()
    writer.monitor_tables()
    return source, writer.tables
