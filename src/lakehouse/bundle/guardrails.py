"""The platform's guardrails on a target, checked on its resolved configuration (variables
replaced by their values), whether the real CLI resolved it or the offline build did.

- every target carries the tagging strategy's tags, and no resource overrides them;
  catalogs and schemas carry them as properties (Unity Catalog objects take no preset tags);
- pipelines run serverless;
- a domain's pipelines write only the domain's own schemas: its gold schema (in the gold
  catalog), and for the generated ingestion its source systems' bronze (silver is named by the
  same settings); in development the developer's own prefixed copies of them;
- a domain's resources run only as the domain's own service principals (or as the developer
  deploying a development copy);
- the code a pipeline or job runs from the bundle is among the files the target uploads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lakehouse.bundle.resources import INGESTION_PIPELINE_FILE
from lakehouse.bundle.targets import BUNDLE_FILE, SCHEMA_PREFIX, TARGETS_FILE, tags
from lakehouse.platform.registry import ENVS, PLATFORM, DomainSpec


@dataclass(frozen=True)
class ResolvedTarget:
    """A target's configuration with its references resolved, and where each part is written
    (``resources.pipelines.x`` -> file and line)."""

    config: dict[str, Any]
    locations: dict[str, tuple[str, int | None]]

    @classmethod
    def from_cli(cls, config: dict[str, Any]) -> ResolvedTarget:
        """From ``databricks bundle validate --output json --include-locations``."""
        found = config.get("__locations") or {}
        files = found.get("files") or []
        locations = {}
        for path, places in (found.get("locations") or {}).items():
            index, line = places[0][0], places[0][1]
            if index < len(files) and line:
                locations[path] = (files[index], line)
        return cls(config, locations)

    def where(self, path: tuple[str | int, ...]) -> str:
        """``path`` with the file and line of the resource it is in, when known."""
        dotted = ".".join(map(str, path))
        best = ""
        for prefix in self.locations:
            if (dotted == prefix or dotted.startswith(prefix + ".")) and len(prefix) > len(best):
                best = prefix
        if best and not self.locations[best][0].startswith("__generated"):
            file, line = self.locations[best]
            return f"{file}:{line or 1}: {dotted}"
        if dotted.startswith("resources."):
            return dotted
        return f"{TARGETS_FILE if dotted.startswith('targets.') else BUNDLE_FILE}: {dotted}"

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return (self.config.get("resources") or {}).get(kind) or {}

    def variable(self, name: str) -> str:
        return str(((self.config.get("variables") or {}).get(name) or {}).get("value") or "")

    @property
    def current_user(self) -> str:
        return str(((self.config.get("workspace") or {}).get("current_user") or {}).get("userName", ""))  # fmt: skip


@dataclass(frozen=True)
class Guardrails:
    """What a target of one domain (or the platform) in one environment may deploy.

    Example:
        >>> Guardrails.of(sales, "dev", ["crm"]).problems(resolved)  # doctest: +SKIP
        []
    """

    domain: str
    env: str
    tags: dict[str, str]
    source_systems: tuple[str, ...]
    principals: frozenset[str]

    @classmethod
    def of(cls, spec: DomainSpec, env: str, source_systems: list[str]) -> Guardrails:
        own = {getattr(spec.service_principals, e) for e in ENVS} - {None}
        return cls(spec.name, env, tags(spec, env), tuple(source_systems), frozenset(own))

    def problems(self, target: ResolvedTarget) -> list[str]:
        return (
            self._tag_problems(target)
            + self._pipeline_problems(target)
            + self._run_as_problems(target)
            + self._unsynced_code_problems(target)
        )

    def _tag_problems(self, target: ResolvedTarget) -> list[str]:
        problems = []
        preset = (target.config.get("presets") or {}).get("tags") or {}
        for key, value in self.tags.items():
            if preset.get(key) != value:
                problems.append(f"presets.tags.{key}: expected {value!r}, got {preset.get(key)!r}")  # fmt: skip
        for kind in ("pipelines", "jobs"):
            for name, resource in target.resources(kind).items():
                here = target.where(("resources", kind, name))
                for key, value in (resource.get("tags") or {}).items():
                    if key in self.tags and value != self.tags[key]:
                        problems.append(f"{here}: tags.{key} overrides the target's {self.tags[key]!r}")  # fmt: skip
        for kind in ("catalogs", "schemas"):
            for name, resource in target.resources(kind).items():
                missing = sorted(set(self.tags) - set(resource.get("properties") or {}))
                if missing:
                    here = target.where(("resources", kind, name))
                    problems.append(f"{here}: untagged: properties lack {', '.join(missing)}")
        return problems

    def _pipeline_problems(self, target: ResolvedTarget) -> list[str]:
        problems = []
        prefix = target.variable(SCHEMA_PREFIX)
        for name, pipeline in target.resources("pipelines").items():
            here = target.where(("resources", "pipelines", name))
            if not pipeline.get("serverless") or pipeline.get("clusters"):
                problems.append(f"{here}: pipelines run serverless, without clusters")
            if self.domain == PLATFORM:
                continue
            written = (
                f"{pipeline.get('catalog')}.{pipeline.get('schema') or pipeline.get('target')}"
            )
            allowed = {f"{self.env}_gold.{prefix}{self.domain}"}
            if self._is_ingestion(name, pipeline):
                allowed = {f"{self.env}_bronze.{prefix}{ss}" for ss in self.source_systems}
            if written not in allowed:
                expected = " or ".join(sorted(allowed))
                problems.append(f"{here}: writes {written}: a domain's pipelines write only its own schema, {expected}")  # fmt: skip
        return problems

    def _is_ingestion(self, name: str, pipeline: dict[str, Any]) -> bool:
        """A pipeline the platform generates from the domain's contracts."""
        libraries = pipeline.get("libraries") or []
        files = [str((lib.get("file") or {}).get("path", "")) for lib in libraries]
        return (
            name.removesuffix("_ingestion") in self.source_systems
            and len(files) == 1
            and files[0].endswith(INGESTION_PIPELINE_FILE)
        )

    def _unsynced_code_problems(self, target: ResolvedTarget) -> list[str]:
        """Code a pipeline or job runs from the bundle's files must be among the files the
        target uploads (its ``sync.paths``): the CLI does not check that a glob or a path
        points into them, and on Databricks the pipeline would find nothing, or another
        domain's copy. Paths are checked once the CLI has made them workspace paths."""
        files = str((target.config.get("workspace") or {}).get("file_path") or "")
        synced = [str(p).strip("/") for p in (target.config.get("sync") or {}).get("paths") or []]
        if not files.startswith("/") or not synced or "." in synced:
            return []
        problems = []
        for path, code in _code_paths(target):
            if code.startswith(files + "/"):
                inside = code.removeprefix(files + "/")
                if not any(inside == s or inside.startswith(s + "/") for s in synced):
                    problems.append(f"{target.where(path)}: {inside} is not among the files this target uploads ({', '.join(synced)})")  # fmt: skip
        return problems

    def _run_as_problems(self, target: ResolvedTarget) -> list[str]:
        allowed = set(self.principals) | {target.current_user} - {""}
        problems = []
        places: list[tuple[tuple[str | int, ...], Any]] = [(("run_as",), target.config.get("run_as"))]  # fmt: skip
        for kind in ("jobs", "pipelines"):
            for name, resource in target.resources(kind).items():
                places.append((("resources", kind, name, "run_as"), resource.get("run_as")))
        for path, run_as in places:
            if not run_as:
                continue
            identity = run_as.get("service_principal_name") or run_as.get("user_name")
            if identity not in allowed:
                problems.append(f"{target.where(path)}: runs as {identity}: {self.domain}'s resources run only as its own service principals")  # fmt: skip
        return problems


def _code_paths(target: ResolvedTarget) -> list[tuple[tuple[str | int, ...], str]]:
    """Every path of code a pipeline or job runs, with where it is in the configuration."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    for name, pipeline in target.resources("pipelines").items():
        for index, library in enumerate(pipeline.get("libraries") or []):
            for kind, key in (("file", "path"), ("notebook", "path"), ("glob", "include")):
                value = (library.get(kind) or {}).get(key)
                if value:
                    found.append((("resources", "pipelines", name, "libraries", index), str(value)))
    for name, job in target.resources("jobs").items():
        for index, task in enumerate(job.get("tasks") or []):
            for kind, key in (("notebook_task", "notebook_path"), ("spark_python_task", "python_file")):  # fmt: skip
                value = (task.get(kind) or {}).get(key)
                if value:
                    found.append((("resources", "jobs", name, "tasks", index), str(value)))
    return found
