"""Readers for data and initial-values files: R dump, the BUGS list format, JSON and CSV.

Data files are untrusted input, so they are parsed, never evaluated: the R formats by the
lark grammar ``grammars/rdata.lark``, JSON by the ``json`` module, CSV by the ``csv`` module.
Every value becomes a numpy array (float64 with NaN for a missing element, or an object
array of str for strings) together with the place its name was given, so that later
errors ("given twice", "not in the model") can point at it.

The two R layouts differ in one way that matters: R's ``structure(c(...), .Dim = ...)``
fills an array column-major, the BUGS ``structure(.Data = c(...), .Dim = ...)`` fills it
row-major. Reading one as the other silently transposes the data.

Big files stay fast because the grammar lexes a run of plain numbers inside ``c(...)`` as
one token, which :func:`_numbers` converts with a single numpy call.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from dataclasses import dataclass
from functools import cache
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Iterable

import numpy as np
from lark import Lark, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, VisitError
from lark.lark import PostLex
from lark.lexer import PatternStr

from .errors import DataFileError, Source, Span, UsageError
from .grammar_files import grammar_text

FORMATS = ("rdump", "bugs", "json", "csv")

# Ranges and typed vectors are built from a few characters of text; this bounds what one
# can ask for (10^7 doubles = 80 MB).
_MAX_GENERATED = 10**7


@dataclass(frozen=True, eq=False)
class DataValue:
    """One named value from a data file, with the place its name is given.

    ``value`` is float64 (NaN = missing) with shape () for a scalar, (n,) for a vector and
    the ``.Dim`` for an array; or an object array of str for strings.
    """

    value: np.ndarray
    span: Span


def read_data_file(path: str | os.PathLike, fmt: str | None = None) -> dict[str, DataValue]:
    """Read a data or initial-values file; ``fmt`` None guesses from the name and contents."""
    return read_data_text(_read_text(Path(path)), name=str(path), fmt=fmt)


def read_data_text(text: str, name: str = "<data>", fmt: str | None = None) -> dict[str, DataValue]:
    """Read data from a string; ``name`` is what error messages call it."""
    text = text.replace("\r\n", "\n")
    fmt = fmt or _guess_format(name, text)
    if fmt not in FORMATS:
        raise UsageError(f"unknown data format '{fmt}'; expected one of {', '.join(FORMATS)}")
    source = Source(name, text)
    if fmt == "json":
        return _by_name(_read_json(source))
    if fmt == "csv":
        return _by_name(_read_csv(source))
    return _by_name(_read_r(source, fmt))


def merge_data(datasets: Iterable[dict[str, DataValue]]) -> dict[str, DataValue]:
    """Put several files' data together; a name in two of them is an error, not an override."""
    merged: dict[str, DataValue] = {}
    for dataset in datasets:
        for name, value in dataset.items():
            if name in merged:
                raise _given_twice(name, value.span, merged[name].span)
            merged[name] = value
    return merged


# ---- shared helpers ------------------------------------------------------------------------


def _read_text(path: Path) -> str:
    """The file's text; a file that cannot be read is a usage error, bad bytes a data error."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"data file '{path}' does not exist") from None
    except OSError as error:
        raise UsageError(f"cannot read data file '{path}': {error.strerror or error}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        text = data.decode("utf-8", errors="replace")
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - data.rfind(b"\n", 0, error.start)
        span = Span(Source(str(path), text), line, column)
        raise DataFileError(f"'{path}' is not UTF-8 text", span) from None


_BUGS_LIST_START = re.compile(r"(?:\s|#[^\n]*)*list\s*\(")


def _guess_format(name: str, text: str) -> str:
    """JSON and CSV by extension; R syntax otherwise, the BUGS layout if it opens with list(."""
    suffix = Path(name).suffix.lower()
    if suffix in (".json", ".csv"):
        return suffix[1:]
    return "bugs" if _BUGS_LIST_START.match(text) else "rdump"


def _by_name(entries: Iterable[tuple[str, Span, np.ndarray]]) -> dict[str, DataValue]:
    """Name -> value, refusing a name given twice in one file."""
    found: dict[str, DataValue] = {}
    for name, span, value in entries:
        if name in found:
            raise _given_twice(name, span, found[name].span)
        found[name] = DataValue(value, span)
    return found


def _given_twice(name: str, span: Span, first: Span) -> DataFileError:
    return DataFileError(f"'{name}' is given twice", span, notes=[("first given here", first)])


def _offset_span(source: Source, start: int, end: int | None = None) -> Span:
    """A span from character offsets (for the readers whose parsers report offsets)."""
    line = source.text.count("\n", 0, start) + 1
    column = start - source.text.rfind("\n", 0, start)
    if end is None or "\n" in source.text[start:end]:
        return Span(source, line, column)
    return Span(source, line, column, line, column + end - start)


def _shown(text: str, limit: int = 24, start: bool = False) -> str:
    """A token quoted for a message, shortened when it is a long run of numbers: to its end
    where it precedes the error, to its ``start`` where the error is the token."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return f"'{text}'"
    return f"'{text[:limit]}...'" if start else f"'...{text[-limit:]}'"


# ---- R syntax: R dump and the BUGS list format ---------------------------------------------


class _NewlinesInBrackets(PostLex):
    """R continues a statement over newlines inside brackets: only newlines outside reach the parser."""

    always_accept = ("_NL",)

    def process(self, stream):
        depth = 0
        for token in stream:
            if token.type == "LPAR":
                depth += 1
            elif token.type == "RPAR":
                depth = max(depth - 1, 0)
            elif token.type == "_NL" and depth:
                continue
            yield token


@cache
def _r_parser() -> Lark:
    return Lark(
        grammar_text("rdata.lark"),
        parser="lalr",
        start=["rdump", "bugs"],
        postlex=_NewlinesInBrackets(),
        propagate_positions=True,
        maybe_placeholders=False,
        cache=True,  # as the model grammar's (hiergraph.parser._lark)
    )


def _read_r(source: Source, layout: str) -> list[tuple[str, Span, np.ndarray]]:
    """Parse with the grammar, then build arrays (column-major for R dump, row-major for BUGS)."""
    tree = _parse_r(source, layout)
    try:
        return _RValues(source, "F" if layout == "rdump" else "C").transform(tree)
    except VisitError as error:
        if isinstance(error.orig_exc, RecursionError):
            raise _too_deep(source) from None
        raise error.orig_exc from None
    except RecursionError:
        raise _too_deep(source) from None


def _too_deep(source: Source) -> DataFileError:
    return DataFileError("values are nested too deeply", Span(source, 1, 1))


def _parse_r(source: Source, layout: str):
    """The parse tree; a syntax error says what could follow the last good token."""
    parser = _r_parser().parse_interactive(source.text, start=layout)
    accepted = pending = None  # the last token fed without error, and the one being fed
    try:
        for token in parser.iter_parse():
            accepted, pending = pending, token
        return parser.feed_eof()
    except UnexpectedInput as error:
        previous = accepted if getattr(error, "token", None) is pending else pending
        raise _syntax_error(source, error, parser.accepts(), previous) from None


def _syntax_error(source: Source, error: UnexpectedInput, expected: set[str], previous) -> DataFileError:
    """Names what was expected (exactly: LALR's own expected sets are merged across contexts)."""
    if isinstance(error, UnexpectedCharacters):
        span = Span(source, error.line, error.column)
        if error.char in "\"'`":
            return DataFileError(f"this string has no closing {error.char}", span)
        found = _shown(error.char)
    elif error.token.type == "$END":
        found, span = "the end of the file", _offset_span(source, len(source.text.rstrip()))
    else:
        found, span = _describe_found(error.token), _token_span(source, error.token)
    after = f" after {_shown(previous)}" if previous is not None and previous.type != "_NL" else ""
    return DataFileError(f"expected {_describe(expected)}{after}, found {found}", span)


def _describe_found(token) -> str:
    return "the end of the line" if token.type == "_NL" else _shown(token, start=True)


# How each terminal is named in "expected ..." messages, in the order they are listed;
# "" leaves a terminal out (a rarer spelling of something already listed).
_PHRASES = {
    "NAME": "a name",
    "NUMBER": "a number",
    "NA": "NA",
    "STRING": "a string",
    "C": "c(...)",
    "STRUCTURE": "structure(...)",
    "LIST": "list(...)",
    "NULL": "NULL",
    "_ARROW": "'<-'",
    "EQUAL": "'='",
    "COMMA": "','",
    "RPAR": "')'",
    "_NL": "a new line",
    "SEMICOLON": "';'",
    "$END": "the end of the file",
    "NUMBER_RUN": "",
    "LOGICAL": "",
    "BACKQUOTED": "",
    "VECTOR_TYPE": "",
    "CONVERSION": "",
    "COLON": "",
}


def _describe(expected: Iterable[str]) -> str:
    """'a number, NA, c(...) or structure(...)' from a set of terminal names."""
    expected = set(expected)
    if expected & {"NAME", "NUMBER"}:
        expected.discard("STRING")  # quoted names and strings in values are rarer spellings
    if "NAME" in expected:
        expected -= {"_NL", "SEMICOLON", "$END"}  # where a statement may start, ask for that
    if "SEMICOLON" not in expected:
        expected.discard("_NL")  # a new line is worth naming only where a statement may end
    if "_NL" in expected:
        expected.discard("$END")
    rank = {name: index for index, name in enumerate(_PHRASES)}
    phrases = [_phrase(name) for name in sorted(expected, key=lambda n: (rank.get(n, len(rank)), n))]
    phrases = list(dict.fromkeys(p for p in phrases if p)) or ["something else"]
    return phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " or " + phrases[-1]


def _phrase(terminal: str) -> str:
    """The table's phrase, else the quoted text of a literal terminal such as '(' or '.Dim'."""
    if terminal in _PHRASES:
        return _PHRASES[terminal]
    pattern = _r_parser().get_terminal(terminal).pattern
    return f"'{pattern.value}'" if isinstance(pattern, PatternStr) else terminal.lower()


def _token_span(source: Source, token) -> Span:
    return Span(source, token.line, token.column, token.end_line, token.end_column)


def _meta_span(source: Source, meta) -> Span:
    return Span(source, meta.line, meta.column, meta.end_line, meta.end_column)


_NUMBER_WORDS = (("NA_real_", "nan"), ("NA_integer_", "nan"), ("NA", "nan"), ("TRUE", "1"), ("FALSE", "0"), ("L", ""))


def _numbers(text: str) -> np.ndarray:
    """The numbers of a comma-separated run the grammar has checked, converted in one numpy call."""
    for word, replacement in _NUMBER_WORDS:
        if word in text:
            text = text.replace(word, replacement)
    return np.array(text.split(","), dtype=float)


def _unquote(text: str) -> str:
    """The contents of an R string literal, with its backslash escapes resolved."""
    escapes = {"n": "\n", "t": "\t", "r": "\r", "0": "\0"}
    return re.sub(r"\\([\s\S])", lambda m: escapes.get(m.group(1), m.group(1)), text[1:-1])


@v_args(meta=True, inline=True)
class _RValues(Transformer):
    """Parse tree -> (name, span, array) entries; ``order`` is how structure() fills arrays."""

    def __init__(self, source: Source, order: str):
        super().__init__()
        self._source = source
        self._order = order

    def rdump(self, meta, *entries):
        return list(entries)

    bugs = rdump

    def assignment(self, meta, name, value):
        return (*name, value)

    member = assignment

    def name(self, meta, token):
        text = str(token)
        name = _unquote(text) if token.type in ("STRING", "BACKQUOTED") else text
        return name, _token_span(self._source, token)

    def number(self, meta, token):
        return _numbers(str(token)).reshape(())

    def number_run(self, meta, token):
        return _numbers(str(token))

    def string(self, meta, token):
        return np.array(_unquote(str(token)), dtype=object)

    def vector(self, meta, *elements):
        """c(...) flattens its elements (arrays in the file's storage order), as R does."""
        parts = [np.ravel(element, order=self._order) for element in elements]
        parts = [part for part in parts if part.size]
        if len({part.dtype == object for part in parts}) > 1:
            raise DataFileError("c(...) mixes numbers and strings", _meta_span(self._source, meta))
        return np.concatenate(parts) if parts else np.empty(0)

    def range(self, meta, start, stop):
        """a:b steps by 1 (or -1) from a while it does not pass b, as in R."""
        first, last = _scalar(start), _scalar(stop)
        span = _meta_span(self._source, meta)
        if not (math.isfinite(first) and math.isfinite(last)):
            raise DataFileError("a range a:b needs two finite numbers", span)
        _check_generated(abs(last - first) + 1, span)
        count = math.floor(abs(last - first) + 1e-10) + 1
        return first + math.copysign(1, last - first) * np.arange(count, dtype=float)

    def typed_vector(self, meta, kind, length):
        n = _scalar(length)
        span = _meta_span(self._source, meta)
        if not (math.isfinite(n) and n >= 0 and n == math.floor(n)):
            raise DataFileError(f"{kind}(n) needs a whole number n >= 0", span)
        _check_generated(n, span)
        return np.full(int(n), "", dtype=object) if kind == "character" else np.zeros(int(n))

    def conversion(self, meta, kind, value):
        """as.integer truncates (and, like R, drops dimensions); as.double/as.numeric only drop them."""
        if value.dtype == object:
            raise DataFileError(f"{kind}(...) cannot convert strings", _meta_span(self._source, meta))
        if value.ndim > 1:
            value = np.ravel(value, order=self._order)
        if kind == "as.integer":
            return np.where(np.abs(value) < 2**31, np.trunc(value), np.nan)  # out of range: NA, as in R
        return value

    def structure(self, meta, data, *attributes):
        dims = [attribute for attribute in attributes if attribute is not None]
        if not dims:
            return data
        if len(dims) > 1:
            raise DataFileError(".Dim is given twice", dims[1][1])
        shape = _dimensions(*dims[0])
        values = np.ravel(data, order=self._order)
        if math.prod(shape) != values.size:
            message = f"structure(...) has {values.size} values but .Dim = {_r_vector(shape)} needs {math.prod(shape)}"
            raise DataFileError(message, _meta_span(self._source, meta))
        try:
            return np.reshape(values, shape, order=self._order)
        except ValueError:  # an empty array whose other extents overflow
            raise DataFileError(f".Dim = {_r_vector(shape)} is too large", dims[0][1]) from None

    def structure_data(self, meta, value):
        return value

    def dim_attribute(self, meta, value):
        return value, _meta_span(self._source, meta)

    def other_attribute(self, meta, *children):
        return None

    null = r_list = list_item = other_attribute


def _scalar(token) -> float:
    return float(_numbers(str(token))[0])


def _check_generated(count: float, span: Span) -> None:
    if count > _MAX_GENERATED:
        raise DataFileError(f"this asks for more than {_MAX_GENERATED} elements, the most a data file may generate", span)


def _dimensions(value: np.ndarray, span: Span) -> tuple[int, ...]:
    """The .Dim as a shape: whole numbers >= 0."""
    dims = np.ravel(value)
    if value.dtype == object or not np.all(np.isfinite(dims) & (dims >= 0) & (dims == np.trunc(dims))):
        raise DataFileError(".Dim must hold whole numbers >= 0", span)
    return tuple(int(d) for d in dims)


def _r_vector(shape: tuple[int, ...]) -> str:
    return f"c({', '.join(map(str, shape))})"


# ---- JSON ------------------------------------------------------------------------------------

_JSON_SPACE = re.compile(r"[ \t\n\r]*")


def _read_json(source: Source) -> list[tuple[str, Span, np.ndarray]]:
    """Walk the top-level object so each name keeps its place; the json module reads each part."""
    text, decoder = source.text, json.JSONDecoder()
    pos = _json_expect(source, _JSON_SPACE.match(text, 0).end(), "{", "'{' at the start of a JSON data file")
    entries = []
    pos = _JSON_SPACE.match(text, pos).end()
    if text.startswith("}", pos):
        pos += 1
    else:
        while True:
            entry, pos = _json_member(source, decoder, pos)
            entries.append(entry)
            pos = _JSON_SPACE.match(text, pos).end()
            if not text.startswith(",", pos):
                pos = _json_expect(source, pos, "}", "',' or '}' after a value")
                break
            pos = _JSON_SPACE.match(text, pos + 1).end()
    _json_expect(source, _JSON_SPACE.match(text, pos).end(), "", "the end of the file after the JSON object")
    return entries


def _json_expect(source: Source, pos: int, literal: str, what: str) -> int:
    """Position after ``literal`` at ``pos`` ("" = the end of the text), or an error saying what was expected."""
    at_end = pos >= len(source.text)
    if (literal and source.text.startswith(literal, pos)) or (not literal and at_end):
        return pos + len(literal)
    found = "the end of the file" if at_end else _shown(source.text[pos])
    raise DataFileError(f"expected {what}, found {found}", _offset_span(source, pos))


def _json_member(source: Source, decoder: json.JSONDecoder, pos: int):
    """One '"name": value' member -> ((name, span, array), position after it)."""
    text = source.text
    _json_expect(source, pos, '"', "a name in double quotes")
    try:
        name, end = json.decoder.scanstring(text, pos + 1)
        span = _offset_span(source, pos, end)
        colon = _json_expect(source, _JSON_SPACE.match(text, end).end(), ":", f"':' after {_shown(text[pos:end])}")
        value, after = decoder.raw_decode(text, _JSON_SPACE.match(text, colon).end())
        return (name, span, _json_array(value, name, span)), after
    except json.JSONDecodeError as error:
        message = error.msg.replace("Expecting", "expected").replace("Unterminated", "unterminated")
        raise DataFileError(f"invalid JSON: {message}", _offset_span(source, error.pos)) from None
    except RecursionError:
        raise DataFileError(f"'{name}' is nested too deeply", span) from None


def _json_array(value, name: str, span: Span) -> np.ndarray:
    """Nested (row-major) lists -> an array; a ragged nesting or a JSON object is an error."""
    shape = _json_shape(value, name, span)
    leaves = value
    for _ in range(len(shape) - 1):
        leaves = list(chain.from_iterable(leaves))
    leaves = leaves if shape else [leaves]
    kinds = {type(leaf) for leaf in leaves}
    if dict in kinds:
        raise DataFileError(f"'{name}' holds a JSON object; expected numbers, null, strings or lists", span)
    if str in kinds:
        if kinds != {str}:
            raise DataFileError(f"'{name}' mixes numbers and strings", span)
        return np.array(leaves, dtype=object).reshape(shape)
    try:
        return np.array([np.nan if leaf is None else leaf for leaf in leaves], dtype=float).reshape(shape)
    except OverflowError:
        raise DataFileError(f"'{name}' holds a number too large for a float", span) from None


def _json_shape(value, name: str, span: Span) -> tuple[int, ...]:
    """The shape of nested lists, which must be rectangular."""
    if not isinstance(value, list):
        return ()
    if not any(isinstance(item, list) for item in value):
        return (len(value),)
    shapes = {_json_shape(item, name, span) for item in value}
    if len(shapes) > 1 or () in shapes:
        raise DataFileError(f"'{name}' is ragged: its nested lists differ in length", span)
    return (len(value), *shapes.pop())


# ---- CSV ---------------------------------------------------------------------------------------

# Cells that mean something other than their text in a numeric column.
_CSV_WORDS = {"": "nan", "NA": "nan", "null": "nan", "TRUE": "1", "FALSE": "0"}


def _read_csv(source: Source) -> list[tuple[str, Span, np.ndarray]]:
    """One column per vector, named by the header row; a column with an empty name (R's row names) is skipped."""
    rows = _csv_rows(source)
    if not rows:
        return []
    header, body = rows[0], rows[1:]
    _check_rectangular(source, len(header), body)
    columns = [list(map(itemgetter(index), body)) for index in range(len(header))]
    line = len(source.text) - len(source.text.lstrip("\n")) + 1
    places = _header_columns(source.text.split("\n", line)[line - 1], header)
    return [
        (name.strip(), Span(source, line, column, line, column + len(name)), _csv_column(cells))
        for name, column, cells in zip(header, places, columns)
        if name.strip()
    ]


def _csv_rows(source: Source) -> list[list[str]]:
    """The non-blank records (read in one go: a Python loop per row is slow for big files)."""
    reader = csv.reader(io.StringIO(source.text))
    try:
        return list(filter(None, reader))
    except csv.Error as error:
        raise DataFileError(f"invalid CSV: {error}", Span(source, reader.line_num, 1)) from None


def _check_rectangular(source: Source, width: int, body: list[list[str]]) -> None:
    """Every row as wide as the header; the file is read again only to find a bad row's line."""
    if set(map(len, body)) <= {width}:
        return
    reader = csv.reader(io.StringIO(source.text))
    for cells in reader:
        if cells and len(cells) != width:
            message = f"this row has {len(cells)} cell(s) but the header has {width}"
            raise DataFileError(message, Span(source, reader.line_num, 1))


def _header_columns(line: str, header: list[str]) -> list[int]:
    """1-based columns of the header cells (searched for in the line, as csv does not report them)."""
    columns, start = [], 0
    for name in header:
        found = line.find(name, start)
        columns.append(found + 1 if found >= 0 else start + 1)
        start = found + len(name) if found >= 0 else start
    return columns


def _csv_column(cells: list[str]) -> np.ndarray:
    """A numeric column (NA, null or empty = missing, TRUE/FALSE = 1/0), else its strings."""
    cells = list(map(str.strip, cells))
    if "_" in "".join(cells):  # float() would read 1_000 as 1000: such a column is text
        return np.array(cells, dtype=object)
    try:
        return np.array(list(map(_CSV_WORDS.get, cells, cells)), dtype=float)
    except ValueError:
        return np.array(cells, dtype=object)
