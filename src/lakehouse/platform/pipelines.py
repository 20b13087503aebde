"""One description of each pipeline, read by both runtimes: the bundle deploys it to
Databricks, and local runs (the demo, a domain's tests) run the same files with the same
catalog, schema and configuration through the local engine.

A domain's own pipelines are declared where bundle users declare them, in the domain's bundle
YAML (``domains/<name>/resources/*.yml``, under the domain's targets); ``domain_pipelines``
reads them from there, so a local run cannot drift from what is deployed. The generated
ingestion pipelines are built in code (``ingestion.settings.ingestion_pipeline``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakehouse.contracts.problems import ConfigFileError, Problem
from lakehouse.contracts.yaml_source import YamlSource, field_name
from lakehouse.platform.domains import Domain

# The bundle variables a domain's pipeline may use, and their values in a local run: the
# developer's own schemas are the local catalog's, so no prefix.
_LOCAL_VARIABLES = {"schema_prefix": ""}
_VARIABLE = re.compile(r"\$\{var\.(\w+)\}")


@dataclass(frozen=True)
class PipelineSpec:
    """A pipeline as both runtimes run it: its source files and folders, where it publishes,
    and its configuration.

    Example:
        >>> spec = PipelineSpec("sales_gold", "dev_gold", "sales", (Path("domains/sales/pipelines"),))
        >>> spec.target
        'dev_gold.sales'
    """

    name: str
    catalog: str
    schema: str
    sources: tuple[Path, ...]
    configuration: Mapping[str, str] = field(default_factory=dict)
    continuous: bool = False

    @property
    def target(self) -> str:
        return f"{self.catalog}.{self.schema}"


def domain_pipelines(domain: Domain, env: str) -> list[PipelineSpec]:
    """The pipelines ``domain`` declares for target ``<domain>-<env>`` in its bundle YAML, as
    a local run sees them (``${var.env}`` is ``env``, ``${var.schema_prefix}`` empty).

    Example:
        >>> [p.name for p in domain_pipelines(Domain(Path("domains/sales")), "dev")]  # doctest: +SKIP
        ['sales_gold']
    """
    target = f"{domain.name}-{env}"
    values = {**_LOCAL_VARIABLES, "env": env}
    specs = []
    for file in sorted((domain.folder / "resources").glob("*.y*ml")):
        source = YamlSource.read(file, ConfigFileError)
        targets = (source.data or {}).get("targets") or {}
        declared = ((targets.get(target) or {}).get("resources") or {}).get("pipelines") or {}
        for key, pipeline in declared.items():
            at = ("targets", target, "resources", "pipelines", key)
            specs.append(_spec(key, pipeline, values, Where(file, source, at)))
    return specs


@dataclass(frozen=True)
class Where:
    """A pipeline's place in a YAML file, for problems that name file, line and field."""

    file: Path
    source: YamlSource
    path: tuple[str | int, ...]

    def problem(self, *path: str | int, message: str) -> ConfigFileError:
        full = (*self.path, *path)
        line = self.source.line_of(full)
        return ConfigFileError([Problem(self.file, line, field_name(full), message)])


def _spec(key: str, pipeline: Any, values: Mapping[str, str], where: Where) -> PipelineSpec:
    if not isinstance(pipeline, dict) or not {"catalog", "schema"} <= set(pipeline):
        raise where.problem(message="expected a pipeline with a catalog and a schema")
    pipeline = _substituted(pipeline, values, where)
    sources = []
    for index, library in enumerate(pipeline.get("libraries") or []):
        if isinstance(library, dict) and "glob" in library:
            # A folder's files, recursively, as the engine loads a folder.
            include = re.sub(r"/\*\*(/\*)?$|/\*$", "", library["glob"]["include"])
            sources.append(where.file.parent / include)
        elif isinstance(library, dict) and "file" in library:
            sources.append(where.file.parent / library["file"]["path"])
        else:
            raise where.problem("libraries", index, message="expected a 'glob' or 'file' library")
    return PipelineSpec(
        name=pipeline.get("name", key),
        catalog=pipeline["catalog"],
        schema=pipeline["schema"],
        sources=tuple(path.resolve() for path in sources),
        configuration={k: str(v) for k, v in (pipeline.get("configuration") or {}).items()},
        continuous=bool(pipeline.get("continuous", False)),
    )


def _substituted(node: Any, values: Mapping[str, str], where: Where) -> Any:
    if isinstance(node, str):

        def value(match: re.Match[str]) -> str:
            if match.group(1) not in values:
                known = ", ".join(f"${{var.{name}}}" for name in values)
                raise where.problem(message=f"{match.group(0)}: a local run knows only {known}")
            return values[match.group(1)]

        return _VARIABLE.sub(value, node)
    if isinstance(node, dict):
        return {k: _substituted(v, values, where) for k, v in node.items()}
    if isinstance(node, list):
        return [_substituted(v, values, where) for v in node]
    return node
