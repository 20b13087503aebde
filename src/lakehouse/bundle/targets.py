"""The bundle's targets, generated from the registry: ``<domain>-<env>`` for every domain and
``platform-<env>`` for the central platform, for each of dev, test and prod.

A domain's dev target deploys in development mode: each developer's copy in their own home
folder, with schemas of their own (variable ``schema_prefix``), so that two developers never
write the same tables. Every other target deploys one shared copy in production mode (the
platform's foundation is shared in dev too), run as the service principal of its environment,
in that principal's home folder. Every target uploads only the lakehouse package and its own
domain's folder, names its workspace host as a literal, grants the domain's groups, and tags
every resource with the domain, environment, cost centre and data owner. A domain's targets
also declare the MLflow experiment and registered model of each of its model files
(``mlflow_resources.py``), and the platform's targets the catalogs. The result is its own
file, ``resources/targets.yml``, which ``databricks.yml`` includes, so that ``databricks.yml``
is only hand-written; ``lakehouse bundle sync-targets`` rewrites it, and ``.github/CODEOWNERS``
with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from lakehouse.bundle.code_owners import CODE_OWNERS_FILE, render_code_owners
from lakehouse.bundle.cost_alert import cost_alert_resources
from lakehouse.bundle.mlflow_resources import mlflow_resources
from lakehouse.governance import access
from lakehouse.governance.sandpits import SANDPIT_CATALOG, SANDPITS
from lakehouse.operations.deep_clone import RECOVERY_CATALOG
from lakehouse.platform.catalogs import PLATFORM_CATALOG
from lakehouse.platform.domains import Domain
from lakehouse.platform.registry import ENVS, DomainSpec, SelfService, load_registry
from lakehouse.scoring.control_table import ControlRow, control_rows

BUNDLE_FILE = "databricks.yml"
TARGETS_FILE = "resources/targets.yml"
LAYERS = ("landing", "bronze", "silver", "gold")
# Development schemas are the developer's own, named as development mode names the schemas a
# bundle creates: dev_<short name>_<schema>.
SCHEMA_PREFIX = "schema_prefix"
DEV_SCHEMA_PREFIX = "dev_${workspace.current_user.short_name}_"
HEADER = (
    "# The bundle's targets, included by databricks.yml. Generated from domains/platform.yml,\n"
    "# domains/*/domain.yml and domains/*/models/*.yml by `lakehouse bundle sync-targets`: edit\n"
    "# those files, then run it.\n"
    "# Do not edit by hand.\n"
)


def target_name(domain: str, env: str) -> str:
    return f"{domain}-{env}"


def tags(spec: DomainSpec, env: str) -> dict[str, str]:
    """The tagging strategy: every resource of a target carries these.

    Example:
        >>> tags(spec, "prod")  # doctest: +SKIP
        {'domain': 'sales', 'env': 'prod', 'cost_centre': 'CC-110', 'data_owner': '...'}
    """
    return {
        "domain": spec.name,
        "env": env,
        "cost_centre": spec.cost_centre,
        "data_owner": spec.owner,
    }


def target(
    spec: DomainSpec,
    env: str,
    platform: DomainSpec,
    default: bool = False,
    models: Sequence[ControlRow] = (),
) -> dict[str, Any]:
    """One target of ``spec`` (a domain's or the platform's) in ``env``; ``default`` marks the
    target the CLI picks when none is named; ``models`` are the domain's model files, whose
    experiments and registered models the target declares (``mlflow_resources``).

    Example:
        >>> target(sales, "prod", platform)["run_as"]  # doctest: +SKIP
        {'service_principal_name': '00000000-0000-4000-8000-000000000113'}
    """
    # A managed domain's resources are changed by the platform team; its engineers run them.
    managed = spec.self_service is SelfService.MANAGED and spec.name != platform.name
    engineers = "CAN_RUN" if managed else "CAN_MANAGE"
    permissions: list[dict[str, str]] = [
        {"level": "CAN_MANAGE", "group_name": spec.groups.admins},
        {"level": engineers, "group_name": spec.groups.engineers},
        {"level": "CAN_VIEW", "group_name": spec.groups.readers},
    ]
    if managed:
        permissions.append({"level": "CAN_MANAGE", "group_name": platform.groups.engineers})
    variables = {"domain": spec.name, "env": env}
    if env == "dev" and spec.name != platform.name:
        # A domain's development deployment is the developer's own copy: in their home folder,
        # which they manage, writing schemas of their own.
        result: dict[str, Any] = {"mode": "development"}
        workspace = {"host": spec.host(env)}
        variables[SCHEMA_PREFIX] = DEV_SCHEMA_PREFIX
        permissions.append(
            {"level": "CAN_MANAGE", "user_name": "${workspace.current_user.userName}"}
        )
    else:
        # One shared copy per environment (the platform's foundation is shared in dev too), in
        # the home folder of the service principal that deploys and runs it: only that
        # principal and the target's groups may change it.
        principal = spec.service_principals.for_env(env)
        result = {"mode": "production", "run_as": {"service_principal_name": principal}}
        workspace = {"host": spec.host(env), "root_path": f"/Workspace/Users/{principal}/.bundle/${{bundle.name}}/${{bundle.target}}"}  # fmt: skip
        permissions.append({"level": "CAN_MANAGE", "service_principal_name": principal})
    if default:
        result["default"] = True  # plain `databricks bundle validate` checks this one
    if spec.name == platform.name:
        result["resources"] = {"catalogs": layer_catalogs(platform, env)}
    else:
        resources = {**mlflow_resources(models, spec, env), **(cost_alert_resources(spec) if env == "prod" else {})}  # fmt: skip
        if resources:
            result["resources"] = resources
    return {
        **result,
        "workspace": workspace,
        "variables": variables,
        "presets": {"tags": tags(spec, env)},
        "permissions": permissions,
        "sync": {"paths": synced_paths(spec, platform)},
    }


def layer_catalogs(platform: DomainSpec, env: str) -> dict[str, Any]:
    """The platform's catalogs of ``env``, one per layer, tagged with properties (Unity
    Catalog objects take no preset tags). They are declared in the platform's targets: the
    Python resources of the pinned databricks-bundles cannot declare catalogs.

    Example:
        >>> sorted(layer_catalogs(platform, "dev"))  # doctest: +SKIP
        ['dev_bronze', 'dev_gold', 'dev_landing', 'dev_platform', 'dev_recovery', 'dev_sandpit', 'dev_silver']
    """
    comments = {layer: f"The {layer} layer of {env}." for layer in LAYERS}
    comments[PLATFORM_CATALOG] = f"The platform's own tables of {env}, such as the scoring control table."  # fmt: skip
    comments[SANDPIT_CATALOG] = f"The innovation sandpits of {env}: a schema per sandpit, dropped when it expires."  # fmt: skip
    # Its storage root belongs in another region than the workspace's (set by the platform team).
    comments[RECOVERY_CATALOG] = f"Daily deep clones of every table of {env}: the recovery point."  # fmt: skip
    return {
        f"{env}_{name}": {
            "name": f"{env}_{name}",
            "comment": comment,
            "grants": access.catalog_grants(platform),
            "properties": tags(platform, env),
        }
        for name, comment in comments.items()
    }


def synced_paths(spec: DomainSpec, platform: DomainSpec) -> list[str]:
    """The folders a target uploads: the lakehouse package, and a domain's own folder (its
    contracts and pipelines), never another domain's; the platform's, every domain's (its
    governance jobs mask columns as the contracts and the registry say, and keep the sandpits
    in step with their files). The CLI reads them
    relative to the file that declares them, ``resources/targets.yml``."""
    folders = (
        ["src", "domains", SANDPITS]
        if spec.name == platform.name
        else ["src", f"domains/{spec.name}"]
    )
    return [f"../{folder}" for folder in folders]


def render_targets(root: Path) -> str:
    """``resources/targets.yml``: a header saying where it comes from, and the ``targets``
    mapping."""
    platform, domains = load_registry(root)
    # The default is a personal development copy, never a shared deployment.
    default = target_name(domains[0].name, "dev") if domains else None
    targets = {
        name: target(spec, env, platform, default=name == default, models=models)
        for spec in [platform, *domains]
        for env in ENVS
        for name in [target_name(spec.name, env)]
        for models in [_model_rows(root, spec, platform, env)]
    }
    return HEADER + yaml.safe_dump({"targets": targets}, sort_keys=False, width=100)


def _model_rows(root: Path, spec: DomainSpec, platform: DomainSpec, env: str) -> list[ControlRow]:
    if spec.name == platform.name:
        return []
    return control_rows([Domain(root / "domains" / spec.name)], env)


def bundle_config(root: Path) -> dict[str, Any]:
    """``databricks.yml`` with the generated targets it includes, as the CLI merges them.

    Example:
        >>> sorted(bundle_config(Path(".")))["targets"]  # doctest: +SKIP
        ['finance-dev', ...]
    """
    config = yaml.safe_load((root / BUNDLE_FILE).read_text()) or {}
    targets_file = root / TARGETS_FILE
    generated = yaml.safe_load(targets_file.read_text()) if targets_file.is_file() else None
    config["targets"] = {
        **(config.get("targets") or {}),
        **((generated or {}).get("targets") or {}),
    }
    return config


GENERATED_FILES = (TARGETS_FILE, CODE_OWNERS_FILE)


def synced_files(root: Path) -> dict[Path, str]:
    """The files generated from the registry (``GENERATED_FILES``), as they should be."""
    return {root / TARGETS_FILE: render_targets(root), root / CODE_OWNERS_FILE: render_code_owners(root)}  # fmt: skip


def stale_files(root: Path) -> list[Path]:
    """The generated files that are out of date with the registry."""
    return [
        file
        for file, text in synced_files(root).items()
        if not file.is_file() or file.read_text() != text
    ]


def sync_targets(root: Path) -> list[Path]:
    """Rewrite ``root/resources/targets.yml`` and ``root/.github/CODEOWNERS`` from the
    registry; the files it changed.

    Example:
        >>> sync_targets(Path("."))  # doctest: +SKIP
        []
    """
    changed = []
    for file, text in synced_files(root).items():
        if not file.is_file() or file.read_text() != text:
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(text)
            changed.append(file)
    return changed
