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
_LOCAL_VARIABLES = {"var.schema_prefix": ""}
_SUBSTITUTION = re.compile(r"\$\{([\w.-]+)\}")


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
    event_log: str | None = None  # catalog.schema.name, from the event_log setting

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
    values = {**_LOCAL_VARIABLES, "var.env": env, "bundle.target": target}
    specs = []
    for file in sorted((domain.folder / "resources").glob("*.y*ml")):
        source = YamlSource.read(file, ConfigFileError)
        # A domain declares its pipelines per target: one workspace per domain and environment.
        for at, pipeline in _declared_pipelines(source.data or {}, target):
            if at[0] == "targets":
                specs.append(_spec(at[-1], pipeline, values, Where(file, source, at)))
    return specs


def settings_file_pipeline(
    file: Path, target: str | None = None, variables: Mapping[str, str] | None = None
) -> PipelineSpec:
    """The pipeline a settings file declares, as Databricks writes one: a bundle's pipeline
    resource (YAML, under ``resources.pipelines`` or a target's; ``target`` picks the target,
    ``variables`` give ``${var.*}``), or a pipeline's JSON settings as the Pipelines API
    returns them (``{"spec": {...}}`` or the settings themselves). Paths are relative to the
    file.

    Example:
        >>> spec = settings_file_pipeline(Path("domains/hr/resources/hr_gold.pipeline.yml"),
        ...                               "hr-dev", {"env": "dev"})  # doctest: +SKIP
        >>> spec.target  # doctest: +SKIP
        'dev_gold.hr'
    """
    source = YamlSource.read(file, ConfigFileError)
    data = source.data
    if not isinstance(data, dict):
        raise Where(file, source, ()).problem(message="expected a pipeline's settings")
    if isinstance(data.get("spec"), dict):  # GET /api/2.0/pipelines/{id}
        return _spec("pipeline", data["spec"], {}, Where(file, source, ("spec",)))
    if "libraries" in data:
        return _spec("pipeline", data, {}, Where(file, source, ()))
    targets = data.get("targets") or {}
    if target is not None and targets and target not in targets:
        raise Where(file, source, ("targets",)).problem(
            message=f"no target '{target}' (the file has {', '.join(targets)})"
        )
    found = _declared_pipelines(data, target)
    if len(found) != 1:
        where = Where(file, source, ())
        if not found:
            raise where.problem(message="expected resources.pipelines, or a pipeline's settings")
        places = ", ".join(".".join(map(str, at)) for at, _ in found)
        raise where.problem(message=f"declares several pipelines ({places}): pick with --target")
    ((at, pipeline),) = found
    values = {
        **_LOCAL_VARIABLES,
        **{f"var.{name}": value for name, value in (variables or {}).items()},
        **_bundle_values(file, target),
    }
    return _spec(str(at[-1]), pipeline, values, Where(file, source, at))


def _bundle_values(file: Path, target: str | None) -> dict[str, str]:
    """What a local run substitutes for the bundle's own ``${...}``: the target given, and
    the bundle's root (the folder of ``databricks.yml`` above ``file``) for
    ``${workspace.file_path}``, where the bundle's files are on Databricks."""
    values = {"bundle.target": target} if target else {}
    root = next((d for d in file.resolve().parents if (d / "databricks.yml").is_file()), None)
    if root is not None:
        values["workspace.file_path"] = str(root)
        bundle = YamlSource.read(root / "databricks.yml", ConfigFileError).data or {}
        name = (bundle.get("bundle") or {}).get("name") if isinstance(bundle, dict) else None
        if name:
            values["bundle.name"] = str(name)
    return values


def _declared_pipelines(
    data: dict[str, Any], target: str | None
) -> list[tuple[tuple[str, ...], Any]]:
    """Each pipeline under ``resources.pipelines`` and, for ``target`` (else every target),
    under ``targets.<target>.resources.pipelines``, with where it is."""
    found = [
        (("resources", "pipelines", key), pipeline)
        for key, pipeline in (((data.get("resources") or {}).get("pipelines")) or {}).items()
    ]
    for name, declared in (data.get("targets") or {}).items():
        if target is not None and name != target:
            continue
        pipelines = ((declared or {}).get("resources") or {}).get("pipelines") or {}
        found += [(("targets", name, "resources", "pipelines", k), p) for k, p in pipelines.items()]
    return found


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
    # ``target`` is the older name of ``schema``.
    if (
        not isinstance(pipeline, dict)
        or "catalog" not in pipeline
        or not ({"schema", "target"} & set(pipeline))
    ):
        raise where.problem(message="expected a pipeline with a catalog and a schema")
    pipeline = _substituted(pipeline, values, where)
    sources = []
    for index, library in enumerate(pipeline.get("libraries") or []):
        if isinstance(library, dict) and "glob" in library:
            # A folder's files, recursively, as the engine loads a folder.
            include = re.sub(r"/\*\*(/\*)?$|/\*$", "", library["glob"]["include"])
            sources.append(where.file.parent / include)
        elif isinstance(library, dict) and ("file" in library or "notebook" in library):
            kind = "file" if "file" in library else "notebook"
            sources.append(_source_file(where.file.parent / library[kind]["path"]))
        else:
            raise where.problem(
                "libraries", index, message="expected a 'glob', 'file' or 'notebook' library"
            )
    log = pipeline.get("event_log") or {}
    if log and (not isinstance(log, dict) or "name" not in log):
        raise where.problem(
            "event_log", message="expected a mapping with name (and catalog, schema)"
        )
    return PipelineSpec(
        name=pipeline.get("name", key),
        catalog=pipeline["catalog"],
        schema=pipeline.get("schema") or pipeline["target"],
        sources=tuple(path.resolve() for path in sources),
        configuration={k: str(v) for k, v in (pipeline.get("configuration") or {}).items()},
        continuous=bool(pipeline.get("continuous", False)),
        event_log=".".join(str(log[k]) for k in ("catalog", "schema", "name") if log.get(k))
        or None,
    )


def _source_file(path: Path) -> Path:
    """A library's file; a notebook's path may leave out its extension."""
    if path.exists() or path.suffix:
        return path
    return next(
        (p for p in (path.with_suffix(".py"), path.with_suffix(".sql")) if p.exists()), path
    )


def _substituted(node: Any, values: Mapping[str, str], where: Where) -> Any:
    if isinstance(node, str):

        def value(match: re.Match[str]) -> str:
            if match.group(1) not in values:
                known = ", ".join(f"${{{name}}}" for name in values)
                raise where.problem(
                    message=f"{match.group(0)}: a local run knows only {known} "
                    "(with --settings, give ${var.*} as --var NAME=VALUE and --target)"
                )
            return values[match.group(1)]

        return _SUBSTITUTION.sub(value, node)
    if isinstance(node, dict):
        return {k: _substituted(v, values, where) for k, v in node.items()}
    if isinstance(node, list):
        return [_substituted(v, values, where) for v in node]
    return node
