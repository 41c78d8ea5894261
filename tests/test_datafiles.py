"""Tests for hiergraph.datafiles: R dump, BUGS list, JSON and CSV data files."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hiergraph.datafiles import DataValue, merge_data, read_data_file, read_data_text
from hiergraph.errors import DataFileError, UsageError

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CLASSIC = SHARED / "classic-bugs" / "vol1"


def values(text: str, fmt: str | None = None, name: str = "<data>") -> dict[str, np.ndarray]:
    return {key: value.value for key, value in read_data_text(text, name=name, fmt=fmt).items()}


def error(text: str, fmt: str | None = None, name: str = "<data>") -> DataFileError:
    with pytest.raises(DataFileError) as caught:
        read_data_text(text, name=name, fmt=fmt)
    str(caught.value)  # renders without failing
    return caught.value


def same(actual: np.ndarray, expected) -> bool:
    """Equal values, shapes and missing places (NaN == NaN here)."""
    expected = np.asarray(expected, dtype=float)
    return actual.shape == expected.shape and np.array_equal(actual, expected, equal_nan=True)


# ---- R dump: statements and names ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ['"N" <- 30', "N <- 30", "`N` <- 30", "N = 30", "'N' <- 30", '"N" <-\n  30', "# N is 30\nN <- 30 # here\n", "\n\nN <- 30;\n"],
)
def test_rdump_assignment_forms(text):
    assert list(values(text)) == ["N"]
    assert same(values(text)["N"], 30)


def test_rdump_statements_separated_by_newlines_or_semicolons():
    data = values("a <- 1; b <- 2\nc <- c(3,\n  4); d <- 5;")
    assert {name: value.tolist() for name, value in data.items()} == {"a": 1, "b": 2, "c": [3, 4], "d": 5}


def test_names_keep_dots_and_their_place():
    data = read_data_text('N <- 1\n  "tau.c" <- 2\n`.RNG.seed` <- 3', name="inits.R")
    assert list(data) == ["N", "tau.c", ".RNG.seed"]
    span = data["tau.c"].span
    assert (span.source.name, span.line, span.column) == ("inits.R", 2, 3)
    assert isinstance(data["N"], DataValue)


def test_empty_and_comment_only_files_hold_nothing():
    assert values("") == {}
    assert values("# nothing here\n\n") == {}


# ---- R dump: values ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "literal, expected",
    [
        ("1", 1.0), ("1.5", 1.5), (".5", 0.5), ("1.", 1.0), ("-2", -2.0), ("+3", 3.0), ("1.0E-4", 1e-4),
        ("1e3", 1000.0), ("2.5e+2", 250.0), ("5L", 5.0), ("Inf", math.inf), ("-Inf", -math.inf),
        ("TRUE", 1.0), ("FALSE", 0.0), ("NA", math.nan), ("NA_real_", math.nan),
        ("NA_integer_", math.nan), ("NaN", math.nan),
    ],
)
def test_scalar_literals(literal, expected):
    """A scalar has shape (); NA and NaN are both missing (NaN)."""
    assert same(values(f"x <- {literal}")["x"], expected)
    assert same(values(f"x <- c(0, {literal}, 0)")["x"], [0, expected, 0])  # inside a run of numbers


def test_vectors_flatten_and_may_be_empty():
    data = values("a <- c(1, c(2, c(3, NA)), c())\nb <- c()\nc <- c(7)")
    assert same(data["a"], [1, 2, 3, math.nan])
    assert same(data["b"], np.empty(0))
    assert same(data["c"], [7])  # c(...) is always a vector


@pytest.mark.parametrize(
    "text, expected",
    [("1:4", [1, 2, 3, 4]), ("4:1", [4, 3, 2, 1]), ("-2:1", [-2, -1, 0, 1]), ("-1:-3", [-1, -2, -3]),
     ("3:3", [3]), ("1.5:3", [1.5, 2.5]), ("c(0, 1:3, 9)", [0, 1, 2, 3, 9]), ("c(0, 7, 12:10)", [0, 7, 12, 11, 10])],
)
def test_ranges(text, expected):
    assert same(values(f"x <- {text}")["x"], expected)


def test_conversions_and_typed_empty_vectors():
    data = values(
        "a <- as.integer(c(1.7, -1.7, NA))\nb <- as.double(c(1, 2))\nc <- as.numeric(3)\n"
        "d <- integer(0)\ne <- numeric(0)\nf <- numeric(2)"
    )
    assert same(data["a"], [1, -1, math.nan])
    assert same(data["b"], [1, 2])
    assert same(data["c"], 3)
    assert same(data["d"], np.empty(0)) and same(data["e"], np.empty(0))
    assert same(data["f"], [0, 0])


def test_strings_for_inits():
    data = values(".RNG.name <- \"base::Mersenne-Twister\"\n'q' <- 'it\\'s'\nv <- c(\"a\", 'b')")
    rng = data[".RNG.name"]
    assert rng.dtype == object and rng.shape == () and rng.item() == "base::Mersenne-Twister"
    assert data["q"].item() == "it's"
    assert data["v"].dtype == object and data["v"].tolist() == ["a", "b"]


def test_structure_attributes():
    data = values(
        "a <- structure(c(1, 2, 3, 4, 5, 6), .Dim = c(2L, 3L))\n"
        "b <- structure(c(1, 2, 3, 4, 5, 6), .Dim = as.integer(c(2, 3)))\n"
        'c <- structure(c(1, 2, 3, 4), .Dim = c(2, 2), .Dimnames = list(c("x", "y"), NULL))\n'
        "d <- structure(1:6, .Dim = c(2L, 3L), class = \"matrix\")\n"
        "e <- structure(.Data = c(1, 2), .Dim = 2)\n"
        "f <- structure(c(1, 2), .Names = c(\"p\", \"q\"))"
    )
    assert data["a"].shape == (2, 3) and same(data["a"], data["b"]) and same(data["a"], data["d"])
    assert same(data["c"], [[1, 3], [2, 4]])
    assert same(data["e"], [1, 2])
    assert same(data["f"], [1, 2])


# ---- column-major (R dump) vs row-major (BUGS list) ----------------------------------------


def test_rdump_fills_structures_column_major():
    data = values("Y <- structure(c(1, 2, 3, 4, 5, 6), .Dim = c(2L, 3L))\n" "Z <- structure(1:24, .Dim = c(2L, 3L, 4L))")
    assert same(data["Y"], [[1, 3, 5], [2, 4, 6]])
    for i, j, k in np.ndindex(2, 3, 4):
        assert data["Z"][i, j, k] == 1 + i + 2 * j + 6 * k


def test_bugs_list_fills_structures_row_major():
    data = values(
        "list(Y = structure(.Data = c(1, 2, 3, 4, 5, 6), .Dim = c(2, 3)),\n"
        "     Z = structure(.Data = 1:24, .Dim = c(2, 3, 4)))"
    )
    assert same(data["Y"], [[1, 2, 3], [4, 5, 6]])
    for i, j, k in np.ndindex(2, 3, 4):
        assert data["Z"][i, j, k] == 1 + 12 * i + 4 * j + k


def test_bugs_list_format_values():
    data = values("# inits\nlist(N = 30, \"tau\" = 1.0E-4, x = c(1, NA, 3), s = 'a', m = structure(.Data = c(1, 2, 3, 4), .Dim = c(2, 2)))\n")
    assert list(data) == ["N", "tau", "x", "s", "m"]
    assert same(data["N"], 30) and same(data["tau"], 1e-4) and same(data["x"], [1, math.nan, 3])
    assert same(data["m"], [[1, 2], [3, 4]])
    assert values("list()") == {}


def test_format_is_guessed_from_the_first_token_and_can_be_forced():
    text = "list(Y = structure(.Data = c(1, 2, 3, 4), .Dim = c(2, 2)))"
    assert same(values(text)["Y"], [[1, 2], [3, 4]])
    assert same(values(text, fmt="bugs")["Y"], [[1, 2], [3, 4]])
    assert "'<-' or '='" in error(text, fmt="rdump").message
    rdump = "Y <- structure(c(1, 2, 3, 4), .Dim = c(2, 2))"
    assert same(values(rdump, fmt="rdump")["Y"], [[1, 3], [2, 4]])
    assert error(rdump, fmt="bugs").span.column == 1


def test_windows_line_ends():
    data = values("x <- c(1,\r\n 2)\r\ny <- 3\r\n")
    assert same(data["x"], [1, 2]) and same(data["y"], 3)


# ---- R syntax errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, line, column, message",
    [
        ("N <- 30\nx <- ", 2, 5, "expected a number, NA, c(...) or structure(...) after '<-', found the end of the file"),
        ("N <- 30\nY <- c(1, 2 3)", 2, 13, "expected ',' or ')' after '1, 2', found '3'"),
        ("x <- 1 y <- 2", 1, 8, "expected a new line or ';' after '1', found 'y'"),
        ("x <- c(1, $)", 1, 11, "found '$'"),
        ("x <- c(1,,2)", 1, 10, "expected a number, NA, c(...) or structure(...) after ','"),
        ('x <- "abc', 1, 6, "this string has no closing \""),
        ("x <- 1:NA", 1, 8, "expected a number after ':', found 'NA'"),
        ("3 <- x", 1, 1, "expected a name, found '3'"),
        ("x\n<- 3", 1, 2, "expected '<-' or '=' after 'x', found the end of the line"),
        ("list(a = 1, 2)", 1, 13, "expected a name after ',', found '2'"),
        ("list(a = 1) b", 1, 13, "expected the end of the file after ')', found 'b'"),
        ("x <- c(1, 2,\n 3", 2, 3, "expected ',' or ')' after '1, 2,\n 3'".replace(",\n ", ", ")),
        ("x <- structure(c(1, 2), .Dim = )", 1, 32, "after '='"),
    ],
)
def test_syntax_errors_say_where_and_what_was_expected(text, line, column, message):
    problem = error(text, name="data.R")
    assert (problem.span.source.name, problem.span.line, problem.span.column) == ("data.R", line, column)
    assert message in problem.message
    assert str(problem).startswith(f"data.R:{line}:{column}: error: ")


@pytest.mark.parametrize(
    "text, message",
    [
        ("x <- structure(c(1, 2, 3), .Dim = c(2, 2))", "structure(...) has 3 values but .Dim = c(2, 2) needs 4"),
        ("x <- structure(c(1, 2), .Dim = c(1.5, 2))", ".Dim must hold whole numbers >= 0"),
        ("x <- structure(c(1, 2), .Dim = c(2), .Dim = c(2))", ".Dim is given twice"),
        ('x <- c(1, "a")', "c(...) mixes numbers and strings"),
        ('x <- as.integer("a")', "as.integer(...) cannot convert strings"),
        ("x <- 1:Inf", "a range a:b needs two finite numbers"),
        ("x <- 1:1e12", "more than 10000000 elements"),
        ("x <- numeric(-1)", "numeric(n) needs a whole number n >= 0"),
        pytest.param("x <- " + "c(" * 3000 + ")" * 3000, "nested too deeply", id="deep-nesting"),
    ],
)
def test_value_errors(text, message):
    problem = error(text, name="data.R")
    assert message in problem.message
    assert problem.span.line == 1


def test_structure_error_points_at_the_structure():
    problem = error("N <- 3\nY <- structure(c(1, 2, 3), .Dim = c(2L, 2L))")
    assert (problem.span.line, problem.span.column) == (2, 6)


def test_name_given_twice_in_one_file():
    problem = error("x <- 1\ny <- 2\n  x <- 3", name="d.R")
    assert problem.message == "'x' is given twice"
    assert (problem.span.line, problem.span.column) == (3, 3)
    (note, first), = problem.notes
    assert note == "first given here" and (first.line, first.column) == (1, 1)
    assert "first given here" in str(problem)
    assert error("list(a = 1, a = 2)").span.column == 13


# ---- big files ------------------------------------------------------------------------------------


def test_a_million_numbers_read_fast(tmp_path):
    """The budget is 3 s of CPU (process time, so that other work on the machine does not count)."""
    numbers = np.random.default_rng(1).integers(0, 1000, 10**6).astype(float)
    numbers[::1000] = np.nan
    cells = [str(int(v)) for v in np.nan_to_num(numbers)]
    cells[::1000] = ["NA"] * len(cells[::1000])
    path = tmp_path / "big-data.R"
    path.write_text('"y" <-\nc(' + ", ".join(cells).replace(", 5", ",\n5") + ')\n"N" <- 1000000L\n')
    start = time.process_time()
    data = read_data_file(path)
    elapsed = time.process_time() - start
    assert same(data["y"].value, numbers) and same(data["N"].value, 1e6)
    assert elapsed < 3.0, f"reading 10^6 numbers took {elapsed:.2f} s of CPU"


# ---- JSON ------------------------------------------------------------------------------------------


def test_json_values():
    data = values(
        '{"N": 3, "x": [1, null, 3.5], "Y": [[1, 2, 3], [4, 5, 6]], "Z": %s, "b": [true, false],'
        ' "s": ".RNG", "cv": ["a", "b"], "e": []}' % np.arange(1, 25).reshape(2, 3, 4).tolist(),
        fmt="json",
    )
    assert same(data["N"], 3) and same(data["x"], [1, math.nan, 3.5]) and same(data["b"], [1, 0])
    assert same(data["Y"], [[1, 2, 3], [4, 5, 6]])  # row-major
    for i, j, k in np.ndindex(2, 3, 4):
        assert data["Z"][i, j, k] == 1 + 12 * i + 4 * j + k
    assert data["s"].shape == () and data["s"].item() == ".RNG"
    assert data["cv"].tolist() == ["a", "b"] and same(data["e"], np.empty(0))


def test_json_is_guessed_from_the_extension(tmp_path):
    path = tmp_path / "d.json"
    path.write_text('{"y": [1, 2]}')
    assert same(read_data_file(path)["y"].value, [1, 2])


@pytest.mark.parametrize(
    "text, line, column, message",
    [
        ('{"y": [[1, 2], [3]]}', 1, 2, "'y' is ragged"),
        ('{"y": [1, [2]]}', 1, 2, "'y' is ragged"),
        ('{"y": {"a": 1}}', 1, 2, "'y' holds a JSON object"),
        ('{"y": ["a", 1]}', 1, 2, "'y' mixes numbers and strings"),
        ('{\n  "a": 1,\n  "b": [1, 2\n}', 4, 1, "invalid JSON: expected ',' delimiter"),
        ('{"y": [1, 2,]}', 1, 13, "invalid JSON: expected value"),
        ('{"y" 1}', 1, 6, "expected ':' after '\"y\"', found '1'"),
        ("[1, 2]", 1, 1, "expected '{' at the start of a JSON data file"),
        ('{"y": 1} x', 1, 10, "expected the end of the file after the JSON object"),
        ('{"a": 1,\n "a": 2}', 2, 2, "'a' is given twice"),
    ],
)
def test_json_errors(text, line, column, message):
    problem = error(text, fmt="json", name="d.json")
    assert (problem.span.source.name, problem.span.line, problem.span.column) == ("d.json", line, column)
    assert message in problem.message


# ---- CSV ------------------------------------------------------------------------------------------


def test_csv_columns_become_vectors():
    data = values("y, n ,name,z\n1,20,a,NA\n2.5,,b,null\n-3,NA,c,\n", fmt="csv")
    assert same(data["y"], [1, 2.5, -3]) and same(data["n"], [20, math.nan, math.nan])
    assert data["name"].dtype == object and data["name"].tolist() == ["a", "b", "c"]
    assert same(data["z"], [math.nan] * 3)


def test_csv_skips_r_row_names_and_blank_lines():
    data = values('"","y"\n"1",2\n\n"2",3\n', fmt="csv")
    assert list(data) == ["y"] and same(data["y"], [2, 3])


@pytest.mark.parametrize(
    "text, line, message",
    [("a,b\n1,2\n3\n", 3, "this row has 1 cell(s) but the header has 2"), ("a,b,a\n1,2,3\n", 1, "'a' is given twice")],
)
def test_csv_errors(text, line, message):
    problem = error(text, fmt="csv", name="d.csv")
    assert problem.span.line == line and message in problem.message


def test_shared_csv_data_sets():
    if not SHARED.is_dir():
        pytest.skip(f"../shared not found at {SHARED}")
    data = read_data_file(SHARED / "data" / "rat_tumors.csv")
    assert len(data["tumors"].value) == len(data["rats"].value) == 70
    schools = read_data_file(SHARED / "data" / "eight_schools.csv")
    assert schools["school"].value.dtype == object and same(schools["y"].value[:3], [28, 8, -3])


# ---- files and merging ------------------------------------------------------------------------------


def test_missing_file_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="data file '.*x.R' does not exist"):
        read_data_file(tmp_path / "x.R")
    with pytest.raises(UsageError, match="cannot read data file"):
        read_data_file(tmp_path)


def test_unknown_format_is_a_usage_error():
    with pytest.raises(UsageError, match="unknown data format 'xml'"):
        read_data_text("x <- 1", fmt="xml")


def test_undecodable_file_is_a_data_error(tmp_path):
    path = tmp_path / "bad.R"
    path.write_bytes(b"x <- 1\ny <- \xff\n")
    problem = pytest.raises(DataFileError, read_data_file, path).value
    assert "not UTF-8" in problem.message and (problem.span.line, problem.span.column) == (2, 6)


def test_merge_data_refuses_a_name_in_two_files(tmp_path):
    first, second = tmp_path / "a-data.R", tmp_path / "b-data.json"
    first.write_text("N <- 3\nx <- c(1, 2, 3)\n")
    second.write_text('{"y": [1, 2],\n "x": [4, 5, 6]}')
    merged = merge_data([read_data_file(first), {"z": read_data_file(second)["y"]}])
    assert sorted(merged) == ["N", "x", "z"]
    with pytest.raises(DataFileError) as caught:
        merge_data([read_data_file(first), read_data_file(second)])
    problem = caught.value
    assert problem.message == "'x' is given twice"
    assert (problem.span.source.name, problem.span.line) == (str(second), 2)
    (note, place), = problem.notes
    assert note == "first given here" and (place.source.name, place.line) == (str(first), 2)


# ---- the classic BUGS examples -------------------------------------------------------------------


def classic_files() -> list[Path]:
    if not CLASSIC.is_dir():
        return []
    files = set(CLASSIC.glob("*/*-data.R")) | set(CLASSIC.glob("*/*-init*.R"))
    return sorted(path for path in files if not path.name.startswith("bench-"))


def test_every_classic_bugs_data_and_inits_file_reads():
    if not CLASSIC.is_dir():
        pytest.skip(f"the classic BUGS examples are not at {CLASSIC} (../shared is absent)")
    files = classic_files()
    assert len(files) > 30
    for path in files:
        assert read_data_file(path), path


def test_classic_bugs_known_values():
    if not CLASSIC.is_dir():
        pytest.skip(f"the classic BUGS examples are not at {CLASSIC} (../shared is absent)")
    rats = read_data_file(CLASSIC / "rats" / "rats-data.R")
    assert rats["Y"].value.shape == (30, 5)
    assert same(rats["Y"].value[0], [151, 199, 246, 283, 320])
    assert same(rats["x"].value, [8, 15, 22, 29, 36]) and same(rats["N"].value, 30)
    equiv = read_data_file(CLASSIC / "equiv" / "equivmiss-data.R")["Y"].value
    assert np.isnan(equiv[0, 0]) and equiv[1, 0] == 1.64
    dyes = read_data_file(CLASSIC / "dyes" / "dyes-data.R")["y"].value
    assert same(dyes[:, 0], [1545, 1540, 1595, 1445, 1595, 1520])
    inhaler = read_data_file(CLASSIC / "inhaler" / "inhaler-data.R")["pattern"].value
    assert inhaler.shape == (16, 2) and same(inhaler[4], [2, 1])


# ---- untrusted input ------------------------------------------------------------------------------

R_PIECES = [
    "c(", ")", ",", "<-", "=", ":", ";", "\n", " ", "1", "-2", ".5", "1e3", "5L", "NA", "Inf", "-Inf", "NaN",
    "TRUE", '"a"', "'b'", "`n`", "x", "y.z", "structure(", ".Dim", ".Data", "list(", "NULL", "as.integer(",
    "integer(", "numeric(", "#c\n", "{", "}", "[", "]", '"k":', "null", "true", "2,3\n",
]


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    text=st.one_of(st.text(), st.lists(st.sampled_from(R_PIECES), max_size=30).map("".join)),
    fmt=st.sampled_from([None, "rdump", "bugs", "json", "csv"]),
)
def test_arbitrary_text_gives_data_or_a_data_file_error(text, fmt):
    try:
        data = read_data_text(text, fmt=fmt)
    except DataFileError as problem:
        assert problem.span is not None
        str(problem)
    else:
        assert all(isinstance(value.value, np.ndarray) for value in data.values())
