"""Errors a user can act on.

Every mistake in a user's input (a model file, a data file, a command line) becomes a
:class:`HiergraphError` that knows where it happened: the source text, and the line and
column. ``str(error)`` renders it as a compiler would::

    rats.bug:5:14: error: unknown distribution 'dnrom'; did you mean 'dnorm'?
        5 |     Y[i,j] ~ dnrom(mu[i,j], tau.c)
          |              ^^^^^

Further places (the first definition of a node defined twice, the other nodes on a
cycle) are attached as notes and rendered the same way below the main message.
"""

from __future__ import annotations

from dataclasses import dataclass


EXCERPT_WIDTH = 100  # characters of a source line quoted under an error


@dataclass(frozen=True)
class Source:
    """A named text that spans point into (a model file, a data file, a string)."""

    name: str
    text: str

    def line_text(self, line: int) -> str:
        lines = self.text.split("\n")  # as lark counts lines
        return lines[line - 1] if 1 <= line <= len(lines) else ""


@dataclass(frozen=True)
class Span:
    """A 1-based line and column range in a :class:`Source`."""

    source: Source
    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None

    @property
    def location(self) -> str:
        return f"{self.source.name}:{self.line}:{self.column}"

    def excerpt(self) -> str:
        """The source line with a caret (or a run of carets) under the span. A long line (data
        files often hold a whole vector on one) is cut to the part around the span."""
        text = self.source.line_text(self.line).expandtabs(1)
        width = 1
        if self.end_line == self.line and self.end_column and self.end_column > self.column:
            width = self.end_column - self.column
        start = self.column - 1
        if len(text) > EXCERPT_WIDTH:
            width = min(width, EXCERPT_WIDTH // 2)
            first = max(0, min(start - EXCERPT_WIDTH // 3, len(text) - EXCERPT_WIDTH))
            before, after = ("..." if first > 0 else ""), ("..." if first + EXCERPT_WIDTH < len(text) else "")
            text = before + text[first:first + EXCERPT_WIDTH] + after
            start += len(before) - first
        gutter = f"{self.line:>5} | "
        caret = " " * (len(gutter) - 2) + "| " + " " * start + "^" * width
        return f"{gutter}{text}\n{caret}"


class HiergraphError(Exception):
    """A mistake in the user's input, with the place it was found.

    ``notes`` are further ``(message, span)`` pairs (the other definition, the rest of a
    cycle). ``span`` may be None for errors with no place in a file (a missing file).
    """

    kind = "error"

    def __init__(self, message: str, span: Span | None = None, notes=()):
        super().__init__(message)
        self.message = message
        self.span = span
        self.notes = tuple(notes)

    def __str__(self) -> str:
        parts = [self._render(self.message, self.span, self.kind)]
        parts += [self._render(msg, span, "note") for msg, span in self.notes]
        return "\n".join(parts)

    @staticmethod
    def _render(message: str, span: Span | None, kind: str) -> str:
        if span is None:
            return f"{kind}: {message}"
        return f"{span.location}: {kind}: {message}\n{span.excerpt()}"


class HiergraphWarning(HiergraphError):
    """Not an error: something a user probably did not mean (an unused data variable).

    Collected rather than raised, and shown like an error with the word "warning".
    """

    kind = "warning"


class SpecSyntaxError(HiergraphError):
    """The model text does not parse."""


class DataFileError(HiergraphError):
    """A data or initial-values file does not parse, or its contents contradict each other."""


class ModelError(HiergraphError):
    """The model parses but is not a valid model with this data (names, indices, cycles...)."""


class UsageError(HiergraphError):
    """A command-line or API call that cannot be carried out (missing file, bad option)."""
