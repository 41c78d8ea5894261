"""Model text to AST: ``grammars/bugs.lark`` read by lark, then one small method per rule.

Syntax errors become :class:`~hiergraph.errors.SpecSyntaxError` saying what was expected at
the place lark stopped, in the language's own words rather than token names.
"""

from __future__ import annotations

import math
import os
from functools import cache
from pathlib import Path

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError

from . import ast
from .errors import SpecSyntaxError, Source, Span, UsageError
from .grammar_files import grammar_text

# How each terminal is described to the user in "expected ..." messages.
_TERMINAL_WORDS = {
    "NAME": "a name", "NUMBER": "a number", "ARROW": "'<-'", "TILDE": "'~'",
    "LPAR": "'('", "RPAR": "')'", "LSQB": "'['", "RSQB": "']'", "LBRACE": "'{'",
    "RBRACE": "'}'", "COMMA": "','", "COLON": "':'", "SEMICOLON": "';'",
    "COMPARE": "a comparison", "ADD_OP": "'+' or '-'", "MUL_OP": "'*' or '/'",
    "POW_OP": "'^'", "MINUS": "'-'", "BANG": "'!'", "TRUNCATE": "T( or I(",
    "FOR": "'for'", "IN": "'in'", "MODEL": "'model'", "DATA": "'data'", "VAR": "'var'",
    "$END": "the end of the file", "__ANON_0": "'||'", "__ANON_1": "'&&'", "__ANON_2": "'%*%'",
}
_ORDER = ["NAME", "NUMBER", "TILDE", "ARROW", "LPAR", "RPAR", "LSQB", "RSQB",
          "COMMA", "COLON", "RBRACE", "LBRACE", "SEMICOLON"]


@cache
def _lark() -> Lark:
    """The parser; ``cache=True`` keeps lark's analysis of the grammar in the temporary
    folder, checked against the grammar's hash, which saves 35 ms of every run's start."""
    return Lark(grammar_text("bugs.lark"), parser="lalr", propagate_positions=True,
                maybe_placeholders=False, cache=True)


def _describe_expected(expected) -> str:
    names = sorted(set(expected), key=lambda t: (_ORDER.index(t) if t in _ORDER else 99, t))
    words = []
    for name in names:
        word = _TERMINAL_WORDS.get(name, name.lower())
        if word not in words:
            words.append(word)
    if len(words) > 6:
        words = words[:6] + ["..."]
    return ", ".join(words[:-1]) + (" or " if len(words) > 1 else "") + words[-1]


def _syntax_error(exc: UnexpectedInput, source: Source) -> SpecSyntaxError:
    line, column = getattr(exc, "line", None), getattr(exc, "column", None)
    if isinstance(exc, UnexpectedEOF) or line in (None, -1):
        lines = source.text.split("\n")
        line, column = len(lines), len(lines[-1]) + 1
        return SpecSyntaxError("the model ends too early: a '}' or ')' is missing",
                               Span(source, line, column))
    if isinstance(exc, UnexpectedCharacters):
        char = source.text[exc.pos_in_stream] if exc.pos_in_stream < len(source.text) else ""
        message = f"unexpected character {char!r}"
    else:
        token = exc.token
        expected = _describe_expected(exc.expected)
        if token.type == "$END":
            lines = source.text.split("\n")
            line, column = len(lines), len(lines[-1]) + 1
            message = f"the model ends too early; expected {expected}"
        else:
            message = f"unexpected {token.value!r}; expected {expected}"
        end = None if token.type == "$END" else column + len(str(token.value))
        return SpecSyntaxError(message, Span(source, line, column, line, end))
    return SpecSyntaxError(message, Span(source, line, column))


class _ToAst(Transformer):
    """Builds :mod:`hiergraph.ast` nodes; each method is one rule (or alias) of the grammar."""

    def __init__(self, source: Source):
        super().__init__()
        self.source = source

    def _span(self, meta) -> Span | None:
        if getattr(meta, "empty", True):
            return None
        return Span(self.source, meta.line, meta.column, meta.end_line, meta.end_column)

    def _token_span(self, token: Token) -> Span:
        return Span(self.source, token.line, token.column, token.end_line, token.end_column)

    # program structure
    def program(self, children):
        decls, data, model, has_data = (), (), (), False
        for child in children:
            if child[0] == "declarations":
                decls = child[1]
            elif child[0] == "data":
                data, has_data = child[1], True
            else:
                model = child[1]
        return ast.Program(decls, data, model, has_data)

    def bare_program(self, children):
        decls = ()
        if children and isinstance(children[0], tuple) and children[0][:1] == ("declarations",):
            decls, children = children[0][1], children[1:]
        return ast.Program(decls, (), tuple(children), False)

    def declarations(self, children):
        return ("declarations", tuple(children))

    @v_args(meta=True)
    def var_decl(self, meta, children):
        name, *dims = children
        return ast.Declaration(str(name), tuple(dims), self._span(meta))

    def data_block(self, children):
        return ("data", tuple(children))

    def model_block(self, children):
        return ("model", tuple(children))

    # statements
    @v_args(meta=True)
    def stochastic(self, meta, children):
        target, dist, *bounds = children
        return ast.Stochastic(target, dist, bounds[0] if bounds else None, self._span(meta))

    @v_args(meta=True)
    def bounds(self, meta, children):
        opener, lower, upper = children
        return ast.Bounds(opener.value[0], lower, upper, self._span(meta))

    def bound(self, children):
        return children[0] if children else None

    @v_args(meta=True)
    def deterministic(self, meta, children):
        target, _arrow, expr = children
        return ast.Deterministic(target, expr, None, self._span(meta))

    @v_args(meta=True)
    def link_deterministic(self, meta, children):
        link, target, _arrow, expr = children
        return ast.Deterministic(target, expr, str(link), self._span(meta))

    @v_args(meta=True)
    def for_loop(self, meta, children):
        index, range_, body = children
        return ast.ForLoop(str(index), range_, body, self._span(meta))

    def block(self, children):
        return tuple(children)

    @v_args(meta=True)
    def range(self, meta, children):
        lower, upper = children
        return ast.Range(lower, upper, self._span(meta))

    # expressions
    @v_args(meta=True)
    def variable(self, meta, children):
        name, *indices = children
        span = self._span(meta)
        # An empty index matches no text; it points at the variable it belongs to.
        indices = tuple(ast.EmptyIndex(span) if isinstance(i, ast.EmptyIndex) and i.span is None
                        else i for i in indices)
        return ast.Variable(str(name), indices or None, span)

    @v_args(meta=True)
    def empty_index(self, meta, children):
        return ast.EmptyIndex(self._span(meta))

    @v_args(meta=True)
    def call(self, meta, children):
        name, *args = children
        return ast.Call(str(name), tuple(args), self._span(meta), self._token_span(name))

    @v_args(meta=True)
    def number(self, meta, children):
        value = float(children[0])
        if not math.isfinite(value):
            raise SpecSyntaxError(f"the number {children[0]} is too large", self._span(meta))
        return ast.Number(value, self._span(meta))

    @v_args(meta=True)
    def binary(self, meta, children):
        left, op, right = children
        op = "^" if op == "**" else str(op)
        return ast.Binary(op, left, right, self._span(meta))

    compare = binary

    def _fixed(op):
        @v_args(meta=True)
        def build(self, meta, children):
            left, right = children
            return ast.Binary(op, left, right, self._span(meta))
        return build

    or_op = _fixed("||")
    and_op = _fixed("&&")
    matmul = _fixed("%*%")

    @v_args(meta=True)
    def negate(self, meta, children):
        return ast.Unary("-", children[0], self._span(meta))

    @v_args(meta=True)
    def not_op(self, meta, children):
        return ast.Unary("!", children[0], self._span(meta))


def parse(text: str, name: str = "<model>") -> ast.Program:
    """Parse BUGS model text into a :class:`~hiergraph.ast.Program`."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    source = Source(name, text)
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, source) from None
    try:
        return _ToAst(source).transform(tree)
    except VisitError as exc:
        raise exc.orig_exc from None


def parse_file(path: str | os.PathLike) -> ast.Program:
    """Parse a model file (``.spec``, ``.bug``, ``.jags``: all the same language)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"model file '{path}' does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read model file '{path}': {exc}") from None
    return parse(text, str(path))
