"""A Plan written out as the source of one Python module of scalar loops, for numba.

The numpy steps update a colour of rows for all chains at once; here one chain's rows are
updated one at a time (rows of a colour are conditionally independent, so the order does
not change the distribution). Every bound expression becomes scalar code
(:mod:`hiergraph.jit.expressions`) in which a reference ``x[i]`` reads ``V[k][I[m][row]]``:
``V`` holds one chain's value arrays, ``I`` the index arrays the binder made, ``F``
per-element constants and ``A`` one chain's sampler memory (slice widths, scratch space).
The generated functions:

* ``density_<s>(V, I, F, A, p, x)``: the log full conditional of row ``p`` of step ``s`` at
  ``x`` up to a constant (the children's terms in their own values alone left out), set in
  place, with the deterministic elements it feeds recomputed (the Markov blanket of
  :mod:`hiergraph.blanket`, element by element);
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

import numpy as np
from scipy import sparse

from ..blanket import dependence
from ..blocks import BlockStep
from ..collapsed import CollapsedSliceStep
from ..conjugacy import ConjugateStep, DirichletStep, WishartStep
from ..linearity import IDENTITY
from ..samplers import EllipticalSliceStep, FiniteStep, ForwardStep, SliceStep
from ..scale_move import ScaleGroupStep
from . import assemble, multivariate
from .expressions import ALIASES, ExpressionWriter, NotCompilable, Tables, _dist, _indent

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


class Writer(ExpressionWriter):
    """Writes the module for one Plan and collects its :class:`Tables`."""

    def __init__(self, model, plan, monitors):
        super().__init__(model)
        self.plan, self.monitors = plan, monitors
        self.functions: list[str] = []
        self.step_names: dict[int, str] = {}  # id(step) -> its function's suffix

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
            q, row = self.temp("q"), self.temp("r")
            lines += [f"for {q} in range({pointer}[{p}], {pointer}[{p} + 1]):",
                      f"    {row} = {index}[{q}]"]
            lines += _indent(self.deterministic(group, row), 1)
        return lines

    def _no_self_reads(self, groups) -> None:
        for group in groups:
            if self.model.graph.has_edge(group.name, group.name):
                raise NotCompilable(f"{group.name} reads its own elements")

    def recompute_all(self, groups) -> list[str]:
        self._no_self_reads(groups)
        lines = []
        for group in groups:
            row = self.temp("r")
            per_row = f" // {int(np.prod(group.value_shape))}" if group.value_shape else ""
            lines += [f"for {row} in range({self.tables.ints_of(group.target)}.shape[0]{per_row}):"]
            lines += _indent(self.deterministic(group, row), 1)
        return lines

    def deterministic(self, group, row: str) -> list[str]:
        """Statements computing element ``row`` of a deterministic group: one value, or each
        component of a vector or matrix value."""
        pre: list = []
        if not group.value_shape:
            value = self.code(group.expr, row, pre)
            return pre + [f"{self.value(group, row)} = {value}"]
        width = int(np.prod(group.value_shape))
        at = self.component(group, row, "{}")
        expr = group.expr
        function = getattr(expr, "function", None)
        if function is not None and function.kind == "array":
            if function.name == "%*%":
                return self._matrix_product(expr.args, width, at, row)
            if function.name == "t" and len(group.value_shape) == 2:
                return self._transpose(expr.args[0], group.value_shape, at, row)
            if function.name == "inverse":
                return self._inverse(expr.args[0], group.value_shape, at, row)
            if function.name not in ("sort", "rank") or len(group.value_shape) != 1:
                raise NotCompilable(f"the function {function.name}")
            return self._sort(expr.args[0], width, at, row) if function.name == "sort" else \
                self._rank(expr.args[0], width, at, row)
        e = self.temp("e")
        value = self.code(expr, row, pre, e)
        return [f"for {e} in range({width}):"] + _indent(pre + [f"{at.format(e)} = {value}"], 1)

    def _matrix_product(self, args, width: int, at: str, row: str) -> list[str]:
        """a %*% b with a vector or matrix result: component (i, c) of the value (row-major)
        sums a[i, j] b[j, c] over j; a vector on the left is one row, on the right one column."""
        left, right = (arg.shape for arg in args)
        if left is None or right is None:
            raise NotCompilable("%*% of runs of different lengths")
        inner, columns = left[-1], (right[1] if len(right) == 2 else 1)
        e, j, total, pre = self.temp("e"), self.temp("j"), self.temp(), []
        i, c = f"({e} // {columns})", f"({e} % {columns})"
        a = self.code(args[0], row, pre, f"{i} * {inner} + {j}" if len(left) == 2 else j)
        b = self.code(args[1], row, pre, f"{j} * {columns} + {c}" if len(right) == 2 else j)
        return ([f"for {e} in range({width}):", f"    {total} = 0.0", f"    for {j} in range({inner}):"]
                + _indent(pre + [f"{total} += {a} * {b}"], 2) + [f"    {at.format(e)} = {total}"])

    def _transpose(self, arg, shape, at: str, row: str) -> list[str]:
        """t(x): component (i, j) of the value is x[j, i]."""
        rows, columns = shape
        e, pre = self.temp("e"), []
        value = self.code(arg, row, pre, f"({e} % {columns}) * {rows} + {e} // {columns}")
        return [f"for {e} in range({rows * columns}):"] + _indent(pre + [f"{at.format(e)} = {value}"], 1)

    def _inverse(self, arg, shape, at: str, row: str) -> list[str]:
        """inverse(x): x gathered into scratch memory and inverted there (scalar.invert)."""
        side, width = shape[0], shape[0] * shape[1]
        matrix, inverse = self.tables.memory_of(width, 0.0), self.tables.memory_of(width, 0.0)
        e, pre = self.temp("e"), []
        value = self.code(arg, row, pre, e)
        return ([f"for {e} in range({width}):"] + _indent(pre + [f"{matrix}[{e}] = {value}"], 1)
                + [f"invert(whole({matrix}), whole({inverse}), {side})",
                   f"for {e} in range({width}):", f"    {at.format(e)} = {inverse}[{e}]"])

    def _sort(self, arg, width: int, at: str, row: str) -> list[str]:
        """sort(x): x's components copied into the value's, then sorted there by insertion
        (vectors in models are short)."""
        e, k, held, pre = self.temp("e"), self.temp("e"), self.temp(), []
        value = self.code(arg, row, pre, e)
        return ([f"for {e} in range({width}):"] + _indent(pre + [f"{at.format(e)} = {value}"], 1)
                + [f"for {e} in range(1, {width}):", f"    {held} = {at.format(e)}", f"    {k} = {e}",
                   f"    while {k} > 0 and {at.format(f'{k} - 1')} > {held}:",
                   f"        {at.format(k)} = {at.format(f'{k} - 1')}", f"        {k} -= 1",
                   f"    {at.format(k)} = {held}"])

    def _rank(self, arg, width: int, at: str, row: str) -> list[str]:
        """rank(x): one plus the number of components below each, ties counted in order of
        position (functions._rank's stable sort)."""
        e, k, mine, count, pre_e, pre_k = self.temp("e"), self.temp("e"), self.temp(), self.temp(), [], []
        value, other = self.code(arg, row, pre_e, e), self.code(arg, row, pre_k, k)
        inner = pre_k + [f"if {other} < {mine} or ({other} == {mine} and {k} < {e}):", f"    {count} += 1.0"]
        return ([f"for {e} in range({width}):"]
                + _indent(pre_e + [f"{mine} = {value}", f"{count} = 1.0", f"for {k} in range({width}):"]
                          + _indent(inner, 1) + [f"{at.format(e)} = {count}"], 1))

    def link_rows(self, link, rows: int) -> tuple[str, str]:
        matrix = sparse.coo_matrix((np.ones(len(link.child_rows)), (link.positions, link.child_rows)),
                                   shape=(rows, link.group.size))
        return self.csr(matrix)

    # -- steps ---------------------------------------------------------------------------------

    def function(self, header: str, body: list[str]) -> None:
        self.functions.append((header, body))

    def density(self, step, s: str, layers=None) -> None:
        """``density_<s>``: the log full conditional of the step's row ``p`` at ``x``; for a
        vector node, ``x`` holds its components and the density is the likelihood alone (the
        elliptical slice move draws from the prior)."""
        b = step.blanket
        target = b.target
        row, e = self.temp("r"), self.temp("e")
        body = [f"{row} = {self.tables.ints_of(b.rows)}[p]"]
        if target.value_shape:
            body += [f"for {e} in range({int(np.prod(target.value_shape))}):",
                     f"    {self.component(target, row, e)} = x[{e}]"] + self.recompute(b, "p") + ["total = 0.0"]
        else:
            pre: list = []
            prior = self.log_density(target, row, "x", pre, own_prior=True)
            body += [f"{self.value(target, row)} = x"] + self.recompute(b, "p") + pre + [f"total = {prior}"]
        for link in b.children:
            pointer, index = self.link_rows(link, len(b.rows))
            q, child = self.temp("q"), self.temp("r")
            inner: list = []
            density = self.own_density(link.group, child, inner, up_to_constant=True)
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

    def invoke(self, step) -> list[str]:
        """The statements that run a step: a GLM block's followers are called here, by its
        caller, when the block's step says they run, rather than from inside the block's
        function, where numba would optimise their machine code once more."""
        call = f"step_{self.step_name(step)}(V, I, F, A, rng, adapting)"
        followers = getattr(step, "followers", [])
        if not followers:
            return [call]
        return [f"if {call}:"] + _indent([line for f in followers for line in self.invoke(f)], 1)

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
        elif type(step) is WishartStep:
            multivariate.wishart(self, step, s)
        elif type(step) is DirichletStep:
            multivariate.dirichlet(self, step, s)
        elif type(step) is EllipticalSliceStep:
            self.density(step, s)
            multivariate.elliptical(self, step, s)
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
                      f"    slide_{s}(V, I, F, A, rng, np.bool_(False), p)",
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

    def forward(self, step: ForwardStep, s: str) -> None:
        group = step.group
        if group.value_shape:
            return multivariate.forward(self, step, s)
        name = _dist(group)
        row, pre = self.temp("r"), []
        if group.bounds is not None:
            draw = self.truncated_draw(group, row, pre)
        elif name == "dcat":
            draw = self._categorical_draw(group, row, pre)
        else:
            draw = f"rv_{name}(rng, {', '.join(self.params(group, row, pre))})"
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
            density = self.own_density(group, row, pre)
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

    def module(self) -> None:
        """Every function of the run, the steps' and ``deviance``, ``record`` and ``sweeps``."""
        calls = [line for step in self.plan.steps + self.plan.forward for line in self.invoke(step)]
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


def write(model, plan, monitors) -> tuple[str, Tables]:
    """The module's source and the arrays it reads; :class:`NotCompilable` if it cannot be written."""
    writer = Writer(model, plan, monitors)
    writer.module()
    writer.monitor_tables()  # may add variables: before the tables' places are fixed
    return assemble.source(writer.functions, writer.tables), writer.tables
