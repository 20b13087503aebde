"""Validation of the bundle, per target, without a real workspace.

First, for the whole bundle: the registry loads, ``databricks.yml``'s targets are in sync
with it, and every domain resource file declares only its own domain's targets' resources.

Then, for every target of ``databricks.yml`` (or one):

1. with the real Databricks CLI at the pinned version (``databricks_cli.find_cli``):
   ``databricks bundle validate --strict`` against a stand-in workspace on 127.0.0.1
   (``offline_workspace``), every error, warning and recommendation reported, and with
   ``plan=True`` ``databricks bundle plan`` too. The CLI's resolved configuration is what the
   guardrails below check;
2. without it, as far as is possible offline, said in the report's ``skipped``: the
   resources built through databricks-bundles' build entry point as the CLI runs it
   (``python -m databricks.bundles.build --phase load_resources``), the configuration checked
   against the CLI's JSON schema when the schema file is there;
3. the platform's rules on a target: production targets run as a service principal, hosts
   are literals, no unpaused trigger in development;
4. the platform's guardrails (``guardrails.py``): tags, serverless pipelines, a domain's
   pipelines writing only its own schemas, and running only as its own principals.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from lakehouse.bundle.databricks_cli import (
    CLI_VERSION,
    DEVELOPER,
    CliNotFound,
    DatabricksCli,
    find_cli,
)
from lakehouse.bundle.guardrails import Guardrails, ResolvedTarget
from lakehouse.bundle.offline_workspace import OfflineWorkspace
from lakehouse.bundle.resources import (
    ResourceFileError,
    domain_resource_file,
    domain_resource_files,
)
from lakehouse.bundle.targets import BUNDLE_FILE, TARGETS_FILE, bundle_config, stale_files
from lakehouse.governance.sandpits import SandpitError, load_sandpits
from lakehouse.platform.domains import Domain
from lakehouse.platform.registry import PLATFORM, DomainSpec, RegistryError, load_registry
from lakehouse.schema_errors import schema_errors
from lakehouse.scoring.control_table import ScoringError

SCHEMA_FILE = f"databricks-bundle-schema-cli-v{CLI_VERSION}.json"
SCHEMA_ENV = "LAKEHOUSE_BUNDLE_SCHEMA"
MODES = ("development", "production")
# Target keys that do not override a top-level section: variables set values, not definitions.
TARGET_ONLY = ("variables", "mode", "default")
_REFERENCE = re.compile(r"\$\{([a-zA-Z_][\w.-]*)\}")


@dataclass
class BundleReport:
    """What is wrong, per scope (``registry``, ``databricks.yml``, ``domains`` or a target's
    name), which checks could not run and why, and each target's plan when asked for (what
    ``databricks bundle plan`` printed)."""

    problems: dict[str, list[str]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    plans: dict[str, str] = field(default_factory=dict)

    def add(self, scope: str, message: str) -> None:
        self.problems.setdefault(scope, []).append(message)

    @property
    def ok(self) -> bool:
        return not any(self.problems.values())


def validate_bundle(
    root: Path,
    targets: Sequence[str] = (),
    *,
    plan: bool | Collection[str] = False,
    use_cli: bool = True,
    workspace: OfflineWorkspace | None = None,
) -> BundleReport:
    """Validate the bundle at ``root``, every target or only ``targets``: with the real CLI
    when it is found (and ``use_cli``), against ``workspace`` or a stand-in workspace of its
    own, and then with ``plan`` a plan per target too (``plan`` may name the targets to plan).

    Example:
        >>> report = validate_bundle(Path("."), ["sales-prod"])  # doctest: +SKIP
        >>> report.ok, report.problems, report.skipped  # doctest: +SKIP
        (True, {}, [])
        >>> validate_bundle(Path("."), plan=["sales-dev"]).plans.keys()  # doctest: +SKIP
        dict_keys(['sales-dev'])
    """
    root = root.resolve()
    report = BundleReport()
    try:
        platform, domains = load_registry(root)
    except RegistryError as error:
        for problem in error.problems:
            report.add("registry", str(problem))
        return report
    try:
        stale = stale_files(root)
    except ScoringError as error:  # the targets declare each model file's resources
        for problem in error.problems:
            report.add("domains", str(problem))
        return report
    for file in stale:
        report.add(str(file.relative_to(root)), "out of date with the registry: run `lakehouse bundle sync-targets`")  # fmt: skip
    for spec in domains:
        for file in domain_resource_files(Domain(root / "domains" / spec.name)):
            try:
                domain_resource_file(file, spec.name)
            except ResourceFileError as error:
                for problem in error.problems:
                    report.add("domains", str(problem))
    try:
        load_sandpits(root)  # the platform's targets declare a schema per sandpit
    except SandpitError as error:
        for problem in error.problems:
            report.add("sandpits", str(problem))
    config = bundle_config(root)
    defined = config["targets"]
    for unknown in [t for t in targets if t not in defined]:
        report.add(TARGETS_FILE, f"no target '{unknown}'; targets: {', '.join(defined)}")
    if not report.ok:
        return report  # the targets are built from what is broken
    cli: DatabricksCli | None = None
    validator = None
    if use_cli:
        try:
            cli = find_cli(root)
        except CliNotFound as missing:
            report.skipped.append(f"real Databricks CLI checks: {missing}")
    else:
        report.skipped.append("real Databricks CLI checks: not asked for")
    if cli is None:
        validator = bundle_schema_validator(root)
        if validator is None:
            report.skipped.append(
                f"JSON schema check: {SCHEMA_FILE} not found (set {SCHEMA_ENV}, or put it in "
                f"../shared/reference/; `databricks bundle schema` of CLI {CLI_VERSION} prints it)"
            )
    if plan and cli is None:
        report.skipped.append("plans: they need the real Databricks CLI")
    # Deprecated fields are checked against the schema of the CLI at hand (the CLI does not warn).
    schema = cli.schema() if cli is not None else validator.schema if validator else None
    specs = {spec.name: spec for spec in [platform, *domains]}
    selected = [name for name in defined if not targets or name in targets]

    serve = nullcontext(workspace) if workspace or cli is None else OfflineWorkspace()
    with serve as server, ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:

        def check(name: str) -> tuple[list[str], str]:  # runs subprocesses
            settings = defined[name] or {}
            if cli is not None and server is not None:
                planned = plan is True or (not isinstance(plan, bool) and name in plan)
                return _checked_by_cli(cli, root, name, settings, specs, server, planned, schema)
            return _checked_offline(root, config, name, settings, specs, validator), ""

        for name, (problems, planned) in zip(selected, pool.map(check, selected), strict=True):
            for message in problems:
                report.add(name, message)
            if planned:
                report.plans[name] = planned
    return report


def deployer(settings: dict[str, Any]) -> str:
    """Who deploys a target: its service principal in production, a developer otherwise."""
    return (settings.get("run_as") or {}).get("service_principal_name") or DEVELOPER


def _checked_by_cli(
    cli: DatabricksCli,
    root: Path,
    name: str,
    settings: dict[str, Any],
    specs: dict[str, DomainSpec],
    workspace: OfflineWorkspace,
    plan: bool,
    schema: dict[str, Any] | None,
) -> tuple[list[str], str]:
    principal = deployer(settings)
    validated = cli.validate(root, name, workspace, principal)
    problems = target_rule_problems(settings) + validated.problems()
    config = validated.config()
    if config is not None and validated.returncode == 0:
        resolved = ResolvedTarget.from_cli(config)
        problems += deprecated_fields(resolved, schema) + _policy_problems(root, settings, resolved, specs)  # fmt: skip
    if not plan or validated.returncode != 0:
        return problems, ""
    planned = cli.plan(root, name, workspace, principal)
    return problems + planned.problems(), planned.stdout.strip()


def _checked_offline(
    root: Path,
    config: dict[str, Any],
    name: str,
    settings: dict[str, Any],
    specs: dict[str, DomainSpec],
    validator: Draft202012Validator | None,
) -> list[str]:
    built = build_target_config(root, config, name)
    problems = target_rule_problems(settings) + built.errors
    if built.errors:
        return problems
    if validator is not None:
        problems += [f"{built.where(p)}: {m}" for p, m in schema_errors(validator, built.config)]
        # The schema lets any top-level key through; the CLI warns, and --strict fails.
        for key in sorted(set(built.config) - set(validator.schema["properties"])):
            problems.append(f"{BUNDLE_FILE}: {key}: unknown top-level field")
    resolved = built.resolved(settings)
    schema = validator.schema if validator is not None else None
    return problems + deprecated_fields(resolved, schema) + _policy_problems(root, settings, resolved, specs)  # fmt: skip


def _policy_problems(
    root: Path, settings: dict[str, Any], resolved: ResolvedTarget, specs: dict[str, DomainSpec]
) -> list[str]:
    variables = settings.get("variables") or {}
    spec = specs.get(variables.get("domain"))
    if spec is None:
        return [f"variables.domain: {variables.get('domain')!r} is not in the registry"]
    problems = unpaused_triggers(resolved) if settings.get("mode") == "development" else []
    env = str(variables.get("env"))
    source_systems = [] if spec.name == PLATFORM else Domain(root / "domains" / spec.name).source_systems  # fmt: skip
    return problems + Guardrails.of(spec, env, source_systems).problems(resolved)


def deprecated_fields(target: ResolvedTarget, schema: dict[str, Any] | None) -> list[str]:
    """The fields of the target's configuration that the CLI's schema marks deprecated, with
    what to use instead.

    Example:
        >>> deprecated_fields(resolved, cli.schema())  # doctest: +SKIP
        ['src/lakehouse/bundle/resources.py:120: resources.jobs.x.environments.0.spec.client: deprecated: use environment_version']
    """
    if schema is None:
        return []
    found: list[str] = []

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node or "oneOf" in node:  # a value may also be a ${...} string
            node = _at(schema, node["$ref"]) if "$ref" in node else node["oneOf"][0]
        return node

    def walk(value: Any, node: dict[str, Any], path: tuple[str | int, ...]) -> None:
        node = resolve(node)
        if isinstance(value, dict):
            properties = node.get("properties")
            for key, child in value.items():
                sub = properties.get(key) if properties else node.get("additionalProperties")
                if not isinstance(sub, dict):
                    continue
                if sub.get("deprecated"):
                    message = sub.get("deprecationMessage") or "deprecated"
                    found.append(f"{target.where((*path, key))}: deprecated: {message}")
                walk(child, sub, (*path, key))
        elif isinstance(value, list) and isinstance(node.get("items"), dict):
            for index, item in enumerate(value):
                walk(item, node["items"], (*path, index))

    walk(target.config, schema, ())
    return found


def _at(schema: dict[str, Any], reference: str) -> dict[str, Any]:
    node: Any = schema
    for part in reference.removeprefix("#/").split("/"):
        node = node[part]
    return node


def target_rule_problems(target: dict[str, Any]) -> list[str]:
    """The rules on a target as ``databricks.yml`` writes it."""
    problems = []
    mode = target.get("mode")
    if mode not in MODES:
        problems.append(f"mode: expected development or production, got {mode!r}")
    workspace = target.get("workspace") or {}
    host = str(workspace.get("host", ""))
    if not host:
        problems.append("workspace.host: missing; a target names its workspace")
    elif "${" in host:
        problems.append(f"workspace.host: {host!r} uses a variable; write the host as a literal")
    if mode == "production":
        if not workspace.get("root_path"):
            problems.append("workspace.root_path: required in production mode")
        if not (target.get("run_as") or {}).get("service_principal_name"):
            problems.append("run_as.service_principal_name: production targets run as a service principal")  # fmt: skip
    return problems


def unpaused_triggers(resolved: ResolvedTarget) -> list[str]:
    """Triggers explicitly unpaused in a development target: development deployments are
    personal copies, and their schedules must not run unattended."""
    problems = []
    if (resolved.config.get("presets") or {}).get("trigger_pause_status") == "UNPAUSED":
        problems.append("presets.trigger_pause_status: UNPAUSED is not allowed in development mode")  # fmt: skip
    for name, job in resolved.resources("jobs").items():
        for key in ("schedule", "trigger", "continuous"):
            if (job.get(key) or {}).get("pause_status") == "UNPAUSED":
                here = resolved.where(("resources", "jobs", name, key, "pause_status"))
                problems.append(f"{here}: UNPAUSED in development mode; leave it paused")
    return problems


@dataclass(frozen=True)
class BuiltTarget:
    """A target's configuration as built offline (resources from Python and from the domain
    files included), with where each resource is written."""

    target: str
    config: dict[str, Any]
    locations: dict[str, tuple[str, int | None]]  # 'resources.pipelines.x' -> (file, line)
    errors: list[str]

    def where(self, path: tuple[str | int, ...]) -> str:
        return ResolvedTarget(self.config, self.locations).where(path)

    def resolved(self, settings: dict[str, Any]) -> ResolvedTarget:
        """The configuration with ``${var.*}``, ``${bundle.*}`` and the current user's
        references replaced by their values, as the CLI would for a developer (development)
        or the target's service principal (production)."""
        variables = self.config.get("variables") or {}
        user = deployer(settings)
        values = {
            "bundle.name": str((self.config.get("bundle") or {}).get("name", "")),
            "bundle.target": self.target,
            "workspace.current_user.userName": user,
            "workspace.current_user.short_name": re.sub(r"\W", "_", user.split("@")[0]).lower(),
        }
        for name, spec in variables.items():
            value = (settings.get("variables") or {}).get(name, (spec or {}).get("default"))
            values[f"var.{name}"] = "" if value is None else str(value)
        config = _substituted(self.config, values)
        for name in variables:
            config["variables"][name]["value"] = _substituted(values[f"var.{name}"], values)
        config.setdefault("workspace", {})["current_user"] = {"userName": user}
        return ResolvedTarget(config, self.locations)


def _substituted(node: Any, values: dict[str, str]) -> Any:
    if isinstance(node, str):
        for _ in range(3):  # a value may refer to another (schema_prefix to the user)
            node = _REFERENCE.sub(lambda m: values.get(m.group(1), m.group(0)), node)
        return node
    if isinstance(node, dict):
        return {k: _substituted(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_substituted(v, values) for v in node]
    return node


def build_target_config(root: Path, config: dict[str, Any], target: str) -> BuiltTarget:
    """Merge ``target`` and the domain files' resources for it into the bundle's
    configuration, and load its Python resources through databricks-bundles' build entry
    point, in a subprocess at the bundle root as the CLI does."""
    merged = {k: v for k, v in config.items() if k not in ("targets", "include")}
    overrides = (config.get("targets") or {}).get(target) or {}
    for key, value in overrides.items():
        if key in TARGET_ONLY:
            continue
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    merged["targets"] = {target: overrides}  # checked by the schema as written
    merged["bundle"] = {**merged.get("bundle", {}), "target": target}
    values = overrides.get("variables") or {}
    merged["variables"] = {
        name: {**(spec or {}), "value": values.get(name, (spec or {}).get("default"))}
        for name, spec in (merged.get("variables") or {}).items()
    }
    locations: dict[str, tuple[str, int | None]] = {}
    domain = ((overrides.get("variables") or {}).get("domain")) or ""
    if domain != PLATFORM and (root / "domains" / domain).is_dir():
        for file in domain_resource_files(Domain(root / "domains" / domain)):
            for resource in domain_resource_file(file, domain).get(target, []):
                kinds = merged.setdefault("resources", {}).setdefault(resource.kind, {})
                kinds[resource.name] = resource.body
                here = f"resources.{resource.kind}.{resource.name}"
                locations[here] = (str(file.relative_to(root)), resource.location.line)
    with tempfile.TemporaryDirectory() as folder:
        files = {part: Path(folder) / f"{part}.json" for part in ("input", "output", "diagnostics", "locations")}  # fmt: skip
        files["input"].write_text(json.dumps(merged))
        run = subprocess.run(
            [sys.executable, "-m", "databricks.bundles.build", "--phase", "load_resources",
             *(arg for part, file in files.items() for arg in (f"--{part}", str(file)))],
            cwd=root, capture_output=True, text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(root), *sys.path])},
        )  # fmt: skip
        errors = [
            _diagnostic(json.loads(line))
            for line in files["diagnostics"].read_text().splitlines()
            if line.strip() and json.loads(line).get("severity") == "error"
        ]
        if run.returncode != 0 and not errors:
            errors.append(f"building the resources failed: {run.stderr.strip()[-2000:]}")
        if errors:
            return BuiltTarget(target, merged, {}, errors)
        output = json.loads(files["output"].read_text())
        for line in files["locations"].read_text().splitlines():
            entry = json.loads(line)
            locations[entry["path"]] = (entry["file"], entry.get("line"))
    # Back to the form written in YAML: the entry point's input adds the target and values.
    output["bundle"] = {k: v for k, v in output["bundle"].items() if k != "target"}
    output["variables"] = {
        name: {k: v for k, v in spec.items() if k != "value"}
        for name, spec in output.get("variables", {}).items()
    }
    return BuiltTarget(target, output, locations, [])


def _diagnostic(entry: dict[str, Any]) -> str:
    where = entry.get("location") or {}
    place = f"{where.get('file')}:{where.get('line') or 1}: " if where.get("file") else ""
    summary, detail = entry.get("summary", ""), (entry.get("detail") or "").strip()
    last = detail.splitlines()[-1] if detail else ""
    return f"{place}{summary}{': ' + last if last and last not in summary else ''}"


@cache
def _schema(path: Path) -> dict[str, Any]:
    return _python_patterns(json.loads(path.read_text()))


def bundle_schema_validator(root: Path) -> Draft202012Validator | None:
    """The validator of the CLI's bundle schema, or None when the file is not there."""
    candidates = [os.environ.get(SCHEMA_ENV), root.parent / "shared" / "reference" / SCHEMA_FILE]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Draft202012Validator(_schema(Path(candidate).resolve()))
    return None


def _python_patterns(node: Any) -> Any:
    """The schema with its Go regular expressions (``\\p{L}``, ``\\p{N}``) in Python's syntax."""
    if isinstance(node, dict):
        return {
            k: _go_to_python(v) if k == "pattern" and isinstance(v, str) else _python_patterns(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_python_patterns(v) for v in node]
    return node


def _go_to_python(pattern: str) -> str:
    pattern = pattern.replace("[\\p{L}\\p{N}]", "[^\\W_]")  # a letter or a digit
    pattern = pattern.replace("\\p{L}", "[^\\W\\d_]").replace("\\p{N}", "\\d")
    re.compile(pattern)
    return pattern
