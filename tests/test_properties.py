"""Property tests of the front end: printing and parsing agree, and bad input only ever gives
a :class:`~hiergraph.errors.HiergraphError`.

1. Generated programs (as ASTs) print with :func:`ast.to_source` and parse back to an equal
   tree; printing is idempotent; every node has a span, and the text under an expression's
   span parses back to that expression.
2. Garbage text (arbitrary characters, or BUGS-ish tokens joined at random) either parses
   (and then round-trips) or raises :class:`SpecSyntaxError` naming the file, line and
   column, with the offending line and a caret under it.
3. Mutated programs (generated ones, a few hand-written models using most of the language,
   and the classic BUGS volume 1 models, with a small data set or their own data) raise
   nothing but :class:`HiergraphError` from parsing or compiling.

The last section keeps, as small examples, the bugs these properties found.

Every test is derandomized and writes no example database, so a failure in CI reproduces
on any machine; the whole file runs in well under a minute.
"""

from __future__ import annotations

import dataclasses
import re
import traceback
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import hiergraph
from hiergraph import ast
from hiergraph.distributions import DISTRIBUTIONS
from hiergraph.errors import HiergraphError, SpecSyntaxError
from hiergraph.functions import FUNCTIONS, INVERSE_LINKS
from hiergraph.parser import parse

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
VOL1 = SHARED / "classic-bugs" / "vol1"


def _settings(n: int):
    """``n`` examples, the same ones on every run; nothing written to ``.hypothesis``."""
    return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.data_too_large])


# ---- names, numbers, operators --------------------------------------------------------------

KEYWORDS = {"for", "in", "model", "data", "var"}
IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9._]*")
FUNCTION_NAMES = sorted(n for n in FUNCTIONS if IDENTIFIER.fullmatch(n))  # not "+", "%*%"...
DISTRIBUTION_NAMES = sorted(DISTRIBUTIONS)
LINKS = sorted(INVERSE_LINKS)  # logit, log, probit, cloglog
BINARY_OPS = ["+", "-", "*", "/", "^", "%*%", "<", "<=", ">", ">=", "==", "!=", "&&", "||"]
UNARY_OPS = ["-", "!"]

# Names that are easy to get wrong: T and I open bounds only as ``T(``/``I(``; dots and
# underscores; names that start like a keyword or a number; function and distribution names.
TRICKY_NAMES = ["x", "y", "N", "T", "I", "t", "i", "tau.c", "a_1", "alpha.c", "x.1e5",
                "format", "inx", "data1", "modelled", "variance", "e", "E1", "dnorm", "sum"]


def names():
    generated = st.from_regex(IDENTIFIER, fullmatch=True).filter(
        lambda n: n not in KEYWORDS and len(n) <= 8)
    return st.one_of(st.sampled_from(TRICKY_NAMES), generated)


def numbers():
    """Non-negative numbers as the parser makes them (negatives are ``Unary('-', Number)``)."""
    return st.one_of(
        st.integers(0, 100).map(float),
        st.sampled_from([0.5, 1e-4, 1.0e-3, 2.5e-7, 1e15, 1e16, 123456789012345678.0, 1e20,
                         1e300, 5e-324]),
        st.floats(min_value=0, max_value=1e30, allow_nan=False, allow_infinity=False),
    ).map(ast.Number)


# ---- expressions ----------------------------------------------------------------------------


def _indices(expr):
    """The indices of a variable: expressions, ranges ``a:b`` and empty indices."""
    index = st.one_of(expr, st.builds(ast.Range, expr, expr), st.just(ast.EmptyIndex()))
    return st.lists(index, min_size=1, max_size=3).map(tuple)


def expressions(name=None, number=None, functions=FUNCTION_NAMES, max_leaves=5):
    """Numbers, variables (indexed, nested), unary and binary operators, calls of any arity."""
    name = names() if name is None else name
    number = numbers() if number is None else number
    leaf = st.one_of(number, st.builds(ast.Variable, name))

    def extend(inner):
        return st.one_of(
            st.builds(ast.Unary, st.sampled_from(UNARY_OPS), inner),
            st.builds(ast.Binary, st.sampled_from(BINARY_OPS), inner, inner),
            st.builds(ast.Call, st.sampled_from(functions), st.lists(inner, max_size=4).map(tuple)),
            st.builds(ast.Variable, name, _indices(inner)),
        )

    return st.recursive(leaf, extend, max_leaves=max_leaves)


# ---- statements and programs ----------------------------------------------------------------


def variables(name, expr):
    """The target of a relation: a name, perhaps indexed."""
    return st.builds(ast.Variable, name, st.none() | _indices(expr))


def distributions(expr):
    """A distribution call with exactly the number of arguments the distribution takes."""
    def calls(dist):
        arity = DISTRIBUTIONS[dist].arity
        return st.lists(expr, min_size=arity, max_size=arity).map(
            lambda args: ast.Call(dist, tuple(args)))
    every = st.one_of([calls(dist) for dist in DISTRIBUTION_NAMES])
    return st.deferred(lambda: every)  # a short repr: hypothesis warns of a 30 kB one


def bounds(expr):
    """``T(lo, hi)`` or ``I(lo, hi)``, either side possibly left out."""
    return st.builds(ast.Bounds, st.sampled_from(["T", "I"]), st.none() | expr, st.none() | expr)


def stochastics(name, expr):
    return st.builds(ast.Stochastic, variables(name, expr), distributions(expr),
                     st.none() | bounds(expr))


def deterministics(name, expr):
    return st.builds(ast.Deterministic, variables(name, expr), expr,
                     st.none() | st.sampled_from(LINKS))


def statements(name, expr, max_leaves=3):
    """Relations, and for loops (nested) around one or more of them."""
    relation = st.one_of(stochastics(name, expr), deterministics(name, expr))

    def loops(inner):
        return st.builds(ast.ForLoop, name, st.builds(ast.Range, expr, expr),
                         st.lists(inner, min_size=1, max_size=3).map(tuple))

    return st.recursive(relation, loops, max_leaves=max_leaves)


def declarations(name, expr):
    return st.builds(ast.Declaration, name, st.lists(expr, max_size=3).map(tuple))


def programs(name=None, expr=None):
    """Whole programs: ``var`` declarations, perhaps a data block, the model.

    Build once and reuse: constructing hypothesis strategies is slow.
    """
    name = names() if name is None else name
    expr = expressions(name) if expr is None else expr
    statement = statements(name, expr)
    decls = st.lists(declarations(name, expr), max_size=2).map(tuple)
    model = st.lists(statement, max_size=3).map(tuple)
    data = st.lists(statement, max_size=2).map(tuple)
    with_data = st.builds(ast.Program, decls, data, model, st.just(True))
    without_data = st.builds(ast.Program, decls, st.just(()), model, st.just(False))
    return with_data | without_data


# Programs in the vocabulary of a small data set, so that some of them get past the binder's
# name checks and exercise shapes, indices, loops and the graph.
SMALL_NAMES = ["N", "x", "y", "z", "w", "mu", "tau", "i", "j", "T"]
SMALL_FUNCTIONS = ["exp", "log", "sum", "mean", "sqrt", "inprod", "ilogit", "ifelse", "sort",
                   "inverse", "t", "max", "pow", "step", "equals", "length", "dnorm", "pnorm"]


def small_numbers():
    return st.one_of(st.integers(0, 4).map(float), st.sampled_from([0.5, 1e-3])).map(ast.Number)


def small_data() -> dict:
    return {"N": 3, "x": np.array([1.0, 2.0, 3.0]), "y": np.array([0.0, 1.0, 0.0])}


PROGRAMS = programs()
SMALL_PROGRAMS = programs(st.sampled_from(SMALL_NAMES),
                          expressions(st.sampled_from(SMALL_NAMES), small_numbers(),
                                      SMALL_FUNCTIONS, max_leaves=4))


# ---- walking trees and spans ----------------------------------------------------------------


def nodes(tree):
    """Every AST node in ``tree`` (dataclasses inside dataclasses and tuples)."""
    if isinstance(tree, tuple):
        for item in tree:
            yield from nodes(item)
    elif dataclasses.is_dataclass(tree):
        yield tree
        for f in dataclasses.fields(tree):
            if f.name not in ("span", "name_span"):
                yield from nodes(getattr(tree, f.name))


def bad_spans(program: ast.Program, source_name: str) -> list:
    """Nodes whose span is missing or does not point at a line and column of the source."""
    bad = []
    for node in nodes(program):
        if isinstance(node, ast.Program):
            continue
        spans = [node.span] + ([node.name_span] if isinstance(node, ast.Call) else [])
        if any(span is None or span.line < 1 or span.column < 1
               or span.source.name != source_name for span in spans):
            bad.append(node)
    return bad


def span_text(span) -> str:
    """The text a span covers (lines and columns 1-based, the end column exclusive)."""
    lines = span.source.text.split("\n")

    def offset(line, column):
        return sum(len(text) + 1 for text in lines[:line - 1]) + column - 1

    return span.source.text[offset(span.line, span.column):offset(span.end_line, span.end_column)]


EXPRESSION_NODES = (ast.Number, ast.Variable, ast.Call, ast.Unary, ast.Binary)


# ---- 1. printing and parsing agree ----------------------------------------------------------


@_settings(120)
@given(PROGRAMS)
@example(ast.Program((), (), (ast.ForLoop("t", ast.Range(ast.Number(1), ast.Variable("T")), (
    ast.Stochastic(ast.Variable("T", (ast.Variable("t"),)), ast.Call("dnorm", (
        ast.Number(0), ast.Variable("I"))), ast.Bounds("T", None, ast.Number(1e20))),
    ast.Deterministic(ast.Variable("I", (ast.EmptyIndex(), ast.Range(ast.Number(1e-4),
                      ast.Unary("-", ast.Number(2))))), ast.Variable("T"), "logit"))),)))
def test_print_then_parse_gives_the_same_program(program):
    text = ast.to_source(program)
    reparsed = parse(text, "roundtrip.bug")
    assert reparsed == program, text
    assert ast.to_source(reparsed) == text
    assert bad_spans(reparsed, "roundtrip.bug") == [], text


@_settings(200)
@given(expressions(max_leaves=20))
@example(ast.Binary("==", ast.Variable("x", (ast.Number(1),)), ast.Number(0)))
def test_expression_printing_keeps_structure(expr):
    """One expression as the right-hand side of a relation (smaller counterexamples); the text
    under each sub-expression's span parses back to that sub-expression."""
    program = ast.Program((), (), (ast.Deterministic(ast.Variable("z"), expr),))
    text = ast.to_source(program)
    reparsed = parse(text).model[0].expr
    assert reparsed == expr, text
    for node in nodes(reparsed):
        if isinstance(node, EXPRESSION_NODES):
            piece = span_text(node.span)
            assert parse(f"model {{ z <- ({piece}) }}").model[0].expr == node, (text, piece)
        if isinstance(node, ast.Call):
            assert span_text(node.name_span) == node.name


def _classic_models() -> list[Path]:
    return sorted(VOL1.glob("*/*.bug")) if VOL1.is_dir() else []


@pytest.mark.parametrize("path", _classic_models(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_classic_models_print_and_parse_back(path):
    try:
        program = parse(path.read_text(), str(path))
    except SpecSyntaxError:
        pytest.skip("classic BUGS syntax (a `const` block), not JAGS's")  # leukfr.bug
    text = ast.to_source(program)
    assert parse(text) == program
    assert ast.to_source(parse(text)) == text
    assert bad_spans(program, str(path)) == []


# ---- 2. garbage text ------------------------------------------------------------------------

SOURCE_NAME = "fuzz.bug"
TOKENS = ["model", "{", "}", "(", ")", "[", "]", "~", "<-", ",", ";", ":", "for", "in",
          "dnorm", "x", "1.5", "#", "/*", "*/", "T(", "I(", "var", "data", "=", "-", "!",
          "%*%", "^", "**", "&&", "||", "<", "==", "N", "1", "1e20", "1e999", "y[i]", "logit",
          "T", "I"]
SEPARATORS = ["", " ", "\n", "\t", "\r\n", "\r"]

# Where lines break, as editors (and the error messages) count them: not at \f or \u2028,
# where str.splitlines() also breaks.
LINE_BREAK = re.compile(r"\r\n|\r|\n")


@st.composite
def token_soup(draw):
    words = draw(st.lists(st.sampled_from(TOKENS), max_size=30))
    seps = draw(st.lists(st.sampled_from(SEPARATORS), min_size=len(words), max_size=len(words)))
    return "".join(w + s for w, s in zip(words, seps))


def check_syntax_error(error: SpecSyntaxError, text: str, name: str) -> None:
    """The error names the file, a line and column of the text, shows that line, and a caret."""
    rendered = str(error)
    match = re.search(re.escape(name) + r":(\d+):(\d+): error: ", rendered)
    assert match, rendered
    assert rendered.splitlines()[-1].rstrip().endswith("^"), rendered
    assert error.span is not None and error.span.source.name == name
    line, column = int(match.group(1)), int(match.group(2))
    assert line >= 1 and column >= 1, rendered
    lines = LINE_BREAK.split(text)
    assert line <= len(lines), rendered
    shown = error.span.source.line_text(line)
    assert shown == lines[line - 1], rendered
    assert column <= len(shown) + 1, rendered


def parses_or_reports(text: str, name: str = SOURCE_NAME):
    """``parse`` returns a Program that round-trips, or raises a SpecSyntaxError that points
    at the text; returns the Program, or None on a syntax error."""
    try:
        program = parse(text, name)
    except SpecSyntaxError as error:
        check_syntax_error(error, text, name)
        return None
    assert isinstance(program, ast.Program)
    printed = ast.to_source(program)
    assert parse(printed) == program, printed
    return program


@_settings(300)
@given(st.text(max_size=80))
@example("")
@example("model {")
@example("model { x ~ dnorm(0, 1) T(")
@example("/* never closed")
@example("model { x <- 1 }\r\n}")
@example("model {\r  x <- )\r}")
@example("\u2028model {\u2028x <- }")
@example("model {\n x <- 1\x0c y")
@example("model { z <- 1e999 }")
def test_arbitrary_text_parses_or_raises_syntax_error(text):
    parses_or_reports(text)


@_settings(500)
@given(token_soup())
def test_token_soup_parses_or_raises_syntax_error(text):
    parses_or_reports(text)


# ---- 3. mutated programs --------------------------------------------------------------------


@st.composite
def mutants(draw, text: str):
    """``text`` after one to three random edits: delete, duplicate, swap, or insert a token,
    a name or number from the text itself, or a few random characters."""
    own = sorted(set(re.findall(r"[A-Za-z][A-Za-z0-9._]*|\d+(?:\.\d*)?", text))) or ["x"]
    inserts = st.sampled_from(TOKENS) | st.sampled_from(own) | st.text(max_size=3)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["delete", "duplicate", "swap", "insert"]))
        n = len(text)
        i = draw(st.integers(0, n))
        if kind == "delete" and n:
            j = draw(st.integers(i, min(n, i + 12)))
            text = text[:i] + text[j:]
        elif kind == "duplicate" and n:
            j = draw(st.integers(i, min(n, i + 12)))
            text = text[:j] + text[i:j] + text[j:]
        elif kind == "swap" and n >= 2:
            i, j = sorted((min(i, n - 1), draw(st.integers(0, n - 1))))
            text = text[:i] + text[j] + text[i + 1:j] + text[i] + text[j + 1:]
        else:
            text = text[:i] + draw(inserts) + text[i:]
    return text


def original_or_mutant(text: str):
    return st.one_of(st.just(text), mutants(text))


# Python exceptions the binder is known to raise, as (type, message regex, a function on the
# stack), each with a strict xfail test at the end of the file; the compile properties let
# these through so that they keep checking everything else. Empty while no bug is open.
KNOWN_BINDER_ERRORS: list[tuple[type, str, str]] = []


def is_known_binder_error(error: Exception) -> bool:
    stack = {frame.name for frame in traceback.extract_tb(error.__traceback__)}
    return any(isinstance(error, kind) and re.search(message, str(error)) and where in stack
               for kind, message, where in KNOWN_BINDER_ERRORS)


def compiles_or_reports(text: str, data) -> None:
    """Parse then compile: either works, or raises a HiergraphError (nothing else)."""
    if parses_or_reports(text) is None:
        return
    try:
        hiergraph.compile_model(text, data=data)
    except HiergraphError:
        pass
    except Exception as error:
        if not is_known_binder_error(error):
            raise


@_settings(100)
@given(PROGRAMS.flatmap(lambda p: mutants(ast.to_source(p))))
def test_mutated_programs_parse_or_raise_syntax_error(text):
    parses_or_reports(text)


@_settings(120)
@given(SMALL_PROGRAMS.flatmap(lambda p: original_or_mutant(ast.to_source(p))))
@example("model { for (i in 1:N) { mu[i] <- x[i] * 2 \n y[i] ~ dnorm(mu[i], tau) } "
         "tau ~ dgamma(1.0E-3, 1.0E-3) }")
def test_mutated_small_programs_compile_or_raise_hiergraph_errors(text):
    compiles_or_reports(text, small_data())


# Hand-written models that compile with SEED_DATA and between them use most of the language:
# data blocks, declarations, links, truncation and censoring, nested indexing, ranges (ragged
# too) and empty indices, loop bounds from data, multivariate distributions, matrix functions.
SEED_MODELS = [
    """var z[N];
data { xbar <- mean(x[]) }
model {
  for (i in 1:N) {
    mu[i] <- a + b * (x[i] - xbar)
    y[i] ~ dnorm(mu[i], tau) T(0, )
  }
  a ~ dnorm(0, 1.0E-4); b ~ dnorm(0, 0.001); tau ~ dgamma(0.001, 0.001)
  logit(pp) <- a; q <- ifelse(a > 0, 1, 0)
}""",
    """model {
  for (i in 1:N) { for (j in 1:K) { m[i, j] <- x[i] * M[j, j] } }
  v[1:K] ~ dmnorm(p[], M[,])
  W[1:K, 1:K] ~ dwish(M[,], 3)
  S <- inverse(W[,]); d <- logdet(M); r <- M %*% p; s <- sort(x[]); t2 <- t(M)
  c ~ dcat(p[]); gd[1:K] ~ ddirch(p[]); n[1:K] ~ dmulti(p[], 5); zz <- x[K] + inprod(p[], p[])
}""",
    """model {
  for (i in 1:N) { y[i] ~ dbern(theta[g[i]]) }
  for (k in 1:K) { theta[k] ~ dbeta(1, 1) I(0.1, ) }
  cut ~ dinterval(x[1], p[]); e <- sum(y[1:2]); f <- max(x[2:N])
}""",
    """var cum[N], tot;
data {
  for (i in 1:N) { cum[i] <- sum(x[1:i]) }
  tot <- cum[N]
}
model {
  for (i in 1:N) {
    for (k in 1:ncat[i]) { lam[i, k] <- exp(b[k]) * cum[i] }
    cnt[i] ~ dpois(lam[i, 1]) T(, 10)
    r[i] <- step(x[i] - 2) + equals(x[i], 2) + pow(x[i], 2) + phi(x[i])
  }
  for (k in 1:K) { b[k] ~ dt(0, 1, 3) }
  rr[1:N] <- rank(x[])
  mix ~ dnormmix(p[], p[], p[])
  u[1:K] ~ dmt(p[], M[,], 4)
  vv[1:K] ~ dmnorm.vcov(p[], M[,])
  mm <- mean(x[2:N]) + sd(x[]) + inprod(M[1, ], p[])
  P[1:K, 1:K] <- M[,] %*% M[,]
}""",
]
SEED_DATA = {"N": 3, "K": 2, "x": np.array([1.0, 2.0, 3.0]), "y": np.array([0.0, 1.0, 0.0]),
             "g": np.array([1.0, 2.0, 2.0]), "M": np.array([[2.0, 0.5], [0.5, 1.0]]),
             "p": np.array([0.2, 0.8]), "cut": 1.0, "ncat": np.array([1.0, 2.0, 2.0]),
             "cnt": np.array([1.0, 0.0, 3.0])}


def test_seed_models_compile():
    for model in SEED_MODELS:
        hiergraph.compile_model(model, data=SEED_DATA)


@_settings(300)
@given(st.sampled_from(SEED_MODELS).flatmap(mutants))
def test_mutated_seed_models_compile_or_raise_hiergraph_errors(text):
    compiles_or_reports(text, SEED_DATA)


def _script_files(cmd: Path) -> dict[str, Path]:
    """The model and data files that a JAGS test script (``testN.cmd``) names."""
    files = {}
    for line in cmd.read_text().splitlines():
        match = re.match(r'\s*(model|data)\s+in\s+"?([^"\s]+)"?', line)
        if match:
            files[match.group(1)] = cmd.parent / match.group(2)
    return files


def _classic_scripts() -> list[tuple[str, str]]:
    scripts = []
    for cmd in sorted(VOL1.glob("*/test*.cmd")) if VOL1.is_dir() else []:
        files = _script_files(cmd)
        if "model" in files and "data" in files:
            scripts.append((files["model"].read_text(), str(files["data"])))
    return scripts


CLASSIC_MODELS = [path.read_text() for path in _classic_models()]
CLASSIC_SCRIPTS = _classic_scripts()


def _needs(cases):
    if not cases:
        pytest.skip(f"the classic BUGS suite is not at {VOL1}")


@_settings(200)
@given(st.data())
def test_mutated_classic_models_compile_or_raise_hiergraph_errors(data):
    _needs(CLASSIC_MODELS)
    text = data.draw(st.sampled_from(CLASSIC_MODELS).flatmap(mutants), label="mutant")
    compiles_or_reports(text, small_data())


@_settings(120)
@given(st.data())
def test_mutated_classic_scripts_compile_with_their_data(data):
    _needs(CLASSIC_SCRIPTS)
    model, data_path = data.draw(st.sampled_from(CLASSIC_SCRIPTS), label="script")
    text = data.draw(original_or_mutant(model), label="mutant")
    compiles_or_reports(text, data_path)


# ---- what the properties found, as small examples -------------------------------------------
# Fixed bugs stay as regression tests; an open one is a strict xfail here (and, for the
# binder, an entry in KNOWN_BINDER_ERRORS).


def test_empty_index_has_a_span():
    statement = parse("model { z[, 1] <- x[] }", "empty.bug").model[0]
    assert statement.target.indices[0].span is not None
    assert statement.expr.indices[0].span is not None


def test_indexed_variable_compared_with_equals():
    """`=` is also an arrow; after `]` it used to win over `==`."""
    program = parse("model { z <- x[1] == 0 }")
    assert program.model[0].expr == ast.Binary(
        "==", ast.Variable("x", (ast.Number(1),)), ast.Number(0))


def test_number_too_large_for_a_float():
    """`1e999` used to parse to Number(inf), which to_source could not print."""
    parses_or_reports("model { z <- 1e999 }")


@pytest.mark.parametrize("text", ["model {\r  x <- )\r}", "model {\x0c x <- )\n}"])
def test_error_excerpt_with_carriage_returns(text):
    """The excerpt used to split lines at \\r and \\f while lark counts only \\n."""
    with pytest.raises(SpecSyntaxError) as error:
        parse(text, "mac.bug")
    span = error.value.span
    assert span.column <= len(span.source.line_text(span.line)) + 1


def test_error_line_with_a_form_feed():
    """An early end of file used to count lines with str.splitlines() (breaking at \\f)."""
    with pytest.raises(SpecSyntaxError) as error:
        parse("model {\n x <- 1\x0c y", "ff.bug")
    span = error.value.span
    assert span.line == 2
    assert span.column <= len(span.source.line_text(span.line)) + 1


@pytest.mark.parametrize("model", [
    "model { for (i in 1:0) { z[i] <- 1 } }",
    "model { for (i in 1:0) { z <- 1 } }",
    "model { for (i in 1:N) { w[i] <- x[i] } }",  # with N = 0 in the data
])
def test_deterministic_in_an_empty_loop(model):
    """Used to raise ValueError (cannot reshape array of size 0) in _fixed_values."""
    hiergraph.compile_model(model, data={"N": 0, "x": np.array([1.0, 2.0, 3.0])})


@pytest.mark.parametrize("upper", ["1e20", "1e12"])
def test_huge_loop_bound_is_a_model_error(upper):
    """1e20 used to wrap to -2**63 (an empty loop, then ValueError); 1e12 raised MemoryError."""
    with pytest.raises(HiergraphError):
        hiergraph.compile_model(f"model {{ for (i in 1:{upper}) {{ z[i] <- 1 }} }}",
                                data=small_data())


@pytest.mark.parametrize("declaration", ["var z[nofunc(1)];", "var z[t()];", "var z[exp(1, 2)];"])
def test_declared_size_with_a_bad_call(declaration):
    """`var` dimensions used to skip the name and arity checks (KeyError, IndexError, TypeError)."""
    with pytest.raises(HiergraphError):
        hiergraph.compile_model(declaration + " model { }", data=small_data())


@pytest.mark.parametrize("model, wrong", [
    ("model { z <- x[1e20] }", "-9223372036854775808"),
    ("var z[1e20]; model { z[1] <- 1 }", "negative"),
])
def test_huge_index_message_shows_the_written_value(model, wrong):
    """Values beyond int64 used to wrap, and the message showed the wrapped value."""
    with pytest.raises(HiergraphError) as error:
        hiergraph.compile_model(model, data=small_data())
    assert wrong not in error.value.message


@pytest.mark.parametrize("model", ["var w[0]; model { w ~ dbern(0.5) }",
                                   "var w[0]; model { w ~ dbern(-1) }"])
def test_scalar_relation_on_an_empty_declared_array(model):
    """Used to raise TypeError in check_data, or ValueError in element_text."""
    with pytest.raises(HiergraphError):
        hiergraph.compile_model(model)


@pytest.mark.parametrize("expr", ["sort(x) + 1", "M %*% p + 1", "exp(inverse(M))", "t(M) < 1"])
def test_array_function_inside_an_operator(expr):
    """node_count used to broadcast a vector-valued operand to (n,): ValueError."""
    hiergraph.compile_model(f"model {{ S <- {expr} }}", data=SEED_DATA)
