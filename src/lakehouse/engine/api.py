"""The pipeline API: what ``import dlt`` and ``from pyspark import pipelines as dp`` give
pipeline code while the engine loads it.

Decorators only register definitions (see ``graph.py``) into the current registry; nothing
runs until the engine executes the graph. One module serves both spellings of the API.

Example:
    >>> import dlt  # inside a pipeline source file run by the engine
    >>> @dlt.table(comment="Orders as they arrive")
    ... @dlt.expect_or_drop("valid_id", "id IS NOT NULL")
    ... def orders():
    ...     return spark.readStream.table("raw_orders")  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from pyspark.sql import Column

from lakehouse.engine.cdc.snapshots import (
    DELETED,
    VERSION,
    checked_snapshot,
    with_event_columns,
)
from lakehouse.engine.errors import GraphError
from lakehouse.engine.graph.elements import (
    AutoCdc,
    Dataset,
    DatasetKind,
    EventHook,
    Expectation,
    ExpectationAction,
    Flow,
    QueryFunction,
    Sink,
    SnapshotSource,
    SourceLocation,
)
from lakehouse.engine.graph.names import split_identifier
from lakehouse.engine.graph.registry import current_registry
from lakehouse.engine.graph.source_location import user_code_location

F = TypeVar("F", bound=Callable[..., Any])

_EXPECTATIONS_ATTR = "__lakehouse_expectations__"
_DATASET_ATTR = "__lakehouse_dataset__"


def _underlying(function: Callable[..., Any]) -> Any:
    """The function a wrapper (``functools.wraps``) or a ``functools.partial`` calls."""
    target = inspect.unwrap(function)
    while isinstance(target, functools.partial):
        target = inspect.unwrap(target.func)
    return target


def _location_of(function: Callable[..., Any]) -> SourceLocation:
    """Where a query function is written: a function's or method's first line, else (an
    object with ``__call__``) the line that registers it."""
    target = _underlying(function)
    code = getattr(target, "__code__", None) or getattr(type(target).__call__, "__code__", None)
    if code is None or code.co_filename == __file__:
        return user_code_location()
    return SourceLocation(code.co_filename, code.co_firstlineno)


def _name_of(function: Callable[..., Any], decorator: str) -> str:
    name = getattr(_underlying(function), "__name__", None)
    if not isinstance(name, str) or name == "<lambda>":
        raise GraphError(
            f"{decorator}: give name=..., the query function {function!r} has no name of its own",
            user_code_location(),
        )
    return name


def _carrying(function: F, attribute: str, value: Any) -> F:
    """``function`` with ``attribute`` set; a callable that takes no attributes (a bound
    method, a builtin) is wrapped in one that does."""
    try:
        setattr(function, attribute, value)
        return function
    except (AttributeError, TypeError):

        @functools.wraps(function)
        def carrier(*args: Any, **kwargs: Any) -> Any:
            return function(*args, **kwargs)

        setattr(carrier, attribute, value)
        return cast(F, carrier)


def _expectations_of(function: Callable[..., Any]) -> tuple[Expectation, ...]:
    # Decorators apply bottom-up; reverse so the order matches the source top-down.
    return tuple(reversed(getattr(function, _EXPECTATIONS_ATTR, ())))


def _check_callable(function: Any, decorator: str) -> None:
    if not callable(function):
        raise GraphError(
            f"@{decorator} must decorate a function that returns a DataFrame, got {function!r}",
            user_code_location(),
        )


def _not_applied(**options: Any) -> tuple[str, ...]:
    """The options given that a local run does not apply, as ``name=value``: where a table
    is stored, its format, automatic clustering and Unity Catalog's row filter."""
    unused = {
        "path": options.get("path"),
        "format": options.get("format") if options.get("format") not in (None, "delta") else None,
        "cluster_by_auto": options.get("cluster_by_auto") or None,
        "row_filter": options.get("row_filter"),
    }
    return tuple(f"{key}={value!r}" for key, value in unused.items() if value is not None)


def _register_dataset_with_flow(
    function: QueryFunction,
    kind: DatasetKind,
    name: str | None,
    spark_conf: Mapping[str, str] | None,
    **options: Any,
) -> QueryFunction:
    registry = current_registry()
    location = _location_of(function)
    dataset_name = name or _name_of(function, kind.value)
    registry.register_dataset(
        Dataset(
            name=dataset_name,
            kind=kind,
            location=location,
            expectations=_expectations_of(function),
            **options,
        )
    )
    key = registry.qualify(dataset_name, view=kind is DatasetKind.VIEW)
    registry.register_flow(
        Flow(
            name=key,
            target=key,
            query=function,
            location=location,
            spark_conf=dict(spark_conf or {}),
        )
    )
    return _carrying(function, _DATASET_ATTR, key)


def _stored_dataset_decorator(
    kind: DatasetKind,
    decorator: str,
    query_function: QueryFunction | None,
    name: str | None,
    spark_conf: Mapping[str, str] | None,
    options: dict[str, Any],
) -> Any:
    options = {
        "comment": options.get("comment"),
        "table_properties": dict(options.get("table_properties") or {}),
        "partition_cols": tuple(options.get("partition_cols") or ()),
        "cluster_by": tuple(options.get("cluster_by") or ()),
        "schema": options.get("schema"),
        "private": bool(options.get("private") or options.get("temporary")),
        "path": options.get("path"),
        "not_applied": _not_applied(**options),
    }

    def decorate(function: QueryFunction) -> QueryFunction:
        _check_callable(function, decorator)
        return _register_dataset_with_flow(function, kind, name, spark_conf, **options)

    return decorate(query_function) if query_function is not None else decorate


def table(
    query_function: QueryFunction | None = None,
    name: str | None = None,
    comment: str | None = None,
    spark_conf: Mapping[str, str] | None = None,
    table_properties: Mapping[str, str] | None = None,
    partition_cols: list[str] | None = None,
    path: str | None = None,
    schema: Any = None,
    temporary: bool = False,
    cluster_by: list[str] | None = None,
    row_filter: str | None = None,
    *,
    private: bool = False,
    format: str | None = None,
    cluster_by_auto: bool = False,
) -> Any:
    """Define a table: a streaming table when the query is streaming, else a materialized view.

    Example:
        >>> @dlt.table(comment="Cleaned orders", partition_cols=["order_date"])
        ... def orders_clean():
        ...     return spark.readStream.table("orders_raw").where("amount > 0")  # doctest: +SKIP
    """
    return _stored_dataset_decorator(
        DatasetKind.TABLE, "table", query_function, name, spark_conf, locals()
    )


def materialized_view(
    query_function: QueryFunction | None = None,
    *,
    name: str | None = None,
    comment: str | None = None,
    spark_conf: Mapping[str, str] | None = None,
    table_properties: Mapping[str, str] | None = None,
    path: str | None = None,
    partition_cols: list[str] | None = None,
    cluster_by: list[str] | None = None,
    schema: Any = None,
    private: bool = False,
    format: str | None = None,
    row_filter: str | None = None,
    cluster_by_auto: bool = False,
) -> Any:
    """Define a materialized view: a batch query recomputed on every update.

    Example:
        >>> @dp.materialized_view
        ... def revenue_by_day():
        ...     return spark.read.table("orders").groupBy("order_date").sum("amount")  # doctest: +SKIP
    """
    return _stored_dataset_decorator(
        DatasetKind.MATERIALIZED_VIEW,
        "materialized_view",
        query_function,
        name,
        spark_conf,
        locals(),
    )


def view(
    query_function: QueryFunction | None = None,
    *,
    name: str | None = None,
    comment: str | None = None,
    spark_conf: Mapping[str, str] | None = None,
) -> Any:
    """Define a view: pipeline-scoped, recomputed where it is read, never published.

    Example:
        >>> @dlt.view
        ... def recent_orders():
        ...     return spark.read.table("orders").where("order_date > '2026-01-01'")  # doctest: +SKIP
    """

    def decorate(function: QueryFunction) -> QueryFunction:
        _check_callable(function, "view")
        return _register_dataset_with_flow(
            function, DatasetKind.VIEW, name, spark_conf, comment=comment, private=True
        )

    return decorate(query_function) if query_function is not None else decorate


temporary_view = view


def create_streaming_table(
    name: str,
    comment: str | None = None,
    spark_conf: Mapping[str, str] | None = None,
    table_properties: Mapping[str, str] | None = None,
    partition_cols: list[str] | None = None,
    path: str | None = None,
    schema: Any = None,
    expect_all: Mapping[str, str] | None = None,
    expect_all_or_drop: Mapping[str, str] | None = None,
    expect_all_or_fail: Mapping[str, str] | None = None,
    cluster_by: list[str] | None = None,
    row_filter: str | None = None,
    *,
    temporary: bool = False,
    private: bool = False,
    format: str | None = None,
    cluster_by_auto: bool = False,
) -> None:
    """Declare a streaming table that flows (``append_flow``, AUTO CDC) write into.

    Example:
        >>> dlt.create_streaming_table("all_orders", expect_all_or_drop={"id": "id IS NOT NULL"})
        >>> @dlt.append_flow(target="all_orders")
        ... def web_orders():
        ...     return spark.readStream.table("web_orders")  # doctest: +SKIP
    """
    expectations = (
        _as_expectations(expect_all, "warn")
        + _as_expectations(expect_all_or_drop, "drop")
        + _as_expectations(expect_all_or_fail, "fail")
    )
    current_registry().register_dataset(
        Dataset(
            name=name,
            kind=DatasetKind.STREAMING_TABLE,
            location=user_code_location(),
            comment=comment,
            table_properties=dict(table_properties or {}),
            partition_cols=tuple(partition_cols or ()),
            cluster_by=tuple(cluster_by or ()),
            schema=schema,
            private=private or temporary,
            path=path,
            expectations=expectations,
            not_applied=_not_applied(
                path=path, format=format, cluster_by_auto=cluster_by_auto, row_filter=row_filter
            ),
        )
    )


create_streaming_live_table = create_streaming_table
create_target_table = create_streaming_table


def append_flow(
    name: str | None = None,
    target: str | None = None,
    comment: str | None = None,
    spark_conf: Mapping[str, str] | None = None,
    once: bool = False,
) -> Callable[[QueryFunction], QueryFunction]:
    """Add a flow that appends its query's rows to the streaming table or sink ``target``.

    Example:
        >>> @dp.append_flow(target="all_orders", once=True)
        ... def backfill():
        ...     return spark.read.table("historic_orders")  # doctest: +SKIP
    """
    if not target:
        raise GraphError("append_flow needs target=, the streaming table it appends to",
                         user_code_location())  # fmt: skip

    def decorate(function: QueryFunction) -> QueryFunction:
        _check_callable(function, "append_flow")
        current_registry().register_flow(
            Flow(
                name=name or _name_of(function, "append_flow"),
                target=target,
                query=function,
                location=_location_of(function),
                once=once,
                spark_conf=dict(spark_conf or {}),
            )
        )
        return function

    return decorate


def create_sink(name: str, format: str, options: Mapping[str, str] | None = None) -> None:
    """Declare a sink: somewhere outside the pipeline that append flows (``target=name``)
    write to. Locally a ``delta`` sink writes to its ``path`` or its ``tableName`` (fully
    qualified) in the storage folder's catalog; ``kafka`` needs a broker, which a local run
    does not have. A full refresh reprocesses the sink's flows and appends again: it never
    clears a sink.

    Example:
        >>> dp.create_sink("orders_export", "delta", {"tableName": "main.exports.orders"})
        >>> @dp.append_flow(target="orders_export")
        ... def export_orders():
        ...     return spark.readStream.table("orders")  # doctest: +SKIP
    """
    location = user_code_location()
    options = {str(k): str(v) for k, v in (options or {}).items()}
    kind = str(format).lower()
    if kind == "kafka":
        raise GraphError(
            f"sink '{name}': a kafka sink writes to a Kafka broker (or Event Hubs), which a "
            "local run does not have; delta sinks and @foreach_batch_sink run locally",
            location,
        )
    if kind != "delta":
        raise GraphError(f"sink '{name}': format must be 'delta' or 'kafka', got {format!r}",
                         location)  # fmt: skip
    given = {k.lower(): v for k, v in options.items()}
    if ("path" in given) == ("tablename" in given):
        raise GraphError(
            f"sink '{name}': a delta sink takes either a path or a tableName option, got "
            f"{sorted(options) or 'neither'}",
            location,
        )
    if "tablename" in given and len(split_identifier(given["tablename"])) != 3:
        raise GraphError(
            f"sink '{name}': tableName must be fully qualified (<catalog>.<schema>.<table>), "
            f"got {given['tablename']!r}",
            location,
        )
    current_registry().register_dataset(
        Dataset(name=name, kind=DatasetKind.SINK, location=location, sink=Sink("delta", options))
    )


def foreach_batch_sink(name: Any = None) -> Any:
    """Declare a sink that calls the decorated function with each micro-batch of the append
    flows that target it, as ``handler(df, batch_id)``; ``batch_id`` 0 is the start of the
    stream or of a full refresh.

    Example:
        >>> @dp.foreach_batch_sink(name="orders_to_both")
        ... def write_twice(df, batch_id):
        ...     df.write.format("delta").mode("append").save("/exports/a")
        ...     df.write.format("delta").mode("append").save("/exports/b")  # doctest: +SKIP
    """

    def register(handler: Callable[[Any, int], Any]) -> Callable[[Any, int], Any]:
        if not callable(handler):
            raise GraphError(
                f"@foreach_batch_sink must decorate a function (df, batch_id), got {handler!r}",
                user_code_location(),
            )
        current_registry().register_dataset(
            Dataset(
                name=sink_name or _name_of(handler, "foreach_batch_sink"),
                kind=DatasetKind.SINK,
                location=_location_of(handler),
                sink=Sink("foreach_batch", handler=handler),
            )
        )
        return handler

    if callable(name):  # used bare: @foreach_batch_sink
        sink_name = None
        return register(name)
    sink_name = name
    return register


def _as_expectations(
    constraints: Mapping[str, str] | None, action: ExpectationAction
) -> tuple[Expectation, ...]:
    if constraints is None:
        return ()
    if not isinstance(constraints, Mapping):
        raise GraphError(
            f"expectations must be a dict of name to SQL constraint, got {constraints!r}",
            user_code_location(),
        )
    return tuple(
        Expectation(str(n), c if isinstance(c, Column) else str(c), action)
        for n, c in constraints.items()
    )


def _constraint(constraint: Any, inv: Any) -> Any:
    """The constraint, given as ``constraint`` (pyspark.pipelines) or ``inv`` (dlt)."""
    if (constraint is None) == (inv is None):
        raise GraphError("an expectation needs one constraint (a SQL string or a Column)",
                         user_code_location())  # fmt: skip
    return constraint if constraint is not None else inv


def _expectation_decorator(expectations: tuple[Expectation, ...]) -> Callable[[F], F]:
    def decorate(function: F) -> F:
        registered = getattr(function, _DATASET_ATTR, None)
        if registered is not None:  # written above @table: the dataset exists already
            current_registry().add_expectations(registered, expectations)
            return function
        existing = getattr(function, _EXPECTATIONS_ATTR, ())
        # Stored bottom-up; _expectations_of reverses into source order.
        return _carrying(function, _EXPECTATIONS_ATTR, (*existing, *reversed(expectations)))

    return decorate


def expect(name: str, constraint: Any = None, *, inv: Any = None) -> Callable[[F], F]:
    """Record rows that break ``constraint`` in the metrics and keep them.

    Example:
        >>> @dlt.table
        ... @dlt.expect("valid_amount", "amount >= 0")
        ... def orders():
        ...     return spark.readStream.table("raw_orders")  # doctest: +SKIP
    """
    return _expectation_decorator((Expectation(name, _constraint(constraint, inv), "warn"),))


def expect_or_drop(name: str, constraint: Any = None, *, inv: Any = None) -> Callable[[F], F]:
    """Drop rows that break ``constraint`` and count them.

    Example:
        >>> @dlt.expect_or_drop("valid_id", "id IS NOT NULL")  # doctest: +SKIP
    """
    return _expectation_decorator((Expectation(name, _constraint(constraint, inv), "drop"),))


def expect_or_fail(name: str, constraint: Any = None, *, inv: Any = None) -> Callable[[F], F]:
    """Stop the update at the first row that breaks ``constraint``.

    Example:
        >>> @dlt.expect_or_fail("positive_total", "total > 0")  # doctest: +SKIP
    """
    return _expectation_decorator((Expectation(name, _constraint(constraint, inv), "fail"),))


def expect_all(expectations: Mapping[str, str]) -> Callable[[F], F]:
    """``expect`` for each name and constraint in the dict.

    Example:
        >>> @dlt.expect_all({"valid_id": "id IS NOT NULL", "valid_amount": "amount >= 0"})  # doctest: +SKIP
    """
    return _expectation_decorator(_as_expectations(expectations, "warn"))


def expect_all_or_drop(expectations: Mapping[str, str]) -> Callable[[F], F]:
    """``expect_or_drop`` for each name and constraint in the dict.

    Example:
        >>> @dlt.expect_all_or_drop({"valid_id": "id IS NOT NULL"})  # doctest: +SKIP
    """
    return _expectation_decorator(_as_expectations(expectations, "drop"))


def expect_all_or_fail(expectations: Mapping[str, str]) -> Callable[[F], F]:
    """``expect_or_fail`` for each name and constraint in the dict.

    Example:
        >>> @dlt.expect_all_or_fail({"valid_id": "id IS NOT NULL"})  # doctest: +SKIP
    """
    return _expectation_decorator(_as_expectations(expectations, "fail"))


def read(name: str) -> Any:
    """Batch-read a dataset of this pipeline (or a table outside it).

    Example:
        >>> dlt.read("customers")  # doctest: +SKIP
    """
    from lakehouse.engine.session import current_reader

    return current_reader().read(name, streaming=False, location=user_code_location())


def read_stream(name: str) -> Any:
    """Stream-read a dataset of this pipeline (or a table outside it).

    Example:
        >>> dlt.read_stream("orders")  # doctest: +SKIP
    """
    from lakehouse.engine.session import current_reader

    return current_reader().read(name, streaming=True, location=user_code_location())


def create_auto_cdc_flow(
    target: str,
    source: str,
    keys: list[Any],
    sequence_by: Any,
    ignore_null_updates: bool = False,
    apply_as_deletes: Any = None,
    apply_as_truncates: Any = None,
    column_list: list[Any] | None = None,
    except_column_list: list[Any] | None = None,
    stored_as_scd_type: int | str = 1,
    track_history_column_list: list[Any] | None = None,
    track_history_except_column_list: list[Any] | None = None,
    name: str | None = None,
    once: bool = False,
    *,
    spark_conf: Mapping[str, str] | None = None,
    where: Any = None,
    flow_name: str | None = None,
    ignore_null_updates_column_list: list[Any] | None = None,
    ignore_null_updates_except_column_list: list[Any] | None = None,
    columns_to_update: Any = None,
    system_sequence_by: Any = None,
) -> None:
    """Apply the change events streamed from ``source`` to the streaming table ``target``.

    Per key, the event with the highest ``sequence_by`` wins, whatever order events arrive
    in. ``stored_as_scd_type=2`` keeps every version with ``__START_AT`` / ``__END_AT``.
    ``where`` applies only the events that meet it.

    Example:
        >>> dlt.create_streaming_table("customers")
        >>> dlt.create_auto_cdc_flow(
        ...     target="customers", source="customers_cdc", keys=["id"],
        ...     sequence_by="updated_at", apply_as_deletes="op = 'DELETE'",
        ...     except_column_list=["op", "updated_at"], stored_as_scd_type=2)  # doctest: +SKIP
    """
    location = user_code_location()
    # Named in the references without a documented meaning: a guess would change rows silently.
    for option, value in (("columns_to_update", columns_to_update),
                          ("system_sequence_by", system_sequence_by)):  # fmt: skip
        if value is not None:
            raise GraphError(
                f"AUTO CDC into '{target}': {option} is not supported by the local engine yet: "
                "the Databricks reference names it without saying what it does",
                location,
            )
    spec = AutoCdc(
        source=source,
        keys=_column_tuple(keys, "keys", location) or (),
        sequence_by=sequence_by,
        scd_type=_scd_type(stored_as_scd_type, f"AUTO CDC into '{target}'", location),
        ignore_null_updates=ignore_null_updates,
        apply_as_deletes=apply_as_deletes,
        apply_as_truncates=apply_as_truncates,
        column_list=_column_tuple(column_list, "column_list", location),
        except_column_list=_column_tuple(except_column_list, "except_column_list", location),
        track_history_column_list=_column_tuple(
            track_history_column_list, "track_history_column_list", location
        ),
        track_history_except_column_list=_column_tuple(
            track_history_except_column_list, "track_history_except_column_list", location
        ),
        ignore_null_updates_column_list=_column_tuple(
            ignore_null_updates_column_list, "ignore_null_updates_column_list", location
        ),
        ignore_null_updates_except_column_list=_column_tuple(
            ignore_null_updates_except_column_list,
            "ignore_null_updates_except_column_list",
            location,
        ),
    )
    current_registry().register_flow(
        Flow(
            name=name or flow_name or target,
            target=target,
            # A once flow (a backfill) reads its source as a batch, every other one streams it.
            query=functools.partial(
                _read_source, source, location, streaming=not once, where=where
            ),
            location=location,
            once=once,
            spark_conf=dict(spark_conf or {}),
            auto_cdc=spec,
        )
    )


def apply_changes(
    target: str,
    source: str,
    keys: list[Any],
    sequence_by: Any,
    where: Any = None,
    ignore_null_updates: bool = False,
    apply_as_deletes: Any = None,
    apply_as_truncates: Any = None,
    column_list: list[Any] | None = None,
    except_column_list: list[Any] | None = None,
    stored_as_scd_type: int | str = 1,
    track_history_column_list: list[Any] | None = None,
    track_history_except_column_list: list[Any] | None = None,
    flow_name: str | None = None,
    once: bool = False,
    ignore_null_updates_column_list: list[Any] | None = None,
    ignore_null_updates_except_column_list: list[Any] | None = None,
    columns_to_update: Any = None,
    *,
    name: str | None = None,
    spark_conf: Mapping[str, str] | None = None,
    system_sequence_by: Any = None,
) -> None:
    """``create_auto_cdc_flow`` under its older name, with dlt's order of arguments.

    Example:
        >>> dlt.apply_changes("customers", "customers_cdc", ["id"], "updated_at")  # doctest: +SKIP
    """
    create_auto_cdc_flow(
        target, source, keys, sequence_by, ignore_null_updates, apply_as_deletes,
        apply_as_truncates, column_list, except_column_list, stored_as_scd_type,
        track_history_column_list, track_history_except_column_list, name or flow_name, once,
        spark_conf=spark_conf, where=where,
        ignore_null_updates_column_list=ignore_null_updates_column_list,
        ignore_null_updates_except_column_list=ignore_null_updates_except_column_list,
        columns_to_update=columns_to_update, system_sequence_by=system_sequence_by,
    )  # fmt: skip


def create_auto_cdc_from_snapshot_flow(
    target: str,
    source: Any,
    keys: list[Any],
    stored_as_scd_type: int | str = 1,
    track_history_column_list: list[Any] | None = None,
    track_history_except_column_list: list[Any] | None = None,
    name: str | None = None,
    once: bool = False,
    *,
    snapshot_and_version: Callable[[int | None], Any] | None = None,
) -> None:
    """Keep ``target`` in step with snapshots of ``source``: a table or view's name (read once
    per update), or a function ``f(latest_version) -> (DataFrame, version) | None`` called
    until it returns None. A key new in a snapshot is inserted, a changed row updated, a
    vanished key deleted; with SCD type 2, ``__START_AT`` / ``__END_AT`` are snapshot
    versions.

    Example:
        >>> dlt.create_streaming_table("customers")
        >>> dlt.create_auto_cdc_from_snapshot_flow(
        ...     target="customers", source="raw_customers_snapshot", keys=["id"],
        ...     stored_as_scd_type=2)  # doctest: +SKIP
    """
    location = user_code_location()
    function = snapshot_and_version or (source if callable(source) else None)
    if function is None and not isinstance(source, str):
        raise GraphError(
            f"AUTO CDC from snapshot into '{target}': source must be a table or view's name, "
            f"or a function returning (DataFrame, version) or None; got {source!r}",
            location,
        )
    snapshot = SnapshotSource(table=None if function else source, function=function)
    spec = AutoCdc(
        source=snapshot.table or _name_of(function, "create_auto_cdc_from_snapshot_flow"),
        keys=_column_tuple(keys, "keys", location) or (),
        sequence_by=VERSION,
        scd_type=_scd_type(stored_as_scd_type, f"AUTO CDC from snapshot into '{target}'", location),
        apply_as_deletes=DELETED,
        except_column_list=(VERSION, DELETED),
        track_history_column_list=_column_tuple(
            track_history_column_list, "track_history_column_list", location
        ),
        track_history_except_column_list=_column_tuple(
            track_history_except_column_list, "track_history_except_column_list", location
        ),
    )
    current_registry().register_flow(
        Flow(
            name=name or target,
            target=target,
            query=functools.partial(_first_snapshot, snapshot, location),
            location=location,
            once=once,
            auto_cdc=spec,
            snapshot=snapshot,
        )
    )


def apply_changes_from_snapshot(
    target: str,
    source: Any = None,
    keys: list[Any] | None = None,
    stored_as_scd_type: int | str = 1,
    snapshot_and_version: Callable[[int | None], Any] | None = None,
    track_history_column_list: list[Any] | None = None,
    track_history_except_column_list: list[Any] | None = None,
    *,
    name: str | None = None,
    once: bool = False,
) -> None:
    """``create_auto_cdc_from_snapshot_flow`` under its older name and dlt's argument order.

    Example:
        >>> dlt.apply_changes_from_snapshot("customers", "raw_customers", ["id"])  # doctest: +SKIP
    """
    create_auto_cdc_from_snapshot_flow(
        target, source, keys or [], stored_as_scd_type, track_history_column_list,
        track_history_except_column_list, name, once, snapshot_and_version=snapshot_and_version,
    )  # fmt: skip


def _first_snapshot(snapshot: SnapshotSource, location: SourceLocation) -> Any:
    """What the graph sees of a snapshot flow: the source's columns and the event columns,
    no rows (the flow runner applies the snapshots themselves, ``cdc/snapshots.py``)."""
    from lakehouse.engine.session import current_reader

    if snapshot.table is not None:
        frame = current_reader().read(snapshot.table, streaming=False, location=location)
    else:
        assert snapshot.function is not None
        first = checked_snapshot(snapshot.function(None), None, location)
        if first is None:
            raise GraphError(
                "the snapshot function returned None for the first snapshot: the flow needs "
                "one to know its columns",
                location,
            )
        frame = first[0]
    return with_event_columns(frame)


def _read_source(source: str, location: SourceLocation, *, streaming: bool, where: Any) -> Any:
    from lakehouse.engine.session import current_reader

    events = current_reader().read(source, streaming=streaming, location=location)
    return events if where is None else events.where(where)


def _scd_type(stored_as_scd_type: int | str, flow: str, location: SourceLocation) -> int:
    if str(stored_as_scd_type) not in ("1", "2"):
        raise GraphError(
            f"{flow}: stored_as_scd_type must be 1 or 2, got {stored_as_scd_type!r}", location
        )
    return int(stored_as_scd_type)


def _column_tuple(
    columns: list[Any] | None, argument: str, location: SourceLocation
) -> tuple[Any, ...] | None:
    if columns is None:
        return None
    if isinstance(columns, str) or not isinstance(columns, (list, tuple)):
        raise GraphError(f"{argument} must be a list of column names, got {columns!r}", location)
    return tuple(columns)


def on_event_hook(
    user_event_hook_fn: Callable[[dict[str, Any]], Any] | None = None,
    max_allowable_consecutive_failures: int | None = None,
) -> Any:
    """Call the decorated function with each event of every update's event log: a dict with
    the event log's columns, ``details`` parsed. After more than
    ``max_allowable_consecutive_failures`` exceptions in a row it is disabled for the update.

    Example:
        >>> @dlt.on_event_hook(max_allowable_consecutive_failures=3)
        ... def alert_on_failure(event):
        ...     if event["level"] == "ERROR":
        ...         print(event["message"])  # doctest: +SKIP
    """
    if user_event_hook_fn is not None and not callable(user_event_hook_fn):
        raise GraphError(
            "@on_event_hook takes its options by name, e.g. "
            "@on_event_hook(max_allowable_consecutive_failures=5)",
            user_code_location(),
        )
    limit = max_allowable_consecutive_failures
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise GraphError(
            f"max_allowable_consecutive_failures must be an integer >= 0 or None, got {limit!r}",
            user_code_location(),
        )

    def register(function: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
        name = _name_of(function, "on_event_hook")
        current_registry().hooks.append(EventHook(function, name, limit))
        return function

    return register(user_event_hook_fn) if user_event_hook_fn is not None else register


def enable_local_execution() -> None:
    """Accepted for code written against the ``databricks-dlt`` stubs: the engine always runs
    pipelines locally."""


# dlt's older names
create_table = table
create_view = view
readStream = read_stream
