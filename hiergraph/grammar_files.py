"""Locating the grammar files in ``grammars/``.

The grammars live at the project's top level (``grammars/``) so that they are easy to find
and read; a wheel carries them inside the package as ``hiergraph/grammars/`` (see
``pyproject.toml``). This module looks in the installed place first, then in the checkout.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path


@cache
def grammar_text(name: str) -> str:
    """The text of ``grammars/<name>``, from an installed package or from a source checkout."""
    packaged = resources.files("hiergraph").joinpath("grammars", name)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    checkout = Path(__file__).resolve().parent.parent / "grammars" / name
    return checkout.read_text(encoding="utf-8")
