"""The pipeline statements of a SQL file, read into frozen descriptions.

A small grammar for what Databricks adds around a query: ``CREATE [OR REFRESH] [PRIVATE]
STREAMING TABLE | MATERIALIZED VIEW``, views, ``CREATE FLOW``, ``AUTO CDC INTO`` /
``APPLY CHANGES INTO``, ``CONSTRAINT ... EXPECT`` and ``SET``. Each query is kept as text with
its offset, for Spark's own parser (``sql_files/query.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from lakehouse.engine.graph.elements import AutoCdc, DatasetKind, Expectation
from lakehouse.engine.graph.names import LIVE_PREFIX, split_identifier
from lakehouse.engine.sql_files.lexer import Statement, Token, split_top_level, unquote


@dataclass(frozen=True)
class Query:
    """A query as written: ``text`` starts at ``offset`` in its statement."""

    text: str
    offset: int


@dataclass(frozen=True)
class CreateFlow:
    """``CREATE FLOW``, or the flow a dataset's ``AS query`` / ``FLOW`` clause defines."""

    statement: Statement
    name: str
    target: str
    once: bool = False
    query: Query | None = None
    auto_cdc: AutoCdc | None = None


@dataclass(frozen=True)
class CreateDataset:
    """A streaming table, materialized view or view, with the flow that fills it if any."""

    statement: Statement
    kind: DatasetKind
    name: str
    private: bool = False
    schema: str | None = None
    expectations: tuple[Expectation, ...] = ()
    comment: str | None = None
    table_properties: dict[str, str] = field(default_factory=dict)
    partition_cols: tuple[str, ...] = ()
    cluster_by: tuple[str, ...] = ()
    path: str | None = None
    row_filter: str | None = None
    flow: CreateFlow | None = None


@dataclass(frozen=True)
class SetConf:
    """``SET key = value``: a configuration value for the statements after it."""

    key: str
    value: str


PipelineStatement = CreateDataset | CreateFlow | SetConf


def read_statement(statement: Statement) -> PipelineStatement:
    """The pipeline statement ``statement`` is, or a ``GraphError`` naming file:line:column.

    Example:
        >>> from lakehouse.engine.sql_files.lexer import tokenize
        >>> read_statement(tokenize("SET a.b = 1", "f.sql", 1, 1))
        SetConf(key='a.b', value='1')
    """
    return _Reader(statement).pipeline_statement()


def _named_after(target: str) -> str:
    """A standalone AUTO CDC flow's name: its target's, without the legacy ``LIVE.``."""
    parts = split_identifier(target)
    return parts[1] if len(parts) == 2 and parts[0] == LIVE_PREFIX else target


_AUTO_CDC_CLAUSES = ("KEYS", "IGNORE", "APPLY", "SEQUENCE", "COLUMNS", "STORED", "TRACK")
_ON_VIOLATION = {("DROP", "ROW"): "drop", ("FAIL", "UPDATE"): "fail"}


class _Reader:
    """A cursor over one statement's tokens."""

    def __init__(self, statement: Statement) -> None:
        self.statement = statement
        self.tokens = statement.tokens
        self.i = 0

    # -- cursor -------------------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token | None:
        j = self.i + ahead
        return self.tokens[j] if j < len(self.tokens) else None

    def at(self, *words: str) -> bool:
        """Whether the next tokens are ``words`` (keywords, case-insensitive)."""
        return all((t := self.peek(k)) is not None and t.is_word(w) for k, w in enumerate(words))

    def accept(self, *words: str) -> bool:
        if self.at(*words):
            self.i += len(words)
            return True
        return False

    def expect(self, *words: str) -> None:
        if not self.accept(*words):
            raise self.fail(f"expected {' '.join(words)}")

    def punct(self, char: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "punct" and token.text == char:
            self.i += 1
            return True
        return False

    def skip(self) -> None:
        """Past the next token, or past the whole group it opens."""
        token = self.peek()
        if token is not None and token.kind == "punct" and token.text == "(":
            self.group()
        else:
            self.i += 1

    def offset(self) -> int:
        token = self.peek()
        return token.start if token is not None else len(self.statement.text)

    def fail(self, message: str) -> Exception:
        token = self.peek()
        found = f", found '{token.text}'" if token is not None else ", found the end"
        return self.statement.error(message + found, self.offset())

    def done(self) -> bool:
        return self.i >= len(self.tokens)

    # -- pieces -------------------------------------------------------------------------------

    def name(self) -> str:
        """A dotted name, backticks kept so that the registry splits it right."""
        parts = [self.identifier()]
        while self.punct("."):
            parts.append(self.identifier())
        return ".".join(parts)

    def identifier(self) -> str:
        token = self.peek()
        if token is None or token.kind not in ("word", "quoted"):
            raise self.fail("expected a name")
        self.i += 1
        return token.text

    def string(self, what: str) -> str:
        token = self.peek()
        if token is None or token.kind != "string":
            raise self.fail(f"expected {what} as a quoted string")
        self.i += 1
        return token.value

    def group(self) -> tuple[int, int]:
        """A bracketed group: the offsets of its inside."""
        if not self.punct("("):
            raise self.fail("expected '('")
        start, depth = self.i, 1
        while not self.done():
            token = self.tokens[self.i]
            self.i += 1
            if token.kind == "punct" and token.text in "()":
                depth += 1 if token.text == "(" else -1
                if depth == 0:
                    inner_end = token.start
                    inner_start = self.tokens[start].start if start < self.i - 1 else token.start
                    return inner_start, inner_end
        raise self.statement.error("bracket not closed", self.tokens[start - 1].start)

    def names_in_group(self) -> tuple[str, ...]:
        start, end = self.group()
        text = self.statement.text[start:end]
        return tuple(item for _, item in split_top_level(text) if item)

    def rest(self) -> Query:
        start = self.offset()
        return Query(self.statement.text[start:].strip(), start)

    # -- statements ---------------------------------------------------------------------------

    def pipeline_statement(self) -> PipelineStatement:
        if self.accept("SET"):
            return self.set_conf()
        if self.at("APPLY", "CHANGES", "INTO") or self.at("AUTO", "CDC", "INTO"):
            self.i += 3
            target = self.name()
            return CreateFlow(
                self.statement, _named_after(target), target, auto_cdc=self.auto_cdc()
            )
        self.expect("CREATE")
        self.accept("OR", "REFRESH") or self.accept("OR", "REPLACE")
        if self.accept("FLOW"):
            return self.create_flow()
        private = self.accept("PRIVATE") or self.accept("TEMPORARY")
        if self.accept("STREAMING", "LIVE", "TABLE") or self.accept("STREAMING", "TABLE"):
            kind = DatasetKind.STREAMING_TABLE
        elif self.accept("MATERIALIZED", "VIEW") or self.accept("LIVE", "TABLE"):
            kind = DatasetKind.MATERIALIZED_VIEW
        elif self.accept("LIVE", "VIEW"):  # the legacy form of a temporary view
            kind, private = DatasetKind.VIEW, True
        elif self.accept("VIEW"):  # published to the catalog unless TEMPORARY
            kind = DatasetKind.VIEW
        else:
            raise self.fail(
                "expected STREAMING TABLE, MATERIALIZED VIEW, [TEMPORARY] VIEW or FLOW after CREATE"
            )
        return self.create_dataset(kind, private)

    def set_conf(self) -> SetConf:
        text = self.statement.text
        body = text[self.offset() :]
        key, equals, value = body.partition("=")
        if not equals or not key.strip():
            raise self.statement.error("expected SET key = value", self.offset())
        return SetConf(key.strip(), value.strip())

    def create_dataset(self, kind: DatasetKind, private: bool) -> CreateDataset:
        name = self.name()
        schema, expectations = None, ()
        token = self.peek()
        if token is not None and token.kind == "punct" and token.text == "(":
            if kind is DatasetKind.VIEW:
                raise self.fail("a view's column list is not supported by the local engine yet")
            schema, expectations = self.table_specification()
        options: dict = {"table_properties": {}}
        while not self.done() and not self.at("AS") and not self.at("FLOW"):
            self.table_clause(options)
        flow = None
        if self.accept("AS"):
            flow = CreateFlow(self.statement, name, name, query=self.rest())
        elif self.accept("FLOW"):
            flow = self.flow_clause(name, name)
        if flow is None and kind is not DatasetKind.STREAMING_TABLE:
            raise self.fail(f"expected AS query: a {kind.value.replace('_', ' ')} needs one")
        return CreateDataset(
            self.statement, kind, name, private, schema, expectations, flow=flow, **options
        )

    def table_specification(self) -> tuple[str | None, tuple[Expectation, ...]]:
        start, end = self.group()
        columns: list[str] = []
        expectations: list[Expectation] = []
        for item_start, item in split_top_level(self.statement.text, start, end):
            kept = self.constraints_out_of(item, item_start, expectations)
            if kept.strip():
                columns.append(kept.strip())
        return (", ".join(columns) or None), tuple(expectations)

    def constraints_out_of(self, item: str, start: int, found: list[Expectation]) -> str:
        """``item`` with each ``CONSTRAINT name EXPECT (...) [ON VIOLATION ...]`` taken out
        into ``found``; informational constraints (keys) are dropped: they are not enforced."""
        inside = tuple(t for t in self.tokens if start <= t.start < start + len(item))
        reader = _Reader(replace(self.statement, tokens=inside))
        kept, last = [], start
        while not reader.done():
            if not reader.at("CONSTRAINT"):
                reader.skip()
                continue
            begin = reader.offset()
            reader.i += 1
            name = reader.identifier()
            if reader.accept("EXPECT"):
                cond_start, cond_end = reader.group()
                action = "warn"
                if reader.accept("ON", "VIOLATION"):
                    words = tuple(t.text.upper() for t in reader.tokens[reader.i : reader.i + 2])
                    if words not in _ON_VIOLATION:
                        raise reader.fail("expected ON VIOLATION DROP ROW or FAIL UPDATE")
                    action = _ON_VIOLATION[words]
                    reader.i += 2
                condition = self.statement.text[cond_start:cond_end].strip()
                found.append(Expectation(name.strip("`"), condition, action))  # type: ignore[arg-type]
            else:  # PRIMARY KEY / FOREIGN KEY: informational in Unity Catalog
                while not reader.done() and not reader.at("CONSTRAINT"):
                    reader.skip()
            kept.append(self.statement.text[last:begin])
            last = reader.offset() if not reader.done() else start + len(item)
        kept.append(self.statement.text[last : start + len(item)])
        return "".join(kept)

    def table_clause(self, options: dict) -> None:
        if self.accept("COMMENT"):
            options["comment"] = self.string("the comment")
        elif self.accept("PARTITIONED", "BY"):
            options["partition_cols"] = self.names_in_group()
        elif self.accept("CLUSTER", "BY"):
            if self.accept("AUTO") or self.accept("NONE"):
                return
            options["cluster_by"] = self.names_in_group()
        elif self.accept("TBLPROPERTIES"):
            start, end = self.group()
            for item_start, item in split_top_level(self.statement.text, start, end):
                key, equals, value = item.partition("=")
                if not equals:
                    raise self.statement.error("expected 'key' = 'value'", item_start)
                options["table_properties"][unquote(key)] = unquote(value)
        elif self.accept("USING"):
            if not self.accept("DELTA"):
                raise self.fail("pipeline tables are Delta tables: expected USING DELTA")
        elif self.accept("LOCATION"):
            options["path"] = self.string("the location")
        elif self.accept("WITH"):
            start = self.offset()
            self.expect("ROW", "FILTER")
            self.name()
            self.expect("ON")
            self.group()
            options["row_filter"] = self.statement.text[start : self.offset()].strip()
        else:
            raise self.fail(
                "expected COMMENT, PARTITIONED BY, CLUSTER BY, TBLPROPERTIES, USING DELTA, "
                "LOCATION, WITH ROW FILTER or AS query"
            )

    def create_flow(self) -> CreateFlow:
        name = self.name()
        if self.accept("COMMENT"):
            self.string("the comment")
        self.expect("AS")
        if self.accept("AUTO", "CDC", "INTO") or self.accept("APPLY", "CHANGES", "INTO"):
            target = self.name()
            return CreateFlow(self.statement, name, target, auto_cdc=self.auto_cdc())
        self.expect("INSERT", "INTO")
        once = self.accept("ONCE")
        target = self.name()
        self.accept("BY", "NAME")
        return CreateFlow(self.statement, name, target, once=once, query=self.rest())

    def flow_clause(self, name: str, target: str) -> CreateFlow:
        if self.accept("AUTO", "CDC"):
            return CreateFlow(self.statement, name, target, auto_cdc=self.auto_cdc())
        if self.at("REPLACE", "WHERE"):
            raise self.fail("FLOW REPLACE WHERE is not supported by the local engine yet")
        self.expect("INSERT")
        once = self.accept("ONCE")
        self.expect("BY", "NAME")
        return CreateFlow(self.statement, name, target, once=once, query=self.rest())

    def auto_cdc(self) -> AutoCdc:
        self.expect("FROM")
        streamed = self.accept("STREAM")
        if streamed and self.punct("("):
            source = self.name()
            if not self.punct(")"):
                raise self.fail("expected ')'")
        else:
            source = self.name()
        spec: dict = {}
        while not self.done():
            if self.accept("KEYS"):
                spec["keys"] = self.names_in_group()
            elif self.accept("IGNORE", "NULL", "UPDATES"):
                spec["ignore_null_updates"] = True
            elif self.accept("APPLY", "AS", "DELETE", "WHEN"):
                spec["apply_as_deletes"] = self.expression()
            elif self.accept("APPLY", "AS", "TRUNCATE", "WHEN"):
                spec["apply_as_truncates"] = self.expression()
            elif self.accept("SEQUENCE", "BY"):
                spec["sequence_by"] = self.expression()
            elif self.accept("COLUMNS"):
                spec.update(self.column_selection("column_list", "except_column_list"))
            elif self.accept("STORED", "AS", "SCD", "TYPE"):
                token = self.peek()
                if token is None or token.text not in ("1", "2"):
                    raise self.fail("expected STORED AS SCD TYPE 1 or 2")
                self.i += 1
                spec["scd_type"] = int(token.text)
            elif self.accept("TRACK", "HISTORY", "ON"):
                spec.update(
                    self.column_selection(
                        "track_history_column_list", "track_history_except_column_list"
                    )
                )
            else:
                raise self.fail(
                    "expected KEYS, IGNORE NULL UPDATES, APPLY AS DELETE WHEN, APPLY AS "
                    "TRUNCATE WHEN, SEQUENCE BY, COLUMNS, STORED AS SCD TYPE or TRACK HISTORY ON"
                )
        for required in ("keys", "sequence_by"):
            if required not in spec:
                raise self.statement.error(
                    f"AUTO CDC needs {required.upper().replace('_', ' ')}", self.offset()
                )
        return AutoCdc(source=source, **spec)

    def expression(self) -> str:
        """SQL up to the next AUTO CDC clause, outside brackets."""
        start, depth = self.offset(), 0
        while not self.done():
            token = self.tokens[self.i]
            clause = token.kind == "word" and token.text.upper() in _AUTO_CDC_CLAUSES
            if depth == 0 and clause and (not token.is_word("APPLY") or self.at("APPLY", "AS")):
                break
            if token.kind == "punct" and token.text in "()":
                depth += 1 if token.text == "(" else -1
            self.i += 1
        text = self.statement.text[start : self.offset()].strip()
        if not text:
            raise self.fail("expected an expression")
        return text

    def column_selection(self, listed: str, excepted: str) -> dict[str, tuple[str, ...]]:
        if self.punct("*"):
            self.expect("EXCEPT")
            return {excepted: self.names_in_group()}
        token = self.peek()
        if token is not None and token.kind == "punct" and token.text == "(":
            return {listed: self.names_in_group()}
        names = [self.name()]
        while self.punct(","):
            names.append(self.name())
        return {listed: tuple(names)}
