"""Which targets a change touches, from the files it changes: the workflows validate, plan and
deploy only those.

A file under ``domains/<d>/`` touches domain ``d``; ``platform.yml`` and the foundation's code
(``src/lakehouse/governance/``) touch the platform; what every target is built from (the
bundle and ingestion code, ``databricks.yml``, ``resources/``, the lock file) touches all.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from pathlib import Path

from lakehouse.bundle.registry import PLATFORM, find_domain_specs

EVERY_TARGET = (
    "databricks.yml",
    "resources/",
    "pyproject.toml",
    "uv.lock",
    "src/lakehouse/bundle/",
    "src/lakehouse/ingestion/",
    "src/lakehouse/contracts/",
)
PLATFORM_ONLY = ("platform.yml", "src/lakehouse/governance/")


def changed_domains(root: Path, files: Iterable[str]) -> list[str]:
    """The domains (``platform`` included) whose targets ``files`` touch, by name.

    Example:
        >>> changed_domains(Path("."), ["domains/sales/pipelines/gold.py", "README.md"])  # doctest: +SKIP
        ['sales']
    """
    every = [PLATFORM, *(spec.parent.name for spec in find_domain_specs(root))]
    touched: set[str] = set()
    for file in files:
        if file.startswith(EVERY_TARGET):
            return sorted(every)
        if file.startswith(PLATFORM_ONLY):
            touched.add(PLATFORM)
        parts = Path(file).parts
        if len(parts) > 1 and parts[0] == "domains" and parts[1] in every:
            touched.add(parts[1])
    return sorted(touched)


def files_changed_since(root: Path, base: str) -> list[str]:
    """The files changed between ``base`` and the working tree (committed or not)."""
    merge_base = subprocess.run(
        ["git", "merge-base", base, "HEAD"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()
    listed = subprocess.run(
        ["git", "diff", "--name-only", merge_base], cwd=root, capture_output=True, text=True, check=True
    ).stdout  # fmt: skip
    return [line for line in listed.splitlines() if line]
