"""Offline validation of the bundle, per target, without a workspace.

For every target of ``databricks.yml`` (or one):

1. its resources build through databricks-bundles' build entry point, as the CLI runs it at
   deploy (``python -m databricks.bundles.build --phase load_resources``): every resource is
   typed with ``from_dict``, so a misspelled key fails with its file and key;
2. the target's configuration, resources included, validates against the Databricks CLI's JSON
   schema for the pinned CLI version (when the schema file is there);
3. the rules the CLI applies at deploy: mode values, no unpaused triggers in development,
   ``root_path`` (and a service principal to run as) in production, no variables in the
   workspace host;
4. the platform's guardrails: the tagging strategy's tags on every target (and as properties
   on every catalog and schema, which take no preset tags), serverless pipelines only, and a
   domain's pipelines publishing only into its own gold schema.

Before that, the registry must load and ``databricks.yml``'s targets must be in sync with it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from lakehouse.bundle.registry import PLATFORM, DomainSpec, RegistryError, load_registry
from lakehouse.bundle.targets import BUNDLE_FILE, synced_bundle, tags
from lakehouse.schema_errors import schema_errors

CLI_VERSION = "1.13.0"
SCHEMA_FILE = f"databricks-bundle-schema-cli-v{CLI_VERSION}.json"
SCHEMA_ENV = "LAKEHOUSE_BUNDLE_SCHEMA"
MODES = ("development", "production")
# Target keys that do not override a top-level section: variables set values, not definitions.
TARGET_ONLY = ("variables", "mode", "default")


@dataclass
class BundleReport:
    """What is wrong, per scope: ``registry``, ``databricks.yml`` or a target's name."""

    problems: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # checks that could not run, and why

    def add(self, scope: str, message: str) -> None:
        self.problems.setdefault(scope, []).append(message)

    @property
    def ok(self) -> bool:
        return not any(self.problems.values())


def validate_bundle(root: Path, target: str | None = None) -> BundleReport:
    """Validate the bundle at ``root``, every target or only ``target``.

    Example:
        >>> report = validate_bundle(Path("."), "sales-prod")  # doctest: +SKIP
        >>> report.ok, report.problems  # doctest: +SKIP
        (True, {})
    """
    root = root.resolve()
    report = BundleReport()
    try:
        platform, domains = load_registry(root)
    except RegistryError as error:
        for problem in error.problems:
            report.add("registry", str(problem))
        return report
    text = (root / BUNDLE_FILE).read_text()
    if text != synced_bundle(root):
        report.add(
            BUNDLE_FILE,
            "targets are out of date with the registry: run `lakehouse bundle sync-targets`",
        )
    config = yaml.safe_load(text)
    targets = config.get("targets") or {}
    if target is not None and target not in targets:
        report.add(BUNDLE_FILE, f"no target '{target}'; targets: {', '.join(targets)}")
        return report
    specs = {spec.name: spec for spec in [platform, *domains]}
    validator = bundle_schema_validator(root)
    if validator is None:
        report.notes.append(
            f"JSON schema check skipped: {SCHEMA_FILE} not found (set {SCHEMA_ENV}, or put it in "
            f"../shared/reference/; `databricks bundle schema` of CLI {CLI_VERSION} prints it)"
        )
    selected = [name for name in targets if target in (None, name)]
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:  # a subprocess each
        builds = pool.map(lambda name: build_target_config(root, config, name), selected)
        for name, built in zip(selected, builds, strict=True):
            settings = targets[name] or {}
            for message in _target_problems(settings, built, validator, specs):
                report.add(name, message)
    return report


def _target_problems(
    settings: dict[str, Any],
    built: BuiltTarget,
    validator: Draft202012Validator | None,
    specs: dict[str, DomainSpec],
) -> list[str]:
    problems = target_rule_problems(settings) + built.errors
    if built.errors:
        return problems
    if validator is not None:
        problems += [f"{built.where(p)}: {m}" for p, m in schema_errors(validator, built.config)]
        # The schema lets any top-level key through; the CLI warns, and --strict fails.
        for key in sorted(set(built.config) - set(validator.schema["properties"])):
            problems.append(f"{BUNDLE_FILE}: {key}: unknown top-level field")
    if settings.get("mode") == "development":
        problems += unpaused_triggers(built)
    variables = settings.get("variables") or {}
    spec = specs.get(variables.get("domain"))
    if spec is None:
        return [*problems, f"variables.domain: {variables.get('domain')!r} is not in the registry"]
    return problems + guardrail_problems(built, spec.name, tags(spec, variables.get("env")))


def target_rule_problems(target: dict[str, Any]) -> list[str]:
    """The rules the Databricks CLI applies to a target at deploy."""
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


def unpaused_triggers(built: BuiltTarget) -> list[str]:
    """Triggers explicitly unpaused in a development target: development deployments are
    personal copies, and their schedules must not run unattended."""
    problems = []
    if (built.config.get("presets") or {}).get("trigger_pause_status") == "UNPAUSED":
        problems.append("presets.trigger_pause_status: UNPAUSED is not allowed in development mode")  # fmt: skip
    for name, job in built.resources("jobs").items():
        for key in ("schedule", "trigger", "continuous"):
            if (job.get(key) or {}).get("pause_status") == "UNPAUSED":
                here = built.where(("resources", "jobs", name, key, "pause_status"))
                problems.append(f"{here}: UNPAUSED in development mode; leave it paused")
    return problems


@dataclass(frozen=True)
class BuiltTarget:
    """A target's configuration as the CLI would deploy it (resources from Python included)."""

    config: dict[str, Any]
    locations: dict[str, tuple[str, int | None]]  # 'resources.pipelines.x' -> (file, line)
    errors: list[str]

    def where(self, path: tuple[str | int, ...]) -> str:
        """``path`` with the file and line of the resource it is in, when known."""
        dotted = ".".join(map(str, path))
        for prefix, (file, line) in self.locations.items():
            if dotted == prefix or dotted.startswith(prefix + "."):
                return f"{file}:{line or 1}: {dotted}"
        return dotted if dotted.startswith("resources.") else f"{BUNDLE_FILE}: {dotted}"

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return (self.config.get("resources") or {}).get(kind) or {}


def build_target_config(root: Path, config: dict[str, Any], target: str) -> BuiltTarget:
    """Merge ``target`` into the bundle's configuration and load its Python resources through
    databricks-bundles' build entry point, in a subprocess at the bundle root as the CLI does."""
    merged = {k: v for k, v in config.items() if k != "targets"}
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
    variables = merged.get("variables") or {}
    merged["variables"] = {
        name: {**(spec or {}), "value": (overrides.get("variables") or {}).get(name)}
        for name, spec in variables.items()
    }
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
            return BuiltTarget(merged, {}, errors)
        output = json.loads(files["output"].read_text())
        locations = {}
        for line in files["locations"].read_text().splitlines():
            entry = json.loads(line)
            locations[entry["path"]] = (entry["file"], entry.get("line"))
    # Back to the form written in YAML: the entry point's input adds the target and values.
    output["bundle"] = {k: v for k, v in output["bundle"].items() if k != "target"}
    for name, spec in output.get("variables", {}).items():
        output["variables"][name] = {k: v for k, v in spec.items() if k != "value"}
    return BuiltTarget(output, locations, [])


def _diagnostic(entry: dict[str, Any]) -> str:
    where = entry.get("location") or {}
    place = f"{where.get('file')}:{where.get('line') or 1}: " if where.get("file") else ""
    summary, detail = entry.get("summary", ""), (entry.get("detail") or "").strip()
    last = detail.splitlines()[-1] if detail else ""
    return f"{place}{summary}{': ' + last if last and last not in summary else ''}"


def guardrail_problems(built: BuiltTarget, domain: str, expected_tags: dict[str, str]) -> list[str]:
    """The platform's policies on a built target."""
    problems = []
    preset = (built.config.get("presets") or {}).get("tags") or {}
    for key, value in expected_tags.items():
        if preset.get(key) != value:
            problems.append(f"presets.tags.{key}: expected {value!r}, got {preset.get(key)!r}")
    for kind in ("pipelines", "jobs"):
        for name, resource in built.resources(kind).items():
            here = built.where(("resources", kind, name))
            for key, value in (resource.get("tags") or {}).items():
                if key in expected_tags and value != expected_tags[key]:
                    problems.append(f"{here}: tags.{key} overrides the target's {expected_tags[key]!r}")  # fmt: skip
    for kind in ("catalogs", "schemas"):
        for name, resource in built.resources(kind).items():
            missing = sorted(set(expected_tags) - set(resource.get("properties") or {}))
            if missing:
                here = built.where(("resources", kind, name))
                problems.append(f"{here}: untagged: properties lack {', '.join(missing)}")
    for name, pipeline in built.resources("pipelines").items():
        here = built.where(("resources", "pipelines", name))
        if not pipeline.get("serverless") or pipeline.get("clusters"):
            problems.append(f"{here}: pipelines run serverless, without clusters")
        catalog = str(pipeline.get("catalog", ""))
        if domain != PLATFORM and catalog.endswith("_gold") and pipeline.get("schema") != domain:
            problems.append(f"{here}: schema {pipeline.get('schema')!r}: a domain publishes gold only into its own schema '{domain}'")  # fmt: skip
    return problems


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
