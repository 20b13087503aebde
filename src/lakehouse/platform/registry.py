"""The domain registry: ``domains/<name>/domain.yml`` is the single source of truth for a
domain (owner, groups, workspaces, cost centre, self-service level), and
``domains/platform.yml`` the same for the central platform team. Targets, permissions and tags are generated from it.
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from lakehouse.contracts.model import FrozenModel
from lakehouse.contracts.problems import ConfigFileError, Problem
from lakehouse.contracts.yaml_source import YamlSource, validation_problems

ENVS = ("dev", "test", "prod")
PLATFORM = "platform"
REGISTRY_FILE = "domain.yml"
PLATFORM_FILE = "domains/platform.yml"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_HOST = re.compile(r"^https://[a-z0-9.-]+\.(azuredatabricks\.net|cloud\.databricks\.com|gcp\.databricks\.com)/?\Z")  # fmt: skip
_NAME = re.compile(r"^[a-z][a-z0-9_]*\Z")
_GITHUB_OWNER = re.compile(r"^@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:/[A-Za-z0-9._-]+)?\Z")


class RegistryError(ConfigFileError):
    """A registry file that cannot be used."""


class SelfService(str, Enum):
    """Who deploys and changes a domain's resources."""

    MANAGED = "managed"  # the platform team; the domain's engineers run and view
    SELF_SERVE = "self-serve"  # the domain's engineers


class Groups(FrozenModel):
    """The account groups of a domain's three roles."""

    admins: str
    engineers: str
    readers: str


class Workspaces(FrozenModel):
    """A workspace URL per environment: literals, so that no variable decides where a bundle
    deploys."""

    dev: str
    test: str
    prod: str

    @field_validator("dev", "test", "prod")
    @classmethod
    def _host(cls, value: str) -> str:
        if not _HOST.match(value):
            raise ValueError(
                "expected a workspace URL such as https://adb-1234567890123456.7.azuredatabricks.net"
            )
        return value.rstrip("/")


class ServicePrincipals(FrozenModel):
    """The service principal (application id) each shared deployment runs as: test and prod
    for a domain (its dev deployments are personal), and dev too for the platform, whose
    foundation is shared in every environment."""

    dev: str | None = None
    test: str
    prod: str

    @field_validator("dev", "test", "prod")
    @classmethod
    def _application_id(cls, value: str | None) -> str | None:
        if value is not None and not _UUID.match(value):
            raise ValueError("expected a service principal's application id (a lower-case UUID)")
        return value

    def for_env(self, env: str) -> str:
        principal = getattr(self, env)
        if principal is None:
            raise ValueError(f"no service principal for {env}")
        return str(principal)


class DomainSpec(FrozenModel):
    """One entry of the registry.

    Example:
        >>> spec = load_domain_spec(Path("domains/sales/domain.yml"))  # doctest: +SKIP
        >>> spec.name, spec.workspaces.prod  # doctest: +SKIP
        ('sales', 'https://adb-3000000000000003.3.azuredatabricks.net')
    """

    name: str
    description: str
    owner: str = Field(description="The data owner: who answers for the domain's data (e-mail).")
    cost_centre: str
    self_service: SelfService
    code_owners: str = Field(
        description="The GitHub team (@org/team) or user whose review a change to the domain's folder needs."
    )
    groups: Groups
    workspaces: Workspaces
    service_principals: ServicePrincipals
    monthly_cost_limit: float | None = Field(
        default=None,
        gt=0,
        description="Alert the owner when the domain's cost of the last 30 days (list prices) goes over this.",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("expected a lower-case identifier, such as sales")
        return value

    @field_validator("owner")
    @classmethod
    def _owner(cls, value: str) -> str:
        if "@" not in value:
            raise ValueError("expected the data owner's e-mail address")
        return value

    @field_validator("code_owners")
    @classmethod
    def _code_owners(cls, value: str) -> str:
        if not _GITHUB_OWNER.match(value):
            raise ValueError(
                "expected a GitHub team such as @example-org/sales-data-engineers, or @user"
            )
        return value

    def host(self, env: str) -> str:
        return str(getattr(self.workspaces, env))


def load_domain_spec(file: Path) -> DomainSpec:
    """The registry entry in ``file``; a ``RegistryError`` lists every problem with its line
    and field. A domain's ``name`` must be its folder's name.

    Example:
        >>> load_domain_spec(Path("domains/hr/domain.yml")).self_service  # doctest: +SKIP
        <SelfService.MANAGED: 'managed'>
    """
    source = YamlSource.read(file, RegistryError)
    data: Any = source.data
    if not isinstance(data, dict):
        raise RegistryError([Problem(file, 1, "", "expected a mapping (a domain registry entry)")])
    try:
        spec = DomainSpec.model_validate(data)
    except ValidationError as error:
        raise RegistryError(validation_problems(error, file, source, _fields_at)) from None
    expected = PLATFORM if file.name == Path(PLATFORM_FILE).name else file.parent.name
    if spec.name != expected:
        raise RegistryError(
            [Problem(file, source.line_of(("name",)), "name", f"expected '{expected}'")]
        )
    return spec


def _fields_at(path: tuple[Any, ...]) -> set[str]:
    model: type[BaseModel] = DomainSpec
    for part in path[:-1]:
        annotation = model.model_fields[str(part)].annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return set()
        model = annotation
    return set(model.model_fields)


def find_domain_specs(root: Path) -> list[Path]:
    """Every ``domains/*/domain.yml`` under the bundle root ``root``, by domain name."""
    return sorted((root / "domains").glob(f"*/{REGISTRY_FILE}"))


def load_registry(root: Path) -> tuple[DomainSpec, list[DomainSpec]]:
    """The platform's entry (``domains/platform.yml``) and every domain's, by name; a
    ``RegistryError`` lists the problems of every file.

    Example:
        >>> platform, domains = load_registry(Path("."))  # doctest: +SKIP
        >>> [d.name for d in domains]  # doctest: +SKIP
        ['finance', 'hr', 'sales']
    """
    problems: list[Problem] = []
    specs: list[DomainSpec] = []
    for file in [root / PLATFORM_FILE, *find_domain_specs(root)]:
        try:
            specs.append(load_domain_spec(file))
        except RegistryError as error:
            problems += error.problems
    if not problems:
        problems = _principal_problems(root, specs)
    if problems:
        raise RegistryError(problems)
    return specs[0], specs[1:]


def _principal_problems(root: Path, specs: list[DomainSpec]) -> list[Problem]:
    """Service principals are never shared between entries: a domain that named another's
    principal could deploy or run as it. The platform's foundation is shared in dev too, so it names one."""
    problems = []
    platform_file = root / PLATFORM_FILE
    if specs[0].service_principals.dev is None:
        line = YamlSource.read(platform_file, RegistryError).line_of(("service_principals",))
        problems.append(Problem(platform_file, line, "service_principals.dev", "required for the platform: its dev foundation is shared, deployed by a service principal"))  # fmt: skip
    owners: dict[str, str] = {}
    for spec in specs:
        file = (
            platform_file if spec.name == PLATFORM else root / "domains" / spec.name / REGISTRY_FILE
        )
        for env in ENVS:
            principal = getattr(spec.service_principals, env)
            if principal is None:
                continue
            if owners.setdefault(principal, spec.name) != spec.name:
                line = YamlSource.read(file, RegistryError).line_of(("service_principals", env))
                problems.append(Problem(file, line, f"service_principals.{env}", f"{principal} is {owners[principal]}'s already; a domain deploys and runs as principals of its own"))  # fmt: skip
    return problems
