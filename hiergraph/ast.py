"""The abstract syntax tree of a BUGS program.

Small immutable dataclasses, one per construct of the language. Every node keeps the
:class:`~hiergraph.errors.Span` of its text so that any later stage can point at it; spans
do not take part in equality, so two programs are equal when they say the same thing.
:func:`to_source` prints a tree back as BUGS text that parses to an equal tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from .errors import Span


def _span():
    return field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Number:
    value: float
    span: Span | None = _span()


@dataclass(frozen=True)
class Range:
    """``lower:upper`` in an index or a for loop."""

    lower: "Expr"
    upper: "Expr"
    span: Span | None = _span()


@dataclass(frozen=True)
class EmptyIndex:
    """An index left empty (``x[]``, ``x[, j]``): the whole extent of that dimension."""

    span: Span | None = _span()


Index = Union["Expr", Range, EmptyIndex]


@dataclass(frozen=True)
class Variable:
    """A name, with its indices when written with brackets (``indices is None`` otherwise)."""

    name: str
    indices: tuple[Index, ...] | None = None
    span: Span | None = _span()


@dataclass(frozen=True)
class Call:
    """A function call in an expression, or the distribution on the right of ``~``."""

    name: str
    args: tuple["Expr", ...]
    span: Span | None = _span()
    name_span: Span | None = _span()


@dataclass(frozen=True)
class Unary:
    op: str  # '-' or '!'
    operand: "Expr"
    span: Span | None = _span()


@dataclass(frozen=True)
class Binary:
    op: str  # + - * / ^ %*% < <= > >= == != && ||
    left: "Expr"
    right: "Expr"
    span: Span | None = _span()


Expr = Union[Number, Variable, Call, Unary, Binary]


@dataclass(frozen=True)
class Bounds:
    """``T(lower, upper)`` (truncation) or ``I(lower, upper)`` (BUGS censoring notation)."""

    kind: str  # 'T' or 'I'
    lower: Expr | None
    upper: Expr | None
    span: Span | None = _span()


@dataclass(frozen=True)
class Stochastic:
    """``target ~ distribution(args) [T(,)]``."""

    target: Variable
    distribution: Call
    bounds: Bounds | None = None
    span: Span | None = _span()


@dataclass(frozen=True)
class Deterministic:
    """``target <- expr``, or ``link(target) <- expr`` which means ``target <- inverse_link(expr)``."""

    target: Variable
    expr: Expr
    link: str | None = None
    span: Span | None = _span()


@dataclass(frozen=True)
class ForLoop:
    index: str
    range: Range
    body: tuple["Statement", ...]
    span: Span | None = _span()


Statement = Union[Stochastic, Deterministic, ForLoop]


@dataclass(frozen=True)
class Declaration:
    """``var name[dims]``: declares a node array's shape ahead of its use."""

    name: str
    dims: tuple[Expr, ...]
    span: Span | None = _span()


@dataclass(frozen=True)
class Program:
    declarations: tuple[Declaration, ...]
    data: tuple[Statement, ...]
    model: tuple[Statement, ...]
    has_data_block: bool = False


# ---- printing back to text -------------------------------------------------------------

# Binding strength of each binary operator (higher binds tighter), as in the grammar.
_PRECEDENCE = {
    "||": 1, "&&": 2,
    "<": 4, "<=": 4, ">": 4, ">=": 4, "==": 4, "!=": 4,
    "+": 5, "-": 5, "*": 6, "/": 6, "%*%": 7, "^": 9,
}
_NOT_PRECEDENCE, _NEGATE_PRECEDENCE, _ATOM = 3, 8, 10


def _precedence(expr) -> int:
    if isinstance(expr, Binary):
        return _PRECEDENCE[expr.op]
    if isinstance(expr, Unary):
        return _NOT_PRECEDENCE if expr.op == "!" else _NEGATE_PRECEDENCE
    return _ATOM


def _operand(expr, minimum: int) -> str:
    text = expr_to_source(expr)
    return f"({text})" if _precedence(expr) < minimum else text


def _format_number(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def expr_to_source(expr) -> str:
    """BUGS text for an expression, with the parentheses its structure needs and no more."""
    if isinstance(expr, Number):
        return _format_number(expr.value)
    if isinstance(expr, Variable):
        if expr.indices is None:
            return expr.name
        return f"{expr.name}[{', '.join(_index_to_source(i) for i in expr.indices)}]"
    if isinstance(expr, Call):
        return f"{expr.name}({', '.join(expr_to_source(a) for a in expr.args)})"
    if isinstance(expr, Unary):
        return expr.op + _operand(expr.operand, _precedence(expr))
    if isinstance(expr, Binary):
        p = _precedence(expr)
        if expr.op == "^":  # right-associative; its left side must be an atom
            return f"{_operand(expr.left, _ATOM)}^{_operand(expr.right, _NEGATE_PRECEDENCE)}"
        comparison = p == _PRECEDENCE["<"]
        left = _operand(expr.left, p + 1 if comparison else p)
        right = _operand(expr.right, p + 1)
        return f"{left} {expr.op} {right}"
    raise TypeError(f"not an expression: {expr!r}")


def _index_to_source(index) -> str:
    if isinstance(index, EmptyIndex):
        return ""
    if isinstance(index, Range):
        return f"{expr_to_source(index.lower)}:{expr_to_source(index.upper)}"
    return expr_to_source(index)


def _statement_lines(statement, depth: int) -> list[str]:
    pad = "  " * depth
    if isinstance(statement, ForLoop):
        header = f"{pad}for ({statement.index} in {_index_to_source(statement.range)}) {{"
        body = [line for s in statement.body for line in _statement_lines(s, depth + 1)]
        return [header, *body, pad + "}"]
    if isinstance(statement, Stochastic):
        text = f"{expr_to_source(statement.target)} ~ {expr_to_source(statement.distribution)}"
        if statement.bounds is not None:
            b = statement.bounds
            lower = "" if b.lower is None else expr_to_source(b.lower)
            upper = "" if b.upper is None else expr_to_source(b.upper)
            text += f" {b.kind}({lower}, {upper})"
        return [pad + text]
    target = expr_to_source(statement.target)
    if statement.link is not None:
        target = f"{statement.link}({target})"
    return [f"{pad}{target} <- {expr_to_source(statement.expr)}"]


def to_source(program: Program) -> str:
    """The program as BUGS text; parsing it gives back an equal :class:`Program`."""
    lines = []
    for decl in program.declarations:
        dims = f"[{', '.join(expr_to_source(d) for d in decl.dims)}]" if decl.dims else ""
        lines.append(f"var {decl.name}{dims};")
    if program.has_data_block:
        lines.append("data {")
        lines += [line for s in program.data for line in _statement_lines(s, 1)]
        lines.append("}")
    lines.append("model {")
    lines += [line for s in program.model for line in _statement_lines(s, 1)]
    lines.append("}")
    return "\n".join(lines) + "\n"
