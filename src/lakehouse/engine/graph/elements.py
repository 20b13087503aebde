"""The pipeline graph as data: frozen definitions that decorators register and the engine runs.

Nothing here touches Spark. A pipeline is a set of datasets (where rows land) and flows
(queries that write rows into a dataset). Execution lives in ``engine/execution/``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

ExpectationAction = Literal["warn", "drop", "fail"]


@dataclass(frozen=True)
class SourceLocation:
    """Where a definition or a read was written, for error messages; SQL files name the
    column too."""

    file: str
    line: int
    column: int | None = None

    def __str__(self) -> str:
        place = f"{self.file}:{self.line}"
        return f"{place}:{self.column}" if self.column is not None else place


@dataclass(frozen=True)
class Expectation:
    """A named SQL boolean constraint and what happens to a row that breaks it.

    A row breaks the constraint when it evaluates to false or NULL.
    """

    name: str
    constraint: Any  # a SQL string, or a Column
    action: ExpectationAction = "warn"


class DatasetKind(str, Enum):
    """What a dataset is. ``TABLE`` becomes a streaming table or a materialized view once the
    engine knows whether its query is streaming, as ``@dlt.table`` does on Databricks."""

    TABLE = "table"
    STREAMING_TABLE = "streaming_table"
    MATERIALIZED_VIEW = "materialized_view"
    VIEW = "view"
    SINK = "sink"


@dataclass(frozen=True)
class Sink:
    """Where a sink's rows go: a Delta table by ``path`` or ``tableName`` (``create_sink``), or
    a function called with each micro-batch and its id (``@foreach_batch_sink``)."""

    format: str  # "delta" or "foreach_batch"
    options: Mapping[str, str] = field(default_factory=dict)
    handler: Callable[[Any, int], Any] | None = None


@dataclass(frozen=True)
class Dataset:
    """A named output of the pipeline: a table that is stored, a view that is not, or a sink
    that writes outside the pipeline."""

    name: str
    kind: DatasetKind
    location: SourceLocation
    comment: str | None = None
    table_properties: Mapping[str, str] = field(default_factory=dict)
    partition_cols: tuple[str, ...] = ()
    cluster_by: tuple[str, ...] = ()
    schema: Any = None  # StructType or DDL string, as the user gave it
    private: bool = False
    path: str | None = None
    expectations: tuple[Expectation, ...] = ()
    # Options declared that a local run does not apply, as written: "cluster_by_auto=True",
    # "ROW FILTER f ON (c)" (Unity Catalog's); the event log names them.
    not_applied: tuple[str, ...] = ()
    sink: Sink | None = None  # for kind SINK

    @property
    def is_view(self) -> bool:
        return self.kind is DatasetKind.VIEW

    @property
    def is_sink(self) -> bool:
        return self.kind is DatasetKind.SINK

    @property
    def pipeline_scoped(self) -> bool:
        """Known by its short name, in this pipeline only: temporary views and sinks."""
        return self.is_temporary_view or self.is_sink

    @property
    def is_temporary_view(self) -> bool:
        """A view only the pipeline sees, known by its short name (``@view``, SQL ``CREATE
        TEMPORARY VIEW``)."""
        return self.kind is DatasetKind.VIEW and self.private

    @property
    def is_published_view(self) -> bool:
        """A view in the catalog (SQL ``CREATE VIEW``), known by its qualified name."""
        return self.kind is DatasetKind.VIEW and not self.private


QueryFunction = Callable[[], Any]


@dataclass(frozen=True)
class AutoCdc:
    """How an AUTO CDC flow turns change events into the rows of its target.

    Columns are names or ``Column`` objects; expressions are SQL strings or ``Column`` objects,
    exactly as the user passed them to ``create_auto_cdc_flow`` / ``apply_changes``.
    """

    source: str
    keys: tuple[Any, ...]
    sequence_by: Any
    scd_type: int = 1
    ignore_null_updates: bool = False
    apply_as_deletes: Any = None
    apply_as_truncates: Any = None
    column_list: tuple[Any, ...] | None = None
    except_column_list: tuple[Any, ...] | None = None
    track_history_column_list: tuple[Any, ...] | None = None
    track_history_except_column_list: tuple[Any, ...] | None = None
    ignore_null_updates_column_list: tuple[Any, ...] | None = None
    ignore_null_updates_except_column_list: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class SnapshotSource:
    """Where an AUTO CDC flow from snapshots takes them: a table or view read once per
    update, or a function ``f(latest_version) -> (DataFrame, version) | None``."""

    table: str | None = None
    function: Callable[[int | None], Any] | None = None


@dataclass(frozen=True)
class Flow:
    """A query whose rows are written into ``target``.

    ``once`` flows run a single time (and again on full refresh), as backfills do. An AUTO CDC
    flow's query streams its source's change events; ``auto_cdc`` says how they apply.
    """

    name: str
    target: str
    query: QueryFunction
    location: SourceLocation
    once: bool = False
    spark_conf: Mapping[str, str] = field(default_factory=dict)
    expectations: tuple[Expectation, ...] = ()
    auto_cdc: AutoCdc | None = None
    snapshot: SnapshotSource | None = None  # AUTO CDC from snapshots: where they come from


@dataclass(frozen=True)
class EventHook:
    """A function called with each event of the update's event log (``@on_event_hook``);
    disabled after more than ``max_consecutive_failures`` failures in a row (None: never)."""

    function: Callable[[dict[str, Any]], Any]
    name: str
    max_consecutive_failures: int | None = None


@dataclass(frozen=True)
class PipelineGraph:
    """Everything a pipeline's source files declared, in declaration order."""

    datasets: tuple[Dataset, ...]
    flows: tuple[Flow, ...]

    def dataset(self, name: str) -> Dataset | None:
        return next((d for d in self.datasets if d.name == name), None)

    def flows_into(self, target: str) -> list[Flow]:
        return [f for f in self.flows if f.target == target]
