"""Bound expressions and log densities written as scalar code, for the numba backend.

:class:`ExpressionWriter` turns the binder's expression trees (:mod:`hiergraph.evaluator`)
into code for one element ``row``: a reference ``x[i]`` reads ``V[k][I[m][row]]`` (see
:class:`Tables`), a reduction becomes a loop over the values it reads (runs of different
lengths included), and a stochastic node's log density a call of its kernel in
:mod:`hiergraph.jit.scalar` (``dcat`` and ``dinterval`` are written out). Anything it cannot
write raises :class:`NotCompilable`.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field

import numpy as np

from ..distributions import BISECTIONS
from ..evaluator import Const, Ragged, Ref, nodes, refs
from ..linearity import fixed_by_data

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
    "dnegbin": ("0.0", "INF"), "dflat": ("-INF", "INF"),
}
# Distributions with an ``lk_`` kernel (:mod:`hiergraph.jit.scalar`): the log density less the
# terms in the value alone and in the parameters listed, which must be data for those terms to
# be constant while a parent moves.
VALUE_TERMS = {"dpois": (), "dbin": (1,)}
# Distributions with a ``tails_`` kernel (:mod:`hiergraph.jit.tails`): those a node with moving
# parameters may be truncated in.
TRUNCATABLE = ("dnorm", "dlnorm", "dt", "dlogis", "ddexp", "dgamma", "dchisqr", "dexp", "dweib", "dpar",
               "dbeta", "dunif", "dbern", "dbin", "dpois", "dnegbin")
# vector-valued distributions with a log density kernel (:mod:`hiergraph.jit.scalar`), called
# with the value, the parameters (vectors and matrices as flat runs) and the value's length
VECTOR_DENSITIES = {"dmnorm": "lp_dmnorm", "dmnorm.vcov": "lp_dmnorm_vcov", "dmulti": "lp_dmulti"}
TRUNCATED_TRIES = 16  # draws of the whole distribution before a truncated draw inverts the tail
ALIASES = {"dbinom": "dbin", "dnbinom": "dnegbin", "dchisq": "dchisqr", "dweibull": "dweib"}

class NotCompilable(Exception):
    """The Plan has something the code generator does not write; the reason says what."""


def _dist(group) -> str:
    name = ALIASES.get(group.distribution.name, group.distribution.name)
    if name not in SUPPORT and name not in ("dcat", "dinterval"):
        raise NotCompilable(f"{group.name} ~ {group.distribution.name}")
    return name


def constant(value: float) -> str:
    """A number from the model, marked so that :mod:`~hiergraph.jit.assemble` can write it
    as a literal, or as a table read in a function shared by steps whose numbers differ."""
    if not math.isfinite(value):
        return "INF" if value > 0 else "(-INF)" if value < 0 else "np.nan"
    return f"__k({value!r})"


def _indent(lines, depth: int) -> list[str]:
    return ["    " * depth + line for line in lines]


@dataclass
class Tables:
    """The arrays the generated code reads, collected while it is written.

    The code is written as if ``V``, ``I``, ``F`` and ``A`` were tuples of arrays (``I[3][r]``);
    :mod:`hiergraph.jit.assemble` turns each table into a run of one flat array
    (``I[oI_3 + r]``), with the runs' offsets at the head of ``I`` (:meth:`pack`), after the
    ``slots`` through which functions written once for several steps find their tables.
    Passing four arrays between the generated functions, rather than tuples of hundreds,
    keeps numba's machine code small and its compile time short.
    """

    variables: dict = field(default_factory=dict)  # array name -> index in V
    ints: list = field(default_factory=list)  # 1-D int64 arrays: I
    floats: list = field(default_factory=list)  # 1-D float64 arrays: F
    memory: list = field(default_factory=list)  # (length, initial value) per array of A
    monitored: tuple = ()  # (V index or -1 for the deviance, position) of each monitored scalar
    slots: list = field(default_factory=list)  # positions in the head of I (see assemble)
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
        slots, ints, variables, floats = len(self.slots), len(self.ints), len(self.variables), len(self.floats)
        return {"I": slots, "V": slots + ints + 1, "F": slots + ints + variables + 2,
                "A": slots + ints + variables + floats + 3}

    def pack(self, sizes: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The packed ``I`` and ``F``, and the offsets of the variables (of ``sizes``) in ``V``."""
        def offsets(lengths):
            return np.concatenate(([0], np.cumsum(lengths, dtype=np.int64)))

        if len(sizes) != len(self.variables):
            raise AssertionError("the code was written for another set of variables")
        head = len(self.slots) + len(self.ints) + len(sizes) + len(self.floats) + len(self.memory) + 4
        variables = offsets(sizes)
        header = np.concatenate([self.slots, head + offsets([len(a) for a in self.ints]), variables,
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


class ExpressionWriter:
    """Scalar code for expressions and densities; collects the :class:`Tables` they read."""

    def __init__(self, model):
        self.model = model
        self.tables = Tables()
        self.names = itertools.count()

    def temp(self, stem: str = "t") -> str:
        return f"{stem}_{next(self.names)}"

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
                return constant(float(value))
            if elem is None:
                raise NotCompilable("an array constant")
            return f"{self.tables.floats_of(expr.value)}[{elem}]"  # row-major, as elem counts
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
        if function.name == "neg" and isinstance(expr.args[0], Const) and np.ndim(expr.args[0].value) == 0:
            return constant(-float(expr.args[0].value))  # -1 is one number, as 0.5 is
        if function.kind == "reduction" or function.name == "inprod":
            return self._reduction(expr, row, pre)
        if function.name == "logdet" and expr.args[0].shape is not None:
            return self._log_determinant(expr.args[0], row, pre)
        if function.kind != "elementwise" or function.name not in FUNCTION_KERNELS:
            raise NotCompilable(f"the function {function.name}")
        shapes = {a.shape for a in expr.args if a.shape not in ((), None)}
        if len(shapes) > 1 or (elem is None and any(a.shape is None for a in expr.args)):
            raise NotCompilable(f"{function.name} of values of different shapes")
        args = [self.code(a, row, pre, None if a.shape == () else elem) for a in expr.args]
        return FUNCTION_KERNELS[function.name].format(*args)

    def _log_determinant(self, arg, row: str, pre: list) -> str:
        """logdet(x): x gathered into scratch memory and factored there (scalar.log_determinant)."""
        side = arg.shape[0]
        matrix, e, inner = self.tables.memory_of(side * side, 0.0), self.temp("e"), []
        value = self.code(arg, row, inner, e)
        pre += [f"for {e} in range({side * side}):"] + _indent(inner + [f"{matrix}[{e}] = {value}"], 1)
        return f"log_determinant(whole({matrix}), {side})"

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

    def component(self, group, row: str, k: str) -> str:
        """Code of component ``k`` (row-major) of a vector or matrix group's element ``row``."""
        width = int(np.prod(group.value_shape))
        return f"{self.tables.var(group.var)}[{self.tables.ints_of(group.target)}[{row} * {width} + {k}]]"

    def log_density(self, group, row: str, x: str, pre: list, own_prior: bool = False,
                    up_to_constant: bool = False) -> str:
        """Code of the log density of element ``row`` at ``x``. A truncated group only as the
        updated node's own prior (``own_prior``): the normalising constant does not depend on
        the node, so the density is the untruncated one inside the bounds. ``up_to_constant``:
        for a child whose value stays fixed, terms in that value and data alone may be left out."""
        name = _dist(group)
        truncated = group.bounds is not None and not own_prior
        if truncated and name in ("dcat", "dinterval"):
            raise NotCompilable(f"{group.name} is truncated")
        if name == "dcat":
            density = self._categorical(group, row, x, pre)
        elif name == "dinterval":
            density = self._interval(group, row, x, pre)
        else:
            params = self.params(group, row, pre)
            if truncated:  # read once, for the density and the mass
                params = [self._assigned(code, pre) for code in params]
            cheaper = up_to_constant and name in VALUE_TERMS and all(
                fixed_by_data(self.model, group.params[i]) for i in VALUE_TERMS[name])
            density = f"{'lk' if cheaper else 'lp'}_{name}({x}, {', '.join(params)})"
        if group.bounds is not None:
            lower, upper = (None if b is None else self._assigned(self.code(b, row, pre), pre)
                            for b in group.bounds)
            checks = [f"{x} >= {lower}" if lower else "", f"{x} <= {upper}" if upper else ""]
            if truncated:
                mass = self._log_mass(group, name, lower, upper, params, pre)
                density = f"({density} - {mass} if {mass} > -INF else -INF)"
            density = f"({density} if {' and '.join(c for c in checks if c)} else -INF)"
        return density

    def own_density(self, group, row: str, pre: list, up_to_constant: bool = False) -> str:
        """Code of the log density of element ``row`` at its own value, a scalar's or a
        vector's (:data:`VECTOR_DENSITIES`: its value and its vector and matrix parameters
        gathered into scratch memory)."""
        if not group.value_shape:
            return self.log_density(group, row, self.value(group, row), pre, up_to_constant=up_to_constant)
        name = group.distribution.name
        if name not in VECTOR_DENSITIES or group.bounds is not None:
            raise NotCompilable(f"{group.name} ~ {name}")
        side = group.value_shape[0]
        x, e = self.tables.memory_of(side, 0.0), self.temp("e")
        pre += [f"for {e} in range({side}):", f"    {x}[{e}] = {self.component(group, row, e)}"]
        return f"{VECTOR_DENSITIES[name]}(whole({x}), {self.kernel_arguments(group, row, pre)}, {side})"

    def gathered(self, group, row: str, pre: list) -> list[str]:
        """Code of a vector or matrix node's parameters for element ``row``: numbers as they
        are, vectors and matrices as the scratch memory they are gathered into (row-major,
        side ** rank values)."""
        side, args, e = group.value_shape[0], [], self.temp("e")
        for param, rank in zip(group.params, group.distribution.param_ranks):
            if not rank:
                args.append(self.code(param, row, pre))
                continue
            values, inner = self.tables.memory_of(side ** rank, 0.0), []
            entry = self.code(param, row, inner, e)
            pre += [f"for {e} in range({side ** rank}):"] + _indent(inner + [f"{values}[{e}] = {entry}"], 1)
            args.append(values)
        return args

    def kernel_arguments(self, group, row: str, pre: list) -> str:
        """The gathered parameters as a kernel's arguments: vectors and matrices as arrays."""
        return ", ".join(f"whole({code})" if rank else code
                         for code, rank in zip(self.gathered(group, row, pre), group.distribution.param_ranks))

    def _assigned(self, code: str, pre: list) -> str:
        """``code`` as a temporary, so that code using it twice evaluates it once."""
        if re.fullmatch(r"-?[\w.]+", code):
            return code
        name = self.temp()
        pre.append(f"{name} = {code}")
        return name

    def _log_mass(self, group, name: str, lower, upper, params, pre: list) -> str:
        """The log probability of a truncated node's interval under its parameters'
        values (:mod:`hiergraph.jit.tails`)."""
        low, high = self._interval_ends(group, name, lower, upper)
        ends = [f"tails_{name}({end}, {', '.join(params)})" if end else default
                for end, default in ((low, "BELOW"), (high, "ABOVE"))]
        mass = self.temp()
        pre.append(f"{mass} = log_mass({ends[0]}, {ends[1]})")
        return mass

    def _interval_ends(self, group, name: str, lower, upper) -> tuple:
        """Code of the ends of T(L, U) as the interval (lo, hi] the tails bound: a discrete
        node's is (ceil(L) - 1, floor(U)]; None for a missing bound."""
        if name not in TRUNCATABLE:
            raise NotCompilable(f"{group.name} ~ {name} truncated")
        discrete = group.distribution.discrete
        return (lower and (f"np.ceil({lower}) - 1.0" if discrete else lower),
                upper and (f"np.floor({upper})" if discrete else upper))

    def truncated_draw(self, group, row: str, pre: list) -> str:
        """Code of an exact draw of a truncated node given its parameters. Draws of the whole
        distribution until one falls inside (exact; a few tries where the interval holds much
        of the mass), then, if none did, the inverse of the tail on the side of the median
        the interval's lower end is on, by bisection in asinh space
        (``Distribution._truncated_quantile`` and ``_smallest_reaching``)."""
        name = _dist(group)
        params = [self._assigned(code, pre) for code in self.params(group, row, pre)]
        lower, upper = (None if b is None else self._assigned(self.code(b, row, pre), pre) for b in group.bounds)
        low, high = self._interval_ends(group, name, lower, upper)
        args = ", ".join(params)
        value, found, lo, hi, near, far, goal, mid, up, tail, top = (self.temp() for _ in range(11))
        inside = " and ".join(c for c in (lower and f"{value} >= {lower}", upper and f"{value} <= {upper}") if c)
        narrow = [f"{mid} = min(max(np.floor({mid}), {lo} + 1.0), {hi} - 1.0)"] if group.distribution.discrete else []
        pre += [f"{found} = False", f"for _ in range({TRUNCATED_TRIES}):",
                f"    {value} = rv_{name}(rng, {args})",
                f"    if {inside}:", f"        {found} = True", "        break",
                f"if not {found}:",
                f"    {lo} = {low or '-BIGGEST'}", f"    {hi} = {high or 'BIGGEST'}",
                f"    {tail} = {f'tails_{name}({lo}, {args})' if low else 'BELOW'}",
                f"    {top} = {f'tails_{name}({hi}, {args})' if high else 'ABOVE'}",
                f"    {up} = {tail}[1] < LOG_HALF",
                f"    {near}, {far} = ({tail}[1], {top}[1]) if {up} else ({top}[0], {tail}[0])",
                f"    {goal} = {near} + np.log1p(draw_open_uniform(rng) * np.expm1({far} - {near}))",
                f"    {goal} = -{goal} if {up} else {goal}",
                f"    for _ in range({BISECTIONS}):",
                f"        {mid} = np.sinh(0.5 * (np.arcsinh({lo}) + np.arcsinh({hi})))"]
        pre += _indent(narrow + [f"if {mid} <= {lo} or {mid} >= {hi}:", "    break",
                                 f"{tail} = tails_{name}({mid}, {args})",
                                 f"if (-{tail}[1] if {up} else {tail}[0]) >= {goal}:",
                                 f"    {hi} = {mid}", "else:", f"    {lo} = {mid}"], 2)
        pre += [f"    {value} = {hi}"]
        return value

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
