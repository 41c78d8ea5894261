"""Every class of user mistake in LANGUAGE.md's table: one message that names the file, line
and column, quotes the line with a caret under the place, and says what is wrong; through
the command line, no traceback and a non-zero exit."""

from __future__ import annotations

import re
import textwrap

import pytest

from conftest import run_cli

import hiergraph
from hiergraph.errors import DataFileError, ModelError, SpecSyntaxError


def compile_files(tmp_path, model: str, data: str = "", inits: str | None = None):
    spec = tmp_path / "model.bug"
    spec.write_text(textwrap.dedent(model).lstrip("\n"))
    data_file = tmp_path / "data.R"
    data_file.write_text(textwrap.dedent(data))
    inits_file = None
    if inits is not None:
        inits_file = tmp_path / "inits.R"
        inits_file.write_text(textwrap.dedent(inits))
    return hiergraph.compile_model(spec, data=data_file, inits=inits_file)


def error_of(kind, tmp_path, model, data="", inits=None) -> str:
    with pytest.raises(kind) as caught:
        compile_files(tmp_path, model, data, inits)
    return str(caught.value)


def assert_points_at(message: str, path, line: int, column: int, marked: str):
    """The first lines are 'path:line:col: error: ...', the quoted line, and carets under ``marked``."""
    head, quoted, carets = message.splitlines()[:3]
    assert head.startswith(f"{path}:{line}:{column}: error: "), head
    source = quoted.split(" | ", 1)[1]
    start = carets.index("^") - carets.index("|") - 2
    width = len(carets) - carets.index("^")
    assert source[start:start + width] == marked, (source, start, width)


def test_syntax_error_says_what_was_expected(tmp_path):
    message = error_of(SpecSyntaxError, tmp_path, """
        model {
          y ~ dnorm(0, 1
        }
        """)
    assert_points_at(message, tmp_path / "model.bug", 3, 1, "}")
    assert "expected ')'" in message


def test_missing_brace_at_the_end(tmp_path):
    message = error_of(SpecSyntaxError, tmp_path, "model {\n  y ~ dnorm(0, 1)\n")
    assert "ends too early" in message and "'}'" in message


def test_unknown_distribution_suggests_the_closest(tmp_path):
    message = error_of(ModelError, tmp_path, """
        model {
          y ~ dnrom(0, 1)
        }
        """)
    assert_points_at(message, tmp_path / "model.bug", 2, 7, "dnrom")
    assert "unknown distribution 'dnrom'; did you mean 'dnorm'" in message


def test_unknown_function_suggests_the_closest(tmp_path):
    message = error_of(ModelError, tmp_path, """
        model {
          y ~ dnorm(0, 1)
          z <- sqr(y)
        }
        """)
    assert_points_at(message, tmp_path / "model.bug", 3, 8, "sqr")
    assert "unknown function 'sqr'" in message and "'sqrt'" in message


def test_undefined_name(tmp_path):
    message = error_of(ModelError, tmp_path, """
        model {
          for (i in 1:N) { y[i] ~ dnorm(mu, tau) }
          mu ~ dnorm(0, 1)
        }
        """, '"N" <- 2\n"y" <- c(1, 2)\n')
    assert_points_at(message, tmp_path / "model.bug", 2, 37, "tau")
    assert "'tau' is used but never defined" in message


def test_undefined_element(tmp_path):
    message = error_of(ModelError, tmp_path, """
        model {
          for (i in 1:3) { y[i] ~ dnorm(x[i], 1) }
        }
        """, '"y" <- c(1, 2, 3)\n"x" <- c(1, NA, 3)\n')
    assert_points_at(message, tmp_path / "model.bug", 2, 33, "x[i]")
    assert "x[2] is used here but is neither defined in the model nor given in the data (at i = 2)" \
        in message


def test_node_defined_twice_names_both_places(tmp_path):
    message = error_of(ModelError, tmp_path, """
        model {
          for (i in 1:3) { theta[i] ~ dnorm(0, 1) }
          theta[2] ~ dnorm(0, 2)
        }
        """)
    assert_points_at(message, tmp_path / "model.bug", 3, 3, "theta[2] ~ dnorm(0, 2)")
    assert "theta[2] is defined twice" in message
    assert re.search(r"model.bug:2:\d+: note: first defined here", message)


def test_data_for_a_deterministic_node(tmp_path):
    message = error_of(ModelError, tmp_path, """
        model {
          mu ~ dnorm(0, 1)
          for (i in 1:2) { m[i] <- mu * i }
        }
        """, '"m" <- c(1, 2)\n')
    assert_points_at(message, tmp_path / "model.bug", 3, 20, "m[i] <- mu * i")
    assert "cannot also be given as data" in message
    assert f"{tmp_path / 'data.R'}:1:1: note: data given here" in message


def test_directed_cycle_lists_the_nodes(tmp_path):
    message = error_of(ModelError, tmp_path, """
        model {
          a ~ dnorm(b, 1)
          b ~ dnorm(c, 1)
          c <- a * 2
        }
        """)
    assert "directed cycle" in message
    assert all(name in message for name in ("a ->", "b", "c"))
    assert message.startswith(f"{tmp_path / 'model.bug'}:")


def test_a_group_may_read_its_own_earlier_elements(tmp_path):
    model = compile_files(tmp_path, """
        model {
          x[1] ~ dnorm(0, 1)
          for (t in 2:T) { x[t] ~ dnorm(x[t - 1], 1) }
        }
        """, '"T" <- 5\n')
    assert model.check().unobserved == 5


def test_cycle_inside_one_group(tmp_path):
    message = error_of(ModelError, tmp_path, """
        model {
          for (t in 1:3) { x[t] ~ dnorm(x[4 - t], 1) }
        }
        """)
    cycle = re.search(r"directed cycle: (.*)", message).group(1)
    assert cycle in ("x[1] -> x[3] -> x[1]", "x[3] -> x[1] -> x[3]", "x[2] -> x[2]")


def test_index_out_of_range_names_node_index_and_range(tmp_path):
    message = error_of(ModelError, tmp_path, """
        model {
          for (i in 1:4) { y[i] ~ dnorm(0, 1) }
        }
        """, '"y" <- c(1, 2, 3)\n')
    assert_points_at(message, tmp_path / "model.bug", 2, 22, "i")
    assert "index 4 is out of range for dimension 1 of 'y', which has size 3 (at i = 4)" in message


def test_dimension_mismatch(tmp_path):
    message = error_of(ModelError, tmp_path, """
        model {
          for (i in 1:3) { y[i] ~ dnorm(x[i], 1) }
        }
        """, '"y" <- c(1, 2, 3)\n"x" <- structure(c(1, 2, 3, 4, 5, 6), .Dim = c(3, 2))\n')
    assert_points_at(message, tmp_path / "model.bug", 2, 33, "x[i]")
    assert "'x' has 2 dimensions (3x2) but is indexed with 1" in message


def test_wrong_number_of_arguments(tmp_path):
    message = error_of(ModelError, tmp_path, """
        model {
          y ~ dnorm(0)
        }
        """)
    assert_points_at(message, tmp_path / "model.bug", 2, 7, "dnorm(0)")
    assert "dnorm takes 2 arguments (dnorm(mu, tau)), not 1" in message


@pytest.mark.parametrize("model, data, element, why", [
    ("for (i in 1:2) { y[i] ~ dbin(0.5, 10) }", '"y" <- c(3, 1.5)', "y[2] = 1.5",
     "must be a whole number"),
    ("for (i in 1:2) { y[i] ~ dbin(0.5, n[i]) }", '"y" <- c(3, 12)\n"n" <- c(10, 10)',
     "y[2] = 12", "must be at most 10"),
    ("for (i in 1:2) { y[i] ~ dpois(3) }", '"y" <- c(-1, 2)', "y[1] = -1", "must be at least 0"),
    ("y ~ dbeta(1, 1)", '"y" <- 1.5', "y = 1.5", "must be at most 1"),
])
def test_data_inconsistent_with_its_distribution(tmp_path, model, data, element, why):
    message = error_of(ModelError, tmp_path, f"model {{\n  {model}\n}}\n", data)
    assert message.startswith(f"{tmp_path / 'model.bug'}:2:")
    assert f"the data value {element} is impossible" in message and why in message


def test_probability_parameter_outside_0_1(tmp_path):
    message = error_of(ModelError, tmp_path, """
        model {
          for (i in 1:2) { y[i] ~ dbern(p[i]) }
        }
        """, '"y" <- c(0, 1)\n"p" <- c(0.5, 1.3)\n')
    assert "y[2] ~ dbern(p = 1.3)" in message and "impossible" in message


def test_matrix_that_is_not_positive_definite(tmp_path):
    message = error_of(ModelError, tmp_path, """
        model {
          x[1:2] ~ dmnorm(mu[], Omega[, ])
        }
        """, '"mu" <- c(0, 0)\n"Omega" <- structure(c(1, 2, 2, 1), .Dim = c(2, 2))\n')
    assert "x[1:2]" in message and "positive definite" in message


def test_initial_value_for_an_observed_node(tmp_path):
    message = error_of(DataFileError, tmp_path, """
        model {
          for (i in 1:2) { y[i] ~ dnorm(mu, 1) }
          mu ~ dnorm(0, 1)
        }
        """, '"y" <- c(1, NA)\n', '"mu" <- 0\n"y" <- c(0.5, 0.5)\n')
    assert_points_at(message, tmp_path / "inits.R", 2, 1, '"y"')
    assert "y[1], which is observed" in message


def test_impossible_initial_value(tmp_path):
    message = error_of(DataFileError, tmp_path, """
        model {
          tau ~ dgamma(1, 1)
        }
        """, "", '"tau" <- -2\n')
    assert_points_at(message, tmp_path / "inits.R", 1, 1, '"tau"')
    assert "the initial value tau = -2 is impossible under dgamma" in message


def test_initial_value_outside_the_truncation(tmp_path):
    message = error_of(DataFileError, tmp_path, """
        model {
          s ~ dnorm(0, 1) T(0, )
        }
        """, "", '"s" <- -1\n')
    assert "s = -1" in message and "at least 0" in message


def test_data_file_that_does_not_parse(tmp_path):
    message = error_of(DataFileError, tmp_path, "model {\n  y ~ dnorm(0, 1)\n}\n",
                       '"y" <- c(1, 2,, 3)\n')
    assert message.startswith(f"{tmp_path / 'data.R'}:1:")
    assert "^" in message.splitlines()[2]


@pytest.mark.parametrize("where", [3, 200, 397], ids=["start", "middle", "end"])
def test_an_error_on_a_long_line_quotes_the_part_around_it(tmp_path, where):
    """A data file with a whole vector on one line: the quote is cut to the place, and the
    token the error is at is shown from its start."""
    values = [f"{v}.25" for v in range(400)]
    values[where] = "7x"
    line = f"y <- c({', '.join(values)})"
    message = error_of(DataFileError, tmp_path, "model {\n  y[1] ~ dnorm(0, 1)\n}\n", line + "\n")
    column = line.index("7x") + 2
    assert_points_at(message, tmp_path / "data.R", 1, column, "x")
    assert all(len(text) < 120 for text in message.splitlines()[1:3])


def test_a_syntax_error_shows_the_start_of_the_run_of_numbers_it_is_at(tmp_path):
    line = "y <- c(0.5+" + ", ".join(f"{v}.25" for v in range(40)) + ")"
    message = error_of(DataFileError, tmp_path, "model {\n  y[1] ~ dnorm(0, 1)\n}\n", line + "\n")
    assert "after '0.5', found '+0.25, 1.25, 2.25, 3.25,...'" in message
    head, quoted, carets = message.splitlines()[:3]
    assert head.startswith(f"{tmp_path / 'data.R'}:1:11: error: ")
    assert quoted[carets.index("^"):].startswith("+0.25, 1.25")


def test_unused_names_are_warnings_not_errors(tmp_path):
    model = compile_files(tmp_path, "model {\n  y ~ dnorm(mu, 1)\n  mu ~ dnorm(0, 1)\n}\n",
                          '"y" <- 1\n"z" <- 3\n', '"mu" <- 0\n"tau" <- 1\n')
    warnings = [str(w) for w in model.warnings]
    assert any("'z' is given in the data but not used" in w for w in warnings)
    assert any("'tau', which is not in the model" in w for w in warnings)


def test_command_line_prints_one_message_and_no_traceback(tmp_path):
    (tmp_path / "m.bug").write_text("model {\n  y ~ dnrom(0, 1)\n}\n")
    result = run_cli("check", tmp_path / "m.bug")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"{tmp_path / 'm.bug'}:2:7: error: unknown distribution")


def test_debug_shows_the_traceback(tmp_path):
    (tmp_path / "m.bug").write_text("model {\n  y ~ dnrom(0, 1)\n}\n")
    result = run_cli("check", tmp_path / "m.bug", "--debug")
    assert result.returncode != 0 and "Traceback" in result.stderr


@pytest.mark.parametrize("args, says", [
    (["check", "no-such-model.bug"], "model file 'no-such-model.bug' does not exist"),
    (["check", "{model}", "--data", "no-such-data.R"], "no-such-data.R"),
    (["check"], "the following arguments are required: MODEL"),
])
def test_command_line_mistakes(tmp_path, args, says):
    (tmp_path / "m.bug").write_text("model {\n  y ~ dnorm(0, 1)\n}\n")
    result = run_cli(*[a.replace("{model}", str(tmp_path / "m.bug")) for a in args], cwd=tmp_path)
    assert result.returncode != 0
    assert says in result.stderr and "Traceback" not in result.stderr

