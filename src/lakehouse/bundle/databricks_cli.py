"""The real Databricks CLI, at the version the bundle pins, run against a stand-in workspace.

Only the CLI knows its own rules for paths, permissions and deployment modes, so the bundle is
checked by the CLI itself: ``databricks bundle validate --strict`` and ``databricks bundle
plan`` per target, talking to an ``OfflineWorkspace`` on 127.0.0.1. The CLI is looked for in
``$DATABRICKS_CLI``, on ``PATH``, then in ``../shared/tools/databricks-cli/`` beside the
repository; only the pinned version counts.

Example:
    >>> cli = find_cli(Path("."))  # doctest: +SKIP
    >>> with OfflineWorkspace() as workspace:  # doctest: +SKIP
    ...     cli.validate(Path("."), "sales-dev", workspace, "developer@example.com").diagnostics
    []
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakehouse.bundle.offline_workspace import OfflineWorkspace

CLI_VERSION = "1.13.0"
CLI_ENV = "DATABRICKS_CLI"
SHARED_CLI = Path("shared") / "tools" / "databricks-cli" / "databricks"
# Who deploys a development target in the stand-in workspace: a developer, whose short name
# makes their schemas (dev_first_last_<schema>).
DEVELOPER = "first.last@example.com"
_VERSION = re.compile(r"Databricks CLI v(\d+\.\d+\.\d+\S*)")
_HEADER = re.compile(r"^(Error|Warning|Recommendation): (.*)$")
_IN = re.compile(r"^\s+in (\S+:\d+:\d+)$")
_PLAN = re.compile(r"^Plan: .*$", re.MULTILINE)


class CliNotFound(Exception):
    """No Databricks CLI of the pinned version; the message says what was looked at."""


@dataclass(frozen=True)
class Diagnostic:
    """One error, warning or recommendation of the CLI, with where it points when it says.

    Example:
        >>> str(Diagnostic("warning", "a bundle field is deprecated", "databricks.yml:12:5"))
        'warning: databricks.yml:12:5: a bundle field is deprecated'
    """

    severity: str  # error, warning or recommendation
    summary: str
    location: str = ""
    detail: str = ""

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        return f"{self.severity}: {where}{self.summary}"


@dataclass(frozen=True)
class CliRun:
    """One ``databricks bundle ...`` run: what it printed, and its diagnostics."""

    command: list[str]
    returncode: int
    stdout: str
    stderr: str
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """It succeeded with no error, warning or recommendation."""
        return self.returncode == 0 and not self.diagnostics

    def problems(self) -> list[str]:
        """Each diagnostic as a line; a failure that printed none, with the end of its output."""
        found = [str(d) for d in self.diagnostics]
        if self.returncode != 0 and not any(d.severity == "error" for d in self.diagnostics):
            tail = (self.stderr.strip() or self.stdout.strip())[-1500:]
            found.append(f"error: `{' '.join(self.command[1:])}` exited {self.returncode}: {tail}")
        return found

    def config(self) -> dict[str, Any] | None:
        """The resolved configuration that ``--output json`` printed, if it did."""
        try:
            data = json.loads(self.stdout)
        except json.JSONDecodeError:
            return None
        return data if isinstance(data, dict) else None

    @property
    def plan_summary(self) -> str:
        """``Plan: N to add, N to change, N to delete, N unchanged``, from ``bundle plan``."""
        found = _PLAN.search(self.stdout)
        return found.group(0) if found else ""


@dataclass(frozen=True)
class DatabricksCli:
    """A Databricks CLI binary of a known version."""

    path: Path
    version: str

    def bundle(
        self, root: Path, args: list[str], workspace: OfflineWorkspace, principal: str
    ) -> CliRun:
        """Run ``databricks bundle ARGS`` in the bundle at ``root``, against ``workspace`` as
        ``principal``. None of the caller's Databricks settings (profiles, hosts, tokens)
        reach it."""
        environment = {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")}
        environment.update(workspace.cli_env(principal))
        command = [str(self.path), "bundle", *args]
        run = subprocess.run(
            command, cwd=root, env=environment, capture_output=True, text=True, timeout=600
        )
        return CliRun(command, run.returncode, run.stdout, run.stderr, diagnostics(run.stderr))

    def validate(
        self, root: Path, target: str, workspace: OfflineWorkspace, principal: str
    ) -> CliRun:
        """``databricks bundle validate --strict --output json --include-locations -t TARGET``:
        the CLI's own checks, warnings failing, and the resolved configuration with where each
        part is written.

        Example:
            >>> cli.validate(Path("."), "hr-prod", workspace, hr_prod_principal).clean  # doctest: +SKIP
            True
        """
        args = ["validate", "--strict", "--output", "json", "--include-locations", "-t", target]
        return self.bundle(root, args, workspace, principal)

    def schema(self) -> dict[str, Any]:
        """The JSON schema of bundle configuration, as this CLI prints it
        (``databricks bundle schema``)."""
        run = subprocess.run(
            [str(self.path), "bundle", "schema"], capture_output=True, text=True, timeout=120
        )
        return json.loads(run.stdout)

    def plan(self, root: Path, target: str, workspace: OfflineWorkspace, principal: str) -> CliRun:
        """``databricks bundle plan -t TARGET``: what a deploy would create, change or delete.

        Example:
            >>> cli.plan(Path("."), "sales-dev", workspace, DEVELOPER).plan_summary  # doctest: +SKIP
            'Plan: 9 to add, 0 to change, 0 to delete, 0 unchanged'
        """
        return self.bundle(root, ["plan", "-t", target], workspace, principal)


def find_cli(root: Path) -> DatabricksCli:
    """The Databricks CLI of the pinned version: ``$DATABRICKS_CLI``, then ``databricks`` on
    ``PATH``, then ``../shared/tools/databricks-cli/databricks`` beside the bundle at ``root``.
    ``CliNotFound`` says what was found instead.

    Example:
        >>> find_cli(Path(".")).version  # doctest: +SKIP
        '1.13.0'
    """
    candidates = [
        os.environ.get(CLI_ENV),
        shutil.which("databricks"),
        str(root.resolve().parent / SHARED_CLI),
    ]
    seen = []
    for candidate in dict.fromkeys(c for c in candidates if c):
        path = Path(candidate)
        if not path.is_file():
            if candidate == os.environ.get(CLI_ENV):
                seen.append(f"${CLI_ENV}={candidate} does not exist")
            continue
        version = cli_version(path)
        if version == CLI_VERSION:
            return DatabricksCli(path, version)
        seen.append(f"{path} is {'v' + version if version else 'not a Databricks CLI'}")
    found = "; ".join(seen) if seen else "none in $DATABRICKS_CLI, on PATH or in ../shared/tools/databricks-cli/"  # fmt: skip
    raise CliNotFound(
        f"no Databricks CLI v{CLI_VERSION} (the version databricks.yml pins): {found}. "
        f"Install it, or set {CLI_ENV} to its path."
    )


def cli_version(path: Path) -> str:
    """The version ``path --version`` reports, or '' when it is not a Databricks CLI."""
    try:
        run = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    found = _VERSION.search(run.stdout + run.stderr)
    return found.group(1) if found else ""


def diagnostics(stderr: str) -> list[Diagnostic]:
    """The CLI's diagnostics in what it printed: each begins ``Error:``, ``Warning:`` or
    ``Recommendation:``, may name where with ``in FILE:LINE:COLUMN``, and carries a detail.
    Strict mode's closing summary of the warnings is not one of them.

    Example:
        >>> diagnostics("Warning: x is deprecated\\n  in databricks.yml:4:3\\n\\nUse y.\\n")
        [Diagnostic(severity='warning', summary='x is deprecated', location='databricks.yml:4:3', detail='Use y.')]
    """
    found: list[Diagnostic] = []
    current: dict[str, Any] | None = None
    for line in stderr.splitlines():
        header = _HEADER.match(line)
        if header:
            if current:
                found.append(_diagnostic(current))
            current = {"severity": header.group(1).lower(), "summary": header.group(2), "lines": []}  # fmt: skip
        elif current is not None:
            place = _IN.match(line)
            if place and not current.get("location"):
                current["location"] = place.group(1)
            else:
                current["lines"].append(line)
    if current:
        found.append(_diagnostic(current))
    return [d for d in found if not _strict_summary(d)]


def _diagnostic(parts: dict[str, Any]) -> Diagnostic:
    detail = "\n".join(parts["lines"]).strip()
    return Diagnostic(parts["severity"], parts["summary"], parts.get("location", ""), detail)


def _strict_summary(diagnostic: Diagnostic) -> bool:
    return diagnostic.severity == "error" and "are not allowed in strict mode" in diagnostic.summary
