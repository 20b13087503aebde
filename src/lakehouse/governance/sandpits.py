"""The innovation sandpit: a temporary, segregated schema where an owner creates and changes
data freely, outside the layers' rules, until it expires.

A sandpit is a file, ``sandpits/<name>.yml`` (written by ``lakehouse sandpit create``)::

    name: churn_ideas
    owner: ana@example.com
    purpose: Try new churn features.
    created: 2026-12-07
    expires: 2026-12-21
    reads:
      - table: silver.crm.orders            # general data: no approval needed
      - table: silver.crm.customers         # confidential: its data owner approved
        approval: {by: head-of-sales-ops@example.com, when: 2026-12-07, reference: CHG-1234}

Each environment has a sandpit catalog, ``<env>_sandpit``; a sandpit is a schema in it,
``<env>_sandpit.<name>``, where its owner (and its ``group``, when it names one) hold every
privilege, tagged with its expiry (``bundle/resources.py`` declares it; an expired sandpit is
no longer declared). The daily cleanup job drops expired sandpits (``sandpit_cleanup.py``);
``lakehouse sandpit expire`` does the same locally. A sandpit may read general and public data;
anything classified higher only with its data owner's approval recorded in the file, which
``lakehouse governance check`` verifies. No pipeline of test or prod reads a sandpit: the
engine refuses it, and ``governance check`` finds it in the source.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError, field_validator

from lakehouse.contracts.model import FrozenModel
from lakehouse.contracts.problems import ConfigFileError, Problem
from lakehouse.contracts.yaml_source import YamlSource, validation_problems
from lakehouse.engine.settings import SANDPIT_CATALOG
from lakehouse.governance.approvals import Approval, Email, LayerTable

SANDPITS = "sandpits"
MAX_DAYS = 90  # a sandpit is an experiment: longer-lived data belongs in a contract and a domain
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}\Z")


class SandpitError(ConfigFileError):
    """A sandpit file that cannot be used."""


class SandpitRead(FrozenModel):
    """A table a sandpit may read: ``<layer>.<schema>.<table>``, in the sandpit's
    environment."""

    table: LayerTable
    approval: Approval | None = None

    def full_name(self, env: str) -> tuple[str, str, str]:
        layer, schema, table = self.table.split(".")
        return (f"{env}_{layer}", schema, table)


class Sandpit(FrozenModel):
    """One sandpit file.

    Example:
        >>> sandpit = load_sandpit(Path("sandpits/churn_ideas.yml"))  # doctest: +SKIP
        >>> sandpit.schema("dev"), sandpit.expired(date(2027, 1, 1))  # doctest: +SKIP
        (('dev_sandpit', 'churn_ideas'), True)
    """

    name: str
    owner: Email
    group: str | None = None  # an account group of the owner's team, holding what the owner does
    purpose: str
    created: date
    expires: date
    reads: tuple[SandpitRead, ...] = ()

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("expected a lower-case identifier, such as churn_ideas")
        return value

    def schema(self, env: str) -> tuple[str, str]:
        """The sandpit's catalog and schema in ``env``."""
        return (sandpit_catalog(env), self.name)

    def expired(self, today: date) -> bool:
        """Whether the sandpit's last day is before ``today``."""
        return self.expires < today

    @property
    def owners(self) -> tuple[str, ...]:
        """The principals holding every privilege on the sandpit's schema."""
        return (self.owner, self.group) if self.group else (self.owner,)


def sandpit_catalog(env: str) -> str:
    """The sandpit catalog of ``env``.

    Example:
        >>> sandpit_catalog("dev")
        'dev_sandpit'
    """
    return f"{env}_{SANDPIT_CATALOG}"


def new_sandpit(
    name: str,
    owner: str,
    days: int,
    today: date,
    purpose: str | None = None,
    group: str | None = None,
    reads: tuple[str, ...] = (),
) -> Sandpit:
    """A sandpit that starts ``today`` and lasts ``days`` days; a ``ValueError`` says what is
    wrong with an argument.

    Example:
        >>> new_sandpit("churn_ideas", "ana@example.com", 14, date(2026, 12, 7)).expires
        datetime.date(2026, 12, 21)
    """
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"--days: expected 1 to {MAX_DAYS} days, got {days}")
    try:
        return Sandpit(
            name=name,
            owner=owner,
            group=group,
            purpose=purpose or f"An experiment of {owner}.",
            created=today,
            expires=today + timedelta(days=days),
            reads=tuple({"table": t} for t in reads),
        )
    except ValidationError as error:
        first = error.errors()[0]
        option = {"name": "NAME", "reads": "--read"}.get(
            str(first["loc"][0]), f"--{first['loc'][0]}"
        )
        raise ValueError(f"{option}: {first['msg'].removeprefix('Value error, ')}") from None


def write_sandpit(root: Path, sandpit: Sandpit) -> Path:
    """Write ``sandpits/<name>.yml`` under the bundle root ``root``; a ``FileExistsError`` if
    that sandpit exists.

    Example:
        >>> write_sandpit(Path("."), new_sandpit("churn_ideas", "ana@example.com", 14, date.today()))  # doctest: +SKIP
        PosixPath('sandpits/churn_ideas.yml')
    """
    file = root / SANDPITS / f"{sandpit.name}.yml"
    if file.exists():
        raise FileExistsError(f"{file} exists: sandpit '{sandpit.name}' was created before")
    file.parent.mkdir(parents=True, exist_ok=True)
    data = sandpit.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    # Dates as YAML dates, not quoted text.
    data |= {"created": sandpit.created, "expires": sandpit.expires}
    header = (
        f"# The innovation sandpit {sandpit.name}: a schema in every environment's sandpit "
        "catalog, dropped\n# after it expires. `reads` lists the data it may read: general "
        "data, or more with its data\n# owner's approval (approval: {by: <owner e-mail>, when: "
        "<date>, reference: <ticket>}).\n"
    )
    file.write_text(header + yaml.safe_dump(data, sort_keys=False, width=100))
    return file


def load_sandpit(file: Path) -> Sandpit:
    """The sandpit in ``file``; a ``SandpitError`` lists every problem with its line and field.
    Its ``name`` must be the file's name.

    Example:
        >>> load_sandpit(Path("sandpits/churn_ideas.yml")).owner  # doctest: +SKIP
        'ana@example.com'
    """
    source = YamlSource.read(file, SandpitError)
    if not isinstance(source.data, dict):
        raise SandpitError([Problem(file, 1, "", "expected a mapping (a sandpit)")])
    try:
        sandpit = Sandpit.model_validate(source.data)
    except ValidationError as error:
        raise SandpitError(validation_problems(error, file, source, _fields_at)) from None
    problems = []
    if sandpit.name != file.stem:
        problems.append(Problem(file, source.line_of(("name",)), "name", f"expected '{file.stem}', the file's name"))  # fmt: skip
    if sandpit.expires <= sandpit.created:
        problems.append(Problem(file, source.line_of(("expires",)), "expires", f"expected a day after created ({sandpit.created})"))  # fmt: skip
    elif (sandpit.expires - sandpit.created).days > MAX_DAYS:
        problems.append(Problem(file, source.line_of(("expires",)), "expires", f"expected at most {MAX_DAYS} days after created ({sandpit.created})"))  # fmt: skip
    if problems:
        raise SandpitError(problems)
    return sandpit


def _fields_at(path: tuple[Any, ...]) -> set[str]:
    model: type[BaseModel] = Sandpit
    if path[:1] == ("reads",):
        model = SandpitRead if len(path) <= 3 else Approval
    return set(model.model_fields)


def sandpit_files(root: Path) -> list[Path]:
    """Every ``sandpits/*.yml`` under the bundle root, by name."""
    return sorted((root / SANDPITS).glob("*.yml"))


def load_sandpits(root: Path) -> list[Sandpit]:
    """Every sandpit of the bundle at ``root``; a ``SandpitError`` lists the problems of every
    file.

    Example:
        >>> [s.name for s in load_sandpits(Path("."))]  # doctest: +SKIP
        ['churn_ideas']
    """
    problems: list[Problem] = []
    sandpits = []
    for file in sandpit_files(root):
        try:
            sandpits.append(load_sandpit(file))
        except SandpitError as error:
            problems += error.problems
    if problems:
        raise SandpitError(problems)
    return sandpits


@dataclass(frozen=True)
class LocalSandpit:
    """A sandpit schema in a local catalog, and the file that declares it (None: none does)."""

    env: str
    name: str
    folder: Path
    sandpit: Sandpit | None
    tables: tuple[str, ...]


def local_sandpits(storage: Path, sandpits: list[Sandpit]) -> list[LocalSandpit]:
    """The sandpit schemas under ``storage`` (``catalog/<env>_sandpit/<name>``), each with its
    file's sandpit."""
    declared = {s.name: s for s in sandpits}
    return [
        LocalSandpit(
            catalog.name.removesuffix(f"_{SANDPIT_CATALOG}"),
            folder.name,
            folder,
            declared.get(folder.name),
            tuple(sorted(p.name for p in folder.iterdir() if p.is_dir())),
        )
        for catalog in sorted((storage / "catalog").glob(f"*_{SANDPIT_CATALOG}"))
        for folder in sorted(catalog.iterdir())
        if folder.is_dir()
    ]


def expire_local(storage: Path, sandpits: list[Sandpit], today: date) -> list[LocalSandpit]:
    """Drop the local sandpit schemas that expired before ``today``, or that no sandpit file
    declares (nobody owns them); the ones dropped.

    Example:
        >>> [s.name for s in expire_local(Path(".lakehouse"), load_sandpits(Path(".")), date.today())]  # doctest: +SKIP
        ['old_idea']
    """
    dropped = [
        found
        for found in local_sandpits(storage, sandpits)
        if found.sandpit is None or found.sandpit.expired(today)
    ]
    for found in dropped:
        shutil.rmtree(found.folder)
    return dropped
