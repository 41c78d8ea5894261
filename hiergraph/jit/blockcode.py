"""Block steps (:mod:`hiergraph.blocks`) written out for the numba backend.

Both kinds share the design: the block's values are set to 0 and then each colour of
coordinates to 1, the stacked linear predictor read each time (JAGS's trick), once where the
data fix it. The precision is kept in envelope storage (:mod:`hiergraph.jit.envelope`) and
factored in place by the Cholesky kernel of :mod:`hiergraph.jit.scalar`.

* The conjugate normal block draws from the exact normal full conditional.
* The GLM block finds the conditional mode by Fisher scoring with backtracking from the last
  mode, proposes from the normal (mixed with a little multivariate t) there, and accepts
  each independent part by its own Metropolis-Hastings ratio; then, unless every part
  accepted often in the burn-in, its members are also sliced one at a time.

Generated functions, for block step ``s``: ``place_<s>`` sets the block's values from one
of the buffers, ``eta_<s>`` stacks the predictor, ``at_<s>`` evaluates the log conditional,
its gradient and Fisher information at a point (and the Newton step), ``target_<s>`` and
``proposal_<s>`` give per-part log densities.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from ..blocks import DECIDE_EARLY_AFTER, FOLLOW_BELOW, HEAVY, TAIL_DF, BlockStep
from .envelope import envelope
from .expressions import NotCompilable, _indent

# (child distribution, family) -> the scalar kernel of its terms; its size parameter
FAMILY_KERNELS = {"normal": "glm_normal", "logit": "glm_logit", "probit": "glm_probit", "cloglog": "glm_cloglog",
                  "log": "glm_log"}
SIZED = ("dnorm", "dbin")  # children whose second parameter is the size (precision, trials)
NEWTON_LIMIT, TOLERANCE, HALVINGS = 50, 1e-10, 30  # as blocks._Conditional.mode


class BlockCode:
    """Writes one block step's functions through a :class:`hiergraph.jit.codegen.Writer`."""

    def __init__(self, writer, step: BlockStep, s: str):
        if not step.exact and any(link.width != 1 for link in step.links):
            raise NotCompilable(f"the {step.name} sampler of {step.group.name} (dmnorm children)")
        for link in step.links:
            if link.predictor.family.name not in FAMILY_KERNELS:
                raise NotCompilable(f"the {step.name} sampler of {step.group.name} "
                                    f"({link.predictor.family.name} link)")
        self.writer, self.tables, self.step, self.s = writer, writer.tables, step, s
        pattern = sparse.csr_matrix(step.pattern)
        # the prior precision: one entry per scalar member, a width x width block per dmnorm node
        prior_row, prior_column = (np.concatenate(e) for e in zip(*(m.prior_entries for m in step.members)))
        prior_blocks = sparse.coo_matrix((np.ones(len(prior_row)), (prior_row, prior_column)), shape=(step.size,) * 2)
        self.layout = layout = envelope(sparse.vstack([pattern, prior_blocks]))
        position = layout.position
        # Each row's entries in envelope order, so that the pairs of a row's entries in the
        # lower triangle are each entry with those before it.
        rows = np.repeat(np.arange(pattern.shape[0]), np.diff(pattern.indptr))
        pattern.indices = pattern.indices[np.lexsort((position[pattern.indices], rows))]
        self.pattern = pattern
        d, n, memory = step.size, pattern.shape[0], self.tables.memory_of
        self.current, self.probe, self.drawn = memory(d, 0.0), memory(d, 0.0), memory(d, 0.0)
        self.eta, self.intercept, self.y, self.size = (memory(n, 0.0) for _ in range(4))
        self.design, self.known = memory(pattern.nnz, 0.0), memory(1, 0.0)
        self.prior_mean, self.prior_value = memory(d, 0.0), memory(len(prior_row), 0.0)
        self.prior_row, self.prior_column = self.tables.ints_of(prior_row), self.tables.ints_of(prior_column)
        # each prior entry's place in the lower envelope, or -1 above the diagonal
        above, below = position[prior_row], position[prior_column]
        self.prior_slot = self.tables.ints_of(np.where(
            below <= above, layout.start[above] + below - layout.first[above], -1))
        self.precision = memory(layout.size, 0.0)
        self.first, self.start = self.tables.ints_of(layout.first), self.tables.ints_of(layout.start)
        self.order = self.tables.ints_of(layout.order)
        # dmnorm children: each element's precision matrix
        self.omega = memory(sum(len(link.child_rows) * link.width ** 2 for link in step.links if link.width > 1), 0.0)
        self.pointer, self.index = self.tables.ints_of(pattern.indptr), self.tables.ints_of(pattern.indices)
        # per entry: its coordinate's position, and where that position's envelope row starts
        entry_position = position[pattern.indices]
        self.entry_position = self.tables.ints_of(entry_position)
        self.entry_row = self.tables.ints_of(layout.start[entry_position] - layout.first[entry_position])

    # -- shared: the values, the predictor, the design, the data, the prior ------------------

    def _per_member(self, kind: str, params: str, member_body) -> list[str]:
        """One function ``<kind>_<s>_<i>(params)`` per member, of ``member_body(i, m, offset)``
        (``offset`` the code of where the member starts among the block's coordinates, read
        from a table): members alike (the scalar fixed effects, or the same group in a block
        and its follower) write the same code and so share one compiled function
        (:mod:`hiergraph.jit.assemble`). The calls, one per member."""
        calls = []
        for i, m in enumerate(self.step.members):
            name = f"{kind}_{self.s}_{i}"
            offset = f"{self.tables.ints_of([m.offset])}[0]"
            self.writer.function(f"def {name}({params}):", member_body(i, m, offset))
            calls.append(f"{name}({params})")
        return calls

    def place(self) -> None:
        """``place_<s>(source)``: the block's values from current (0), probe (1) or drawn (2)."""
        w = self.writer

        def put(i, m, offset):
            rows, row, k = self.tables.ints_of(m.rows), w.temp("r"), w.temp("e")
            at = f"{offset} + q * {m.width} + {k}"
            return [f"for q in range({rows}.shape[0]):", f"    {row} = {rows}[q]",
                    f"    for {k} in range({m.width}):",
                    f"        value = {self.current}[{at}] if source == 0 else "
                    f"({self.probe}[{at}] if source == 1 else {self.drawn}[{at}])",
                    f"        {w.component(m.group, row, k)} = value"]

        lines = self._per_member("put", "V, I, F, A, source", put)
        for group, rows, _ in self.step.deterministic:
            if rows is None:
                lines += w.recompute_all([group])
                continue
            table, row = self.tables.ints_of(rows), w.temp("r")
            lines += [f"for q in range({table}.shape[0]):", f"    {row} = {table}[q]"]
            lines += _indent(w.deterministic(group, row), 1)
        w.function(f"def place_{self.s}(V, I, F, A, source):", lines)

    def predictor(self) -> None:
        w, lines = self.writer, []
        for link in self.step.links:
            rows, child, k, pre = self.tables.ints_of(link.child_rows), w.temp("r"), w.temp("e"), []
            found = link.predictor
            if found.expr is None:  # component k of a dmnorm child's mean
                value = w.code(link.group.params[0], child, pre, k if link.width > 1 else None)
            else:
                owner = child if found.rows is None else f"{self.tables.ints_of(found.rows)}[{child}]"
                value = w.code(found.expr, owner, pre)
            lines += [f"for q in range({rows}.shape[0]):", f"    {child} = {rows}[q]",
                      f"    for {k} in range({link.width}):"]
            lines += _indent(pre + [f"{self.eta}[{link.offset} + q * {link.width} + {k}] = {value}"], 2)
        w.function(f"def eta_{self.s}(V, I, F, A):", lines)

    def setup(self) -> list[str]:
        """Statements reading the current values, the design and intercept, the children's
        values and sizes, and the prior means and precisions into memory."""
        w, s, step = self.writer, self.s, self.step
        self.place()
        self.predictor()
        colour_of = np.zeros(step.size, np.int64)
        for k, colour in enumerate(step.colours):
            colour_of[colour] = k
        colours = self.tables.ints_of(colour_of)

        def get(i, m, offset):
            rows, k = self.tables.ints_of(m.rows), w.temp("e")
            return [f"for q in range({rows}.shape[0]):", f"    for {k} in range({m.width}):",
                    f"        {self.current}[{offset} + q * {m.width} + {k}] = "
                    f"{w.component(m.group, rows + '[q]', k)}"]

        body = [f"d = {self.current}.shape[0]", f"n = {self.eta}.shape[0]"]
        body += self._per_member("get", "V, I, F, A", get)
        probing = ["for j in range(d):", f"    {self.probe}[j] = 0.0",
                   f"place_{s}(V, I, F, A, np.int64(1))", f"eta_{s}(V, I, F, A)",
                   "for r in range(n):", f"    {self.intercept}[r] = {self.eta}[r]",
                   f"for colour in range({len(step.colours)}):",
                   "    for j in range(d):",
                   f"        {self.probe}[j] = 1.0 if {colours}[j] == colour else 0.0",
                   f"    place_{s}(V, I, F, A, np.int64(1))", f"    eta_{s}(V, I, F, A)",
                   "    for r in range(n):",
                   f"        for q in range({self.pointer}[r], {self.pointer}[r + 1]):",
                   f"            if {colours}[{self.index}[q]] == colour:",
                   f"                {self.design}[q] = {self.eta}[r] - {self.intercept}[r]",
                   f"place_{s}(V, I, F, A, np.int64(0))"]
        from_current = [f"eta_{s}(V, I, F, A)",
                        "for r in range(n):",
                        f"    t = {self.eta}[r]",
                        f"    for q in range({self.pointer}[r], {self.pointer}[r + 1]):",
                        f"        t -= {self.design}[q] * {self.current}[{self.index}[q]]",
                        f"    {self.intercept}[r] = t"]
        if step.fixed_design:
            body += [f"if {self.known}[0] == 0.0:"] + _indent(probing + [f"{self.known}[0] = 1.0"], 1)
            body += ["else:"] + _indent(from_current, 1)
        else:
            body += probing
        omega = 0
        for link in step.links:
            rows, child, width = self.tables.ints_of(link.child_rows), w.temp("r"), link.width
            body += [f"for q in range({rows}.shape[0]):", f"    {child} = {rows}[q]"]
            if width == 1:
                pre = []
                size = w.code(link.group.params[1], child, pre) if link.group.distribution.name in SIZED else "1.0"
                body += _indent(pre + [f"{self.y}[{link.offset} + q] = {w.value(link.group, child)}",
                                       f"{self.size}[{link.offset} + q] = {size}"], 1)
                continue
            k, pre = w.temp("e"), []
            entry = w.code(link.group.params[1], child, pre, k)
            body += [f"    for {k} in range({width}):",
                     f"        {self.y}[{link.offset} + q * {width} + {k}] = {w.component(link.group, child, k)}",
                     f"    for {k} in range({width * width}):"]
            body += _indent(pre + [f"{self.omega}[{omega} + q * {width * width} + {k}] = {entry}"], 2)
            omega += len(link.child_rows) * width * width
        entries = np.cumsum([0] + [len(m.rows) * m.width ** 2 for m in step.members])

        def prior(i, m, offset):
            rows, row, k, width = self.tables.ints_of(m.rows), w.temp("r"), w.temp("e"), m.width
            first_entry = f"{self.tables.ints_of([entries[i]])}[0]"
            lines = [f"for q in range({rows}.shape[0]):", f"    {row} = {rows}[q]"]
            component, pre_mean, pre_spread = (k if width > 1 else None), [], []
            mean = w.code(m.group.params[0], row, pre_mean, component)
            spread = w.code(m.group.params[1], row, pre_spread, component)
            lines += [f"    for {k} in range({width}):"]
            lines += _indent(pre_mean + [f"{self.prior_mean}[{offset} + q * {width} + {k}] = {mean}"], 2)
            lines += [f"    for {k} in range({width * width}):"]
            at = f"{first_entry} + q * {width * width} + {k}"
            return lines + _indent(pre_spread + [f"{self.prior_value}[{at}] = {spread}"], 2)

        return body + self._per_member("prior", "V, I, F, A", prior)

    def prior(self, beta: str | None, gradient: str | None = None, parts: str | None = None) -> list[str]:
        """Statements adding the members' prior precision into the lower envelope and, at
        ``beta``, the prior's log density into ``total`` (or, per independent part, into
        ``out``) and its gradient into ``gradient``; without ``beta``, its precision times its
        mean into ``gradient`` (the conjugate block's linear term)."""
        lines = [f"for e in range({self.prior_value}.shape[0]):",
                 f"    j = {self.prior_row}[e]", f"    k = {self.prior_column}[e]",
                 f"    v = {self.prior_value}[e]"]
        if beta is None:
            return lines + [f"    {gradient}[j] += v * {self.prior_mean}[k]",
                            f"    if {self.prior_slot}[e] >= 0:", f"        {self.precision}[{self.prior_slot}[e]] += v"]
        lines += [f"    term = 0.5 * ({beta}[j] - {self.prior_mean}[j]) * v * ({beta}[k] - {self.prior_mean}[k])"]
        if parts is not None:
            return lines + [f"    out[{parts}[j]] -= term"]
        return lines + ["    total -= term", f"    {gradient}[j] -= v * ({beta}[k] - {self.prior_mean}[k])",
                        f"    if {self.prior_slot}[e] >= 0:", f"        {self.precision}[{self.prior_slot}[e]] += v"]

    # -- the conjugate normal block ------------------------------------------------------------

    def normal(self) -> None:
        """One exact draw from N(H^-1 b, H^-1): ``H = diag(prior precision) + X' T X``, ``b =
        prior precision x prior mean + X' T (y - a)``."""
        memory = self.tables.memory_of
        b, z = memory(self.step.size, 0.0), memory(self.step.size, 0.0)
        body = self.setup() + [f"for j in range({self.precision}.shape[0]):", f"    {self.precision}[j] = 0.0",
                               "for j in range(d):", f"    {b}[j] = 0.0"] + self.prior(None, b)
        omega = 0
        for link in self.step.links:
            first, last = link.offset, link.offset + len(link.child_rows) * link.width
            if link.width == 1:
                body += [f"for r in range({first}, {last}):", f"    t = {self.size}[r]",
                         f"    residual = {self.y}[r] - {self.intercept}[r]"]
                body += _indent(self._information("t", "t * residual", b), 1)
            else:
                body += self._vector_information(link, omega, b)
                omega += len(link.child_rows) * link.width ** 2
        body += ["for j in range(d):", f"    {z}[j] = rv_dnorm(rng, 0.0, 1.0)",
                 f"if gaussian_draw(whole({self.precision}), {self._layout()}, whole({b}), whole({z}), "
                 f"whole({self.drawn})):",
                 f"    place_{self.s}(V, I, F, A, np.int64(2))"]
        self.writer.function(f"def step_{self.s}(V, I, F, A, rng, adapting):", body)

    def _layout(self) -> str:
        """The envelope's arguments to the linear algebra kernels."""
        return f"whole({self.first}), whole({self.start}), whole({self.order})"

    def _vector_information(self, link, omega: int, gradient: str) -> list[str]:
        """A dmnorm child's terms, element by element: for components ``a, b`` (rows ``ra,
        rb``) and precision ``Omega``, ``X_ra' Omega_ab X_rb`` into the precision's lower envelope
        and ``X_ra' Omega_ab (y - a)_rb`` into ``gradient``. Every row of an element reads
        the same coordinates (:func:`hiergraph.blocks._assemble`), so the envelope holds them."""
        p, x, at, width = self.pointer, self.design, self.entry_position, link.width
        return [f"for c in range({len(link.child_rows)}):",
                f"    for u in range({width * width}):",
                f"        t = {self.omega}[{omega} + c * {width * width} + u]",
                f"        ra = {link.offset} + c * {width} + u // {width}",
                f"        rb = {link.offset} + c * {width} + u % {width}",
                f"        residual = {self.y}[rb] - {self.intercept}[rb]",
                f"        for e in range({p}[ra], {p}[ra + 1]):",
                f"            {gradient}[{self.index}[e]] += {x}[e] * t * residual",
                f"            row = {self.entry_row}[e]",
                f"            weighted = t * {x}[e]",
                f"            for f in range({p}[rb], {p}[rb + 1]):",
                f"                if {at}[f] <= {at}[e]:",
                f"                    {self.precision}[row + {at}[f]] += weighted * {x}[f]"]

    def _information(self, weight: str, score: str, gradient: str) -> list[str]:
        """Row ``r``'s terms: ``X_r' weight X_r`` into the precision's lower envelope,
        ``X_r' score`` into ``gradient``."""
        p, x = self.pointer, self.design
        return [f"for e in range({p}[r], {p}[r + 1]):",
                f"    {gradient}[{self.index}[e]] += {x}[e] * {score}",
                f"    row = {self.entry_row}[e]",
                f"    weighted = {weight} * {x}[e]",
                f"    for f in range({p}[r], e + 1):",
                f"        {self.precision}[row + {self.entry_position}[f]] += weighted * {x}[f]"]

    # -- the GLM block -----------------------------------------------------------------------------

    def _rows(self) -> list[tuple]:
        """Per link: its range of stacked rows and its family's kernel."""
        return [(link.offset, link.offset + len(link.child_rows), FAMILY_KERNELS[link.predictor.family.name])
                for link in self.step.links]

    def glm(self) -> None:
        w, s, step, memory = self.writer, self.s, self.step, self.tables.memory_of
        d, parts = step.size, step.parts
        factor, gradient, newton = memory(self.layout.size, 0.0), memory(d, 0.0), memory(d, 0.0)
        at_eta = memory(self.pattern.shape[0], 0.0)
        of_coordinate = self.tables.ints_of(parts.of_coordinate)
        of_row = self.tables.ints_of(parts.of_row)
        sizes = self.tables.floats_of(parts.sizes.astype(float))
        dims = "d = {0}.shape[0]\nn = {1}.shape[0]".format(self.current, self.eta).split("\n")

        def predictor_at(beta: str) -> list[str]:
            return ["for r in range(n):", f"    t = {self.intercept}[r]",
                    f"    for q in range({self.pointer}[r], {self.pointer}[r + 1]):",
                    f"        t += {self.design}[q] * {beta}[{self.index}[q]]",
                    f"    {at_eta}[r] = t"]

        body = dims + predictor_at("beta") + [
            "total = 0.0",
            f"for j in range({self.precision}.shape[0]):", f"    {self.precision}[j] = 0.0",
            "for j in range(d):", f"    {gradient}[j] = 0.0"] + self.prior("beta", gradient)
        for first, last, kernel in self._rows():
            body += [f"for r in range({first}, {last}):",
                     f"    loglik, weight, score = {kernel}({at_eta}[r], {self.y}[r], {self.size}[r])",
                     "    total += loglik"]
            body += _indent(self._information("weight", "score", gradient), 1)
        body += ["if total != total:", "    total = -INF",
                 f"for j in range({factor}.shape[0]):", f"    {factor}[j] = {self.precision}[j]",
                 f"usable = total > -INF and cholesky(whole({factor}), whole({self.first}), whole({self.start}))",
                 "if usable:",
                 f"    forward_solve(whole({factor}), {self._layout()}, whole({gradient}), whole({newton}))",
                 f"    backward_solve(whole({factor}), {self._layout()}, whole({newton}), whole({newton}))",
                 "return total, usable"]
        w.function(f"def at_{s}(V, I, F, A, beta):", body)

        body = dims + ["for k in range(out.shape[0]):", "    out[k] = 0.0"]
        body += self.prior("beta", parts=of_coordinate) + predictor_at("beta")
        for first, last, kernel in self._rows():
            body += [f"for r in range({first}, {last}):",
                     f"    out[{of_row}[r]] += {kernel}({at_eta}[r], {self.y}[r], {self.size}[r])[0]"]
        body += ["total = 0.0", "for k in range(out.shape[0]):",
                 "    if out[k] != out[k]:", "        out[k] = -INF", "    total += out[k]", "return total"]
        w.function(f"def target_{s}(V, I, F, A, beta, out):", body)

        h, order = self.precision, self.order
        body = dims + ["for k in range(out.shape[0]):", "    out[k] = 0.0",
                       "for i in range(d):",  # (x - centre)' H (x - centre) from H's lower envelope
                       f"    row = {self.start}[i] - {self.first}[i]",
                       f"    j = {order}[i]",
                       "    delta = x[j] - centre[j]",
                       f"    t = 0.5 * {h}[row + i] * delta",
                       f"    for k in range({self.first}[i], i):",
                       f"        t += {h}[row + k] * (x[{order}[k]] - centre[{order}[k]])",
                       f"    out[{of_coordinate}[j]] += 2.0 * delta * t",
                       f"nu = {float(TAIL_DF)}",
                       "for k in range(out.shape[0]):",
                       "    distance = out[k]",
                       f"    size = {sizes}[k]",
                       "    t = (math.lgamma((nu + size) / 2) - math.lgamma(nu / 2) - size / 2 * math.log(nu / 2)"
                       " - (nu + size) / 2 * np.log1p(distance / nu))",
                       f"    out[k] = np.logaddexp({np.log1p(-HEAVY)!r} - 0.5 * distance, {np.log(HEAVY)!r} + t)"]
        w.function(f"def proposal_{s}(V, I, F, A, x, centre, out):", body)

        mode, beta, trial, proposed = (memory(d, np.nan if k == 0 else 0.0) for k in range(4))
        z, stretch = memory(d, 0.0), memory(parts.count, 1.0)
        here, there, q_here, q_there = (memory(parts.count, 0.0) for _ in range(4))
        accepted, counters = memory(parts.count, 0.0), memory(2, 0.0)  # counters: updates, follow?
        body = dims + [
            "for j in range(d):",
            f"    {beta}[j] = {mode}[j] if np.isfinite({mode}[j]) else {self.current}[j]",
            f"total, usable = at_{s}(V, I, F, A, whole({beta}))",
            f"for _ in range({NEWTON_LIMIT}):",
            "    decrement = 0.0",
            "    for j in range(d):",
            f"        decrement += {gradient}[j] * {newton}[j]",
            f"    if not usable or not decrement > {TOLERANCE!r}:",
            "        break",
            "    scale = 1.0",
            "    better = False",
            f"    for _ in range({HALVINGS}):",
            "        for j in range(d):",
            f"            {trial}[j] = {beta}[j] + scale * {newton}[j]",
            f"        if target_{s}(V, I, F, A, whole({trial}), whole({here})) >= total + 1e-4 * scale * decrement:",
            "            better = True",
            "            break",
            "        scale /= 2",
            "    if not better:",
            "        break",
            "    for j in range(d):",
            f"        {beta}[j] = {trial}[j]",
            f"    total, usable = at_{s}(V, I, F, A, whole({beta}))",
            "for j in range(d):",
            f"    {mode}[j] = {beta}[j]",
            "for j in range(d):",
            f"    {z}[j] = rv_dnorm(rng, 0.0, 1.0)",
            "moved = False",
            "if usable:",
            f"    backward_solve(whole({factor}), {self._layout()}, whole({z}), whole({z}))",
            f"    for k in range({stretch}.shape[0]):",
            f"        {stretch}[k] = 1.0",
            f"        if draw_uniform(rng) < {HEAVY!r}:",
            f"            {stretch}[k] = math.sqrt({float(TAIL_DF)} / rv_dchisqr(rng, {float(TAIL_DF)}))",
            "    for j in range(d):",
            f"        {proposed}[j] = {mode}[j] + {z}[j] * {stretch}[{of_coordinate}[j]]",
            f"    target_{s}(V, I, F, A, whole({proposed}), whole({there}))",
            f"    target_{s}(V, I, F, A, whole({self.current}), whole({here}))",
            f"    proposal_{s}(V, I, F, A, whole({self.current}), whole({mode}), whole({q_here}))",
            f"    proposal_{s}(V, I, F, A, whole({proposed}), whole({mode}), whole({q_there}))",
            f"    for k in range({here}.shape[0]):",
            f"        ratio = {there}[k] - {here}[k] + {q_here}[k] - {q_there}[k]",
            f"        {stretch}[k] = 1.0 if np.log(draw_uniform(rng)) < ratio else 0.0",
            "    for j in range(d):",
            f"        {self.drawn}[j] = {proposed}[j] if {stretch}[{of_coordinate}[j]] == 1.0 else {self.current}[j]",
            "    moved = True",
            "if adapting:",
            f"    {counters}[0] += 1",
            f"    for k in range({accepted}.shape[0]):",
            f"        {accepted}[k] += {stretch}[k] if usable else 0.0",
            f"    if {counters}[1] == 0.0 and {counters}[0] == {DECIDE_EARLY_AFTER}:",
            f"        {counters}[1] = 0.0 if smallest(whole({accepted})) / {counters}[0] < {FOLLOW_BELOW!r} else 2.0",
            f"elif {counters}[1] == 0.0 and {counters}[0] > 0:",
            f"    {counters}[1] = 1.0 if smallest(whole({accepted})) / {counters}[0] < {FOLLOW_BELOW!r} else 2.0",
            f"return moved, {counters}[1] != 2.0"]
        # the move itself reads the model only through the functions above, so blocks of
        # the same links share it (:mod:`hiergraph.jit.assemble`)
        w.function(f"def move_{s}(V, I, F, A, rng, adapting):", body)
        w.function(f"def step_{s}(V, I, F, A, rng, adapting):", self.setup() + [
            f"moved, follow = move_{s}(V, I, F, A, rng, adapting)",
            "if moved:",
            f"    place_{s}(V, I, F, A, np.int64(2))",
            "return follow"])  # whether the followers run (Writer.invoke)


def write(writer, step: BlockStep, s: str) -> None:
    code = BlockCode(writer, step, s)
    code.normal() if step.exact else code.glm()
