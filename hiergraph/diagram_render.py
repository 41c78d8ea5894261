"""Drawing a diagram specification (:mod:`hiergraph.diagram`) with graphviz, and writing it.

The conventions of plate notation: stochastic nodes are ellipses, deterministic nodes
double ellipses, observed nodes shaded (lightly, with a count, where only some of a group's
nodes are observed), data boxes; plates are clusters labelled in their lower right corner,
nested as the loops are. Graphs run top to bottom, hyperparameters to data. A latent group's
sampler is a smaller second line of its label.

Node ids in the DOT text are the specification's ids with ``:`` written as ``∶`` (U+2236),
because graphviz reads ``a:b`` in an edge as node ``a``, port ``b``; BUGS text is ASCII, so
the ids stay distinct.
"""

from __future__ import annotations

import html
import textwrap
from pathlib import Path

import graphviz

from .diagram import Diagram, Node
from .errors import UsageError

FORMATS = (".svg", ".png", ".pdf", ".dot")
_WIDTH = 50  # characters per label line before a statement wraps
_FONT = "Helvetica"
_NO_DOT = ("cannot draw {path}: graphviz's 'dot' program is not installed (install the graphviz "
           "package: 'apt-get install graphviz' on Debian or Ubuntu, 'brew install graphviz' "
           "with Homebrew, 'conda install graphviz' with conda), or write a .dot file instead")


def to_graphviz(diagram: Diagram) -> graphviz.Digraph:
    """The diagram as a ``graphviz.Digraph``: plates as nested clusters, in sorted order."""
    dot = graphviz.Digraph(
        "model",
        graph_attr={"rankdir": "TB", "fontname": _FONT, "fontsize": "12", "nodesep": "0.3",
                    "ranksep": "0.45"},
        node_attr={"fontname": _FONT, "fontsize": "12"},
        edge_attr={"color": "gray30", "arrowsize": "0.7"})
    inner = {None: []}
    for plate in diagram.plates:
        inner.setdefault(plate.parent, []).append(plate)
    members = {}
    for node in diagram.nodes:
        members.setdefault(node.plate, []).append(node)
    _fill(dot, None, inner, members)
    for parent, child in diagram.edges:
        dot.edge(_dot_id(parent), _dot_id(child))
    return dot


def _fill(graph, plate, inner, members):
    """Draw a plate's nodes, then its inner plates as clusters, recursively."""
    for node in members.get(plate, []):
        graph.node(_dot_id(node.id), _label(node), **_style(node))
    for child in inner.get(plate, []):
        with graph.subgraph(name=f"cluster {child.id}") as cluster:
            cluster.attr(label=child.label, labeljust="r", labelloc="b", style="rounded",
                         color="gray40", margin="10")
            _fill(cluster, child.id, inner, members)


def _dot_id(id: str) -> str:
    return id.replace(":", "\N{RATIO}")


def _label(node: Node) -> str:
    """An HTML-like label: the wrapped statement, then notes in a smaller font."""
    lines = [html.escape(line) for line in
             textwrap.wrap(node.label, _WIDTH, subsequent_indent="    ", break_long_words=False)]
    if 0 < node.observed < node.size:
        lines.append(f'<FONT POINT-SIZE="10">{node.observed} of {node.size} observed</FONT>')
    if node.sampler:
        lines.append(f'<FONT POINT-SIZE="10" COLOR="#1f4e9a">sampler: '
                     f'{html.escape(node.sampler)}</FONT>')
    return f"<{'<BR/>'.join(lines)}>"


def _style(node: Node) -> dict[str, str]:
    if node.kind == "data":
        return {"shape": "box"}
    style = {"shape": "ellipse"}
    if node.kind == "deterministic":
        style["peripheries"] = "2"
    if node.observed:
        style.update(style="filled", fillcolor="gray75" if node.observed == node.size else "gray90")
    return style


def write_diagram(dot: graphviz.Digraph, path) -> Path:
    """Write ``dot`` to ``path`` as SVG, PNG, PDF (drawn by graphviz's ``dot``) or DOT text."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"cannot write {path}: a diagram is written as {', '.join(FORMATS[:-1])} "
                         f"or {FORMATS[-1]}, chosen by the file name's ending")
    try:
        content = dot.source.encode() if suffix == ".dot" else dot.pipe(format=suffix[1:])
    except graphviz.ExecutableNotFound:
        raise UsageError(_NO_DOT.format(path=path)) from None
    try:
        path.write_bytes(content)
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror}") from None
    return path
