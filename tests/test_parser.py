"""The parser: the whole syntax of LANGUAGE.md into AST nodes that keep line and column."""

from __future__ import annotations

import pytest

from hiergraph import ast
from hiergraph.parser import parse


def only_statement(text: str):
    (statement,) = parse(text).model
    return statement


def test_model_and_data_blocks_and_declarations():
    program = parse("""
        var x[N, 2], y;
        data { for (i in 1:N) { x[i, 1] <- z[i] } }
        model { y ~ dnorm(0, 1) }
    """)
    assert [d.name for d in program.declarations] == ["x", "y"]
    assert program.declarations[0].dims == (ast.Variable("N"), ast.Number(2.0))
    assert program.has_data_block and isinstance(program.data[0], ast.ForLoop)
    assert program.model == (ast.Stochastic(ast.Variable("y"),
                                            ast.Call("dnorm", (ast.Number(0.0), ast.Number(1.0)))),)


def test_bare_statements_are_the_model():
    program = parse("y ~ dnorm(mu, 1)\nmu <- 2")
    assert len(program.model) == 2 and not program.has_data_block


@pytest.mark.parametrize("text, lower, upper", [
    ("y ~ dnorm(0, 1) T(0, )", ast.Number(0.0), None),
    ("y ~ dnorm(0, 1) T(, 5)", None, ast.Number(5.0)),
    ("y ~ dnorm(0, 1) T(a, b)", ast.Variable("a"), ast.Variable("b")),
    ("y ~ dnorm(0, 1)T(0,)", ast.Number(0.0), None),
])
def test_truncation(text, lower, upper):
    bounds = only_statement(text).bounds
    assert (bounds.kind, bounds.lower, bounds.upper) == ("T", lower, upper)


def test_censoring_notation():
    assert only_statement("y ~ dweib(r, mu) I(c, )").bounds.kind == "I"


def test_T_and_I_are_ordinary_names_elsewhere():
    program = parse("for (t in 1:T) { I[t] <- T * t }\nT2 <- I[1]")
    loop = program.model[0]
    assert loop.range.upper == ast.Variable("T")
    assert loop.body[0].target == ast.Variable("I", (ast.Variable("t"),))


@pytest.mark.parametrize("link", ["logit", "log", "probit", "cloglog"])
def test_link_functions_on_the_left(link):
    statement = only_statement(f"{link}(p[i]) <- a + b")
    assert statement.link == link and statement.target.name == "p"


def test_loops_nest_with_or_without_braces():
    (outer,) = parse("for (i in 1:N) for (j in 1:M) { y[i, j] ~ dnorm(0, 1) }").model
    assert outer.index == "i" and outer.body[0].index == "j"
    assert outer.body[0].body[0].target.indices == (ast.Variable("i"), ast.Variable("j"))


def test_index_forms():
    statement = only_statement("y <- x[i, 1:K, , k + 1] + theta[group[i]] + z[]")
    first, nested, whole = (statement.expr.left.left, statement.expr.left.right,
                            statement.expr.right)
    i, rng, empty, expr = first.indices
    assert i == ast.Variable("i") and isinstance(empty, ast.EmptyIndex)
    assert rng == ast.Range(ast.Number(1.0), ast.Variable("K"))
    assert expr == ast.Binary("+", ast.Variable("k"), ast.Number(1.0))
    assert nested.indices == (ast.Variable("group", (ast.Variable("i"),)),)
    assert whole.indices == (ast.EmptyIndex(),)


@pytest.mark.parametrize("text, value", [
    ("1", 1.0), ("1.5", 1.5), (".5", 0.5), ("1.0E-4", 1e-4), ("1e3", 1000.0), ("2.E+2", 200.0),
])
def test_number_forms(text, value):
    assert only_statement(f"x <- {text}").expr == ast.Number(value)


def test_dotted_names_and_comments():
    program = parse("""
        # a comment
        tau.c ~ dgamma(1.0E-3, 1.0E-3)  # trailing
        /* a block
           comment */ x.bar <- mean(x[]);
    """)
    assert [s.target.name for s in program.model] == ["tau.c", "x.bar"]


def test_operator_precedence_follows_jags():
    expr = only_statement("z <- -a^2 * b %*% c + d > e && !f || g").expr
    assert expr.op == "||"
    left = expr.left
    assert left.op == "&&" and left.right == ast.Unary("!", ast.Variable("f"))
    comparison = left.left
    assert comparison.op == ">"
    total = comparison.left
    assert total.op == "+"
    product = total.left
    assert product.op == "*"
    assert product.left == ast.Unary("-", ast.Binary("^", ast.Variable("a"), ast.Number(2.0)))
    assert product.right == ast.Binary("%*%", ast.Variable("b"), ast.Variable("c"))


def test_power_is_right_associative_and_star_star_is_power():
    assert only_statement("z <- a^b**c").expr == ast.Binary(
        "^", ast.Variable("a"), ast.Binary("^", ast.Variable("b"), ast.Variable("c")))


def test_semicolons_are_optional():
    assert len(parse("a <- 1; b <- 2\nc <- 3;").model) == 3


def test_spans_keep_line_and_column():
    statement = parse("model {\n  for (i in 1:N) {\n    y[i] ~ dnorm(mu, tau)\n  }\n}\n").model[0].body[0]
    assert (statement.span.line, statement.span.column) == (3, 5)
    assert (statement.distribution.name_span.line, statement.distribution.name_span.column) == (3, 12)
    assert statement.distribution.args[1].span.column == 22


def test_printing_round_trips_every_classic_model():
    from conftest import classic_bugs

    for path in sorted(classic_bugs().glob("vol1/*/*.bug")):
        if path.name == "leukfr.bug":  # classic BUGS syntax with a `const` block, not JAGS's
            continue
        program = parse(path.read_text(), str(path))
        assert parse(ast.to_source(program)) == program, path
