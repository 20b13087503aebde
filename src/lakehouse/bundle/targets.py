"""The bundle's targets, generated from the registry: ``<domain>-<env>`` for every domain and
``platform-<env>`` for the central platform, for each of dev, test and prod.

dev targets deploy in development mode. test and prod deploy in production mode, run as the
domain's service principal for that environment, under ``/Workspace/Shared``. Every target
names its workspace host as a literal, grants the domain's groups, and tags every resource
with the domain, environment, cost centre and data owner. ``databricks.yml`` holds the result
below a marker line; ``lakehouse bundle sync-targets`` rewrites it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from lakehouse.bundle.registry import ENVS, DomainSpec, SelfService, load_registry

BUNDLE_FILE = "databricks.yml"
MARKER = (
    "# Targets below are generated from platform.yml and domains/*/domain.yml by\n"
    "# `lakehouse bundle sync-targets`: edit those files, then run it. Do not edit by hand.\n"
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


def target(spec: DomainSpec, env: str, platform: DomainSpec) -> dict[str, Any]:
    """One target of ``spec`` (a domain's or the platform's) in ``env``."""
    # A managed domain's resources are changed by the platform team; its engineers run them.
    managed = spec.self_service is SelfService.MANAGED and spec.name != platform.name
    engineers = "CAN_RUN" if managed else "CAN_MANAGE"
    permissions = [
        {"level": "CAN_MANAGE", "group_name": spec.groups.admins},
        {"level": engineers, "group_name": spec.groups.engineers},
        {"level": "CAN_VIEW", "group_name": spec.groups.readers},
    ]
    if managed:
        permissions.append({"level": "CAN_MANAGE", "group_name": platform.groups.engineers})
    result: dict[str, Any] = {
        "mode": "development" if env == "dev" else "production",
        "workspace": {"host": spec.host(env)},
        "variables": {"domain": spec.name, "env": env},
        "presets": {"tags": tags(spec, env)},
        "permissions": permissions,
    }
    if env != "dev":
        service_principal = getattr(spec.service_principals, env)
        result["workspace"]["root_path"] = f"/Workspace/Shared/.bundle/lakehouse/{spec.name}/{env}"
        result["run_as"] = {"service_principal_name": service_principal}
    return result


def render_targets(root: Path) -> str:
    """The generated part of ``databricks.yml``: the marker and the ``targets`` mapping."""
    platform, domains = load_registry(root)
    targets = {
        target_name(spec.name, env): target(spec, env, platform)
        for spec in [platform, *domains]
        for env in ENVS
    }
    return MARKER + yaml.safe_dump({"targets": targets}, sort_keys=False, width=100)


def synced_bundle(root: Path) -> str:
    """``databricks.yml`` as it should be: its hand-written head, then the generated targets."""
    text = (root / BUNDLE_FILE).read_text()
    head = text.split(MARKER)[0].rstrip("\n") + "\n\n"
    return head + render_targets(root)


def sync_targets(root: Path) -> bool:
    """Rewrite the targets of ``root/databricks.yml`` from the registry; whether it changed.

    Example:
        >>> sync_targets(Path("."))  # doctest: +SKIP
        False
    """
    file = root / BUNDLE_FILE
    synced = synced_bundle(root)
    if file.read_text() == synced:
        return False
    file.write_text(synced)
    return True
