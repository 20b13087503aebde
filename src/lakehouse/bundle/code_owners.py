"""``.github/CODEOWNERS``, generated from the registry: a change to a domain's folder needs
the review of that domain's ``code_owners`` (and the platform team's, for a managed domain,
which the platform team builds); everything else, and every registry entry (workspaces,
groups, service principals), needs the platform team's.
"""

from __future__ import annotations

from pathlib import Path

from lakehouse.platform.registry import REGISTRY_FILE, SelfService, load_registry

CODE_OWNERS_FILE = ".github/CODEOWNERS"


def render_code_owners(root: Path) -> str:
    """The CODEOWNERS file for the registry of the bundle at ``root``. GitHub takes the last
    matching line, so the general rule comes first and the registry entries last.

    Example:
        >>> print(render_code_owners(Path(".")))  # doctest: +SKIP
        ...
        /domains/sales/ @example-org/sales-data-engineers
        ...
    """
    platform, domains = load_registry(root)
    lines = [
        "# Generated from domains/platform.yml and domains/*/domain.yml (code_owners) by",
        "# `lakehouse bundle sync-targets`: edit those files, then run it. GitHub takes the last",
        "# matching line.",
        f"* {platform.code_owners}",
    ]
    for spec in domains:
        owners = [spec.code_owners]
        if spec.self_service is SelfService.MANAGED:
            owners.append(platform.code_owners)  # the platform team builds a managed domain
        lines.append(f"/domains/{spec.name}/ {' '.join(dict.fromkeys(owners))}")
    lines += [
        "# A registry entry names workspaces, groups and service principals: the platform team",
        "# reviews every change to one.",
        f"/domains/*/{REGISTRY_FILE} {platform.code_owners}",
    ]
    return "\n".join(lines) + "\n"
