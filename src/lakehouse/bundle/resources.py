"""The resources of one target, built in Python (the bundle's ``python:`` section).

For a domain's target ``<domain>-<env>``:

- an ingestion pipeline per source system of the domain's contracts
  (``<source_system>_ingestion``), running the generated pipeline file with the configuration
  it reads;
- the domain's own pipelines and jobs, from ``domains/<domain>/resources/*.yml`` (bundle YAML:
  a ``resources`` mapping of ``pipelines`` and ``jobs``);
- a job ``<domain>_refresh`` that runs the ingestion pipelines, then the domain's pipelines.

Only that domain's resources reach its target. Every resource is typed by databricks-bundles
(``from_dict``), so a misspelled key fails here, naming the file and the key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from databricks.bundles.catalogs import Catalog
from databricks.bundles.core import Bundle, Location, Resources
from databricks.bundles.jobs import Job
from databricks.bundles.pipelines import Pipeline
from databricks.bundles.schemas import Schema
from databricks.bundles.volumes import Volume

from lakehouse.bundle.registry import PLATFORM, DomainSpec, load_registry
from lakehouse.bundle.targets import tags
from lakehouse.contracts.problems import ConfigFileError, Problem
from lakehouse.contracts.yaml_source import YamlSource, field_name
from lakehouse.domains import Domain
from lakehouse.governance import access
from lakehouse.ingestion import settings as ingestion

INGESTION_PIPELINE_FILE = "src/lakehouse/ingestion/pipelines/source_system.py"
# The packages the lakehouse code (from the bundle's synced src/) needs beyond the serverless
# runtime.
RUNTIME_DEPENDENCIES = ["open-data-contract-standard>=3.2", "jsonschema>=4.23", "sqlglot>=25"]
DOMAIN_RESOURCE_TYPES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "pipelines": Pipeline.from_dict,
    "jobs": Job.from_dict,
}


class ResourceFileError(ConfigFileError):
    """A domain resource file that cannot be used."""


def load_resources(bundle: Bundle) -> Resources:
    """The ``python: resources`` entry point: the selected target's resources. Each target
    sets the variables ``domain`` and ``env``; the bundle root is the working folder.

    Example:
        >>> load_resources(Bundle(target="sales-dev", variables={"domain": "sales", "env": "dev"}))  # doctest: +SKIP
    """
    return build_target(
        Path.cwd(), bundle.variables["domain"], bundle.variables["env"]
    ).as_resources()


@dataclass(frozen=True)
class TargetResources:
    """What one target deploys, before it is handed to databricks-bundles."""

    pipelines: dict[str, tuple[Pipeline, Location]]
    jobs: dict[str, tuple[Job, Location]]
    catalogs: dict[str, tuple[Catalog, Location]] = field(default_factory=dict)
    schemas: dict[str, tuple[Schema, Location]] = field(default_factory=dict)
    volumes: dict[str, tuple[Volume, Location]] = field(default_factory=dict)

    def as_resources(self) -> Resources:
        resources = Resources()
        for kind in (self.catalogs, self.schemas, self.volumes, self.pipelines, self.jobs):
            for name, (resource, location) in kind.items():
                resources.add_resource(name, resource, location=location)
        return resources


def build_target(root: Path, domain: str, env: str) -> TargetResources:
    """The resources of target ``<domain>-<env>`` of the bundle at ``root``, typed, with where
    each comes from.

    Example:
        >>> sorted(build_target(Path("."), "sales", "dev").pipelines)  # doctest: +SKIP
        ['crm_ingestion', 'sales_gold']
    """
    if domain == PLATFORM:
        return foundation(root, env)
    folder = Domain(root / "domains" / domain)
    here = Location(file=str(Path(__file__).resolve()))
    pipelines = {
        f"{ss}_ingestion": (ingestion_pipeline(folder, ss, env), here)
        for ss in folder.source_systems
    }
    ingestion_names = list(pipelines)
    jobs: dict[str, tuple[Job, Location]] = {}
    for file in sorted((folder.folder / "resources").glob("*.yml")):
        for kind, name, resource, location in domain_resource_file(file):
            (pipelines if kind == "pipelines" else jobs)[name] = (resource, location)
    own = [name for name in pipelines if name not in ingestion_names]
    jobs.setdefault(f"{folder.name}_refresh", (refresh_job(folder, ingestion_names, own), here))
    return TargetResources(pipelines, jobs)


def foundation(root: Path, env: str) -> TargetResources:
    """The platform target's resources in ``env``: the layers' catalogs; a bronze, silver and
    landing schema per source system and a gold schema per domain, granted to the owning
    domain's roles; a landing volume per dataset; and the daily job that grants each table as
    its classification says (``governance/table_grants.py``)."""
    platform, specs = load_registry(root)
    here = Location(file=str(Path(__file__).resolve()))
    catalogs = {
        f"{env}_{layer}": (
            Catalog.from_dict({
                "name": f"{env}_{layer}",
                "comment": f"The {layer} layer of {env}.",
                "grants": access.catalog_grants(platform),
                # Unity Catalog objects take no preset tags: they carry them as properties.
                "properties": tags(platform, env),
            }),
            here,
        )
        for layer in ("landing", "bronze", "silver", "gold")
    }  # fmt: skip
    schemas: dict[str, tuple[Schema, Location]] = {}
    volumes: dict[str, tuple[Volume, Location]] = {}

    def schema(layer: str, name: str, owner: DomainSpec, comment: str) -> None:
        schemas[f"{env}_{layer}_{name}"] = (
            Schema.from_dict({
                "catalog_name": f"{env}_{layer}",
                "name": name,
                "comment": comment,
                "grants": access.schema_grants(owner, platform),
                "properties": tags(owner, env),
            }),
            here,
        )  # fmt: skip

    for spec in specs:
        domain = Domain(root / "domains" / spec.name)
        schema("gold", spec.name, spec, f"{spec.name}'s gold: {spec.description}")
        for ss in domain.source_systems:
            for layer in ("landing", "bronze", "silver"):
                schema(layer, ss, spec, f"{ss} ({spec.name}), {layer}.")
        for contract in domain.contracts:
            volumes[f"{env}_landing_{contract.source_system}_{contract.dataset}"] = (
                Volume.from_dict({
                    "catalog_name": f"{env}_landing",
                    "schema_name": contract.source_system,
                    "name": contract.dataset,
                    "volume_type": "MANAGED",
                    "comment": f"Files of {contract.id} land here.",
                    "grants": access.landing_volume_grants(spec, platform),
                }),
                here,
            )  # fmt: skip
    grants = Job.from_dict({
        "name": "platform_table_grants",
        "description": "Grants every table of the layers as its lakehouse.classification says.",
        "schedule": {"quartz_cron_expression": "0 30 6 * * ?", "timezone_id": "UTC"},
        "tasks": [{
            "task_key": "table_grants",
            "environment_key": "default",
            "spark_python_task": {
                "python_file": "${workspace.file_path}/src/lakehouse/governance/table_grants.py",
                "parameters": ["--env", env],
            },
        }],
        "environments": [{
            "environment_key": "default",
            "spec": {"client": "2", "dependencies": RUNTIME_DEPENDENCIES},
        }],
    })  # fmt: skip
    return TargetResources(
        {}, {"platform_table_grants": (grants, here)}, catalogs, schemas, volumes
    )


def ingestion_pipeline(domain: Domain, source_system: str, env: str) -> Pipeline:
    """The serverless pipeline that ingests ``source_system``: the generated pipeline file,
    with the configuration ``lakehouse.ingestion.settings`` reads. Continuous in test and prod
    when a contract of the source system is near-real-time; triggered by the refresh job
    otherwise."""
    contracts = [c for c in domain.contracts if c.source_system == source_system]
    near_real_time = any(c.ingestion_mode == "near-real-time" for c in contracts)
    files = "${workspace.file_path}"
    return Pipeline.from_dict(
        {
            "name": f"{source_system}_ingestion",
            "catalog": f"{env}_bronze",
            "schema": source_system,
            "serverless": True,
            "channel": "CURRENT",
            "continuous": near_real_time and env != "dev",
            "root_path": f"{files}/src",
            "libraries": [{"file": {"path": f"{files}/{INGESTION_PIPELINE_FILE}"}}],
            "environment": {"dependencies": RUNTIME_DEPENDENCIES},
            "configuration": {
                ingestion.SOURCE_SYSTEM: source_system,
                ingestion.CONTRACTS: f"{files}/domains/{domain.name}/contracts",
                ingestion.LANDING: f"/Volumes/{env}_landing",
                ingestion.ENV: env,
            },
        }
    )


def refresh_job(domain: Domain, ingestion: list[str], pipelines: list[str]) -> Job:
    """The domain's daily job: every ingestion pipeline, then the domain's own pipelines."""
    first = [
        {"task_key": name, "pipeline_task": {"pipeline_id": f"${{resources.pipelines.{name}.id}}"}}
        for name in ingestion
    ]
    then = [
        {
            "task_key": name,
            "depends_on": [{"task_key": task["task_key"]} for task in first],
            "pipeline_task": {"pipeline_id": f"${{resources.pipelines.{name}.id}}"},
        }
        for name in pipelines
    ]
    return Job.from_dict(
        {
            "name": f"{domain.name}_refresh",
            "description": f"Ingests {domain.name}'s source systems, then refreshes its gold.",
            "schedule": {"quartz_cron_expression": "0 0 5 * * ?", "timezone_id": "UTC"},
            "tasks": first + then,
        }
    )


def domain_resource_file(file: Path) -> list[tuple[str, str, Any, Location]]:
    """The resources of a domain's bundle YAML file, typed; a ``ResourceFileError`` names the
    file, line and key of every problem."""
    source = YamlSource.read(file, ResourceFileError)
    data = source.data or {}
    problems: list[Problem] = []
    found = []
    if not isinstance(data, dict) or set(data) - {"resources"}:
        raise ResourceFileError(
            [Problem(file, 1, "", "expected only a 'resources' mapping of pipelines and jobs")]
        )
    for kind, named in (data.get("resources") or {}).items():
        build = DOMAIN_RESOURCE_TYPES.get(kind)
        path: tuple[str | int, ...] = ("resources", kind)
        if build is None or not isinstance(named, dict):
            expected = " or ".join(DOMAIN_RESOURCE_TYPES)
            problems.append(Problem(file, source.line_of(path), field_name(path), f"expected {expected}"))  # fmt: skip
            continue
        for name, body in named.items():
            at = (*path, name)
            try:
                resource = build(body)
            except (ValueError, TypeError) as error:
                line, key = _key_of(source, at, str(error))
                problems.append(Problem(file, line, field_name(key), str(error)))
                continue
            location = Location(file=str(file.resolve()), line=source.line_of(at))
            found.append((kind, name, resource, location))
    if problems:
        raise ResourceFileError(problems)
    return found


def _key_of(source: YamlSource, at: tuple[str | int, ...], message: str) -> tuple[int, tuple]:
    """The line and path of the key an error message quotes ('Unexpected field 'x' ...'),
    looked for under ``at``; ``at`` itself when none matches."""
    for path, line in sorted(source.lines.items(), key=lambda item: item[1]):
        if path[: len(at)] == at and path and f"'{path[-1]}'" in message:
            return line, path
    return source.line_of(at), at
