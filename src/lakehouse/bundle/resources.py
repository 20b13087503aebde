"""The resources of one target that are built in Python (the bundle's ``python:`` section).

For a domain's target ``<domain>-<env>``:

- an ingestion pipeline per source system of the domain's contracts
  (``<source_system>_ingestion``), running the generated pipeline file with the configuration
  it reads;
- a job ``<domain>_refresh`` that runs the ingestion pipelines, then the domain's own pipelines;
- a job ``<domain>_scoring_<model>`` per model file (``domains/<domain>/models/*.yml``),
  scheduled as the file says;
- a job ``<domain>_monitoring``, hourly: freshness, quality trends and failed pipelines, failing
  (and mailing the owner) on an alert;
- in dev, the developer's own schemas for what those pipelines write.

The domain's own pipelines and jobs are bundle YAML, ``domains/<domain>/resources/*.yml``,
included by ``databricks.yml`` and declared under the domain's own targets only
(``targets: <domain>-<env>: resources: ...``), so that no other domain's workspace receives
them. ``domain_resource_file`` reads such a file for the refresh job and for the offline
checks: every resource typed by databricks-bundles (``from_dict``), so that a misspelled key
is named with its file and line.

Relative paths in Python resources are relative to the bundle root (the CLI rewrites
file-relative paths only in YAML).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from databricks.bundles.core import Bundle, Location, Resources
from databricks.bundles.jobs import Job
from databricks.bundles.pipelines import Pipeline
from databricks.bundles.schemas import Schema
from databricks.bundles.volumes import Volume

from lakehouse.bundle.targets import PLATFORM_CATALOG, SCHEMA_PREFIX, tags, target_name
from lakehouse.contracts.problems import ConfigFileError, Problem
from lakehouse.contracts.yaml_source import YamlSource, field_name
from lakehouse.governance import access
from lakehouse.governance.sandpit_cleanup import EXPIRES, OWNER
from lakehouse.governance.sandpits import SANDPIT_CATALOG, SANDPITS, load_sandpits, sandpit_catalog
from lakehouse.governance.shares import SHARING_SCHEMA
from lakehouse.ingestion import pipeline_spec as ingestion
from lakehouse.operations.event_logs import EVENT_LOG
from lakehouse.platform.catalogs import MONITORING_SCHEMA
from lakehouse.platform.domains import Domain
from lakehouse.platform.registry import (
    ENVS,
    PLATFORM,
    REGISTRY_FILE,
    DomainSpec,
    load_domain_spec,
    load_registry,
)
from lakehouse.scoring.control_table import ControlRow, control_rows

INGESTION_PIPELINE_FILE = ingestion.BUNDLE_SOURCE_FILE
# The project's wheel, built by the bundle's `lakehouse` artifact (databricks.yml) and uploaded
# by the CLI: deployed jobs and pipelines import lakehouse, and get its dependencies
# (pyproject.toml's, listed once), from it rather than from the synced sources.
PROJECT_WHEEL = "dist/*.whl"
TABLE_GRANTS_ENTRY_POINT = "lakehouse-table-grants"
SANDPIT_CLEANUP_ENTRY_POINT = "lakehouse-sandpit-cleanup"
SHARES_ENTRY_POINT = "lakehouse-shares"
DEEP_CLONE_ENTRY_POINT = "lakehouse-deep-clone"
PLATFORM_ENTRY_POINTS = (TABLE_GRANTS_ENTRY_POINT, SANDPIT_CLEANUP_ENTRY_POINT, SHARES_ENTRY_POINT, DEEP_CLONE_ENTRY_POINT)  # fmt: skip
SCORING_ENTRY_POINT = "lakehouse-scoring"
MONITORING_ENTRY_POINT = "lakehouse-monitoring"
# Each domain's monitoring job runs hourly, at a quarter past (after the hour's deliveries).
MONITORING_SCHEDULE = "0 15 * * * ?"
# MLflow is not a dependency of the wheel (runtimes ship their own); serverless jobs get it here.
SCORING_DEPENDENCIES = ("mlflow-skinny>=3.17", "scikit-learn>=1.5", "skops>=0.10")
PREFIX = f"${{var.{SCHEMA_PREFIX}}}"
# The pipeline events that notify the domain's owner: an update or a flow that failed.
FAILURE_ALERTS = ["on-update-failure", "on-update-fatal-failure", "on-flow-failure"]
# The serverless environment version the jobs and pipelines run on.
ENVIRONMENT_VERSION = "2"
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
    schemas: dict[str, tuple[Schema, Location]] = field(default_factory=dict)
    volumes: dict[str, tuple[Volume, Location]] = field(default_factory=dict)

    def as_resources(self) -> Resources:
        resources = Resources()
        for kind in (self.schemas, self.volumes, self.pipelines, self.jobs):
            for name, (resource, location) in kind.items():
                resources.add_resource(name, resource, location=location)
        return resources


def build_target(root: Path, domain: str, env: str) -> TargetResources:
    """The Python-built resources of target ``<domain>-<env>`` of the bundle at ``root``,
    typed, with where each comes from.

    Example:
        >>> sorted(build_target(Path("."), "sales", "dev").pipelines)  # doctest: +SKIP
        ['crm_ingestion']
    """
    if domain == PLATFORM:
        return foundation(root, env)
    folder = Domain(root / "domains" / domain)
    here = Location(file=str(Path(__file__).resolve()))
    spec = load_domain_spec(folder.folder / REGISTRY_FILE)
    pipelines = {
        f"{ss}_ingestion": (ingestion_pipeline(folder, ss, env, spec.owner), here)
        for ss in folder.source_systems
    }
    own = [
        resource
        for file in domain_resource_files(folder)
        for resource in domain_resource_file(file, domain).get(target_name(domain, env), [])
    ]
    jobs: dict[str, tuple[Job, Location]] = {
        f"{domain}_scoring_{row.name}": (
            scoring_job(row, env, spec.owner),
            Location(file=row.file, line=1),
        )
        for row in control_rows([folder], env)
    }
    jobs[f"{domain}_monitoring"] = (monitoring_job(domain, env, spec.owner), here)
    if not any(r.kind == "jobs" and r.name == f"{domain}_refresh" for r in own):  # theirs wins
        own_pipelines = [r.name for r in own if r.kind == "pipelines"]
        jobs[f"{domain}_refresh"] = (
            refresh_job(folder, list(pipelines), own_pipelines, spec.owner),
            here,
        )
    schemas = personal_schemas(folder, spec, env) if env == "dev" else {}
    return TargetResources(pipelines, jobs, schemas=schemas)


def personal_schemas(
    domain: Domain, spec: DomainSpec, env: str
) -> dict[str, tuple[Schema, Location]]:
    """A developer's own schemas for what the domain's pipelines write in development: bronze
    and silver per source system, and the domain's gold. Development mode names each
    ``dev_<short name>_<schema>``, as ``schema_prefix`` does in the pipelines."""
    here = Location(file=str(Path(__file__).resolve()))
    layers = [("bronze", ss) for ss in domain.source_systems]
    layers += [("silver", ss) for ss in domain.source_systems] + [("gold", domain.name)]
    return {
        f"{env}_{layer}_{name}": (
            Schema.from_dict({
                "catalog_name": f"{env}_{layer}",
                "name": name,
                "comment": f"A developer's own {layer} schema for {name} ({domain.name}).",
                "properties": tags(spec, env),
            }),
            here,
        )
        for layer, name in layers
    }  # fmt: skip


def foundation(root: Path, env: str) -> TargetResources:
    """The platform target's Python resources in ``env`` (its catalogs are in its target, in
        databricks.yml, as the pinned databricks-bundles cannot declare catalogs): a bronze, silver and
        landing schema per source system and a gold schema per domain, granted to the owning
        domain's roles; a landing volume per dataset; the scoring schema of the platform's catalog,
    where each domain's scoring job writes its rows of the control table; a schema per active sandpit; and the
        daily jobs that grant each table as its classification says (``governance/table_grants.py``)
        and clean up the sandpits (``governance/sandpit_cleanup.py``), from the project's wheel."""
    platform, specs = load_registry(root)
    here = Location(file=str(Path(__file__).resolve()))
    schemas: dict[str, tuple[Schema, Location]] = {}
    volumes: dict[str, tuple[Volume, Location]] = {}

    def schema(layer: str, name: str, owner: DomainSpec, comment: str) -> None:
        schemas[f"{env}_{layer}_{name}"] = (
            Schema.from_dict({
                "catalog_name": f"{env}_{layer}",
                "name": name,
                "comment": comment,
                "grants": access.schema_grants(owner),
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
    schemas[f"{env}_{PLATFORM_CATALOG}_scoring"] = (
        Schema.from_dict({
            "catalog_name": f"{env}_{PLATFORM_CATALOG}",
            "name": "scoring",
            "comment": "The scoring control table: one row per model file of every domain.",
            "grants": access.shared_schema_grants(platform, specs, env),
            "properties": tags(platform, env),
        }),
        here,
    )  # fmt: skip
    schemas[f"{env}_{PLATFORM_CATALOG}_{MONITORING_SCHEMA}"] = (
        Schema.from_dict({
            "catalog_name": f"{env}_{PLATFORM_CATALOG}",
            "name": MONITORING_SCHEMA,
            "comment": "What each domain's monitoring job found: freshness against the SLAs, "
                       "expectation and conservation trends (docs/operations.md).",
            "grants": access.shared_schema_grants(platform, specs, env),
            "properties": tags(platform, env),
        }),
        here,
    )  # fmt: skip
    schemas[f"{env}_{PLATFORM_CATALOG}_{SHARING_SCHEMA}"] = (
        Schema.from_dict({
            "catalog_name": f"{env}_{PLATFORM_CATALOG}",
            "name": SHARING_SCHEMA,
            "comment": "The views the domains' Delta Sharing shares hold (domains/*/shares/).",
            "properties": tags(platform, env),
        }),
        here,
    )  # fmt: skip
    schemas.update(sandpit_schemas(root, platform, env, date.today()))
    grants = wheel_job(
        "platform_table_grants",
        "Sets the column masks the contracts call for, then grants every table of the layers "
        "as its lakehouse.classification says.",
        "0 30 6 * * ?",
        TABLE_GRANTS_ENTRY_POINT,
        ["--env", env, "--root", "${workspace.file_path}"],
    )
    cleanup = wheel_job(
        "platform_sandpit_cleanup",
        "Drops expired sandpits; grants each active one the data its data owner approved, and "
        "takes it back once it expires.",
        "0 0 6 * * ?",
        SANDPIT_CLEANUP_ENTRY_POINT,
        ["--env", env, "--root", "${workspace.file_path}"],
    )
    shares = wheel_job(
        "platform_shares",
        "Applies the domains' Delta Sharing shares: recipients, the views they receive, and "
        "their grants; revokes expired shares.",
        "0 0 7 * * ?",
        SHARES_ENTRY_POINT,
        ["--env", env, "--root", "${workspace.file_path}"],
    )
    recovery = wheel_job(
        "platform_deep_clone",
        f"Deep-clones every table of {env}'s catalogs into {env}_recovery, daily: the recovery "
        "point (docs/operations.md, disaster recovery).",
        "0 0 2 * * ?",
        DEEP_CLONE_ENTRY_POINT,
        ["--env", env],
    )
    jobs = {
        "platform_table_grants": (grants, here),
        "platform_sandpit_cleanup": (cleanup, here),
        "platform_shares": (shares, here),
        "platform_deep_clone": (recovery, here),
    }
    return TargetResources({}, jobs, schemas, volumes)


def sandpit_schemas(
    root: Path, platform: DomainSpec, env: str, today: date
) -> dict[str, tuple[Schema, Location]]:
    """A schema in ``<env>_sandpit`` for each sandpit file (``sandpits/*.yml``) that has not
    expired by ``today``: its owners hold every privilege, and it is tagged with its owner and
    expiry, which the cleanup job reads."""
    return {
        f"{env}_{SANDPIT_CATALOG}_{sandpit.name}": (
            Schema.from_dict({
                "catalog_name": sandpit_catalog(env),
                "name": sandpit.name,
                "comment": f"Sandpit of {sandpit.owner} until {sandpit.expires}: {sandpit.purpose}",
                "grants": [{"principal": p, "privileges": ["ALL_PRIVILEGES"]} for p in sandpit.owners],
                "properties": {**tags(platform, env), EXPIRES: str(sandpit.expires), OWNER: sandpit.owner},
            }),
            Location(file=str((root / SANDPITS / f"{sandpit.name}.yml").resolve()), line=1),
        )
        for sandpit in load_sandpits(root)
        if not sandpit.expired(today)
    }  # fmt: skip


def wheel_job(
    name: str,
    description: str,
    cron: str,
    entry_point: str,
    parameters: list[str],
    dependencies: tuple[str, ...] = (),
    timezone: str = "UTC",
    task_key: str | None = None,
    notify: str | None = None,
) -> Job:
    """A serverless job on the schedule ``cron``, of one task running an entry point of the
    project's wheel (with ``dependencies`` beside it).

    Example:
        >>> wheel_job("platform_table_grants", "...", "0 30 6 * * ?", "lakehouse-table-grants", ["--env", "prod"]).tasks[0].task_key  # doctest: +SKIP
        'platform_table_grants'
    """
    return Job.from_dict({
        "name": name,
        "description": description,
        "schedule": {"quartz_cron_expression": cron, "timezone_id": timezone},
        **({"email_notifications": {"on_failure": [notify]}} if notify else {}),
        "tasks": [{
            "task_key": task_key or name.removeprefix("platform_"),
            "environment_key": "default",
            "python_wheel_task": {
                "package_name": "lakehouse",
                "entry_point": entry_point,
                "parameters": parameters,
            },
        }],
        "environments": [{
            "environment_key": "default",
            "spec": {"environment_version": ENVIRONMENT_VERSION,
                     "dependencies": [PROJECT_WHEEL, *dependencies]},
        }],
    })  # fmt: skip


def ingestion_pipeline(domain: Domain, source_system: str, env: str, owner: str) -> Pipeline:
    """The serverless pipeline that ingests ``source_system``, as ``ingestion.pipeline_spec``
    describes it for both runtimes, with the workspace's paths: the synced contracts and the
    landing volume."""
    spec = ingestion.ingestion_pipeline(
        domain,
        source_system,
        env,
        # Configuration values are not paths to the CLI: this one names the synced copy.
        contracts=f"${{workspace.file_path}}/domains/{domain.name}/contracts",
        landing=f"/Volumes/{env}_landing",
        schema_prefix=PREFIX,
    )
    return Pipeline.from_dict(
        {
            "name": spec.name,
            "catalog": spec.catalog,
            "schema": spec.schema,
            "serverless": True,
            "channel": "CURRENT",
            "continuous": spec.continuous,
            # The source file's folder, as in the bundle templates: lakehouse itself is imported
            # from the wheel, not from the synced src/.
            "root_path": INGESTION_PIPELINE_FILE.rpartition("/")[0],
            "libraries": [{"file": {"path": INGESTION_PIPELINE_FILE}}],
            "environment": {"dependencies": [PROJECT_WHEEL]},
            "configuration": dict(spec.configuration),
            # The domain's owner hears of a failed update (the data stops arriving).
            "notifications": [{"email_recipients": [owner], "alerts": FAILURE_ALERTS}],
            # Published where the monitoring job reads it, as the local engine keeps it.
            "event_log": {"catalog": spec.catalog, "schema": spec.schema, "name": EVENT_LOG},
        }
    )


def refresh_job(domain: Domain, ingestion: list[str], pipelines: list[str], owner: str) -> Job:
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
            "email_notifications": {"on_failure": [owner]},
            "tasks": first + then,
        }
    )


def monitoring_job(domain: str, env: str, owner: str) -> Job:
    """The domain's hourly monitoring job (``operations/monitoring_job.py``): freshness against
    the contracts' SLAs, quality trends and failed pipelines; it fails on an alert, and its
    failure mails the domain's owner."""
    return wheel_job(
        f"{domain}_monitoring",
        f"Checks {domain}'s datasets against their contracts' SLAs, its updates' expectations "
        f"and conservation, and its pipelines' last updates; fails on an alert, which mails the "
        f"owner (docs/operations.md).",
        MONITORING_SCHEDULE,
        MONITORING_ENTRY_POINT,
        ["--env", env, "--domain", domain, "--root", "${workspace.file_path}",
         f"--schema-prefix={PREFIX}"],
        task_key="monitor",
        notify=owner,
    )  # fmt: skip


def scoring_job(row: ControlRow, env: str, owner: str) -> Job:
    """The serverless job that scores one row of the scoring control table on its schedule,
    with the project's wheel and what MLflow's scikit-learn models load with."""
    return wheel_job(
        f"{row.domain}_scoring_{row.name}",
        f"Scores {row.model_reference} over {row.input_table} into {row.output_table} "
        f"(domains/{row.domain}/models/{row.name}).",
        row.schedule,
        SCORING_ENTRY_POINT,
        ["--env", env, "--model", row.name, "--root", "${workspace.file_path}",
         f"--schema-prefix={PREFIX}"],
        SCORING_DEPENDENCIES,
        timezone=row.timezone,
        task_key="score",
        notify=owner,
    )  # fmt: skip


@dataclass(frozen=True)
class DomainResource:
    """A pipeline or job of a domain's resource file, typed, with where it is written."""

    kind: str  # pipelines or jobs
    name: str
    body: dict[str, Any]
    location: Location


def domain_resource_files(domain: Domain) -> list[Path]:
    """The domain's bundle YAML files, as ``databricks.yml`` includes them."""
    folder = domain.folder / "resources"
    return sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")])


def domain_resource_file(file: Path, domain: str) -> dict[str, list[DomainResource]]:
    """The resources a domain's bundle YAML file declares, per target, typed. The file holds
    ``targets: <domain>-<env>: resources: {pipelines: ..., jobs: ...}`` and nothing else, so
    that it reaches no other domain's target; a ``ResourceFileError`` names the file, line and
    key of every problem.

    Example:
        >>> domain_resource_file(Path("domains/sales/resources/sales_gold.pipeline.yml"), "sales")["sales-dev"][0].name  # doctest: +SKIP
        'sales_gold'
    """
    source = YamlSource.read(file, ResourceFileError)
    data = source.data or {}
    own = [target_name(domain, env) for env in ENVS]
    shape = (
        f"targets: {own[0]}: resources: ... (one entry per target of {domain}: {', '.join(own)})"
    )
    if (
        not isinstance(data, dict)
        or set(data) != {"targets"}
        or not isinstance(data["targets"], dict)
    ):
        extra = sorted(set(data) - {"targets"}) if isinstance(data, dict) else []
        where = ("targets",) if not extra else (extra[0],)
        message = f"a domain's resources are declared under its own targets only, {shape}"
        raise ResourceFileError([Problem(file, source.line_of(where), field_name(where), message)])
    problems: list[Problem] = []
    found: dict[str, list[DomainResource]] = {}
    for target, settings in data["targets"].items():
        at: tuple[str | int, ...] = ("targets", target)
        if target not in own:
            problems.append(Problem(file, source.line_of(at), field_name(at), f"not a target of domain '{domain}'; expected {', '.join(own)}"))  # fmt: skip
            continue
        if not isinstance(settings, dict) or set(settings) != {"resources"}:
            problems.append(Problem(file, source.line_of(at), field_name(at), "expected only 'resources': the target's settings come from the registry"))  # fmt: skip
            continue
        found[target] = _typed_resources(source, file, (*at, "resources"), settings["resources"], problems)  # fmt: skip
    if problems:
        # A resource declared once under an anchor is one problem, not one per target.
        unique = {(p.line, p.message): p for p in reversed(problems)}
        raise ResourceFileError(list(unique.values()))
    return found


def _typed_resources(
    source: YamlSource, file: Path, path: tuple[str | int, ...], named: Any, problems: list[Problem]
) -> list[DomainResource]:
    found = []
    expected = " or ".join(DOMAIN_RESOURCE_TYPES)
    if not isinstance(named, dict):
        problems.append(Problem(file, source.line_of(path), field_name(path), f"expected {expected}"))  # fmt: skip
        return found
    for kind, resources in named.items():
        build = DOMAIN_RESOURCE_TYPES.get(kind)
        at = (*path, kind)
        if build is None or not isinstance(resources, dict):
            problems.append(Problem(file, source.line_of(at), field_name(at), f"expected {expected}"))  # fmt: skip
            continue
        for name, body in resources.items():
            where = (*at, name)
            try:
                build(body)
            except (ValueError, TypeError) as error:
                line, key = _key_of(source, where, str(error))
                problems.append(Problem(file, line, field_name(key), str(error)))
                continue
            location = Location(file=str(file.resolve()), line=source.body_line(where))
            found.append(DomainResource(kind, name, body, location))
    return found


def _key_of(source: YamlSource, at: tuple[str | int, ...], message: str) -> tuple[int, tuple]:
    """The line and path of the key an error message quotes ('Unexpected field 'x' ...'),
    looked for under ``at``; ``at`` itself when none matches."""
    for path, line in sorted(source.lines.items(), key=lambda item: item[1]):
        if path[: len(at)] == at and path and f"'{path[-1]}'" in message:
            return line, path
    return source.line_of(at), at
