"""The run report as one self-contained HTML page: inline CSS, the pipeline graphs as inline
SVG laid out here, a few lines of script to trace a dataset's lineage on click, and nothing
fetched from anywhere. Every value is escaped by the template (Jinja2's autoescape).

Example:
    >>> Path("report.html").write_text(render_report(build_report(find_domains(), storage)))  # doctest: +SKIP
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import jinja2

from lakehouse.operations.durations import ago, span
from lakehouse.operations.run_report import DomainGraph, GraphEdge, GraphNode, RunReport

NODE_WIDTH, NODE_HEIGHT = 196, 44
COLUMN_GAP, ROW_GAP, MARGIN = 48, 14, 12
REPORT_FILE = "report.html"  # in the storage folder, where the demo and `lakehouse report` write it
LABEL_CHARACTERS = 26  # what fits in a node at the page's font size
_LAYER_ORDER = ("landing", "bronze", "view", "silver", "quarantine", "gold", "other")


@dataclass(frozen=True)
class PlacedNode:
    node: GraphNode
    x: int
    y: int

    @property
    def short_label(self) -> str:
        label = self.node.label
        return label if len(label) <= LABEL_CHARACTERS else label[: LABEL_CHARACTERS - 1] + "…"


@dataclass(frozen=True)
class PlacedEdge:
    edge: GraphEdge
    path: str  # SVG path data


@dataclass(frozen=True)
class GraphLayout:
    nodes: tuple[PlacedNode, ...]
    edges: tuple[PlacedEdge, ...]
    width: int
    height: int


def layout_graph(graph: DomainGraph) -> GraphLayout:
    """Columns by the longest path from a source (landing, then bronze, views, silver,
    gold); within a column, each node near the mean row of what feeds it, to cross few edges.

    Example:
        >>> layout = layout_graph(report.domains[0].graph)  # doctest: +SKIP
        >>> layout.width, len(layout.nodes)  # doctest: +SKIP
        (1344, 14)
    """
    feeds: dict[str, list[str]] = defaultdict(list)
    for edge in graph.edges:
        feeds[edge.target].append(edge.source)
    rank: dict[str, int] = {}

    def rank_of(key: str, seen: frozenset[str] = frozenset()) -> int:
        if key not in rank:
            sources = [s for s in feeds[key] if s not in seen]  # a cycle gets no rank from itself
            rank[key] = 1 + max((rank_of(s, seen | {key}) for s in sources), default=-1)
        return rank[key]

    columns: dict[int, list[GraphNode]] = defaultdict(list)
    for node in graph.nodes:
        columns[rank_of(node.key)].append(node)
    row: dict[str, float] = {}
    for column in sorted(columns):
        nodes = sorted(columns[column], key=lambda n: (_LAYER_ORDER.index(n.layer), n.label))
        for index, node in enumerate(nodes):
            fed_by = [row[s] for s in feeds[node.key] if s in row]
            row[node.key] = sum(fed_by) / len(fed_by) if fed_by else float(index)
        columns[column] = sorted(nodes, key=lambda n: (row[n.key], n.label))
        for index, node in enumerate(columns[column]):
            row[node.key] = float(index)
    tallest = max((len(nodes) for nodes in columns.values()), default=0)
    placed: dict[str, PlacedNode] = {}
    for column, nodes in columns.items():
        offset = (tallest - len(nodes)) * (NODE_HEIGHT + ROW_GAP) // 2
        for index, node in enumerate(nodes):
            x = MARGIN + column * (NODE_WIDTH + COLUMN_GAP)
            y = MARGIN + offset + index * (NODE_HEIGHT + ROW_GAP)
            placed[node.key] = PlacedNode(node, x, y)
    edges = []
    for edge in graph.edges:
        start, end = placed[edge.source], placed[edge.target]
        x1, y1 = start.x + NODE_WIDTH, start.y + NODE_HEIGHT // 2
        x2, y2 = end.x - 6, end.y + NODE_HEIGHT // 2  # room for the arrow head
        bend = max(COLUMN_GAP // 2, (x2 - x1) // 3)
        edges.append(PlacedEdge(edge, f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"))
    width = 2 * MARGIN + len(columns) * NODE_WIDTH + max(0, len(columns) - 1) * COLUMN_GAP
    height = 2 * MARGIN + tallest * NODE_HEIGHT + max(0, tallest - 1) * ROW_GAP
    return GraphLayout(tuple(placed.values()), tuple(edges), width, height)


def render_report(report: RunReport) -> str:
    """The report as one HTML page.

    Example:
        >>> html = render_report(build_report(find_domains(), Path(".lakehouse")))  # doctest: +SKIP
        >>> html.startswith("<!DOCTYPE html>")  # doctest: +SKIP
        True
    """
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("lakehouse.operations", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["span"] = span
    environment.filters["ago"] = lambda at: ago(report.generated_at, at)
    template = environment.get_template("report.html.j2")
    return template.render(
        report=report,
        layouts={d.name: layout_graph(d.graph) for d in report.domains},
        node_width=NODE_WIDTH,
        node_height=NODE_HEIGHT,
        layers=_LAYER_ORDER,
    )


def write_report(report: RunReport, out: Path) -> Path:
    """Write the page to ``out`` (its folder created); returns the absolute path.

    Example:
        >>> write_report(report, Path("report.html"))  # doctest: +SKIP
        PosixPath('/work/report.html')
    """
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(report), encoding="utf-8")
    return out
