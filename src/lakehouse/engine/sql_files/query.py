"""A pipeline file's query, parsed by Spark's own parser and run over the pipeline's datasets.

Spark parses each query once, when the file loads: a syntax error names the file, line and
column. The plan gives every relation the query reads, with where it is written: a table
(``orders``, ``LIVE.orders``, ``main.sales.orders``), a stream of one (``STREAM(orders)``,
``STREAM orders``) or files (``read_files(...)``, ``STREAM read_files(...)``, Auto Loader).
When the flow runs, each is replaced by a temporary view over what the pipeline's reader
returns for it, and Spark runs the query, so reads count as dependencies and streams stay
incremental exactly as in Python.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from py4j.protocol import Py4JJavaError
from pyspark.errors import AnalysisException, ParseException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructType

from lakehouse.engine.graph.elements import SourceLocation
from lakehouse.engine.local_spark import sql_parser
from lakehouse.engine.session import current_reader
from lakehouse.engine.spark_connect import is_connect, sql_over_views, temporary_view_name
from lakehouse.engine.sql_files.lexer import Statement, Token, scan, split_top_level, unquote
from lakehouse.engine.sql_files.statements import Query
from lakehouse.sql_quoting import quote_identifier

_POSITION = re.compile(r"\(line (\d+), pos (\d+)\)")
_POSITION_SUFFIX = re.compile(r";? line (\d+) pos (\d+);?.*$")
_SELECT = re.compile(r"\bselect\b", re.IGNORECASE)
# Expressions that hold a query of their own (``IN (SELECT ...)`` holds a ListQuery).
_SUBQUERIES = {"ScalarSubquery", "Exists", "ListQuery", "LateralSubquery"}
# read_files options that are Auto Loader's (``cloudFiles.<name>``); the rest are the format's.
_AUTO_LOADER_OPTIONS = {
    name.lower(): name
    for name in (
        "allowOverwrites", "backfillInterval", "includeExistingFiles", "inferColumnTypes",
        "maxBytesPerTrigger", "maxFilesPerTrigger", "partitionColumns", "schemaEvolutionMode",
        "schemaHints", "schemaLocation", "useNotifications", "useStrictGlobber", "validateOptions",
    )
}  # fmt: skip


@dataclass(frozen=True)
class Relation:
    """One relation a query reads: ``query.text[start:end]`` is replaced when it runs."""

    start: int
    end: int
    streaming: bool
    table: str | None = None  # a dotted name, each part in backticks
    files: str | None = None  # read_files' path
    options: dict[str, str] = field(default_factory=dict)
    alias: str | None = None  # a table written without one is still known by its own name

    def bound_to(self, view: str) -> str:
        return view if self.alias is None else f"{view} AS {quote_identifier(self.alias)}"


@dataclass(frozen=True)
class SqlQuery:
    """A flow's SQL query, callable like a Python query function.

    Example:
        >>> query = parse_query(spark, Query("SELECT * FROM STREAM(orders)", 0), statement)  # doctest: +SKIP
        >>> query().isStreaming  # while the engine runs the flow  # doctest: +SKIP
        True
    """

    text: str
    relations: tuple[Relation, ...]
    spark: SparkSession = field(compare=False, repr=False)
    statement: Statement = field(compare=False, repr=False)
    offset: int = 0  # where the query starts in its statement

    @property
    def location(self) -> SourceLocation:
        return self.statement.location(self.offset)

    def __call__(self) -> DataFrame:
        reader = current_reader()
        views: dict[str, DataFrame] = {}
        pieces, last = [], 0
        shifts: list[tuple[int, int]] = []  # (where the bound text moves, by how much)
        for relation in self.relations:
            view = temporary_view_name()
            views[view] = self._frame(reader, relation)
            bound = relation.bound_to(view)
            pieces += [self.text[last : relation.start], bound]
            shifts.append((relation.start, len(bound) - (relation.end - relation.start)))
            last = relation.end
        bound = "".join(pieces) + self.text[last:]
        try:
            return sql_over_views(self.spark, bound, views)
        except AnalysisException as error:
            raise self._error(error, bound, shifts) from None

    def _error(self, error: Exception, bound: str, shifts: list[tuple[int, int]]) -> Exception:
        """Spark's analysis error, placed at the file's line and column it points to."""
        message = next((line for line in str(error).splitlines() if line.strip()), str(error))
        at = _POSITION_SUFFIX.search(message)
        offset = self.offset
        if at:
            message = message[: at.start()].rstrip(" ;")
            position = _offset_at(bound, int(at.group(1)), int(at.group(2)))
            for start, shift in shifts:  # back to where it was written
                if position > start:
                    position -= shift
            offset += position
        return self.statement.error(message, offset)

    def _frame(self, reader: Any, relation: Relation) -> DataFrame:
        if relation.table is not None:
            return reader.read(relation.table, streaming=relation.streaming, location=self.location)
        assert relation.files is not None
        options = dict(relation.options)
        schema = options.pop("schema", None)
        if relation.streaming:
            loader = {"cloudFiles.inferColumnTypes": "true"}  # read_files' default
            for key, value in options.items():
                known = _AUTO_LOADER_OPTIONS.get(key.lower())
                loader[f"cloudFiles.{known}" if known else key] = value
            loader["cloudFiles.format"] = loader.pop("format", "")
            return reader.auto_loader(
                relation.files,
                loader,
                StructType.fromDDL(schema) if schema else None,
                self.location,
            )
        batch = self.spark.read.format(options.pop("format", "parquet"))
        if schema:
            batch = batch.schema(schema)
        else:
            options.setdefault("inferSchema", "true")
        return batch.options(**options).load(relation.files)


def parse_query(spark: SparkSession, query: Query, statement: Statement) -> SqlQuery:
    """Parse ``query`` with Spark's parser and find the relations it reads; a syntax error
    is a ``GraphError`` naming ``file:line:column`` and the statement.

    Example:
        >>> parse_query(spark, Query("SELECT * FROM LIVE.orders", 0), statement).relations  # doctest: +SKIP
        (Relation(start=14, end=25, streaming=False, table='`live`.`orders`', ...),)
    """
    # A Spark Connect client has no driver to ask: the same parser runs in a JVM of its own.
    parser = sql_parser() if is_connect(spark) else spark._jsparkSession.sessionState().sqlParser()
    try:
        plan = parser.parsePlan(query.text)
    except (ParseException, Py4JJavaError) as error:
        message = str(error).split("\n== SQL", 1)[0].strip()
        at = _POSITION.search(message)
        offset = query.offset
        if at:
            offset += _offset_at(query.text, int(at.group(1)), int(at.group(2)))
            message = _POSITION.sub("", message).strip()
        raise statement.error(f"not a valid query: {message}", offset) from None
    walk = _PlanWalk(query.text)
    walk.plan(plan)
    relations = sorted(
        (r for r in walk.found if r.table is None or r.table.strip("`").lower() not in walk.ctes),
        key=lambda r: r.start,
    )
    return SqlQuery(query.text, tuple(relations), spark, statement, query.offset)


class _PlanWalk:
    """Collects the relations of an unresolved plan, subqueries included."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.found: list[Relation] = []
        self.ctes: set[str] = set()
        self.has_subqueries = len(_SELECT.findall(text)) > 1

    def plan(self, node: Any, streaming: bool = False, aliased: bool = False) -> None:
        kind = node.nodeName()
        if kind == "SubqueryAlias":
            self.plan(node.child(), aliased=True)
            return
        if kind == "UnresolvedWith":
            relations = node.cteRelations()
            for i in range(relations.size()):
                name, definition = relations.apply(i)._1(), relations.apply(i)._2()
                self.ctes.add(str(name).lower())
                self.plan(definition)
        if kind == "NamedStreamingRelation":
            self.plan(node.children().apply(0), streaming=True, aliased=aliased)
            return
        if kind == "UnresolvedRelation":
            self.found.append(self._relation(node, streaming or node.isStreaming(), aliased))
            return
        if kind == "UnresolvedTableValuedFunction" and _name(node) == "read_files":
            self.found.append(self._files(node, streaming))
            return
        for child in _seq(node.children()):
            self.plan(child)
        if self.has_subqueries:
            for expression in _seq(node.expressions()):
                self.expression(expression)

    def expression(self, node: Any) -> None:
        start, end = _span(node)
        if start is not None and not _SELECT.search(self.text[start : end + 1]):
            return  # no subquery inside
        if node.nodeName() in _SUBQUERIES:
            self.plan(node.plan())
            return
        for child in _seq(node.children()):
            self.expression(child)

    def _relation(self, node: Any, streaming: bool, aliased: bool) -> Relation:
        parts = [str(p) for p in _seq(node.multipartIdentifier())]
        start, end = self._reference(node)
        table = ".".join(map(quote_identifier, parts))
        return Relation(start, end, streaming, table=table, alias=None if aliased else parts[-1])

    def _files(self, node: Any, streaming: bool) -> Relation:
        start, end = self._reference(node)
        inside = self.text[start:end]
        inside = inside[inside.index("(") + 1 : inside.rindex(")")]
        path, options = None, {}
        for _, item in split_top_level(inside):
            key, arrow, value = item.partition("=>")
            if arrow:
                options[unquote(key)] = unquote(value)
            elif path is None:
                path = unquote(item)
        return Relation(start, end, streaming, files=path or "", options=options)

    def _reference(self, node: Any) -> tuple[int, int]:
        """Where the relation itself is written, without the alias its origin may include."""
        start, end = _span(node)
        assert start is not None and end is not None
        tokens = scan(self.text[start : end + 1])
        i = 0
        if tokens and tokens[0].is_word("STREAM"):
            i = 1
        if i == 1 and len(tokens) > 1 and tokens[1].text == "(":
            last = tokens.index(_closing(tokens, 1))
        else:
            while i + 2 < len(tokens) and tokens[i + 1].text == ".":
                i += 2
            opens = i + 1 < len(tokens) and tokens[i + 1].text == "("
            last = tokens.index(_closing(tokens, i + 1)) if opens else i
        return start, start + tokens[last].end


def _offset_at(text: str, line: int, position: int) -> int:
    """The offset in ``text`` of Spark's "line N, pos M" (lines from 1, positions from 0)."""
    return sum(len(before) + 1 for before in text.split("\n")[: line - 1]) + position


def _closing(tokens: list[Token], opening: int) -> Token:
    depth = 0
    for token in tokens[opening:]:
        if token.kind == "punct" and token.text in "()":
            depth += 1 if token.text == "(" else -1
            if depth == 0:
                return token
    return tokens[-1]


def _name(function: Any) -> str:
    return ".".join(str(p) for p in _seq(function.name())).lower()


def _span(node: Any) -> tuple[int | None, int | None]:
    origin = node.origin()
    start, stop = origin.startIndex(), origin.stopIndex()
    return (
        start.get() if start.isDefined() else None,
        stop.get() if stop.isDefined() else None,
    )


def _seq(seq: Any) -> Iterator[Any]:
    for i in range(seq.size()):
        yield seq.apply(i)
