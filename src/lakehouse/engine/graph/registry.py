"""Collects the definitions that pipeline source files register while they load.

The decorators in ``api.py`` call ``current_registry()``; the loader installs a registry for
the duration of a load. Names are normalised here: tables (and views published to the catalog)
to ``catalog.schema.table`` under the pipeline's target; temporary views stay short because
they are pipeline-scoped.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field, replace

from lakehouse.engine.errors import GraphError
from lakehouse.engine.graph.elements import Dataset, EventHook, Expectation, Flow, PipelineGraph
from lakehouse.engine.graph.names import TableName, split_identifier

_current: ContextVar[GraphRegistry | None] = ContextVar("lakehouse_graph_registry", default=None)


@dataclass
class GraphRegistry:
    """Mutable collector that produces an immutable ``PipelineGraph``."""

    catalog: str
    schema: str
    datasets: dict[str, Dataset] = field(default_factory=dict)
    flows: dict[str, Flow] = field(default_factory=dict)
    hooks: list[EventHook] = field(default_factory=list)  # not part of the graph

    def qualify(self, name: str, *, view: bool = False, kind: str = "view") -> str:
        """The key a dataset is known by: short for temporary views and sinks, else fully
        qualified."""
        if view:
            parts = split_identifier(name)
            if len(parts) != 1:
                raise GraphError(
                    f"{kind} name '{name}' must not be qualified: {kind}s are pipeline-scoped"
                )
            return parts[0]
        return str(TableName.parse(name, self.catalog, self.schema))

    def register_dataset(self, dataset: Dataset) -> None:
        name = self.qualify(
            dataset.name, view=dataset.pipeline_scoped, kind=dataset.kind.value.replace("_", " ")
        )
        clash = self._clash(name, dataset)
        if clash is not None:
            raise GraphError(
                f"dataset '{name}' is defined twice (first at {clash.location})", dataset.location
            )
        self.datasets[name] = replace(dataset, name=name)

    def _clash(self, name: str, dataset: Dataset) -> Dataset | None:
        # Temporary views are read by short name: they share it with nothing.
        if name in self.datasets:
            return self.datasets[name]
        short = split_identifier(name)[-1]
        return next(
            (
                other
                for other in self.datasets.values()
                if (other.pipeline_scoped or dataset.pipeline_scoped)
                and split_identifier(other.name)[-1] == short
            ),
            None,
        )

    def register_flow(self, flow: Flow) -> None:
        target = self.resolve_target(flow.target)
        name = flow.name.lower()
        if name in self.flows:
            raise GraphError(
                f"flow '{name}' is defined twice (first at {self.flows[name].location})",
                flow.location,
            )
        self.flows[name] = replace(flow, name=name, target=target)

    def resolve_target(self, name: str) -> str:
        short = name.lower()
        if short in self.datasets and (
            self.datasets[short].is_view or self.datasets[short].is_sink
        ):
            return short
        return str(TableName.parse(name, self.catalog, self.schema))

    def add_expectations(self, dataset_name: str, expectations: tuple[Expectation, ...]) -> None:
        """Expectation decorators written above ``@table`` reach the dataset this way."""
        dataset = self.datasets[dataset_name]
        self.datasets[dataset_name] = replace(
            dataset, expectations=dataset.expectations + expectations
        )

    def graph(self) -> PipelineGraph:
        return PipelineGraph(tuple(self.datasets.values()), tuple(self.flows.values()))


def current_registry() -> GraphRegistry:
    registry = _current.get()
    if registry is None:
        raise GraphError(
            "pipeline definitions can only be registered while the engine loads a pipeline "
            "(lakehouse pipeline run, or lakehouse.engine.run_pipeline)"
        )
    return registry


@contextlib.contextmanager
def registering_into(registry: GraphRegistry) -> Iterator[GraphRegistry]:
    token = _current.set(registry)
    try:
        yield registry
    finally:
        _current.reset(token)
